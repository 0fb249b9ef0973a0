//! Sliding-window geometry shared by convolution and pooling: kernel, stride and padding, and
//! the output size `⌊(in + pad_before + pad_after − kernel) / stride⌋ + 1` (PyTorch's
//! `Conv2d`/`MaxPool2d` with `ceil_mode=False`, dilation 1).

use super::Dims;

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
}
