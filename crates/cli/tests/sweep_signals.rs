//! SIGTERM and SIGINT end to end: a real `optbench run` process gets the signal mid-sweep. No
//! new run starts; the run in flight is abandoned (grace period 0) or finished (a long grace
//! period); the finished runs are consolidated; the manifest records the interruption and the
//! signal; the process exits 143 (SIGTERM) or 130 (SIGINT); a second signal exits at once; and
//! the same command resumes to the results of an uninterrupted sweep.

mod sweep_process;

use optbench_testkit as common;
use sweep_process::{optbench_run, part_files, parts};

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use optbench_results::{read_metrics, read_runs};

/// Eight runs of a few seconds each in a debug build.
const EXPERIMENT: &str = "\
name: signal-test
seeds: 2
problems:
  - name: rosenbrock
train:
  steps: 200000
  batch_size: full
  eval_every: 20000
optimizers:
  - name: sgd
    lr: [1.0e-5, 2.0e-5]
  - name: adam
    lr: [1.0e-3, 2.0e-3]
";

fn optbench(file: &Path, out: &Path, grace: &str) -> Command {
    let mut c = optbench_run(file, out, 1);
    c.args(["--grace-period", grace]);
    c
}

fn send(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([format!("-{signal}"), child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal}");
}

/// Waits until `n` part files exist (and a little more, so that the next run is in flight).
fn wait_for_parts(child: &mut Child, out: &Path, n: usize) -> usize {
    let t0 = Instant::now();
    while parts(out) < n && t0.elapsed() < Duration::from_secs(300) {
        assert!(child.try_wait().unwrap().is_none(), "the sweep ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(200));
    parts(out)
}

fn finish(child: Child) -> (Output, Duration) {
    let t0 = Instant::now();
    let out = child.wait_with_output().unwrap();
    (out, t0.elapsed())
}

fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

struct Setup {
    _tmp: tempfile::TempDir,
    file: PathBuf,
    root: PathBuf,
}

fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("signal.yaml");
    std::fs::write(&file, EXPERIMENT).unwrap();
    let root = tmp.path().to_path_buf();
    Setup {
        _tmp: tmp,
        file,
        root,
    }
}

fn assert_same_results(a: &Path, b: &Path) {
    assert_eq!(
        common::fingerprint(&read_runs(a).unwrap()),
        common::fingerprint(&read_runs(b).unwrap())
    );
    assert_eq!(
        common::fingerprint(&read_metrics(a).unwrap()),
        common::fingerprint(&read_metrics(b).unwrap())
    );
}

#[test]
fn sigterm_stops_the_sweep_cleanly_and_the_next_run_resumes() {
    let s = setup();
    let whole = s.root.join("whole");
    let stopped = s.root.join("stopped");
    let o = optbench(&s.file, &whole, "10").output().unwrap();
    assert!(o.status.success(), "uninterrupted sweep: {}", stderr(&o));
    assert_eq!(read_runs(&whole).unwrap().height(), 8);

    // Grace period 0: the run in flight is abandoned at its next check.
    let mut child = optbench(&s.file, &stopped, "0").spawn().unwrap();
    let before = wait_for_parts(&mut child, &stopped, 2);
    send(&child, "TERM");
    let (o, took) = finish(child);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(143), "{err}");
    assert!(err.contains("SIGTERM"), "{err}");
    assert!(
        took < Duration::from_secs(20),
        "took {took:?} to stop: {err}"
    );
    // Nothing new started, the run in flight was dropped, what finished is consolidated.
    let kept = parts(&stopped);
    assert!(kept == before || kept == before + 1, "{before} -> {kept}");
    let m = manifest(&stopped);
    assert_eq!(m["interrupted"], true, "{m}");
    assert_eq!(m["interrupted_by"], "SIGTERM", "{m}");
    assert_eq!(m["grace_period_s"], 0.0, "{m}");
    assert_eq!(m["ran_runs"], kept, "{m}");
    assert_eq!(m["missing_runs"], 8 - kept, "{m}");
    assert!(m["abandoned_runs"].as_u64().unwrap() <= 1, "{m}");
    assert_eq!(read_runs(&stopped).unwrap().height(), kept);
    // No claim, no temporary file left behind.
    assert!(
        part_files(&stopped, ".").is_empty(),
        "{:?}",
        part_files(&stopped, ".")
    );

    let o = optbench(&s.file, &stopped, "10").output().unwrap();
    assert!(o.status.success(), "resumed sweep: {}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("{kept} kept")),
        "{}",
        stderr(&o)
    );
    assert_eq!(manifest(&stopped)["interrupted"], false);
    assert_eq!(
        manifest(&stopped)["interrupted_by"],
        serde_json::Value::Null
    );
    assert_same_results(&whole, &stopped);
}

#[test]
fn within_the_grace_period_the_run_in_flight_finishes() {
    let s = setup();
    let out = s.root.join("grace");
    let mut child = optbench(&s.file, &out, "600").spawn().unwrap();
    let before = wait_for_parts(&mut child, &out, 1);
    send(&child, "INT");
    let (o, _) = finish(child);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    let kept = parts(&out);
    // The run in flight finished (one more if a run ended just before the signal); no run
    // started after it.
    assert!(
        kept == before + 1 || kept == before + 2,
        "{before} -> {kept}: {err}"
    );
    assert!(kept < 8, "every run finished: the signal came too late");
    let m = manifest(&out);
    assert_eq!(m["interrupted_by"], "SIGINT", "{m}");
    assert_eq!(m["abandoned_runs"], 0, "{m}");
    assert_eq!(m["missing_runs"], 8 - kept, "{m}");
    assert!(
        part_files(&out, ".").is_empty(),
        "{:?}",
        part_files(&out, ".")
    );
}

#[test]
fn a_second_signal_exits_at_once() {
    let s = setup();
    let out = s.root.join("twice");
    let mut child = optbench(&s.file, &out, "600").spawn().unwrap();
    wait_for_parts(&mut child, &out, 1);
    send(&child, "TERM");
    std::thread::sleep(Duration::from_millis(300));
    send(&child, "TERM");
    let (o, took) = finish(child);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(143), "{err}");
    assert!(err.contains("again"), "{err}");
    // Runs take seconds; quitting at once does not wait for the one in flight.
    assert!(took < Duration::from_secs(2), "took {took:?}: {err}");
    // What finished is kept; the next run resumes and finishes.
    let kept = parts(&out);
    let o = optbench(&s.file, &out, "10").output().unwrap();
    assert!(o.status.success(), "resumed sweep: {}", stderr(&o));
    assert_eq!(read_runs(&out).unwrap().height(), 8);
    assert!(
        stderr(&o).contains(&format!("{kept} kept")),
        "{}",
        stderr(&o)
    );
}
