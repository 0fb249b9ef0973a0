//! Crash safety end to end: `kill -9` of `optbench run` mid-sweep, then the same command again,
//! gives the same `runs.parquet` and `metrics.parquet` as an uninterrupted sweep.

use optbench_testkit as testkit;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use optbench_results::{self as results, read_metrics, read_runs};

const EXPERIMENT: &str = "\
name: kill-test
seeds: 4
problems:
  - name: rosenbrock
train:
  steps: 60000
  batch_size: full
  eval_every: 5000
optimizers:
  - name: sgd
    lr: {logspace: [1.0e-5, 1.0e-4], num: 3}
  - name: adam
    lr: {logspace: [1.0e-3, 1.0e-2], num: 3}
";

fn optbench(file: &Path, out: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_optbench"));
    c.arg("run")
        .arg(file)
        .arg("--out")
        .arg(out)
        .args(["--jobs", "1", "--no-plots"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn parts(out: &Path) -> usize {
    std::fs::read_dir(out.join(results::PARTS_DIR)).map_or(0, |d| {
        d.filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
            .count()
    })
}

#[test]
fn kill_9_then_resume_matches_an_uninterrupted_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("kill.yaml");
    std::fs::write(&file, EXPERIMENT).unwrap();
    let whole = tmp.path().join("whole");
    let killed = tmp.path().join("killed");

    let status = optbench(&file, &whole).status().unwrap();
    assert!(status.success(), "uninterrupted sweep: {status:?}");
    let total = read_runs(&whole).unwrap().height();
    assert_eq!(total, 24);

    // Kill as soon as the first runs are on disk.
    let mut child = optbench(&file, &killed).spawn().unwrap();
    let t0 = Instant::now();
    while parts(&killed) < 2 && t0.elapsed() < Duration::from_secs(60) {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let kept = parts(&killed);
    assert!(kept >= 1, "no part file written before the kill");
    if kept < total {
        assert!(!killed.join("runs.parquet").exists());
    }

    let status = optbench(&file, &killed).status().unwrap();
    assert!(status.success(), "resumed sweep: {status:?}");
    assert_eq!(parts(&killed), total);
    assert_eq!(
        testkit::fingerprint(&read_runs(&whole).unwrap()),
        testkit::fingerprint(&read_runs(&killed).unwrap())
    );
    assert_eq!(
        testkit::fingerprint(&read_metrics(&whole).unwrap()),
        testkit::fingerprint(&read_metrics(&killed).unwrap())
    );
}
