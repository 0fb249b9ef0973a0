//! 2-D convolution, PyTorch's `nn.Conv2d(in, out, kernel, stride, padding, bias)` (dilation 1,
//! groups 1; asymmetric padding as DeepOBS's `tfconv2d` with TensorFlow's `'SAME'`):
//!
//! `y[n, oh, ow, o] = b[o] + Σ_{c, i, j} W[o, c, i, j] · x[n, oh·s + i − pad_top, ow·s + j − pad_left, c]`
//!
//! with zeros outside the input. Parameters: `weight` (`out × in × k × k`, PyTorch's layout),
//! then `bias` (`out`) if enabled. Default initialisation as PyTorch's `reset_parameters()`:
//! `W, b ~ U(−1/√fan_in, 1/√fan_in)`, `fan_in = in · k²`.
//!
//! **Algorithm: im2col + GEMM** on the channels-last layout. A group of images is unrolled into
//! a matrix with one row per output pixel and one column per (i, j, c) (`k²·in` columns, runs of
//! `in` contiguous channels copied at once), so that the output block — already in
//! channels-last order — is one product `rows × k²·in · k²·in × out` with the weight reordered
//! to `(i, j, c) × out` (a copy of the few weights per pass). Backward recomputes the unrolled
//! block: `∂W = colᵀ · ∂y` (accumulated over groups), `∂col = ∂y · Wᵀ`, scattered back (col2im)
//! into `∂x`. A 1×1 convolution with stride 1 and no padding multiplies the input directly.
//! Groups hold as many images as fit [`GROUP_FLOATS`] (about 1 MB, in L2), so the unrolled
//! block is written and read back from cache. im2col was chosen over a direct convolution
//! because it turns the whole layer into the crate's GEMM (measured in `benches/conv.rs`).

use rand_chacha::ChaCha8Rng;

use super::window::{Padding, Window};
use super::{
    Dims, Layer, LayerError, Pass, TensorSpec, Workspace, column_sums, copy_short, uniform_init,
};
use crate::gemm::{Mat, gemm};

/// Target size of one group's unrolled block, in floats.
pub const GROUP_FLOATS: usize = 1 << 18;

/// `nn.Conv2d` on channels-last images.
#[derive(Clone, Debug)]
pub struct Conv2d {
    input: Dims,
    out_channels: usize,
    window: Window,
    bias: bool,
    out_h: usize,
    out_w: usize,
    /// The weight as a `k²·in × out` matrix, rows in (i, j, c) order.
    w_gemm: Vec<f32>,
    /// Its gradient, in the same order.
    gw_gemm: Vec<f32>,
}

impl Conv2d {
    /// A convolution with `out_channels` filters of `kernel × kernel` over `input`.
    pub fn new(
        input: Dims,
        out_channels: usize,
        kernel: usize,
        stride: usize,
        padding: Padding,
        bias: bool,
    ) -> Result<Self, LayerError> {
        if input.channels == 0 || out_channels == 0 {
            return Err(LayerError::new(
                "Conv2d",
                format!(
                    "needs at least one channel, found {} → {out_channels}",
                    input.channels
                ),
            ));
        }
        let window = Window {
            kernel,
            stride,
            padding,
        };
        let (out_h, out_w) = window
            .output(input)
            .map_err(|m| LayerError::new("Conv2d", m))?;
        let k = kernel * kernel * input.channels;
        Ok(Conv2d {
            input,
            out_channels,
            window,
            bias,
            out_h,
            out_w,
            w_gemm: vec![0.0; k * out_channels],
            gw_gemm: vec![0.0; k * out_channels],
        })
    }

    /// Columns of the unrolled input: `k² · in`.
    fn k(&self) -> usize {
        self.window.kernel * self.window.kernel * self.input.channels
    }

    fn pointwise(&self) -> bool {
        self.window.kernel == 1
            && self.window.stride == 1
            && self.window.padding == Padding::default()
    }

    /// Images per group for a batch of `batch`.
    fn group(&self, batch: usize) -> usize {
        let per_image = self.out_h * self.out_w * self.k();
        (GROUP_FLOATS / per_image.max(1)).clamp(1, batch.max(1))
    }

    /// Unrolls images `x` (`g` of them) into `col` (`g · out_h · out_w` rows of `k()`).
    fn im2col(&self, x: &[f32], g: usize, col: &mut [f32]) {
        let (c, h, w) = (self.input.channels, self.input.height, self.input.width);
        let (kk, k) = (self.window.kernel, self.k());
        let pad = self.window.padding;
        let mut rows = col[..g * self.out_h * self.out_w * k].chunks_exact_mut(k);
        for image in x.chunks_exact(self.input.len()).take(g) {
            for oh in 0..self.out_h {
                for ow in 0..self.out_w {
                    let row = rows.next().expect("sized by the caller");
                    // The window's columns are adjacent in the input: one run of k·c values per
                    // kernel row when the whole run is inside, else value by value.
                    let first = (ow * self.window.stride).checked_sub(pad.left);
                    let inside = first.is_some_and(|f| f + kk <= w);
                    for i in 0..kk {
                        let src_h = self.window.source(oh, i, pad.top, h);
                        let dst_row = &mut row[i * kk * c..(i + 1) * kk * c];
                        match (src_h, first) {
                            (None, _) => dst_row.fill(0.0),
                            (Some(sh), Some(f)) if inside => {
                                copy_short(dst_row, &image[(sh * w + f) * c..][..kk * c]);
                            }
                            (Some(sh), _) => {
                                for (j, dst) in dst_row.chunks_exact_mut(c).enumerate() {
                                    match self.window.source(ow, j, pad.left, w) {
                                        Some(sw) => {
                                            copy_short(dst, &image[(sh * w + sw) * c..][..c])
                                        }
                                        None => dst.fill(0.0),
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds the unrolled gradient `col` back onto the `g` images of `dx` (overwritten).
    fn col2im(&self, col: &[f32], g: usize, dx: &mut [f32]) {
        let (c, h, w) = (self.input.channels, self.input.height, self.input.width);
        let (kk, k) = (self.window.kernel, self.k());
        let pad = self.window.padding;
        let dx = &mut dx[..g * self.input.len()];
        dx.fill(0.0);
        let mut rows = col.chunks_exact(k);
        for image in dx.chunks_exact_mut(self.input.len()) {
            for oh in 0..self.out_h {
                for ow in 0..self.out_w {
                    let row = rows.next().expect("sized by the caller");
                    for i in 0..kk {
                        let Some(sh) = self.window.source(oh, i, pad.top, h) else {
                            continue;
                        };
                        for j in 0..kk {
                            if let Some(sw) = self.window.source(ow, j, pad.left, w) {
                                let src = &row[(i * kk + j) * c..][..c];
                                let dst = &mut image[(sh * w + sw) * c..][..c];
                                dst.iter_mut().zip(src).for_each(|(d, &v)| *d += v);
                            }
                        }
                    }
                }
            }
        }
    }

    /// `w_gemm[(i·k + j)·in + c][o] = W[o][c][i][j]`.
    fn reorder_weight(&mut self, w: &[f32]) {
        let (c_in, kk, out) = (self.input.channels, self.window.kernel, self.out_channels);
        for (o, filter) in w.chunks_exact(c_in * kk * kk).enumerate() {
            for (c, plane) in filter.chunks_exact(kk * kk).enumerate() {
                for (ij, &v) in plane.iter().enumerate() {
                    self.w_gemm[(ij * c_in + c) * out + o] = v;
                }
            }
        }
    }

    /// The inverse of [`Conv2d::reorder_weight`], from `gw_gemm` into `gw`.
    fn restore_weight_grad(&self, gw: &mut [f32]) {
        let (c_in, kk, out) = (self.input.channels, self.window.kernel, self.out_channels);
        for (o, filter) in gw.chunks_exact_mut(c_in * kk * kk).enumerate() {
            for (c, plane) in filter.chunks_exact_mut(kk * kk).enumerate() {
                for (ij, v) in plane.iter_mut().enumerate() {
                    *v = self.gw_gemm[(ij * c_in + c) * out + o];
                }
            }
        }
    }
}

impl Layer for Conv2d {
    fn kind(&self) -> &'static str {
        "Conv2d"
    }

    fn input_dims(&self) -> Dims {
        self.input
    }

    fn output_dims(&self) -> Dims {
        Dims::image(self.out_channels, self.out_h, self.out_w)
    }

    fn params(&self) -> Vec<TensorSpec> {
        let kk = self.window.kernel;
        let mut p = vec![TensorSpec::new(
            "weight",
            &[self.out_channels, self.input.channels, kk, kk],
        )];
        if self.bias {
            p.push(TensorSpec::new("bias", &[self.out_channels]));
        }
        p
    }

    fn init_params(&self, params: &mut [f32], rng: &mut ChaCha8Rng) {
        uniform_init(params, self.k(), rng);
    }

    fn scratch_len(&self, batch: usize) -> usize {
        if self.pointwise() {
            0
        } else {
            self.group(batch) * self.out_h * self.out_w * self.k()
        }
    }

    fn forward(&mut self, x: &[f32], y: &mut [f32], p: &[f32], _: &mut [f32], pass: &mut Pass) {
        let (k, out) = (self.k(), self.out_channels);
        let (w, b) = p.split_at(k * out);
        self.reorder_weight(w);
        let g = self.group(pass.batch);
        let (in_len, out_len) = (self.input.len(), self.out_h * self.out_w * out);
        let Workspace { pack, scratch } = &mut *pass.ws;
        for n0 in (0..pass.batch).step_by(g) {
            let g = g.min(pass.batch - n0);
            let rows = g * self.out_h * self.out_w;
            let xg = &x[n0 * in_len..(n0 + g) * in_len];
            let yg = &mut y[n0 * out_len..(n0 + g) * out_len];
            if self.bias {
                yg.chunks_exact_mut(out).for_each(|r| copy_short(r, b));
            }
            let a = if self.pointwise() {
                Mat::rows(xg, k)
            } else {
                self.im2col(xg, g, scratch);
                Mat::rows(scratch, k)
            };
            gemm(
                rows,
                out,
                k,
                a,
                Mat::rows(&self.w_gemm, out),
                yg,
                self.bias,
                pack,
            );
        }
    }

    fn backward(
        &mut self,
        x: &[f32],
        _y: &[f32],
        dy: &[f32],
        mut dx: Option<&mut [f32]>,
        _p: &[f32],
        grad: &mut [f32],
        pass: &mut Pass,
    ) {
        let (k, out) = (self.k(), self.out_channels);
        let g = self.group(pass.batch);
        let (in_len, out_len) = (self.input.len(), self.out_h * self.out_w * out);
        let Workspace { pack, scratch } = &mut *pass.ws;
        for n0 in (0..pass.batch).step_by(g) {
            let g = g.min(pass.batch - n0);
            let rows = g * self.out_h * self.out_w;
            let xg = &x[n0 * in_len..(n0 + g) * in_len];
            let dyg = Mat::rows(&dy[n0 * out_len..(n0 + g) * out_len], out);
            let accumulate = n0 > 0;
            if self.pointwise() {
                let a = Mat::transposed(xg, k);
                gemm(k, out, rows, a, dyg, &mut self.gw_gemm, accumulate, pack);
                if let Some(dx) = dx.as_deref_mut() {
                    let dxg = &mut dx[n0 * in_len..(n0 + g) * in_len];
                    let wt = Mat::transposed(&self.w_gemm, out);
                    gemm(rows, k, out, dyg, wt, dxg, false, pack);
                }
                continue;
            }
            self.im2col(xg, g, scratch);
            let col = Mat::transposed(&scratch[..rows * k], k);
            gemm(k, out, rows, col, dyg, &mut self.gw_gemm, accumulate, pack);
            if let Some(dx) = dx.as_deref_mut() {
                let wt = Mat::transposed(&self.w_gemm, out);
                gemm(rows, k, out, dyg, wt, scratch, false, pack);
                self.col2im(scratch, g, &mut dx[n0 * in_len..]);
            }
        }
        let (gw, gb) = grad.split_at_mut(k * out);
        self.restore_weight_grad(gw);
        if self.bias {
            column_sums(&dy[..pass.batch * out_len], out, gb);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::check;

    /// Direct f64 convolution in PyTorch's terms (weight `out × in × k × k`).
    pub(crate) fn reference(conv: &Conv2d, x: &[f64], p: &[f64]) -> Vec<f64> {
        let (c_in, h, w) = (conv.input.channels, conv.input.height, conv.input.width);
        let (kk, out) = (conv.window.kernel, conv.out_channels);
        let pad = conv.window.padding;
        let mut y = Vec::new();
        for image in x.chunks(conv.input.len()) {
            for oh in 0..conv.out_h {
                for ow in 0..conv.out_w {
                    for o in 0..out {
                        let mut s = if conv.bias {
                            p[out * c_in * kk * kk + o]
                        } else {
                            0.0
                        };
                        for c in 0..c_in {
                            for i in 0..kk {
                                for j in 0..kk {
                                    let ih =
                                        (oh * conv.window.stride + i) as isize - pad.top as isize;
                                    let iw =
                                        (ow * conv.window.stride + j) as isize - pad.left as isize;
                                    if ih < 0 || iw < 0 || ih >= h as isize || iw >= w as isize {
                                        continue;
                                    }
                                    let xv = image[((ih as usize) * w + iw as usize) * c_in + c];
                                    s += p[((o * c_in + c) * kk + i) * kk + j] * xv;
                                }
                            }
                        }
                        y.push(s);
                    }
                }
            }
        }
        y
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let cases = [
            (Dims::image(2, 5, 4), 3, 3, 1, Padding::symmetric(1), true),
            (
                Dims::image(3, 6, 6),
                2,
                3,
                2,
                Padding::same(6, 6, 3, 2),
                false,
            ),
            (
                Dims::image(1, 7, 5),
                4,
                5,
                1,
                Padding::same(7, 5, 5, 1),
                true,
            ),
            (Dims::image(3, 4, 4), 2, 1, 1, Padding::default(), true),
            (Dims::image(2, 5, 5), 3, 1, 2, Padding::default(), false),
            (
                Dims::image(2, 5, 6),
                3,
                2,
                2,
                Padding {
                    top: 0,
                    bottom: 1,
                    left: 1,
                    right: 0,
                },
                true,
            ),
        ];
        for (input, out, kernel, stride, padding, bias) in cases {
            let conv = Conv2d::new(input, out, kernel, stride, padding, bias).unwrap();
            let r = conv.clone();
            check::layer_against_reference(conv, 3, 1.0, move |x, p, _| reference(&r, x, p));
        }
    }

    #[test]
    fn groups_do_not_change_the_result() {
        // A batch larger than one group: the same bits as image by image.
        let input = Dims::image(4, 20, 20);
        let mut conv = Conv2d::new(input, 8, 3, 1, Padding::symmetric(1), true).unwrap();
        let per_group = conv.group(1000);
        assert!(per_group < 40, "{per_group}");
        let batch = per_group * 2 + 3;
        let mut rng = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1);
        let x = check::random(batch * input.len(), 1.0, &mut rng);
        let p = check::random(8 * 4 * 9 + 8, 0.3, &mut rng);
        let r = check::random(batch * conv.output_dims().len(), 1.0, &mut rng);
        let (y, dx, dp) = check::run(
            &mut conv,
            &x,
            &p,
            &mut [],
            &r,
            batch,
            super::super::Mode::Train,
        );
        let one = conv.output_dims().len();
        for n in [0, batch - 1] {
            let (y1, dx1, _) = check::run(
                &mut conv,
                &x[n * input.len()..(n + 1) * input.len()],
                &p,
                &mut [],
                &r[n * one..(n + 1) * one],
                1,
                super::super::Mode::Train,
            );
            assert_eq!(y1, y[n * one..(n + 1) * one]);
            assert_eq!(dx1, dx[n * input.len()..(n + 1) * input.len()]);
        }
        assert!(dp.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn bad_shapes_are_errors() {
        let e = Conv2d::new(Dims::image(1, 4, 4), 2, 5, 1, Padding::default(), true).unwrap_err();
        assert!(e.message.contains("larger"), "{e}");
        assert!(Conv2d::new(Dims::image(0, 4, 4), 2, 3, 1, Padding::default(), true).is_err());
        assert!(Conv2d::new(Dims::image(1, 4, 4), 0, 3, 1, Padding::default(), true).is_err());
        assert!(Conv2d::new(Dims::image(1, 4, 4), 1, 3, 0, Padding::default(), true).is_err());
    }
}
