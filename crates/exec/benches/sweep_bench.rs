//! Sweep throughput, scaling and memory, through the library (no CLI, no YAML parsing).
//!
//! The plans mirror experiments/bench/*.yaml:
//!
//! ```text
//! cargo bench -p optbench-exec --bench sweep_bench -- overhead [JOBS]   # 1,000 × 1,000 Rosenbrock steps
//! cargo bench -p optbench-exec --bench sweep_bench -- mlp JOBS          # 16 MLP runs
//! cargo bench -p optbench-exec --bench sweep_bench -- rss [JOBS]        # 10,000 small runs
//! ```
//!
//! Each prints the wall time of `run_plan` (sweep, part files and consolidation included) and
//! the result folder. Run the compiled binary under `/usr/bin/time -v` for peak RSS.

use std::time::Instant;

use optbench_exec::sweep::{SweepOptions, run_plan};
use optbench_spec::plan::{
    BatchSize, Budget, OptimizerSpec, Plan, ProblemSpec, RunSpec, TrainSpec,
};
use serde_json::{Map, Value, json};

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn spec(problem: ProblemSpec, optimizer: OptimizerSpec, train: TrainSpec, seed: u64) -> RunSpec {
    let cell = serde_json::to_string(&(&problem, &optimizer, &train)).unwrap_or_default();
    let cell_id = blake3::hash(cell.as_bytes()).to_hex()[..16].to_string();
    let run_id = blake3::hash(format!("{cell}/{seed}").as_bytes()).to_hex()[..16].to_string();
    let h = blake3::hash(format!("{}/{seed}", problem.name).as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&h.as_bytes()[..8]);
    let label = format!(
        "{} {}",
        optimizer.name,
        Value::Object(optimizer.hparams.clone())
    );
    RunSpec {
        run_id,
        cell_id,
        label,
        problem,
        optimizer,
        train,
        seed,
        data_seed: u64::from_le_bytes(b),
    }
}

fn logspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| {
            #[allow(clippy::cast_precision_loss)]
            let t = i as f64 / (n - 1) as f64;
            10f64.powf(lo.log10() + t * (hi.log10() - lo.log10()))
        })
        .collect()
}

fn train(budget: Budget, batch_size: BatchSize, eval_every: u64) -> TrainSpec {
    TrainSpec {
        budget,
        batch_size,
        eval_every,
        eval_train_examples: None,
        clip_grad_norm: None,
        clip_grad_value: None,
    }
}

fn rosenbrock() -> ProblemSpec {
    ProblemSpec {
        name: "rosenbrock".into(),
        params: Map::new(),
    }
}

fn opt(name: &str, hp: Value) -> OptimizerSpec {
    OptimizerSpec {
        name: name.into(),
        hparams: obj(hp),
        schedule: None,
    }
}

/// experiments/bench/overhead.yaml: 100 SGD + 100 Adam learning rates × 5 seeds, 1,000 steps.
fn overhead_plan(adam: bool) -> Plan {
    let t = train(Budget::Steps(1000), BatchSize::Full, 100);
    let mut runs = Vec::new();
    for seed in 0..5 {
        for lr in logspace(1e-5, 1e-3, 100) {
            runs.push(spec(
                rosenbrock(),
                opt("sgd", json!({"lr": lr})),
                t.clone(),
                seed,
            ));
        }
        for lr in logspace(1e-4, 1e-1, 100) {
            let o = if adam {
                opt("adam", json!({"lr": lr}))
            } else {
                opt("sgd", json!({"lr": lr * 1e-2, "momentum": 0.9}))
            };
            runs.push(spec(rosenbrock(), o, t.clone(), seed));
        }
    }
    Plan {
        experiment: "bench-overhead".into(),
        seeds: (0..5).collect(),
        resolved_yaml: String::new(),
        runs,
    }
}

/// experiments/bench/mlp_scaling.yaml: 2 optimizers × 2 learning rates × 4 seeds, 20 epochs.
fn mlp_plan(adam: bool) -> Plan {
    let problem = ProblemSpec {
        name: "mlp".into(),
        params: obj(json!({
            "dataset": {"name": "synthetic_classification", "samples": 2000, "features": 20, "classes": 4},
            "hidden": [64],
            "activation": "relu"
        })),
    };
    let t = train(Budget::Epochs(20), BatchSize::Examples(32), 100);
    let mut runs = Vec::new();
    for seed in 0..4 {
        for lr in [0.01, 0.1] {
            runs.push(spec(
                problem.clone(),
                opt("sgd", json!({"lr": lr, "momentum": 0.9})),
                t.clone(),
                seed,
            ));
        }
        for lr in [1e-3, 1e-2] {
            let o = if adam {
                opt("adam", json!({"lr": lr}))
            } else {
                opt("sgd", json!({"lr": lr * 10.0}))
            };
            runs.push(spec(problem.clone(), o, t.clone(), seed));
        }
    }
    Plan {
        experiment: "bench-mlp-scaling".into(),
        seeds: (0..4).collect(),
        resolved_yaml: String::new(),
        runs,
    }
}

/// experiments/bench/rss_10k.yaml: 1,000 SGD learning rates × 10 seeds, 200 steps.
fn rss_plan() -> Plan {
    let t = train(Budget::Steps(200), BatchSize::Full, 20);
    let mut runs = Vec::new();
    for seed in 0..10 {
        for lr in logspace(1e-6, 1e-3, 1000) {
            runs.push(spec(
                rosenbrock(),
                opt("sgd", json!({"lr": lr})),
                t.clone(),
                seed,
            ));
        }
    }
    Plan {
        experiment: "bench-rss-10k".into(),
        seeds: (0..10).collect(),
        resolved_yaml: String::new(),
        runs,
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let what = args.first().map_or("overhead", String::as_str);
    let jobs: usize = args.get(1).and_then(|j| j.parse().ok()).unwrap_or(2);
    // Adam is used when the optimizer crate provides it; otherwise SGD with momentum stands in.
    let adam = std::env::var("OPTBENCH_BENCH_NO_ADAM").is_err();
    let plan = match what {
        "overhead" => overhead_plan(adam),
        "mlp" => mlp_plan(adam),
        "rss" => rss_plan(),
        _ => {
            eprintln!("usage: sweep_bench [overhead|mlp|rss] [JOBS]");
            return;
        }
    };
    let out = std::env::temp_dir().join(format!("optbench-bench-{what}-{jobs}"));
    let mut opts = SweepOptions::new(&out, ".");
    opts.jobs = Some(jobs);
    opts.force = true;
    opts.progress = false;
    let t0 = Instant::now();
    match run_plan(&plan, &opts) {
        Ok(s) => println!(
            "{what}: {} runs, jobs {jobs}: {:.3} s (ok {}, diverged {}, failed {}) -> {}",
            plan.runs.len(),
            t0.elapsed().as_secs_f64(),
            s.ok,
            s.diverged,
            s.failed,
            out.display()
        ),
        Err(e) => eprintln!("sweep failed: {e}"),
    }
}
