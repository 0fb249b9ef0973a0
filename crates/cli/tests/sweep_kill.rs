//! Crash safety end to end: `kill -9` of `optbench run` mid-sweep, then the same command again,
//! gives the same `runs.parquet` and `metrics.parquet` as an uninterrupted sweep.

mod sweep_process;

use optbench_testkit as testkit;
use sweep_process::{optbench_run, parts};

use std::process::Stdio;
use std::time::{Duration, Instant};

use optbench_results::{read_metrics, read_runs};

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

#[test]
fn kill_9_then_resume_matches_an_uninterrupted_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("kill.yaml");
    std::fs::write(&file, EXPERIMENT).unwrap();
    let whole = tmp.path().join("whole");
    let killed = tmp.path().join("killed");

    let status = optbench_run(&file, &whole, 1)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "uninterrupted sweep: {status:?}");
    let total = read_runs(&whole).unwrap().height();
    assert_eq!(total, 24);

    // Kill as soon as the first runs are on disk.
    let mut child = optbench_run(&file, &killed, 1)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
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

    let status = optbench_run(&file, &killed, 1)
        .stderr(Stdio::null())
        .status()
        .unwrap();
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
