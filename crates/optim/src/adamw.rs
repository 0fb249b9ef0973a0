//! AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay — `torch.optim.AdamW`.

use crate::adam::{Adam, AdamState, WeightDecay, check_adam};
use crate::hparam::optimizer_config;
use crate::{CpuPath, OptimError, UpdateRule};

optimizer_config! {
    /// Hyperparameters of [`AdamW`], with torch's keyword names and defaults (`torch.optim.AdamW`;
    /// pinned by the fixtures' `torch_defaults`).
    pub struct AdamWConfig {
        name: "adamw",
        torch: "AdamW",
        summary: "Adam with decoupled weight decay (Loshchilov & Hutter 2019)",
        /// learning rate γ
        lr: Float = 1e-3,
        /// decay rates (β₁, β₂) of the first and second moments
        betas: Betas = [0.9, 0.999],
        /// ε added to the denominator, outside the square root
        eps: Float = 1e-8,
        /// decoupled weight decay λ: θ ← θ (1 − γ λ) each update
        weight_decay: Float = 1e-2,
        /// AMSGrad (Reddi et al. 2018): normalise by the running maximum of v
        amsgrad: Bool = false,
        /// maximise the objective instead
        maximize: Bool = false,
    }
}

impl AdamWConfig {
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
