//! Adam (Kingma & Ba, 2015) with optional AMSGrad — `torch.optim.Adam`.

use serde::{Deserialize, Serialize};

use crate::cpu::kernel;
use crate::hparam::{Check, optimizer_config};
pub use crate::ops::WeightDecay;
use crate::ops::{Lerp, Prologue, addcdiv, addcmul, dispatch_flags, maximum, step_f64};
use crate::optimizer::check_len;
use crate::{CpuPath, OptimError, UpdateRule};

optimizer_config! {
    /// Hyperparameters of [`Adam`], with torch's keyword names and defaults (`torch.optim.Adam`;
    /// pinned by the fixtures' `torch_defaults`).
    pub struct AdamConfig {
        name: "adam",
        torch: "Adam",
        summary: "bias-corrected first and second moment estimates, optional AMSGrad (Kingma & Ba 2015; Reddi et al. 2018)",
        /// learning rate γ
        lr: Float = 1e-3,
        /// decay rates (β₁, β₂) of the first and second moments
        betas: Betas = [0.9, 0.999],
        /// ε added to the denominator, outside the square root
        eps: Float = 1e-8,
        /// L2 penalty λ added to the gradient (decoupled decay: use adamw)
        weight_decay: Float = 0.0,
        /// AMSGrad (Reddi et al. 2018): normalise by the running maximum of v
        amsgrad: Bool = false,
        /// maximise the objective instead
        maximize: Bool = false,
    }
}

/// torch's checks for Adam/AdamW (plus `eps > 0` and finiteness).
pub(crate) fn check_adam(
    name: &'static str,
    lr: f64,
    betas: [f64; 2],
    eps: f64,
    wd: f64,
) -> Result<(), OptimError> {
    let c = Check(name);
    c.non_negative("lr", lr)?;
    c.positive("eps", eps)?;
    c.betas(betas)?;
    c.non_negative("weight_decay", wd)
}

impl AdamConfig {
    /// `lr >= 0`, `eps > 0`, betas in `[0, 1)`, `weight_decay >= 0`.
    pub fn validate(&self) -> Result<(), OptimError> {
        check_adam(Self::NAME, self.lr, self.betas, self.eps, self.weight_decay)
    }

    /// Validates and builds the rule.
    pub fn build(&self) -> Result<Adam, OptimError> {
        self.validate()?;
        Ok(Adam {
            betas: self.betas,
            eps: self.eps,
            weight_decay: WeightDecay::l2(self.weight_decay),
            amsgrad: self.amsgrad,
            maximize: self.maximize,
        })
    }
}

/// Adam as `torch.optim.Adam` (`_single_tensor_adam`); AdamW is the same rule with
/// [`WeightDecay::Decoupled`]. One step t (1 for the first):
///
/// ```text
/// g ← −∇f if maximize else ∇f
/// g ← g + λ θ                         (L2)           θ ← θ (1 − γ λ)   (decoupled)
/// m ← lerp(m, g, 1 − β₁)              (= β₁ m + (1 − β₁) g)
/// v ← β₂ v + (1 − β₂) g²
/// v̂ ← max(v̂, v) if amsgrad, else v
/// θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v̂ / √(1 − β₂ᵗ) + ε)
/// ```
///
/// Paper: Kingma & Ba (2015), "Adam: A Method for Stochastic Optimization"; AMSGrad: Reddi,
/// Kale & Kumar (2018), "On the Convergence of Adam and Beyond".
#[derive(Clone, Debug, PartialEq)]
pub struct Adam {
    /// (β₁, β₂).
    pub betas: [f64; 2],
    /// ε of the denominator.
    pub eps: f64,
    /// Weight decay λ and how it enters the update.
    pub weight_decay: WeightDecay,
    /// AMSGrad: normalise by the running maximum of the second moment.
    pub amsgrad: bool,
    /// Ascend instead of descend (negate the gradient first).
    pub maximize: bool,
}

/// State of [`Adam`] and [`crate::AdamW`]: torch's `exp_avg`, `exp_avg_sq` and
/// `max_exp_avg_sq` (empty without AMSGrad).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdamState {
    /// First moment m (torch's `exp_avg`).
    #[serde(with = "crate::ops::f32_bits")]
    pub exp_avg: Vec<f32>,
    /// Second moment v (torch's `exp_avg_sq`).
    #[serde(with = "crate::ops::f32_bits")]
    pub exp_avg_sq: Vec<f32>,
    /// Running maximum of v (AMSGrad only, else empty).
    #[serde(with = "crate::ops::f32_bits")]
    pub max_exp_avg_sq: Vec<f32>,
}

#[derive(Clone, Copy)]
struct Coeffs {
    pro: Prologue,
    lerp1: Lerp,
    beta2: f32,
    one_minus_beta2: f32,
    bc2_sqrt: f32,
    eps: f32,
    neg_step_size: f32,
}

/// One fused loop of [`Adam`]; `vmax` is used (and has `p.len()` elements) only if `AMS`.
#[inline(always)]
fn body<const L2: bool, const AMS: bool>(
    p: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    vmax: &mut [f32],
    c: Coeffs,
) {
    let n = p.len();
    let (g, m, v) = (&g[..n], &mut m[..n], &mut v[..n]);
    let vmax = &mut vmax[..if AMS { n } else { 0 }];
    for i in 0..n {
        let d = c.pro.grad::<L2>(g[i], p[i]);
        let pi = c.pro.decayed(p[i]);
        let mi = c.lerp1.apply(m[i], d);
        let vi = addcmul(v[i] * c.beta2, c.one_minus_beta2, d, d);
        m[i] = mi;
        v[i] = vi;
        let second = if AMS {
            let vm = maximum(vmax[i], vi);
            vmax[i] = vm;
            vm
        } else {
            vi
        };
        let denom = second.sqrt() / c.bc2_sqrt + c.eps;
        p[i] = addcdiv(pi, c.neg_step_size, mi, denom);
    }
}

kernel!(
    fn kernel<const L2: bool, const AMS: bool>(
        p: &mut [f32],
        g: &[f32],
        m: &mut [f32],
        v: &mut [f32],
        vmax: &mut [f32],
        c: Coeffs,
    ) => body
);

impl Adam {
    fn coeffs(&self, step: u64, lr: f64) -> Coeffs {
        let [beta1, beta2] = self.betas;
        let t = step_f64(step);
        let bias_correction1 = 1.0 - libm::pow(beta1, t);
        let bias_correction2 = 1.0 - libm::pow(beta2, t);
        let step_size = lr / bias_correction1;
        Coeffs {
            pro: Prologue::new(self.maximize, self.weight_decay, lr),
            lerp1: Lerp::new(1.0 - beta1),
            beta2: beta2 as f32,
            one_minus_beta2: (1.0 - beta2) as f32,
            bc2_sqrt: bias_correction2.sqrt() as f32,
            eps: self.eps as f32,
            neg_step_size: (-step_size) as f32,
        }
    }

    pub(crate) fn step_impl(
        &self,
        p: &mut [f32],
        g: &[f32],
        st: &mut AdamState,
        step: u64,
        lr: f64,
        path: CpuPath,
    ) {
        let c = self.coeffs(step, lr);
        let l2 = c.pro.l2();
        let (m, v, vmax) = (&mut st.exp_avg, &mut st.exp_avg_sq, &mut st.max_exp_avg_sq);
        let ams = self.amsgrad;
        dispatch_flags!(kernel [] [l2, ams] (path, p, g, m, v, vmax, c));
    }

    pub(crate) fn new_state(&self, n: usize) -> AdamState {
        AdamState {
            exp_avg: vec![0.0; n],
            exp_avg_sq: vec![0.0; n],
            max_exp_avg_sq: vec![0.0; if self.amsgrad { n } else { 0 }],
        }
    }

    pub(crate) fn check(
        &self,
        name: &'static str,
        st: &AdamState,
        n: usize,
    ) -> Result<(), OptimError> {
        check_len(name, "exp_avg", &st.exp_avg, n)?;
        check_len(name, "exp_avg_sq", &st.exp_avg_sq, n)?;
        check_len(
            name,
            "max_exp_avg_sq",
            &st.max_exp_avg_sq,
            if self.amsgrad { n } else { 0 },
        )
    }
}

impl UpdateRule for Adam {
    type State = AdamState;
    const NAME: &'static str = AdamConfig::NAME;

    fn init_state(&self, n: usize) -> AdamState {
        self.new_state(n)
    }

    fn check_state(&self, state: &AdamState, n: usize) -> Result<(), OptimError> {
        self.check(Self::NAME, state, n)
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
        self.step_impl(params, grads, state, step, lr, path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{assert_close, run, values};

    /// Textbook Adam/AdamW in f64 (Kingma & Ba, Algorithm 1, with torch's ε placement).
    fn reference(
        p0: &[f32],
        grads: &[Vec<f32>],
        lr: f64,
        wd: f64,
        decoupled: bool,
        ams: bool,
    ) -> Vec<f64> {
        let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
        let mut p: Vec<f64> = p0.iter().map(|&x| f64::from(x)).collect();
        let (mut m, mut v, mut vmax) = (
            vec![0.0; p.len()],
            vec![0.0; p.len()],
            vec![0.0f64; p.len()],
        );
        for (t, g) in grads.iter().enumerate() {
            let t = (t + 1) as i32;
            for i in 0..p.len() {
                let mut gi = f64::from(g[i]);
                if decoupled {
                    p[i] *= 1.0 - lr * wd;
                } else {
                    gi += wd * p[i];
                }
                m[i] = b1 * m[i] + (1.0 - b1) * gi;
                v[i] = b2 * v[i] + (1.0 - b2) * gi * gi;
                vmax[i] = vmax[i].max(v[i]);
                let vv = if ams { vmax[i] } else { v[i] };
                let mhat = m[i] / (1.0 - b1.powi(t));
                p[i] -= lr * mhat / ((vv / (1.0 - b2.powi(t))).sqrt() + eps);
            }
        }
        p
    }

    #[test]
    fn first_step_by_hand() {
        // Step 1: m̂ = g, v̂ = g², so θ₁ = θ₀ − γ g / (|g| + ε) ≈ θ₀ − γ sign(g).
        let adam = AdamConfig::default().build().unwrap();
        let p = run(adam, &[1.0, -3.0, 0.0], &[&[0.5, -2.0, 1e-3]], 0.1);
        assert_close(&p, &[0.9, -2.9, -0.1 * 1e-3 / (1e-3 + 1e-8)], 1e-6);
    }

    #[test]
    fn matches_f64_reference_over_steps() {
        let p0 = values(37, 1, 1.0);
        let grads: Vec<Vec<f32>> = (0..6).map(|s| values(37, 10 + s, 1.0)).collect();
        let refs: Vec<&[f32]> = grads.iter().map(Vec::as_slice).collect();
        for (wd, ams) in [(0.0, false), (0.1, false), (0.0, true), (0.05, true)] {
            let hp = AdamConfig {
                weight_decay: wd,
                amsgrad: ams,
                ..Default::default()
            };
            let got = run(hp.build().unwrap(), &p0, &refs, 0.01);
            assert_close(&got, &reference(&p0, &grads, 0.01, wd, false, ams), 2e-5);
        }
        // maximize: the same as minimising with −g.
        let neg: Vec<Vec<f32>> = grads
            .iter()
            .map(|g| g.iter().map(|x| -x).collect())
            .collect();
        let hp = AdamConfig {
            maximize: true,
            ..Default::default()
        };
        assert_close(
            &run(hp.build().unwrap(), &p0, &refs, 0.01),
            &reference(&p0, &neg, 0.01, 0.0, false, false),
            2e-5,
        );
    }

    #[test]
    fn adamw_matches_f64_reference() {
        let p0 = values(21, 3, 1.0);
        let grads: Vec<Vec<f32>> = (0..5).map(|s| values(21, 20 + s, 1.0)).collect();
        let refs: Vec<&[f32]> = grads.iter().map(Vec::as_slice).collect();
        let cfg = crate::AdamWConfig {
            weight_decay: 0.1,
            ..Default::default()
        };
        let got = run(cfg.build().unwrap(), &p0, &refs, 0.01);
        assert_close(&got, &reference(&p0, &grads, 0.01, 0.1, true, false), 2e-5);
    }
}
