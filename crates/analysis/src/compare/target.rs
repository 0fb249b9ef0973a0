//! Steps to target (`--target METRIC=VALUE`): the first recorded step at which a metric of
//! metrics.parquet reaches a value (see the parent module's docs for the verdict rules).

use std::collections::HashMap;

use polars::prelude::*;
use serde::Serialize;

use super::read::f64_column;
use super::settings::closest_metric;
use super::{CompareError, Direction, METRICS_FILE};
use optbench_results::{BATCH_LOSS, GRAD_NORM, RUN_ID, STEP, TEST_ACCURACY, TEST_LOSS, TRAIN_LOSS};

/// The `metrics.parquet` columns `--target` accepts, and which way each improves.
pub const TARGET_METRICS: [(&str, Direction); 5] = [
    (TRAIN_LOSS, Direction::LowerIsBetter),
    (TEST_LOSS, Direction::LowerIsBetter),
    (BATCH_LOSS, Direction::LowerIsBetter),
    (GRAD_NORM, Direction::LowerIsBetter),
    (TEST_ACCURACY, Direction::HigherIsBetter),
];

/// A steps-to-target metric: the first recorded step at which `metric` reaches `value` (`≤` for
/// [`Direction::LowerIsBetter`] metrics, `≥` for accuracy); see the module docs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Target {
    /// A column of metrics.parquet, one of [`TARGET_METRICS`].
    pub metric: String,
    /// The threshold.
    pub value: f64,
    /// Which way `metric` improves: `≤ value` or `≥ value` counts as reached.
    pub direction: Direction,
}

impl Target {
    /// Parses `METRIC=VALUE`, e.g. `train_loss=0.05` or `test_accuracy=0.9`.
    pub fn parse(text: &str) -> Result<Self, CompareError> {
        let known = || {
            TARGET_METRICS
                .iter()
                .map(|(m, _)| *m)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Some((metric, value)) = text.split_once('=') else {
            return Err(CompareError::BadArgs(format!(
                "--target `{text}` is not of the form METRIC=VALUE (e.g. train_loss=0.05; \
                 metrics: {})",
                known()
            )));
        };
        let metric = metric.trim();
        let Some(&(_, direction)) = TARGET_METRICS.iter().find(|(m, _)| *m == metric) else {
            let closest =
                closest_metric(metric, TARGET_METRICS.iter().map(|(m, _)| *m), TRAIN_LOSS);
            return Err(CompareError::BadArgs(format!(
                "--target `{text}`: unknown metric `{metric}` (did you mean `{closest}`? \
                 metrics.parquet columns with a target: {})",
                known()
            )));
        };
        let value: f64 = value.trim().parse().map_err(|_| {
            CompareError::BadArgs(format!(
                "--target `{text}`: `{}` is not a number",
                value.trim()
            ))
        })?;
        if !value.is_finite() {
            return Err(CompareError::BadArgs(format!(
                "--target `{text}`: the target must be a finite number"
            )));
        }
        Ok(Self {
            metric: metric.to_string(),
            value,
            direction,
        })
    }

    /// The metric's name in the report: `steps_to_target(train_loss<=0.05)`.
    pub fn name(&self) -> String {
        let op = match self.direction {
            Direction::LowerIsBetter => "<=",
            Direction::HigherIsBetter => ">=",
        };
        format!("steps_to_target({}{op}{})", self.metric, self.value)
    }

    /// Whether `v` reaches the target (finite and on the right side of it).
    pub fn reached(&self, v: f64) -> bool {
        v.is_finite()
            && match self.direction {
                Direction::LowerIsBetter => v <= self.value,
                Direction::HigherIsBetter => v >= self.value,
            }
    }
}

/// Steps to each target for every run of `run_ids` (the order of the runs table), from a
/// metrics frame: `Some(step)` of the first row (lowest step) that reaches the target,
/// `Some(+∞)` when the run has values of the metric but none reaches it, `None` when it has no
/// value of the metric at all. Rows of runs not in `run_ids` are ignored.
pub(crate) fn steps_to_targets(
    df: &DataFrame,
    side: &str,
    run_ids: &[String],
    targets: &[Target],
) -> Result<Vec<Vec<Option<f64>>>, Vec<String>> {
    let mut problems = Vec::new();
    let ids = match df.column(RUN_ID).map(|c| c.str()) {
        Ok(Ok(ca)) => Some(ca),
        Ok(Err(_)) => {
            problems.push(format!(
                "column `{RUN_ID}` of the {side} {METRICS_FILE} is not text"
            ));
            None
        }
        Err(_) => {
            problems.push(format!(
                "the {side} {METRICS_FILE} has no `{RUN_ID}` column"
            ));
            None
        }
    };
    let step = f64_column(df, STEP, &format!("{side} {METRICS_FILE}"))
        .map_err(|e| problems.push(e))
        .ok();
    let values: Vec<Option<Float64Chunked>> = targets
        .iter()
        .map(|t| {
            f64_column(df, &t.metric, &format!("{side} {METRICS_FILE}"))
                .map_err(|e| problems.push(e))
                .ok()
        })
        .collect();
    let (Some(ids), Some(step)) = (ids, step) else {
        return Err(problems);
    };
    let Some(values) = values.into_iter().collect::<Option<Vec<_>>>() else {
        return Err(problems);
    };

    let index: HashMap<&str, usize> = run_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let n = run_ids.len();
    // Per target: whether each run has a value, and the first step reaching the target.
    let mut seen = vec![vec![false; n]; targets.len()];
    let mut first = vec![vec![f64::INFINITY; n]; targets.len()];
    let mut value_iters: Vec<_> = values.iter().map(|ca| ca.iter()).collect();
    // Rows come grouped by run: look the id up only when it changes.
    let mut last: Option<(&str, Option<usize>)> = None;
    for (id, st) in ids.iter().zip(step.iter()) {
        let vals: Vec<Option<f64>> = value_iters
            .iter_mut()
            .map(|it| it.next().flatten())
            .collect();
        let Some(id) = id else { continue };
        let run = match last {
            Some((prev, run)) if prev == id => run,
            _ => {
                let run = index.get(id).copied();
                last = Some((id, run));
                run
            }
        };
        let (Some(run), Some(st)) = (run, st) else {
            continue;
        };
        for (t, v) in vals.into_iter().enumerate() {
            let Some(v) = v else { continue };
            seen[t][run] = true;
            if targets[t].reached(v) && st < first[t][run] {
                first[t][run] = st;
            }
        }
    }
    Ok(seen
        .into_iter()
        .zip(first)
        .map(|(seen, first)| {
            seen.into_iter()
                .zip(first)
                .map(|(s, f)| s.then_some(f))
                .collect()
        })
        .collect())
}
