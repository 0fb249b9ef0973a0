//! Fully connected layer, PyTorch's `nn.Linear(in_features, out_features, bias=True)`:
//! `y = x·Wᵀ + b` at every position, with `W` (`out × in`, row-major) then `b` (`out`) in the
//! parameter vector. Default initialisation: `W, b ~ U(−1/√in, 1/√in)`. Without bias
//! ([`Linear::without_bias`], `bias=False`, e.g. a language model's head) `y = x·Wᵀ`.
//!
//! Forward: each output starts from its bias and accumulates the products as one FMA chain
//! (`y ← b; y += x·Wᵀ`, [`crate::gemm`]). Backward: `∂W = ∂yᵀ·x`, `∂b = Σ_rows ∂y`,
//! `∂x = ∂y·W`.

use rand_chacha::ChaCha8Rng;

use super::{Dims, Layer, LayerError, Pass, TensorSpec, column_sums, copy_short, uniform_init};
use crate::gemm::{Mat, gemm};

/// `nn.Linear` over the channels of every position.
#[derive(Clone, Debug)]
pub struct Linear {
    input: Dims,
    out: usize,
    bias: bool,
}

impl Linear {
    /// A layer mapping the `input.channels` features of every position to `out` features.
    pub fn new(input: Dims, out: usize) -> Result<Self, LayerError> {
        if input.is_empty() || out == 0 {
            return Err(LayerError::new(
                "Linear",
                format!("needs at least one input and output feature, found {input} → {out}"),
            ));
        }
        Ok(Linear {
            input,
            out,
            bias: true,
        })
    }

    /// The same without bias, `nn.Linear(in, out, bias=False)`.
    pub fn without_bias(input: Dims, out: usize) -> Result<Self, LayerError> {
        Ok(Linear {
            bias: false,
            ..Linear::new(input, out)?
        })
    }

    fn n_in(&self) -> usize {
        self.input.channels
    }
}

impl Layer for Linear {
    fn kind(&self) -> &'static str {
        "Linear"
    }

    fn input_dims(&self) -> Dims {
        self.input
    }

    fn output_dims(&self) -> Dims {
        Dims {
            channels: self.out,
            ..self.input
        }
    }

    fn params(&self) -> Vec<TensorSpec> {
        let mut specs = vec![TensorSpec::new("weight", &[self.out, self.n_in()])];
        if self.bias {
            specs.push(TensorSpec::new("bias", &[self.out]));
        }
        specs
    }

    fn init_params(&self, params: &mut [f32], rng: &mut ChaCha8Rng) {
        uniform_init(params, self.n_in(), rng);
    }

    fn forward(&mut self, x: &[f32], y: &mut [f32], p: &[f32], _: &mut [f32], pass: &mut Pass) {
        let (n_in, out) = (self.n_in(), self.out);
        let rows = pass.batch * self.input.positions();
        let (w, b) = p.split_at(out * n_in);
        let y = &mut y[..rows * out];
        if self.bias {
            for row in y.chunks_exact_mut(out) {
                copy_short(row, b);
            }
        }
        let w = Mat::transposed(w, n_in);
        gemm(
            rows,
            out,
            n_in,
            Mat::rows(x, n_in),
            w,
            y,
            self.bias,
            &mut pass.ws.pack,
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
        let (n_in, out) = (self.n_in(), self.out);
        let rows = pass.batch * self.input.positions();
        let dy = &dy[..rows * out];
        let (gw, gb) = grad.split_at_mut(out * n_in);
        let pack = &mut pass.ws.pack;
        gemm(
            out,
            n_in,
            rows,
            Mat::transposed(dy, out),
            Mat::rows(x, n_in),
            gw,
            false,
            pack,
        );
        if self.bias {
            column_sums(dy, out, gb);
        }
        if let Some(dx) = dx {
            let w = Mat::rows(&p[..out * n_in], n_in);
            gemm(rows, n_in, out, Mat::rows(dy, out), w, dx, false, pack);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::check;

    /// f64 reference: y[r][o] = b[o] + Σ_i x[r][i] W[o][i] (b = 0 when `p` has no bias).
    fn reference(x: &[f64], p: &[f64], n_in: usize, out: usize) -> Vec<f64> {
        let (w, b) = p.split_at(out * n_in);
        x.chunks(n_in)
            .flat_map(|row| {
                (0..out).map(move |o| {
                    b.get(o).copied().unwrap_or(0.0)
                        + (0..n_in).map(|i| row[i] * w[o * n_in + i]).sum::<f64>()
                })
            })
            .collect()
    }

    #[test]
    fn gradient_matches_finite_differences() {
        for (dims, out, batch) in [
            (Dims::vector(5), 3, 4),
            (
                Dims {
                    height: 1,
                    width: 3,
                    channels: 4,
                },
                2,
                2,
            ),
        ] {
            let layer = Linear::new(dims, out).unwrap();
            check::layer_against_reference(layer, batch, 1.0, |x, p, _| {
                reference(x, p, dims.channels, out)
            });
            let layer = Linear::without_bias(dims, out).unwrap();
            assert_eq!(layer.params().len(), 1);
            check::layer_against_reference(layer, batch, 1.0, |x, p, _| {
                reference(x, p, dims.channels, out)
            });
        }
    }

    #[test]
    fn rejects_empty_shapes() {
        assert!(Linear::new(Dims::vector(0), 3).is_err());
        assert!(Linear::new(Dims::vector(3), 0).is_err());
    }
}
