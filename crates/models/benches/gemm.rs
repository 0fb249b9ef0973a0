//! `gemm`: optbench's matrix product ([`optbench_models::gemm`]) against ndarray's
//! (matrixmultiply), side by side on the products of an MLP training step: forward
//! `input · Wᵀ`, weight gradient `dzᵀ · input` and input gradient `dz · W`. Throughput is in
//! floating-point operations (2·m·n·k per product): read "Gelem/s" as GFLOP/s.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2};
use optbench_models::gemm::{Mat, PackBuffers, gemm};

/// (label, m, n, k, A transposed, B transposed): C (m × n) = op(A) · op(B).
const SHAPES: [(&str, usize, usize, usize, bool, bool); 6] = [
    ("784-128 forward b128", 128, 128, 784, false, true),
    ("784-128 weight-grad b128", 128, 784, 128, true, false),
    ("784-128 forward b32", 32, 128, 784, false, true),
    ("784-128 weight-grad b32", 128, 784, 32, true, false),
    ("256-256 forward b128", 128, 256, 256, false, true),
    ("256-256 input-grad b128", 128, 256, 256, false, false),
];

fn values(len: usize, seed: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 7919 + seed) % 1000) as f32 / 1000.0 - 0.5)
        .collect()
}

/// op(M) as an ndarray view of `data`, op(M) being `rows × cols`.
fn view(data: &[f32], rows: usize, cols: usize, transposed: bool) -> ArrayView2<'_, f32> {
    if transposed {
        ArrayView2::from_shape((cols, rows), data)
            .unwrap()
            .reversed_axes()
    } else {
        ArrayView2::from_shape((rows, cols), data).unwrap()
    }
}

pub fn gemm_vs_matrixmultiply(c: &mut Criterion) {
    let mut group = c.benchmark_group("gemm");
    for (label, m, n, k, a_t, b_t) in SHAPES {
        let a = values(m * k, 1);
        let b = values(k * n, 2);
        group.throughput(Throughput::Elements((2 * m * n * k) as u64));

        let a_mat = if a_t {
            Mat::transposed(&a, m)
        } else {
            Mat::rows(&a, k)
        };
        let b_mat = if b_t {
            Mat::transposed(&b, k)
        } else {
            Mat::rows(&b, n)
        };
        let mut out = vec![0.0; m * n];
        let mut buffers = PackBuffers::default();
        group.bench_function(BenchmarkId::new("optbench", label), |bench| {
            bench.iter(|| {
                gemm(m, n, k, a_mat, b_mat, &mut out, false, &mut buffers);
                black_box(&out);
            })
        });

        let (av, bv) = (view(&a, m, k, a_t), view(&b, k, n, b_t));
        let mut out = Array2::<f32>::zeros((m, n));
        group.bench_function(BenchmarkId::new("matrixmultiply", label), |bench| {
            bench.iter(|| {
                general_mat_mul(1.0, &av, &bv, 0.0, &mut out);
                black_box(&out);
            })
        });
    }
    group.finish();
}
