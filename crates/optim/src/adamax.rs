//! Adamax (Kingma & Ba, 2015, §7.1): Adam with the infinity norm — `torch.optim.Adamax`.

use serde::{Deserialize, Serialize};

use crate::cpu::kernel;
use crate::hparam::{Check, optimizer_config};
use crate::ops::{Lerp, Prologue, WeightDecay, addcdiv, dispatch_flags, maximum, step_f64};
use crate::optimizer::check_len;
use crate::{CpuPath, OptimError, UpdateRule};

optimizer_config! {
    /// Hyperparameters of [`Adamax`], with torch's keyword names and defaults
    /// (`torch.optim.Adamax`; pinned by the fixtures' `torch_defaults`).
    pub struct AdamaxConfig {
        name: "adamax",
        torch: "Adamax",
        summary: "Adam with the infinity norm in place of the second moment (Kingma & Ba 2015, sec. 7.1)",
        /// learning rate γ
        lr: Float = 2e-3,
        /// decay rates (β₁, β₂) of the first moment and the infinity norm
        betas: Betas = [0.9, 0.999],
        /// ε added to |g| before the maximum
        eps: Float = 1e-8,
        /// L2 penalty λ added to the gradient
        weight_decay: Float = 0.0,
        /// maximise the objective instead
        maximize: Bool = false,
    }
}

impl AdamaxConfig {
    /// torch's checks (`lr >= 0`, betas in `[0, 1)`, `weight_decay >= 0`) and `eps > 0`.
    pub fn validate(&self) -> Result<(), OptimError> {
        let c = Check(Self::NAME);
        c.non_negative("lr", self.lr)?;
        c.positive("eps", self.eps)?;
        c.betas(self.betas)?;
        c.non_negative("weight_decay", self.weight_decay)
    }

    /// Validates and builds the rule.
    pub fn build(&self) -> Result<Adamax, OptimError> {
        self.validate()?;
        Ok(Adamax {
            betas: self.betas,
            eps: self.eps,
            weight_decay: self.weight_decay,
            maximize: self.maximize,
        })
    }
}

/// Adamax as `torch.optim.Adamax` (`_single_tensor_adamax`). Step t:
///
/// ```text
/// g ← −∇f if maximize else ∇f
/// g ← g + λ θ                      (weight_decay λ ≠ 0)
/// m ← lerp(m, g, 1 − β₁)
/// u ← max(β₂ u, |g| + ε)
/// θ ← θ − (γ / (1 − β₁ᵗ)) · m / u
/// ```
///
/// Paper: Kingma & Ba (2015), "Adam: A Method for Stochastic Optimization", section 7.1.
#[derive(Clone, Debug, PartialEq)]
pub struct Adamax {
    /// (β₁, β₂).
    pub betas: [f64; 2],
    /// ε of the denominator.
    pub eps: f64,
    /// L2 penalty λ added to the gradient (0: none).
    pub weight_decay: f64,
    /// Ascend instead of descend (negate the gradient first).
    pub maximize: bool,
}

/// State of [`Adamax`]: torch's `exp_avg` and `exp_inf`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdamaxState {
    /// First moment m (torch's `exp_avg`).
    #[serde(with = "crate::ops::f32_bits")]
    pub exp_avg: Vec<f32>,
    /// Exponentially weighted infinity norm u.
    #[serde(with = "crate::ops::f32_bits")]
    pub exp_inf: Vec<f32>,
}

#[derive(Clone, Copy)]
struct Coeffs {
    pro: Prologue,
    lerp1: Lerp,
    beta2: f32,
    eps: f32,
    neg_clr: f32,
}

#[inline(always)]
fn body<const L2: bool>(p: &mut [f32], g: &[f32], m: &mut [f32], u: &mut [f32], c: Coeffs) {
    let n = p.len();
    let (g, m, u) = (&g[..n], &mut m[..n], &mut u[..n]);
    for i in 0..n {
        let d = c.pro.grad::<L2>(g[i], p[i]);
        let mi = c.lerp1.apply(m[i], d);
        let ui = maximum(u[i] * c.beta2, d.abs() + c.eps);
        m[i] = mi;
        u[i] = ui;
        p[i] = addcdiv(p[i], c.neg_clr, mi, ui);
    }
}

kernel!(fn kernel<const L2: bool>(p: &mut [f32], g: &[f32], m: &mut [f32], u: &mut [f32], c: Coeffs) => body);

impl Adamax {
    fn step_impl(
        &self,
        p: &mut [f32],
        g: &[f32],
        st: &mut AdamaxState,
        step: u64,
        lr: f64,
        path: CpuPath,
    ) {
        let [beta1, beta2] = self.betas;
        let bias_correction = 1.0 - libm::pow(beta1, step_f64(step));
        let clr = lr / bias_correction;
        let c = Coeffs {
            pro: Prologue::new(self.maximize, WeightDecay::l2(self.weight_decay), lr),
            lerp1: Lerp::new(1.0 - beta1),
            beta2: beta2 as f32,
            eps: self.eps as f32,
            neg_clr: (-clr) as f32,
        };
        let l2 = c.pro.l2();
        let (m, u) = (&mut st.exp_avg, &mut st.exp_inf);
        dispatch_flags!(kernel [] [l2] (path, p, g, m, u, c));
    }
}

impl UpdateRule for Adamax {
    type State = AdamaxState;
    const NAME: &'static str = AdamaxConfig::NAME;

    fn init_state(&self, n: usize) -> AdamaxState {
        AdamaxState {
            exp_avg: vec![0.0; n],
            exp_inf: vec![0.0; n],
        }
    }

    fn check_state(&self, state: &AdamaxState, n: usize) -> Result<(), OptimError> {
        check_len(Self::NAME, "exp_avg", &state.exp_avg, n)?;
        check_len(Self::NAME, "exp_inf", &state.exp_inf, n)
    }

    fn apply_on(
        &self,
        path: CpuPath,
        params: &mut [f32],
        grads: &[f32],
        state: &mut AdamaxState,
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
    fn first_step_by_hand() {
        // m₁ = 0.1 g, u₁ = |g| + ε, θ₁ = θ₀ − (γ/0.1)·0.1 g/(|g| + ε).
        let p = run(
            AdamaxConfig::default().build().unwrap(),
            &[1.0, 1.0],
            &[&[0.5, -2.0]],
            0.1,
        );
        assert_close(
            &p,
            &[
                1.0 - 0.1 * 0.5 / (0.5 + 1e-8),
                1.0 + 0.1 * 2.0 / (2.0 + 1e-8),
            ],
            1e-6,
        );
    }

    #[test]
    fn matches_f64_reference() {
        let p0 = values(25, 10, 1.0);
        let grads: Vec<Vec<f32>> = (0..6).map(|s| values(25, 90 + s, 1.0)).collect();
        let refs: Vec<&[f32]> = grads.iter().map(Vec::as_slice).collect();
        let cfg = AdamaxConfig {
            weight_decay: 0.1,
            maximize: true,
            ..Default::default()
        };
        let got = run(cfg.build().unwrap(), &p0, &refs, 0.01);
        let mut p: Vec<f64> = p0.iter().map(|&x| f64::from(x)).collect();
        let (mut m, mut u) = (vec![0.0f64; p.len()], vec![0.0f64; p.len()]);
        for (t, g) in grads.iter().enumerate() {
            let t = (t + 1) as i32;
            for i in 0..p.len() {
                let gi = -f64::from(g[i]) + 0.1 * p[i];
                m[i] = 0.9 * m[i] + 0.1 * gi;
                u[i] = (0.999 * u[i]).max(gi.abs() + 1e-8);
                p[i] -= 0.01 / (1.0 - 0.9f64.powi(t)) * m[i] / u[i];
            }
        }
        assert_close(&got, &p, 2e-5);
    }
}
