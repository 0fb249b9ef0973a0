//! The sweep through the library API: schema, row counts, determinism across `jobs`, resume,
//! divergence, failures, shards and the stop flag.

use optbench_testkit as testkit;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use optbench_exec::assemble::{RunBuilder, RunError, RunParts, StandardBuilder};
use optbench_exec::sweep::{SweepOptions, SweepSummary, run_plan, run_plan_with};
use optbench_optim::ScheduleConfig;
use optbench_results::{self as results, read_metrics, read_runs};
use optbench_spec::plan::{BatchSize, Budget, OptimizerSpec, Plan, RunSpec};
use optbench_spec::shard::Shard;
use polars::prelude::*;
use serde_json::{Value, json};

/// A run whose ids are hashes of its content, as the planner makes them.
#[allow(clippy::too_many_arguments)]
fn spec(
    problem: &str,
    params: Value,
    optimizer: &str,
    hparams: Value,
    seed: u64,
    steps: u64,
    batch: BatchSize,
    eval_every: u64,
) -> RunSpec {
    let cell = format!("{problem}{params}{optimizer}{hparams}{steps}{batch:?}{eval_every}");
    let cell_id = blake3::hash(cell.as_bytes()).to_hex()[..16].to_string();
    let run_id = blake3::hash(format!("{cell}/{seed}").as_bytes()).to_hex()[..16].to_string();
    let data_seed = u64::from_le_bytes(
        blake3::hash(format!("{problem}/{seed}").as_bytes()).as_bytes()[..8]
            .try_into()
            .unwrap(),
    );
    RunSpec {
        run_id,
        cell_id,
        label: format!("{optimizer} {hparams}"),
        problem: testkit::problem(problem, params),
        optimizer: testkit::optimizer(optimizer, hparams),
        train: testkit::train(Budget::Steps(steps), batch, eval_every),
        seed,
        data_seed,
    }
}

fn plan(name: &str, runs: Vec<RunSpec>) -> Plan {
    Plan::from_runs(name, vec![0, 1], format!("name: {name}\n"), runs)
}

/// Rosenbrock and a small softmax regression, 2 learning rates, 2 seeds: 8 runs.
fn mixed_plan() -> Plan {
    let mut runs = Vec::new();
    for seed in 0..2 {
        for lr in [1e-3, 2e-3] {
            runs.push(spec(
                "rosenbrock",
                json!({}),
                "sgd",
                json!({"lr": lr}),
                seed,
                50,
                BatchSize::Full,
                20,
            ));
        }
        for lr in [0.05, 0.1] {
            runs.push(spec(
                "softmax_regression",
                json!({"dataset": {"name": "synthetic_classification", "samples": 120, "features": 4, "classes": 3}}),
                "sgd",
                json!({"lr": lr, "momentum": 0.9}),
                seed,
                30,
                BatchSize::Examples(16),
                10,
            ));
        }
    }
    plan("mixed", runs)
}

fn opts(dir: &Path, jobs: usize) -> SweepOptions {
    let mut o = SweepOptions::new(dir, dir);
    o.jobs = Some(jobs);
    o.progress = false;
    o.signals = false;
    o
}

fn strings(df: &DataFrame, col: &str) -> Vec<Option<String>> {
    df.column(col)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect()
}

fn run(plan: &Plan, o: &SweepOptions) -> SweepSummary {
    run_plan(plan, o).expect("sweep runs")
}

#[test]
fn schema_and_row_counts() {
    let dir = tempfile::tempdir().unwrap();
    let p = mixed_plan();
    let s = run(&p, &opts(dir.path(), 2));
    assert_eq!(
        (s.ok, s.diverged, s.failed, s.missing),
        (8, 0, 0, 0),
        "{s:?}"
    );
    assert!(s.success());

    let runs = read_runs(dir.path()).unwrap();
    assert_eq!(runs.height(), 8);
    for c in [
        "run_id",
        "cell_id",
        "experiment",
        "problem",
        "dataset",
        "optimizer",
        "label",
        "seed",
        "batch_size",
        "lr",
        "hparams",
        "hp_lr",
        "hp_momentum",
        "p_dataset_samples",
        "status",
        "error",
        "steps",
        "epochs",
        "final_train_loss",
        "final_test_loss",
        "final_test_accuracy",
        "best_train_loss",
        "wall_time_s",
    ] {
        assert!(runs.column(c).is_ok(), "runs.parquet lacks {c}");
    }
    assert_eq!(runs.column("seed").unwrap().dtype(), &DataType::UInt64);
    assert_eq!(runs.column("lr").unwrap().dtype(), &DataType::Float64);
    // Plan order.
    let ids: Vec<String> = p.runs().map(|r| r.run_id).collect();
    let got: Vec<String> = strings(&runs, "run_id").into_iter().flatten().collect();
    assert_eq!(got, ids);
    // Full batch on Rosenbrock is its one "example"; mini-batches keep their size.
    let bs: Vec<Option<u64>> = runs
        .column("batch_size")
        .unwrap()
        .u64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(&bs[..4], &[Some(1), Some(1), Some(16), Some(16)]);
    assert!(strings(&runs, "dataset")[0].is_none());
    assert_eq!(
        strings(&runs, "dataset")[2].as_deref(),
        Some("synthetic_classification")
    );

    let metrics = read_metrics(dir.path()).unwrap();
    assert_eq!(
        metrics
            .get_column_names()
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>(),
        results::METRICS_COLUMNS.to_vec()
    );
    // Rosenbrock: steps 0, 20, 40, 50 = 4 rows; softmax: 0, 10, 20, 30 = 4 rows.
    assert_eq!(metrics.height(), 8 * 4);
    let steps: Vec<u64> = metrics
        .column("step")
        .unwrap()
        .u64()
        .unwrap()
        .no_null_iter()
        .collect();
    assert_eq!(&steps[..12], &[0, 20, 40, 50, 0, 20, 40, 50, 0, 10, 20, 30]);
    let x0 = metrics.column("x0").unwrap().f64().unwrap();
    assert!(
        x0.get(0).is_some() && x0.get(8).is_none(),
        "x0 only for 2-D problems"
    );
    // Rosenbrock's classic start (-1.2, 1) has f = 24.2.
    let train_loss = metrics.column("train_loss").unwrap().f64().unwrap();
    assert!((train_loss.get(0).unwrap() - 24.2).abs() < 1e-4);
    let batch_loss = metrics.column("batch_loss").unwrap().f64().unwrap();
    assert!(batch_loss.get(0).is_none() && batch_loss.get(1).is_some());
    let acc = metrics.column("test_accuracy").unwrap().f64().unwrap();
    assert!(acc.get(0).is_none() && acc.get(8).is_some());
    // Training accuracy on the same rows as the test accuracy: the classifier (softmax
    // regression, rows 8..16) has it on every row, in [0, 1]; Rosenbrock has none.
    let train_acc = metrics.column("train_accuracy").unwrap().f64().unwrap();
    for i in 0..16 {
        assert_eq!(train_acc.get(i).is_some(), acc.get(i).is_some(), "row {i}");
    }
    assert!((8..16).all(|i| (0.0..=1.0).contains(&train_acc.get(i).unwrap())));
    // Epochs of a mini-batch run: 30 steps × 16 examples over a 96-example training split.
    let epochs = runs.column("epochs").unwrap().f64().unwrap();
    assert!(
        (epochs.get(2).unwrap() - 30.0 * 16.0 / 96.0).abs() < 1e-9,
        "{:?}",
        epochs.get(2)
    );

    for f in ["experiment.yaml", "manifest.json"] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["plan_runs"], json!(8));
    assert_eq!(manifest["status_counts"]["ok"], json!(8));
    assert_eq!(manifest["threads"], json!(2));
    assert!(manifest["start_time"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn jobs_do_not_change_results() {
    let p = mixed_plan();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    run(&p, &opts(a.path(), 1));
    run(&p, &opts(b.path(), 2));
    assert_eq!(
        testkit::fingerprint(&read_runs(a.path()).unwrap()),
        testkit::fingerprint(&read_runs(b.path()).unwrap())
    );
    assert_eq!(
        testkit::fingerprint(&read_metrics(a.path()).unwrap()),
        testkit::fingerprint(&read_metrics(b.path()).unwrap())
    );
}

#[test]
fn resume_runs_only_missing_runs_and_matches() {
    let p = mixed_plan();
    let full = tempfile::tempdir().unwrap();
    run(&p, &opts(full.path(), 2));

    let dir = tempfile::tempdir().unwrap();
    run(&p, &opts(dir.path(), 2));
    // Simulate a sweep killed after some runs: drop three parts and the consolidated files.
    for r in [p.run(0), p.run(3), p.run(6)] {
        std::fs::remove_file(results::part_path(dir.path(), &r.run_id)).unwrap();
    }
    std::fs::remove_file(dir.path().join("runs.parquet")).unwrap();
    std::fs::remove_file(dir.path().join("metrics.parquet")).unwrap();
    // A half-written temporary file left by the kill is ignored.
    std::fs::write(dir.path().join("parts/.x.part.tmp-1-1"), b"OBPART01 trunc").unwrap();
    let s = run(&p, &opts(dir.path(), 1));
    assert_eq!((s.resumed, s.ran), (5, 3));
    assert_eq!(
        testkit::fingerprint(&read_runs(full.path()).unwrap()),
        testkit::fingerprint(&read_runs(dir.path()).unwrap())
    );
    assert_eq!(
        testkit::fingerprint(&read_metrics(full.path()).unwrap()),
        testkit::fingerprint(&read_metrics(dir.path()).unwrap())
    );
    // Nothing left to do: a third sweep runs nothing and writes the same files.
    let s = run(&p, &opts(dir.path(), 2));
    assert_eq!((s.resumed, s.ran), (8, 0));
    // --force starts over.
    let mut o = opts(dir.path(), 2);
    o.force = true;
    let s = run(&p, &o);
    assert_eq!((s.resumed, s.ran), (0, 8));
}

#[test]
fn huge_learning_rate_diverges_others_ok() {
    let runs = vec![
        spec(
            "rosenbrock",
            json!({}),
            "sgd",
            json!({"lr": 1e-3}),
            0,
            100,
            BatchSize::Full,
            10,
        ),
        spec(
            "rosenbrock",
            json!({}),
            "sgd",
            json!({"lr": 10.0}),
            0,
            100,
            BatchSize::Full,
            10,
        ),
    ];
    let p = plan("diverge", runs);
    let dir = tempfile::tempdir().unwrap();
    let s = run(&p, &opts(dir.path(), 2));
    assert_eq!((s.ok, s.diverged, s.failed), (1, 1, 0));
    assert!(s.success(), "diverged runs are results, not failures");
    let df = read_runs(dir.path()).unwrap();
    assert_eq!(
        strings(&df, "status"),
        vec![Some("ok".to_string()), Some("diverged".to_string())]
    );
    let steps: Vec<u64> = df
        .column("steps")
        .unwrap()
        .u64()
        .unwrap()
        .no_null_iter()
        .collect();
    assert_eq!(steps[0], 100);
    assert!(steps[1] < 100, "diverged at step {}", steps[1]);
    let m = read_metrics(dir.path()).unwrap();
    let ids = strings(&m, "run_id");
    let last = ids
        .iter()
        .rposition(|id| id.as_deref() == Some(p.run(1).run_id.as_str()))
        .unwrap();
    let mstep = m.column("step").unwrap().u64().unwrap().get(last).unwrap();
    assert_eq!(mstep, steps[1], "the diverging step is recorded");
    let tl = m
        .column("train_loss")
        .unwrap()
        .f64()
        .unwrap()
        .get(last)
        .unwrap();
    let bl = m
        .column("batch_loss")
        .unwrap()
        .f64()
        .unwrap()
        .get(last)
        .unwrap();
    assert!(!tl.is_finite() || !bl.is_finite());
}

/// Builds runs with the standard builder but panics for one run id and fails another.
struct Sabotage {
    inner: StandardBuilder,
    panic_id: String,
    fail_id: String,
}

impl RunBuilder for Sabotage {
    fn build(&self, spec: &RunSpec) -> Result<RunParts, RunError> {
        assert!(
            spec.run_id != self.panic_id,
            "sabotaged run {}",
            spec.run_id
        );
        if spec.run_id == self.fail_id {
            return Err(RunError::Data("cannot build this one".into()));
        }
        self.inner.build(spec)
    }
}

#[test]
fn panics_and_errors_are_failed_runs_and_the_sweep_goes_on() {
    let mut runs: Vec<RunSpec> = mixed_plan().runs().collect();
    // A data file that does not exist fails at load time.
    runs.push(spec(
        "linear_regression",
        json!({"dataset": {"name": "csv", "path": "no/such/file.csv"}}),
        "sgd",
        json!({"lr": 0.1}),
        0,
        10,
        BatchSize::Full,
        5,
    ));
    let p = plan("mixed", runs);
    let dir = tempfile::tempdir().unwrap();
    let builder = Sabotage {
        inner: StandardBuilder::new(dir.path()),
        panic_id: p.run(1).run_id,
        fail_id: p.run(2).run_id,
    };
    let s = run_plan_with(&p, &opts(dir.path(), 2), &builder).unwrap();
    assert_eq!((s.ok, s.diverged, s.failed), (6, 0, 3), "{s:?}");
    assert!(!s.success());
    let df = read_runs(dir.path()).unwrap();
    let status = strings(&df, "status");
    let error = strings(&df, "error");
    assert_eq!(status[1].as_deref(), Some("failed"));
    let e1 = error[1].as_deref().unwrap();
    assert!(e1.contains("panic") && e1.contains("sabotaged run"), "{e1}");
    assert_eq!(error[2].as_deref(), Some("cannot build this one"));
    let e8 = error[8].as_deref().unwrap();
    assert!(e8.contains("no/such/file.csv"), "{e8}");
    assert_eq!(status[0].as_deref(), Some("ok"));
    assert!(error[0].is_none());
    // Failed runs are run again by the next sweep.
    let s = run_plan(&p, &opts(dir.path(), 2)).unwrap();
    assert_eq!((s.resumed, s.ran), (6, 3));
    assert_eq!((s.ok, s.failed), (8, 1));
}

#[test]
fn stop_flag_keeps_finished_runs() {
    let p = mixed_plan();
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path(), 2);
    o.stop = Some(Arc::new(AtomicBool::new(true)));
    let s = run(&p, &o);
    assert!(s.interrupted);
    assert_eq!((s.ran, s.missing), (0, 8));
    assert_eq!(read_runs(dir.path()).unwrap().height(), 0);
    assert_eq!(read_metrics(dir.path()).unwrap().height(), 0);
    // The next sweep does everything.
    let s = run(&p, &opts(dir.path(), 2));
    assert_eq!((s.ran, s.ok), (8, 8));
}

#[test]
fn shards_share_a_folder_and_cover_the_plan() {
    let p = mixed_plan();
    let whole = tempfile::tempdir().unwrap();
    run(&p, &opts(whole.path(), 2));
    let dir = tempfile::tempdir().unwrap();
    let mut rows = 0;
    for i in 0..2 {
        let mut o = opts(dir.path(), 1);
        o.shard = Some(Shard::new(i, 2).unwrap());
        let s = run(&p, &o);
        rows += s.ok;
        let f = dir.path().join(format!("runs.shard-{i}-of-2.parquet"));
        assert_eq!(results::read_parquet(&f).unwrap().height(), s.selected_runs);
        assert!(
            dir.path()
                .join(format!("manifest.shard-{i}-of-2.json"))
                .is_file()
        );
    }
    assert_eq!(rows, 8);
    assert!(!dir.path().join("runs.parquet").exists());
}

#[test]
fn schedule_and_clipping_shape_the_updates() {
    let mut s = spec(
        "rosenbrock",
        json!({}),
        "sgd",
        json!({"lr": 1e-3}),
        0,
        100,
        BatchSize::Full,
        10,
    );
    let cosine = ScheduleConfig::from_json(&json!({"name": "cosine"})).unwrap();
    s.optimizer = Arc::new(OptimizerSpec::new(s.optimizer.config.clone(), Some(cosine)));
    Arc::make_mut(&mut s.train).clip_grad_norm = Some(1.0);
    let p = plan("clip", vec![s]);
    let dir = tempfile::tempdir().unwrap();
    let sum = run(&p, &opts(dir.path(), 1));
    assert_eq!(sum.ok, 1, "{sum:?}");
    let m = read_metrics(dir.path()).unwrap();
    let col =
        |n: &str| -> Vec<Option<f64>> { m.column(n).unwrap().f64().unwrap().iter().collect() };
    let lr = col("lr");
    let gn = col("grad_norm");
    let un = col("update_norm");
    // Cosine from 1e-3 towards 0 over 100 updates: the first update uses the full rate.
    assert!((lr[0].unwrap() - 1e-3).abs() < 1e-12);
    assert!(lr.windows(2).all(|w| w[1].unwrap() < w[0].unwrap()));
    // Rosenbrock's gradient at (-1.2, 1) has norm ≈ 232: clipped to 1, plain SGD moves by at
    // most lr · 1 per update (plus float32 rounding of parameters near 1: a few 1e-7).
    assert!(gn[1].unwrap() > 10.0, "{gn:?}");
    for i in 1..lr.len() {
        assert!(
            un[i].unwrap() <= lr[i].unwrap() + 1e-6,
            "row {i}: {un:?} {lr:?}"
        );
    }
}
