//! Global average pooling: the mean of each channel over all positions, PyTorch's
//! `nn.AdaptiveAvgPool2d(1)` (or `x.mean((2, 3))`):
//! `y[n, c] = (Σ_{h, w} x[n, h, w, c]) / (H·W)`, output `1 × 1 × C`.
//! Backward: `∂x[n, h, w, c] = ∂y[n, c] / (H·W)`.

use super::{Dims, Layer, LayerError, Pass};

/// `nn.AdaptiveAvgPool2d(1)` on channels-last images.
#[derive(Clone, Debug)]
pub struct GlobalAvgPool {
    input: Dims,
}

impl GlobalAvgPool {
    /// Pooling of every position of `input`.
    pub fn new(input: Dims) -> Result<Self, LayerError> {
        if input.is_empty() {
            return Err(LayerError::new(
                "AdaptiveAvgPool2d",
                format!("cannot pool {input}"),
            ));
        }
        Ok(GlobalAvgPool { input })
    }
}

impl Layer for GlobalAvgPool {
    fn kind(&self) -> &'static str {
        "AdaptiveAvgPool2d"
    }

    fn input_dims(&self) -> Dims {
        self.input
    }

    fn output_dims(&self) -> Dims {
        Dims::vector(self.input.channels)
    }

    fn forward(&mut self, x: &[f32], y: &mut [f32], _: &[f32], _: &mut [f32], pass: &mut Pass) {
        let c = self.input.channels;
        let count = self.input.positions() as f32;
        for (image, out) in x
            .chunks_exact(self.input.len())
            .zip(y.chunks_exact_mut(c))
            .take(pass.batch)
        {
            out.fill(0.0);
            for pixel in image.chunks_exact(c) {
                out.iter_mut().zip(pixel).for_each(|(s, &v)| *s += v);
            }
            out.iter_mut().for_each(|s| *s /= count);
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
        let c = self.input.channels;
        let count = self.input.positions() as f32;
        for (image, g) in dx
            .chunks_exact_mut(self.input.len())
            .zip(dy.chunks_exact(c))
            .take(pass.batch)
        {
            for pixel in image.chunks_exact_mut(c) {
                pixel.iter_mut().zip(g).for_each(|(d, &v)| *d = v / count);
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
        let input = Dims::image(3, 4, 5);
        let layer = GlobalAvgPool::new(input).unwrap();
        check::layer_against_reference(layer, 2, 1.0, |x, _, _| {
            x.chunks(input.len())
                .flat_map(|image| {
                    (0..3).map(move |c| image.iter().skip(c).step_by(3).sum::<f64>() / 20.0)
                })
                .collect()
        });
    }
}
