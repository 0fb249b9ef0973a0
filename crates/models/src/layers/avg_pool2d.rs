//! 2-D average pooling per channel, PyTorch's `nn.AvgPool2d(kernel, stride, padding)` with its
//! defaults `ceil_mode=False, count_include_pad=True`: the zero padding counts, so every window
//! divides by `kernel²`:
//! `y[n, oh, ow, c] = (Σ_{i, j} x[n, oh·s + i − pad_top, ow·s + j − pad_left, c]) / kernel²`.
//! Backward spreads `∂y / kernel²` over each window.

use super::window::{Padding, Window};
use super::{Dims, Layer, LayerError, Pass};

/// `nn.AvgPool2d` on channels-last images.
#[derive(Clone, Debug)]
pub struct AvgPool2d {
    input: Dims,
    window: Window,
    out_h: usize,
    out_w: usize,
}

impl AvgPool2d {
    /// Average pooling of `kernel × kernel` windows every `stride` pixels.
    pub fn new(
        input: Dims,
        kernel: usize,
        stride: usize,
        padding: Padding,
    ) -> Result<Self, LayerError> {
        let window = Window {
            kernel,
            stride,
            padding,
        };
        let (out_h, out_w) = window
            .output(input)
            .map_err(|m| LayerError::new("AvgPool2d", m))?;
        if input.channels == 0 {
            return Err(LayerError::new("AvgPool2d", "needs at least one channel"));
        }
        Ok(AvgPool2d {
            input,
            window,
            out_h,
            out_w,
        })
    }

    /// Calls `f(output offset, input offset)` for every (window, in-bounds position), per image.
    fn for_each_tap(&self, mut f: impl FnMut(usize, usize)) {
        let (h, w, c) = (self.input.height, self.input.width, self.input.channels);
        let win = self.window;
        for oh in 0..self.out_h {
            for ow in 0..self.out_w {
                let o = (oh * self.out_w + ow) * c;
                for i in 0..win.kernel {
                    let Some(sh) = win.source(oh, i, win.padding.top, h) else {
                        continue;
                    };
                    for j in 0..win.kernel {
                        if let Some(sw) = win.source(ow, j, win.padding.left, w) {
                            f(o, (sh * w + sw) * c);
                        }
                    }
                }
            }
        }
    }
}

impl Layer for AvgPool2d {
    fn kind(&self) -> &'static str {
        "AvgPool2d"
    }

    fn input_dims(&self) -> Dims {
        self.input
    }

    fn output_dims(&self) -> Dims {
        Dims::image(self.input.channels, self.out_h, self.out_w)
    }

    fn forward(&mut self, x: &[f32], y: &mut [f32], _: &[f32], _: &mut [f32], pass: &mut Pass) {
        let (c, in_len, out_len) = (
            self.input.channels,
            self.input.len(),
            self.output_dims().len(),
        );
        let divisor = (self.window.kernel * self.window.kernel) as f32;
        for n in 0..pass.batch {
            let image = &x[n * in_len..(n + 1) * in_len];
            let out = &mut y[n * out_len..(n + 1) * out_len];
            out.fill(0.0);
            self.for_each_tap(|o, i| {
                out[o..o + c]
                    .iter_mut()
                    .zip(&image[i..i + c])
                    .for_each(|(s, &v)| *s += v);
            });
            out.iter_mut().for_each(|s| *s /= divisor);
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
        let (c, in_len, out_len) = (
            self.input.channels,
            self.input.len(),
            self.output_dims().len(),
        );
        let divisor = (self.window.kernel * self.window.kernel) as f32;
        dx[..pass.batch * in_len].fill(0.0);
        for n in 0..pass.batch {
            let image = &mut dx[n * in_len..(n + 1) * in_len];
            let g = &dy[n * out_len..(n + 1) * out_len];
            self.for_each_tap(|o, i| {
                image[i..i + c]
                    .iter_mut()
                    .zip(&g[o..o + c])
                    .for_each(|(d, &v)| *d += v / divisor);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::check;

    #[test]
    fn gradient_matches_finite_differences() {
        let cases = [
            (Dims::image(2, 4, 4), 2, 2, Padding::default()),
            (Dims::image(3, 5, 6), 3, 2, Padding::symmetric(1)),
        ];
        for (input, k, s, pad) in cases {
            let pool = AvgPool2d::new(input, k, s, pad).unwrap();
            let r = pool.clone();
            check::layer_against_reference(pool, 2, 1.0, move |x, _, _| {
                let (c, h, w) = (input.channels, input.height, input.width);
                let mut y = Vec::new();
                for image in x.chunks(input.len()) {
                    for oh in 0..r.out_h {
                        for ow in 0..r.out_w {
                            for ch in 0..c {
                                let mut s = 0.0;
                                for i in 0..k {
                                    for j in 0..k {
                                        let ih = (oh * s_of(&r) + i) as isize - pad.top as isize;
                                        let iw = (ow * s_of(&r) + j) as isize - pad.left as isize;
                                        if ih >= 0
                                            && iw >= 0
                                            && (ih as usize) < h
                                            && (iw as usize) < w
                                        {
                                            s += image[((ih as usize) * w + iw as usize) * c + ch];
                                        }
                                    }
                                }
                                y.push(s / (k * k) as f64);
                            }
                        }
                    }
                }
                y
            });
        }
    }

    fn s_of(p: &AvgPool2d) -> usize {
        p.window.stride
    }
}
