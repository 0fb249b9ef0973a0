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
//! (or from 0 when `accumulate` is false). The blocking (over k, m and n), the micro-kernel's
//! size and the SIMD width only change which elements are computed together, never the order of
//! one chain, and `f32::mul_add` rounds once on every CPU. So the product is bit-identical to
//! the scalar loop `for p in 0..k { c = a(i, p).mul_add(b(p, j), c) }` on AVX-512, AVX2+FMA and
//! baseline x86-64 alike (the baseline has no FMA instruction, so there `mul_add` is a correctly
//! rounded library call: exact, but slow); [`gemm_on`] runs a chosen path so tests can compare
//! them. matrixmultiply, by contrast, picks a kernel per CPU and its sums differ in the last
//! bits between machines.
//!
//! **Algorithm.** The loop nest of Goto & van de Geijn ("Anatomy of high-performance matrix
//! multiplication", ACM TOMS 34(3), 2008) as in BLIS: blocks of `KC` along k; B packed into
//! panels of `NR` columns (or read in place when it is one such panel already); a register-blocked `MR × NR` micro-kernel written as plain array
//! code that LLVM turns into broadcasts and `vfmadd231ps`, compiled per [`CpuPath`]. A is
//! either read in place, row by row, when its rows are contiguous (BLIS's "sup" kernels for
//! skinny products: packing a row-major A is a transpose that cost as much as the product when
//! B has 16 columns), or packed into panels of `MR` rows when its columns are contiguous (a
//! copy). The kernel sizes per path are in [`crate::cpu`]: on AVX-512, 12 × 32 when B is wide
//! (24 of the 32 registers accumulate, enough to hide the FMA latency on both FMA pipes) and
//! 12 × 16 when it has at most 16 columns; on AVX2, 6 × 16 (12 accumulators). Rows (or
//! columns) may start anywhere ([`Mat::row_starts`]), and a row may be made of runs apart
//! from each other ([`Mat::windows`]; the kernel keeps its tile of C in registers from one run
//! to the next): the convolutions ([`crate::layers::conv2d`]) read each window where it lies
//! in the image, in place.

use crate::cpu::{CpuPath, NARROW, per_path};

mod kernels;
use kernels::{kernel_columns, kernel_packed, kernel_rows};

/// Largest block along k (a B micro-panel, KC × NR floats = 16 or 32 KiB, stays in L1).
const KC: usize = 256;
/// Largest block along m (a packed A block, MC × KC floats = 144 KiB, stays in L2); a multiple
/// of every kernel's row count.
const MC: usize = 144;
/// Largest block along n (a packed B block lives in L3); a multiple of every panel width.
const NC: usize = 4096;
/// Most rows and columns of any micro-kernel.
const MAX_MR: usize = 12;
const MAX_NR: usize = 32;

/// A read-only matrix operand: element (r, c) is `data[row_start(r) + col_start(c)]`, with
/// `row_start(r) = rows[r] * row_stride` when a row index list is given, else `r * row_stride`
/// (and `col_start` likewise with the column list and `col_stride`), except for
/// [`Mat::windows`], whose columns come in runs.
#[derive(Clone, Copy, Debug)]
pub struct Mat<'a> {
    data: &'a [f32],
    row_stride: usize,
    col_stride: usize,
    rows: Option<&'a [usize]>,
    cols: Option<&'a [usize]>,
    /// Columns per run of adjacent floats ([`usize::MAX`]: one run)…
    run: usize,
    /// …and how far each run starts after the previous one.
    run_step: usize,
}

impl<'a> Mat<'a> {
    /// Row-major with `cols` columns: (r, c) at `data[r * cols + c]`.
    pub fn rows(data: &'a [f32], cols: usize) -> Self {
        Mat {
            data,
            row_stride: cols,
            col_stride: 1,
            rows: None,
            cols: None,
            run: usize::MAX,
            run_step: 0,
        }
    }

    /// The transpose of a row-major matrix with `cols` columns: (r, c) at `data[c * cols + r]`.
    pub fn transposed(data: &'a [f32], cols: usize) -> Self {
        Mat {
            data,
            row_stride: 1,
            col_stride: cols,
            rows: None,
            cols: None,
            run: usize::MAX,
            run_step: 0,
        }
    }

    /// Rows `index[0], index[1], …` of a row-major matrix with `cols` columns.
    pub fn gathered(data: &'a [f32], cols: usize, index: &'a [usize]) -> Self {
        Mat {
            data,
            row_stride: cols,
            col_stride: 1,
            rows: Some(index),
            cols: None,
            run: usize::MAX,
            run_step: 0,
        }
    }

    /// Rows that start anywhere: (r, c) at `data[starts[r] + c]` (the windows of a convolution,
    /// read where they lie in the image instead of unrolled first).
    pub fn row_starts(data: &'a [f32], starts: &'a [usize]) -> Self {
        Mat {
            data,
            row_stride: 1,
            col_stride: 1,
            rows: Some(starts),
            cols: None,
            run: usize::MAX,
            run_step: 0,
        }
    }

    /// The transpose of [`Mat::row_starts`]: (r, c) at `data[starts[c] + r]`.
    pub fn column_starts(data: &'a [f32], starts: &'a [usize]) -> Self {
        Mat {
            data,
            row_stride: 1,
            col_stride: 1,
            rows: None,
            cols: Some(starts),
            run: usize::MAX,
            run_step: 0,
        }
    }

    /// Rows that start anywhere, each made of runs of `run` adjacent floats, run `q` beginning
    /// `q · run_step` after the row's start: (r, c) at
    /// `data[starts[r] + (c / run) · run_step + c % run]`. A convolution's windows, one kernel
    /// row per run ([`crate::layers::conv2d`]): the product reads all of a window in one
    /// pass over C instead of one pass per kernel row.
    pub fn windows(data: &'a [f32], starts: &'a [usize], run: usize, run_step: usize) -> Self {
        Mat {
            run: run.max(1),
            run_step,
            ..Mat::row_starts(data, starts)
        }
    }

    #[inline(always)]
    fn row_start(&self, r: usize) -> usize {
        self.rows.map_or(r, |ix| ix[r]) * self.row_stride
    }

    #[inline(always)]
    fn col_start(&self, c: usize) -> usize {
        if self.run == usize::MAX {
            self.cols.map_or(c, |ix| ix[c]) * self.col_stride
        } else {
            c / self.run * self.run_step + c % self.run
        }
    }

    /// Whether the columns come in several runs ([`Mat::windows`]).
    #[inline(always)]
    fn in_runs(&self) -> bool {
        self.run != usize::MAX
    }

    /// Whether each row's columns are adjacent (within each run for [`Mat::windows`]): a row can
    /// be read in place.
    #[inline(always)]
    fn contiguous_rows(&self) -> bool {
        self.col_stride == 1 && self.cols.is_none()
    }

    /// Whether each column's rows are adjacent and the columns start where a list says.
    #[inline(always)]
    fn column_starts_only(&self) -> bool {
        self.row_stride == 1 && self.rows.is_none() && self.cols.is_some()
    }

    /// Whether the matrix is laid out as one packed panel of `width` columns: row-major with
    /// exactly `width` columns, rows not gathered.
    #[inline(always)]
    fn is_panel(&self, width: usize) -> bool {
        self.contiguous_rows() && self.rows.is_none() && self.row_stride == width
    }

    /// Whether each column's rows are adjacent.
    #[inline(always)]
    fn contiguous_columns(&self) -> bool {
        self.row_stride == 1 && self.rows.is_none()
    }

    #[inline(always)]
    fn at(&self, r: usize, c: usize) -> f32 {
        self.data[self.row_start(r) + self.col_start(c)]
    }
}

/// Packing buffers, grown on first use and reused afterwards.
#[derive(Clone, Debug, Default)]
pub struct PackBuffers {
    a: Vec<f32>,
    b: Vec<f32>,
}

impl PackBuffers {
    /// Grows the buffers to at least `a` and `b` floats.
    fn reserve(&mut self, a: usize, b: usize) {
        if self.a.len() < a {
            self.a.resize(a, 0.0);
        }
        if self.b.len() < b {
            self.b.resize(b, 0.0);
        }
    }
}

/// Zeros standing in for the rows or columns past the edge of a matrix in a partial panel.
static ZEROS: [f32; KC] = [0.0; KC];

/// `C (m × n, row-major) = C + A·B` (or `A·B` when `accumulate` is false), with A m × k and
/// B k × n; every element one FMA chain in the order of k (see the module documentation), on
/// [`CpuPath::active`] (the fastest path this CPU has).
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
    gemm_on(CpuPath::active(), m, n, k, a, b, c, accumulate, buf);
}

/// [`gemm`] on the instruction-set path `path`, which the CPU must support
/// ([`CpuPath::is_supported`]). Every path gives the same bits.
///
/// # Panics
/// If an operand or C is too small for the shapes (a bug in the caller, not a user error).
#[allow(clippy::too_many_arguments)]
pub fn gemm_on(
    path: CpuPath,
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
    let kc = if a.in_runs() && k > a.run.min(KC) {
        run_block(a.run)
    } else {
        k_block(k)
    };
    buf.reserve((m.min(MC) + MAX_MR) * kc, (n.min(NC) + MAX_NR) * kc);
    gemm_paths(path, m, n, k, kc, a, b, c, accumulate, buf);
}

/// Blocks along k of (almost) equal size, at most [`KC`], so that no block is a sliver.
fn k_block(k: usize) -> usize {
    k.div_ceil(k.div_ceil(KC).max(1)).max(1)
}

/// A block along k that never crosses a boundary between runs of `run` columns: as many whole
/// runs as fit [`KC`], or for a longer run the equal part of it [`k_block`] picks when that
/// divides it (else the whole run).
fn run_block(run: usize) -> usize {
    if run <= KC {
        run * (KC / run)
    } else if run % k_block(run) == 0 {
        k_block(run)
    } else {
        run
    }
}

per_path! {
    fn gemm_paths(
        m: usize,
        n: usize,
        k: usize,
        kc: usize,
        a: Mat,
        b: Mat,
        c: &mut [f32],
        accumulate: bool,
        buf: &mut PackBuffers,
    ) => gemm_body
}

/// How the micro-kernel reads A: rows in place, columns in place (where each starts is listed:
/// [`Mat::column_starts`]), or from packed panels.
const ROWS: u8 = 0;
const COLUMNS: u8 = 1;
const PACKED: u8 = 2;

/// Picks the micro-kernel: A in place when its rows are contiguous, or when its columns are
/// and start where a list says (a convolution's weight gradient, whose long k made packing
/// those columns cost as much as the product), else packed; 16 columns when B has at most 16,
/// else the path's wide panel.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn gemm_body<const RN: usize, const RW: usize, const PM: usize, const NW: usize>(
    m: usize,
    n: usize,
    k: usize,
    kc: usize,
    a: Mat,
    b: Mat,
    c: &mut [f32],
    accumulate: bool,
    buf: &mut PackBuffers,
) {
    let dims = Dims { m, n, k, kc };
    match (a.contiguous_rows(), a.column_starts_only(), n <= NARROW) {
        (true, _, true) => blocked::<RN, NARROW, ROWS>(dims, a, b, c, accumulate, buf),
        (true, _, false) => blocked::<RW, NW, ROWS>(dims, a, b, c, accumulate, buf),
        (false, true, true) => blocked::<RN, NARROW, COLUMNS>(dims, a, b, c, accumulate, buf),
        (false, true, false) => blocked::<PM, NW, COLUMNS>(dims, a, b, c, accumulate, buf),
        (false, false, true) => blocked::<RN, NARROW, PACKED>(dims, a, b, c, accumulate, buf),
        (false, false, false) => blocked::<PM, NW, PACKED>(dims, a, b, c, accumulate, buf),
    }
}

/// The sizes of one product and its block along k.
#[derive(Clone, Copy, Debug)]
struct Dims {
    m: usize,
    n: usize,
    k: usize,
    kc: usize,
}

/// The blocked product `C = [C +] A·B` with an `MR × NR` kernel, A read as `A_READ` says.
/// `buf` must hold `(min(m, MC) + MR) · kc` and `(min(n, NC) + NR) · kc` floats.
#[inline(always)]
fn blocked<const MR: usize, const NR: usize, const A_READ: u8>(
    d: Dims,
    a: Mat,
    b: Mat,
    c: &mut [f32],
    accumulate: bool,
    buf: &mut PackBuffers,
) {
    let Dims {
        m,
        n,
        k,
        kc: kc_max,
    } = d;
    let mut acc = [[0.0f32; NR]; MR];
    for j0 in (0..n).step_by(NC) {
        let nc = NC.min(n - j0);
        for p0 in (0..k).step_by(kc_max) {
            let kc = kc_max.min(k - p0);
            let bp = if b.is_panel(NR) && n == NR {
                // B is one panel already (a convolution's ∂y with 16 or 32 channels): read in
                // place rather than copied.
                &b.data[p0 * NR..(p0 + kc) * NR]
            } else {
                let bp = &mut buf.b[..nc.div_ceil(NR) * NR * kc];
                for (panel, dst) in bp.chunks_exact_mut(NR * kc).enumerate() {
                    let j = j0 + panel * NR;
                    pack_b::<NR>(b, p0, kc, j, NR.min(n - j), dst);
                }
                &*bp
            };
            // The first block starts each chain from 0 unless C is accumulated into.
            let load_c = accumulate || p0 > 0;
            for i0 in (0..m).step_by(MC) {
                let mc = MC.min(m - i0);
                if A_READ == PACKED {
                    let ap = &mut buf.a[..mc.div_ceil(MR) * MR * kc];
                    for (panel, dst) in ap.chunks_exact_mut(MR * kc).enumerate() {
                        let i = i0 + panel * MR;
                        pack_a::<MR>(a, i, MR.min(m - i), p0, kc, dst);
                    }
                }
                for (jp, b_panel) in bp.chunks_exact(NR * kc).enumerate() {
                    let j = j0 + jp * NR;
                    let cols = NR.min(n - j);
                    for i in (i0..i0 + mc).step_by(MR) {
                        let rows = MR.min(m - i);
                        // Rows and columns past C's edge keep whatever the previous tile left
                        // (never stored): zeroing the whole block for every tile was a
                        // `memset` call, 1.5 % of a transformer step.
                        if load_c {
                            for (r, acc_row) in acc.iter_mut().enumerate().take(rows) {
                                copy_prefix(&mut acc_row[..], &c[(i + r) * n + j..], cols);
                            }
                        } else {
                            acc = [[0.0f32; NR]; MR];
                        }
                        if A_READ == ROWS {
                            let (run, step) = (a.run.min(kc), a.run_step);
                            let a_rows = row_slices(a, i, rows, p0, kc);
                            kernel_rows(a_rows, run, step, b_panel, &mut acc);
                        } else if A_READ == COLUMNS && rows == MR {
                            kernel_columns(a, i, p0, b_panel, &mut acc);
                        } else if A_READ == COLUMNS {
                            // A partial panel at the bottom edge: packed, with zero rows.
                            let a_panel = &mut buf.a[..MR * kc];
                            pack_a::<MR>(a, i, rows, p0, kc, a_panel);
                            kernel_packed(a_panel, b_panel, &mut acc);
                        } else {
                            let a_panel = &buf.a[(i - i0) * kc..][..MR * kc];
                            kernel_packed(a_panel, b_panel, &mut acc);
                        }
                        for (r, acc_row) in acc.iter().enumerate().take(rows) {
                            copy_prefix(&mut c[(i + r) * n + j..], acc_row, cols);
                        }
                    }
                }
            }
        }
    }
}

/// Rows `i .. i + rows` of A (rows with contiguous columns, or [`Mat::windows`]) from column
/// `p0` on, as slices of `kc` columns' span: `kc` floats, or for columns in runs, from the first
/// run's start to the last one's end. Past `rows` the slices repeat row `i`: the kernels compute
/// those rows of the tile but they are never stored. (A loop, not `std::array::from_fn`, which
/// LLVM left as a call per micro-tile.)
#[inline(always)]
fn row_slices<'a, const MR: usize>(
    a: Mat<'a>,
    i: usize,
    rows: usize,
    p0: usize,
    kc: usize,
) -> [&'a [f32]; MR] {
    let offset = a.col_start(p0);
    let span = a.col_start(p0 + kc - 1) + 1 - offset;
    let first = &a.data[a.row_start(i) + offset..][..span];
    let mut slices = [first; MR];
    for (t, s) in slices.iter_mut().enumerate().take(rows).skip(1) {
        *s = &a.data[a.row_start(i + t) + offset..][..span];
    }
    slices
}

/// Packs rows `i .. i + rows` (`rows ≤ MR`; missing rows are zeros, or repeat row `i` when
/// A's rows are contiguous: never stored either way) and columns `p0 .. p0 + kc` of A as
/// `dst[p * MR + r] = A(i + r, p0 + p)`.
#[inline(always)]
fn pack_a<const MR: usize>(a: Mat, i: usize, rows: usize, p0: usize, kc: usize, dst: &mut [f32]) {
    if a.contiguous_rows() && !a.in_runs() {
        // Each row is contiguous along k: transpose MR row slices.
        transpose_into(row_slices::<MR>(a, i, rows, p0, kc), kc, dst);
    } else if a.contiguous_columns() {
        // The MR rows are adjacent for each k: copy.
        for (p, d) in dst.chunks_exact_mut(MR).enumerate() {
            copy_prefix(d, &a.data[a.col_start(p0 + p) + i..], rows);
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
fn pack_b<const NR: usize>(b: Mat, p0: usize, kc: usize, j: usize, cols: usize, dst: &mut [f32]) {
    if b.contiguous_rows() && !b.in_runs() {
        // The NR columns are adjacent in each row: copy (rows may be gathered).
        for (p, d) in dst.chunks_exact_mut(NR).enumerate() {
            copy_prefix(d, &b.data[b.row_start(p0 + p) + j..], cols);
            d[cols..].fill(0.0);
        }
    } else if b.contiguous_columns() {
        // Each column is contiguous along k: transpose NR column slices.
        let mut src = [&ZEROS[..kc]; NR];
        for (t, s) in src.iter_mut().enumerate().take(cols) {
            *s = &b.data[b.col_start(j + t) + p0..][..kc];
        }
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
/// (vector moves) rather than through a `memmove` call, other lengths by
/// [`crate::layers::copy_short`].
#[inline(always)]
fn copy_prefix(dst: &mut [f32], src: &[f32], len: usize) {
    match len {
        32 => dst[..32].copy_from_slice(&src[..32]),
        16 => dst[..16].copy_from_slice(&src[..16]),
        12 => dst[..12].copy_from_slice(&src[..12]),
        6 => dst[..6].copy_from_slice(&src[..6]),
        _ => crate::layers::copy_short(&mut dst[..len], &src[..len]),
    }
}

/// `dst[p * W + t] = src[t][p]` for `p < kc`: W streams read in step, written contiguously
/// (measured faster here than transposing 8 × W tiles through registers).
#[inline(always)]
fn transpose_into<const W: usize>(src: [&[f32]; W], kc: usize, dst: &mut [f32]) {
    let mut src = src;
    src.iter_mut().for_each(|s| *s = &s[..kc]);
    for (p, out) in dst[..kc * W].chunks_exact_mut(W).enumerate() {
        for (v, s) in out.iter_mut().zip(&src) {
            *v = s[p];
        }
    }
}

#[cfg(test)]
mod tests;
