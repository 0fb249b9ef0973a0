//! Update rules of first-order optimizers over flat `f32` buffers, matching `torch.optim`.
//!
//! Each optimizer lives in its own module. A rule (`Adam`, `Sgd`, ...) is immutable configuration
//! with PyTorch's hyperparameter names and defaults; it is built from a config (`AdamConfig`, ...)
//! whose `build()` validates the ranges as `torch.optim` does. [`Optimizer`] owns a rule, its
//! state buffers and the step counter, checks buffer lengths once per step and never allocates
//! inside a step. [`OptimizerConfig`] picks an optimizer by its YAML name at run time.
//!
//! # Registry and schemas
//!
//! The optimizers are listed once, in `config.rs` ([`config::OPTIMIZERS`]); each config is
//! declared by `optimizer_config!`, which writes every hyperparameter's kind, default and doc
//! once. The key schemas are data: [`hparam::Hparam`] (name, [`hparam::Kind`],
//! [`hparam::HparamDefault`], doc) for every optimizer ([`OptimizerConfig::hparams`]) and every
//! schedule ([`schedule::SCHEDULES`]), checked by the one function [`hparam::check_keys`].
//!
//! # Numerics
//!
//! Numerics follow torch's single-tensor implementations (`_single_tensor_adam`, ...) op by op:
//! scalar coefficients (bias corrections, step sizes) in f64 as Python floats, element-wise math
//! in f32 in torch's order, rounded as torch's vectorised CPU kernels round (see the `ops`
//! module). The maximize / weight-decay prologue is shared (`ops::Prologue`). The hot loops are
//! plain loops over slices, compiled for AVX-512, AVX2+FMA and the baseline target and picked
//! at run time ([`cpu`]); all versions give bit-identical results.
//!
//! The learning rate is passed into every step, so schedules stay separate.
//!
//! # The same bits on every machine
//!
//! Every value this crate computes is a function of its inputs alone, with the same bits on
//! every CPU and operating system:
//!
//! * **Transcendental functions come from the `libm` crate** (pure Rust, compiled with the
//!   project): `libm::pow` for the bias corrections `βᵗ`, NAdam's `0.96^(tψ)` and the decaying
//!   schedules' `γᵏ`, `libm::cos` for the cosine schedule. No std `powf`, `powi`, `exp`, `ln`,
//!   `cos`, ... is called outside tests: std's go to the platform's libm (glibc, macOS, musl),
//!   whose roundings differ. (torch's scalars are Python floats computed by glibc, which rounds
//!   correctly more often than `libm`; the 1-ulp differences in f64 vanish in the rounding of
//!   every coefficient to f32, and the torch fixtures match as before.)
//! * **What still comes from the platform or the hardware, and why that is safe:**
//!   - `+ - * /`, `sqrt`, comparisons, `abs`, `min`/`max` and `as` conversions: IEEE 754
//!     requires them correctly rounded (or exact), and every target Rust supports implements
//!     them in hardware; `sqrt` replaces `x ** 0.5` (the correctly rounded result is the same).
//!   - `mul_add` (`f32::mul_add`, torch's fused `add`, `lerp` and `addcmul`): IEEE 754 requires
//!     fused multiply-add correctly rounded. The AVX2+FMA and AVX-512 kernels use the `vfmadd`
//!     instructions; the baseline x86-64 kernels call the platform's `fmaf` (glibc, musl and
//!     macOS implement it exactly). `tests/cpu_paths.rs` compares the two bit for bit.
//!   - No contraction: Rust never fuses `a * b + c` into an FMA by itself (unlike C with
//!     `-ffp-contract=fast`), and never reassociates, so vector width does not change results.
//!     Reductions (the norm in [`clip_grad_norm`]) are sequential loops in a fixed order.
//!   - 32-bit x86 without SSE2 (x87 registers with extended precision) would break all of the
//!     above; it is not a supported target.
//! * **Tests keep it so:** `tests/cpu_paths.rs` runs every option set of every optimizer on
//!   every kernel path the CPU has (baseline, AVX2+FMA, AVX-512; a path the CPU lacks is
//!   reported, or fails with `OPTBENCH_REQUIRE_CPU_PATHS`) and asserts identical parameters
//!   and state after every update.

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
pub use error::OptimError;
pub use hparam::{Hparam, Kind};
pub use lion::{Lion, LionConfig, LionState};
pub use nadam::{NAdam, NAdamConfig, NAdamState};
pub use ops::WeightDecay;
pub use optimizer::{DynOptimizer, Optimizer, Snapshot, UpdateRule};
pub use radam::{RAdam, RAdamConfig, RAdamState};
pub use rmsprop::{RmsProp, RmsPropConfig, RmsPropState};
pub use schedule::{Schedule, ScheduleConfig};
pub use sgd::{Momentum, Sgd, SgdConfig, SgdState};
