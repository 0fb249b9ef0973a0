//! Adagrad (Duchi, Hazan & Singer, 2011) — `torch.optim.Adagrad`.

use serde::{Deserialize, Serialize};

use crate::cpu::kernel;
use crate::hparam::{Check, optimizer_config};
use crate::ops::{Prologue, WeightDecay, addcdiv, addcmul, dispatch_flags, step_f64};
use crate::optimizer::check_len;
use crate::{CpuPath, OptimError, UpdateRule};

optimizer_config! {
    /// Hyperparameters of [`Adagrad`], with torch's keyword names and defaults
    /// (`torch.optim.Adagrad`; pinned by the fixtures' `torch_defaults`).
    pub struct AdagradConfig {
        name: "adagrad",
        torch: "Adagrad",
        summary: "per-coordinate step sizes from the sum of squared gradients (Duchi, Hazan & Singer 2011)",
        /// learning rate γ
        lr: Float = 1e-2,
        /// learning-rate decay η: update t uses γ / (1 + (t − 1) η)
        lr_decay: Float = 0.0,
        /// L2 penalty λ added to the gradient
        weight_decay: Float = 0.0,
        /// initial value of the sum of squared gradients
        initial_accumulator_value: Float = 0.0,
        /// ε added to the denominator
        eps: Float = 1e-10,
        /// maximise the objective instead
        maximize: Bool = false,
    }
}

impl AdagradConfig {
    /// torch's checks (`lr`, `lr_decay`, `weight_decay`, `initial_accumulator_value` >= 0) and
    /// `eps > 0`.
    pub fn validate(&self) -> Result<(), OptimError> {
        let c = Check(Self::NAME);
        c.non_negative("lr", self.lr)?;
        c.non_negative("lr_decay", self.lr_decay)?;
        c.non_negative("weight_decay", self.weight_decay)?;
        c.non_negative("initial_accumulator_value", self.initial_accumulator_value)?;
        c.positive("eps", self.eps)
    }

    /// Validates and builds the rule.
    pub fn build(&self) -> Result<Adagrad, OptimError> {
        self.validate()?;
        Ok(Adagrad {
            lr_decay: self.lr_decay,
            weight_decay: self.weight_decay,
            initial_accumulator_value: self.initial_accumulator_value,
            eps: self.eps,
            maximize: self.maximize,
        })
    }
}

/// Adagrad as `torch.optim.Adagrad` (`_single_tensor_adagrad`, dense gradients). Step t:
///
/// ```text
/// g ← −∇f if maximize else ∇f
/// g ← g + λ θ                      (weight_decay λ ≠ 0)
/// γₜ ← γ / (1 + (t − 1) η)          (in f64)
/// s ← s + g²                       (s₀ = initial_accumulator_value)
/// θ ← θ − γₜ g / (√s + ε)
/// ```
///
/// Paper: Duchi, Hazan & Singer (2011), "Adaptive Subgradient Methods for Online Learning and
/// Stochastic Optimization", JMLR 12.
#[derive(Clone, Debug, PartialEq)]
pub struct Adagrad {
    /// Learning-rate decay η.
    pub lr_decay: f64,
    /// L2 penalty λ added to the gradient (0: none).
    pub weight_decay: f64,
    /// Initial value of the sum of squared gradients.
    pub initial_accumulator_value: f64,
    /// ε of the denominator.
    pub eps: f64,
    /// Ascend instead of descend (negate the gradient first).
    pub maximize: bool,
}

/// State of [`Adagrad`]: torch's `sum`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdagradState {
    /// Sum of squared gradients s.
    #[serde(with = "crate::ops::f32_bits")]
    pub sum: Vec<f32>,
}

#[derive(Clone, Copy)]
struct Coeffs {
    pro: Prologue,
    eps: f32,
    neg_clr: f32,
}

#[inline(always)]
fn body<const L2: bool>(p: &mut [f32], g: &[f32], s: &mut [f32], c: Coeffs) {
    let n = p.len();
    let (g, s) = (&g[..n], &mut s[..n]);
    for i in 0..n {
        let d = c.pro.grad::<L2>(g[i], p[i]);
        let si = addcmul(s[i], 1.0, d, d);
        s[i] = si;
        let std = si.sqrt() + c.eps;
        p[i] = addcdiv(p[i], c.neg_clr, d, std);
    }
}

kernel!(fn kernel<const L2: bool>(p: &mut [f32], g: &[f32], s: &mut [f32], c: Coeffs) => body);

impl Adagrad {
    fn step_impl(
        &self,
        p: &mut [f32],
        g: &[f32],
        st: &mut AdagradState,
        step: u64,
        lr: f64,
        path: CpuPath,
    ) {
        let t = step_f64(step);
        let clr = lr / (1.0 + (t - 1.0) * self.lr_decay);
        let c = Coeffs {
            pro: Prologue::new(self.maximize, WeightDecay::l2(self.weight_decay), lr),
            eps: self.eps as f32,
            neg_clr: (-clr) as f32,
        };
        let l2 = c.pro.l2();
        dispatch_flags!(kernel [] [l2] (path, p, g, &mut st.sum, c));
    }
}

impl UpdateRule for Adagrad {
    type State = AdagradState;
    const NAME: &'static str = AdagradConfig::NAME;

    fn init_state(&self, n: usize) -> AdagradState {
        AdagradState {
            sum: vec![self.initial_accumulator_value as f32; n],
        }
    }

    fn check_state(&self, state: &AdagradState, n: usize) -> Result<(), OptimError> {
        check_len(Self::NAME, "sum", &state.sum, n)
    }

    fn apply_on(
        &self,
        path: CpuPath,
        params: &mut [f32],
        grads: &[f32],
        state: &mut AdagradState,
        step: u64,
        lr: f64,
    ) {
        self.step_impl(params, grads, state, step, lr, path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{assert_close, run, values};

    #[test]
    fn two_steps_by_hand() {
        // s₁ = 0.25, θ₁ = 1 − 0.1·0.5/0.5 = 0.9; s₂ = 0.25 + 1 = 1.25,
        // θ₂ = 0.9 − 0.1·1/√1.25 (lr_decay 0).
        let rule = AdagradConfig::default().build().unwrap();
        let p = run(rule, &[1.0], &[&[0.5], &[1.0]], 0.1);
        assert_close(&p, &[0.9 - 0.1 / 1.25f64.sqrt()], 1e-6);
        // lr_decay 0.5: the second step uses γ / (1 + 0.5) and s₀ = 1 from
        // initial_accumulator_value: s₁ = 1.25, s₂ = 2.25.
        let cfg = AdagradConfig {
            lr_decay: 0.5,
            initial_accumulator_value: 1.0,
            ..Default::default()
        };
        let p = run(cfg.build().unwrap(), &[1.0], &[&[0.5], &[1.0]], 0.1);
        let p1 = 1.0 - 0.1 * 0.5 / 1.25f64.sqrt();
        assert_close(&p, &[p1 - 0.1 / 1.5 * 1.0 / 1.5], 1e-6);
    }

    #[test]
    fn matches_f64_reference_with_weight_decay_and_maximize() {
        let p0 = values(29, 5, 1.0);
        let grads: Vec<Vec<f32>> = (0..5).map(|s| values(29, 40 + s, 1.0)).collect();
        let refs: Vec<&[f32]> = grads.iter().map(Vec::as_slice).collect();
        let cfg = AdagradConfig {
            weight_decay: 0.1,
            lr_decay: 0.01,
            maximize: true,
            ..Default::default()
        };
        let got = run(cfg.build().unwrap(), &p0, &refs, 0.05);
        let mut p: Vec<f64> = p0.iter().map(|&x| f64::from(x)).collect();
        let mut s = vec![0.0f64; p.len()];
        for (t, g) in grads.iter().enumerate() {
            let clr = 0.05 / (1.0 + t as f64 * 0.01);
            for i in 0..p.len() {
                let gi = -f64::from(g[i]) + 0.1 * p[i];
                s[i] += gi * gi;
                p[i] -= clr * gi / (s[i].sqrt() + 1e-10);
            }
        }
        assert_close(&got, &p, 2e-5);
    }
}
