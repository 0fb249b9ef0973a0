//! 2-D max pooling per channel, PyTorch's `nn.MaxPool2d(kernel, stride)`:
//! `y[n, oh, ow, c] = max_{i, j} x[n, oh·s + i − pad_top, ow·s + j − pad_left, c]`.
//!
//! Padding comes in PyTorch's two flavours: [`PadValue::NegInfinity`] is `MaxPool2d(padding=p)`
//! (padded positions never win), [`PadValue::Zero`] is DeepOBS's `tfmaxpool2d` with TensorFlow's
//! `'SAME'`, which pads with `F.pad` (zeros) before pooling. Ties go to the first maximum in
//! scan order (row by row), and a NaN always wins, as in PyTorch's CPU kernel; backward routes each
//! output's gradient to that position (a zero pad that wins takes it away).

use super::window::{Padding, Window};
use super::{Dims, Layer, LayerError, Pass};
use crate::cpu::on_path;

/// What the padded border holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PadValue {
    /// −∞: padding never wins (PyTorch's `padding=`).
    NegInfinity,
    /// 0 (DeepOBS's `F.pad` before `max_pool2d`).
    Zero,
}

/// Marks an output whose maximum was a zero pad.
const FROM_PAD: u32 = u32::MAX;

/// `nn.MaxPool2d` on channels-last images.
#[derive(Clone, Debug)]
pub struct MaxPool2d {
    input: Dims,
    window: Window,
    pad_value: PadValue,
    out_h: usize,
    out_w: usize,
    /// For each output element of the last forward, the input offset (within its image) of the
    /// maximum, or [`FROM_PAD`].
    argmax: Vec<u32>,
}

impl MaxPool2d {
    /// Max pooling of `kernel × kernel` windows every `stride` pixels.
    pub fn new(
        input: Dims,
        kernel: usize,
        stride: usize,
        padding: Padding,
        pad_value: PadValue,
    ) -> Result<Self, LayerError> {
        let window = Window {
            kernel,
            stride,
            padding,
        };
        let (out_h, out_w) = window
            .output(input)
            .map_err(|m| LayerError::new("MaxPool2d", m))?;
        if input.channels == 0 || input.len() >= FROM_PAD as usize {
            return Err(LayerError::new("MaxPool2d", format!("cannot pool {input}")));
        }
        Ok(MaxPool2d {
            input,
            window,
            pad_value,
            out_h,
            out_w,
            argmax: Vec::new(),
        })
    }
}

impl Layer for MaxPool2d {
    fn kind(&self) -> &'static str {
        "MaxPool2d"
    }

    fn input_dims(&self) -> Dims {
        self.input
    }

    fn output_dims(&self) -> Dims {
        Dims::image(self.input.channels, self.out_h, self.out_w)
    }

    fn reserve(&mut self, batch: usize) {
        let n = batch * self.output_dims().len();
        if self.argmax.len() < n {
            self.argmax.resize(n, 0);
        }
    }

    fn forward(&mut self, x: &[f32], y: &mut [f32], _: &[f32], _: &mut [f32], pass: &mut Pass) {
        let (c, h, w) = (self.input.channels, self.input.height, self.input.width);
        let win = self.window;
        let (in_len, out_len) = (self.input.len(), self.output_dims().len());
        let pad_wins = self.pad_value == PadValue::Zero;
        for n in 0..pass.batch {
            let image = &x[n * in_len..(n + 1) * in_len];
            let out = &mut y[n * out_len..(n + 1) * out_len];
            let arg = &mut self.argmax[n * out_len..(n + 1) * out_len];
            for oh in 0..self.out_h {
                for ow in 0..self.out_w {
                    let o = (oh * self.out_w + ow) * c;
                    let (best, at) = (&mut out[o..o + c], &mut arg[o..o + c]);
                    best.fill(f32::NEG_INFINITY);
                    at.fill(FROM_PAD);
                    for i in 0..win.kernel {
                        let sh = win.source(oh, i, win.padding.top, h);
                        for j in 0..win.kernel {
                            match (sh, win.source(ow, j, win.padding.left, w)) {
                                (Some(sh), Some(sw)) => {
                                    let base = (sh * w + sw) * c;
                                    running_max(best, at, &image[base..base + c], base);
                                }
                                _ if pad_wins => {
                                    for (b, a) in best.iter_mut().zip(at.iter_mut()) {
                                        if 0.0 > *b {
                                            *b = 0.0;
                                            *a = FROM_PAD;
                                        }
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
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
        let (in_len, out_len) = (self.input.len(), self.output_dims().len());
        dx[..pass.batch * in_len].fill(0.0);
        for n in 0..pass.batch {
            let image = &mut dx[n * in_len..(n + 1) * in_len];
            let arg = &self.argmax[n * out_len..(n + 1) * out_len];
            for (&a, &g) in arg.iter().zip(&dy[n * out_len..(n + 1) * out_len]) {
                if a != FROM_PAD {
                    image[a as usize] += g;
                }
            }
        }
    }
}

on_path! {
    /// `best = max(best, src)` per channel, `at` the index (`base + ch`) of the value kept;
    /// NaN wins as in PyTorch. Branch-free selects, so that the loop vectorises.
    fn running_max(best: &mut [f32], at: &mut [u32], src: &[f32], base: usize) {
        for (ch, ((b, a), &v)) in best.iter_mut().zip(at.iter_mut()).zip(src).enumerate() {
            let take = v > *b || v.is_nan();
            *b = if take { v } else { *b };
            *a = if take { (base + ch) as u32 } else { *a };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::check;

    fn reference(pool: &MaxPool2d, x: &[f64]) -> Vec<f64> {
        let (c, h, w) = (pool.input.channels, pool.input.height, pool.input.width);
        let win = pool.window;
        let mut y = Vec::new();
        for image in x.chunks(pool.input.len()) {
            for oh in 0..pool.out_h {
                for ow in 0..pool.out_w {
                    for ch in 0..c {
                        let mut m = f64::NEG_INFINITY;
                        for i in 0..win.kernel {
                            for j in 0..win.kernel {
                                let v = match (
                                    win.source(oh, i, win.padding.top, h),
                                    win.source(ow, j, win.padding.left, w),
                                ) {
                                    (Some(a), Some(b)) => image[(a * w + b) * c + ch],
                                    _ if pool.pad_value == PadValue::Zero => 0.0,
                                    _ => f64::NEG_INFINITY,
                                };
                                m = m.max(v);
                            }
                        }
                        y.push(m);
                    }
                }
            }
        }
        y
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let cases = [
            (
                Dims::image(2, 4, 4),
                2,
                2,
                Padding::default(),
                PadValue::NegInfinity,
            ),
            (
                Dims::image(3, 6, 5),
                3,
                2,
                Padding::same(6, 5, 3, 2),
                PadValue::Zero,
            ),
            (
                Dims::image(2, 5, 5),
                3,
                1,
                Padding::symmetric(1),
                PadValue::NegInfinity,
            ),
        ];
        for (input, k, s, pad, value) in cases {
            let pool = MaxPool2d::new(input, k, s, pad, value).unwrap();
            let r = pool.clone();
            check::layer_against_reference(pool, 2, 1.0, move |x, _, _| reference(&r, x));
        }
    }
}
