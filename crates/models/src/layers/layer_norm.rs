//! Layer normalisation over the channels of every position, PyTorch's
//! `nn.LayerNorm(C)` (`eps=1e-5, elementwise_affine=True`; Ba, Kiros & Hinton 2016) on a
//! `(…, C)` tensor, e.g. `(tokens, d_model)`: per row, `μ = Σx / C`, `σ² = Σ(x − μ)² / C`,
//! `x̂ = (x − μ) / √(σ² + eps)`, `y = γ x̂ + β`. Parameters `weight` (γ, init 1) and `bias`
//! (β, init 0). Statistics in f64. Backward, with `g = ∂y·γ`:
//! `∂x = (g − mean(g) − x̂·mean(g·x̂)) / √(σ² + eps)`, `∂γ = Σ_rows ∂y·x̂`, `∂β = Σ_rows ∂y`.

use rand_chacha::ChaCha8Rng;

use super::{Dims, Layer, LayerError, Pass, TensorSpec};

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
        for (r, (row, out)) in x
            .chunks_exact(c)
            .zip(y.chunks_exact_mut(c))
            .take(rows)
            .enumerate()
        {
            let mu = row.iter().map(|&v| f64::from(v)).sum::<f64>() / c as f64;
            let var = row
                .iter()
                .map(|&v| (f64::from(v) - mu).powi(2))
                .sum::<f64>()
                / c as f64;
            let (mu, inv) = (mu as f32, (1.0 / (var + EPS).sqrt()) as f32);
            self.mean[r] = mu;
            self.inv_std[r] = inv;
            for ((o, &v), (&g, &b)) in out.iter_mut().zip(row).zip(gamma.iter().zip(beta)) {
                *o = g * ((v - mu) * inv) + b;
            }
        }
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
        let gamma = &p[..c];
        let (g_gamma, g_beta) = grad.split_at_mut(c);
        g_gamma.fill(0.0);
        g_beta.fill(0.0);
        let xhat = |r: usize, v: f32| (v - self.mean[r]) * self.inv_std[r];
        for (r, (row, g)) in x
            .chunks_exact(c)
            .zip(dy.chunks_exact(c))
            .take(rows)
            .enumerate()
        {
            for ch in 0..c {
                g_gamma[ch] += g[ch] * xhat(r, row[ch]);
                g_beta[ch] += g[ch];
            }
        }
        let Some(dx) = dx else { return };
        for (r, ((row, g), out)) in x
            .chunks_exact(c)
            .zip(dy.chunks_exact(c))
            .zip(dx.chunks_exact_mut(c))
            .take(rows)
            .enumerate()
        {
            let (mut mean_g, mut mean_gx) = (0.0f64, 0.0f64);
            for ch in 0..c {
                let gg = f64::from(g[ch] * gamma[ch]);
                mean_g += gg;
                mean_gx += gg * f64::from(xhat(r, row[ch]));
            }
            mean_g /= c as f64;
            mean_gx /= c as f64;
            let inv = f64::from(self.inv_std[r]);
            for ch in 0..c {
                let gg = f64::from(g[ch] * gamma[ch]);
                out[ch] = ((gg - mean_g - f64::from(xhat(r, row[ch])) * mean_gx) * inv) as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::check;

    #[test]
    fn gradient_matches_finite_differences() {
        let dims = Dims {
            height: 1,
            width: 3,
            channels: 5,
        };
        check::layer_against_reference(LayerNorm::new(dims).unwrap(), 2, 1.0, |x, p, _| {
            x.chunks(5)
                .flat_map(|row| {
                    let mu = row.iter().sum::<f64>() / 5.0;
                    let var = row.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / 5.0;
                    (0..5).map(move |c| p[c] * (row[c] - mu) / (var + EPS).sqrt() + p[5 + c])
                })
                .collect()
        });
    }
}
