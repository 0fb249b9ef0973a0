//! Claims without shards (sweep module docs, "One writer per run"): two sweeps on one folder
//! run every run exactly once between them (a log of who ran what); a claim whose holder died
//! on this host is taken over at once, one held by a live process is waited for until that
//! process dies, one of another host after twice the longest run plus a second.

use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use optbench_exec::assemble::{RunBuilder, RunError, RunParts, StandardBuilder};
use optbench_exec::sweep::{SweepOptions, SweepSummary, run_plan_with};
use optbench_results::PARTS_DIR;
use optbench_results::process::ProcessId;
use optbench_spec::expand;
use optbench_spec::plan::{Plan, RunSpec};

const EXPERIMENT: &str = r#"
name: claims
seeds: 6
problems:
  - name: rosenbrock
  - name: quadratic
train:
  steps: 3000
  batch_size: full
  eval_every: 500
optimizers:
  - name: sgd
    lr: [1.0e-5, 1.0e-4]
  - name: adam
    lr: 1.0e-3
"#;

fn plan() -> Plan {
    expand::load_str(EXPERIMENT, Path::new("claims.yaml"), &[])
        .unwrap()
        .plan
}

fn opts(dir: &Path) -> SweepOptions {
    let mut o = SweepOptions::new(dir, dir);
    o.jobs = Some(2);
    o.progress = false;
    o.signals = false;
    o
}

/// The standard builder, logging which sweep built (ran) which run.
struct Logged<'a> {
    inner: StandardBuilder,
    who: &'static str,
    log: &'a Mutex<Vec<(&'static str, String)>>,
}

impl RunBuilder for Logged<'_> {
    fn build(&self, spec: &RunSpec) -> Result<RunParts, RunError> {
        self.log
            .lock()
            .unwrap()
            .push((self.who, spec.run_id.clone()));
        self.inner.build(spec)
    }
}

fn sweep(
    p: &Plan,
    dir: &Path,
    who: &'static str,
    log: &Mutex<Vec<(&'static str, String)>>,
) -> SweepSummary {
    let builder = Logged {
        inner: StandardBuilder::new(dir),
        who,
        log,
    };
    run_plan_with(p, &opts(dir), &builder).unwrap()
}

fn dot_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir.join(PARTS_DIR))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[test]
fn two_sweeps_on_one_folder_run_each_run_once() {
    let p = plan();
    assert_eq!(p.len(), 36);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let log = Mutex::new(Vec::new());
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| sweep(&p, dir, "a", &log));
        std::thread::sleep(Duration::from_millis(20));
        let b = s.spawn(|| sweep(&p, dir, "b", &log));
        (a.join().unwrap(), b.join().unwrap())
    });
    let log = log.into_inner().unwrap();
    let mut ids: Vec<&str> = log.iter().map(|(_, id)| id.as_str()).collect();
    ids.sort_unstable();
    let mut plan_ids: Vec<String> = p.runs().map(|r| r.run_id).collect();
    plan_ids.sort_unstable();
    assert_eq!(ids, plan_ids, "every run exactly once");
    let by = |w| log.iter().filter(|(who, _)| *who == w).count();
    eprintln!("a ran {}, b ran {}", by("a"), by("b"));
    assert_eq!((a.ran, b.ran), (by("a"), by("b")));
    assert!(by("b") > 0, "b did nothing");
    assert_eq!(a.ran + a.helped_by_others, 36, "{a:?}");
    assert_eq!((a.ok, b.ok, a.missing, b.missing), (36, 36, 0, 0));
    assert!(dot_files(dir).is_empty(), "{:?}", dot_files(dir));
}

/// A claim on `run_id` as `holder` made it `age_ms` ago.
fn claim(dir: &Path, run_id: &str, holder: &ProcessId, age_ms: u64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let mut text = serde_json::to_value(holder).unwrap();
    let m = text.as_object_mut().unwrap();
    m.insert("started".into(), "".into());
    m.insert("started_unix_ms".into(), (now - age_ms).into());
    m.insert("token".into(), "test".into());
    std::fs::create_dir_all(dir.join(PARTS_DIR)).unwrap();
    let path = dir.join(PARTS_DIR).join(format!(".claim.{run_id}"));
    std::fs::write(path, text.to_string()).unwrap();
}

fn child_process(cmd: &str, args: &[&str]) -> (std::process::Child, ProcessId) {
    let child = std::process::Command::new(cmd).args(args).spawn().unwrap();
    let me = ProcessId::current();
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", child.id())).unwrap();
    let start = stat[stat.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .nth(19)
        .unwrap()
        .parse()
        .unwrap();
    let id = ProcessId {
        pid: child.id(),
        start_ticks: Some(start),
        ..me.clone()
    };
    (child, id)
}

#[test]
fn claims_of_dead_live_and_foreign_holders() {
    if ProcessId::current().start_ticks.is_none() {
        eprintln!("no /proc here: holders cannot be checked, nothing to test");
        return;
    }
    let p = plan();
    let ids: Vec<String> = p.runs().map(|r| r.run_id).collect();
    let tmp = tempfile::tempdir().unwrap();
    let log = Mutex::new(Vec::new());

    // Dead holder on this host: taken over without waiting.
    let dir = tmp.path().join("dead");
    let (mut child, holder) = child_process("true", &[]);
    child.wait().unwrap();
    claim(&dir, &ids[5], &holder, 0);
    let s = sweep(&p, &dir, "dead", &log);
    assert_eq!((s.ran, s.ok, s.helped_by_others), (36, 36, 0), "{s:?}");
    assert_eq!(s.removed_stale, 1, "{s:?}");
    assert!(dot_files(&dir).is_empty(), "{:?}", dot_files(&dir));

    // Live holder on this host: waited for while it lives, run here once it dies.
    let dir = tmp.path().join("live");
    let (mut child, holder) = child_process("sleep", &["600"]);
    claim(&dir, &ids[7], &holder, 0);
    let t0 = Instant::now();
    let s = std::thread::scope(|scope| {
        let sweep = scope.spawn(|| sweep(&p, &dir, "live", &log));
        // The other 35 runs are done long before; the holder "dies" after 3 s.
        std::thread::sleep(Duration::from_secs(3));
        assert!(!sweep.is_finished(), "did not wait for a live holder");
        child.kill().unwrap();
        child.wait().unwrap();
        sweep.join().unwrap()
    });
    assert!(t0.elapsed() >= Duration::from_secs(3));
    assert_eq!((s.ran, s.ok), (36, 36), "{s:?}");

    // Another host: taken over once older than twice the longest run plus a second.
    let dir = tmp.path().join("foreign");
    let elsewhere = ProcessId {
        host: format!("{}-elsewhere", holder.host),
        ..holder.clone()
    };
    claim(&dir, &ids[9], &elsewhere, 0);
    let t0 = Instant::now();
    let s = sweep(&p, &dir, "foreign", &log);
    assert_eq!((s.ran, s.ok), (36, 36), "{s:?}");
    assert!(t0.elapsed() >= Duration::from_secs(1));
    // ...and at once when the claim is already that old (a node that crashed long ago).
    let dir = tmp.path().join("old");
    claim(&dir, &ids[9], &elsewhere, 3_600_000);
    let s = sweep(&p, &dir, "old", &log);
    assert_eq!((s.ran, s.ok), (36, 36), "{s:?}");
    assert!(dot_files(&dir).is_empty(), "{:?}", dot_files(&dir));
}
