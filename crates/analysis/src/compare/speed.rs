//! Speed metrics: `wall_time_s` (runs.parquet: seconds from the start of a run to its end,
//! data loading and evaluations included) and `examples_per_s`, derived: the training examples
//! a run put through a gradient (the largest `examples_seen` of its rows in metrics.parquet)
//! over its `wall_time_s`.
//!
//! Timing is the one thing in a results folder that is not deterministic, so these metrics have
//! their own rule in `compare` (see the parent module): a larger minimum effect
//! (`--speed-min-effect`, default 10 %) and their own Benjamini–Hochberg family.

use std::collections::HashMap;

use polars::prelude::*;

use super::Direction;
use optbench_results::{EXAMPLES_SEEN, RUN_ID, WALL_TIME_S};

/// Training examples per second of wall time, derived per run.
pub const EXAMPLES_PER_S: &str = "examples_per_s";

/// The speed metrics and which way each improves.
pub const SPEED_METRICS: [(&str, Direction); 2] = [
    (WALL_TIME_S, Direction::LowerIsBetter),
    (EXAMPLES_PER_S, Direction::HigherIsBetter),
];

/// The metrics.parquet columns [`add_examples_per_s`] needs.
pub const EXAMPLES_COLUMNS: [&str; 2] = [RUN_ID, EXAMPLES_SEEN];

/// Whether `metric` is a speed metric.
pub fn is_speed_metric(metric: &str) -> bool {
    SPEED_METRICS.iter().any(|(m, _)| *m == metric)
}

/// Adds the column `examples_per_s` to a runs frame, from the metrics frame of the same folder
/// (at least `run_id` and `examples_seen`): null for a run without rows in `metrics` or with a
/// wall time that is not positive. Errors say which column is missing or mistyped.
pub fn add_examples_per_s(
    runs: &mut DataFrame,
    metrics: &DataFrame,
    side: &str,
) -> Result<(), String> {
    let text = |df: &DataFrame, name: &str, file: &str| -> Result<StringChunked, String> {
        let col = df
            .column(name)
            .map_err(|_| format!("the {side} {file} has no `{name}` column"))?;
        col.str().cloned().map_err(|_| {
            format!(
                "column `{name}` of the {side} {file} is {}, not text",
                col.dtype()
            )
        })
    };
    let number = |df: &DataFrame, name: &str, file: &str| -> Result<Float64Chunked, String> {
        let col = df
            .column(name)
            .map_err(|_| format!("the {side} {file} has no `{name}` column"))?;
        if !(col.dtype().is_primitive_numeric() || col.dtype().is_null()) {
            return Err(format!(
                "column `{name}` of the {side} {file} is {}, not a number",
                col.dtype()
            ));
        }
        col.cast(&DataType::Float64)
            .and_then(|c| c.f64().cloned())
            .map_err(|e| format!("column `{name}` ({side} {file}): {e}"))
    };
    let m_ids = text(metrics, RUN_ID, "metrics.parquet")?;
    let m_examples = number(metrics, EXAMPLES_SEEN, "metrics.parquet")?;
    let r_ids = text(runs, RUN_ID, "runs.parquet")?;
    let r_wall = number(runs, WALL_TIME_S, "runs.parquet")?;
    let mut examples: HashMap<&str, f64> = HashMap::new();
    for (id, e) in m_ids.iter().zip(m_examples.iter()) {
        if let (Some(id), Some(e)) = (id, e) {
            let best = examples.entry(id).or_insert(e);
            *best = best.max(e);
        }
    }
    let values: Vec<Option<f64>> = r_ids
        .iter()
        .zip(r_wall.iter())
        .map(|(id, wall)| {
            let e = examples.get(id?)?;
            let wall = wall.filter(|w| *w > 0.0 && w.is_finite())?;
            Some(e / wall)
        })
        .collect();
    runs.with_column(Column::new(EXAMPLES_PER_S.into(), values))
        .map_err(|e| format!("cannot add `{EXAMPLES_PER_S}` to the {side} runs: {e}"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_per_second_by_hand() {
        let mut runs = DataFrame::new(
            3,
            vec![
                Column::new(RUN_ID.into(), ["a", "b", "c"]),
                Column::new(WALL_TIME_S.into(), [2.0, 0.5, 0.0]),
            ],
        )
        .unwrap();
        let metrics = DataFrame::new(
            5,
            vec![
                Column::new(RUN_ID.into(), ["a", "a", "b", "b", "c"]),
                Column::new(EXAMPLES_SEEN.into(), [0u64, 100, 0, 40, 7]),
            ],
        )
        .unwrap();
        add_examples_per_s(&mut runs, &metrics, "baseline").unwrap();
        let got: Vec<Option<f64>> = runs
            .column(EXAMPLES_PER_S)
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .collect();
        // a: 100 examples in 2 s; b: 40 in 0.5 s; c: no positive wall time.
        assert_eq!(got, [Some(50.0), Some(80.0), None]);
        let bad = DataFrame::new(1, vec![Column::new(RUN_ID.into(), ["a"])]).unwrap();
        let err = add_examples_per_s(&mut runs, &bad, "candidate").unwrap_err();
        assert!(err.contains("examples_seen"), "{err}");
    }
}
