//! Criterion benchmarks of the models crate: `cargo bench -p optbench-models`.

use criterion::{criterion_group, criterion_main};

mod cnn;
mod cnn_cases;
mod cpu_time;
mod gemm;
mod loss_grad;
mod mlp;
mod transformer;

criterion_group!(
    benches,
    mlp::mlp_train_step,
    mlp::mlp_eval,
    loss_grad::loss_grad,
    gemm::gemm_vs_matrixmultiply,
    cnn::cnn_train_step,
    cnn::conv_layer,
    transformer::transformer_train_step
);
criterion_main!(benches);
