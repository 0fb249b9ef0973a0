//! AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay — `torch.optim.AdamW`.

use serde::{Deserialize, Serialize};

use crate::adam::{ADAM_HPARAMS, Adam, AdamState, WeightDecay, check_adam};
use crate::hparam::Hparam;
use crate::{CpuPath, OptimError, UpdateRule};

/// Hyperparameters of [`AdamW`], with torch's keyword names; defaults match `torch.optim.AdamW`
/// (`lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdamWConfig {
    /// Learning rate γ (default 1e-3).
    pub lr: f64,
    /// Decay rates (β₁, β₂) of the first and second moments (default (0.9, 0.999)).
    pub betas: [f64; 2],
    /// ε added to the denominator (default 1e-8).
    pub eps: f64,
    /// Decoupled weight decay λ: `θ ← θ (1 − γ λ)` each step (default 1e-2).
    pub weight_decay: f64,
    /// AMSGrad variant (default false).
    pub amsgrad: bool,
    /// Maximise the objective instead (default false).
    pub maximize: bool,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 1e-2,
            amsgrad: false,
            maximize: false,
        }
    }
}

impl AdamWConfig {
    /// YAML name.
    pub const NAME: &'static str = "adamw";
    /// Hyperparameters, in torch's signature order.
    pub const HPARAMS: &'static [Hparam] = ADAM_HPARAMS;

    /// `lr >= 0`, `eps > 0`, betas in `[0, 1)`, `weight_decay >= 0`.
    pub fn validate(&self) -> Result<(), OptimError> {
        check_adam(Self::NAME, self.lr, self.betas, self.eps, self.weight_decay)
    }

    /// Validates and builds the rule.
    pub fn build(&self) -> Result<AdamW, OptimError> {
        self.validate()?;
        Ok(AdamW(Adam {
            betas: self.betas,
            eps: self.eps,
            weight_decay: WeightDecay::Decoupled(self.weight_decay),
            amsgrad: self.amsgrad,
            maximize: self.maximize,
        }))
    }
}

/// AdamW as `torch.optim.AdamW`: each step first shrinks the parameters,
/// `θ ← θ (1 − γ λ)` (the factor computed in f64, applied in f32), then takes the [`Adam`] step
/// without L2 penalty. Paper: Loshchilov & Hutter (2019), "Decoupled Weight Decay
/// Regularization".
#[derive(Clone, Debug, PartialEq)]
pub struct AdamW(pub Adam);

impl UpdateRule for AdamW {
    type State = AdamState;
    const NAME: &'static str = AdamWConfig::NAME;

    fn init_state(&self, n: usize) -> AdamState {
        self.0.new_state(n)
    }

    fn check_state(&self, state: &AdamState, n: usize) -> Result<(), OptimError> {
        self.0.check(Self::NAME, state, n)
    }

    fn apply_on(
        &self,
        path: CpuPath,
        params: &mut [f32],
        grads: &[f32],
        state: &mut AdamState,
        step: u64,
        lr: f64,
    ) {
        self.0.step_impl(params, grads, state, step, lr, path);
    }
}
