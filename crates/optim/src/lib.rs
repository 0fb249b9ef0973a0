//! Update rules of first-order optimizers over flat `f32` buffers, matching `torch.optim`.
//!
//! Each optimizer lives in its own module. A rule (`Adam`, `Sgd`, ...) is immutable configuration
//! with PyTorch's hyperparameter names and defaults; it is built from a config (`AdamConfig`, ...)
//! whose `build()` validates the ranges exactly as `torch.optim` does. [`Optimizer`] owns a rule,
//! its state buffers and the step counter, checks buffer lengths once per step and never
//! allocates inside a step.
//!
//! The learning rate is passed into every step, so schedules ([`schedule`]) stay separate.

pub mod error;
pub mod optimizer;

pub use error::OptimError;
pub use optimizer::{DynOptimizer, Optimizer, UpdateRule};
