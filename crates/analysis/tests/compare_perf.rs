//! Timing of `compare` on two synthetic folders of 10,000 runs each (2,000 cells × 5 seeds,
//! every value changed a little so every cell-metric is tested), without and with a
//! steps-to-target metric (`--target train_loss=0.05` over metrics.parquet, 21 rows per run:
//! 210,000 rows per side). Ignored by default; run with
//!
//! ```sh
//! cargo test --release -p optbench --test compare_perf -- --ignored --nocapture
//! ```
//!
//! The issue's target is under 2 s in release.

use std::time::Instant;

use optbench_analysis::compare::{CompareOutcome, Settings, Target, compare_dirs};
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
    let run_ids = run_id.clone();
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
            Column::new("final_train_loss".into(), train.clone()),
            Column::new("final_test_loss".into(), test),
            Column::new("final_test_accuracy".into(), acc),
            Column::new("wall_time_s".into(), vec![1.0f64; n]),
        ],
    )
    .unwrap();
    let f = std::fs::File::create(dir.join("runs.parquet")).unwrap();
    ParquetWriter::new(f).finish(&mut df).unwrap();

    // metrics.parquet: steps 0, 50, ..., 1000; the train loss halves every 100 steps from 1 (times
    // the run's jitter), so it reaches 0.05 around step 450 and the candidate's later or earlier.
    let rows = 21;
    let mut m_run = Vec::with_capacity(n * rows);
    let mut m_step = Vec::with_capacity(n * rows);
    let mut m_loss = Vec::with_capacity(n * rows);
    for (i, id) in run_ids.iter().enumerate() {
        for k in 0..rows as u64 {
            m_run.push(id.clone());
            m_step.push(50 * k);
            m_loss.push(train[i] * 10.0 * 0.5f64.powf(k as f64 / 2.0));
        }
    }
    let mut mf = DataFrame::new(
        n * rows,
        vec![
            Column::new("run_id".into(), m_run),
            Column::new("step".into(), m_step),
            Column::new("train_loss".into(), m_loss),
        ],
    )
    .unwrap();
    let f = std::fs::File::create(dir.join("metrics.parquet")).unwrap();
    ParquetWriter::new(f).finish(&mut mf).unwrap();
}

#[test]
#[ignore = "timing; run in release with --ignored"]
fn compare_10k_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let (b, c) = (tmp.path().join("b"), tmp.path().join("c"));
    write(&b, 2_000, 5, 0.0);
    write(&c, 2_000, 5, 0.1);
    let with_target = Settings {
        targets: vec![Target::parse("train_loss=0.05").unwrap()],
        ..Settings::default()
    };
    // Every cell has a row per metric; the final metrics all moved (tested), the step counts
    // (multiples of 50) moved in some cells only.
    for (what, settings, rows) in [
        ("3 metrics", Settings::default(), 6_000),
        ("3 metrics + steps to train_loss<=0.05", with_target, 8_000),
    ] {
        let mut best = f64::INFINITY;
        for _ in 0..3 {
            let t = Instant::now();
            let o = compare_dirs(&b, &c, &settings).unwrap();
            let dt = t.elapsed().as_secs_f64();
            best = best.min(dt);
            let (CompareOutcome::Pass(r) | CompareOutcome::Regression(r)) = &o else {
                panic!("{o:?}")
            };
            assert_eq!(r.runs, 10_000);
            assert_eq!(r.rows.len(), rows);
            assert!(r.tests > 6_000 || rows == 6_000, "{} tests", r.tests);
            println!(
                "compare 10,000 vs 10,000 runs, {what}: {dt:.3} s ({} tests; {} regressions, \
                 {} improvements, {} underpowered, {} within tolerance, {} unchanged)",
                r.tests,
                r.counts.regression,
                r.counts.improvement,
                r.counts.underpowered_regression + r.counts.underpowered_improvement,
                r.counts.within_tolerance,
                r.counts.unchanged
            );
        }
        assert!(best < 2.0, "compare ({what}) took {best:.3} s");
    }
}
