//! Element-wise building blocks that reproduce torch's CPU kernels in float32.
//!
//! torch computes an optimizer step as a sequence of tensor ops (`lerp_`, `addcmul_`, ...). Each
//! helper here is one such op on one element, written exactly as torch's vectorised CPU kernel
//! computes it (`aten/src/ATen/native/cpu/*.cpp`, AVX2 build), so that fusing the ops into one
//! loop changes nothing but speed:
//!
//! * `add(self, other, alpha)` is `fmadd(other, alpha, self)` in torch's vectorised kernel
//!   (`ufunc/add.h`): one rounding, hence [`f32::mul_add`].
//! * `lerp(start, end, w)` is `fmadd(coeff, end - start, base)` with `coeff, base = w, start` when
//!   `|w| < 0.5` and `w - 1, end` otherwise (`LerpKernel.cpp`).
//! * `addcmul(self, t1, t2, value)` is `self + value * t1 * t2` in `PointwiseOpsKernel.cpp`, which
//!   GCC contracts to `fma(value * t1, t2, self)`; `addcdiv` is `self + value * t1 / t2`,
//!   evaluated left to right (no contraction possible).
//!
//! Each choice was checked element by element against torch 2.15 (CPU capability AVX2) on 10⁶
//! random elements: all match exactly.
//!
//! Python-float scalars meet f32 tensors as `f32` (`Scalar::to<float>()`), so callers convert
//! each coefficient once with `as f32` after computing it in f64 as torch does.
//!
//! `mul_add` is correctly rounded on every target (hardware FMA where the dispatched version has
//! it, the libm `fmaf` otherwise), and Rust never contracts `a * b + c` on its own, so every
//! dispatched version of a kernel gives bit-identical results.

/// torch's `self.add(other, alpha=alpha)` for one element: `fma(other, alpha, self)`.
#[inline(always)]
pub(crate) fn add_alpha(this: f32, other: f32, alpha: f32) -> f32 {
    other.mul_add(alpha, this)
}

/// torch's `start.lerp_(end, weight)` with a scalar weight, prepared once per step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lerp {
    coeff: f32,
    small: bool,
}

impl Lerp {
    /// The weight as torch sees it: the Python float rounded to f32.
    pub(crate) fn new(weight: f64) -> Self {
        let w = weight as f32;
        let small = w.abs() < 0.5;
        Self {
            coeff: if small { w } else { w - 1.0 },
            small,
        }
    }

    /// `start + weight * (end - start)`, rounded as torch's vectorised kernel does.
    #[inline(always)]
    pub(crate) fn apply(self, start: f32, end: f32) -> f32 {
        let base = if self.small { start } else { end };
        self.coeff.mul_add(end - start, base)
    }
}

/// torch's `self.addcmul_(t1, t2, value=value)`: `self + (value * t1) * t2`, where the compiler
/// of torch's kernel contracts the outer multiply-add into an FMA (checked against torch 2.15 on
/// AVX2: 100% of 10⁶ elements match `fma(value * t1, t2, self)`, 91% the unfused form).
#[inline(always)]
pub(crate) fn addcmul(this: f32, value: f32, t1: f32, t2: f32) -> f32 {
    (value * t1).mul_add(t2, this)
}

/// torch's `self.addcdiv_(t1, t2, value=value)`: `self + value * t1 / t2`.
#[inline(always)]
pub(crate) fn addcdiv(this: f32, value: f32, t1: f32, t2: f32) -> f32 {
    this + value * t1 / t2
}

/// torch's `torch.maximum`: the larger value, NaN if either is NaN.
#[inline(always)]
pub(crate) fn maximum(a: f32, b: f32) -> f32 {
    if a >= b || a.is_nan() { a } else { b }
}

/// torch's `sign`: 1, -1 or 0 (also 0 for NaN, as `(0 < x) - (x < 0)`).
#[inline(always)]
pub(crate) fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// How weight decay λ enters an update.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WeightDecay {
    /// No weight decay.
    None,
    /// L2 penalty: `g ← g + λ θ` before the moments (torch's `weight_decay` in Adam, SGD, ...).
    L2(f64),
    /// Decoupled (Loshchilov & Hutter, 2019): `θ ← θ (1 − γ λ)` before the update (AdamW).
    Decoupled(f64),
}

impl WeightDecay {
    /// `L2(λ)`, or `None` for λ = 0 (torch skips the addition then).
    pub fn l2(lambda: f64) -> Self {
        if lambda == 0.0 {
            WeightDecay::None
        } else {
            WeightDecay::L2(lambda)
        }
    }

    /// `L2(λ)` or `Decoupled(λ)` as `decoupled` says, `None` for λ = 0.
    pub fn l2_or_decoupled(lambda: f64, decoupled: bool) -> Self {
        match (lambda == 0.0, decoupled) {
            (true, _) => WeightDecay::None,
            (false, false) => WeightDecay::L2(lambda),
            (false, true) => WeightDecay::Decoupled(lambda),
        }
    }
}

/// The start of every rule's element loop, shared by all of them: torch's
///
/// ```text
/// g ← −∇f if maximize else ∇f        grad = -grad if maximize
/// g ← g + λ θ            (L2)        grad = grad.add(param, alpha=weight_decay)
/// θ ← θ (1 − γ λ)        (decoupled) param.mul_(1 - lr * weight_decay)
/// ```
///
/// The factors are prepared once per step (the decoupled factor in f64, then rounded to f32 as
/// torch's Python float is); the element functions are exact (`g · ±1`) or one rounding
/// (`fma(θ, λ, g)`, `θ · (1 − γλ)`), as torch's kernels round them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Prologue {
    sign: f32,
    weight_decay: f32,
    decay: f32,
    l2: bool,
}

impl Prologue {
    /// The prologue of a step with learning rate `lr`.
    pub(crate) fn new(maximize: bool, weight_decay: WeightDecay, lr: f64) -> Self {
        let (l2, decay) = match weight_decay {
            WeightDecay::None => (0.0, 1.0),
            WeightDecay::L2(wd) => (wd, 1.0),
            WeightDecay::Decoupled(wd) => (0.0, 1.0 - lr * wd),
        };
        Self {
            sign: if maximize { -1.0 } else { 1.0 },
            weight_decay: l2 as f32,
            decay: decay as f32,
            l2: matches!(weight_decay, WeightDecay::L2(_)),
        }
    }

    /// Whether the L2 term is added: the `L2` flag of [`Self::grad`], resolved outside the loop.
    pub(crate) fn l2(self) -> bool {
        self.l2
    }

    /// The gradient the rule works with: negated for `maximize`, plus `λ θ` when `L2`
    /// (pass [`Self::l2`]).
    #[inline(always)]
    pub(crate) fn grad<const L2: bool>(self, g: f32, p: f32) -> f32 {
        let d = g * self.sign;
        if L2 {
            add_alpha(d, p, self.weight_decay)
        } else {
            d
        }
    }

    /// The parameter after decoupled weight decay, `θ (1 − γ λ)` (`θ · 1`, exact, otherwise).
    #[inline(always)]
    pub(crate) fn decayed(self, p: f32) -> f32 {
        p * self.decay
    }
}

/// torch's `state['step']` is a float32 tensor; `_get_value(step)` turns it into a Python float.
/// Exact up to 2^24 updates.
#[inline]
pub(crate) fn step_f64(step: u64) -> f64 {
    f64::from(step as f32)
}

/// Calls `$f::<consts...>(args)` with one const `bool` generic per runtime flag, so that every
/// flag is resolved outside the hot loop.
macro_rules! dispatch_flags {
    ($f:ident [$($c:expr),*] [] ($($arg:expr),* $(,)?)) => {
        $f::<$($c),*>($($arg),*)
    };
    ($f:ident [$($c:expr),*] [$b:expr $(, $rest:expr)*] $args:tt) => {
        if $b {
            $crate::ops::dispatch_flags!($f [$($c,)* true] [$($rest),*] $args)
        } else {
            $crate::ops::dispatch_flags!($f [$($c,)* false] [$($rest),*] $args)
        }
    };
}
pub(crate) use dispatch_flags;

/// Serde for `f32` buffers as their IEEE-754 bit patterns (`u32`): exact for every value,
/// including NaN, infinities and `-0.0`, whatever JSON parser reads them back.
pub(crate) mod f32_bits {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &[f32], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|x| x.to_bits()))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
        let bits = Vec::<u32>::deserialize(d)?;
        Ok(bits.into_iter().map(f32::from_bits).collect())
    }
}

/// Same as [`f32_bits`] for one `f32` scalar.
pub(crate) mod f32_bits_scalar {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(v: &f32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(v.to_bits())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
        Ok(f32::from_bits(u32::deserialize(d)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lerp_small_and_large_weights() {
        // w = 0.25: start + 0.25 * (end - start).
        assert_eq!(Lerp::new(0.25).apply(1.0, 5.0).to_bits(), 2.0f32.to_bits());
        // w = 0.75 uses end - (1 - w) * (end - start) = 5 - 0.25 * 4 = 4.
        assert_eq!(Lerp::new(0.75).apply(1.0, 5.0).to_bits(), 4.0f32.to_bits());
        // Endpoints are exact for w = 0 and w = 1.
        assert_eq!(Lerp::new(0.0).apply(0.1, 0.7).to_bits(), 0.1f32.to_bits());
        assert_eq!(Lerp::new(1.0).apply(0.1, 0.7).to_bits(), 0.7f32.to_bits());
    }

    #[test]
    fn add_alpha_rounds_once() {
        // x*x rounded loses its low bits; fma(x, x, -(x*x)) recovers them, a separate
        // multiply and add gives 0.
        let x = 1.0f32 + f32::EPSILON;
        let p = x * x;
        assert_eq!(
            add_alpha(-p, x, x).to_bits(),
            (f32::EPSILON * f32::EPSILON).to_bits()
        );
        assert_eq!((-p + x * x).to_bits(), 0.0f32.to_bits());
    }

    #[test]
    fn maximum_propagates_nan_and_sign_of_nan_is_zero() {
        assert!(maximum(f32::NAN, 1.0).is_nan());
        assert!(maximum(1.0, f32::NAN).is_nan());
        assert_eq!(maximum(2.0, 1.0).to_bits(), 2.0f32.to_bits());
        assert_eq!(maximum(1.0, 2.0).to_bits(), 2.0f32.to_bits());
        assert_eq!(sign(f32::NAN).to_bits(), 0.0f32.to_bits());
        assert_eq!(sign(-3.0).to_bits(), (-1.0f32).to_bits());
        assert_eq!(sign(0.5).to_bits(), 1.0f32.to_bits());
        assert_eq!(sign(-0.0).to_bits(), 0.0f32.to_bits());
    }

    #[test]
    fn step_is_a_float32_counter() {
        assert_eq!(step_f64(3).to_bits(), 3.0f64.to_bits());
        assert_eq!(step_f64((1 << 24) + 1).to_bits(), 16_777_216.0f64.to_bits());
    }
}
