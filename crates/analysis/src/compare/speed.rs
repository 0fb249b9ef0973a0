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
use super::read::{f64_column, text_column};
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
    let (metrics_file, runs_file) = (
        format!("{side} metrics.parquet"),
        format!("{side} runs.parquet"),
    );
    let m_ids = text_column(metrics, RUN_ID, &metrics_file)?;
    let m_examples = f64_column(metrics, EXAMPLES_SEEN, &metrics_file)?;
    let r_ids = text_column(runs, RUN_ID, &runs_file)?;
    let r_wall = f64_column(runs, WALL_TIME_S, &runs_file)?;
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
