//! Learned absolute position embedding (Vaswani et al. 2017 §3.5 with learned rather than
//! sinusoidal vectors, as GPT-2): `y[t] = x[t] + P[t]` for the `T ≤ context` positions of a
//! sequence of `d`-vectors, `P` (`context × d`, row-major) the one parameter `weight`. The
//! PyTorch equivalent is GPT-2's (nanoGPT's `wpe`): `x + pos_emb(torch.arange(T))` with
//! `pos_emb = nn.Embedding(context, d)`, so the default initialisation is `P ~ N(0, 1)`.
//!
//! Backward: `∂x = ∂y`, `∂P[t] = Σ_n ∂y[n, t]` (summed over the batch in order) for `t < T`,
//! and 0 for the rows past `T`.

use rand_chacha::ChaCha8Rng;

use super::embedding::normal_init;
use super::{Dims, Layer, LayerError, Pass, TensorSpec};

/// `x + nn.Embedding(context, d)(arange(T))`.
#[derive(Clone, Debug)]
pub struct PositionEmbedding {
    dims: Dims,
    context: usize,
}

impl PositionEmbedding {
    /// Position vectors for sequences `dims` (`1 × T × d`) from a table of `context ≥ T` rows.
    pub fn new(dims: Dims, context: usize) -> Result<Self, LayerError> {
        if dims.height != 1 || dims.is_empty() || dims.width > context {
            return Err(LayerError::new(
                "PositionEmbedding",
                format!(
                    "needs sequences of at most {context} (context) positions, found {}",
                    dims.width
                ),
            ));
        }
        Ok(PositionEmbedding { dims, context })
    }
}

impl Layer for PositionEmbedding {
    fn kind(&self) -> &'static str {
        "Embedding"
    }

    fn input_dims(&self) -> Dims {
        self.dims
    }

    fn output_dims(&self) -> Dims {
        self.dims
    }

    fn params(&self) -> Vec<TensorSpec> {
        vec![TensorSpec::new(
            "weight",
            &[self.context, self.dims.channels],
        )]
    }

    fn init_params(&self, params: &mut [f32], rng: &mut ChaCha8Rng) {
        normal_init(params, 1.0, rng);
    }

    fn forward(&mut self, x: &[f32], y: &mut [f32], p: &[f32], _: &mut [f32], pass: &mut Pass) {
        let per_example = self.dims.len();
        let table = &p[..per_example];
        for (xe, ye) in x
            .chunks_exact(per_example)
            .zip(y.chunks_exact_mut(per_example))
            .take(pass.batch)
        {
            ye.iter_mut()
                .zip(xe.iter().zip(table))
                .for_each(|(y, (&a, &b))| *y = a + b);
        }
    }

    fn backward(
        &mut self,
        _x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _p: &[f32],
        grad: &mut [f32],
        pass: &mut Pass,
    ) {
        let per_example = self.dims.len();
        let n = pass.batch * per_example;
        grad.fill(0.0);
        for ge in dy[..n].chunks_exact(per_example) {
            grad.iter_mut().zip(ge).for_each(|(a, &b)| *a += b);
        }
        if let Some(dx) = dx {
            dx[..n].copy_from_slice(&dy[..n]);
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
            channels: 4,
        };
        // A table of 5 rows: the last two are not used by sequences of 3.
        let layer = PositionEmbedding::new(dims, 5).unwrap();
        check::layer_against_reference(layer, 2, 1.0, |x, p, _| {
            x.chunks(12)
                .flat_map(|xe| xe.iter().zip(p).map(|(a, b)| a + b).collect::<Vec<_>>())
                .collect()
        });
        assert!(PositionEmbedding::new(dims, 2).is_err());
    }
}
