//! The parameter-free "option A" shortcut of He et al. 2016 (§4.2, CIFAR ResNets): where a
//! stage halves the resolution and widens the channels, the identity is subsampled by the
//! stride and zero-padded with the extra channels. As the common PyTorch CIFAR ResNet writes it,
//! `F.pad(x[:, :, ::s, ::s], (0, 0, 0, 0, p, q))` with `p = (out − in)/2` channels before and
//! `q = out − in − p` after:
//! `y[n, h, w, c] = x[n, h·s, w·s, c − p]` for `p ≤ c < p + in`, else 0.
//! Backward routes `∂y` of the copied channels back to the sampled pixels (zeros elsewhere).

use super::{Dims, Layer, LayerError, Pass, copy_short};

/// Subsample-and-zero-pad shortcut (option A).
#[derive(Clone, Debug)]
pub struct PadShortcut {
    input: Dims,
    output: Dims,
    stride: usize,
    before: usize,
}

impl PadShortcut {
    /// From `input` to `out_channels ≥ input.channels` channels with `stride`.
    pub fn new(input: Dims, out_channels: usize, stride: usize) -> Result<Self, LayerError> {
        if stride == 0 || out_channels < input.channels || input.is_empty() {
            return Err(LayerError::new(
                "PadShortcut",
                format!("cannot map {input} to {out_channels} channels with stride {stride}"),
            ));
        }
        Ok(PadShortcut {
            input,
            output: Dims::image(
                out_channels,
                input.height.div_ceil(stride),
                input.width.div_ceil(stride),
            ),
            stride,
            before: (out_channels - input.channels) / 2,
        })
    }

    /// Calls `f(output pixel offset, input pixel offset)` for each output pixel of one image.
    fn for_each_pixel(&self, mut f: impl FnMut(usize, usize)) {
        let (ci, co, w) = (self.input.channels, self.output.channels, self.input.width);
        for oh in 0..self.output.height {
            for ow in 0..self.output.width {
                let src = ((oh * self.stride) * w + ow * self.stride) * ci;
                f((oh * self.output.width + ow) * co, src);
            }
        }
    }
}

impl Layer for PadShortcut {
    fn kind(&self) -> &'static str {
        "PadShortcut"
    }

    fn input_dims(&self) -> Dims {
        self.input
    }

    fn output_dims(&self) -> Dims {
        self.output
    }

    fn forward(&mut self, x: &[f32], y: &mut [f32], _: &[f32], _: &mut [f32], pass: &mut Pass) {
        let (ci, co, p) = (self.input.channels, self.output.channels, self.before);
        let (in_len, out_len) = (self.input.len(), self.output.len());
        for n in 0..pass.batch {
            let image = &x[n * in_len..(n + 1) * in_len];
            let out = &mut y[n * out_len..(n + 1) * out_len];
            self.for_each_pixel(|o, i| {
                let px = &mut out[o..o + co];
                px[..p].fill(0.0);
                copy_short(&mut px[p..p + ci], &image[i..i + ci]);
                px[p + ci..].fill(0.0);
            });
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
        let (ci, p) = (self.input.channels, self.before);
        let (in_len, out_len) = (self.input.len(), self.output.len());
        dx[..pass.batch * in_len].fill(0.0);
        for n in 0..pass.batch {
            let image = &mut dx[n * in_len..(n + 1) * in_len];
            let g = &dy[n * out_len..(n + 1) * out_len];
            self.for_each_pixel(|o, i| {
                copy_short(&mut image[i..i + ci], &g[o + p..o + p + ci]);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::check;

    #[test]
    fn subsamples_pads_and_routes_the_gradient() {
        let input = Dims::image(2, 5, 4);
        let layer = PadShortcut::new(input, 5, 2).unwrap();
        assert_eq!(layer.output_dims(), Dims::image(5, 3, 2));
        check::layer_against_reference(layer, 2, 1.0, move |x, _, _| {
            let mut y = Vec::new();
            for image in x.chunks(input.len()) {
                for h in 0..3 {
                    for w in 0..2 {
                        for c in 0..5 {
                            y.push(if (1..3).contains(&c) {
                                image[((2 * h) * 4 + 2 * w) * 2 + c - 1]
                            } else {
                                0.0
                            });
                        }
                    }
                }
            }
            y
        });
        assert!(PadShortcut::new(input, 1, 2).is_err());
    }
}
