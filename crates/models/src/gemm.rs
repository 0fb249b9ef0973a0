//! Single-threaded f32 matrix products for the networks: `C += A·B` with packing buffers owned by
//! the caller (no allocation once they have grown), rows of an operand optionally gathered
//! through an index list (a mini-batch is multiplied straight out of the dataset, without
//! copying it first), and results that do not depend on the CPU.
//!
//! ```
//! use optbench_models::gemm::{Mat, PackBuffers, gemm};
//!
//! // C (2 × 2) = A (2 × 3) · Bᵀ, with B stored row-major as 2 × 3 (like a torch.nn.Linear weight).
//! let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
//! let b = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0];
//! let mut c = [0.5; 4];
//! let mut buffers = PackBuffers::default();
//! gemm(2, 2, 3, Mat::rows(&a, 3), Mat::transposed(&b, 3), &mut c, true, &mut buffers);
//! assert_eq!(c, [4.5, 2.5, 10.5, 5.5]);
//! // Rows 1 and 0 of A, gathered through an index list, without accumulating into C.
//! gemm(2, 2, 3, Mat::gathered(&a, 3, &[1, 0]), Mat::transposed(&b, 3), &mut c, false, &mut buffers);
//! assert_eq!(c, [10.0, 5.0, 4.0, 2.0]);
//! ```
//!
//! **Exactness.** Every element of C is one fused multiply-add chain in the order of k:
//! `c ← fma(a[i][0], b[0][j], c)`, then `fma(a[i][1], b[1][j], c)`, …, starting from C's value
//! (or from 0 when `accumulate` is false). The blocking (over k, m and n) and the SIMD width only
//! change which elements are computed together, never the order of one chain, and `f32::mul_add`
//! rounds once on every CPU. So the product is bit-identical to the scalar loop
//! `for p in 0..k { c = a(i, p).mul_add(b(p, j), c) }` on AVX-512, AVX2+FMA and baseline x86-64
//! alike (the baseline has no FMA instruction, so there `mul_add` is a correctly rounded library
//! call: exact, but slow). matrixmultiply, by contrast, picks a kernel per CPU and its sums differ
//! in the last bits between machines.
//!
//! **Algorithm.** The loop nest of Goto & van de Geijn ("Anatomy of high-performance matrix
//! multiplication", ACM TOMS 34(3), 2008) as in BLIS: blocks of `KC` along k; B packed into
//! panels of `NR` columns and A into panels of `MR` rows; a 6 × 16 register-blocked micro-kernel
//! (12 AVX2 accumulators) written as plain array code that LLVM turns into broadcasts and
//! `vfmadd231ps`, compiled for AVX-512 and AVX2+FMA at run time by `multiversion`.

use multiversion::multiversion;

/// Rows of an A micro-panel.
const MR: usize = 6;
/// Columns of a B micro-panel.
const NR: usize = 16;
/// Largest block along k (a B micro-panel, KC × NR floats = 16 KiB, stays in L1).
const KC: usize = 256;
/// Largest block along m (a packed A block, MC × KC floats = 144 KiB, stays in L2).
const MC: usize = 144;
/// Largest block along n (a packed B block lives in L3).
const NC: usize = 4096;

/// A read-only matrix operand: element (r, c) is `data[row_start(r) + c * col_stride]`, with
/// `row_start(r) = rows[r] * row_stride` when a row index list is given, else `r * row_stride`.
#[derive(Clone, Copy, Debug)]
pub struct Mat<'a> {
    data: &'a [f32],
    row_stride: usize,
    col_stride: usize,
    rows: Option<&'a [usize]>,
}

impl<'a> Mat<'a> {
    /// Row-major with `cols` columns: (r, c) at `data[r * cols + c]`.
    pub fn rows(data: &'a [f32], cols: usize) -> Self {
        Mat {
            data,
            row_stride: cols,
            col_stride: 1,
            rows: None,
        }
    }

    /// The transpose of a row-major matrix with `cols` columns: (r, c) at `data[c * cols + r]`.
    pub fn transposed(data: &'a [f32], cols: usize) -> Self {
        Mat {
            data,
            row_stride: 1,
            col_stride: cols,
            rows: None,
        }
    }

    /// Rows `index[0], index[1], …` of a row-major matrix with `cols` columns.
    pub fn gathered(data: &'a [f32], cols: usize, index: &'a [usize]) -> Self {
        Mat {
            data,
            row_stride: cols,
            col_stride: 1,
            rows: Some(index),
        }
    }

    #[inline(always)]
    fn row_start(&self, r: usize) -> usize {
        self.rows.map_or(r, |ix| ix[r]) * self.row_stride
    }

    #[inline(always)]
    fn at(&self, r: usize, c: usize) -> f32 {
        self.data[self.row_start(r) + c * self.col_stride]
    }
}

/// Packing buffers, grown on first use and reused afterwards.
#[derive(Clone, Debug, Default)]
pub struct PackBuffers {
    a: Vec<f32>,
    b: Vec<f32>,
}

/// Zeros standing in for the rows or columns past the edge of a matrix in a partial panel.
static ZEROS: [f32; KC] = [0.0; KC];

/// `C (m × n, row-major) = C + A·B` (or `A·B` when `accumulate` is false), with A m × k and
/// B k × n; every element one FMA chain in the order of k (see the module documentation).
///
/// # Panics
/// If an operand or C is too small for the shapes (a bug in the caller, not a user error).
#[allow(clippy::too_many_arguments)]
pub fn gemm(
    m: usize,
    n: usize,
    k: usize,
    a: Mat,
    b: Mat,
    c: &mut [f32],
    accumulate: bool,
    buf: &mut PackBuffers,
) {
    assert!(c.len() >= m * n, "C holds {} of {m} × {n}", c.len());
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return;
    }
    // Blocks along k of (almost) equal size, so that no block is a sliver.
    let kc = k.div_ceil(k.div_ceil(KC));
    let a_len = m.min(MC).div_ceil(MR) * MR * kc;
    let b_len = n.min(NC).div_ceil(NR) * NR * kc;
    if buf.a.len() < a_len {
        buf.a.resize(a_len, 0.0);
    }
    if buf.b.len() < b_len {
        buf.b.resize(b_len, 0.0);
    }
    gemm_blocked(m, n, k, kc, a, b, c, accumulate, buf);
}

#[multiversion(targets("x86_64+avx512f+avx512vl+fma", "x86_64+avx2+fma"))]
#[allow(clippy::too_many_arguments)]
fn gemm_blocked(
    m: usize,
    n: usize,
    k: usize,
    kc_max: usize,
    a: Mat,
    b: Mat,
    c: &mut [f32],
    accumulate: bool,
    buf: &mut PackBuffers,
) {
    for j0 in (0..n).step_by(NC) {
        let nc = NC.min(n - j0);
        for p0 in (0..k).step_by(kc_max) {
            let kc = kc_max.min(k - p0);
            let bp = &mut buf.b[..nc.div_ceil(NR) * NR * kc];
            for (panel, dst) in bp.chunks_exact_mut(NR * kc).enumerate() {
                let j = j0 + panel * NR;
                pack_b(b, p0, kc, j, NR.min(n - j), dst);
            }
            // The first block starts each chain from 0 unless C is accumulated into.
            let load_c = accumulate || p0 > 0;
            for i0 in (0..m).step_by(MC) {
                let mc = MC.min(m - i0);
                let ap = &mut buf.a[..mc.div_ceil(MR) * MR * kc];
                for (panel, dst) in ap.chunks_exact_mut(MR * kc).enumerate() {
                    let i = i0 + panel * MR;
                    pack_a(a, i, MR.min(m - i), p0, kc, dst);
                }
                for (jp, b_panel) in bp.chunks_exact(NR * kc).enumerate() {
                    let j = j0 + jp * NR;
                    let cols = NR.min(n - j);
                    for (ip, a_panel) in ap.chunks_exact(MR * kc).enumerate() {
                        let i = i0 + ip * MR;
                        let rows = MR.min(m - i);
                        let mut acc = [[0.0f32; NR]; MR];
                        if load_c {
                            for (r, acc_row) in acc.iter_mut().enumerate().take(rows) {
                                copy_prefix(&mut acc_row[..], &c[(i + r) * n + j..], cols);
                            }
                        }
                        kernel(a_panel, b_panel, &mut acc);
                        for (r, acc_row) in acc.iter().enumerate().take(rows) {
                            copy_prefix(&mut c[(i + r) * n + j..], acc_row, cols);
                        }
                    }
                }
            }
        }
    }
}

/// `acc[i][j] = fma(a[p][i], b[p][j], acc[i][j])` for p in order, over one A micro-panel
/// (kc × MR, k-major) and one B micro-panel (kc × NR, k-major).
#[inline(always)]
fn kernel(a_panel: &[f32], b_panel: &[f32], acc: &mut [[f32; NR]; MR]) {
    let mut c = *acc;
    for (a, b) in a_panel.chunks_exact(MR).zip(b_panel.chunks_exact(NR)) {
        for (c_row, &a_i) in c.iter_mut().zip(a) {
            for (c_ij, &b_j) in c_row.iter_mut().zip(b) {
                *c_ij = a_i.mul_add(b_j, *c_ij);
            }
        }
    }
    *acc = c;
}

/// Packs rows `i .. i + rows` (`rows ≤ MR`; missing rows are zeros) and columns `p0 .. p0 + kc`
/// of A as `dst[p * MR + r] = A(i + r, p0 + p)`.
#[inline(always)]
fn pack_a(a: Mat, i: usize, rows: usize, p0: usize, kc: usize, dst: &mut [f32]) {
    if a.col_stride == 1 {
        // Each row is contiguous along k: transpose MR row slices.
        let src: [&[f32]; MR] = std::array::from_fn(|r| {
            if r < rows {
                &a.data[a.row_start(i + r) + p0..][..kc]
            } else {
                &ZEROS[..kc]
            }
        });
        transpose_into(src, kc, dst);
    } else if a.row_stride == 1 && a.rows.is_none() {
        // The MR rows are adjacent for each k: copy.
        for (p, d) in dst.chunks_exact_mut(MR).enumerate() {
            copy_prefix(d, &a.data[(p0 + p) * a.col_stride + i..], rows);
            d[rows..].fill(0.0);
        }
    } else {
        for (p, d) in dst.chunks_exact_mut(MR).enumerate() {
            for (r, v) in d.iter_mut().enumerate() {
                *v = if r < rows { a.at(i + r, p0 + p) } else { 0.0 };
            }
        }
    }
}

/// Packs rows `p0 .. p0 + kc` and columns `j .. j + cols` (`cols ≤ NR`; missing columns are
/// zeros) of B as `dst[p * NR + t] = B(p0 + p, j + t)`.
#[inline(always)]
fn pack_b(b: Mat, p0: usize, kc: usize, j: usize, cols: usize, dst: &mut [f32]) {
    if b.col_stride == 1 {
        // The NR columns are adjacent in each row: copy (rows may be gathered).
        for (p, d) in dst.chunks_exact_mut(NR).enumerate() {
            copy_prefix(d, &b.data[b.row_start(p0 + p) + j..], cols);
            d[cols..].fill(0.0);
        }
    } else if b.row_stride == 1 && b.rows.is_none() {
        // Each column is contiguous along k: transpose NR column slices.
        let src: [&[f32]; NR] = std::array::from_fn(|t| {
            if t < cols {
                &b.data[(j + t) * b.col_stride + p0..][..kc]
            } else {
                &ZEROS[..kc]
            }
        });
        transpose_into(src, kc, dst);
    } else {
        for (p, d) in dst.chunks_exact_mut(NR).enumerate() {
            for (t, v) in d.iter_mut().enumerate() {
                *v = if t < cols { b.at(p0 + p, j + t) } else { 0.0 };
            }
        }
    }
}

/// `dst[..len] = src[..len]`; a full micro-panel row (MR or NR) is copied as a fixed-size array
/// (vector moves) rather than through a `memmove` call.
#[inline(always)]
fn copy_prefix(dst: &mut [f32], src: &[f32], len: usize) {
    match len {
        NR => dst[..NR].copy_from_slice(&src[..NR]),
        MR => dst[..MR].copy_from_slice(&src[..MR]),
        _ => dst[..len].copy_from_slice(&src[..len]),
    }
}

/// `dst[p * W + t] = src[t][p]` for `p < kc`: W streams read in step, written contiguously
/// (measured faster here than transposing 8 × W tiles through registers).
#[inline(always)]
fn transpose_into<const W: usize>(src: [&[f32]; W], kc: usize, dst: &mut [f32]) {
    let src: [&[f32]; W] = std::array::from_fn(|t| &src[t][..kc]);
    for (p, out) in dst[..kc * W].chunks_exact_mut(W).enumerate() {
        for (v, s) in out.iter_mut().zip(&src) {
            *v = s[p];
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};

    use super::*;

    /// The definition: one scalar FMA chain per element, in the order of k.
    fn reference(m: usize, n: usize, k: usize, a: Mat, b: Mat, c: &mut [f32], accumulate: bool) {
        for i in 0..m {
            for j in 0..n {
                let mut s = if accumulate { c[i * n + j] } else { 0.0 };
                for p in 0..k {
                    s = a.at(i, p).mul_add(b.at(p, j), s);
                }
                c[i * n + j] = s;
            }
        }
    }

    fn random(len: usize, rng: &mut impl Rng) -> Vec<f32> {
        (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect()
    }

    /// All operand layouts the networks use, against the scalar definition, bit for bit.
    fn check(m: usize, n: usize, k: usize, layout: u8, accumulate: bool, seed: u64) {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let pool = 3 * m.max(k) + 1;
        let a_rows = random(pool * k, &mut rng);
        let a_cols = random(k * m, &mut rng);
        let b_rows = random(pool * n, &mut rng);
        let b_cols = random(n * k, &mut rng);
        let a_index: Vec<usize> = (0..m).map(|_| rng.random_range(0..pool)).collect();
        let b_index: Vec<usize> = (0..k).map(|_| rng.random_range(0..pool)).collect();
        let a = match layout % 3 {
            0 => Mat::rows(&a_rows, k),
            1 => Mat::transposed(&a_cols, m),
            _ => Mat::gathered(&a_rows, k, &a_index),
        };
        let b = match layout / 3 {
            0 => Mat::rows(&b_rows, n),
            1 => Mat::transposed(&b_cols, k),
            _ => Mat::gathered(&b_rows, n, &b_index),
        };
        let c0 = random(m * n, &mut rng);
        let mut want = c0.clone();
        reference(m, n, k, a, b, &mut want, accumulate);
        let mut buf = PackBuffers::default();
        let mut got = c0.clone();
        gemm(m, n, k, a, b, &mut got, accumulate, &mut buf);
        let same = |x: &[f32]| x.iter().zip(&want).all(|(g, w)| g.to_bits() == w.to_bits());
        assert!(
            same(&got),
            "{m}×{n}×{k}, layout {layout}, accumulate {accumulate}"
        );
        // Buffers left over from the first product give the same bits.
        let mut again = c0;
        gemm(m, n, k, a, b, &mut again, accumulate, &mut buf);
        assert!(same(&again), "reused buffers");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn equals_the_fma_chain_bit_for_bit(
            m in 1usize..20,
            n in 1usize..40,
            k in 0usize..40,
            layout in 0u8..9,
            accumulate: bool,
            seed: u64,
        ) {
            check(m, n, k, layout, accumulate, seed);
        }
    }

    /// Shapes that cross every block boundary: k over KC (two k blocks), m over MC, partial
    /// panels on every edge.
    #[test]
    fn block_boundaries_do_not_change_the_chain() {
        for (m, n, k) in [(MC + 7, NR + 3, KC + 9), (MR + 1, 2 * NR + 1, 2 * KC + 1)] {
            for layout in 0..9 {
                check(m, n, k, layout, true, layout.into());
            }
        }
    }

    #[test]
    fn matches_an_f64_product() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let (m, n, k) = (33, 21, 300);
        let a = random(m * k, &mut rng);
        let b = random(k * n, &mut rng);
        let mut c = vec![0.0; m * n];
        gemm(
            m,
            n,
            k,
            Mat::rows(&a, k),
            Mat::rows(&b, n),
            &mut c,
            false,
            &mut PackBuffers::default(),
        );
        for i in 0..m {
            for j in 0..n {
                let exact: f64 = (0..k)
                    .map(|p| f64::from(a[i * k + p]) * f64::from(b[p * n + j]))
                    .sum();
                assert!((f64::from(c[i * n + j]) - exact).abs() < 1e-4, "({i}, {j})");
            }
        }
    }
}
