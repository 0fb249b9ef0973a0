//! Problems that optimizers are compared on: analytic test functions, linear models and MLPs
//! over datasets, and the batching of the training loop.
//!
//! The runner's path through this crate:
//!
//! ```
//! use std::path::Path;
//! use serde_json::json;
//! use optbench_models::{build_problem, load_dataset, Batcher, BatchSize, ProblemConfig};
//!
//! let keys = json!({"dataset": {"name": "synthetic_classification", "samples": 200}, "hidden": [8]});
//! let cfg = ProblemConfig::from_json("mlp", keys.as_object().unwrap())?;
//! let data = load_dataset(cfg.dataset().unwrap(), 0, Path::new("."))?;
//! let mut problem = build_problem(&cfg, Some(data), 0)?;
//! let mut params = problem.initial_params();
//! let mut grad = vec![0.0; problem.dim()];
//! let mut batches = Batcher::new(problem.train_len(), BatchSize::Examples(32), 0);
//! let before = problem.train_loss(&params);
//! while batches.epoch() < 20.0 {
//!     problem.loss_grad(&params, batches.next_batch(), &mut grad);
//!     params.iter_mut().zip(&grad).for_each(|(p, g)| *p -= 0.1 * g);
//! }
//! assert!(problem.train_loss(&params) < 0.5 * before);
//! assert!(problem.test_metrics(&params).accuracy.unwrap() > 0.7);
//! # Ok::<(), optbench_models::ModelError>(())
//! ```

mod analytic;
mod batch;
mod build;
mod config;
pub mod cpu;
mod data;
mod error;
pub mod gemm;
pub mod layers;
mod nets;
mod network;
pub mod normal;
pub mod problem;
mod seeds;
mod sequences;
#[cfg(test)]
mod testutil;
pub mod weights;

pub use batch::{BatchSize, Batcher};
pub use build::{build_problem, build_problem_in};
pub use config::{
    Activation, DATASET_NAMES, DEFAULT_EVAL_TRAIN_EXAMPLES, DatasetConfig, DatasetKind,
    KEYS_OMITTED_WHEN_UNSET, KeySpec, LossKind, MAX_MODULUS, MAX_QUADRATIC_DIM, ModularOp,
    PROBLEM_NAMES, ProblemConfig, ProblemKind, Task, WeightsInit, dataset_keys, problem_keys,
};
pub use data::augment::{self, Augmentation};
pub use data::{
    Dataset, ImageShape, Table, TableReader, Tokens, WithoutParquet, load_dataset,
    load_dataset_with,
};
pub use error::ModelError;
pub use layers::graph::NamedTensor;
pub use problem::{EvalCounts, Problem, TestMetrics, TrainMetrics};
