//! The `optbench` command line (DESIGN.md §4).
//!
//! ```text
//! optbench run EXPERIMENT.yaml [--out DIR] [--jobs N] [--set k=v]... [--force] [--no-plots] [--shard I/N]
//! optbench validate EXPERIMENT.yaml [--set k=v]... [--verbose]
//! optbench list [optimizers|problems|datasets|schedules]
//! optbench plot DIR [...]
//! optbench report DIR
//! optbench compare BASELINE_DIR CANDIDATE_DIR [...]
//! optbench merge DIR
//! ```
//!
//! Exit codes: 0 success, 1 a regression or a failed run, 2 bad input, 3 internal error
//! ([`crate::error`]). Errors are one line on stderr, `optbench: error: ...`; panics are caught
//! and reported as internal errors without a backtrace.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::Value;

use crate::error::{
    EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERNAL, EXIT_OK, ExperimentError, Failure, UsageError,
    exit_code, one_line,
};
use crate::expand;
use crate::plan::Plan;
use crate::shard::Shard;
use crate::sweep::{self, SweepOptions};

/// optbench: benchmark first-order optimizers on grids of problems, hyperparameters and seeds.
#[derive(Debug, Parser)]
#[command(name = "optbench", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an experiment (resumes: finished runs are kept).
    Run(RunArgs),
    /// Check an experiment file and print the size of its plan.
    Validate(ValidateArgs),
    /// List optimizers, problems, datasets or schedules with every key and its default.
    List(ListArgs),
    /// Redraw the figures of a results folder.
    Plot(crate::plot::PlotArgs),
    /// Write report.md and report.tex for a results folder.
    Report(DirArgs),
    /// CI gate: compare a candidate results folder with a baseline (0 same or better,
    /// 1 regression, 2 not comparable, 3 error).
    Compare(crate::compare::CompareArgs),
    /// Combine the shards of a results folder into one result.
    Merge(crate::merge::MergeArgs),
}

/// `optbench run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The experiment file (YAML).
    #[arg(value_name = "EXPERIMENT.yaml")]
    pub experiment: PathBuf,
    /// Results folder (default: results/<name>/ in the current folder).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Runs in parallel (default: all cores).
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub jobs: Option<u64>,
    /// Override a key of the experiment, Hydra style: `train.epochs=3`, `optimizers.0.lr=0.1`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Start over: delete earlier results of this experiment in the folder.
    #[arg(long)]
    pub force: bool,
    /// Do not draw figures and the report at the end.
    #[arg(long)]
    pub no_plots: bool,
    /// Run only shard I of N (0-based); default from SLURM_ARRAY_TASK_ID/COUNT or
    /// JOB_COMPLETION_INDEX.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// With a shard: do not run other shards' runs once this shard's own are done (helping
    /// needs a file system where exclusive file creation is atomic, which old NFS is not).
    #[arg(long)]
    pub no_shard_help: bool,
}

/// `optbench validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The experiment file (YAML).
    #[arg(value_name = "EXPERIMENT.yaml")]
    pub experiment: PathBuf,
    /// Override a key of the experiment, as for `run`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Also print every cell with its label and id.
    #[arg(long, short)]
    pub verbose: bool,
}

/// What `optbench list` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListWhat {
    Optimizers,
    Problems,
    Datasets,
    Schedules,
}

/// `optbench list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// What to list (default: everything).
    #[arg(value_enum)]
    pub what: Option<ListWhat>,
}

/// A subcommand that takes a results folder.
#[derive(Debug, clap::Args)]
pub struct DirArgs {
    /// The results folder.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// Parses the command line, runs it and returns the exit code. Never panics outward.
pub fn main() -> i32 {
    std::panic::set_hook(Box::new(|info| {
        let msg = panic_message(info.payload());
        let at = info
            .location()
            .map(|l| format!(" (at {}:{})", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("optbench: internal error: {msg}{at}");
    }));
    let cli = Cli::parse();
    match std::panic::catch_unwind(|| run_command(cli.command)) {
        Ok(Ok(code)) => code,
        Ok(Err(err)) => {
            eprintln!("optbench: error: {}", one_line(&err));
            exit_code(&err)
        }
        Err(_) => EXIT_INTERNAL,
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

/// Runs one subcommand; `Ok` carries the exit code.
pub fn run_command(command: Command) -> anyhow::Result<i32> {
    match command {
        Command::Run(args) => run(&args),
        Command::Validate(args) => {
            let loaded = expand::load(&args.experiment, &args.set)?;
            for w in &loaded.warnings {
                eprintln!("optbench: warning: {w}");
            }
            print!("{}", summary(&args.experiment, &loaded.plan, args.verbose));
            Ok(EXIT_OK)
        }
        Command::List(args) => {
            print!("{}", list(args.what));
            Ok(EXIT_OK)
        }
        Command::Plot(args) => {
            let files =
                crate::plot::plot_results(&args.dir, &args.options()).map_err(plot_failure)?;
            eprintln!(
                "optbench: {} figure file(s) in {}",
                files.len(),
                args.dir.join("plots").display()
            );
            Ok(EXIT_OK)
        }
        Command::Report(args) => {
            let files = crate::report::write_report(&args.dir).map_err(report_failure)?;
            eprintln!(
                "optbench: wrote {} and {}",
                files.markdown.display(),
                files.latex.display()
            );
            Ok(EXIT_OK)
        }
        Command::Compare(args) => match crate::compare::run_compare(&args) {
            Ok(outcome) => {
                eprintln!("optbench: {}", outcome.summary());
                Ok(outcome.exit_code())
            }
            Err(e) => Err(Failure {
                code: e.exit_code(),
                message: e.to_string(),
            }
            .into()),
        },
        Command::Merge(args) => match crate::merge::run_merge(&args) {
            Ok(m) => {
                eprintln!(
                    "optbench: merged {} shard(s), {} runs, into {}",
                    m.shards.len(),
                    m.runs,
                    args.dir.display()
                );
                Ok(EXIT_OK)
            }
            Err(e) => Err(Failure {
                code: e.exit_code(),
                message: e.to_string(),
            }
            .into()),
        },
    }
}

/// Missing or unreadable results are bad input; failing to draw or write is internal.
fn plot_failure(e: crate::plot::PlotError) -> anyhow::Error {
    use crate::plot::PlotError as E;
    match e {
        E::Data(_) | E::NoRuns { .. } => Failure::bad_input(e.to_string()).into(),
        other => Failure::internal(other.to_string()).into(),
    }
}

fn report_failure(e: crate::report::ReportError) -> anyhow::Error {
    use crate::report::ReportError as E;
    match e {
        E::Data(_) | E::NoRuns { .. } => Failure::bad_input(e.to_string()).into(),
        other => Failure::internal(other.to_string()).into(),
    }
}

/// The default results folder of an experiment: `results/<name>/`.
pub fn default_out_dir(plan: &Plan) -> PathBuf {
    Path::new("results").join(&plan.experiment)
}

fn run(args: &RunArgs) -> anyhow::Result<i32> {
    let plan = expand::load_plan(&args.experiment, &args.set)?;
    let shard = match &args.shard {
        Some(s) => Some(Shard::parse(s).map_err(|e| UsageError(format!("--shard: {e}")))?),
        None => Shard::from_env(None).map_err(|e| UsageError(e.to_string()))?,
    };
    let out = args.out.clone().unwrap_or_else(|| default_out_dir(&plan));
    let base_dir = match args.experiment.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut opts = SweepOptions::new(&out, base_dir);
    opts.jobs = args.jobs.map(|j| usize::try_from(j).unwrap_or(usize::MAX));
    opts.force = args.force;
    opts.shard = shard;
    opts.help_other_shards = !args.no_shard_help;
    let summary = sweep::run_plan(&plan, &opts).map_err(|e| Failure::internal(e.to_string()))?;
    for (id, label, message) in &summary.failures {
        eprintln!("optbench: run {id} ({label}) failed: {message}");
    }
    eprintln!(
        "optbench: {} runs in {:.1} s ({} ok, {} diverged, {} failed{}{}) in {}",
        summary.selected_runs,
        summary.wall_time_s,
        summary.ok,
        summary.diverged,
        summary.failed,
        if summary.resumed > 0 {
            format!(", {} kept from an earlier sweep", summary.resumed)
        } else {
            String::new()
        },
        if summary.missing > 0 {
            format!(", {} not run", summary.missing)
        } else {
            String::new()
        },
        out.display()
    );
    if summary.interrupted {
        eprintln!("optbench: interrupted; run the same command again to finish the missing runs");
        return Ok(EXIT_FAILED);
    }
    if let Some(s) = shard {
        if summary.helped > 0 || summary.helped_by_others > 0 {
            eprintln!(
                "optbench: shard {s} ran {} run(s) of other shards after its own; other shards ran \
                 {} of its runs",
                summary.helped, summary.helped_by_others
            );
        }
        eprintln!(
            "optbench: shard {}/{} done; after every shard, `optbench merge {}` combines them",
            s.index,
            s.count,
            out.display()
        );
    } else if !args.no_plots && summary.ok + summary.diverged > 0 {
        let files =
            crate::plot::plot_results(&out, &crate::plot::PlotOptions::default()).map_err(|e| {
                Failure::internal(format!(
                    "the results are saved, but drawing figures failed: {e}"
                ))
            })?;
        let report = crate::report::write_report(&out).map_err(|e| {
            Failure::internal(format!("the results are saved, but the report failed: {e}"))
        })?;
        eprintln!(
            "optbench: {} figure file(s) in {}, tables in {}",
            files.len(),
            out.join("plots").display(),
            report.markdown.display()
        );
    }
    Ok(if summary.success() {
        EXIT_OK
    } else {
        EXIT_FAILED
    })
}

/// `validate`'s report: counts of cells and runs per problem and optimizer, and the total.
pub fn summary(file: &Path, plan: &Plan, verbose: bool) -> String {
    let mut out = String::new();
    let seeds = plan.seeds.len();
    let mut by: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    let mut cells: Vec<(&str, &str, &str)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for r in &plan.runs {
        let e = by
            .entry((problem_label(&r.problem), r.optimizer.name.clone()))
            .or_default();
        e.1 += 1;
        if seen.insert(r.cell_id.as_str()) {
            e.0 += 1;
            cells.push((
                r.cell_id.as_str(),
                r.problem.name.as_str(),
                r.label.as_str(),
            ));
        }
    }
    let n_cells: usize = by.values().map(|v| v.0).sum();
    let _ = writeln!(
        out,
        "{}: experiment `{}` is valid: {} cells × {} seed{} = {} runs",
        file.display(),
        plan.experiment,
        n_cells,
        seeds,
        if seeds == 1 { "" } else { "s" },
        plan.runs.len()
    );
    let w0 = by.keys().map(|k| k.0.len()).max().unwrap_or(0).max(7);
    let w1 = by.keys().map(|k| k.1.len()).max().unwrap_or(0).max(9);
    let _ = writeln!(
        out,
        "{:<w0$}  {:<w1$}  {:>6}  {:>6}",
        "problem", "optimizer", "cells", "runs"
    );
    for ((p, o), (c, r)) in &by {
        let _ = writeln!(out, "{p:<w0$}  {o:<w1$}  {c:>6}  {r:>6}");
    }
    let _ = writeln!(
        out,
        "{:<w0$}  {:<w1$}  {:>6}  {:>6}",
        "total",
        "",
        n_cells,
        plan.runs.len()
    );
    if verbose {
        let _ = writeln!(out);
        for (id, p, label) in cells {
            let _ = writeln!(out, "{id}  {p:<w0$}  {label}");
        }
    }
    out
}

/// `mlp (iris)` for problems on data, the name otherwise.
fn problem_label(p: &crate::plan::ProblemSpec) -> String {
    match p.dataset_name() {
        Some(d) => format!("{} ({d})", p.name),
        None => p.name.clone(),
    }
}

fn fmt_default(v: &Value) -> String {
    match v {
        Value::Null => "—".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `optbench list`'s text.
pub fn list(what: Option<ListWhat>) -> String {
    let mut out = String::new();
    let all = what.is_none();
    if all || what == Some(ListWhat::Optimizers) {
        let _ = writeln!(
            out,
            "Optimizers (hyperparameters and defaults as torch.optim):"
        );
        for name in expand::catalog::optimizer_names() {
            let summary = expand::catalog::optimizer_summary(name).unwrap_or("");
            let _ = writeln!(out, "  {name:<20} {summary}");
            let docs = expand::catalog::optimizer_docs(name);
            for (k, v) in expand::catalog::optimizer_defaults(name).unwrap_or_default() {
                let help = docs.iter().find(|(n, _)| *n == k).map_or("", |(_, d)| *d);
                let _ = writeln!(
                    out,
                    "      {k:<26} {:<20} {help}",
                    format!("default {}", fmt_default(&v))
                );
            }
        }
        let _ = writeln!(out);
    }
    if all || what == Some(ListWhat::Problems) {
        let _ = writeln!(out, "Problems:");
        for name in optbench_models::PROBLEM_NAMES {
            let _ = writeln!(out, "  {name}");
            for k in optbench_models::problem_keys(name).unwrap_or_default() {
                let d = if k.required {
                    "required".to_string()
                } else {
                    format!("default {}", fmt_default(&k.default))
                };
                let _ = writeln!(out, "      {:<22} {:<20} {}", k.name, d, k.help);
            }
        }
        let _ = writeln!(out);
    }
    if all || what == Some(ListWhat::Datasets) {
        let _ = writeln!(
            out,
            "Datasets (`dataset: NAME` or `dataset: {{name: NAME, key: value}}`):"
        );
        for name in optbench_models::DATASET_NAMES {
            let _ = writeln!(out, "  {name}");
            for k in optbench_models::dataset_keys(name).unwrap_or_default() {
                let d = if k.required {
                    "required".to_string()
                } else {
                    format!("default {}", fmt_default(&k.default))
                };
                let _ = writeln!(out, "      {:<22} {:<20} {}", k.name, d, k.help);
            }
        }
        let _ = writeln!(out);
    }
    if all || what == Some(ListWhat::Schedules) {
        let _ = writeln!(
            out,
            "Schedules (`schedule: {{name: NAME, ...}}`, per optimizer or for all; every one takes warmup_steps and warmup_start_factor):"
        );
        for name in expand::catalog::schedule_names() {
            let v = expand::catalog::schedule_canonical(&Value::String((*name).to_string()));
            let keys = match v {
                Ok(Value::Object(m)) => m
                    .iter()
                    .filter(|(k, _)| *k != "name")
                    .map(|(k, v)| format!("{k}={}", fmt_default(v)))
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => "(has required keys)".to_string(),
            };
            let _ = writeln!(out, "  {name:<14} {keys}");
        }
    }
    out
}

/// Error for an argument that is not valid (exit code 2).
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// Whether an error is bad input (exit code 2).
pub fn is_bad_input(err: &anyhow::Error) -> bool {
    exit_code(err) == EXIT_BAD_INPUT || err.downcast_ref::<ExperimentError>().is_some()
}
