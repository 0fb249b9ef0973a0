//! `cnn_train_step`: one training step (forward, backward, optimizer update) of DeepOBS's 2c2d
//! on 28×28×1 images with Adam and of ResNet-20 on 32×32×3 images with SGD + momentum, batch
//! 128, one thread, in examples per second; compare with `scripts/bench_torch_cnn.py`.
//! `conv_layer`: forward + backward of single convolution layers (windows read in place + GEMM),
//! throughput in floating-point operations (3 products of 2·rows·k·out each): read "Gelem/s" as
//! GFLOP/s. On a shared machine, prefer `scripts/bench_cnn_cpu.sh` (thread CPU time, the same
//! cases: `cnn_cases.rs`).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput};

use crate::cnn_cases::{BATCH, conv_passes, train_steps};

pub fn cnn_train_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("cnn_train_step");
    group.sample_size(10);
    for mut step in train_steps() {
        group.throughput(Throughput::Elements(BATCH as u64));
        group.bench_function(BenchmarkId::new(step.label, BATCH), |b| {
            b.iter(|| black_box(step.run()))
        });
    }
    group.finish();
}

pub fn conv_layer(c: &mut Criterion) {
    let mut group = c.benchmark_group("conv_layer");
    group.sample_size(10);
    for mut pass in conv_passes() {
        group.throughput(Throughput::Elements(pass.flops as u64));
        group.bench_function(BenchmarkId::new("forward+backward", pass.label), |b| {
            b.iter(|| pass.run())
        });
    }
    group.finish();
}
