//! `merge::merge_dir` on hand-written part files (no sweep needed): completeness against the
//! plan, exit codes, plan order, and equality with a single-process consolidation.

use std::path::Path;

use optbench_testkit as testkit;

use optbench_exec::merge::{MergeError, merge_dir};
use optbench_results::{
    self as results, MetricRow, OutputNames, RunOutcome, RunStatus, consolidate, write_part,
};
use optbench_spec::plan::{BatchSize, Budget, Plan, RunSpec};
use optbench_spec::shard::Shard;
use polars::prelude::*;
use serde_json::json;

fn plan(cells: usize, seeds: u64) -> Plan {
    let mut runs = Vec::new();
    for c in 0..cells {
        for s in 0..seeds {
            let lr = 0.01 * (c + 1) as f64;
            runs.push(RunSpec {
                run_id: format!("run{c}s{s}"),
                cell_id: format!("cell{c}"),
                label: format!("sgd lr={}", 0.01 * (c + 1) as f64),
                problem: testkit::problem("rosenbrock", json!({})),
                optimizer: testkit::optimizer("sgd", json!({ "lr": lr })),
                train: testkit::train(Budget::Steps(10), BatchSize::Full, 5),
                seed: s,
                data_seed: 100 + s,
            });
        }
    }
    Plan::from_runs("t", (0..seeds).collect(), "name: t\n", runs)
}

fn outcome(spec: &RunSpec, i: usize) -> RunOutcome {
    RunOutcome {
        run_id: spec.run_id.clone(),
        status: if i % 5 == 4 {
            RunStatus::Diverged
        } else {
            RunStatus::Ok
        },
        error: None,
        steps: 10,
        epochs: 10.0,
        train_len: Some(1),
        wall_time_s: 0.01 * i as f64,
        metrics: (0..3)
            .map(|k| MetricRow {
                step: 5 * k,
                train_loss: Some(1.0 / (1.0 + (i + k as usize) as f64)),
                x0: Some(k as f64),
                x1: Some(-(k as f64)),
                ..MetricRow::default()
            })
            .collect(),
    }
}

fn write_parts(dir: &Path, plan: &Plan, which: impl Fn(usize) -> bool) {
    std::fs::create_dir_all(dir.join(results::PARTS_DIR)).unwrap();
    for (i, spec) in plan.runs().enumerate() {
        if which(i) {
            write_part(dir, &outcome(&spec, i)).unwrap();
        }
    }
}

fn manifest(dir: &Path, shard: Shard, plan_runs: usize, experiment: &str) {
    let text = json!({"experiment": experiment, "plan_runs": plan_runs, "shard": {"index": shard.index, "count": shard.count}});
    std::fs::write(
        dir.join(format!("manifest.{}.json", shard.tag())),
        text.to_string(),
    )
    .unwrap();
}

fn read(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap()
}

#[test]
fn incomplete_then_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let plan = plan(4, 3);
    // Shard 0/2 finished and wrote its manifest; shard 1/2 is missing two runs and never
    // finished.
    let missing = [3usize, 10];
    write_parts(dir, &plan, |i| !missing.contains(&i));
    manifest(dir, Shard { index: 0, count: 2 }, 12, "t");
    let err = merge_dir(dir, &plan).unwrap_err();
    assert_eq!(err.exit_code(), 2);
    let MergeError::Incomplete {
        missing: n,
        total,
        ref by_shard,
        ref absent_shards,
        ref first,
    } = err
    else {
        panic!("{err}")
    };
    assert_eq!((n, total), (2, 12));
    assert_eq!(first.len(), 2);
    assert!(
        first[0].starts_with("run1s0 (sgd lr=0.02, seed 0)"),
        "{first:?}"
    );
    assert!(first[1].starts_with("run3s1 "), "{first:?}");
    // Each missing run is attributed to the shard its cell and seed map to.
    let mut want: Vec<(Shard, usize)> = Vec::new();
    for &i in &missing {
        let s = Shard {
            index: Shard::bucket_of(&plan.run(i).cell_id, plan.run(i).seed, 2),
            count: 2,
        };
        match want.iter_mut().find(|(x, _)| *x == s) {
            Some((_, k)) => *k += 1,
            None => want.push((s, 1)),
        }
    }
    want.sort_by_key(|(s, _)| s.index);
    assert_eq!(by_shard, &want);
    assert_eq!(absent_shards, &vec![Shard { index: 1, count: 2 }]);
    let msg = err.to_string();
    assert!(msg.starts_with("2 of 12 runs are missing (shard "), "{msg}");
    assert!(msg.contains("1/2 wrote no manifest"), "{msg}");
    assert!(!dir.join("runs.parquet").exists());

    // The missing runs arrive: the merge writes every run in plan order.
    write_parts(dir, &plan, |i| missing.contains(&i));
    let summary = merge_dir(dir, &plan).unwrap();
    assert_eq!(summary.runs, 12);
    assert_eq!(summary.metric_rows, 36);
    assert_eq!((summary.ok, summary.diverged, summary.failed), (10, 2, 0));
    assert_eq!(summary.shards, vec![Shard { index: 0, count: 2 }]);
    let runs = read(&dir.join("runs.parquet"));
    let ids: Vec<String> = runs
        .column("run_id")
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.unwrap().to_string())
        .collect();
    let want: Vec<String> = plan.runs().map(|r| r.run_id).collect();
    assert_eq!(ids, want);

    // Identical to what one process consolidates from the same parts.
    let one = tempfile::tempdir().unwrap();
    write_parts(one.path(), &plan, |_| true);
    consolidate(one.path(), "t", plan.runs(), &OutputNames::new(None)).unwrap();
    for f in ["runs.parquet", "metrics.parquet"] {
        let (a, b) = (read(&dir.join(f)), read(&one.path().join(f)));
        assert!(a.equals_missing(&b), "{f} differs");
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["plan_runs"], 12);
    assert_eq!(manifest["status_counts"]["diverged"], 2);
    assert_eq!(manifest["shards"].as_array().unwrap().len(), 1);
}

#[test]
fn stray_parts_are_ignored_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = plan(2, 2);
    write_parts(tmp.path(), &plan, |_| true);
    let other = self::plan(3, 3);
    std::fs::create_dir_all(tmp.path().join(results::PARTS_DIR)).unwrap();
    write_part(tmp.path(), &outcome(&other.run(8), 8)).unwrap();
    let s = merge_dir(tmp.path(), &plan).unwrap();
    assert_eq!((s.runs, s.stray_parts), (4, 1));
    assert!(s.shards.is_empty());
}

#[test]
fn a_different_plan_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = plan(2, 2);
    write_parts(tmp.path(), &plan, |_| true);
    manifest(tmp.path(), Shard { index: 0, count: 2 }, 5, "t");
    let err = merge_dir(tmp.path(), &plan).unwrap_err();
    assert!(matches!(err, MergeError::PlanMismatch(_)), "{err}");
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("plan of 5 runs"), "{err}");

    let tmp = tempfile::tempdir().unwrap();
    write_parts(tmp.path(), &plan, |_| true);
    manifest(tmp.path(), Shard { index: 0, count: 2 }, 4, "other");
    let err = merge_dir(tmp.path(), &plan).unwrap_err();
    assert!(err.to_string().contains("experiment `other`"), "{err}");

    let tmp = tempfile::tempdir().unwrap();
    write_parts(tmp.path(), &plan, |_| true);
    manifest(tmp.path(), Shard { index: 0, count: 2 }, 4, "t");
    manifest(tmp.path(), Shard { index: 1, count: 3 }, 4, "t");
    let err = merge_dir(tmp.path(), &plan).unwrap_err();
    assert!(
        err.to_string().contains("different splits (N=2, N=3)"),
        "{err}"
    );
    assert!(
        !tmp.path()
            .join(results::OutputNames::new(None).runs)
            .exists()
    );
}
