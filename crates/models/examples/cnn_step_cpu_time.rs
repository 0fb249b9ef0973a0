//! CPU time of one training step of the `cnn_train_step` benchmark's networks (DeepOBS's 2c2d
//! with Adam, ResNet-20 with SGD + momentum; batch 128, one thread), read from
//! `/proc/thread-self/schedstat`: on a shared machine the time the thread spends waiting for a
//! core does not count, unlike criterion's wall-clock time. `scripts/bench_cnn_cpu.sh` runs it
//! beside `scripts/bench_torch_cnn.py`, which reports PyTorch's thread CPU time the same way.
//!
//! Usage: `cargo run --release -p optbench-models --example cnn_step_cpu_time -- [steps]`
//! (Linux only). Prints one line per network: `label cpu_ms_per_step`.

use std::path::Path;

use optbench_models::{BatchSize, Batcher, ProblemConfig, build_problem, load_dataset};
use optbench_optim::OptimizerConfig;

/// Nanoseconds this thread has run on a CPU.
fn thread_cpu_ns() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat")
        .expect("/proc/thread-self/schedstat (Linux only)");
    stat.split_whitespace()
        .next()
        .and_then(|ns| ns.parse().ok())
        .expect("schedstat starts with the CPU time in ns")
}

fn main() {
    let steps: usize = std::env::args()
        .nth(1)
        .map_or(20, |s| s.parse().expect("steps: a positive integer"));
    let batch = 128;
    let cases = [
        (
            "2c2d_adam",
            "cnn",
            serde_json::json!({"preset": "2c2d"}),
            1,
            28,
            "adam",
            1e-3,
            serde_json::json!({}),
        ),
        (
            "resnet20_sgd_momentum",
            "resnet",
            serde_json::json!({"depth": 20}),
            3,
            32,
            "sgd",
            0.1,
            serde_json::json!({"momentum": 0.9}),
        ),
    ];
    for (label, name, keys, channels, size, optimizer, lr, hparams) in cases {
        let mut keys = keys.as_object().expect("an object").clone();
        keys.insert(
            "dataset".into(),
            serde_json::json!({"name": "synthetic_images", "samples": 1024, "channels": channels,
                               "height": size, "width": size, "classes": 10, "test_fraction": 0.0}),
        );
        let cfg = ProblemConfig::from_json(name, &keys).expect("a valid problem");
        let data = load_dataset(cfg.dataset().expect("a dataset"), 0, Path::new("."))
            .expect("synthetic images");
        let mut problem = build_problem(&cfg, Some(data), 0).expect("a network");
        let mut params = problem.initial_params();
        let mut grad = vec![0.0; problem.dim()];
        let mut hparams = hparams.as_object().expect("an object").clone();
        hparams.insert("lr".into(), lr.into());
        let mut opt = OptimizerConfig::from_json(optimizer, &hparams)
            .and_then(|o| o.build(problem.dim()))
            .expect("a valid optimizer");
        let mut batches = Batcher::new(problem.train_len(), BatchSize::Examples(batch), 0);
        let mut step = || {
            problem.loss_grad(&params, batches.next_batch(), &mut grad);
            opt.step(&mut params, &grad, lr).expect("a finite step");
        };
        for _ in 0..3 {
            step(); // warm-up: buffers sized, caches warm
        }
        let start = thread_cpu_ns();
        for _ in 0..steps {
            step();
        }
        let ms = (thread_cpu_ns() - start) as f64 / 1e6 / steps as f64;
        println!("{label} {ms:.2}");
    }
}
