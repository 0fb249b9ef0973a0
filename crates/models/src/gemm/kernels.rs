//! The micro-kernels: one `MR × NR` block of C held in registers while k runs, A read from a
//! packed panel, from rows in place or from columns in place, B from a packed panel. Each is
//! plain array code that LLVM turns into broadcasts and `vfmadd231ps`; every element stays one
//! FMA chain in the order of k (see [`super`]).

use super::Mat;
use crate::cpu::NARROW;

/// `acc[i][j] = fma(a[p][i], b[p][j], acc[i][j])` for p in order, over one A micro-panel
/// (kc × MR, k-major) and one B micro-panel (kc × NR, k-major).
#[inline(always)]
pub(super) fn kernel_packed<const MR: usize, const NR: usize>(
    a_panel: &[f32],
    b_panel: &[f32],
    acc: &mut [[f32; NR]; MR],
) {
    if MR == 12 && NR == NARROW {
        let (mut lo, mut hi) = halves(acc);
        for (a, b) in a_panel.chunks_exact(MR).zip(b_panel.chunks_exact(NR)) {
            for (c_row, &a_i) in lo.iter_mut().zip(&a[..6]) {
                for (c_ij, &b_j) in c_row.iter_mut().zip(b) {
                    *c_ij = a_i.mul_add(b_j, *c_ij);
                }
            }
            for (c_row, &a_i) in hi.iter_mut().zip(&a[6..]) {
                for (c_ij, &b_j) in c_row.iter_mut().zip(b) {
                    *c_ij = a_i.mul_add(b_j, *c_ij);
                }
            }
        }
        return join_halves(acc, &lo, &hi);
    }
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

/// `acc[i][j] = fma(A(i, p), b[p][j], acc[i][j])` for p in order, over MR rows of A read in
/// place and one B micro-panel (kc × NR, k-major). Row `i`'s columns come in runs of `run`
/// adjacent floats, run `q` at `a_rows[i][q · step ..]` (one run, `step` unused, for a plain
/// row-major A); the accumulators stay in registers from one run to the next.
#[inline(always)]
pub(super) fn kernel_rows<const MR: usize, const NR: usize>(
    a_rows: [&[f32]; MR],
    run: usize,
    step: usize,
    b_panel: &[f32],
    acc: &mut [[f32; NR]; MR],
) {
    if MR == 12 && NR == NARROW {
        let (mut lo, mut hi) = halves(acc);
        for (q, b_run) in b_panel.chunks(run * NR).enumerate() {
            let len = b_run.len() / NR;
            let rows: [&[f32]; MR] = std::array::from_fn(|t| &a_rows[t][q * step..][..len]);
            for (p, b) in b_run.chunks_exact(NR).enumerate() {
                let a_lo: [f32; 6] = std::array::from_fn(|t| rows[t][p]);
                let a_hi: [f32; 6] = std::array::from_fn(|t| rows[6 + t][p]);
                for (c_row, &a_i) in lo.iter_mut().zip(&a_lo) {
                    for (c_ij, &b_j) in c_row.iter_mut().zip(b) {
                        *c_ij = a_i.mul_add(b_j, *c_ij);
                    }
                }
                for (c_row, &a_i) in hi.iter_mut().zip(&a_hi) {
                    for (c_ij, &b_j) in c_row.iter_mut().zip(b) {
                        *c_ij = a_i.mul_add(b_j, *c_ij);
                    }
                }
            }
        }
        return join_halves(acc, &lo, &hi);
    }
    let mut c = *acc;
    for (q, b_run) in b_panel.chunks(run * NR).enumerate() {
        let len = b_run.len() / NR;
        let rows: [&[f32]; MR] = std::array::from_fn(|t| &a_rows[t][q * step..][..len]);
        for (p, b) in b_run.chunks_exact(NR).enumerate() {
            // The column of A first (its bounds checks out of the FMA block), then the same
            // block as `kernel_packed`.
            let a: [f32; MR] = std::array::from_fn(|t| rows[t][p]);
            for (c_row, &a_i) in c.iter_mut().zip(&a) {
                for (c_ij, &b_j) in c_row.iter_mut().zip(b) {
                    *c_ij = a_i.mul_add(b_j, *c_ij);
                }
            }
        }
    }
    *acc = c;
}

/// `acc[i][j] = fma(A(i0 + i, p), b[p][j], acc[i][j])` for p in order, with A's columns read
/// in place (`MR` adjacent floats where column `p0 + p` starts) and one B micro-panel.
#[inline(always)]
pub(super) fn kernel_columns<const MR: usize, const NR: usize>(
    a: Mat,
    i0: usize,
    p0: usize,
    b_panel: &[f32],
    acc: &mut [[f32; NR]; MR],
) {
    let kc = b_panel.len() / NR;
    let starts = &a.cols.expect("column starts")[p0..p0 + kc];
    if MR == 12 && NR == NARROW {
        let (mut lo, mut hi) = halves(acc);
        for (&start, b) in starts.iter().zip(b_panel.chunks_exact(NR)) {
            let column = &a.data[start * a.col_stride + i0..][..MR];
            let a_lo: [f32; 6] = std::array::from_fn(|t| column[t]);
            let a_hi: [f32; 6] = std::array::from_fn(|t| column[6 + t]);
            for (c_row, &a_i) in lo.iter_mut().zip(&a_lo) {
                for (c_ij, &b_j) in c_row.iter_mut().zip(b) {
                    *c_ij = a_i.mul_add(b_j, *c_ij);
                }
            }
            for (c_row, &a_i) in hi.iter_mut().zip(&a_hi) {
                for (c_ij, &b_j) in c_row.iter_mut().zip(b) {
                    *c_ij = a_i.mul_add(b_j, *c_ij);
                }
            }
        }
        return join_halves(acc, &lo, &hi);
    }
    let mut c = *acc;
    for (&start, b) in starts.iter().zip(b_panel.chunks_exact(NR)) {
        let column = &a.data[start * a.col_stride + i0..][..MR];
        for (c_row, &a_i) in c.iter_mut().zip(column) {
            for (c_ij, &b_j) in c_row.iter_mut().zip(b) {
                *c_ij = a_i.mul_add(b_j, *c_ij);
            }
        }
    }
    *acc = c;
}

/// The 12 rows of a 12 × 16 kernel's accumulators as two separate blocks of six, for
/// [`kernel_packed`] and [`kernel_rows`]: written as one 12 × 16 block, LLVM vectorised it
/// across the rows, with gathers (7× slower), and six rows alone leave the two FMA pipes idle
/// part of the time (their 4-cycle latency needs 8 independent chains). The loops over the two
/// halves are spelled out in each kernel: through a shared helper taking slices or an iterator,
/// LLVM again spilled or gathered (measured 4 % to 4× slower on ResNet-20's 16-channel layers).
#[inline(always)]
fn halves<const MR: usize, const NR: usize>(
    acc: &[[f32; NR]; MR],
) -> ([[f32; NR]; 6], [[f32; NR]; 6]) {
    let mut lo = [[0.0f32; NR]; 6];
    let mut hi = [[0.0f32; NR]; 6];
    lo.copy_from_slice(&acc[..6]);
    hi.copy_from_slice(&acc[6..12]);
    (lo, hi)
}

/// The inverse of [`halves`].
#[inline(always)]
fn join_halves<const MR: usize, const NR: usize>(
    acc: &mut [[f32; NR]; MR],
    lo: &[[f32; NR]; 6],
    hi: &[[f32; NR]; 6],
) {
    acc[..6].copy_from_slice(lo);
    acc[6..12].copy_from_slice(hi);
}
