//! RMSprop (Hinton, 2012), optionally centered (Graves, 2013) and with momentum —
//! `torch.optim.RMSprop`.

use serde::{Deserialize, Serialize};

use crate::cpu::kernel;
use crate::hparam::{Check, optimizer_config};
use crate::ops::{Lerp, Prologue, WeightDecay, add_alpha, addcdiv, addcmul, dispatch_flags};
use crate::optimizer::check_len;
use crate::{CpuPath, OptimError, UpdateRule};

optimizer_config! {
    /// Hyperparameters of [`RmsProp`], with torch's keyword names and defaults
    /// (`torch.optim.RMSprop`; pinned by the fixtures' `torch_defaults`).
    pub struct RmsPropConfig {
        name: "rmsprop",
        torch: "RMSprop",
        summary: "divide by a running RMS of the gradient, optionally centered, with momentum (Hinton 2012; Graves 2013)",
        /// learning rate γ
        lr: Float = 1e-2,
        /// smoothing constant α of the running averages
        alpha: Float = 0.99,
        /// ε added to the denominator, outside the square root
        eps: Float = 1e-8,
        /// L2 penalty λ added to the gradient
        weight_decay: Float = 0.0,
        /// momentum factor μ (0: no momentum buffer)
        momentum: Float = 0.0,
        /// centered RMSprop: normalise by an estimate of the variance
        centered: Bool = false,
        /// maximise the objective instead
        maximize: Bool = false,
    }
}

impl RmsPropConfig {
    /// torch's checks (`lr`, `momentum`, `weight_decay`, `alpha` >= 0) and `eps > 0`.
    pub fn validate(&self) -> Result<(), OptimError> {
        let c = Check(Self::NAME);
        c.non_negative("lr", self.lr)?;
        c.positive("eps", self.eps)?;
        c.non_negative("momentum", self.momentum)?;
        c.non_negative("weight_decay", self.weight_decay)?;
        c.non_negative("alpha", self.alpha)
    }

    /// Validates and builds the rule.
    pub fn build(&self) -> Result<RmsProp, OptimError> {
        self.validate()?;
        Ok(RmsProp {
            alpha: self.alpha,
            eps: self.eps,
            weight_decay: self.weight_decay,
            momentum: self.momentum,
            centered: self.centered,
            maximize: self.maximize,
        })
    }
}

/// RMSprop as `torch.optim.RMSprop` (`_single_tensor_rmsprop`). One step:
///
/// ```text
/// g ← −∇f if maximize else ∇f
/// g ← g + λ θ                          (weight_decay λ ≠ 0)
/// v ← α v + (1 − α) g²
/// if centered: ḡ ← lerp(ḡ, g, 1 − α);  d ← √(v − ḡ²) + ε
/// else:        d ← √v + ε
/// if μ > 0:    b ← μ b + g / d;  θ ← θ − γ b
/// else:        θ ← θ − γ g / d
/// ```
///
/// Source: Hinton, Srivastava & Swersky (2012), "Neural Networks for Machine Learning",
/// lecture 6e; centered form: Graves (2013), "Generating Sequences With Recurrent Neural
/// Networks".
#[derive(Clone, Debug, PartialEq)]
pub struct RmsProp {
    /// Smoothing constant α.
    pub alpha: f64,
    /// ε of the denominator.
    pub eps: f64,
    /// L2 penalty λ added to the gradient (0: none).
    pub weight_decay: f64,
    /// Momentum factor μ (0: none).
    pub momentum: f64,
    /// Normalise by the estimated variance instead of the second moment.
    pub centered: bool,
    /// Ascend instead of descend (negate the gradient first).
    pub maximize: bool,
}

/// State of [`RmsProp`]: torch's `square_avg`, `momentum_buffer` (empty without momentum) and
/// `grad_avg` (empty unless centered).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RmsPropState {
    /// Running average of squared gradients v.
    #[serde(with = "crate::ops::f32_bits")]
    pub square_avg: Vec<f32>,
    /// Momentum buffer b (empty without momentum).
    #[serde(with = "crate::ops::f32_bits")]
    pub momentum_buffer: Vec<f32>,
    /// Running average of gradients ḡ (centered only, else empty).
    #[serde(with = "crate::ops::f32_bits")]
    pub grad_avg: Vec<f32>,
}

#[derive(Clone, Copy)]
struct Coeffs {
    pro: Prologue,
    alpha: f32,
    one_minus_alpha: f32,
    lerp: Lerp,
    eps: f32,
    momentum: f32,
    neg_lr: f32,
}

/// One fused loop of [`RmsProp`]; `ga` is used (and has `p.len()` elements) only if
/// `CENTERED`, `b` only if `MOMENTUM`.
#[inline(always)]
fn body<const L2: bool, const CENTERED: bool, const MOMENTUM: bool>(
    p: &mut [f32],
    g: &[f32],
    v: &mut [f32],
    ga: &mut [f32],
    b: &mut [f32],
    c: Coeffs,
) {
    let n = p.len();
    let (g, v) = (&g[..n], &mut v[..n]);
    let ga = &mut ga[..if CENTERED { n } else { 0 }];
    let b = &mut b[..if MOMENTUM { n } else { 0 }];
    for i in 0..n {
        let d = c.pro.grad::<L2>(g[i], p[i]);
        let vi = addcmul(v[i] * c.alpha, c.one_minus_alpha, d, d);
        v[i] = vi;
        let avg = if CENTERED {
            let gai = c.lerp.apply(ga[i], d);
            ga[i] = gai;
            addcmul(vi, -1.0, gai, gai).sqrt() + c.eps
        } else {
            vi.sqrt() + c.eps
        };
        if MOMENTUM {
            let bi = addcdiv(b[i] * c.momentum, 1.0, d, avg);
            b[i] = bi;
            p[i] = add_alpha(p[i], bi, c.neg_lr);
        } else {
            p[i] = addcdiv(p[i], c.neg_lr, d, avg);
        }
    }
}

kernel!(
    fn kernel<const L2: bool, const CENTERED: bool, const MOMENTUM: bool>(
        p: &mut [f32],
        g: &[f32],
        v: &mut [f32],
        ga: &mut [f32],
        b: &mut [f32],
        c: Coeffs,
    ) => body
);

impl RmsProp {
    fn step_impl(&self, p: &mut [f32], g: &[f32], st: &mut RmsPropState, lr: f64, path: CpuPath) {
        let c = Coeffs {
            pro: Prologue::new(self.maximize, WeightDecay::l2(self.weight_decay), lr),
            alpha: self.alpha as f32,
            one_minus_alpha: (1.0 - self.alpha) as f32,
            lerp: Lerp::new(1.0 - self.alpha),
            eps: self.eps as f32,
            momentum: self.momentum as f32,
            neg_lr: (-lr) as f32,
        };
        let l2 = c.pro.l2();
        let momentum = self.momentum > 0.0;
        let RmsPropState {
            square_avg: v,
            momentum_buffer: b,
            grad_avg: ga,
        } = st;
        let centered = self.centered;
        dispatch_flags!(kernel [] [l2, centered, momentum] (path, p, g, v, ga, b, c));
    }
}

impl UpdateRule for RmsProp {
    type State = RmsPropState;
    const NAME: &'static str = RmsPropConfig::NAME;

    fn init_state(&self, n: usize) -> RmsPropState {
        RmsPropState {
            square_avg: vec![0.0; n],
            momentum_buffer: vec![0.0; if self.momentum > 0.0 { n } else { 0 }],
            grad_avg: vec![0.0; if self.centered { n } else { 0 }],
        }
    }

    fn check_state(&self, state: &RmsPropState, n: usize) -> Result<(), OptimError> {
        check_len(Self::NAME, "square_avg", &state.square_avg, n)?;
        let m = if self.momentum > 0.0 { n } else { 0 };
        check_len(Self::NAME, "momentum_buffer", &state.momentum_buffer, m)?;
        check_len(
            Self::NAME,
            "grad_avg",
            &state.grad_avg,
            if self.centered { n } else { 0 },
        )
    }

    fn apply_on(
        &self,
        path: CpuPath,
        params: &mut [f32],
        grads: &[f32],
        state: &mut RmsPropState,
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
        // v₁ = 0.01·g² → √v₁ = 0.1|g|; θ₁ = θ₀ − γ g / (0.1|g| + ε) ≈ θ₀ − 10 γ sign(g).
        let rule = RmsPropConfig::default().build().unwrap();
        let p = run(rule, &[1.0, 1.0], &[&[0.5, -4.0]], 0.01);
        assert_close(
            &p,
            &[
                1.0 - 0.01 * 0.5 / (0.05 + 1e-8),
                1.0 + 0.01 * 4.0 / (0.4 + 1e-8),
            ],
            1e-6,
        );
        // Centered: ḡ₁ = 0.01 g, v₁ − ḡ₁² = 0.01 g² − 1e-4 g² = 0.0099 g².
        let cfg = RmsPropConfig {
            centered: true,
            ..Default::default()
        };
        let p = run(cfg.build().unwrap(), &[1.0], &[&[0.5]], 0.01);
        assert_close(
            &p,
            &[1.0 - 0.01 * 0.5 / ((0.0099f64 * 0.25).sqrt() + 1e-8)],
            1e-6,
        );
    }

    #[test]
    fn matches_f64_reference_all_options() {
        let p0 = values(31, 7, 1.0);
        let grads: Vec<Vec<f32>> = (0..6).map(|s| values(31, 60 + s, 1.0)).collect();
        let refs: Vec<&[f32]> = grads.iter().map(Vec::as_slice).collect();
        for (centered, momentum) in [(false, 0.0), (false, 0.9), (true, 0.0), (true, 0.9)] {
            let cfg = RmsPropConfig {
                centered,
                momentum,
                weight_decay: 0.1,
                alpha: 0.9,
                ..Default::default()
            };
            let got = run(cfg.build().unwrap(), &p0, &refs, 0.01);
            let mut p: Vec<f64> = p0.iter().map(|&x| f64::from(x)).collect();
            let (mut v, mut ga, mut b) = (
                vec![0.0f64; p.len()],
                vec![0.0f64; p.len()],
                vec![0.0f64; p.len()],
            );
            for g in &grads {
                for i in 0..p.len() {
                    let gi = f64::from(g[i]) + 0.1 * p[i];
                    v[i] = 0.9 * v[i] + 0.1 * gi * gi;
                    ga[i] = 0.9 * ga[i] + 0.1 * gi;
                    let var = if centered { v[i] - ga[i] * ga[i] } else { v[i] };
                    let avg = var.sqrt() + 1e-8;
                    if momentum > 0.0 {
                        b[i] = momentum * b[i] + gi / avg;
                        p[i] -= 0.01 * b[i];
                    } else {
                        p[i] -= 0.01 * gi / avg;
                    }
                }
            }
            assert_close(&got, &p, 5e-5);
        }
    }
}
