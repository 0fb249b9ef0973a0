//! Lion (Chen et al., 2023): sign of an interpolated momentum, decoupled weight decay.

use serde::{Deserialize, Serialize};

use crate::cpu::kernel;
use crate::hparam::{Check, optimizer_config};
use crate::ops::{Prologue, WeightDecay, add_alpha, sign};
use crate::optimizer::check_len;
use crate::{CpuPath, OptimError, UpdateRule};

optimizer_config! {
    /// Hyperparameters of [`Lion`]; torch has no Lion, names and defaults are lucidrains'
    /// `lion-pytorch`'s (pinned by the fixture's `torch_defaults`).
    pub struct LionConfig {
        name: "lion",
        torch: "",
        summary: "sign of an interpolated momentum with decoupled weight decay (Chen et al. 2023)",
        /// learning rate γ (the paper suggests 3–10× smaller than for AdamW)
        lr: Float = 1e-4,
        /// (β₁, β₂): interpolation for the update and decay of the momentum
        betas: Betas = [0.9, 0.99],
        /// decoupled weight decay λ: θ ← θ (1 − γ λ) each update
        weight_decay: Float = 0.0,
    }
}

impl LionConfig {
    /// `lr >= 0`, betas in `[0, 1)`, `weight_decay >= 0`.
    pub fn validate(&self) -> Result<(), OptimError> {
        let c = Check(Self::NAME);
        c.non_negative("lr", self.lr)?;
        c.betas(self.betas)?;
        c.non_negative("weight_decay", self.weight_decay)
    }

    /// Validates and builds the rule.
    pub fn build(&self) -> Result<Lion, OptimError> {
        self.validate()?;
        Ok(Lion {
            betas: self.betas,
            weight_decay: self.weight_decay,
        })
    }
}

/// Lion ("EvoLved Sign Momentum") as in the paper's Algorithm 2 and lucidrains' `lion-pytorch`
/// (`update_fn`, in that order of operations). One step:
///
/// ```text
/// θ ← θ (1 − γ λ)
/// c ← β₁ m + (1 − β₁) g
/// θ ← θ − γ sign(c)
/// m ← β₂ m + (1 − β₂) g
/// ```
///
/// Paper: Chen et al. (2023), "Symbolic Discovery of Optimization Algorithms", NeurIPS.
#[derive(Clone, Debug, PartialEq)]
pub struct Lion {
    /// (β₁, β₂).
    pub betas: [f64; 2],
    /// Decoupled weight decay λ: θ ← θ (1 − γ λ) each step.
    pub weight_decay: f64,
}

/// State of [`Lion`]: the momentum `exp_avg`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LionState {
    /// First moment m (torch's `exp_avg`).
    #[serde(with = "crate::ops::f32_bits")]
    pub exp_avg: Vec<f32>,
}

#[derive(Clone, Copy)]
struct Coeffs {
    pro: Prologue,
    beta1: f32,
    one_minus_beta1: f32,
    beta2: f32,
    one_minus_beta2: f32,
    neg_lr: f32,
}

#[inline(always)]
fn body(p: &mut [f32], g: &[f32], m: &mut [f32], c: Coeffs) {
    let n = p.len();
    let (g, m) = (&g[..n], &mut m[..n]);
    for i in 0..n {
        let pi = c.pro.decayed(p[i]);
        let update = sign(add_alpha(m[i] * c.beta1, g[i], c.one_minus_beta1));
        p[i] = add_alpha(pi, update, c.neg_lr);
        m[i] = add_alpha(m[i] * c.beta2, g[i], c.one_minus_beta2);
    }
}

kernel!(fn kernel(p: &mut [f32], g: &[f32], m: &mut [f32], c: Coeffs) => body);

impl Lion {
    fn step_impl(&self, p: &mut [f32], g: &[f32], st: &mut LionState, lr: f64, path: CpuPath) {
        let [beta1, beta2] = self.betas;
        let c = Coeffs {
            pro: Prologue::new(false, WeightDecay::Decoupled(self.weight_decay), lr),
            beta1: beta1 as f32,
            one_minus_beta1: (1.0 - beta1) as f32,
            beta2: beta2 as f32,
            one_minus_beta2: (1.0 - beta2) as f32,
            neg_lr: (-lr) as f32,
        };
        kernel(path, p, g, &mut st.exp_avg, c);
    }
}

impl UpdateRule for Lion {
    type State = LionState;
    const NAME: &'static str = LionConfig::NAME;

    fn init_state(&self, n: usize) -> LionState {
        LionState {
            exp_avg: vec![0.0; n],
        }
    }

    fn check_state(&self, state: &LionState, n: usize) -> Result<(), OptimError> {
        check_len(Self::NAME, "exp_avg", &state.exp_avg, n)
    }

    fn apply_on(
        &self,
        path: CpuPath,
        params: &mut [f32],
        grads: &[f32],
        state: &mut LionState,
        _step: u64,
        lr: f64,
    ) {
        self.step_impl(params, grads, state, lr, path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{assert_close, run, values};

    #[test]
    fn two_steps_by_hand() {
        // Step 1: c = 0.1·0.5 > 0 → θ₁ = 1·(1 − 0.1·0.1) − 0.1 = 0.89; m₁ = 0.01·0.5 = 0.005.
        // Step 2 (g = −0.01): c = 0.9·0.005 − 0.1·0.01 = 0.0035 > 0 → θ₂ = 0.89·0.99 − 0.1;
        // the sign follows the momentum, not the gradient.
        let cfg = LionConfig {
            weight_decay: 0.1,
            ..Default::default()
        };
        let p = run(cfg.build().unwrap(), &[1.0], &[&[0.5], &[-0.01]], 0.1);
        assert_close(&p, &[0.89 * 0.99 - 0.1], 1e-6);
        // A zero update direction leaves θ unchanged.
        let p = run(
            LionConfig::default().build().unwrap(),
            &[1.0],
            &[&[0.0]],
            0.1,
        );
        assert_close(&p, &[1.0], 0.0);
    }

    #[test]
    fn matches_f64_reference() {
        let p0 = values(27, 12, 1.0);
        let grads: Vec<Vec<f32>> = (0..6).map(|s| values(27, 95 + s, 1.0)).collect();
        let refs: Vec<&[f32]> = grads.iter().map(Vec::as_slice).collect();
        let cfg = LionConfig {
            weight_decay: 0.5,
            ..Default::default()
        };
        let got = run(cfg.build().unwrap(), &p0, &refs, 0.01);
        let mut p: Vec<f64> = p0.iter().map(|&x| f64::from(x)).collect();
        let mut m = vec![0.0f64; p.len()];
        for g in &grads {
            for i in 0..p.len() {
                let gi = f64::from(g[i]);
                let c = 0.9 * m[i] + 0.1 * gi;
                p[i] =
                    p[i] * (1.0 - 0.01 * 0.5) - 0.01 * c.signum() * f64::from(u8::from(c != 0.0));
                m[i] = 0.99 * m[i] + 0.01 * gi;
            }
        }
        assert_close(&got, &p, 1e-5);
    }
}
