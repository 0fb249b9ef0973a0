//! Test support: a layer's forward against an independent f64 reference, and its backward
//! against central finite differences of that reference (in f64), on a random input.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Layer, Mode, Pass, Workspace};

/// Random values in `[-scale, scale)`.
pub(crate) fn random(len: usize, scale: f32, rng: &mut impl Rng) -> Vec<f32> {
    (0..len).map(|_| rng.random_range(-scale..scale)).collect()
}

/// Output, input gradient and parameter gradient of `layer` on `x` with upstream gradient `r`.
pub(crate) fn run(
    layer: &mut dyn Layer,
    x: &[f32],
    params: &[f32],
    buffers: &mut [f32],
    r: &[f32],
    batch: usize,
    mode: Mode,
) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let out_len = batch * layer.output_dims().len();
    let mut ws = Workspace {
        scratch: vec![0.0; layer.scratch_len(batch)],
        ..Workspace::default()
    };
    layer.reserve(batch);
    let mut pass = Pass {
        batch,
        mode,
        ws: &mut ws,
    };
    // Poison the outputs: the layer must overwrite every element.
    let mut y = vec![f32::NAN; out_len];
    layer.forward(x, &mut y, params, buffers, &mut pass);
    let mut dx = vec![f32::NAN; x.len()];
    let mut dp = vec![f32::NAN; params.len()];
    layer.backward(x, &y, r, Some(&mut dx), params, &mut dp, &mut pass);
    (y, dx, dp)
}

/// Checks `layer` in training mode against `reference(x, params, buffers) → y` (all f64, the
/// layer's layout): the output to 1e-5 relative, and the gradients of `L = Σ r·y` for a random
/// `r` against central differences of the reference. Parameters are PyTorch's default
/// initialisation times `param_scale` (plus a small random offset, so that biases are not 0).
pub(crate) fn layer_against_reference(
    layer: impl Layer,
    batch: usize,
    param_scale: f32,
    reference: impl Fn(&[f64], &[f64], &[f64]) -> Vec<f64>,
) {
    layer_against_reference_in(layer, batch, param_scale, Mode::Train, reference);
}

/// As [`layer_against_reference`], in the given mode.
pub(crate) fn layer_against_reference_in(
    mut layer: impl Layer,
    batch: usize,
    param_scale: f32,
    mode: Mode,
    reference: impl Fn(&[f64], &[f64], &[f64]) -> Vec<f64>,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let n_params: usize = layer.params().iter().map(|t| t.len()).sum();
    let n_buffers: usize = layer.buffers().iter().map(|t| t.len()).sum();
    let mut params = vec![0.0; n_params];
    layer.init_params(&mut params, &mut rng);
    for p in &mut params {
        *p = *p * param_scale + rng.random_range(-0.1..0.1);
    }
    let mut buffers = vec![0.0; n_buffers];
    layer.init_buffers(&mut buffers);
    // Buffers that are not at their initial values (running statistics after some training).
    for b in &mut buffers {
        *b += rng.random_range(0.1..0.5);
    }
    let x = random(batch * layer.input_dims().len(), 1.0, &mut rng);
    let out_len = batch * layer.output_dims().len();
    let r = random(out_len, 1.0, &mut rng);
    let buffers64: Vec<f64> = buffers.iter().map(|&v| f64::from(v)).collect();
    let (y, dx, dp) = run(&mut layer, &x, &params, &mut buffers, &r, batch, mode);

    let x64: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    let p64: Vec<f64> = params.iter().map(|&v| f64::from(v)).collect();
    let want = reference(&x64, &p64, &buffers64);
    assert_eq!(want.len(), out_len, "reference output length");
    for (i, (&got, &w)) in y.iter().zip(&want).enumerate() {
        assert!(
            (f64::from(got) - w).abs() <= 1e-5 * (1.0 + w.abs()),
            "{}: output {i}: {got} vs reference {w}",
            layer.kind()
        );
    }
    let loss = |x: &[f64], p: &[f64]| -> f64 {
        reference(x, p, &buffers64)
            .iter()
            .zip(&r)
            .map(|(y, &r)| y * f64::from(r))
            .sum()
    };
    let compare = |what: &str, analytic: &[f32], fd: &[f64]| {
        let scale = fd.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (i, (&g, &f)) in analytic.iter().zip(fd).enumerate() {
            let tol = 1e-3 * (f.abs() + 1e-2 * scale) + 1e-6;
            assert!(
                (f64::from(g) - f).abs() <= tol,
                "{}: ∂L/∂{what}[{i}] = {g}, finite differences {f}",
                layer.kind()
            );
        }
    };
    let h = 1e-6;
    let fd_x: Vec<f64> = (0..x64.len())
        .map(|i| {
            let mut xp = x64.clone();
            xp[i] += h;
            let up = loss(&xp, &p64);
            xp[i] -= 2.0 * h;
            (up - loss(&xp, &p64)) / (2.0 * h)
        })
        .collect();
    compare("x", &dx, &fd_x);
    let fd_p: Vec<f64> = (0..p64.len())
        .map(|i| {
            let mut pp = p64.clone();
            pp[i] += h;
            let up = loss(&x64, &pp);
            pp[i] -= 2.0 * h;
            (up - loss(&x64, &pp)) / (2.0 * h)
        })
        .collect();
    compare("params", &dp, &fd_p);
}
