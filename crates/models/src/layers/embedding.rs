//! Token embedding, PyTorch's `nn.Embedding(num_embeddings=V, embedding_dim=d)`: each token of
//! a sequence is replaced by its row of the table, `y[t] = W[x[t]]`, with `W` (`V × d`,
//! row-major) the one parameter `weight`. Default initialisation (PyTorch's `reset_parameters`):
//! `W ~ N(0, 1)`.
//!
//! The input is the network's input: a sequence of `T` token ids stored as `f32` (exact below
//! 2²⁴), [`Dims`] `1 × T × 1`; the output is `1 × T × d`. Backward scatters the gradient:
//! `∂W[v] = Σ_{(n, t): x[n, t] = v} ∂y[n, t]`, summed in the order of the batch's positions, rows
//! of tokens that do not occur are 0. Token ids have no gradient: a requested `∂x` is 0.
//!
//! Token ids are checked against `V` where the data are loaded; here an id outside the table is
//! a bug and panics.

use crate::normal::StandardNormal;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::{Dims, Layer, LayerError, Pass, TensorSpec, copy_short};

/// `nn.Embedding(vocab, dim)` on sequences of token ids.
#[derive(Clone, Debug)]
pub struct Embedding {
    tokens: usize,
    vocab: usize,
    dim: usize,
}

impl Embedding {
    /// A table of `vocab` rows of `dim` values, looked up for sequences of `tokens` ids.
    pub fn new(tokens: usize, vocab: usize, dim: usize) -> Result<Self, LayerError> {
        if tokens == 0 || vocab == 0 || dim == 0 {
            return Err(LayerError::new(
                "Embedding",
                format!(
                    "needs at least one token, table row and dimension, found {tokens} tokens, \
                     vocabulary {vocab}, dimension {dim}"
                ),
            ));
        }
        Ok(Embedding { tokens, vocab, dim })
    }
}

/// Writes `N(0, std)` into every element, in order (PyTorch's `normal_(0, std)`).
pub(crate) fn normal_init(values: &mut [f32], std: f64, rng: &mut ChaCha8Rng) {
    values.iter_mut().for_each(|v| {
        let z: f64 = rng.sample(StandardNormal);
        *v = (std * z) as f32;
    });
}

impl Layer for Embedding {
    fn kind(&self) -> &'static str {
        "Embedding"
    }

    fn input_dims(&self) -> Dims {
        Dims {
            height: 1,
            width: self.tokens,
            channels: 1,
        }
    }

    fn output_dims(&self) -> Dims {
        Dims {
            height: 1,
            width: self.tokens,
            channels: self.dim,
        }
    }

    fn params(&self) -> Vec<TensorSpec> {
        vec![TensorSpec::new("weight", &[self.vocab, self.dim])]
    }

    fn init_params(&self, params: &mut [f32], rng: &mut ChaCha8Rng) {
        normal_init(params, 1.0, rng);
    }

    fn forward(&mut self, x: &[f32], y: &mut [f32], p: &[f32], _: &mut [f32], pass: &mut Pass) {
        let d = self.dim;
        let n = pass.batch * self.tokens;
        for (&token, row) in x[..n].iter().zip(y.chunks_exact_mut(d)) {
            let v = token as usize;
            copy_short(row, &p[v * d..(v + 1) * d]);
        }
    }

    fn backward(
        &mut self,
        x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _p: &[f32],
        grad: &mut [f32],
        pass: &mut Pass,
    ) {
        let d = self.dim;
        let n = pass.batch * self.tokens;
        grad.fill(0.0);
        for (&token, g) in x[..n].iter().zip(dy.chunks_exact(d)) {
            let v = token as usize;
            grad[v * d..(v + 1) * d]
                .iter_mut()
                .zip(g)
                .for_each(|(a, &b)| *a += b);
        }
        if let Some(dx) = dx {
            dx[..n].fill(0.0);
        }
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: a lookup copies
mod tests {
    use super::*;
    use crate::layers::{Mode, Workspace};

    #[test]
    fn looks_up_rows_and_scatters_gradients() {
        let mut e = Embedding::new(3, 4, 2).unwrap();
        let table: Vec<f32> = (0..8).map(|i| i as f32).collect();
        let x = [2.0, 0.0, 2.0, 3.0, 3.0, 1.0];
        let mut y = [f32::NAN; 12];
        let mut ws = Workspace::default();
        let mut pass = Pass {
            batch: 2,
            mode: Mode::Train,
            ws: &mut ws,
        };
        e.forward(&x, &mut y, &table, &mut [], &mut pass);
        assert_eq!(y, [4., 5., 0., 1., 4., 5., 6., 7., 6., 7., 2., 3.]);
        let dy: Vec<f32> = (0..12).map(|i| (i + 1) as f32).collect();
        let mut g = [f32::NAN; 8];
        let mut dx = [f32::NAN; 6];
        e.backward(&x, &y, &dy, Some(&mut dx), &table, &mut g, &mut pass);
        // Token 2 at positions 0 and 2, token 3 at 3 and 4, token 0 at 1, token 1 at 5.
        assert_eq!(g, [3., 4., 11., 12., 1. + 5., 2. + 6., 7. + 9., 8. + 10.]);
        assert_eq!(dx, [0.0; 6]);
    }

    #[test]
    fn init_is_standard_normal() {
        let e = Embedding::new(1, 100, 50).unwrap();
        let mut p = vec![0.0; 5000];
        e.init_params(&mut p, &mut crate::seeds::rng(0, crate::seeds::STREAM_INIT));
        let mean = p.iter().map(|&v| f64::from(v)).sum::<f64>() / 5000.0;
        let var = p
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / 5000.0;
        assert!(mean.abs() < 0.05 && (var - 1.0).abs() < 0.1, "{mean} {var}");
        assert!(Embedding::new(0, 3, 2).is_err());
    }
}
