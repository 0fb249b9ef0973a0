//! Adadelta (Zeiler, 2012) — `torch.optim.Adadelta`.

use serde::{Deserialize, Serialize};

use crate::cpu::kernel;
use crate::hparam::{Check, optimizer_config};
use crate::ops::{Prologue, WeightDecay, add_alpha, addcmul, dispatch_flags};
use crate::optimizer::check_len;
use crate::{CpuPath, OptimError, UpdateRule};

optimizer_config! {
    /// Hyperparameters of [`Adadelta`], with torch's keyword names and defaults
    /// (`torch.optim.Adadelta`; pinned by the fixtures' `torch_defaults`).
    pub struct AdadeltaConfig {
        name: "adadelta",
        torch: "Adadelta",
        summary: "running averages of squared gradients and squared updates (Zeiler 2012)",
        /// learning rate γ (scales the delta)
        lr: Float = 1.0,
        /// decay rate ρ of both running averages
        rho: Float = 0.9,
        /// ε added inside both square roots
        eps: Float = 1e-6,
        /// L2 penalty λ added to the gradient
        weight_decay: Float = 0.0,
        /// maximise the objective instead
        maximize: Bool = false,
    }
}

impl AdadeltaConfig {
    /// torch's checks (`lr >= 0`, `0 <= rho <= 1`, `weight_decay >= 0`) and `eps > 0`.
    pub fn validate(&self) -> Result<(), OptimError> {
        let c = Check(Self::NAME);
        c.non_negative("lr", self.lr)?;
        c.unit_closed("rho", self.rho)?;
        c.positive("eps", self.eps)?;
        c.non_negative("weight_decay", self.weight_decay)
    }

    /// Validates and builds the rule.
    pub fn build(&self) -> Result<Adadelta, OptimError> {
        self.validate()?;
        Ok(Adadelta {
            rho: self.rho,
            eps: self.eps,
            weight_decay: self.weight_decay,
            maximize: self.maximize,
        })
    }
}

/// Adadelta as `torch.optim.Adadelta` (`_single_tensor_adadelta`). One step:
///
/// ```text
/// g ← −∇f if maximize else ∇f
/// g ← g + λ θ                          (weight_decay λ ≠ 0)
/// v ← ρ v + (1 − ρ) g²
/// Δ ← √(u + ε) / √(v + ε) · g
/// u ← ρ u + (1 − ρ) Δ²
/// θ ← θ − γ Δ
/// ```
///
/// Paper: Zeiler (2012), "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701.
#[derive(Clone, Debug, PartialEq)]
pub struct Adadelta {
    /// Decay rate ρ of the running averages.
    pub rho: f64,
    /// ε of the denominator.
    pub eps: f64,
    /// L2 penalty λ added to the gradient (0: none).
    pub weight_decay: f64,
    /// Ascend instead of descend (negate the gradient first).
    pub maximize: bool,
}

/// State of [`Adadelta`]: torch's `square_avg` (v) and `acc_delta` (u).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdadeltaState {
    /// Running average of squared gradients v.
    #[serde(with = "crate::ops::f32_bits")]
    pub square_avg: Vec<f32>,
    /// Running average of squared updates u.
    #[serde(with = "crate::ops::f32_bits")]
    pub acc_delta: Vec<f32>,
}

#[derive(Clone, Copy)]
struct Coeffs {
    pro: Prologue,
    rho: f32,
    one_minus_rho: f32,
    eps: f32,
    neg_lr: f32,
}

#[inline(always)]
fn body<const L2: bool>(p: &mut [f32], g: &[f32], v: &mut [f32], u: &mut [f32], c: Coeffs) {
    let n = p.len();
    let (g, v, u) = (&g[..n], &mut v[..n], &mut u[..n]);
    for i in 0..n {
        let d = c.pro.grad::<L2>(g[i], p[i]);
        let vi = addcmul(v[i] * c.rho, c.one_minus_rho, d, d);
        v[i] = vi;
        let std = (vi + c.eps).sqrt();
        let delta = (u[i] + c.eps).sqrt() / std * d;
        u[i] = addcmul(u[i] * c.rho, c.one_minus_rho, delta, delta);
        p[i] = add_alpha(p[i], delta, c.neg_lr);
    }
}

kernel!(fn kernel<const L2: bool>(p: &mut [f32], g: &[f32], v: &mut [f32], u: &mut [f32], c: Coeffs) => body);

impl Adadelta {
    fn step_impl(&self, p: &mut [f32], g: &[f32], st: &mut AdadeltaState, lr: f64, path: CpuPath) {
        let c = Coeffs {
            pro: Prologue::new(self.maximize, WeightDecay::l2(self.weight_decay), lr),
            rho: self.rho as f32,
            one_minus_rho: (1.0 - self.rho) as f32,
            eps: self.eps as f32,
            neg_lr: (-lr) as f32,
        };
        let l2 = c.pro.l2();
        let (v, u) = (&mut st.square_avg, &mut st.acc_delta);
        dispatch_flags!(kernel [] [l2] (path, p, g, v, u, c));
    }
}

impl UpdateRule for Adadelta {
    type State = AdadeltaState;
    const NAME: &'static str = AdadeltaConfig::NAME;

    fn init_state(&self, n: usize) -> AdadeltaState {
        AdadeltaState {
            square_avg: vec![0.0; n],
            acc_delta: vec![0.0; n],
        }
    }

    fn check_state(&self, state: &AdadeltaState, n: usize) -> Result<(), OptimError> {
        check_len(Self::NAME, "square_avg", &state.square_avg, n)?;
        check_len(Self::NAME, "acc_delta", &state.acc_delta, n)
    }

    fn apply_on(
        &self,
        path: CpuPath,
        params: &mut [f32],
        grads: &[f32],
        state: &mut AdadeltaState,
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
    fn first_step_by_hand() {
        // v₁ = 0.1·g² = 0.1, Δ = √(0 + ε)/√(0.1 + ε)·g with g = 1, θ₁ = 1 − Δ.
        let rule = AdadeltaConfig::default().build().unwrap();
        let p = run(rule, &[1.0], &[&[1.0]], 1.0);
        let delta = (1e-6f64).sqrt() / (0.1f64 + 1e-6).sqrt();
        assert_close(&p, &[1.0 - delta], 1e-6);
    }

    #[test]
    fn matches_f64_reference() {
        let p0 = values(23, 6, 1.0);
        let grads: Vec<Vec<f32>> = (0..6).map(|s| values(23, 50 + s, 1.0)).collect();
        let refs: Vec<&[f32]> = grads.iter().map(Vec::as_slice).collect();
        let cfg = AdadeltaConfig {
            weight_decay: 0.1,
            rho: 0.8,
            ..Default::default()
        };
        let got = run(cfg.build().unwrap(), &p0, &refs, 0.5);
        let mut p: Vec<f64> = p0.iter().map(|&x| f64::from(x)).collect();
        let (mut v, mut u) = (vec![0.0f64; p.len()], vec![0.0f64; p.len()]);
        for g in &grads {
            for i in 0..p.len() {
                let gi = f64::from(g[i]) + 0.1 * p[i];
                v[i] = 0.8 * v[i] + 0.2 * gi * gi;
                let d = (u[i] + 1e-6).sqrt() / (v[i] + 1e-6).sqrt() * gi;
                u[i] = 0.8 * u[i] + 0.2 * d * d;
                p[i] -= 0.5 * d;
            }
        }
        assert_close(&got, &p, 2e-5);
    }
}
