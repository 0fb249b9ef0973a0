//! `loss_grad`: loss and gradient of the linear models on a mini-batch.

use std::hint::black_box;
use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput};
use optbench_models::{BatchSize, Batcher, ProblemConfig, build_problem, load_dataset};

pub fn loss_grad(c: &mut Criterion) {
    let mut group = c.benchmark_group("loss_grad");
    let batch = 128usize;
    for (problem, dataset, classes) in [
        ("linear_regression", "synthetic_regression", 2),
        ("logistic_regression", "synthetic_classification", 2),
        ("softmax_regression", "synthetic_classification", 10),
    ] {
        let keys = serde_json::json!({
            "dataset": {"name": dataset, "samples": 10_000, "features": 100}
        });
        let mut keys = keys.as_object().unwrap().clone();
        if dataset == "synthetic_classification" {
            keys["dataset"]["classes"] = classes.into();
        }
        let cfg = ProblemConfig::from_json(problem, &keys).unwrap();
        let data = load_dataset(cfg.dataset().unwrap(), 0, Path::new(".")).unwrap();
        let mut p = build_problem(&cfg, Some(data), 0).unwrap();
        let params = p.initial_params();
        let mut grad = vec![0.0; p.dim()];
        let mut batches = Batcher::new(p.train_len(), BatchSize::Examples(batch), 0);
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(BenchmarkId::new(problem, format!("100x{batch}")), |b| {
            b.iter(|| black_box(p.loss_grad(&params, batches.next_batch(), &mut grad)))
        });
    }
    group.finish();
}
