//! Fixtures shared by the integration tests of `optbench-exec` and the `optbench` binary.
//!
//! A dev-dependency only (`crates/cli/tests/architecture.rs` checks that no crate depends on it
//! otherwise). Helpers panic on bad input: they build fixtures, not user input.

use std::sync::Arc;

use optbench_models::ProblemConfig;
use optbench_optim::OptimizerConfig;
use optbench_results as results;
use optbench_spec::plan::{BatchSize, Budget, OptimizerSpec, ProblemSpec, TrainSpec};
use polars::prelude::*;

/// Every value of every column but `wall_time_s`, floats as bits: two results are identical
/// run for run exactly when their fingerprints are equal.
pub fn fingerprint(df: &DataFrame) -> Vec<(String, Vec<String>)> {
    df.columns()
        .iter()
        .filter(|c| c.name().as_str() != results::WALL_TIME_S)
        .map(|c| {
            let values = match c.dtype() {
                DataType::Float64 => c
                    .f64()
                    .unwrap()
                    .iter()
                    .map(|v| format!("{:?}", v.map(f64::to_bits)))
                    .collect(),
                _ => (0..c.len())
                    .map(|i| format!("{:?}", c.get(i).unwrap()))
                    .collect(),
            };
            (c.name().to_string(), values)
        })
        .collect()
}

/// A problem variant from its YAML name and keys.
pub fn problem(name: &str, keys: serde_json::Value) -> Arc<ProblemSpec> {
    let keys = keys.as_object().cloned().unwrap_or_default();
    Arc::new(ProblemSpec::new(
        ProblemConfig::from_json(name, &keys).unwrap(),
    ))
}

/// An optimizer variant from its YAML name and hyperparameters, without a schedule.
pub fn optimizer(name: &str, hparams: serde_json::Value) -> Arc<OptimizerSpec> {
    let hparams = hparams.as_object().cloned().unwrap_or_default();
    Arc::new(OptimizerSpec::new(
        OptimizerConfig::from_json(name, &hparams).unwrap(),
        None,
    ))
}

/// A training loop with no clipping and the problem's own evaluation subset.
pub fn train(budget: Budget, batch_size: BatchSize, eval_every: u64) -> Arc<TrainSpec> {
    Arc::new(TrainSpec {
        budget,
        batch_size,
        eval_every,
        eval_train_examples: None,
        clip_grad_norm: None,
        clip_grad_value: None,
    })
}
