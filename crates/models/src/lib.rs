//! Problems that optimizers are compared on: analytic test functions, linear models and MLPs
//! over datasets, and the batching of the training loop.

pub mod problem;

pub use problem::{EvalCounts, Problem, TestMetrics};
