//! The product against the scalar FMA chain, bit for bit, on every path and operand layout.

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

/// All operand layouts the networks use, against the scalar definition, bit for bit:
/// `layout % 6` picks A's and `layout / 6` B's (row-major, transposed, gathered rows, rows
/// starting anywhere, columns starting anywhere, windows: rows starting anywhere in runs).
fn check(m: usize, n: usize, k: usize, layout: u8, accumulate: bool, seed: u64) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let pool = 3 * m.max(k) + 1;
    let a_rows = random(pool * k, &mut rng);
    let a_cols = random(k * m, &mut rng);
    let b_rows = random(pool * n, &mut rng);
    let b_cols = random(n * k, &mut rng);
    let a_index: Vec<usize> = (0..m).map(|_| rng.random_range(0..pool)).collect();
    let b_index: Vec<usize> = (0..k).map(|_| rng.random_range(0..pool)).collect();
    // Overlapping windows into one buffer, as a convolution reads them.
    let windows = random(pool + m.max(n).max(k), &mut rng);
    let a_row_starts: Vec<usize> = (0..m).map(|_| rng.random_range(0..=pool)).collect();
    let a_col_starts: Vec<usize> = (0..k).map(|_| rng.random_range(0..=pool)).collect();
    let b_row_starts: Vec<usize> = (0..k).map(|_| rng.random_range(0..=pool)).collect();
    let b_col_starts: Vec<usize> = (0..n).map(|_| rng.random_range(0..=pool)).collect();
    // Runs of 1 to 7 columns, each starting up to 9 floats after the previous one ends.
    let run = 1 + (seed % 7) as usize;
    let run_step = run + (seed / 7 % 10) as usize;
    let runs_len = k.max(n).div_ceil(run) * run_step;
    let runs = random(pool + runs_len, &mut rng);
    let a = match layout % 6 {
        0 => Mat::rows(&a_rows, k),
        1 => Mat::transposed(&a_cols, m),
        2 => Mat::gathered(&a_rows, k, &a_index),
        3 => Mat::row_starts(&windows, &a_row_starts),
        4 => Mat::column_starts(&windows, &a_col_starts),
        _ => Mat::windows(&runs, &a_row_starts, run, run_step),
    };
    let b = match layout / 6 {
        0 => Mat::rows(&b_rows, n),
        1 => Mat::transposed(&b_cols, k),
        2 => Mat::gathered(&b_rows, n, &b_index),
        3 => Mat::row_starts(&windows, &b_row_starts),
        4 => Mat::column_starts(&windows, &b_col_starts),
        _ => Mat::windows(&runs, &b_row_starts, run, run_step),
    };
    let c0 = random(m * n, &mut rng);
    let mut want = c0.clone();
    reference(m, n, k, a, b, &mut want, accumulate);
    let same = |x: &[f32]| x.iter().zip(&want).all(|(g, w)| g.to_bits() == w.to_bits());
    for path in CpuPath::supported() {
        let mut buf = PackBuffers::default();
        let mut got = c0.clone();
        gemm_on(path, m, n, k, a, b, &mut got, accumulate, &mut buf);
        assert!(
            same(&got),
            "{path}: {m}×{n}×{k}, layout {layout}, accumulate {accumulate}"
        );
        // Buffers left over from the first product give the same bits.
        let mut again = c0.clone();
        gemm_on(path, m, n, k, a, b, &mut again, accumulate, &mut buf);
        assert!(same(&again), "{path}: reused buffers");
    }
    let mut detected = c0;
    gemm(
        m,
        n,
        k,
        a,
        b,
        &mut detected,
        accumulate,
        &mut PackBuffers::default(),
    );
    assert!(same(&detected), "detected path");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn equals_the_fma_chain_bit_for_bit(
        m in 1usize..20,
        n in 1usize..40,
        k in 0usize..40,
        layout in 0u8..36,
        accumulate: bool,
        seed: u64,
    ) {
        check(m, n, k, layout, accumulate, seed);
    }
}

/// Shapes that cross every block boundary: k over KC (two k blocks), m over MC, partial
/// panels on every edge, narrow and wide B panels, and B exactly one panel wide (read in
/// place, not packed) over several k blocks.
#[test]
fn block_boundaries_do_not_change_the_chain() {
    for (m, n, k) in [
        (MC + 7, 16 + 3, KC + 9),
        (MAX_MR + 1, 2 * MAX_NR + 1, 2 * KC + 1),
        (2 * MC + 13, 16, 40),
        (MAX_MR + 5, 16, 2 * KC + 3),
        (MC + 7, 32, KC + 9),
    ] {
        for layout in 0..36 {
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
