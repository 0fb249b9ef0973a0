//! Hand-built results folders (runs.parquet, metrics.parquet, manifest.json) for the compare,
//! history and CI-output tests, and a runner for the `optbench` binary.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

use polars::prelude::*;

/// One run of a fixture.
#[derive(Clone, Debug)]
pub struct Run {
    pub cell: String,
    pub problem: &'static str,
    pub optimizer: &'static str,
    pub seed: u64,
    pub status: &'static str,
    pub train: Option<f64>,
    pub test: Option<f64>,
    pub acc: Option<f64>,
    pub wall: f64,
    pub examples: u64,
    pub lr: f64,
}

/// An ok run of `cell` (problem `quadratic`, optimizer `adam`, lr 0.01) with train loss
/// `train`, test loss `2·train`, no test accuracy, wall time 1 s and 1,000 examples.
pub fn run(cell: &str, seed: u64, train: f64) -> Run {
    Run {
        cell: cell.to_string(),
        problem: "quadratic",
        optimizer: "adam",
        seed,
        status: "ok",
        train: Some(train),
        test: Some(2.0 * train),
        acc: None,
        wall: 1.0,
        examples: 1000,
        lr: 0.01,
    }
}

/// Writes `runs.parquet` and `metrics.parquet` (two rows per run: step 0 and the last step) of
/// `runs` into `dir`, and `manifest.json` when given.
pub fn write_results(dir: &Path, runs: &[Run], manifest: Option<serde_json::Value>) {
    std::fs::create_dir_all(dir).unwrap();
    let n = runs.len();
    let ids: Vec<String> = runs
        .iter()
        .map(|r| format!("{}-{}", r.cell, r.seed))
        .collect();
    let mut df = DataFrame::new(
        n,
        vec![
            Column::new("run_id".into(), ids.clone()),
            Column::new(
                "cell_id".into(),
                runs.iter().map(|r| r.cell.clone()).collect::<Vec<_>>(),
            ),
            Column::new("experiment".into(), vec!["t"; n]),
            Column::new(
                "problem".into(),
                runs.iter().map(|r| r.problem).collect::<Vec<_>>(),
            ),
            Column::new("dataset".into(), vec![None::<&str>; n]),
            Column::new(
                "optimizer".into(),
                runs.iter().map(|r| r.optimizer).collect::<Vec<_>>(),
            ),
            Column::new(
                "label".into(),
                runs.iter()
                    .map(|r| format!("{} {}", r.optimizer, r.cell))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "seed".into(),
                runs.iter().map(|r| r.seed).collect::<Vec<_>>(),
            ),
            Column::new("lr".into(), runs.iter().map(|r| r.lr).collect::<Vec<_>>()),
            Column::new(
                "hparams".into(),
                runs.iter()
                    .map(|r| format!(r#"{{"eps":1e-8,"lr":{}}}"#, r.lr))
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "status".into(),
                runs.iter().map(|r| r.status).collect::<Vec<_>>(),
            ),
            Column::new(
                "final_train_loss".into(),
                runs.iter().map(|r| r.train).collect::<Vec<_>>(),
            ),
            Column::new(
                "final_test_loss".into(),
                runs.iter().map(|r| r.test).collect::<Vec<_>>(),
            ),
            Column::new(
                "final_test_accuracy".into(),
                runs.iter().map(|r| r.acc).collect::<Vec<_>>(),
            ),
            Column::new(
                "best_train_loss".into(),
                runs.iter().map(|r| r.train).collect::<Vec<_>>(),
            ),
            Column::new(
                "wall_time_s".into(),
                runs.iter().map(|r| r.wall).collect::<Vec<_>>(),
            ),
        ],
    )
    .unwrap();
    let file = std::fs::File::create(dir.join("runs.parquet")).unwrap();
    ParquetWriter::new(file).finish(&mut df).unwrap();
    let mut m = DataFrame::new(
        2 * n,
        vec![
            Column::new(
                "run_id".into(),
                ids.iter()
                    .flat_map(|i| [i.clone(), i.clone()])
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "step".into(),
                (0..n).flat_map(|_| [0u64, 100]).collect::<Vec<_>>(),
            ),
            Column::new(
                "examples_seen".into(),
                runs.iter()
                    .flat_map(|r| [0u64, r.examples])
                    .collect::<Vec<_>>(),
            ),
        ],
    )
    .unwrap();
    let file = std::fs::File::create(dir.join("metrics.parquet")).unwrap();
    ParquetWriter::new(file).finish(&mut m).unwrap();
    if let Some(manifest) = manifest {
        std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    }
}

/// A manifest like the sweep's, with the fields `history add` reads.
pub fn manifest(commit: &str, start_time: &str) -> serde_json::Value {
    serde_json::json!({
        "arch": "x86_64",
        "cpu": "Test CPU",
        "experiment": "t",
        "git_commit": commit,
        "optbench_version": "0.1.0",
        "os": "linux",
        "rustc": "rustc 1.95.0",
        "start_time": start_time,
    })
}

/// Runs the `optbench` binary with `args` (and extra environment variables).
pub fn optbench(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_optbench"));
    c.args(args).env_remove("GITHUB_STEP_SUMMARY");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// The exit code and stderr of an output, for assertion messages.
pub fn describe(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
