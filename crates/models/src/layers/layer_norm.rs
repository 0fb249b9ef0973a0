//! Layer normalisation over the channels of every position, PyTorch's
//! `nn.LayerNorm(C)` (`eps=1e-5, elementwise_affine=True`; Ba, Kiros & Hinton 2016) on a
//! `(…, C)` tensor, e.g. `(tokens, d_model)`: per row, `μ = Σx / C`, `σ² = Σ(x − μ)² / C`,
//! `x̂ = (x − μ) / √(σ² + eps)`, `y = γ x̂ + β`. Parameters `weight` (γ, init 1) and `bias`
//! (β, init 0). Statistics in f64. Backward, with `g = ∂y·γ`:
//! `∂x = (g − mean(g) − x̂·mean(g·x̂)) / √(σ² + eps)`, `∂γ = Σ_rows ∂y·x̂`, `∂β = Σ_rows ∂y`.
//!
//! The f64 sums over a row are [`SUM_LANES`] partial sums (element `i` into sum `i mod
//! SUM_LANES`, in order) added up by a fixed pairwise tree: the same order on every CPU path,
//! and independent chains the vector units overlap (one sequential chain of f64 additions was
//! 6 % of a transformer step).

use rand_chacha::ChaCha8Rng;

use super::{Dims, Layer, LayerError, Pass, TensorSpec};
use crate::cpu::on_path;

/// Partial sums of a row sum.
const SUM_LANES: usize = 16;

/// The total of [`SUM_LANES`] partial sums by a fixed pairwise tree (`s[l] += s[l + w]` for
/// w = 8, 4, 2, 1).
#[inline(always)]
fn tree_total(mut acc: [f64; SUM_LANES]) -> f64 {
    let mut width = SUM_LANES;
    while width > 1 {
        width /= 2;
        for l in 0..width {
            acc[l] += acc[l + width];
        }
    }
    acc[0]
}

/// `Σ_i term(row[i])` in f64: [`SUM_LANES`] partial sums in the order of i, then
/// [`tree_total`].
#[inline(always)]
fn row_sum(row: &[f32], term: impl Fn(f32) -> f64) -> f64 {
    let mut acc = [0.0f64; SUM_LANES];
    let mut chunks = row.chunks_exact(SUM_LANES);
    for chunk in &mut chunks {
        for (s, &v) in acc.iter_mut().zip(chunk) {
            *s += term(v);
        }
    }
    for (s, &v) in acc.iter_mut().zip(chunks.remainder()) {
        *s += term(v);
    }
    tree_total(acc)
}

on_path! {
    /// The forward pass over `mean.len()` rows of `c` values.
    fn normalise(
        x: &[f32],
        y: &mut [f32],
        gamma: &[f32],
        beta: &[f32],
        mean: &mut [f32],
        inv_std: &mut [f32],
    ) {
        let c = gamma.len();
        let rows = x.chunks_exact(c).zip(y.chunks_exact_mut(c));
        for (((row, out), m), s) in rows.zip(mean.iter_mut()).zip(inv_std.iter_mut()) {
            let mu = row_sum(row, f64::from) / c as f64;
            let var = row_sum(row, |v| (f64::from(v) - mu).powi(2)) / c as f64;
            let (mu, inv) = (mu as f32, (1.0 / (var + EPS).sqrt()) as f32);
            *m = mu;
            *s = inv;
            for ((o, &v), (&g, &b)) in out.iter_mut().zip(row).zip(gamma.iter().zip(beta)) {
                *o = g * ((v - mu) * inv) + b;
            }
        }
    }
}

on_path! {
    /// The backward pass over `mean.len()` rows of `c` values: `∂γ`, `∂β` and, if asked, `∂x`.
    #[allow(clippy::too_many_arguments)]
    fn normalise_backward(
        x: &[f32],
        dy: &[f32],
        gamma: &[f32],
        mean: &[f32],
        inv_std: &[f32],
        g_gamma: &mut [f32],
        g_beta: &mut [f32],
        dx: Option<&mut [f32]>,
    ) {
        let c = gamma.len();
        g_gamma.fill(0.0);
        g_beta.fill(0.0);
        let rows = x.chunks_exact(c).zip(dy.chunks_exact(c));
        for (((row, g), &mu), &inv) in rows.zip(mean).zip(inv_std) {
            for (((gg, gb), &g), &v) in g_gamma.iter_mut().zip(g_beta.iter_mut()).zip(g).zip(row) {
                *gg += g * ((v - mu) * inv);
                *gb += g;
            }
        }
        let Some(dx) = dx else { return };
        let rows = x.chunks_exact(c).zip(dy.chunks_exact(c)).zip(dx.chunks_exact_mut(c));
        for ((((row, g), out), &mu), &inv) in rows.zip(mean).zip(inv_std) {
            // Σ g·γ and Σ g·γ·x̂ (`sums` and `sums_x`), then ∂x.
            let (mut sums, mut sums_x) = ([0.0f64; SUM_LANES], [0.0f64; SUM_LANES]);
            let mut chunks = g.chunks_exact(SUM_LANES).zip(gamma.chunks_exact(SUM_LANES)).zip(row.chunks_exact(SUM_LANES));
            for ((g, w), v) in &mut chunks {
                for l in 0..SUM_LANES {
                    let gg = f64::from(g[l] * w[l]);
                    sums[l] += gg;
                    sums_x[l] += gg * f64::from((v[l] - mu) * inv);
                }
            }
            let done = c / SUM_LANES * SUM_LANES;
            for (l, i) in (done..c).enumerate() {
                let gg = f64::from(g[i] * gamma[i]);
                sums[l] += gg;
                sums_x[l] += gg * f64::from((row[i] - mu) * inv);
            }
            let mean_g = tree_total(sums) / c as f64;
            let mean_gx = tree_total(sums_x) / c as f64;
            let inv_f64 = f64::from(inv);
            for (((o, &g), &w), &v) in out.iter_mut().zip(g).zip(gamma).zip(row) {
                let gg = f64::from(g * w);
                let xhat = f64::from((v - mu) * inv);
                *o = ((gg - mean_g - xhat * mean_gx) * inv_f64) as f32;
            }
        }
    }
}

/// PyTorch's default `eps`.
pub const EPS: f64 = 1e-5;

/// `nn.LayerNorm(C)` over the channels of each position.
#[derive(Clone, Debug)]
pub struct LayerNorm {
    dims: Dims,
    /// Mean and 1/√(var + eps) of each row of the last forward.
    mean: Vec<f32>,
    inv_std: Vec<f32>,
}

impl LayerNorm {
    /// Normalisation of the `dims.channels` values at every position.
    pub fn new(dims: Dims) -> Result<Self, LayerError> {
        if dims.is_empty() {
            return Err(LayerError::new(
                "LayerNorm",
                format!("cannot normalise {dims}"),
            ));
        }
        Ok(LayerNorm {
            dims,
            mean: Vec::new(),
            inv_std: Vec::new(),
        })
    }
}

impl Layer for LayerNorm {
    fn kind(&self) -> &'static str {
        "LayerNorm"
    }

    fn input_dims(&self) -> Dims {
        self.dims
    }

    fn output_dims(&self) -> Dims {
        self.dims
    }

    fn params(&self) -> Vec<TensorSpec> {
        let c = self.dims.channels;
        vec![
            TensorSpec::new("weight", &[c]),
            TensorSpec::new("bias", &[c]),
        ]
    }

    fn init_params(&self, params: &mut [f32], _rng: &mut ChaCha8Rng) {
        let (gamma, beta) = params.split_at_mut(self.dims.channels);
        gamma.fill(1.0);
        beta.fill(0.0);
    }

    fn reserve(&mut self, batch: usize) {
        let rows = batch * self.dims.positions();
        if self.mean.len() < rows {
            self.mean.resize(rows, 0.0);
            self.inv_std.resize(rows, 0.0);
        }
    }

    fn forward(&mut self, x: &[f32], y: &mut [f32], p: &[f32], _: &mut [f32], pass: &mut Pass) {
        let c = self.dims.channels;
        let rows = pass.batch * self.dims.positions();
        let (gamma, beta) = p.split_at(c);
        normalise(
            &x[..rows * c],
            &mut y[..rows * c],
            gamma,
            &beta[..c],
            &mut self.mean[..rows],
            &mut self.inv_std[..rows],
        );
    }

    fn backward(
        &mut self,
        x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        p: &[f32],
        grad: &mut [f32],
        pass: &mut Pass,
    ) {
        let c = self.dims.channels;
        let rows = pass.batch * self.dims.positions();
        let (g_gamma, g_beta) = grad.split_at_mut(c);
        normalise_backward(
            &x[..rows * c],
            &dy[..rows * c],
            &p[..c],
            &self.mean[..rows],
            &self.inv_std[..rows],
            g_gamma,
            &mut g_beta[..c],
            dx.map(|dx| &mut dx[..rows * c]),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::check;

    #[test]
    fn gradient_matches_finite_differences() {
        // 5 channels (a partial set of sums only) and 37 (two full sets and a partial one).
        for c in [5, 37] {
            let dims = Dims {
                height: 1,
                width: 3,
                channels: c,
            };
            check::layer_against_reference(LayerNorm::new(dims).unwrap(), 2, 1.0, |x, p, _| {
                x.chunks(c)
                    .flat_map(|row| {
                        let mu = row.iter().sum::<f64>() / c as f64;
                        let var = row.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / c as f64;
                        (0..c).map(move |k| p[k] * (row[k] - mu) / (var + EPS).sqrt() + p[c + k])
                    })
                    .collect()
            });
        }
    }
}
