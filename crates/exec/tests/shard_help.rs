//! Shards help each other (sweep module docs): a shard that has finished its own runs runs the
//! unfinished runs of the shards that are running (marker `parts/.running.shard-J-of-N`), never
//! those of shards that have not started; an owner skips a run a helper already finished. The
//! result merges to exactly what one process writes.

use std::path::Path;

use optbench_exec::assemble::{RunBuilder, RunError, RunParts, StandardBuilder};
use optbench_exec::merge::merge_dir;
use optbench_exec::sweep::{SweepOptions, SweepSummary, run_plan, run_plan_with, running_marker};
use optbench_results::{self as results, PARTS_DIR};
use optbench_spec::expand;
use optbench_spec::plan::{Plan, RunSpec};
use optbench_spec::shard::Shard;

const EXPERIMENT: &str = r#"
name: help
seeds: 4
problems:
  - name: quadratic
train:
  steps: 20
  batch_size: full
  eval_every: 10
optimizers:
  - name: sgd
    lr: [0.01, 0.1]
"#;

fn plan() -> Plan {
    expand::load_str(EXPERIMENT, Path::new("help.yaml"), &[])
        .unwrap()
        .plan
}

fn opts(dir: &Path, shard: Option<Shard>) -> SweepOptions {
    let mut o = SweepOptions::new(dir, dir);
    o.jobs = Some(1);
    o.progress = false;
    o.signals = false;
    o.shard = shard;
    o
}

fn shard(i: u64) -> Option<Shard> {
    Some(Shard::new(i, 2).unwrap())
}

fn parts(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join(PARTS_DIR))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn of_shard(plan: &Plan, i: u64) -> Vec<RunSpec> {
    plan.runs()
        .filter(|r| Shard::new(i, 2).unwrap().contains(r))
        .collect()
}

fn read(path: &Path) -> polars::prelude::DataFrame {
    let df = results::read_parquet(path).unwrap();
    df.drop("wall_time_s").unwrap()
}

#[test]
fn helps_running_shards_only_and_merges_to_one_process() {
    let p = plan();
    assert_eq!(p.len(), 8);
    // 2 cells x 4 seeds over 2 shards: 4 runs each, 2 of every cell.
    assert_eq!(of_shard(&p, 0).len(), 4);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sharded");

    // Shard 1 has not started (no marker): shard 0 runs its own 4 runs only.
    let s: SweepSummary = run_plan(&p, &opts(&dir, shard(0))).unwrap();
    assert_eq!((s.selected_runs, s.ran, s.helped), (4, 4, 0), "{s:?}");
    assert_eq!(parts(&dir).len(), 4, "{:?}", parts(&dir));
    assert!(!running_marker(&dir, Shard::new(0, 2).unwrap()).exists());

    // Shard 1 is running (or was killed): its marker is there. Shard 0, done with its own runs
    // (all kept), runs every run of shard 1.
    let marker1 = running_marker(&dir, Shard::new(1, 2).unwrap());
    std::fs::write(&marker1, "pid 0\n").unwrap();
    let s = run_plan(&p, &opts(&dir, shard(0))).unwrap();
    assert_eq!((s.resumed, s.ran, s.helped), (4, 0, 4), "{s:?}");
    // Every run has its part; no claim file is left; shard 1's marker is its own business.
    let names = parts(&dir);
    assert_eq!(names.len(), 9, "{names:?}");
    assert!(
        names
            .iter()
            .all(|n| n.ends_with(".part") || n == ".running.shard-1-of-2")
    );
    for r in p.runs() {
        assert!(results::part_path(&dir, &r.run_id).is_file());
    }
    // The manifest says so.
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("manifest.shard-0-of-2.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(m["helped_other_shards_runs"], 4);

    // Shard 1 starts again: everything is done, it keeps it and consolidates its own runs.
    let s = run_plan(&p, &opts(&dir, shard(1))).unwrap();
    assert_eq!((s.resumed, s.ran, s.ok), (4, 0, 4), "{s:?}");
    assert!(!marker1.exists(), "a finished shard removes its marker");

    merge_dir(&dir, &p).unwrap();
    let one = tmp.path().join("one");
    run_plan(&p, &opts(&one, None)).unwrap();
    for f in ["runs.parquet", "metrics.parquet"] {
        assert!(
            read(&dir.join(f)).equals_missing(&read(&one.join(f))),
            "{f}"
        );
    }
}

#[test]
fn no_help_leaves_other_shards_alone() {
    let p = plan();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("sharded");
    // Shard 1 is running, but shard 0 was told not to help: it runs its own 4 runs only.
    std::fs::create_dir_all(dir.join(PARTS_DIR)).unwrap();
    std::fs::write(running_marker(&dir, Shard::new(1, 2).unwrap()), "pid 0\n").unwrap();
    let mut o = opts(&dir, shard(0));
    o.help_other_shards = false;
    let s = run_plan(&p, &o).unwrap();
    assert_eq!((s.ran, s.helped), (4, 0), "{s:?}");
    assert_eq!(
        parts(&dir).iter().filter(|n| n.ends_with(".part")).count(),
        4
    );
}

#[test]
fn an_owner_skips_a_run_a_helper_finished() {
    let p = plan();
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one");
    run_plan(&p, &opts(&one, None)).unwrap();

    let dir = tmp.path().join("sharded");
    let own = of_shard(&p, 0);
    // While shard 0 runs its first run, a helper finishes its last one.
    let builder = Helper::new(&one, &dir, &own[3].run_id, Helps::Finished);
    let s = run_plan_with(&p, &opts(&dir, shard(0)), &builder).unwrap();
    assert_eq!(
        (s.ran, s.helped_by_others, s.ok, s.missing),
        (3, 1, 4, 0),
        "{s:?}"
    );
    let runs = read(&dir.join("runs.shard-0-of-2.parquet"));
    assert_eq!(runs.height(), 4);
}

/// How the simulated helper of [`Helper`] deals with `run_id`.
enum Helps {
    /// Drops the finished part file at once, without a claim (a helper that already finished).
    Finished,
    /// Claims the run, then writes its part file that much later from another thread and
    /// removes the claim (a live helper).
    ClaimsAndDelivers(std::time::Duration),
    /// Claims the run and never delivers (a helper that died).
    ClaimsAndDies,
}

/// The standard builder, which on its first call plays a helping shard working on `run_id`.
struct Helper<'a> {
    inner: StandardBuilder,
    from: &'a Path,
    to: &'a Path,
    run_id: String,
    helps: Helps,
    done: std::sync::Once,
}

impl<'a> Helper<'a> {
    fn new(from: &'a Path, to: &'a Path, run_id: &str, helps: Helps) -> Self {
        Helper {
            inner: StandardBuilder::new(to),
            from,
            to,
            run_id: run_id.to_owned(),
            helps,
            done: std::sync::Once::new(),
        }
    }
}

impl RunBuilder for Helper<'_> {
    fn build(&self, spec: &RunSpec) -> Result<RunParts, RunError> {
        self.done.call_once(|| {
            let from = results::part_path(self.from, &self.run_id);
            let to = results::part_path(self.to, &self.run_id);
            let claim = self
                .to
                .join(PARTS_DIR)
                .join(format!(".claim.{}", self.run_id));
            match self.helps {
                Helps::Finished => {
                    std::fs::copy(from, to).unwrap();
                }
                Helps::ClaimsAndDelivers(after) => {
                    std::fs::write(&claim, "").unwrap();
                    std::thread::spawn(move || {
                        std::thread::sleep(after);
                        std::fs::copy(from, to).unwrap();
                        // As a helper does once the part is written.
                        std::fs::remove_file(claim).unwrap();
                    });
                }
                Helps::ClaimsAndDies => std::fs::write(&claim, "").unwrap(),
            }
        });
        self.inner.build(spec)
    }
}

#[test]
fn an_owner_waits_for_a_claimed_run_and_runs_it_if_the_helper_dies() {
    let p = plan();
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one");
    run_plan(&p, &opts(&one, None)).unwrap();
    let own = of_shard(&p, 0);

    // A live helper claimed the last run and delivers it 300 ms later: the owner does its other
    // runs, waits, and does not run it.
    let dir = tmp.path().join("live");
    let delay = std::time::Duration::from_millis(300);
    let builder = Helper::new(&one, &dir, &own[3].run_id, Helps::ClaimsAndDelivers(delay));
    let s = run_plan_with(&p, &opts(&dir, shard(0)), &builder).unwrap();
    assert_eq!(
        (s.ran, s.helped_by_others, s.ok, s.missing),
        (3, 1, 4, 0),
        "{s:?}"
    );
    assert!(
        parts(&dir).iter().all(|n| n.ends_with(".part")),
        "{:?}",
        parts(&dir)
    );

    // The helper died: after twice its longest run plus a second, the owner runs it itself.
    let dir = tmp.path().join("dead");
    let builder = Helper::new(&one, &dir, &own[3].run_id, Helps::ClaimsAndDies);
    let t = std::time::Instant::now();
    let s = run_plan_with(&p, &opts(&dir, shard(0)), &builder).unwrap();
    assert_eq!(
        (s.ran, s.helped_by_others, s.ok, s.missing),
        (4, 0, 4, 0),
        "{s:?}"
    );
    assert!(t.elapsed() >= std::time::Duration::from_secs(1));
    assert!(
        parts(&dir).iter().all(|n| n.ends_with(".part")),
        "{:?}",
        parts(&dir)
    );
    assert_eq!(read(&dir.join("runs.shard-0-of-2.parquet")).height(), 4);
}
