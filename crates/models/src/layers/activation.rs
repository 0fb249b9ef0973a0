//! Element-wise activations, PyTorch's `nn.ReLU`, `nn.Tanh`, `nn.Sigmoid`, `nn.GELU()`
//! (exact, erf form) and `nn.GELU(approximate="tanh")` (Hendrycks & Gimpel 2016, "Gaussian
//! Error Linear Units"; the tanh form is GPT-2's):
//!
//! | name | f(z) | f′(z) |
//! |---|---|---|
//! | relu | max(z, 0) | 1 if z > 0 else 0 |
//! | tanh | tanh z | 1 − f² |
//! | sigmoid | 1 / (1 + e^(−z)), evaluated without overflow | f (1 − f) |
//! | gelu | z Φ(z) = ½ z (1 + erf(z/√2)) | Φ(z) + z φ(z) |
//! | gelu_tanh | ½ z (1 + tanh u), u = √(2/π) (z + 0.044715 z³) | ½ (1 + tanh u) + ½ z (1 − tanh² u) √(2/π) (1 + 3·0.044715 z²) |
//!
//! The tanh form is evaluated in the order of PyTorch's CPU kernel (`GeluKernel.cpp`).
//!
//! `tanh`, `exp` and `erf` come from the `libm` crate: the same bits on every platform (GELU's
//! `erf` and `exp` through [`libm_lanes`], libm's bits 16 at a time).

use super::libm_lanes::{self, LANES};
use super::{Dims, Layer, Pass};
use crate::config::Activation;
use crate::cpu::on_path;

const SQRT_1_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
/// √(2/π), PyTorch's `kBeta = M_SQRT2 * M_2_SQRTPI * 0.5`.
const GELU_BETA: f32 = 0.797_884_6;
/// The cubic coefficient of the tanh approximation, PyTorch's `kKappa`.
const GELU_KAPPA: f32 = 0.044_715;
/// 1/√(2π).
const INV_SQRT_2PI: f32 = 0.398_942_3;

/// `a = f(z)` element-wise; GELU (erf) also writes `erf(z/√2)` into `erf` (as long as `z`;
/// unused by the others), which its backward reads.
pub fn activate(act: Activation, z: &[f32], a: &mut [f32], erf: &mut [f32]) {
    match act {
        Activation::Relu => a.iter_mut().zip(z).for_each(|(a, &z)| *a = z.max(0.0)),
        Activation::Tanh => a.iter_mut().zip(z).for_each(|(a, &z)| *a = libm::tanhf(z)),
        Activation::Sigmoid => a.iter_mut().zip(z).for_each(|(a, &z)| *a = sigmoid(z)),
        Activation::Gelu => gelu(z, a, erf),
        Activation::GeluTanh => a.iter_mut().zip(z).for_each(|(a, &z)| {
            let inner = GELU_BETA * (z + GELU_KAPPA * (z * z * z));
            *a = 0.5 * z * (1.0 + libm::tanhf(inner));
        }),
    }
}

/// `dz = da · f′(z)` element-wise, given `z`, `a = f(z)` and, for GELU (erf), the `erf` that
/// [`activate`] wrote.
pub fn activate_backward(
    act: Activation,
    z: &[f32],
    a: &[f32],
    erf: &[f32],
    da: &[f32],
    dz: &mut [f32],
) {
    let dz = &mut dz[..da.len()];
    match act {
        Activation::Relu => dz
            .iter_mut()
            .zip(da)
            .zip(z)
            .for_each(|((d, &g), &z)| *d = if z <= 0.0 { 0.0 } else { g }),
        Activation::Tanh => dz
            .iter_mut()
            .zip(da)
            .zip(a)
            .for_each(|((d, &g), &a)| *d = g * (1.0 - a * a)),
        Activation::Sigmoid => dz
            .iter_mut()
            .zip(da)
            .zip(a)
            .for_each(|((d, &g), &a)| *d = g * (a * (1.0 - a))),
        Activation::Gelu => gelu_backward(z, erf, da, dz),
        Activation::GeluTanh => dz.iter_mut().zip(da).zip(z).for_each(|((d, &g), &z)| {
            let z2 = z * z;
            let t = libm::tanhf(GELU_BETA * (z + GELU_KAPPA * (z2 * z)));
            let left = 0.5 * z;
            let right = 1.0 + t;
            let d_left = 0.5 * right;
            let d_right = left * (1.0 - t * t) * GELU_BETA * (1.0 + 3.0 * GELU_KAPPA * z2);
            *d = g * (d_left + d_right);
        }),
    }
}

/// Values per block of the GELU forward (their `z/√2` live on the stack).
const GELU_BLOCK: usize = 256;

on_path! {
    /// GELU (erf): `a = 0.5·z·(1 + erf(z/√2))`, erf by [`libm_lanes::erff_into`] (libm's bits)
    /// into `erf`, kept for the backward pass.
    fn gelu(z: &[f32], a: &mut [f32], erf: &mut [f32]) {
        let (a, erf) = (&mut a[..z.len()], &mut erf[..z.len()]);
        // Blocks whose z/√2 stay in L1.
        let mut u = [0.0f32; GELU_BLOCK];
        let blocks = z.chunks(GELU_BLOCK).zip(a.chunks_mut(GELU_BLOCK)).zip(erf.chunks_mut(GELU_BLOCK));
        for ((z, a), erf) in blocks {
            let u = &mut u[..z.len()];
            u.iter_mut().zip(z).for_each(|(u, &z)| *u = z * SQRT_1_2);
            libm_lanes::erff_into(u, erf);
            for ((a, &z), &e) in a.iter_mut().zip(z).zip(erf.iter()) {
                *a = 0.5 * z * (1.0 + e);
            }
        }
    }
}

/// GELU's derivative at `z` from `erf(z/√2)`: `Φ(z) + z·φ(z)`, as one scalar formula so the
/// vector and scalar paths agree.
#[inline(always)]
fn gelu_grad(g: f32, z: f32, erf: f32, exp: f32) -> f32 {
    let cdf = 0.5 * (1.0 + erf);
    let pdf = INV_SQRT_2PI * exp;
    g * (cdf + z * pdf)
}

on_path! {
    /// `dz = da · GELU'(z)`, from the forward's `erf(z/√2)` and exp [`LANES`] at a time
    /// (libm's bits).
    fn gelu_backward(z: &[f32], erf: &[f32], da: &[f32], dz: &mut [f32]) {
        let n = da.len();
        let (z, erf, dz) = (&z[..n], &erf[..n], &mut dz[..n]);
        let mut chunks = z
            .chunks_exact(LANES)
            .zip(erf.chunks_exact(LANES))
            .zip(da.chunks_exact(LANES))
            .zip(dz.chunks_exact_mut(LANES));
        for (((z, erf), g), d) in &mut chunks {
            let mut v = [0.0f32; LANES];
            for (v, &z) in v.iter_mut().zip(z) {
                *v = -0.5 * z * z;
            }
            let exp = libm_lanes::expf(&v);
            for i in 0..LANES {
                d[i] = gelu_grad(g[i], z[i], erf[i], exp[i]);
            }
        }
        let done = n / LANES * LANES;
        let rest = dz[done..].iter_mut().zip(&da[done..]).zip(&z[done..]).zip(&erf[done..]);
        for (((d, &g), &z), &erf) in rest {
            *d = gelu_grad(g, z, erf, libm::expf(-0.5 * z * z));
        }
    }
}

/// GELU's tanh approximation in f64, for tests.
#[cfg(test)]
pub(crate) fn gelu_tanh_f64(z: f64) -> f64 {
    let u = (2.0 / std::f64::consts::PI).sqrt() * (z + 0.044_715 * z * z * z);
    0.5 * z * (1.0 + u.tanh())
}

/// The logistic function 1 / (1 + e^(−z)), without overflow for any z.
pub fn sigmoid(z: f32) -> f32 {
    if z >= 0.0 {
        1.0 / (1.0 + libm::expf(-z))
    } else {
        let e = libm::expf(z);
        e / (1.0 + e)
    }
}

/// An activation layer (no parameters).
#[derive(Clone, Debug)]
pub struct ActivationLayer {
    dims: Dims,
    act: Activation,
    /// GELU (erf) only: `erf(z/√2)` of every element of the last forward, for backward.
    erf: Vec<f32>,
}

impl ActivationLayer {
    /// `act` applied to every element of an input of shape `dims`.
    pub fn new(dims: Dims, act: Activation) -> Self {
        ActivationLayer {
            dims,
            act,
            erf: Vec::new(),
        }
    }
}

impl Layer for ActivationLayer {
    fn kind(&self) -> &'static str {
        match self.act {
            Activation::Relu => "ReLU",
            Activation::Tanh => "Tanh",
            Activation::Sigmoid => "Sigmoid",
            Activation::Gelu | Activation::GeluTanh => "GELU",
        }
    }

    fn input_dims(&self) -> Dims {
        self.dims
    }

    fn output_dims(&self) -> Dims {
        self.dims
    }

    fn reserve(&mut self, batch: usize) {
        let n = batch * self.dims.len();
        if self.act == Activation::Gelu && self.erf.len() < n {
            self.erf.resize(n, 0.0);
        }
    }

    fn forward(&mut self, x: &[f32], y: &mut [f32], _: &[f32], _: &mut [f32], pass: &mut Pass) {
        let n = pass.batch * self.dims.len();
        activate(self.act, &x[..n], &mut y[..n], &mut self.erf);
    }

    fn backward(
        &mut self,
        x: &[f32],
        y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _: &[f32],
        _: &mut [f32],
        pass: &mut Pass,
    ) {
        let n = pass.batch * self.dims.len();
        if let Some(dx) = dx {
            activate_backward(self.act, &x[..n], &y[..n], &self.erf, &dy[..n], dx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::check;

    fn reference(act: Activation, z: f64) -> f64 {
        match act {
            Activation::Relu => z.max(0.0),
            Activation::Tanh => z.tanh(),
            Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
            Activation::Gelu => 0.5 * z * (1.0 + libm::erf(z / 2f64.sqrt())),
            Activation::GeluTanh => gelu_tanh_f64(z),
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        for act in Activation::ALL {
            let dims = Dims::image(3, 2, 2);
            let layer = ActivationLayer::new(dims, *act);
            check::layer_against_reference(layer, 3, 1.0, |x, _, _| {
                x.iter().map(|&z| reference(*act, z)).collect()
            });
        }
    }

    #[test]
    fn sigmoid_does_not_overflow() {
        assert!(sigmoid(-1000.0).abs() < 1e-30);
        assert!((sigmoid(1000.0) - 1.0).abs() < 1e-7);
    }
}
