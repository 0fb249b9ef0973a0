//! RAdam (Liu et al., 2020): Adam with a rectified adaptive learning rate — `torch.optim.RAdam`.

use serde::{Deserialize, Serialize};

use crate::cpu::kernel;
use crate::hparam::{Check, optimizer_config};
use crate::ops::{Lerp, Prologue, WeightDecay, addcmul, dispatch_flags, step_f64};
use crate::optimizer::check_len;
use crate::{CpuPath, OptimError, UpdateRule};

optimizer_config! {
    /// Hyperparameters of [`RAdam`], with torch's keyword names and defaults (`torch.optim.RAdam`;
    /// pinned by the fixtures' `torch_defaults`).
    pub struct RAdamConfig {
        name: "radam",
        torch: "RAdam",
        summary: "Adam with a rectified variance of the adaptive learning rate (Liu et al. 2020)",
        /// learning rate γ
        lr: Float = 1e-3,
        /// decay rates (β₁, β₂) of the first and second moments
        betas: Betas = [0.9, 0.999],
        /// ε added to the denominator
        eps: Float = 1e-8,
        /// weight decay λ: L2 unless decoupled_weight_decay
        weight_decay: Float = 0.0,
        /// decoupled weight decay as in AdamW
        decoupled_weight_decay: Bool = false,
        /// maximise the objective instead
        maximize: Bool = false,
    }
}

impl RAdamConfig {
    /// torch's checks (`lr >= 0`, betas in `[0, 1)`, `weight_decay >= 0`) and `eps > 0`.
    pub fn validate(&self) -> Result<(), OptimError> {
        let c = Check(Self::NAME);
        c.non_negative("lr", self.lr)?;
        c.positive("eps", self.eps)?;
        c.betas(self.betas)?;
        c.non_negative("weight_decay", self.weight_decay)
    }

    /// Validates and builds the rule.
    pub fn build(&self) -> Result<RAdam, OptimError> {
        self.validate()?;
        Ok(RAdam {
            betas: self.betas,
            eps: self.eps,
            weight_decay: WeightDecay::l2_or_decoupled(
                self.weight_decay,
                self.decoupled_weight_decay,
            ),
            maximize: self.maximize,
        })
    }
}

/// RAdam as `torch.optim.RAdam` (`_single_tensor_radam`). Step t, scalars in f64:
///
/// ```text
/// g ← −∇f if maximize else ∇f
/// g ← g + λ θ  (L2)            θ ← θ (1 − γ λ)  (decoupled)
/// m ← lerp(m, g, 1 − β₁);  v ← β₂ v + (1 − β₂) g²
/// ρ∞ ← 2 / (1 − β₂) − 1;   ρₜ ← ρ∞ − 2 t β₂ᵗ / (1 − β₂ᵗ)
/// if ρₜ > 5:  r ← √((ρₜ − 4)(ρₜ − 2) ρ∞ / ((ρ∞ − 4)(ρ∞ − 2) ρₜ))
///             θ ← θ − m / (1 − β₁ᵗ) · γ · (1 / (√v + ε)) · √(1 − β₂ᵗ) · r
/// else:       θ ← θ − m / (1 − β₁ᵗ) · γ
/// ```
///
/// Paper: Liu et al. (2020), "On the Variance of the Adaptive Learning Rate and Beyond", ICLR.
#[derive(Clone, Debug, PartialEq)]
pub struct RAdam {
    /// (β₁, β₂).
    pub betas: [f64; 2],
    /// ε of the denominator.
    pub eps: f64,
    /// Weight decay λ and how it enters the update.
    pub weight_decay: WeightDecay,
    /// Ascend instead of descend (negate the gradient first).
    pub maximize: bool,
}

/// State of [`RAdam`]: torch's `exp_avg` and `exp_avg_sq`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RAdamState {
    /// First moment m (torch's `exp_avg`).
    #[serde(with = "crate::ops::f32_bits")]
    pub exp_avg: Vec<f32>,
    /// Second moment v (torch's `exp_avg_sq`).
    #[serde(with = "crate::ops::f32_bits")]
    pub exp_avg_sq: Vec<f32>,
}

#[derive(Clone, Copy)]
struct Coeffs {
    pro: Prologue,
    lerp1: Lerp,
    beta2: f32,
    one_minus_beta2: f32,
    bias_correction1: f32,
    lr: f32,
    eps: f32,
    bc2_sqrt: f32,
    rect: f32,
}

/// Gradient, decayed parameter and the moments, shared by both branches.
#[inline(always)]
fn moments<const L2: bool>(p: f32, g: f32, m: f32, v: f32, c: &Coeffs) -> (f32, f32, f32) {
    let d = c.pro.grad::<L2>(g, p);
    let pi = c.pro.decayed(p);
    (
        pi,
        c.lerp1.apply(m, d),
        addcmul(v * c.beta2, c.one_minus_beta2, d, d),
    )
}

#[inline(always)]
fn body<const L2: bool, const RECTIFY: bool>(
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    c: Coeffs,
) {
    let n = p.len();
    let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
    for i in 0..n {
        let (pi, mi, vi) = moments::<L2>(p[i], g[i], m[i], v[i], &c);
        m[i] = mi;
        v[i] = vi;
        let mut u = mi / c.bias_correction1 * c.lr;
        if RECTIFY {
            let adaptive = (1.0 / (vi.sqrt() + c.eps)) * c.bc2_sqrt;
            u = u * adaptive * c.rect;
        }
        p[i] = pi - u;
    }
}

kernel!(
    fn kernel<const L2: bool, const RECTIFY: bool>(
        p: &mut [f32],
        g: &[f32],
        m: &mut [f32],
        v: &mut [f32],
        c: Coeffs,
    ) => body
);

impl RAdam {
    fn step_impl(
        &self,
        p: &mut [f32],
        g: &[f32],
        st: &mut RAdamState,
        step: u64,
        lr: f64,
        path: CpuPath,
    ) {
        let [beta1, beta2] = self.betas;
        let t = step_f64(step);
        let bias_correction1 = 1.0 - libm::pow(beta1, t);
        let bias_correction2 = 1.0 - libm::pow(beta2, t);
        let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
        let rho_t = rho_inf - 2.0 * t * libm::pow(beta2, t) / bias_correction2;
        let rectify = rho_t > 5.0;
        let rect = if rectify {
            ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                .sqrt()
        } else {
            1.0
        };
        let c = Coeffs {
            pro: Prologue::new(self.maximize, self.weight_decay, lr),
            lerp1: Lerp::new(1.0 - beta1),
            beta2: beta2 as f32,
            one_minus_beta2: (1.0 - beta2) as f32,
            bias_correction1: bias_correction1 as f32,
            lr: lr as f32,
            eps: self.eps as f32,
            bc2_sqrt: bias_correction2.sqrt() as f32,
            rect: rect as f32,
        };
        let l2 = c.pro.l2();
        let (m, v) = (&mut st.exp_avg, &mut st.exp_avg_sq);
        dispatch_flags!(kernel [] [l2, rectify] (path, p, g, m, v, c));
    }
}

impl UpdateRule for RAdam {
    type State = RAdamState;
    const NAME: &'static str = RAdamConfig::NAME;

    fn init_state(&self, n: usize) -> RAdamState {
        RAdamState {
            exp_avg: vec![0.0; n],
            exp_avg_sq: vec![0.0; n],
        }
    }

    fn check_state(&self, state: &RAdamState, n: usize) -> Result<(), OptimError> {
        check_len(Self::NAME, "exp_avg", &state.exp_avg, n)?;
        check_len(Self::NAME, "exp_avg_sq", &state.exp_avg_sq, n)
    }

    fn apply_on(
        &self,
        path: CpuPath,
        params: &mut [f32],
        grads: &[f32],
        state: &mut RAdamState,
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
    fn first_step_is_bias_corrected_sgd() {
        // t = 1: ρ₁ = 1999 − 2·0.999/0.001 = 1 ≤ 5, so θ₁ = θ₀ − γ m/(1 − β₁) = θ₀ − γ g.
        let p = run(
            RAdamConfig::default().build().unwrap(),
            &[1.0, 2.0],
            &[&[0.5, -1.0]],
            0.1,
        );
        assert_close(&p, &[0.95, 2.1], 1e-6);
    }

    #[test]
    fn matches_f64_reference_through_the_rectified_phase() {
        let p0 = values(17, 9, 1.0);
        let grads: Vec<Vec<f32>> = (0..9).map(|s| values(17, 80 + s, 1.0)).collect();
        let refs: Vec<&[f32]> = grads.iter().map(Vec::as_slice).collect();
        for (wd, decoupled) in [(0.0, false), (0.1, false), (0.1, true)] {
            let cfg = RAdamConfig {
                weight_decay: wd,
                decoupled_weight_decay: decoupled,
                ..Default::default()
            };
            let got = run(cfg.build().unwrap(), &p0, &refs, 0.01);
            let (b1, b2) = (0.9f64, 0.999f64);
            let rho_inf = 2.0 / (1.0 - b2) - 1.0;
            let mut p: Vec<f64> = p0.iter().map(|&x| f64::from(x)).collect();
            let (mut m, mut v) = (vec![0.0f64; p.len()], vec![0.0f64; p.len()]);
            let mut rectified_steps = 0;
            for (t, g) in grads.iter().enumerate() {
                let t = (t + 1) as i32;
                let rho = rho_inf - 2.0 * f64::from(t) * b2.powi(t) / (1.0 - b2.powi(t));
                for i in 0..p.len() {
                    let mut gi = f64::from(g[i]);
                    if decoupled {
                        p[i] *= 1.0 - 0.01 * wd;
                    } else {
                        gi += wd * p[i];
                    }
                    m[i] = b1 * m[i] + (1.0 - b1) * gi;
                    v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
                    let mhat = m[i] / (1.0 - b1.powi(t));
                    if rho > 5.0 {
                        let r = ((rho - 4.0) * (rho - 2.0) * rho_inf
                            / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho))
                            .sqrt();
                        let l = (1.0 - b2.powi(t)).sqrt() / (v[i].sqrt() + 1e-8);
                        p[i] -= 0.01 * mhat * l * r;
                    } else {
                        p[i] -= 0.01 * mhat;
                    }
                }
                rectified_steps += i32::from(rho > 5.0);
            }
            assert!(
                rectified_steps >= 2,
                "the test must reach the rectified phase"
            );
            assert_close(&got, &p, 2e-5);
        }
    }
}
