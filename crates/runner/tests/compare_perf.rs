//! Timing of `compare` on two synthetic folders of 10,000 runs each (2,000 cells × 5 seeds,
//! every value changed a little so every cell-metric is tested). Ignored by default; run with
//!
//! ```sh
//! cargo test --release -p optbench-runner --test compare_perf -- --ignored --nocapture
//! ```
//!
//! The issue's target is under 2 s in release.

use std::time::Instant;

use optbench_runner::compare::{CompareOutcome, Settings, compare_dirs};
use polars::prelude::*;

fn write(dir: &std::path::Path, cells: usize, seeds: u64, scale: f64) {
    std::fs::create_dir_all(dir).unwrap();
    let n = cells * seeds as usize;
    let mut cell_id = Vec::with_capacity(n);
    let mut run_id = Vec::with_capacity(n);
    let mut seed = Vec::with_capacity(n);
    let mut label = Vec::with_capacity(n);
    let (mut train, mut test, mut acc) = (Vec::new(), Vec::new(), Vec::new());
    for c in 0..cells {
        let id = blake3::hash(format!("cell {c}").as_bytes()).to_hex()[..16].to_string();
        for s in 0..seeds {
            run_id.push(format!("{id}{s:04}"));
            cell_id.push(id.clone());
            seed.push(s);
            label.push(format!("adam lr={}", c % 7));
            // Deterministic pseudo-noise per (cell, seed), scaled per side.
            let h = blake3::hash(format!("{c} {s}").as_bytes());
            let u = f64::from(h.as_bytes()[0]) / 255.0;
            let base = 0.1 + c as f64 * 1e-3 + u * 0.01;
            let jitter = 1.0 + scale * (u - 0.3);
            train.push(base * jitter);
            test.push(2.0 * base * jitter);
            acc.push((0.9 - u * 0.1) / jitter);
        }
    }
    let mut df = DataFrame::new(
        n,
        vec![
            Column::new("run_id".into(), run_id),
            Column::new("cell_id".into(), cell_id),
            Column::new("experiment".into(), vec!["perf"; n]),
            Column::new("problem".into(), vec!["mlp"; n]),
            Column::new("dataset".into(), vec!["iris"; n]),
            Column::new("optimizer".into(), vec!["adam"; n]),
            Column::new("label".into(), label),
            Column::new("seed".into(), seed),
            Column::new("status".into(), vec!["ok"; n]),
            Column::new("final_train_loss".into(), train),
            Column::new("final_test_loss".into(), test),
            Column::new("final_test_accuracy".into(), acc),
            Column::new("wall_time_s".into(), vec![1.0f64; n]),
        ],
    )
    .unwrap();
    let f = std::fs::File::create(dir.join("runs.parquet")).unwrap();
    ParquetWriter::new(f).finish(&mut df).unwrap();
}

#[test]
#[ignore = "timing; run in release with --ignored"]
fn compare_10k_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let (b, c) = (tmp.path().join("b"), tmp.path().join("c"));
    write(&b, 2_000, 5, 0.0);
    write(&c, 2_000, 5, 0.1);
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        let o = compare_dirs(&b, &c, &Settings::default()).unwrap();
        let dt = t.elapsed().as_secs_f64();
        best = best.min(dt);
        let (CompareOutcome::Pass(r) | CompareOutcome::Regression(r)) = &o else {
            panic!("{o:?}")
        };
        assert_eq!(r.runs, 10_000);
        assert_eq!(r.tests, 6_000);
        println!(
            "compare 10,000 vs 10,000 runs: {dt:.3} s ({} regressions, {} improvements, {} \
             underpowered, {} within tolerance)",
            r.counts.regression,
            r.counts.improvement,
            r.counts.underpowered_regression + r.counts.underpowered_improvement,
            r.counts.within_tolerance
        );
    }
    assert!(best < 2.0, "compare took {best:.3} s");
}
