//! Causal multi-head scaled dot-product attention (Vaswani et al. 2017, "Attention Is All You
//! Need", §3.2; the decoder's masked form), the core of GPT-2's `CausalSelfAttention` between
//! its two linear layers. The input is the projection `qkv = x·W_qkvᵀ + b` of a sequence,
//! `1 × T × 3d` with the queries, keys and values of all heads side by side (nanoGPT's
//! `q, k, v = self.c_attn(x).split(d, dim=2)`, head `h` in columns `h·d_h … (h+1)·d_h − 1` of
//! each, `d_h = d / heads`); the output, `1 × T × d`, is the heads' results side by side, ready
//! for the output projection. Per example and head, with `Q, K, V` of `T × d_h`:
//!
//! ```text
//! S = Q·Kᵀ / √d_h                       S[t][s] for s ≤ t only (causal)
//! P[t][s] = exp(S[t][s] − m_t) / Σ_{s' ≤ t} exp(S[t][s'] − m_t),   m_t = max_{s ≤ t} S[t][s]
//! O = P·V
//! ```
//!
//! The maximum is subtracted before the exponential, so no logit overflows. The PyTorch
//! equivalent is `F.scaled_dot_product_attention(q, k, v, is_causal=True)` on
//! `(B, heads, T, d_h)` views. No parameters; `P` is kept for backward, which is, with
//! `dO = ∂L/∂O`:
//!
//! ```text
//! dV = Pᵀ·dO        dP = dO·Vᵀ        D_t = Σ_s dP[t][s] P[t][s] = Σ_j dO[t][j] O[t][j]
//! dS = P ⊙ (dP − D) / √d_h            dQ = dS·K        dK = dSᵀ·Q
//! ```
//!
//! (`D` from `O` and `dO` as FlashAttention's backward does, Dao et al. 2022). The products are
//! [`crate::gemm`]'s, so the same bits on every CPU; `exp` is `libm`'s. `S`, `P` and `dS` are
//! computed in two causal blocks ([`causal_blocks`]), which skip a quarter of the products by
//! the zeros above the diagonal.

use super::libm_lanes;
use super::{Dims, Layer, LayerError, Pass, Workspace, copy_short};
use crate::cpu::on_path;
use crate::gemm::{Mat, PackBuffers, gemm};

/// The causal multi-head attention of one layer (no parameters).
#[derive(Clone, Debug)]
pub struct CausalSelfAttention {
    tokens: usize,
    d_model: usize,
    heads: usize,
    /// `P` of every example and head of the last forward, `batch × heads × T × T`.
    probs: Vec<f32>,
}

impl CausalSelfAttention {
    /// Attention over sequences of `tokens` positions of width `d_model`, split into `heads`.
    pub fn new(tokens: usize, d_model: usize, heads: usize) -> Result<Self, LayerError> {
        if tokens == 0 || heads == 0 || d_model == 0 || d_model % heads != 0 {
            return Err(LayerError::new(
                "CausalSelfAttention",
                format!(
                    "d_model ({d_model}) must be a positive multiple of heads ({heads}), \
                     over at least one token"
                ),
            ));
        }
        Ok(CausalSelfAttention {
            tokens,
            d_model,
            heads,
            probs: Vec::new(),
        })
    }

    fn head_dim(&self) -> usize {
        self.d_model / self.heads
    }

    fn scale(&self) -> f32 {
        1.0 / (self.head_dim() as f32).sqrt()
    }
}

/// `dst (rows × cols) ← src` from a matrix with row stride `src_stride` (or the reverse). Rows
/// of the usual head widths are copied as fixed-size arrays (vector moves): a loop of
/// [`copy_short`] or `copy_from_slice` became a `memmove` call per row, 2 % of a transformer
/// step.
fn copy_block(dst: &mut [f32], dst_stride: usize, src: &[f32], src_stride: usize, shape: Dims) {
    fn rows<const W: usize>(
        dst: &mut [f32],
        dst_stride: usize,
        src: &[f32],
        src_stride: usize,
        n: usize,
    ) {
        for r in 0..n {
            let d: &mut [f32; W] = (&mut dst[r * dst_stride..r * dst_stride + W])
                .try_into()
                .expect("W");
            let s: &[f32; W] = (&src[r * src_stride..r * src_stride + W])
                .try_into()
                .expect("W");
            *d = *s;
        }
    }
    match shape.width {
        16 => rows::<16>(dst, dst_stride, src, src_stride, shape.height),
        32 => rows::<32>(dst, dst_stride, src, src_stride, shape.height),
        w => {
            for r in 0..shape.height {
                copy_short(
                    &mut dst[r * dst_stride..r * dst_stride + w],
                    &src[r * src_stride..r * src_stride + w],
                );
            }
        }
    }
}

/// Partial results of a row's maximum and sum.
const ROW_LANES: usize = 16;

/// `(max_i v[i], Σ_i v[i])` of a row after `v[i] ← f(v[i])`: [`ROW_LANES`] partial maxima and
/// sums (element `i` into partial `i mod ROW_LANES`, in order), combined by a fixed pairwise
/// tree, so the same on every CPU path, without one long chain of dependent additions.
#[inline(always)]
fn map_max_sum(v: &mut [f32], f: impl Fn(f32) -> f32) -> (f32, f32) {
    let mut max = [f32::NEG_INFINITY; ROW_LANES];
    let mut sum = [0.0f32; ROW_LANES];
    let mut chunks = v.chunks_exact_mut(ROW_LANES);
    for chunk in &mut chunks {
        for ((m, s), v) in max.iter_mut().zip(sum.iter_mut()).zip(chunk.iter_mut()) {
            *v = f(*v);
            *m = m.max(*v);
            *s += *v;
        }
    }
    let rest = chunks.into_remainder();
    for ((m, s), v) in max.iter_mut().zip(sum.iter_mut()).zip(rest.iter_mut()) {
        *v = f(*v);
        *m = m.max(*v);
        *s += *v;
    }
    let mut width = ROW_LANES;
    while width > 1 {
        width /= 2;
        for l in 0..width {
            max[l] = max[l].max(max[l + width]);
            sum[l] += sum[l + width];
        }
    }
    (max[0], sum[0])
}

on_path! {
    /// `S ← softmax(scale · S)` row by row over the causal part `s ≤ t`, zero above the
    /// diagonal, for the rows `t = first, first + 1, …` of a causal block (rows of `width`
    /// columns; the exponentials [`libm_lanes`]' libm bits, 16 at a time; the maximum and the
    /// sum by [`map_max_sum`]).
    fn causal_softmax(s: &mut [f32], first: usize, width: usize, scale: f32) {
        for (i, row) in s.chunks_exact_mut(width).enumerate() {
            let (live, masked) = row.split_at_mut(first + i + 1);
            let (max, _) = map_max_sum(live, |v| v * scale);
            libm_lanes::exp_minus_in_place(live, max);
            let (_, sum) = map_max_sum(live, |v| v);
            let inv = 1.0 / sum;
            live.iter_mut().for_each(|v| *v *= inv);
            masked.fill(0.0);
        }
    }
}

/// The two causal blocks of a `T × T` score matrix: rows `0 … h−1` against columns `0 … h−1`,
/// and rows `h … T−1` against all columns (`h = T/2`), as `(first row, end row)`; the
/// columns of a block end where its rows end. Stored one after the other (`h × h`, then
/// `(T − h) × T`, row-major), they leave out the quarter of the products above the diagonal
/// that one `T × T` product computes and the softmax zeroes.
fn causal_blocks(t_len: usize) -> [(usize, usize); 2] {
    let h = t_len / 2;
    [(0, h), (h, t_len)]
}

/// The block `(r0, r1)` of the scores stored by [`causal_blocks`]' layout in `s` (`T²` floats).
fn block_of(s: &[f32], r0: usize, r1: usize) -> &[f32] {
    let start = r0 * r0;
    &s[start..start + (r1 - r0) * r1]
}

/// [`block_of`], mutable.
fn block_of_mut(s: &mut [f32], r0: usize, r1: usize) -> &mut [f32] {
    let start = r0 * r0;
    &mut s[start..start + (r1 - r0) * r1]
}

impl Layer for CausalSelfAttention {
    fn kind(&self) -> &'static str {
        "CausalSelfAttention"
    }

    fn input_dims(&self) -> Dims {
        Dims {
            height: 1,
            width: self.tokens,
            channels: 3 * self.d_model,
        }
    }

    fn output_dims(&self) -> Dims {
        Dims {
            height: 1,
            width: self.tokens,
            channels: self.d_model,
        }
    }

    fn scratch_len(&self, _batch: usize) -> usize {
        // dP (T × T) and three T × d_h blocks.
        self.tokens * self.tokens + 3 * self.tokens * self.head_dim()
    }

    fn reserve(&mut self, batch: usize) {
        let n = batch * self.heads * self.tokens * self.tokens;
        if self.probs.len() < n {
            self.probs.resize(n, 0.0);
        }
    }

    fn forward(&mut self, x: &[f32], y: &mut [f32], _: &[f32], _: &mut [f32], pass: &mut Pass) {
        let (t_len, d, dh) = (self.tokens, self.d_model, self.head_dim());
        let scale = self.scale();
        let Workspace { pack, scratch } = &mut *pass.ws;
        let o = &mut scratch[..t_len * dh];
        let block = Dims {
            height: t_len,
            width: dh,
            channels: 1,
        };
        let mut probs = self.probs.chunks_exact_mut(t_len * t_len);
        for n in 0..pass.batch {
            let qkv = &x[n * t_len * 3 * d..(n + 1) * t_len * 3 * d];
            let out = &mut y[n * t_len * d..(n + 1) * t_len * d];
            for h in 0..self.heads {
                let p = probs.next().expect("reserved");
                let (q, k, v) = (&qkv[h * dh..], &qkv[d + h * dh..], &qkv[2 * d + h * dh..]);
                for (r0, r1) in causal_blocks(t_len) {
                    let (rows, pb) = (r1 - r0, block_of_mut(p, r0, r1));
                    let q_rows = Mat::rows(&q[r0 * 3 * d..], 3 * d);
                    gemm(
                        rows,
                        r1,
                        dh,
                        q_rows,
                        Mat::transposed(k, 3 * d),
                        pb,
                        false,
                        pack,
                    );
                    causal_softmax(pb, r0, r1, scale);
                }
                causal_product(p, v, 3 * d, t_len, dh, o, pack);
                copy_block(&mut out[h * dh..], d, o, dh, block);
            }
        }
    }

    fn backward(
        &mut self,
        x: &[f32],
        y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _p: &[f32],
        _grad: &mut [f32],
        pass: &mut Pass,
    ) {
        let Some(dx) = dx else { return };
        let (t_len, d, dh) = (self.tokens, self.d_model, self.head_dim());
        let scale = self.scale();
        let Workspace { pack, scratch } = &mut *pass.ws;
        let (dp, rest) = scratch.split_at_mut(t_len * t_len);
        let (d_o, rest) = rest.split_at_mut(t_len * dh);
        let (tmp, rest) = rest.split_at_mut(t_len * dh);
        let diag = &mut rest[..t_len * dh];
        let block = Dims {
            height: t_len,
            width: dh,
            channels: 1,
        };
        let mut probs = self.probs.chunks_exact(t_len * t_len);
        for n in 0..pass.batch {
            let qkv = &x[n * t_len * 3 * d..(n + 1) * t_len * 3 * d];
            let dqkv = &mut dx[n * t_len * 3 * d..(n + 1) * t_len * 3 * d];
            let out = &y[n * t_len * d..(n + 1) * t_len * d];
            let dout = &dy[n * t_len * d..(n + 1) * t_len * d];
            for h in 0..self.heads {
                let p = probs.next().expect("reserved");
                let (q, k, v) = (&qkv[h * dh..], &qkv[d + h * dh..], &qkv[2 * d + h * dh..]);
                copy_block(d_o, dh, &dout[h * dh..], d, block);
                // dV = Pᵀ·dO
                causal_transposed_product(p, d_o, dh, t_len, dh, tmp, pack);
                copy_block(&mut dqkv[2 * d + h * dh..], 3 * d, tmp, dh, block);
                // D_t = Σ_j dO[t][j] O[t][j]; `diag` holds the head's O rows.
                copy_block(diag, dh, &out[h * dh..], d, block);
                for (r0, r1) in causal_blocks(t_len) {
                    // dP = dO·Vᵀ, then dS = P ⊙ (dP − D) · scale in place.
                    let (rows, dpb) = (r1 - r0, block_of_mut(dp, r0, r1));
                    let d_o_rows = Mat::rows(&d_o[r0 * dh..], dh);
                    gemm(
                        rows,
                        r1,
                        dh,
                        d_o_rows,
                        Mat::transposed(v, 3 * d),
                        dpb,
                        false,
                        pack,
                    );
                    let pb = block_of(p, r0, r1);
                    for t in r0..r1 {
                        let o_row = &diag[t * dh..(t + 1) * dh];
                        let g_row = &d_o[t * dh..(t + 1) * dh];
                        let dt: f32 = o_row.iter().zip(g_row).map(|(&a, &b)| a * b).sum();
                        let i = t - r0;
                        let (ds, prow) =
                            (&mut dpb[i * r1..(i + 1) * r1], &pb[i * r1..(i + 1) * r1]);
                        for (s, (g, &p)) in ds.iter_mut().zip(prow).enumerate() {
                            *g = if s <= t { p * (*g - dt) * scale } else { 0.0 };
                        }
                    }
                }
                // dQ = dS·K, dK = dSᵀ·Q
                causal_product(dp, k, 3 * d, t_len, dh, tmp, pack);
                copy_block(&mut dqkv[h * dh..], 3 * d, tmp, dh, block);
                causal_transposed_product(dp, q, 3 * d, t_len, dh, tmp, pack);
                copy_block(&mut dqkv[d + h * dh..], 3 * d, tmp, dh, block);
            }
        }
    }
}

/// `C (T × dh) = X·B` for a `T × T` matrix X zero above the diagonal, stored in
/// [`causal_blocks`]' layout, and B (`T × dh`, rows `b_stride` apart): each block's rows
/// against the rows of B up to its end. Every element is the chain of [`gemm`] in the order
/// of k without the products by X's zeros above the diagonal (which add nothing).
fn causal_product(
    x: &[f32],
    b: &[f32],
    b_stride: usize,
    t_len: usize,
    dh: usize,
    c: &mut [f32],
    pack: &mut PackBuffers,
) {
    for (r0, r1) in causal_blocks(t_len) {
        let xb = Mat::rows(block_of(x, r0, r1), r1);
        let c_rows = &mut c[r0 * dh..r1 * dh];
        gemm(
            r1 - r0,
            dh,
            r1,
            xb,
            Mat::rows(b, b_stride),
            c_rows,
            false,
            pack,
        );
    }
}

/// `C (T × dh) = Xᵀ·B` for X as in [`causal_product`]: the first block's transpose gives rows
/// `0 … h−1` from B's rows `0 … h−1`, then the second block's adds every row's terms from B's
/// rows `h … T−1` (rows `h …` start from 0), so each element is still one chain in the order
/// of k.
fn causal_transposed_product(
    x: &[f32],
    b: &[f32],
    b_stride: usize,
    t_len: usize,
    dh: usize,
    c: &mut [f32],
    pack: &mut PackBuffers,
) {
    let [(_, h), _] = causal_blocks(t_len);
    let c = &mut c[..t_len * dh];
    c[h * dh..].fill(0.0);
    let first = Mat::transposed(block_of(x, 0, h), h);
    gemm(
        h,
        dh,
        h,
        first,
        Mat::rows(b, b_stride),
        &mut c[..h * dh],
        false,
        pack,
    );
    let second = Mat::transposed(block_of(x, h, t_len), t_len);
    let b_rest = Mat::rows(&b[h * b_stride..], b_stride);
    gemm(t_len, dh, t_len - h, second, b_rest, c, true, pack);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::check;

    /// f64 reference of the definition: per example and head, masked softmax of Q·Kᵀ/√d_h.
    fn reference(x: &[f64], t_len: usize, d: usize, heads: usize) -> Vec<f64> {
        let dh = d / heads;
        let mut y = Vec::new();
        for qkv in x.chunks(t_len * 3 * d) {
            let at = |t: usize, c: usize| qkv[t * 3 * d + c];
            let mut out = vec![0.0; t_len * d];
            for h in 0..heads {
                for t in 0..t_len {
                    let scores: Vec<f64> = (0..=t)
                        .map(|s| {
                            (0..dh)
                                .map(|j| at(t, h * dh + j) * at(s, d + h * dh + j))
                                .sum::<f64>()
                                / (dh as f64).sqrt()
                        })
                        .collect();
                    let m = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let e: Vec<f64> = scores.iter().map(|s| (s - m).exp()).collect();
                    let z: f64 = e.iter().sum();
                    for j in 0..dh {
                        out[t * d + h * dh + j] =
                            (0..=t).map(|s| e[s] / z * at(s, 2 * d + h * dh + j)).sum();
                    }
                }
            }
            y.extend(out);
        }
        y
    }

    #[test]
    fn gradient_matches_finite_differences() {
        // Head widths 3, 4, 2 and 16 (rows copied as fixed-size arrays).
        for (t_len, d, heads, batch) in [(4, 6, 2, 2), (5, 4, 1, 1), (3, 8, 4, 2), (3, 32, 2, 1)] {
            let layer = CausalSelfAttention::new(t_len, d, heads).unwrap();
            check::layer_against_reference(layer, batch, 1.0, |x, _, _| {
                reference(x, t_len, d, heads)
            });
        }
    }

    #[test]
    fn heads_must_divide_the_width() {
        assert!(CausalSelfAttention::new(4, 6, 4).is_err());
        assert!(CausalSelfAttention::new(4, 6, 0).is_err());
    }
}
