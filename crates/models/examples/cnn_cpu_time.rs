//! CPU time of one training step of the `cnn_train_step` benchmark's networks (DeepOBS's 2c2d
//! with Adam, ResNet-20 with SGD + momentum; batch 128, one thread) and of the `conv_layer`
//! benchmark's convolutions (forward + backward), read from `/proc/thread-self/schedstat`: on a
//! shared machine the time the thread spends waiting for a core does not count, unlike
//! criterion's wall-clock time. Also one core's FMA peak, measured the same way: 12 independent
//! chains of 16-float FMAs (enough to fill both FMA pipes), compiled for AVX-512 when the CPU
//! has it. `scripts/bench_cnn_cpu.sh` runs it beside `scripts/bench_torch_cnn.py`, which
//! reports PyTorch's thread CPU time the same way.
//!
//! Usage: `cargo run --release -p optbench-models --example cnn_cpu_time -- [steps [filter]]`
//! (Linux only; `filter`: only the measurements whose label contains it, for profiling). Prints
//! `peak <GFLOP/s>`, `conv <layer> <ms> <GFLOP/s>` and `step <network> <ms>`.

use std::path::Path;

use optbench_models::layers::conv2d::Conv2d;
use optbench_models::layers::window::Padding;
use optbench_models::layers::{Dims, Layer, Mode, Pass, Workspace};
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

/// CPU milliseconds per call of `f`, after 3 warm-up calls.
fn cpu_ms(steps: usize, mut f: impl FnMut()) -> f64 {
    for _ in 0..3 {
        f(); // warm-up: buffers sized, caches warm
    }
    let start = thread_cpu_ns();
    for _ in 0..steps {
        f();
    }
    (thread_cpu_ns() - start) as f64 / 1e6 / steps as f64
}

/// 12 independent chains of `c = fma(c, a, b)` on 16 floats each, `rounds` times: 384 floating
/// point operations per round. (Two blocks of six rows, as the GEMM's 12 × 16 kernel: written as
/// one block, LLVM vectorises across the rows with gathers.)
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl+fma", "x86_64+avx2+fma"))]
fn fma_chains(rounds: usize, a: f32, b: f32) -> f32 {
    let mut lo = [[1e-3f32; 16]; 6];
    let mut hi = [[2e-3f32; 16]; 6];
    for _ in 0..rounds {
        for row in &mut lo {
            for v in row.iter_mut() {
                *v = v.mul_add(a, b);
            }
        }
        for row in &mut hi {
            for v in row.iter_mut() {
                *v = v.mul_add(a, b);
            }
        }
    }
    lo.iter().chain(&hi).flatten().sum()
}

/// (label, input C×H×W, out channels, kernel, padding): the `conv_layer` benchmark's layers.
const CONVS: [(&str, [usize; 3], usize, usize, usize); 5] = [
    ("2c2d_conv1_1-32_5x5_28", [1, 28, 28], 32, 5, 2),
    ("2c2d_conv2_32-64_5x5_14", [32, 14, 14], 64, 5, 2),
    ("resnet_stage1_16-16_3x3_32", [16, 32, 32], 16, 3, 1),
    ("resnet_stage2_32-32_3x3_16", [32, 16, 16], 32, 3, 1),
    ("resnet_stage3_64-64_3x3_8", [64, 8, 8], 64, 3, 1),
];

/// Forward + backward (with ∂x) of each layer of [`CONVS`] on a batch of 128.
fn convolutions(steps: usize, filter: &str) {
    let batch = 128;
    for (label, [c_in, h, w], c_out, k, pad) in CONVS {
        if !label.contains(filter) {
            continue;
        }
        let input = Dims::image(c_in, h, w);
        let mut conv =
            Conv2d::new(input, c_out, k, 1, Padding::symmetric(pad), true).expect("a valid layer");
        let out = conv.output_dims();
        let flops = 3 * 2 * batch * out.height * out.width * k * k * c_in * c_out;
        let x: Vec<f32> = (0..batch * input.len())
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
            .collect();
        let params: Vec<f32> = (0..k * k * c_in * c_out + c_out)
            .map(|i| ((i * 104_729) % 1000) as f32 / 5000.0 - 0.1)
            .collect();
        let mut y = vec![0.0; batch * out.len()];
        let dy: Vec<f32> = (0..y.len())
            .map(|i| ((i * 31) % 200) as f32 / 100.0 - 1.0)
            .collect();
        let mut dx = vec![0.0; x.len()];
        let mut dp = vec![0.0; params.len()];
        let mut ws = Workspace {
            scratch: vec![0.0; conv.scratch_len(batch)],
            ..Workspace::default()
        };
        let ms = cpu_ms(steps, || {
            let mut pass = Pass {
                batch,
                mode: Mode::Train,
                ws: &mut ws,
            };
            conv.forward(&x, &mut y, &params, &mut [], &mut pass);
            conv.backward(&x, &y, &dy, Some(&mut dx), &params, &mut dp, &mut pass);
        });
        println!("conv {label} {ms:.2} {:.1}", flops as f64 / ms / 1e6);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let steps: usize = args
        .get(1)
        .map_or(20, |s| s.parse().expect("steps: a positive integer"));
    let filter = args.get(2).map_or("", String::as_str);
    if "peak".contains(filter) {
        let rounds = 50_000_000;
        let ms = cpu_ms(1, || {
            std::hint::black_box(fma_chains(rounds, 0.999_999, 1e-7));
        });
        println!("peak {:.1}", (rounds * 384) as f64 / ms / 1e6);
    }
    convolutions(steps, filter);
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
        if !label.contains(filter) {
            continue;
        }
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
        let ms = cpu_ms(steps, || {
            problem.loss_grad(&params, batches.next_batch(), &mut grad);
            opt.step(&mut params, &grad, lr).expect("a finite step");
        });
        println!("step {label} {ms:.2}");
    }
}
