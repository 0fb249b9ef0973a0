//! `cnn_train_step`: one training step (forward, backward, optimizer update) of DeepOBS's 2c2d
//! on 28×28×1 images with Adam and of ResNet-20 on 32×32×3 images with SGD + momentum, batch
//! 128, one thread, in examples per second; compare with `scripts/bench_torch_cnn.py`.
//! `conv_layer`: forward + backward of single convolution layers (windows read in place + GEMM),
//! throughput in floating-point operations (3 products of 2·rows·k·out each): read "Gelem/s" as
//! GFLOP/s. On a shared machine, prefer `scripts/bench_cnn_cpu.sh` (thread CPU time).

use std::hint::black_box;
use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput};
use optbench_models::layers::conv2d::Conv2d;
use optbench_models::layers::window::Padding;
use optbench_models::layers::{Dims, Layer, Mode, Pass, Workspace};
use optbench_models::{BatchSize, Batcher, Problem, ProblemConfig, build_problem, load_dataset};
use optbench_optim::OptimizerConfig;

/// A problem on synthetic `channels × size × size` images (10 classes).
pub fn image_problem(
    name: &str,
    keys: serde_json::Value,
    channels: usize,
    size: usize,
) -> Box<dyn Problem> {
    let mut keys = keys.as_object().unwrap().clone();
    keys.insert(
        "dataset".into(),
        serde_json::json!({"name": "synthetic_images", "samples": 1024, "channels": channels,
                           "height": size, "width": size, "classes": 10, "test_fraction": 0.0}),
    );
    let cfg = ProblemConfig::from_json(name, &keys).unwrap();
    let data = load_dataset(cfg.dataset().unwrap(), 0, Path::new(".")).unwrap();
    build_problem(&cfg, Some(data), 0).unwrap()
}

pub fn cnn_train_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("cnn_train_step");
    group.sample_size(10);
    let batch = 128;
    let cases = [
        (
            "2c2d_adam",
            "cnn",
            serde_json::json!({"preset": "2c2d"}),
            1,
            28,
            "adam",
            serde_json::json!({"lr": 1e-3}),
        ),
        (
            "resnet20_sgd_momentum",
            "resnet",
            serde_json::json!({"depth": 20}),
            3,
            32,
            "sgd",
            serde_json::json!({"lr": 0.1, "momentum": 0.9}),
        ),
    ];
    for (label, name, keys, channels, size, opt, hparams) in cases {
        let mut problem = image_problem(name, keys, channels, size);
        let mut params = problem.initial_params();
        let mut grad = vec![0.0; problem.dim()];
        let lr = hparams["lr"].as_f64().unwrap();
        let opt = OptimizerConfig::from_json(opt, hparams.as_object().unwrap()).unwrap();
        let mut opt = opt.build(problem.dim()).unwrap();
        let mut batches = Batcher::new(problem.train_len(), BatchSize::Examples(batch), 0);
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(BenchmarkId::new(label, batch), |b| {
            b.iter(|| {
                black_box(problem.loss_grad(&params, batches.next_batch(), &mut grad));
                opt.step(&mut params, &grad, lr).unwrap();
            })
        });
    }
    group.finish();
}

/// (label, input C×H×W, out channels, kernel, stride, padding, batch).
type ConvCase = (&'static str, [usize; 3], usize, usize, usize, usize, usize);

const CONVS: [ConvCase; 5] = [
    ("2c2d conv1 1-32 5x5 28", [1, 28, 28], 32, 5, 1, 2, 128),
    ("2c2d conv2 32-64 5x5 14", [32, 14, 14], 64, 5, 1, 2, 128),
    ("resnet stage1 16-16 3x3 32", [16, 32, 32], 16, 3, 1, 1, 128),
    ("resnet stage2 32-32 3x3 16", [32, 16, 16], 32, 3, 1, 1, 128),
    ("resnet stage3 64-64 3x3 8", [64, 8, 8], 64, 3, 1, 1, 128),
];

pub fn conv_layer(c: &mut Criterion) {
    let mut group = c.benchmark_group("conv_layer");
    group.sample_size(10);
    for (label, [ci, h, w], co, k, s, p, batch) in CONVS {
        let input = Dims::image(ci, h, w);
        let mut conv = Conv2d::new(input, co, k, s, Padding::symmetric(p), true).unwrap();
        let out = conv.output_dims();
        let kdim = k * k * ci;
        let rows = batch * out.positions();
        let flops = 3 * 2 * rows * kdim * co;
        group.throughput(Throughput::Elements(flops as u64));
        let x: Vec<f32> = (0..batch * input.len())
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
            .collect();
        let params: Vec<f32> = (0..kdim * co + co)
            .map(|i| ((i * 104_729) % 1000) as f32 / 5000.0 - 0.1)
            .collect();
        let mut y = vec![0.0; batch * out.len()];
        let dy = y.clone();
        let mut dx = vec![0.0; x.len()];
        let mut dp = vec![0.0; params.len()];
        let mut ws = Workspace {
            scratch: vec![0.0; conv.scratch_len(batch)],
            ..Workspace::default()
        };
        group.bench_function(BenchmarkId::new("forward+backward", label), |b| {
            b.iter(|| {
                let mut pass = Pass {
                    batch,
                    mode: Mode::Train,
                    ws: &mut ws,
                };
                conv.forward(&x, &mut y, &params, &mut [], &mut pass);
                conv.backward(&x, &y, &dy, Some(&mut dx), &params, &mut dp, &mut pass);
                black_box(&dp);
            })
        });
    }
    group.finish();
}
