//! `mlp_train_step`: one training step of an MLP (forward and backward of a mini-batch, then
//! optbench's `adam` update, as in a sweep) on one thread, in examples per second. Compare with `scripts/bench_torch_mlp.py`.

use std::hint::black_box;
use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput};
use optbench_models::{BatchSize, Batcher, Problem, ProblemConfig, build_problem, load_dataset};
use optbench_optim::OptimizerConfig;

/// An MLP problem on random 784-feature, 10-class data with `samples` examples.
pub fn mnist_like_mlp(hidden: &[usize], samples: usize) -> Box<dyn Problem> {
    let keys = serde_json::json!({
        "dataset": {"name": "synthetic_classification", "samples": samples, "features": 784,
                    "classes": 10, "test_fraction": 0.0},
        "hidden": hidden,
        "activation": "relu",
    });
    let cfg = ProblemConfig::from_json("mlp", keys.as_object().unwrap()).unwrap();
    let data = load_dataset(cfg.dataset().unwrap(), 0, Path::new(".")).unwrap();
    build_problem(&cfg, Some(data), 0).unwrap()
}

pub fn mlp_train_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("mlp_train_step");
    for hidden in [vec![128], vec![256, 256]] {
        let mut problem = mnist_like_mlp(&hidden, 10_000);
        let shape = format!(
            "784-{}-10",
            hidden
                .iter()
                .map(|h| h.to_string())
                .collect::<Vec<_>>()
                .join("-")
        );
        for batch in [32usize, 128] {
            let mut params = problem.initial_params();
            let mut grad = vec![0.0; problem.dim()];
            // torch.optim.Adam's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8.
            let adam = OptimizerConfig::from_json("adam", &serde_json::Map::new()).unwrap();
            let mut adam = adam.build(problem.dim()).unwrap();
            let mut batches = Batcher::new(problem.train_len(), BatchSize::Examples(batch), 0);
            group.throughput(Throughput::Elements(batch as u64));
            group.bench_function(BenchmarkId::new(&shape, batch), |b| {
                b.iter(|| {
                    let idx = batches.next_batch();
                    black_box(problem.loss_grad(&params, idx, &mut grad));
                    adam.step(&mut params, &grad, 1e-3).unwrap();
                })
            });
        }
    }
    group.finish();
}

/// Evaluation (forward only, chunks of 256) of a 10,000-example set: compare its examples/s
/// with `mlp_train_step` — an evaluation must cost no more than a training epoch.
pub fn mlp_eval(c: &mut Criterion) {
    let mut group = c.benchmark_group("mlp_eval");
    let mut problem = mnist_like_mlp(&[128], 10_000);
    let params = problem.initial_params();
    group.throughput(Throughput::Elements(problem.eval_train_len() as u64));
    group.bench_function(BenchmarkId::new("784-128-10", "train_loss_10000"), |b| {
        b.iter(|| black_box(problem.train_loss(&params)))
    });
    group.finish();
}
