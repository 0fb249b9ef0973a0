//! One optimizer step over n parameters: group `step`, function id = YAML name (plus the heaviest
//! option sets, e.g. `adam_amsgrad`), parameter = n, throughput in elements.
//!
//! `cargo bench -p optbench-optim` (all), or e.g.
//! `cargo bench -p optbench-optim -- 'step/adam/16000000' --warm-up-time 1 --measurement-time 3`.
//! Bytes moved per element (reads + writes of f32 buffers) are in `BYTES_PER_ELEMENT` for turning
//! elements/s into GB/s.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use optbench_optim::OptimizerConfig;
use serde_json::{Value, json};

/// (bench id, YAML name, hyperparameters, bytes read + written per element).
fn cases() -> Vec<(&'static str, &'static str, Value, u32)> {
    vec![
        ("sgd", "sgd", json!({"lr": 0.01}), 12),
        (
            "sgd_nesterov",
            "sgd",
            json!({"lr": 0.01, "momentum": 0.9, "nesterov": true}),
            20,
        ),
        ("adagrad", "adagrad", json!({}), 20),
        ("adadelta", "adadelta", json!({}), 28),
        ("rmsprop", "rmsprop", json!({}), 20),
        (
            "rmsprop_centered_momentum",
            "rmsprop",
            json!({"centered": true, "momentum": 0.9}),
            36,
        ),
        ("adam", "adam", json!({}), 28),
        ("adam_amsgrad", "adam", json!({"amsgrad": true}), 36),
        ("adamw", "adamw", json!({}), 28),
        ("nadam", "nadam", json!({}), 28),
        ("radam", "radam", json!({}), 28),
        ("adamax", "adamax", json!({}), 28),
        ("lion", "lion", json!({}), 20),
    ]
}

/// Deterministic values in [-1, 1) without an RNG dependency.
fn fill(n: usize, seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 40) as f32) / ((1u64 << 23) as f32) - 1.0
        })
        .collect()
}

fn step(c: &mut Criterion) {
    let sizes: Vec<usize> = match std::env::var("OPTBENCH_BENCH_SIZES") {
        Ok(s) => s.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
        Err(_) => vec![1_000, 1_000_000, 16_000_000],
    };
    let mut group = c.benchmark_group("step");
    for (id, name, hp, _bytes) in cases() {
        let Value::Object(map) = hp else {
            unreachable!()
        };
        let config = OptimizerConfig::from_json(name, &map).expect("bench config parses");
        for &n in &sizes {
            let mut params = fill(n, 1);
            let grads = fill(n, 2);
            let mut opt = config.build(n).expect("bench config is valid");
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::new(id, n), &n, |b, _| {
                b.iter(|| {
                    opt.step(black_box(&mut params), black_box(&grads), 1e-3)
                        .expect("lengths match");
                });
            });
        }
    }
    group.finish();
}

criterion_group!(benches, step);
criterion_main!(benches);
