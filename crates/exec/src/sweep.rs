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
//!   consolidated files first.
//! - **Shards help each other**: with `--shard I/N`, a shard that has finished its own runs goes
//!   on with the unfinished runs of the other shards of the same split that are running at the
//!   moment (each running shard keeps a marker `parts/.running.shard-J-of-N`), from the end of
//!   their lists, while their owners work from the front. A static split finishes when its
//!   slowest shard does, and shards slow down for reasons the split cannot know (a slower or
//!   shared node, a busier core); helping makes the split finish about when a single process
//!   with the same cores would. Runs are deterministic and part files are written atomically, so
//!   a run done twice only costs time, but it is avoided: every shard claims a run before
//!   running it (`parts/.claim.<run_id>`, created exclusively; removed once the part file is
//!   written), helpers skip claimed runs, and an owner skips runs a helper finished or claimed
//!   first, waiting for those at the end (and running one itself if the helper has not
//!   delivered within twice its longest run plus a second). Shards that have not
//!   started (no marker) are never helped, so a queue of shards on a cluster is not drained by
//!   the first one; a shard that was killed leaves its marker, and the others finish its runs.
//!   Each shard still consolidates only its own runs; `optbench merge` combines all part files.
//! - **Failures are data**: a run whose problem or optimizer cannot be built, whose optimizer
//!   rejects a step, or that panics is recorded as `failed` with the message; the sweep goes on.
//!   Panics inside runs do not print the default panic message or backtrace.
//! - **Ctrl-C** stops taking new runs; runs in flight are abandoned at their next check
//!   (every recorded row or 1,024 steps); finished runs are kept and consolidated and
//!   [`SweepSummary::interrupted`] is set. A second Ctrl-C exits at once (code 130).
//! - **Progress**: a bar (runs done/total, elapsed, ETA) when stderr is a terminal, plain lines
//!   every 5 % or 10 s otherwise.
//! - **Provenance**: `experiment.yaml` (the resolved experiment) and `manifest.json` (optbench
//!   version, git commit, rustc, CPU, threads, start and end time in RFC 3339, plan size, counts
//!   by status).

use std::cell::{Cell, RefCell};

use std::io::IsTerminal;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Once, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::assemble::{RunBuilder, StandardBuilder};
use crate::train::{RunInterrupt, train};
use optbench_results::{
    self as results, Consolidated, EXPERIMENT_YAML, OutputNames, PARTS_DIR, ResultsError,
    RunOutcome, RunStatus,
};
use optbench_spec::plan::{Plan, RunSpec};
use optbench_spec::shard::Shard;

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
    /// Install a Ctrl-C handler that stops the sweep gracefully.
    pub ctrl_c: bool,
    /// An extra stop flag (tests, embedding programs): raising it acts like Ctrl-C.
    pub stop: Option<Arc<AtomicBool>>,
}

impl SweepOptions {
    /// Defaults: all cores, no force, whole plan, shards help each other, progress shown, Ctrl-C
    /// handled.
    pub fn new(out_dir: impl Into<PathBuf>, base_dir: impl Into<PathBuf>) -> Self {
        Self {
            out_dir: out_dir.into(),
            base_dir: base_dir.into(),
            jobs: None,
            force: false,
            shard: None,
            help_other_shards: true,
            progress: true,
            ctrl_c: true,
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
    /// Runs of this shard that another shard ran first.
    pub helped_by_others: usize,
    /// Runs in the consolidated files by status.
    pub ok: usize,
    /// Diverged runs in the consolidated files.
    pub diverged: usize,
    /// Failed runs in the consolidated files.
    pub failed: usize,
    /// Runs of the shard that did not finish (interrupted).
    pub missing: usize,
    /// The sweep was stopped by Ctrl-C or the stop flag.
    pub interrupted: bool,
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

// ---- panics inside runs -------------------------------------------------------------------

thread_local! {
    static IN_RUN: Cell<bool> = const { Cell::new(false) };
    static PANIC_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs (once per process) a panic hook that keeps quiet about panics inside runs and
/// stores their message and location for the `failed` record; other panics go to the previous
/// hook.
fn install_quiet_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_RUN.with(Cell::get) {
                let payload = info.payload();
                let msg = payload
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                    .unwrap_or("panic with a non-string payload");
                let loc = info
                    .location()
                    .map(|l| format!(" (at {}:{}:{})", l.file(), l.line(), l.column()))
                    .unwrap_or_default();
                PANIC_MESSAGE.with(|m| *m.borrow_mut() = Some(format!("panic: {msg}{loc}")));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs one spec, catching panics. `None` when the run was abandoned (stop flag).
fn run_one(
    spec: &RunSpec,
    builder: &dyn RunBuilder,
    stop: &dyn Fn() -> bool,
) -> Option<RunOutcome> {
    let start = Instant::now();
    IN_RUN.with(|f| f.set(true));
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut parts = builder.build(spec).map_err(Err)?;
        train(spec, &mut parts, stop)
    }));
    IN_RUN.with(|f| f.set(false));
    let failed = |msg: String| RunOutcome::failed(&spec.run_id, msg, start.elapsed().as_secs_f64());
    match result {
        Ok(Ok(outcome)) => Some(outcome),
        Ok(Err(Ok(RunInterrupt::Stopped))) => None,
        Ok(Err(Err(message))) => Some(failed(message)),
        Err(payload) => {
            let message = PANIC_MESSAGE
                .with(|m| m.borrow_mut().take())
                .or_else(|| {
                    payload
                        .downcast_ref::<&str>()
                        .map(|s| format!("panic: {s}"))
                })
                .or_else(|| {
                    payload
                        .downcast_ref::<String>()
                        .map(|s| format!("panic: {s}"))
                })
                .unwrap_or_else(|| "panic".to_string());
            Some(failed(message))
        }
    }
}

// ---- Ctrl-C -------------------------------------------------------------------------------

static CTRL_C: AtomicBool = AtomicBool::new(false);

/// Installs (once per process) a Ctrl-C handler: the first press raises the stop flag, the
/// second exits with code 130. If the program has its own handler, this one is not installed.
fn install_ctrl_c() {
    static ONCE: OnceLock<bool> = OnceLock::new();
    ONCE.get_or_init(|| {
        ctrlc::set_handler(|| {
            if CTRL_C.swap(true, Ordering::SeqCst) {
                eprintln!("optbench: interrupted again, exiting now");
                std::process::exit(130);
            }
            eprintln!(
                "optbench: interrupted; finishing: finished runs are kept (Ctrl-C again to quit now)"
            );
        })
        .is_ok()
    });
}

// ---- progress -----------------------------------------------------------------------------

enum Progress {
    None,
    Bar(indicatif::ProgressBar),
    Lines {
        start: Instant,
        total: usize,
        state: Mutex<(Instant, usize)>,
    },
}

impl Progress {
    fn new(enabled: bool, done: usize, total: usize) -> Self {
        if !enabled || total == 0 {
            return Progress::None;
        }
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(total as u64);
            let style = indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{wide_bar}] {pos}/{len} runs, ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_position(done as u64);
            bar.reset_eta();
            Progress::Bar(bar)
        } else {
            let now = Instant::now();
            Progress::Lines {
                start: now,
                total,
                state: Mutex::new((now, done)),
            }
        }
    }

    /// `done` runs are finished (counting resumed ones).
    fn update(&self, done: usize, started_from: usize) {
        match self {
            Progress::None => {}
            Progress::Bar(bar) => bar.set_position(done as u64),
            Progress::Lines {
                start,
                total,
                state,
            } => {
                let Ok(mut st) = state.lock() else { return };
                let step = (*total / 20).max(1);
                let crossed = done / step > st.1 / step;
                let now = Instant::now();
                if crossed || now.duration_since(st.0) >= Duration::from_secs(10) || done == *total
                {
                    let elapsed = start.elapsed().as_secs_f64();
                    let new = done.saturating_sub(started_from);
                    #[allow(clippy::cast_precision_loss)]
                    let eta = if new > 0 {
                        elapsed / new as f64 * (total - done) as f64
                    } else {
                        f64::NAN
                    };
                    #[allow(clippy::cast_precision_loss)]
                    let pct = 100.0 * done as f64 / *total as f64;
                    eprintln!(
                        "optbench: {done}/{total} runs ({pct:.0}%), {elapsed:.1} s elapsed, ETA {}",
                        if eta.is_finite() {
                            format!("{eta:.0} s")
                        } else {
                            "?".into()
                        }
                    );
                    *st = (now, done);
                }
            }
        }
    }

    fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish();
        }
    }
}

// ---- the sweep ----------------------------------------------------------------------------

/// Runs `plan` with the standard builder (problems from `optbench-models`, optimizers and
/// schedules from `optbench-optim`, datasets loaded once per sweep and shared).
pub fn run_plan(plan: &Plan, opts: &SweepOptions) -> Result<SweepSummary, SweepError> {
    let builder = StandardBuilder::new(&opts.base_dir);
    run_plan_with(plan, opts, &builder)
}

/// The marker a shard keeps in `parts/` while it runs: `.running.shard-I-of-N`.
pub fn running_marker(out: &Path, shard: Shard) -> PathBuf {
    out.join(PARTS_DIR)
        .join(format!(".running.{}", shard.tag()))
}

/// The claim file of a run taken over by a helping shard: `parts/.claim.<run_id>`.
fn claim_path(out: &Path, run_id: &str) -> PathBuf {
    out.join(PARTS_DIR).join(format!(".claim.{run_id}"))
}

/// Claims `run_id` for this helper; false if another helper claimed it first.
fn claim(out: &Path, run_id: &str) -> bool {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(claim_path(out, run_id))
        .is_ok()
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
    let selected: Vec<&RunSpec> = plan
        .runs
        .iter()
        .filter(|r| opts.shard.is_none_or(|s| s.contains(r)))
        .collect();
    let parts_dir = out.join(PARTS_DIR);

    if opts.force {
        if opts.shard.is_none() {
            match std::fs::remove_dir_all(&parts_dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&parts_dir)(e)),
            }
        } else {
            for spec in &selected {
                remove_if_exists(&results::part_path(out, &spec.run_id))?;
            }
        }
        for f in [&names.runs, &names.metrics, &names.manifest] {
            remove_if_exists(&out.join(f))?;
        }
    }
    std::fs::create_dir_all(&parts_dir).map_err(io_err(&parts_dir))?;
    results::write_atomic(&out.join(EXPERIMENT_YAML), plan.resolved_yaml.as_bytes())?;
    if let Some(s) = opts.shard {
        let text = format!(
            "pid {} started {}\n",
            std::process::id(),
            rfc3339(SystemTime::now())
        );
        results::write_atomic(&running_marker(out, s), text.as_bytes())?;
    }
    // Runs of the other shards, last first: helped once this shard's own runs are done.
    let others: Vec<(&RunSpec, Shard)> = match opts.shard {
        Some(s) if s.count > 1 && opts.help_other_shards => plan
            .runs
            .iter()
            .rev()
            .filter_map(|r| {
                let owner = Shard {
                    index: Shard::bucket_of(&r.cell_id, r.seed, s.count),
                    count: s.count,
                };
                (owner != s).then_some((r, owner))
            })
            .collect(),
        _ => Vec::new(),
    };

    // Resume: keep finished parts, drop failed and unreadable ones.
    let mut todo = Vec::with_capacity(selected.len());
    for spec in &selected {
        let path = results::part_path(out, &spec.run_id);
        if !path.exists() {
            todo.push(*spec);
            continue;
        }
        match results::read_part(&path) {
            Ok(o) if o.run_id == spec.run_id && o.status != RunStatus::Failed => {}
            _ => {
                remove_if_exists(&path)?;
                todo.push(*spec);
            }
        }
    }
    let resumed = selected.len() - todo.len();
    // Claims on this shard's unfinished runs are left over from a crash (or belong to a helper
    // that started while this shard was away; it may finish the run too, which is harmless).
    if opts.shard.is_some() {
        for spec in &todo {
            remove_if_exists(&claim_path(out, &spec.run_id))?;
        }
    }

    let jobs = opts
        .jobs
        .filter(|&j| j > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    install_quiet_panic_hook();
    if opts.ctrl_c {
        install_ctrl_c();
        CTRL_C.store(false, Ordering::SeqCst);
    }
    let extra_stop = opts.stop.clone();
    let ctrl_c = opts.ctrl_c;
    let stop = move || {
        (ctrl_c && CTRL_C.load(Ordering::Relaxed))
            || extra_stop
                .as_ref()
                .is_some_and(|s| s.load(Ordering::Relaxed))
    };

    let progress = Progress::new(opts.progress, resumed, selected.len());
    if opts.progress && resumed > 0 {
        let msg = format!(
            "optbench: resuming: {resumed} of {} runs already finished",
            selected.len()
        );
        match &progress {
            Progress::Bar(bar) => bar.println(msg),
            _ => eprintln!("{msg}"),
        }
    }

    let next = AtomicUsize::new(0);
    let next_other = AtomicUsize::new(0);
    let done = AtomicUsize::new(resumed);
    let ran = AtomicUsize::new(0);
    let helped = AtomicUsize::new(0);
    let helped_by_others = AtomicUsize::new(0);
    // Own runs a helper had claimed when this shard reached them, and the longest own run so
    // far (ms): how long to wait for a helper's part file before running the run anyway.
    let deferred: Mutex<Vec<&RunSpec>> = Mutex::new(Vec::new());
    let longest_ms = AtomicU64::new(0);
    let sharded = opts.shard.is_some();
    let own_done_elsewhere = || {
        helped_by_others.fetch_add(1, Ordering::Relaxed);
        let d = done.fetch_add(1, Ordering::Relaxed) + 1;
        progress.update(d, resumed);
    };
    // The next run for a worker, `(spec, own)`. A shard claims each of its runs before running
    // it (so helpers leave it alone) and skips runs a helper finished or claimed first; those it
    // waits for at the end, running them itself if the helper does not deliver in time. Then it
    // helps the other running shards.
    let next_run = || -> Option<(&RunSpec, bool)> {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if let Some(spec) = todo.get(i) {
                if !sharded {
                    return Some((spec, true));
                }
                if results::part_path(out, &spec.run_id).exists() {
                    own_done_elsewhere();
                    continue;
                }
                if claim(out, &spec.run_id) {
                    return Some((spec, true));
                }
                if let Ok(mut d) = deferred.lock() {
                    d.push(spec);
                    continue;
                }
                return Some((spec, true));
            }
            let waiting = deferred.lock().ok().and_then(|mut d| d.pop());
            if let Some(spec) = waiting {
                let limit = Duration::from_millis(2 * longest_ms.load(Ordering::Relaxed) + 1000);
                let since = Instant::now();
                loop {
                    if results::part_path(out, &spec.run_id).exists() {
                        own_done_elsewhere();
                        break;
                    }
                    if stop() {
                        return None;
                    }
                    // The helper gave up (no claim) or is late: run it here.
                    if !claim_path(out, &spec.run_id).exists() || since.elapsed() > limit {
                        return Some((spec, true));
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                continue;
            }
            let j = next_other.fetch_add(1, Ordering::Relaxed);
            let (spec, owner) = others.get(j)?;
            if running_marker(out, *owner).exists()
                && !results::part_path(out, &spec.run_id).exists()
                && claim(out, &spec.run_id)
            {
                return Some((spec, false));
            }
        }
    };
    let failures: Mutex<Vec<(String, String, String)>> = Mutex::new(Vec::new());
    let write_error: Mutex<Option<ResultsError>> = Mutex::new(None);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .thread_name(|i| format!("optbench-run-{i}"))
        .build()
        .map_err(|e| SweepError::ThreadPool {
            jobs,
            message: e.to_string(),
        })?;
    pool.scope(|scope| {
        for _ in 0..jobs.min(todo.len() + others.len()) {
            scope.spawn(|_| {
                loop {
                    if stop() || write_error.lock().map_or(true, |e| e.is_some()) {
                        break;
                    }
                    let Some((spec, own)) = next_run() else { break };
                    let started = Instant::now();
                    let Some(outcome) = run_one(spec, builder, &stop) else {
                        break;
                    };
                    if let Err(e) = results::write_part(out, &outcome) {
                        if let Ok(mut slot) = write_error.lock() {
                            slot.get_or_insert(e);
                        }
                        break;
                    }
                    if sharded {
                        // The part file now marks the run as done; the claim is not needed.
                        let _ = std::fs::remove_file(claim_path(out, &spec.run_id));
                    }
                    if !own {
                        helped.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
                    longest_ms.fetch_max(ms, Ordering::Relaxed);
                    if outcome.status == RunStatus::Failed {
                        if let Ok(mut f) = failures.lock() {
                            if f.len() < 10 {
                                f.push((
                                    spec.run_id.clone(),
                                    spec.label.clone(),
                                    outcome.error.clone().unwrap_or_default(),
                                ));
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
    progress.finish();
    if let Some(e) = write_error.into_inner().ok().flatten() {
        return Err(e.into());
    }
    let interrupted = stop();

    let consolidated: Consolidated =
        results::consolidate(out, &plan.experiment, selected.iter().copied(), &names)?;
    let ended = SystemTime::now();
    let summary = SweepSummary {
        out_dir: out.to_path_buf(),
        plan_runs: plan.runs.len(),
        selected_runs: selected.len(),
        resumed,
        ran: ran.into_inner(),
        helped: helped.into_inner(),
        helped_by_others: helped_by_others.into_inner(),
        ok: consolidated.ok,
        diverged: consolidated.diverged,
        failed: consolidated.failed,
        missing: selected.len() - consolidated.runs,
        interrupted,
        failures: failures.into_inner().unwrap_or_default(),
        runs_file: out.join(&names.runs),
        metrics_file: out.join(&names.metrics),
        wall_time_s: clock.elapsed().as_secs_f64(),
    };
    let manifest = manifest_json(plan, opts, jobs, &summary, started, ended);
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n";
    results::write_atomic(&out.join(&names.manifest), text.as_bytes())?;
    if let Some(s) = opts.shard {
        remove_if_exists(&running_marker(out, s))?;
    }
    Ok(summary)
}

// ---- manifest -----------------------------------------------------------------------------

/// The rustc that built this binary (set by build.rs), if known.
pub const RUSTC_VERSION: Option<&str> = option_env!("OPTBENCH_RUSTC_VERSION");

fn manifest_json(
    plan: &Plan,
    opts: &SweepOptions,
    jobs: usize,
    s: &SweepSummary,
    started: SystemTime,
    ended: SystemTime,
) -> serde_json::Value {
    json!({
        "optbench_version": env!("CARGO_PKG_VERSION"),
        "git_commit": git_commit(&opts.base_dir),
        "rustc": RUSTC_VERSION,
        "cpu": cpu_model(),
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "threads": jobs,
        "start_time": rfc3339(started),
        "end_time": rfc3339(ended),
        "wall_time_s": s.wall_time_s,
        "experiment": plan.experiment,
        "plan_runs": plan.runs.len(),
        "shard": opts.shard.map(|s| json!({"index": s.index, "count": s.count})),
        "selected_runs": s.selected_runs,
        "resumed_runs": s.resumed,
        "ran_runs": s.ran,
        "helped_other_shards_runs": s.helped,
        "runs_done_by_other_shards": s.helped_by_others,
        "missing_runs": s.missing,
        "interrupted": s.interrupted,
        "status_counts": {"ok": s.ok, "diverged": s.diverged, "failed": s.failed},
        "runs_file": s.runs_file.file_name().map(|f| f.to_string_lossy().into_owned()),
        "metrics_file": s.metrics_file.file_name().map(|f| f.to_string_lossy().into_owned()),
    })
}

/// `git rev-parse HEAD` in the executable's folder (a cargo build inside the repository), else
/// in `base_dir`, else the build-time `OPTBENCH_GIT_COMMIT`; None when none is known.
fn git_commit(base_dir: &Path) -> Option<String> {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    let dirs = exe_dir.into_iter().chain([base_dir.to_path_buf()]);
    for dir in dirs {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(&dir)
            .args(["rev-parse", "HEAD"])
            .stderr(std::process::Stdio::null())
            .output();
        if let Ok(out) = out {
            let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if out.status.success() && s.len() >= 7 {
                return Some(s);
            }
        }
    }
    option_env!("OPTBENCH_GIT_COMMIT").map(str::to_string)
}

/// The CPU model from /proc/cpuinfo (`model name`), if available.
fn cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

/// `t` as RFC 3339 in UTC with second precision, e.g. `2026-11-25T14:23:31Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc3339(t), "2000-02-29T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_616_611);
        assert_eq!(rfc3339(t), "2026-11-25T14:23:31Z");
    }
}
