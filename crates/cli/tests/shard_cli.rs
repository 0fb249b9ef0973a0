//! Sharding end to end through the binary: N shard processes side by side, then `optbench
//! merge`, give the same runs.parquet and metrics.parquet as one process (every column but
//! `wall_time_s`); a killed shard resumes; merging an incomplete set exits 2.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use optbench_exec::merge::{MergeError, MergeSummary, run_merge};
use polars::prelude::*;

const EXPERIMENT: &str = r#"
name: shardtest
seeds: 3
problems:
  - name: rosenbrock
    init: [-1.5, 2.0]
  - name: quadratic
  - name: softmax_regression
    dataset: iris
train:
  steps: 60
  batch_size: [full, 16]
  eval_every: 20
optimizers:
  - name: sgd
    lr: [0.001, 0.01]
  - name: adam
    lr: 0.01
  - name: rmsprop
    lr: 0.001
exclude:
  - {problem: rosenbrock, train.batch_size: 16}
  - {problem: quadratic, train.batch_size: 16}
"#;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_optbench"));
    c.env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("SLURM_ARRAY_TASK_COUNT")
        .env_remove("JOB_COMPLETION_INDEX")
        .stdin(Stdio::null());
    c
}

fn setup(yaml: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let exp = tmp.path().join("exp.yaml");
    std::fs::write(&exp, yaml).unwrap();
    (tmp, exp)
}

fn run_args(exp: &Path, out: &Path, shard: Option<&str>) -> Command {
    let mut c = bin();
    c.arg("run").arg(exp).arg("--out").arg(out);
    c.args(["--jobs", "1", "--no-plots"]);
    if let Some(s) = shard {
        c.args(["--shard", s]);
    }
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

fn check(out: Output, what: &str) -> Output {
    assert!(
        out.status.success(),
        "{what} failed ({:?}):\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn single(exp: &Path, out: &Path) {
    check(run_args(exp, out, None).output().unwrap(), "single run");
}

/// Starts every shard of `n` at once and waits for all of them.
fn shards_side_by_side(exp: &Path, out: &Path, n: u64) {
    let children: Vec<(u64, Child)> = (0..n)
        .map(|i| {
            (
                i,
                run_args(exp, out, Some(&format!("{i}/{n}")))
                    .spawn()
                    .unwrap(),
            )
        })
        .collect();
    for (i, child) in children {
        check(child.wait_with_output().unwrap(), &format!("shard {i}/{n}"));
    }
}

/// `optbench merge DIR`, through the library entry point the CLI calls (`merge::run_merge`):
/// the subcommand is wired by the front end.
fn merge(dir: &Path) -> Result<MergeSummary, MergeError> {
    run_merge(dir, None)
}

fn read(path: &Path) -> DataFrame {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let df = ParquetReader::new(f).finish().unwrap();
    df.drop("wall_time_s").unwrap()
}

/// Frames equal in names, types, order and values (nulls equal to nulls, NaN to NaN).
fn assert_same(a: &DataFrame, b: &DataFrame, what: &str) {
    assert_eq!(a.schema(), b.schema(), "{what}: schemas differ");
    assert_eq!(a.height(), b.height(), "{what}: heights differ");
    assert!(a.height() > 0, "{what}: empty");
    for (ca, cb) in a.columns().iter().zip(b.columns()) {
        let sa = ca.as_materialized_series();
        let sb = cb.as_materialized_series();
        let equal = match sa.dtype() {
            DataType::Float64 => {
                let (x, y) = (sa.f64().unwrap(), sb.f64().unwrap());
                x.iter().zip(y.iter()).all(|(p, q)| match (p, q) {
                    (Some(p), Some(q)) => p.to_bits() == q.to_bits(),
                    (None, None) => true,
                    _ => false,
                })
            }
            _ => sa.equals_missing(sb),
        };
        assert!(equal, "{what}: column `{}` differs", sa.name());
    }
}

fn assert_same_results(a: &Path, b: &Path) {
    assert_same(
        &read(&a.join("runs.parquet")),
        &read(&b.join("runs.parquet")),
        "runs.parquet",
    );
    assert_same(
        &read(&a.join("metrics.parquet")),
        &read(&b.join("metrics.parquet")),
        "metrics.parquet",
    );
}

#[test]
fn shards_side_by_side_then_merge_equal_one_process() {
    let (tmp, exp) = setup(EXPERIMENT);
    let one = tmp.path().join("one");
    let sharded = tmp.path().join("sharded");
    single(&exp, &one);
    shards_side_by_side(&exp, &sharded, 3);
    for i in 0..3 {
        assert!(
            sharded
                .join(format!("runs.shard-{i}-of-3.parquet"))
                .is_file()
        );
    }
    let summary = merge(&sharded).unwrap();
    assert_eq!(summary.runs, 48);
    assert_eq!(summary.shards.len(), 3);
    assert_same_results(&one, &sharded);
    // The merged result passes the CI gate against the single-process one, all unchanged.
    let out = bin()
        .arg("compare")
        .arg(&one)
        .arg(&sharded)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn merge_of_an_incomplete_set_exits_2() {
    let (tmp, exp) = setup(EXPERIMENT);
    let dir = tmp.path().join("partial");
    check(
        run_args(&exp, &dir, Some("0/3")).output().unwrap(),
        "shard 0/3",
    );
    let err = merge(&dir).unwrap_err();
    assert_eq!(err.exit_code(), 2, "{err}");
    let stderr = err.to_string();
    assert!(stderr.contains("runs are missing"), "{stderr}");
    assert!(
        stderr.contains("shard 1/3") && stderr.contains("shard 2/3"),
        "{stderr}"
    );
    assert!(!stderr.contains("shard 0/3:"), "{stderr}");
    assert!(
        !dir.join("runs.parquet").exists(),
        "an incomplete merge wrote runs.parquet"
    );
}

#[test]
fn a_killed_shard_resumes() {
    // Heavier runs so that the shard is still running when it is killed.
    let yaml = EXPERIMENT.replace("steps: 60", "steps: 3000");
    let (tmp, exp) = setup(&yaml);
    let dir = tmp.path().join("killed");
    let parts = dir.join("parts");
    let mut child = run_args(&exp, &dir, Some("0/2")).spawn().unwrap();
    let start = Instant::now();
    let finished_parts = |d: &Path| {
        std::fs::read_dir(d).map_or(0, |it| {
            it.flatten()
                .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
                .count()
        })
    };
    while finished_parts(&parts) == 0 && start.elapsed() < Duration::from_secs(120) {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let killed_early = child.try_wait().unwrap().is_none();
    child.kill().ok();
    child.wait().unwrap();
    let before = finished_parts(&parts);
    assert!(before > 0, "no run finished before the kill");

    // Again: the finished runs are kept, the rest run.
    let out = check(
        run_args(&exp, &dir, Some("0/2")).output().unwrap(),
        "resumed shard",
    );
    if killed_early {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("resum"), "no resume message: {stderr}");
    }
    check(
        run_args(&exp, &dir, Some("1/2")).output().unwrap(),
        "shard 1/2",
    );
    merge(&dir).unwrap();
    let one = tmp.path().join("one");
    single(&exp, &one);
    assert_same_results(&one, &dir);
}
