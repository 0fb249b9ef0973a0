//! Stochastic gradient descent with optional (Nesterov) momentum — `torch.optim.SGD`.

use serde::{Deserialize, Serialize};

use crate::cpu::kernel;
use crate::hparam::{Check, optimizer_config};
use crate::ops::{Prologue, WeightDecay, add_alpha, dispatch_flags};
use crate::{CpuPath, OptimError, UpdateRule};

optimizer_config! {
    /// Hyperparameters of [`Sgd`], with torch's keyword names and defaults (`torch.optim.SGD`,
    /// torch ≥ 2.2; pinned by the fixtures' `torch_defaults`).
    ///
    /// GD, SGD and mini-batch SGD are all this optimizer: the training loop decides the batch.
    pub struct SgdConfig {
        name: "sgd",
        torch: "SGD",
        summary: "stochastic gradient descent with optional (Nesterov) momentum (Robbins & Monro 1951; Sutskever et al. 2013)",
        /// learning rate γ
        lr: Float = 1e-3,
        /// momentum factor μ (0: plain SGD, no momentum buffer)
        momentum: Float = 0.0,
        /// dampening τ of the momentum
        dampening: Float = 0.0,
        /// L2 penalty λ added to the gradient
        weight_decay: Float = 0.0,
        /// Nesterov momentum (needs momentum > 0 and dampening = 0)
        nesterov: Bool = false,
        /// maximise the objective instead
        maximize: Bool = false,
    }
}

impl SgdConfig {
    /// torch's checks (`lr >= 0`, `momentum >= 0`, `weight_decay >= 0`, Nesterov needs
    /// `momentum > 0` and `dampening == 0`), plus finiteness.
    pub fn validate(&self) -> Result<(), OptimError> {
        let c = Check(Self::NAME);
        c.non_negative("lr", self.lr)?;
        c.non_negative("momentum", self.momentum)?;
        c.finite("dampening", self.dampening)?;
        c.non_negative("weight_decay", self.weight_decay)?;
        if self.nesterov {
            if self.momentum <= 0.0 {
                return Err(OptimError::InvalidHyperparameter {
                    optimizer: Self::NAME,
                    name: "momentum",
                    value: format!("{}", self.momentum),
                    allowed: "> 0 when nesterov = true",
                });
            }
            if self.dampening != 0.0 {
                return Err(OptimError::InvalidHyperparameter {
                    optimizer: Self::NAME,
                    name: "dampening",
                    value: format!("{}", self.dampening),
                    allowed: "0 when nesterov = true",
                });
            }
        }
        Ok(())
    }

    /// Validates and builds the rule.
    pub fn build(&self) -> Result<Sgd, OptimError> {
        self.validate()?;
        let momentum = if self.momentum == 0.0 {
            Momentum::None
        } else if self.nesterov {
            Momentum::Nesterov {
                momentum: self.momentum,
            }
        } else {
            Momentum::Classic {
                momentum: self.momentum,
                dampening: self.dampening,
            }
        };
        Ok(Sgd {
            momentum,
            weight_decay: self.weight_decay,
            maximize: self.maximize,
        })
    }
}

/// The momentum variant of [`Sgd`]; Nesterov without momentum or with dampening cannot be
/// written down.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Momentum {
    /// Plain (stochastic) gradient descent.
    None,
    /// Heavy ball: `b ← μ b + (1 − τ) g` (`b ← g` at the first step), update with `b`.
    Classic {
        /// Momentum factor μ > 0.
        momentum: f64,
        /// Dampening τ.
        dampening: f64,
    },
    /// Nesterov: `b ← μ b + g` (`b ← g` at the first step), update with `g + μ b`.
    Nesterov {
        /// Momentum factor μ > 0.
        momentum: f64,
    },
}

/// SGD as `torch.optim.SGD` (`_single_tensor_sgd`), one step:
///
/// ```text
/// g ← −∇f if maximize else ∇f
/// g ← g + λ θ                                 (weight_decay λ ≠ 0)
/// b ← g at t = 1, else b ← μ b + (1 − τ) g    (momentum μ ≠ 0)
/// g ← g + μ b if nesterov else b              (momentum μ ≠ 0)
/// θ ← θ − γ g
/// ```
///
/// torch's momentum differs from Sutskever et al. (2013), "On the importance of initialization
/// and momentum in deep learning": the learning rate multiplies the buffer, not the gradient.
#[derive(Clone, Debug, PartialEq)]
pub struct Sgd {
    /// Momentum factor μ (0: none).
    pub momentum: Momentum,
    /// L2 penalty λ added to the gradient (0: none).
    pub weight_decay: f64,
    /// Ascend instead of descend (negate the gradient first).
    pub maximize: bool,
}

/// State of [`Sgd`]: torch's `momentum_buffer` (empty without momentum).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SgdState {
    /// Momentum buffer b (empty without momentum).
    #[serde(with = "crate::ops::f32_bits")]
    pub momentum_buffer: Vec<f32>,
}

#[derive(Clone, Copy)]
struct Coeffs {
    pro: Prologue,
    neg_lr: f32,
    momentum: f32,
    one_minus_dampening: f32,
}

#[inline(always)]
fn plain_body<const L2: bool>(p: &mut [f32], g: &[f32], c: Coeffs) {
    let g = &g[..p.len()];
    for (p, &g) in p.iter_mut().zip(g) {
        let d = c.pro.grad::<L2>(g, *p);
        *p = add_alpha(*p, d, c.neg_lr);
    }
}

#[inline(always)]
fn momentum_body<const L2: bool, const FIRST: bool, const NESTEROV: bool>(
    p: &mut [f32],
    g: &[f32],
    buf: &mut [f32],
    c: Coeffs,
) {
    let n = p.len();
    let (g, buf) = (&g[..n], &mut buf[..n]);
    for ((p, &g), b) in p.iter_mut().zip(g).zip(buf.iter_mut()) {
        let d = c.pro.grad::<L2>(g, *p);
        let nb = if FIRST {
            d
        } else {
            add_alpha(*b * c.momentum, d, c.one_minus_dampening)
        };
        *b = nb;
        let u = if NESTEROV {
            add_alpha(d, nb, c.momentum)
        } else {
            nb
        };
        *p = add_alpha(*p, u, c.neg_lr);
    }
}

kernel!(fn plain_kernel<const L2: bool>(p: &mut [f32], g: &[f32], c: Coeffs) => plain_body);

kernel!(
    fn momentum_kernel<const L2: bool, const FIRST: bool, const NESTEROV: bool>(
        p: &mut [f32],
        g: &[f32],
        buf: &mut [f32],
        c: Coeffs,
    ) => momentum_body
);

impl Sgd {
    fn coeffs(&self, lr: f64) -> Coeffs {
        let weight_decay = WeightDecay::l2(self.weight_decay);
        let (momentum, dampening) = match self.momentum {
            Momentum::None => (0.0, 0.0),
            Momentum::Classic {
                momentum,
                dampening,
            } => (momentum, dampening),
            Momentum::Nesterov { momentum } => (momentum, 0.0),
        };
        Coeffs {
            pro: Prologue::new(self.maximize, weight_decay, lr),
            neg_lr: (-lr) as f32,
            momentum: momentum as f32,
            one_minus_dampening: (1.0 - dampening) as f32,
        }
    }

    fn step_impl(
        &self,
        p: &mut [f32],
        g: &[f32],
        st: &mut SgdState,
        step: u64,
        lr: f64,
        path: CpuPath,
    ) {
        let c = self.coeffs(lr);
        let l2 = c.pro.l2();
        let first = step <= 1;
        if self.momentum == Momentum::None {
            dispatch_flags!(plain_kernel [] [l2] (path, p, g, c));
        } else {
            let nesterov = matches!(self.momentum, Momentum::Nesterov { .. });
            let b = &mut st.momentum_buffer;
            dispatch_flags!(momentum_kernel [] [l2, first, nesterov] (path, p, g, b, c));
        }
    }
}

impl UpdateRule for Sgd {
    type State = SgdState;
    const NAME: &'static str = SgdConfig::NAME;

    fn init_state(&self, n: usize) -> SgdState {
        let len = if self.momentum == Momentum::None {
            0
        } else {
            n
        };
        SgdState {
            momentum_buffer: vec![0.0; len],
        }
    }

    fn check_state(&self, state: &SgdState, n: usize) -> Result<(), OptimError> {
        crate::optimizer::check_len(
            Self::NAME,
            "momentum_buffer",
            &state.momentum_buffer,
            self.init_state(n).momentum_buffer.len(),
        )
    }

    fn apply_on(
        &self,
        path: CpuPath,
        params: &mut [f32],
        grads: &[f32],
        state: &mut SgdState,
        step: u64,
        lr: f64,
    ) {
        self.step_impl(params, grads, state, step, lr, path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{assert_close, invalid_name, run};

    fn sgd(hp: SgdConfig) -> Sgd {
        hp.build().unwrap()
    }

    #[test]
    fn plain_step_by_hand() {
        // θ − γ g: 1 − 0.1·0.5 = 0.95, −2 − 0.1·(−0.25) = −1.975.
        let p = run(
            sgd(SgdConfig::default()),
            &[1.0, -2.0],
            &[&[0.5, -0.25]],
            0.1,
        );
        assert_close(&p, &[0.95, -1.975], 1e-7);
        // maximize ascends: 1 + 0.1·0.5.
        let hp = SgdConfig {
            maximize: true,
            ..Default::default()
        };
        assert_close(&run(sgd(hp), &[1.0], &[&[0.5]], 0.1), &[1.05], 1e-7);
        // weight decay: g + λθ = 1 + 0.1·1 = 1.1 → 1 − 0.11.
        let hp = SgdConfig {
            weight_decay: 0.1,
            ..Default::default()
        };
        assert_close(&run(sgd(hp), &[1.0], &[&[1.0]], 0.1), &[0.89], 1e-7);
    }

    #[test]
    fn momentum_two_steps_by_hand() {
        let g: [&[f32]; 2] = [&[1.0], &[0.5]];
        // b₁ = g₁ = 1, θ₁ = 0.9; b₂ = 0.9 + 0.5 = 1.4, θ₂ = 0.9 − 0.14.
        let hp = SgdConfig {
            momentum: 0.9,
            ..Default::default()
        };
        assert_close(&run(sgd(hp), &[1.0], &g, 0.1), &[0.76], 1e-6);
        // Dampening only from the second step: b₂ = 0.9 + 0.5·0.5 = 1.15.
        let hp = SgdConfig {
            momentum: 0.9,
            dampening: 0.5,
            ..Default::default()
        };
        assert_close(&run(sgd(hp), &[1.0], &g, 0.1), &[0.785], 1e-6);
        // Nesterov: step 1 uses g + μ b = 1.9 → 0.81; step 2: b = 1.4, 0.5 + 1.26 = 1.76.
        let hp = SgdConfig {
            momentum: 0.9,
            nesterov: true,
            ..Default::default()
        };
        assert_close(&run(sgd(hp), &[1.0], &g, 0.1), &[0.634], 1e-6);
    }

    /// SGD's own rules (the plain range checks of every optimizer are in config.rs): NaN fails
    /// every check, and Nesterov needs momentum and no dampening.
    #[test]
    fn nesterov_and_nan_are_rejected() {
        let bad = |hp: SgdConfig| invalid_name(hp.validate().unwrap_err());
        let nan = SgdConfig {
            dampening: f64::NAN,
            ..Default::default()
        };
        assert_eq!(bad(nan), "dampening");
        let without_momentum = SgdConfig {
            nesterov: true,
            ..Default::default()
        };
        assert_eq!(bad(without_momentum), "momentum");
        let dampened = SgdConfig {
            nesterov: true,
            momentum: 0.9,
            dampening: 0.1,
            ..Default::default()
        };
        assert_eq!(bad(dampened), "dampening");
        let e = SgdConfig {
            lr: -0.1,
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid sgd hyperparameter `lr` = -0.1: must be >= 0 and finite"
        );
    }

    #[test]
    fn invalid_combinations_are_unrepresentable() {
        let hp = SgdConfig {
            momentum: 0.9,
            nesterov: true,
            ..Default::default()
        };
        assert_eq!(sgd(hp).momentum, Momentum::Nesterov { momentum: 0.9 });
        assert_eq!(sgd(SgdConfig::default()).momentum, Momentum::None);
        assert!(
            sgd(SgdConfig::default())
                .init_state(5)
                .momentum_buffer
                .is_empty()
        );
    }
}
