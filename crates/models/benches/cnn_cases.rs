//! The networks and layers the CNN benchmarks time, shared by `benches/cnn.rs` (criterion, wall
//! clock) and `examples/cnn_cpu_time.rs` (thread CPU time), so that both time the same work.

use std::path::Path;

use optbench_models::layers::conv2d::Conv2d;
use optbench_models::layers::window::Padding;
use optbench_models::layers::{Dims, Layer, Mode, Pass, Workspace};
use optbench_models::{BatchSize, Batcher, Problem, ProblemConfig, build_problem, load_dataset};
use optbench_optim::{DynOptimizer, OptimizerConfig};

/// Examples per batch in every case.
pub const BATCH: usize = 128;

/// A problem on 1,024 synthetic `channels × size × size` images (10 classes).
pub fn image_problem(
    name: &str,
    keys: serde_json::Value,
    channels: usize,
    size: usize,
) -> Box<dyn Problem> {
    let mut keys = keys.as_object().expect("an object").clone();
    keys.insert(
        "dataset".into(),
        serde_json::json!({"name": "synthetic_images", "samples": 1024, "channels": channels,
                           "height": size, "width": size, "classes": 10, "test_fraction": 0.0}),
    );
    let cfg = ProblemConfig::from_json(name, &keys).expect("a valid problem");
    let data = load_dataset(cfg.dataset().expect("a dataset"), 0, Path::new("."))
        .expect("synthetic images");
    build_problem(&cfg, Some(data), 0).expect("a network")
}

/// One network with its optimizer, parameters and batches: [`TrainStep::run`] is one training
/// step (forward, loss, backward, update) on the next batch.
pub struct TrainStep {
    pub label: &'static str,
    problem: Box<dyn Problem>,
    params: Vec<f32>,
    grad: Vec<f32>,
    optimizer: Box<dyn DynOptimizer>,
    lr: f64,
    batches: Batcher,
}

impl TrainStep {
    pub fn run(&mut self) -> f64 {
        let loss = self
            .problem
            .loss_grad(&self.params, self.batches.next_batch(), &mut self.grad);
        self.optimizer
            .step(&mut self.params, &self.grad, self.lr)
            .expect("a finite step");
        loss
    }
}

/// DeepOBS's 2c2d on 28×28×1 images with Adam (lr 1e-3) and ResNet-20 on 32×32×3 images with
/// SGD + momentum (lr 0.1, momentum 0.9), as `scripts/bench_torch_cnn.py` trains them.
pub fn train_steps() -> Vec<TrainStep> {
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
    cases
        .into_iter()
        .map(|(label, name, keys, channels, size, optimizer, hparams)| {
            let problem = image_problem(name, keys, channels, size);
            let optimizer = OptimizerConfig::from_json(optimizer, hparams.as_object().unwrap())
                .and_then(|o| o.build(problem.dim()))
                .expect("a valid optimizer");
            TrainStep {
                label,
                params: problem.initial_params(),
                grad: vec![0.0; problem.dim()],
                optimizer,
                lr: hparams["lr"].as_f64().expect("a learning rate"),
                batches: Batcher::new(problem.train_len(), BatchSize::Examples(BATCH), 0),
                problem,
            }
        })
        .collect()
}

/// One convolution with its input, parameters, gradients and workspace: [`ConvPass::run`] is a
/// forward and a backward pass with ∂x.
pub struct ConvPass {
    pub label: &'static str,
    /// Floating-point operations of one pass: 3 products of 2·rows·k²·in·out each.
    pub flops: usize,
    conv: Conv2d,
    x: Vec<f32>,
    y: Vec<f32>,
    dy: Vec<f32>,
    dx: Vec<f32>,
    params: Vec<f32>,
    dp: Vec<f32>,
    ws: Workspace,
}

impl ConvPass {
    pub fn run(&mut self) {
        let mut pass = Pass {
            batch: BATCH,
            mode: Mode::Train,
            ws: &mut self.ws,
        };
        self.conv
            .forward(&self.x, &mut self.y, &self.params, &mut [], &mut pass);
        let dx = Some(&mut self.dx[..]);
        self.conv.backward(
            &self.x,
            &self.y,
            &self.dy,
            dx,
            &self.params,
            &mut self.dp,
            &mut pass,
        );
    }
}

/// (label, input C×H×W, out channels, kernel, padding), stride 1: 2c2d's two layers and one of
/// each ResNet-20 stage.
const CONVS: [(&str, [usize; 3], usize, usize, usize); 5] = [
    ("2c2d conv1 1-32 5x5 28", [1, 28, 28], 32, 5, 2),
    ("2c2d conv2 32-64 5x5 14", [32, 14, 14], 64, 5, 2),
    ("resnet stage1 16-16 3x3 32", [16, 32, 32], 16, 3, 1),
    ("resnet stage2 32-32 3x3 16", [32, 16, 16], 32, 3, 1),
    ("resnet stage3 64-64 3x3 8", [64, 8, 8], 64, 3, 1),
];

/// The convolutions of [`CONVS`] on a batch of [`BATCH`] fixed pseudo-random images.
pub fn conv_passes() -> Vec<ConvPass> {
    CONVS
        .into_iter()
        .map(|(label, [c_in, h, w], c_out, k, pad)| {
            let input = Dims::image(c_in, h, w);
            let conv = Conv2d::new(input, c_out, k, 1, Padding::symmetric(pad), true)
                .expect("a valid layer");
            let out = conv.output_dims();
            let x: Vec<f32> = (0..BATCH * input.len())
                .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
                .collect();
            let params: Vec<f32> = (0..k * k * c_in * c_out + c_out)
                .map(|i| ((i * 104_729) % 1000) as f32 / 5000.0 - 0.1)
                .collect();
            let dy: Vec<f32> = (0..BATCH * out.len())
                .map(|i| ((i * 31) % 200) as f32 / 100.0 - 1.0)
                .collect();
            ConvPass {
                label,
                flops: 3 * 2 * BATCH * out.height * out.width * k * k * c_in * c_out,
                ws: Workspace {
                    scratch: vec![0.0; conv.scratch_len(BATCH)],
                    ..Workspace::default()
                },
                conv,
                y: vec![0.0; dy.len()],
                dx: vec![0.0; x.len()],
                dp: vec![0.0; params.len()],
                x,
                dy,
                params,
            }
        })
        .collect()
}
