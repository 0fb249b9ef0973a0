//! NAdam (Dozat, 2016): Adam with Nesterov momentum — `torch.optim.NAdam`.

use serde::{Deserialize, Serialize};

use crate::cpu::kernel;
use crate::hparam::{Check, optimizer_config};
use crate::ops::{Lerp, Prologue, WeightDecay, addcdiv, addcmul, dispatch_flags, step_f64};
use crate::optimizer::check_len;
use crate::{CpuPath, OptimError, UpdateRule};

optimizer_config! {
    /// Hyperparameters of [`NAdam`], with torch's keyword names and defaults (`torch.optim.NAdam`;
    /// pinned by the fixtures' `torch_defaults`).
    pub struct NAdamConfig {
        name: "nadam",
        torch: "NAdam",
        summary: "Adam with Nesterov momentum and a momentum schedule (Dozat 2016)",
        /// learning rate γ
        lr: Float = 2e-3,
        /// decay rates (β₁, β₂) of the first and second moments
        betas: Betas = [0.9, 0.999],
        /// ε added to the denominator
        eps: Float = 1e-8,
        /// weight decay λ: L2 unless decoupled_weight_decay
        weight_decay: Float = 0.0,
        /// momentum decay ψ of the momentum schedule μₜ
        momentum_decay: Float = 4e-3,
        /// decoupled weight decay as in AdamW (NAdamW)
        decoupled_weight_decay: Bool = false,
        /// maximise the objective instead
        maximize: Bool = false,
    }
}

impl NAdamConfig {
    /// torch's checks (`lr >= 0`, betas in `[0, 1)`, `weight_decay >= 0`,
    /// `momentum_decay >= 0`) and `eps > 0`.
    pub fn validate(&self) -> Result<(), OptimError> {
        let c = Check(Self::NAME);
        c.non_negative("lr", self.lr)?;
        c.positive("eps", self.eps)?;
        c.betas(self.betas)?;
        c.non_negative("weight_decay", self.weight_decay)?;
        c.non_negative("momentum_decay", self.momentum_decay)
    }

    /// Validates and builds the rule.
    pub fn build(&self) -> Result<NAdam, OptimError> {
        self.validate()?;
        Ok(NAdam {
            betas: self.betas,
            eps: self.eps,
            weight_decay: WeightDecay::l2_or_decoupled(
                self.weight_decay,
                self.decoupled_weight_decay,
            ),
            momentum_decay: self.momentum_decay,
            maximize: self.maximize,
        })
    }
}

/// NAdam as `torch.optim.NAdam` (`_single_tensor_nadam`). Step t, with the momentum schedule
/// `μₜ = β₁ (1 − ½ · 0.96^(t ψ))` computed in f64:
///
/// ```text
/// g ← −∇f if maximize else ∇f
/// g ← g + λ θ  (L2)            θ ← θ (1 − γ λ)  (decoupled)
/// Πₜ ← Πₜ₋₁ · μₜ                (torch keeps Π as a float32 tensor; so does this)
/// m ← lerp(m, g, 1 − β₁);  v ← β₂ v + (1 − β₂) g²
/// d ← √(v / (1 − β₂ᵗ)) + ε
/// θ ← θ − γ (1 − μₜ) / (1 − Πₜ) · g / d − γ μₜ₊₁ / (1 − Πₜ μₜ₊₁) · m / d
/// ```
///
/// Paper: Dozat (2016), "Incorporating Nesterov Momentum into Adam", ICLR workshop.
#[derive(Clone, Debug, PartialEq)]
pub struct NAdam {
    /// (β₁, β₂).
    pub betas: [f64; 2],
    /// ε of the denominator.
    pub eps: f64,
    /// Weight decay λ and how it enters the update.
    pub weight_decay: WeightDecay,
    /// Momentum decay ψ of the μ schedule.
    pub momentum_decay: f64,
    /// Ascend instead of descend (negate the gradient first).
    pub maximize: bool,
}

/// State of [`NAdam`]: torch's `exp_avg`, `exp_avg_sq` and `mu_product` (a float32 scalar
/// tensor in torch, starting at 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NAdamState {
    /// First moment m (torch's `exp_avg`).
    #[serde(with = "crate::ops::f32_bits")]
    pub exp_avg: Vec<f32>,
    /// Second moment v (torch's `exp_avg_sq`).
    #[serde(with = "crate::ops::f32_bits")]
    pub exp_avg_sq: Vec<f32>,
    /// Product Πₜ of the momentum schedule (float32, as torch's tensor).
    #[serde(with = "crate::ops::f32_bits_scalar")]
    pub mu_product: f32,
}

#[derive(Clone, Copy)]
struct Coeffs {
    pro: Prologue,
    lerp1: Lerp,
    beta2: f32,
    one_minus_beta2: f32,
    bias_correction2: f32,
    eps: f32,
    grad_coeff: f32,
    avg_coeff: f32,
}

#[inline(always)]
fn body<const L2: bool>(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], c: Coeffs) {
    let n = p.len();
    let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
    for i in 0..n {
        let d = c.pro.grad::<L2>(g[i], p[i]);
        let pi = c.pro.decayed(p[i]);
        let mi = c.lerp1.apply(m[i], d);
        let vi = addcmul(v[i] * c.beta2, c.one_minus_beta2, d, d);
        m[i] = mi;
        v[i] = vi;
        let denom = (vi / c.bias_correction2).sqrt() + c.eps;
        let pi = addcdiv(pi, c.grad_coeff, d, denom);
        p[i] = addcdiv(pi, c.avg_coeff, mi, denom);
    }
}

kernel!(fn kernel<const L2: bool>(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], c: Coeffs) => body);

impl NAdam {
    fn step_impl(
        &self,
        p: &mut [f32],
        g: &[f32],
        st: &mut NAdamState,
        step: u64,
        lr: f64,
        path: CpuPath,
    ) {
        let [beta1, beta2] = self.betas;
        let t = step_f64(step);
        let bias_correction2 = 1.0 - libm::pow(beta2, t);
        let mu = beta1 * (1.0 - 0.5 * libm::pow(0.96, t * self.momentum_decay));
        let mu_next = beta1 * (1.0 - 0.5 * libm::pow(0.96, (t + 1.0) * self.momentum_decay));
        st.mu_product *= mu as f32;
        let mu_product = f64::from(st.mu_product);
        let mu_product_next = mu_product * mu_next;
        let c = Coeffs {
            pro: Prologue::new(self.maximize, self.weight_decay, lr),
            lerp1: Lerp::new(1.0 - beta1),
            beta2: beta2 as f32,
            one_minus_beta2: (1.0 - beta2) as f32,
            bias_correction2: bias_correction2 as f32,
            eps: self.eps as f32,
            grad_coeff: (-lr * (1.0 - mu) / (1.0 - mu_product)) as f32,
            avg_coeff: ((-lr * mu_next) / (1.0 - mu_product_next)) as f32,
        };
        let l2 = c.pro.l2();
        let (m, v) = (&mut st.exp_avg, &mut st.exp_avg_sq);
        dispatch_flags!(kernel [] [l2] (path, p, g, m, v, c));
    }
}

impl UpdateRule for NAdam {
    type State = NAdamState;
    const NAME: &'static str = NAdamConfig::NAME;

    fn init_state(&self, n: usize) -> NAdamState {
        NAdamState {
            exp_avg: vec![0.0; n],
            exp_avg_sq: vec![0.0; n],
            mu_product: 1.0,
        }
    }

    fn check_state(&self, state: &NAdamState, n: usize) -> Result<(), OptimError> {
        check_len(Self::NAME, "exp_avg", &state.exp_avg, n)?;
        check_len(Self::NAME, "exp_avg_sq", &state.exp_avg_sq, n)
    }

    fn apply_on(
        &self,
        path: CpuPath,
        params: &mut [f32],
        grads: &[f32],
        state: &mut NAdamState,
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

    /// Dozat's NAdam with torch's momentum schedule, in f64.
    fn reference(p0: &[f32], grads: &[Vec<f32>], lr: f64, wd: f64, decoupled: bool) -> Vec<f64> {
        let (b1, b2, eps, psi) = (0.9f64, 0.999f64, 1e-8, 4e-3);
        let mut p: Vec<f64> = p0.iter().map(|&x| f64::from(x)).collect();
        let (mut m, mut v) = (vec![0.0f64; p.len()], vec![0.0f64; p.len()]);
        let mut prod = 1.0f64;
        for (t, g) in grads.iter().enumerate() {
            let t = (t + 1) as f64;
            let mu = b1 * (1.0 - 0.5 * 0.96f64.powf(t * psi));
            let mu1 = b1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * psi));
            prod *= mu;
            for i in 0..p.len() {
                let mut gi = f64::from(g[i]);
                if decoupled {
                    p[i] *= 1.0 - lr * wd;
                } else {
                    gi += wd * p[i];
                }
                m[i] = b1 * m[i] + (1.0 - b1) * gi;
                v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
                let d = (v[i] / (1.0 - b2.powf(t))).sqrt() + eps;
                p[i] -= lr * (1.0 - mu) / (1.0 - prod) * gi / d
                    + lr * mu1 / (1.0 - prod * mu1) * m[i] / d;
            }
        }
        p
    }

    #[test]
    fn first_step_by_hand() {
        // t = 1: μ₁ = 0.9 (1 − ½·0.96^0.004), Π₁ = μ₁, m = 0.1 g, √v̂ = |g|; with g = 1:
        // θ₁ = 1 − γ (1 − μ₁)/(1 − μ₁) − γ μ₂ · 0.1 / (1 − μ₁ μ₂).
        let mu1 = 0.9 * (1.0 - 0.5 * 0.96f64.powf(0.004));
        let mu2 = 0.9 * (1.0 - 0.5 * 0.96f64.powf(0.008));
        let want =
            1.0 - 0.01 * 1.0 / (1.0 + 1e-8) - 0.01 * mu2 * 0.1 / (1.0 - mu1 * mu2) / (1.0 + 1e-8);
        let p = run(
            NAdamConfig::default().build().unwrap(),
            &[1.0],
            &[&[1.0]],
            0.01,
        );
        assert_close(&p, &[want], 1e-6);
    }

    #[test]
    fn matches_f64_reference() {
        let p0 = values(19, 8, 1.0);
        let grads: Vec<Vec<f32>> = (0..6).map(|s| values(19, 70 + s, 1.0)).collect();
        let refs: Vec<&[f32]> = grads.iter().map(Vec::as_slice).collect();
        for (wd, decoupled) in [(0.0, false), (0.1, false), (0.1, true)] {
            let cfg = NAdamConfig {
                weight_decay: wd,
                decoupled_weight_decay: decoupled,
                ..Default::default()
            };
            let got = run(cfg.build().unwrap(), &p0, &refs, 0.01);
            assert_close(&got, &reference(&p0, &grads, 0.01, wd, decoupled), 2e-5);
        }
    }

    #[test]
    fn mu_product_is_float32_like_torch() {
        let rule = NAdamConfig::default().build().unwrap();
        let mut st = rule.init_state(1);
        let (mut p, g) = (vec![0.0f32], vec![1.0f32]);
        rule.apply(&mut p, &g, &mut st, 1, 1e-3);
        let mu1 = 0.9 * (1.0 - 0.5 * 0.96f64.powf(0.004));
        assert_eq!(st.mu_product.to_bits(), (mu1 as f32).to_bits());
    }
}
