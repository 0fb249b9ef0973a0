//! Update rules of first-order optimizers over flat `f32` buffers, matching `torch.optim`.
//!
//! Each optimizer lives in its own module. A rule (`Adam`, `Sgd`, ...) is immutable configuration
//! with PyTorch's hyperparameter names and defaults; it is built from a config (`AdamConfig`, ...)
//! whose `build()` validates the ranges as `torch.optim` does. [`Optimizer`] owns a rule, its
//! state buffers and the step counter, checks buffer lengths once per step and never allocates
//! inside a step. [`OptimizerConfig`] picks an optimizer by its YAML name at run time.
//!
//! Numerics follow torch's single-tensor implementations (`_single_tensor_adam`, ...) op by op:
//! scalar coefficients (bias corrections, step sizes) in f64 as Python floats, element-wise math
//! in f32 in torch's order, rounded as torch's vectorised CPU kernels round (see the `ops`
//! module). The hot loops are plain loops over slices, compiled for AVX-512, AVX2+FMA and the
//! baseline target and picked at run time (`multiversion`); all versions give bit-identical
//! results.
//!
//! The learning rate is passed into every step, so schedules stay separate.

pub mod adadelta;
pub mod adagrad;
pub mod adam;
pub mod adamax;
pub mod adamw;
pub mod clip;
pub mod config;
pub mod cpu;
pub mod error;
pub mod hparam;
pub mod lion;
pub mod nadam;
mod ops;
pub mod optimizer;
pub mod radam;
pub mod rmsprop;
pub mod schedule;
pub mod sgd;
#[cfg(test)]
mod testutil;

pub use adadelta::{Adadelta, AdadeltaConfig, AdadeltaState};
pub use adagrad::{Adagrad, AdagradConfig, AdagradState};
pub use adam::{Adam, AdamConfig, AdamState};
pub use adamax::{Adamax, AdamaxConfig, AdamaxState};
pub use adamw::{AdamW, AdamWConfig};
pub use clip::{clip_grad_norm, clip_grad_value};
pub use config::OptimizerConfig;
pub use cpu::CpuPath;
pub use error::{OptimError, closest};
pub use hparam::{Hparam, Kind};
pub use lion::{Lion, LionConfig, LionState};
pub use nadam::{NAdam, NAdamConfig, NAdamState};
pub use ops::WeightDecay;
pub use optimizer::{DynOptimizer, Optimizer, Snapshot, UpdateRule};
pub use radam::{RAdam, RAdamConfig, RAdamState};
pub use rmsprop::{RmsProp, RmsPropConfig, RmsPropState};
pub use schedule::{Schedule, ScheduleConfig};
pub use sgd::{Momentum, Sgd, SgdConfig, SgdState};
