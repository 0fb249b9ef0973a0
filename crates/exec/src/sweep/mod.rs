//! The parallel sweep: every run of a plan on a thread pool, persisted as it finishes.
//!
//! [`run_plan`] runs the plan's runs (those of one shard with `--shard I/N`) on a rayon pool of
//! `jobs` threads, one run per thread at a time, in plan order. Each finished run is written at
//! once to `<out>/parts/<run_id>.part` through a temporary file and a rename, so `kill -9` at any
//! moment loses at most the runs in flight. At the end the part files are consolidated, in plan
//! order, into `runs.parquet` and `metrics.parquet` (see [`crate::results`]), so the output is
//! the same whatever `jobs` is and whether the sweep was resumed.
//!
//! - **Resume**: a new sweep of the same plan into the same folder keeps every part whose run
//!   finished (`ok` or `diverged`) and runs only the others; `failed` runs are run again (the
//!   cause, e.g. a missing data file, may have been fixed). `force` deletes the old parts and
//!   consolidated files first (never use it while another process works in the folder).
//! - **One writer per run**: every run is claimed before it starts (`parts/.claim.<run_id>`,
//!   published atomically, recording host, pid and start time; removed once the part file is
//!   written), so several processes on one results folder (a job resubmitted while the old one
//!   still runs, shards helping each other) never run the same run. A process leaves runs that
//!   another one holds for the end and waits for them; a claim whose holder is gone is taken
//!   over (see [`claims`]).
//! - **Shards help each other**: with `--shard I/N`, a shard that has finished its own runs goes
//!   on with the unfinished runs of the other shards of the same split that are running at the
//!   moment (each running shard keeps a marker `parts/.running.shard-J-of-N`), from the end of
//!   their lists, while their owners work from the front. A static split finishes when its
//!   slowest shard does, and shards slow down for reasons the split cannot know (a slower or
//!   shared node, a busier core); helping makes the split finish about when a single process
//!   with the same cores would. Shards that have not started (no marker) are never helped, so a
//!   queue of shards on a cluster is not drained by the first one; a shard that was killed
//!   leaves its marker, and the others finish its runs. Each shard still consolidates only its
//!   own runs; `optbench merge` combines all part files.
//! - **Failures are data**: a run whose problem or optimizer cannot be built, whose optimizer
//!   rejects a step, or that panics is recorded as `failed` with the message; the sweep goes on.
//!   Panics inside runs do not print the default panic message or backtrace.
//! - **SIGINT (Ctrl-C) and SIGTERM** (see [`interrupt`]): no new run starts; runs in flight have
//!   [`SweepOptions::grace`] (default 10 s) to finish and are abandoned at their next check
//!   after it (checks come at every recorded row and about every 0.1 s of training); finished
//!   runs are kept and consolidated, the manifest records the interruption and the signal, and
//!   [`SweepSummary::signal`] is set. A second signal exits at once (130 for SIGINT, 143 for
//!   SIGTERM). The next sweep resumes.
//! - **Crash-safe files**: part files, the manifest and the consolidated files are written to a
//!   temporary file, flushed to disk and renamed ([`optbench_results::atomic`]); temporary files
//!   and claims left by dead processes are removed when a sweep starts. A file that cannot be
//!   written (a full disk, permissions, a read-only folder) ends the sweep with
//!   [`SweepError`] naming the file; finished runs are kept.
//! - **Progress**: a bar (runs done/total, elapsed, ETA) when stderr is a terminal, plain lines
//!   every 5 % or 10 s otherwise.
//! - **Provenance**: `experiment.yaml` (the resolved experiment) and `manifest.json` (optbench
//!   version, git commit, rustc, CPU, threads, start and end time in RFC 3339, plan size, counts
//!   by status, interruption).

mod claims;
pub mod interrupt;
mod isolation;
mod manifest;
mod progress;
mod schedule;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use optbench_results::{
    self as results, EXPERIMENT_YAML, OutputNames, PART_EXT, PARTS_DIR, ResultsError, RunStatus,
};
use optbench_spec::plan::Plan;
use optbench_spec::shard::Shard;

use crate::assemble::{RunBuilder, StandardBuilder};
pub use claims::running_marker;
use interrupt::Interrupt;
pub use manifest::{RUSTC_VERSION, rfc3339};
use progress::Progress;
use schedule::Scheduler;

/// The default of [`SweepOptions::grace`].
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// How to run a plan.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// The result folder (`results/<name>/` unless `--out` is given).
    pub out_dir: PathBuf,
    /// The experiment file's folder: relative data paths are resolved against it.
    pub base_dir: PathBuf,
    /// Worker threads (None: all cores).
    pub jobs: Option<usize>,
    /// Delete earlier parts and results of this plan (of this shard) before running.
    pub force: bool,
    /// Run only this shard of the plan.
    pub shard: Option<Shard>,
    /// With a shard: once its own runs are done, help the other running shards (see the module
    /// docs). On by default.
    pub help_other_shards: bool,
    /// Show progress on stderr.
    pub progress: bool,
    /// Handle SIGINT (Ctrl-C) and SIGTERM: stop the sweep gracefully (see the module docs).
    pub signals: bool,
    /// After a stop, how long runs in flight may go on to finish before they are abandoned.
    pub grace: Duration,
    /// An extra stop flag (tests, embedding programs): raising it acts like a signal.
    pub stop: Option<Arc<AtomicBool>>,
}

impl SweepOptions {
    /// Defaults: all cores, no force, whole plan, shards help each other, progress shown,
    /// SIGINT and SIGTERM handled with a grace period of [`DEFAULT_GRACE`].
    pub fn new(out_dir: impl Into<PathBuf>, base_dir: impl Into<PathBuf>) -> Self {
        Self {
            out_dir: out_dir.into(),
            base_dir: base_dir.into(),
            jobs: None,
            force: false,
            shard: None,
            help_other_shards: true,
            progress: true,
            signals: true,
            grace: DEFAULT_GRACE,
            stop: None,
        }
    }
}

/// What a sweep did.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSummary {
    /// The result folder.
    pub out_dir: PathBuf,
    /// Runs in the plan.
    pub plan_runs: usize,
    /// Runs of this shard (the whole plan without a shard).
    pub selected_runs: usize,
    /// Runs already finished by an earlier sweep and kept.
    pub resumed: usize,
    /// Runs this sweep finished (any status), of its own shard.
    pub ran: usize,
    /// Runs of other shards this shard ran after finishing its own (see the module docs).
    pub helped: usize,
    /// Runs of this shard (or of the plan, without shards) that another process ran.
    pub helped_by_others: usize,
    /// Runs in the consolidated files by status.
    pub ok: usize,
    /// Diverged runs in the consolidated files.
    pub diverged: usize,
    /// Failed runs in the consolidated files.
    pub failed: usize,
    /// Runs of the shard that did not finish (interrupted).
    pub missing: usize,
    /// The sweep was stopped by a signal or the stop flag.
    pub interrupted: bool,
    /// The signal that stopped it (2: SIGINT, 15: SIGTERM), if one did.
    pub signal: Option<i32>,
    /// Runs that were in flight when the grace period ended, given up (they run again next
    /// time).
    pub abandoned: usize,
    /// Stale temporary files and claims of dead processes removed before the sweep.
    pub removed_stale: usize,
    /// Up to 10 failures of this sweep: (run id, label, message).
    pub failures: Vec<(String, String, String)>,
    /// The consolidated runs file.
    pub runs_file: PathBuf,
    /// The consolidated metrics file.
    pub metrics_file: PathBuf,
    /// Seconds the sweep took.
    pub wall_time_s: f64,
}

impl SweepSummary {
    /// True when every run of the shard finished and none failed.
    pub fn success(&self) -> bool {
        !self.interrupted && self.failed == 0 && self.missing == 0
    }
}

/// Why a sweep could not run or could not write its results (per-run problems are not errors:
/// they are `failed` runs).
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A folder or file that cannot be created, removed or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Writing or reading results failed.
    #[error(transparent)]
    Results(#[from] ResultsError),
    /// The thread pool could not be created.
    #[error("cannot start {jobs} worker threads: {message}")]
    ThreadPool {
        /// Threads asked for.
        jobs: usize,
        /// The error.
        message: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SweepError + '_ {
    move |source| SweepError::Io {
        path: path.to_path_buf(),
        source,
    }
}

// ---- the sweep ----------------------------------------------------------------------------

/// Runs `plan` with the standard builder (problems from `optbench-models`, optimizers and
/// schedules from `optbench-optim`, datasets loaded once per sweep and shared).
pub fn run_plan(plan: &Plan, opts: &SweepOptions) -> Result<SweepSummary, SweepError> {
    let builder = StandardBuilder::new(&opts.base_dir);
    run_plan_with(plan, opts, &builder)
}

fn remove_if_exists(path: &Path) -> Result<(), SweepError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// Runs `plan` with a custom [`RunBuilder`] (tests, other problem sources).
pub fn run_plan_with(
    plan: &Plan,
    opts: &SweepOptions,
    builder: &dyn RunBuilder,
) -> Result<SweepSummary, SweepError> {
    let started = SystemTime::now();
    let clock = Instant::now();
    let out = opts.out_dir.as_path();
    let names = OutputNames::new(opts.shard);
    let selected: Vec<usize> = match opts.shard {
        None => (0..plan.len()).collect(),
        Some(s) => (0..plan.len())
            .filter(|&i| {
                let (cell, seed) = plan.cell_and_seed(i);
                s.contains_run(&cell, seed)
            })
            .collect(),
    };
    let removed_stale = prepare_folder(plan, opts, &selected, &names)?;
    let others = other_shards_runs(plan, opts);
    let (todo, longest_ms) = unfinished(plan, out, &selected)?;
    let resumed = selected.len() - todo.len();
    let jobs = opts
        .jobs
        .filter(|&j| j > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let progress = Progress::new(opts.progress, resumed, selected.len());
    if opts.progress && resumed > 0 {
        progress.message(&format!(
            "optbench: resuming: {resumed} of {} runs already finished",
            selected.len()
        ));
    }
    if opts.progress && removed_stale > 0 {
        progress.message(&format!(
            "optbench: removed {removed_stale} temporary file(s) and claim(s) left by processes \
             that died"
        ));
    }
    let interrupt = Interrupt::start(opts.signals, opts.grace, opts.stop.clone());
    let scheduler = Scheduler::new(plan, out, &todo, &others, longest_ms);
    let counts = execute(
        plan, opts, builder, &scheduler, &interrupt, &progress, jobs, resumed,
    )?;
    progress.finish();

    let consolidated = results::consolidate(
        out,
        &plan.experiment,
        selected.iter().map(|&i| plan.run(i)),
        &names,
    )?;
    let summary = SweepSummary {
        out_dir: out.to_path_buf(),
        plan_runs: plan.len(),
        selected_runs: selected.len(),
        resumed,
        ran: counts.ran,
        helped: counts.helped,
        helped_by_others: scheduler.done_elsewhere.load(Ordering::Relaxed),
        ok: consolidated.ok,
        diverged: consolidated.diverged,
        failed: consolidated.failed,
        missing: selected.len() - consolidated.runs,
        interrupted: interrupt.stopping(),
        signal: interrupt.signal(),
        abandoned: counts.abandoned,
        removed_stale,
        failures: counts.failures,
        runs_file: out.join(&names.runs),
        metrics_file: out.join(&names.metrics),
        wall_time_s: clock.elapsed().as_secs_f64(),
    };
    let manifest = manifest::manifest_json(plan, opts, jobs, &summary, started, SystemTime::now());
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n";
    results::write_atomic(&out.join(&names.manifest), text.as_bytes())?;
    if let Some(s) = opts.shard {
        remove_if_exists(&running_marker(out, s))?;
    }
    Ok(summary)
}

/// `--force` (deletes earlier parts and results of this plan, or of this shard), the parts
/// folder, `experiment.yaml`, a shard's running marker, and the removal of temporary files and
/// claims left by dead processes (returns how many).
fn prepare_folder(
    plan: &Plan,
    opts: &SweepOptions,
    selected: &[usize],
    names: &OutputNames,
) -> Result<usize, SweepError> {
    let out = opts.out_dir.as_path();
    let parts_dir = out.join(PARTS_DIR);
    if opts.force {
        if opts.shard.is_none() {
            match std::fs::remove_dir_all(&parts_dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&parts_dir)(e)),
            }
        } else {
            for &i in selected {
                remove_if_exists(&results::part_path(out, &plan.run_id(i)))?;
            }
        }
        for f in [&names.runs, &names.metrics, &names.manifest] {
            remove_if_exists(&out.join(f))?;
        }
    }
    std::fs::create_dir_all(&parts_dir).map_err(io_err(&parts_dir))?;
    let removed = results::remove_stale_temps(out)?
        + results::remove_stale_temps(&parts_dir)?
        + claims::remove_dead_claims(out)?;
    results::write_atomic(&out.join(EXPERIMENT_YAML), plan.resolved_yaml.as_bytes())?;
    if let Some(s) = opts.shard {
        let text = format!(
            "pid {} started {}\n",
            std::process::id(),
            rfc3339(SystemTime::now())
        );
        results::write_atomic(&running_marker(out, s), text.as_bytes())?;
    }
    Ok(removed)
}

/// Runs of the other shards, last first, with their owner: helped once this shard's own runs
/// are done (none without a shard or with `--no-shard-help`).
fn other_shards_runs(plan: &Plan, opts: &SweepOptions) -> Vec<(usize, Shard)> {
    match opts.shard {
        Some(s) if s.count > 1 && opts.help_other_shards => (0..plan.len())
            .rev()
            .filter_map(|i| {
                let (cell, seed) = plan.cell_and_seed(i);
                let owner = Shard {
                    index: Shard::bucket_of(&cell, seed, s.count),
                    count: s.count,
                };
                (owner != s).then_some((i, owner))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The selected runs without a finished part file (resume), and the longest of the finished
/// ones (ms): finished parts are kept, failed and unreadable ones removed. The parts folder is
/// listed once, so a fresh sweep of a million runs does not stat a million files.
fn unfinished(
    plan: &Plan,
    out: &Path,
    selected: &[usize],
) -> Result<(Vec<usize>, u64), SweepError> {
    let parts_dir = out.join(PARTS_DIR);
    let present: HashSet<String> = std::fs::read_dir(&parts_dir)
        .map_err(io_err(&parts_dir))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let id = name.strip_suffix(&format!(".{PART_EXT}"))?;
            Some(id.to_string())
        })
        .collect();
    let mut todo = Vec::with_capacity(selected.len());
    let mut longest = Duration::ZERO;
    for &i in selected {
        if present.is_empty() {
            todo.push(i);
            continue;
        }
        let id = plan.run_id(i);
        if !present.contains(&id) {
            todo.push(i);
            continue;
        }
        let path = results::part_path(out, &id);
        match results::read_part(&path) {
            Ok(o) if o.run_id == id && o.status != RunStatus::Failed => {
                let took = Duration::try_from_secs_f64(o.wall_time_s).unwrap_or_default();
                longest = longest.max(took);
            }
            _ => {
                remove_if_exists(&path)?;
                todo.push(i);
            }
        }
    }
    let longest_ms = u64::try_from(longest.as_millis()).unwrap_or(u64::MAX);
    Ok((todo, longest_ms))
}

/// What the workers did.
struct Counts {
    ran: usize,
    helped: usize,
    abandoned: usize,
    failures: Vec<(String, String, String)>,
}

/// Runs the scheduler's runs on a pool of `jobs` threads, each part file written as its run
/// finishes.
#[allow(clippy::too_many_arguments)]
fn execute(
    plan: &Plan,
    opts: &SweepOptions,
    builder: &dyn RunBuilder,
    scheduler: &Scheduler<'_>,
    interrupt: &Interrupt,
    progress: &Progress,
    jobs: usize,
    resumed: usize,
) -> Result<Counts, SweepError> {
    let out = opts.out_dir.as_path();
    isolation::install_quiet_panic_hook();
    let stopping = || interrupt.stopping();
    let abandon = || interrupt.abandon();
    let done = AtomicUsize::new(resumed);
    let ran = AtomicUsize::new(0);
    let helped = AtomicUsize::new(0);
    let abandoned = AtomicUsize::new(0);
    let failures: Mutex<Vec<(String, String, String)>> = Mutex::new(Vec::new());
    let error: Mutex<Option<ResultsError>> = Mutex::new(None);
    let fail = |e: ResultsError| {
        if let Ok(mut slot) = error.lock() {
            slot.get_or_insert(e);
        }
    };
    let on_done_elsewhere = || {
        let d = done.fetch_add(1, Ordering::Relaxed) + 1;
        progress.update(d, resumed);
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .thread_name(|i| format!("optbench-run-{i}"))
        .build()
        .map_err(|e| SweepError::ThreadPool {
            jobs,
            message: e.to_string(),
        })?;
    pool.scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|_| {
                while error.lock().is_ok_and(|e| e.is_none()) {
                    let (i, own) = match scheduler.next(&stopping, &on_done_elsewhere) {
                        Ok(Some(next)) => next,
                        Ok(None) => break,
                        Err(e) => {
                            fail(e);
                            break;
                        }
                    };
                    let spec = plan.run(i);
                    let started = Instant::now();
                    let Some(outcome) = isolation::run_one(&spec, builder, &abandon) else {
                        claims::release(out, &spec.run_id);
                        abandoned.fetch_add(1, Ordering::Relaxed);
                        break;
                    };
                    let written = results::write_part(out, &outcome);
                    // The part file now marks the run as done (or writing failed and the run
                    // is given up): the claim is not needed.
                    claims::release(out, &spec.run_id);
                    if let Err(e) = written {
                        fail(e);
                        break;
                    }
                    scheduler.record_length(started.elapsed());
                    if !own {
                        helped.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    if outcome.status == RunStatus::Failed {
                        if let Ok(mut f) = failures.lock() {
                            if f.len() < 10 {
                                let message = outcome.error.clone().unwrap_or_default();
                                f.push((spec.run_id.clone(), spec.label.clone(), message));
                            }
                        }
                    }
                    ran.fetch_add(1, Ordering::Relaxed);
                    let d = done.fetch_add(1, Ordering::Relaxed) + 1;
                    progress.update(d, resumed);
                }
            });
        }
    });
    if let Some(e) = error.into_inner().ok().flatten() {
        return Err(e.into());
    }
    Ok(Counts {
        ran: ran.into_inner(),
        helped: helped.into_inner(),
        abandoned: abandoned.into_inner(),
        failures: failures.into_inner().unwrap_or_default(),
    })
}
