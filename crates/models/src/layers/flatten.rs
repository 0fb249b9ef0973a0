//! Flatten, PyTorch's `nn.Flatten()` on an NCHW tensor: each example becomes a vector in
//! PyTorch's (C, H, W) order, `y[n, c·H·W + h·W + w] = x[n, h, w, c]`, so that a `Linear` after
//! it has exactly the weight of the PyTorch module. On the channels-last layout this is a
//! transpose of each example (a copy when `H·W = 1`); backward is the inverse transpose.

use super::{Dims, Layer, Pass};

/// `nn.Flatten()` from channels-last images to PyTorch-ordered vectors.
#[derive(Clone, Debug)]
pub struct Flatten {
    input: Dims,
}

impl Flatten {
    /// Flattens examples of shape `input`.
    pub fn new(input: Dims) -> Self {
        Flatten { input }
    }
}

impl Layer for Flatten {
    fn kind(&self) -> &'static str {
        "Flatten"
    }

    fn input_dims(&self) -> Dims {
        self.input
    }

    fn output_dims(&self) -> Dims {
        Dims::vector(self.input.len())
    }

    fn forward(&mut self, x: &[f32], y: &mut [f32], _: &[f32], _: &mut [f32], pass: &mut Pass) {
        let (c, p, len) = (
            self.input.channels,
            self.input.positions(),
            self.input.len(),
        );
        for (src, dst) in x
            .chunks_exact(len)
            .zip(y.chunks_exact_mut(len))
            .take(pass.batch)
        {
            for (pos, pixel) in src.chunks_exact(c).enumerate() {
                for (ch, &v) in pixel.iter().enumerate() {
                    dst[ch * p + pos] = v;
                }
            }
        }
    }

    fn backward(
        &mut self,
        _x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _: &[f32],
        _: &mut [f32],
        pass: &mut Pass,
    ) {
        let Some(dx) = dx else { return };
        let (c, p, len) = (
            self.input.channels,
            self.input.positions(),
            self.input.len(),
        );
        for (src, dst) in dy
            .chunks_exact(len)
            .zip(dx.chunks_exact_mut(len))
            .take(pass.batch)
        {
            for (pos, pixel) in dst.chunks_exact_mut(c).enumerate() {
                for (ch, v) in pixel.iter_mut().enumerate() {
                    *v = src[ch * p + pos];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::check;

    #[test]
    fn torch_order_and_gradient() {
        let input = Dims::image(2, 3, 2);
        check::layer_against_reference(Flatten::new(input), 2, 1.0, |x, _, _| {
            x.chunks(12)
                .flat_map(|e| (0..12).map(move |i| e[(i % 6) * 2 + i / 6]))
                .collect()
        });
    }
}
