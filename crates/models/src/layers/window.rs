//! Sliding-window geometry shared by convolution and pooling: kernel, stride and padding, and
//! the output size `⌊(in + pad_before + pad_after − kernel) / stride⌋ + 1` (PyTorch's
//! `Conv2d`/`MaxPool2d` with `ceil_mode=False`, dilation 1).

use super::{Dims, copy_short};

/// Padding on each side of an image, in pixels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Padding {
    /// Rows added above.
    pub top: usize,
    /// Rows added below.
    pub bottom: usize,
    /// Columns added on the left.
    pub left: usize,
    /// Columns added on the right.
    pub right: usize,
}

impl Padding {
    /// The same padding on every side (PyTorch's integer `padding=p`).
    pub const fn symmetric(p: usize) -> Self {
        Padding {
            top: p,
            bottom: p,
            left: p,
            right: p,
        }
    }

    /// TensorFlow's `padding='SAME'` (as DeepOBS's `tfconv2d`/`tfmaxpool2d` apply it with
    /// `F.pad`): the output has `⌈in / stride⌉` pixels per axis, the total padding is
    /// `max((out − 1)·stride + kernel − in, 0)`, and the smaller half goes before (top/left).
    /// For stride 1 and an odd kernel this is PyTorch's `padding='same'`.
    pub fn same(height: usize, width: usize, kernel: usize, stride: usize) -> Self {
        let split = |len: usize| {
            let out = len.div_ceil(stride.max(1));
            let total = ((out.max(1) - 1) * stride + kernel).saturating_sub(len);
            (total / 2, total - total / 2)
        };
        let (top, bottom) = split(height);
        let (left, right) = split(width);
        Padding {
            top,
            bottom,
            left,
            right,
        }
    }
}

/// A square kernel sliding over an image with a stride and padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window {
    /// Kernel height and width.
    pub kernel: usize,
    /// Step between windows, along both axes.
    pub stride: usize,
    /// Padding of the input.
    pub padding: Padding,
}

impl Window {
    /// Output height and width on `input`, or why there is none (a kernel larger than the
    /// padded input, a zero kernel or stride).
    pub fn output(&self, input: Dims) -> Result<(usize, usize), String> {
        if self.kernel == 0 || self.stride == 0 {
            return Err(format!(
                "kernel and stride must be at least 1, found kernel {} and stride {}",
                self.kernel, self.stride
            ));
        }
        let padded_h = input.height + self.padding.top + self.padding.bottom;
        let padded_w = input.width + self.padding.left + self.padding.right;
        if self.kernel > padded_h || self.kernel > padded_w {
            return Err(format!(
                "kernel {k}×{k} is larger than its padded input {padded_h}×{padded_w}",
                k = self.kernel
            ));
        }
        Ok((
            (padded_h - self.kernel) / self.stride + 1,
            (padded_w - self.kernel) / self.stride + 1,
        ))
    }

    /// The input row (or column) of window position `out` and kernel offset `k` along an axis
    /// with `before` padding, or `None` in the padding.
    #[inline(always)]
    pub(crate) fn source(&self, out: usize, k: usize, before: usize, len: usize) -> Option<usize> {
        (out * self.stride + k)
            .checked_sub(before)
            .filter(|&i| i < len)
    }
}

/// A channels-last image size with the padding its copy gets: `h × w × c` inside
/// `(top + h + bottom) × (left + w + right) × c`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PaddedImage {
    /// Height of the image without padding.
    pub h: usize,
    /// Width of the image without padding.
    pub w: usize,
    /// Channels.
    pub c: usize,
    /// Zeros around it.
    pub pad: Padding,
}

impl PaddedImage {
    pub(crate) fn width(&self) -> usize {
        self.pad.left + self.w + self.pad.right
    }

    pub(crate) fn len(&self) -> usize {
        (self.pad.top + self.h + self.pad.bottom) * self.width() * self.c
    }

    /// The floats between two rows of the padded image.
    pub(crate) fn row_step(&self) -> usize {
        self.width() * self.c
    }

    /// `g` images of `src` with their padding, in `scratch` (or `src` itself without padding).
    pub(crate) fn copy<'s>(&self, src: &'s [f32], g: usize, scratch: &'s mut [f32]) -> &'s [f32] {
        if self.pad == Padding::default() {
            return &src[..g * self.len()];
        }
        let (c, row) = (self.c, self.row_step());
        let dst = &mut scratch[..g * self.len()];
        for (image, out) in src
            .chunks_exact(self.h * self.w * c)
            .zip(dst.chunks_exact_mut(self.len()))
        {
            let (top, rest) = out.split_at_mut(self.pad.top * row);
            top.fill(0.0);
            let (middle, bottom) = rest.split_at_mut(self.h * row);
            bottom.fill(0.0);
            for (dst_row, src_row) in middle
                .chunks_exact_mut(row)
                .zip(image.chunks_exact(self.w * c))
            {
                let (left, rest) = dst_row.split_at_mut(self.pad.left * c);
                left.fill(0.0);
                let (inside, right) = rest.split_at_mut(self.w * c);
                copy_short(inside, src_row);
                right.fill(0.0);
            }
        }
        dst
    }

    /// Where each window of `h_out × w_out` positions with `stride` starts, for `g` images.
    pub(crate) fn window_starts(
        &self,
        g: usize,
        h_out: usize,
        w_out: usize,
        stride: usize,
    ) -> Vec<usize> {
        let mut starts = Vec::with_capacity(g * h_out * w_out);
        for n in 0..g {
            for oh in 0..h_out {
                for ow in 0..w_out {
                    starts
                        .push(n * self.len() + (oh * stride * self.width() + ow * stride) * self.c);
                }
            }
        }
        starts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensorflow_same_padding() {
        // DeepOBS 3c3d: 3×3 max pool, stride 2, on 28×28 → 14×14, one extra row and column
        // below and right.
        let p = Padding::same(28, 28, 3, 2);
        assert_eq!((p.top, p.bottom, p.left, p.right), (0, 1, 0, 1));
        // 5×5 convolution, stride 1: two on each side.
        assert_eq!(Padding::same(28, 28, 5, 1), Padding::symmetric(2));
        // 2×2 pool, stride 2, on an even size: none.
        assert_eq!(Padding::same(28, 28, 2, 2), Padding::default());
        let w = Window {
            kernel: 3,
            stride: 2,
            padding: Padding::same(12, 12, 3, 2),
        };
        assert_eq!(w.output(Dims::image(1, 12, 12)), Ok((6, 6)));
    }

    #[test]
    fn kernel_larger_than_input_is_an_error() {
        let w = Window {
            kernel: 5,
            stride: 1,
            padding: Padding::default(),
        };
        assert!(
            w.output(Dims::image(1, 4, 8))
                .unwrap_err()
                .contains("larger")
        );
        assert_eq!(w.output(Dims::image(1, 5, 8)), Ok((1, 4)));
    }

    #[test]
    fn padded_copies_hold_the_images_inside_zeros() {
        let image = PaddedImage {
            h: 2,
            w: 1,
            c: 2,
            pad: Padding {
                top: 1,
                bottom: 0,
                left: 0,
                right: 1,
            },
        };
        assert_eq!((image.len(), image.row_step()), (12, 4));
        let src = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        let mut scratch = [f32::NAN; 24];
        let padded = image.copy(&src, 2, &mut scratch);
        #[rustfmt::skip]
        let want = [
            0.0, 0.0, 0.0, 0.0,  1.0, 2.0, 0.0, 0.0,  3.0, 4.0, 0.0, 0.0,
            0.0, 0.0, 0.0, 0.0,  5.0, 6.0, 0.0, 0.0,  7.0, 8.0, 0.0, 0.0,
        ];
        assert_eq!(padded, want);
        // Windows of 2 × 2 with stride 1 over one image start at rows 0 and 1.
        assert_eq!(image.window_starts(2, 2, 1, 1), [0, 4, 12, 16]);
        // Without padding, the images themselves.
        let plain = PaddedImage {
            pad: Padding::default(),
            ..image
        };
        assert_eq!(plain.copy(&src, 2, &mut scratch).as_ptr(), src.as_ptr());
    }
}
