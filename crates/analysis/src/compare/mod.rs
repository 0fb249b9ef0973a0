//! `optbench compare BASELINE_DIR CANDIDATE_DIR`: the CI regression gate.
//!
//! Runs of the two result folders are paired by `(cell_id, seed)` (the same resolved run with
//! the same data and initialisation, so the comparison is paired). For each cell and metric
//! (default `final_train_loss` and `final_test_loss`, lower is better, and `final_test_accuracy`,
//! higher is better; `best_train_loss` may be selected too):
//!
//! 1. **status**: statuses are ranked `ok < diverged < failed`; a seed whose status got worse
//!    (ok → diverged, ok → failed, diverged → failed) is a regression, one that got better an
//!    improvement, whatever the metrics say.
//! 2. **unchanged**: every pair of values (over seeds that are `ok` on both sides) is
//!    bit-identical. Results are deterministic per seed, so this is the common case.
//! 3. Otherwise the paired **relative change** of seed `i`, oriented so that positive is worse,
//!    is `w_i = s · (c_i − b_i) / max(|b_i|, atol)` with `s = +1` for losses and `−1` for
//!    accuracy; `atol` (default 1e-8) is a noise floor so that losses converging to 0 do not make
//!    relative changes explode. Let `m = median(w)`.
//!    - **regression** when `m > min_effect` (default 0.05) **and** either the one-sided
//!      Wilcoxon signed-rank test of `w` (alternative: `w` tends to be positive) is significant
//!      after Benjamini–Hochberg correction at `fdr` (default 0.05), or every seed has
//!      `w_i > min_effect` (a unanimous change is real: runs are deterministic per seed, and with
//!      3 seeds the smallest one-sided Wilcoxon p-value is 1/8);
//!    - **improvement**: the mirror image (`m < −min_effect`, test of `w` tending negative, or
//!      every `w_i < −min_effect`);
//!    - **underpowered**: `|m| > min_effect` but neither condition holds: reported (and, with
//!      `--fail-underpowered`, failing when worse), never passed silently;
//!    - **within tolerance**: changed, `|m| ≤ min_effect`.
//!
//! The Wilcoxon test is [`crate::stats::wilcoxon_signed_rank`] with
//! `WilcoxonMethod::Auto { correction: true }` (SciPy's `method='auto'`, continuity correction in
//! the normal approximation). Benjamini–Hochberg runs over every (cell, metric) whose values
//! moved (an unchanged pair carries no hypothesis), once for the "worse" p-values and once for
//! the "better" ones.
//!
//! # Steps to target (`--target METRIC=VALUE`, repeatable)
//!
//! Adds the metric `steps_to_target(METRIC<=VALUE)` (`>=` for `test_accuracy`), read from each
//! folder's `metrics.parquet`: per run, the first recorded `step` whose `METRIC` is finite and
//! `≤ VALUE` (losses and `grad_norm`: `train_loss`, `batch_loss`, `test_loss`, `grad_norm`) or
//! `≥ VALUE` (`test_accuracy`). Fewer steps is better. Metrics are recorded every `eval_every`
//! steps, so the value is the first *recorded* step that reached the target. A run that has
//! values of `METRIC` but never reaches the target has "not reached" (`+∞`); a run without any
//! value of `METRIC` (it does not apply, e.g. `test_loss` without a test set) has none. Per cell,
//! over the seeds that are `ok` on both sides:
//! - a seed that reached the target in the baseline but not in the candidate is a
//!   **regression** of the cell for this metric, whatever the other seeds say (like a status
//!   regression); not reached on both sides is an unchanged pair (`w_i = 0`);
//! - seeds that reached it on both sides have `w_i = (c_i − b_i) / max(b_i, 1)` (a floor of one
//!   step instead of `atol`); these and the unchanged pairs go through the median, Wilcoxon and
//!   Benjamini–Hochberg rules above, in the same family as the other metrics;
//! - a seed that reaches the target only in the candidate makes the cell an **improvement**
//!   unless the other seeds make it a (possibly underpowered) regression.
//!
//! Medians of step counts are over the seeds with not reached as `+∞` (`not reached` in the
//! table, `null` in the JSON when the median run did not reach the target).
//!
//! **Not comparable** (exit 2): a `(cell_id, seed)` present on one side only (the plans differ,
//! or runs are missing), duplicated pairs, missing or mistyped columns, or a metric present on one
//! side and null on the other for the same ok run.
//!
//! # Speed metrics (`--metric wall_time_s`, `--metric examples_per_s`)
//!
//! `wall_time_s` (runs.parquet) and `examples_per_s` (derived: the run's largest
//! `examples_seen` in metrics.parquet over its `wall_time_s`; see [`speed`]) are the only
//! values that are not deterministic, so they have their own rule. Runs are paired as above
//! (same cell and seed) and `w_i` is the paired relative change (positive = slower); a cell is
//! a **regression** when the median `w` exceeds `speed_min_effect` (`--speed-min-effect`,
//! default 0.10: timing noise of a few percent is normal) **and** either every seed is slower by
//! more than that or the one-sided Wilcoxon test is significant after Benjamini–Hochberg, run
//! over the speed metrics as a family of their own (timing moves in every cell, so mixing them
//! into the convergence family would dilute its power). The same rules give improvements and
//! underpowered changes. A run's time depends on the machine and its load: compare results
//! from the same machine type, each run with no other load, or the verdicts measure the
//! machines. With few seeds the unanimity rule is weak against timing noise: if a run's time
//! varies by a relative spread `s`, the chance that `n` seeds are all slower by more than the
//! minimum effect by chance is `P(w > min effect)ⁿ`; use more seeds when timings are noisy.
//!
//! Output: a Markdown table of every cell-metric that is not unchanged or within tolerance
//! (`--all` lists every one) on stdout, with `--json FILE` the full report as JSON, with
//! `--junit FILE` a JUnit XML file (see [`junit`]), and with `--summary` the Markdown appended
//! to `$GITHUB_STEP_SUMMARY`.

pub mod junit;
mod pairing;
pub(crate) mod read;
mod render;
mod settings;
pub mod speed;
pub mod target;
mod verdict;

use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;
use thiserror::Error;

use optbench_results::{
    BEST_TRAIN_LOSS, FINAL_TEST_ACCURACY, FINAL_TEST_LOSS, FINAL_TRAIN_LOSS, RUN_ID, STEP,
    WALL_TIME_S,
};
use read::{Side, list_missing, read_metrics, read_runs};
pub use render::{render_json, render_markdown};
pub use settings::Settings;
pub use speed::{EXAMPLES_PER_S, SPEED_METRICS, is_speed_metric};
pub use target::{TARGET_METRICS, Target};
use verdict::Compared;

/// The runs file of a results folder.
pub const RUNS_FILE: &str = "runs.parquet";

/// The metrics file of a results folder (read for `--target` and `examples_per_s`).
pub const METRICS_FILE: &str = "metrics.parquet";

/// The metrics compared when no `--metric` is given.
pub const DEFAULT_METRICS: [&str; 3] = [FINAL_TRAIN_LOSS, FINAL_TEST_LOSS, FINAL_TEST_ACCURACY];

/// Which way a metric improves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Losses, wall time.
    LowerIsBetter,
    /// Accuracy, examples per second.
    HigherIsBetter,
}

/// The metrics `compare` knows, and which way each improves.
pub fn metric_direction(metric: &str) -> Option<Direction> {
    match metric {
        FINAL_TRAIN_LOSS | FINAL_TEST_LOSS | BEST_TRAIN_LOSS => Some(Direction::LowerIsBetter),
        FINAL_TEST_ACCURACY => Some(Direction::HigherIsBetter),
        _ => SPEED_METRICS
            .iter()
            .find(|(m, _)| *m == metric)
            .map(|(_, d)| *d),
    }
}

/// Every metric `--metric` accepts.
pub const KNOWN_METRICS: [&str; 6] = [
    FINAL_TRAIN_LOSS,
    FINAL_TEST_LOSS,
    FINAL_TEST_ACCURACY,
    BEST_TRAIN_LOSS,
    WALL_TIME_S,
    EXAMPLES_PER_S,
];

/// What went wrong, other than a regression or an incomparable pair of folders.
#[derive(Debug, Error)]
pub enum CompareError {
    /// Invalid options (exit 2).
    #[error("{0}")]
    BadArgs(String),
    /// A results folder whose runs.parquet cannot be read (exit 2).
    #[error("cannot read the {side} results {}: {message}", path.display())]
    Read {
        /// `baseline` or `candidate`.
        side: &'static str,
        /// The runs.parquet file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A report file (`--json`, `--junit`, `$GITHUB_STEP_SUMMARY`) cannot be written (exit 3).
    #[error("cannot write {}: {source}", path.display())]
    WriteReport {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Anything else that should not happen (exit 3).
    #[error("internal error: {0}")]
    Internal(String),
}

impl CompareError {
    /// The process exit code: 2 for bad input, 3 for internal errors.
    pub fn exit_code(&self) -> i32 {
        match self {
            CompareError::BadArgs(_) | CompareError::Read { .. } => 2,
            CompareError::WriteReport { .. } | CompareError::Internal(_) => 3,
        }
    }
}

/// The verdict of one cell and metric (or of a cell's statuses).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Worse by more than the minimum effect, significant or unanimous; or a status got worse.
    Regression,
    /// Worse by more than the minimum effect, neither significant nor unanimous.
    UnderpoweredRegression,
    /// Better by more than the minimum effect, neither significant nor unanimous.
    UnderpoweredImprovement,
    /// Better by more than the minimum effect, significant or unanimous; or a status got better.
    Improvement,
    /// Changed, but the median change is within the minimum effect.
    WithinTolerance,
    /// Bit-identical.
    Unchanged,
}

impl Verdict {
    fn text(self) -> &'static str {
        match self {
            Verdict::Regression => "**regression**",
            Verdict::UnderpoweredRegression => "underpowered (worse)",
            Verdict::UnderpoweredImprovement => "underpowered (better)",
            Verdict::Improvement => "improvement",
            Verdict::WithinTolerance => "within tolerance",
            Verdict::Unchanged => "unchanged",
        }
    }
}

/// One line of the report: a cell and a metric (`metric = "status"` for status changes).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Row {
    /// The cell's id.
    pub cell_id: String,
    /// Readable description: problem, dataset, label.
    pub cell: String,
    /// The metric, or `status`.
    pub metric: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Paired seeds the verdict is based on.
    pub seeds: usize,
    /// Median of the baseline values.
    pub baseline_median: Option<f64>,
    /// Median of the candidate values.
    pub candidate_median: Option<f64>,
    /// Median paired relative change, positive = worse.
    pub median_change: Option<f64>,
    /// Seeds worse by more than the minimum effect.
    pub worse_seeds: usize,
    /// Seeds better by more than the minimum effect.
    pub better_seeds: usize,
    /// One-sided Wilcoxon p-value for "worse".
    pub p_worse: Option<f64>,
    /// Benjamini–Hochberg adjusted `p_worse`.
    pub p_worse_adjusted: Option<f64>,
    /// One-sided Wilcoxon p-value for "better".
    pub p_better: Option<f64>,
    /// Benjamini–Hochberg adjusted `p_better`.
    pub p_better_adjusted: Option<f64>,
    /// Details, e.g. `seed 2: ok → diverged`.
    pub note: Option<String>,
}

/// Rows per verdict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub regression: usize,
    pub underpowered_regression: usize,
    pub underpowered_improvement: usize,
    pub improvement: usize,
    pub within_tolerance: usize,
    pub unchanged: usize,
}

/// A full comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// `pass` or `regression`.
    pub outcome: &'static str,
    /// The baseline folder.
    pub baseline: PathBuf,
    /// The candidate folder.
    pub candidate: PathBuf,
    /// Paired runs.
    pub runs: usize,
    /// Cells.
    pub cells: usize,
    /// Thresholds used.
    pub settings: Settings,
    /// Hypotheses in the Benjamini–Hochberg family of the convergence metrics (each direction).
    pub tests: usize,
    /// Hypotheses in the Benjamini–Hochberg family of the speed metrics (each direction).
    pub speed_tests: usize,
    /// Rows per verdict.
    pub counts: Counts,
    /// Every row, worst verdict first, then in the baseline's cell order.
    pub rows: Vec<Row>,
}

/// The result of `compare`, mapped to the exit code by [`CompareOutcome::exit_code`].
#[derive(Clone, Debug, PartialEq)]
pub enum CompareOutcome {
    /// No regression (exit 0).
    Pass(Box<Report>),
    /// At least one regression (exit 1).
    Regression(Box<Report>),
    /// The folders cannot be compared (exit 2); each string says why.
    NotComparable(Vec<String>),
}

impl CompareOutcome {
    /// 0 pass, 1 regression, 2 not comparable.
    pub fn exit_code(&self) -> i32 {
        match self {
            CompareOutcome::Pass(_) => 0,
            CompareOutcome::Regression(_) => 1,
            CompareOutcome::NotComparable(_) => 2,
        }
    }

    /// One sentence for stderr.
    pub fn summary(&self) -> String {
        match self {
            CompareOutcome::Pass(r) => format!(
                "no regression over {} paired runs ({} improvements, {} underpowered changes)",
                r.runs,
                r.counts.improvement,
                r.counts.underpowered_regression + r.counts.underpowered_improvement
            ),
            CompareOutcome::Regression(r) => {
                let underpowered = if r.settings.fail_underpowered {
                    format!(
                        " and {} underpowered worsening(s)",
                        r.counts.underpowered_regression
                    )
                } else {
                    String::new()
                };
                format!(
                    "{} regression(s){underpowered} over {} paired runs (see the table on stdout)",
                    r.counts.regression, r.runs
                )
            }
            CompareOutcome::NotComparable(reasons) => {
                format!("the results are not comparable: {}", reasons.join("; "))
            }
        }
    }
}

/// Compares the `runs.parquet` of two result folders (and their `metrics.parquet` for
/// `--target` and `examples_per_s`).
pub fn compare_dirs(
    baseline: &Path,
    candidate: &Path,
    settings: &Settings,
) -> Result<CompareOutcome, CompareError> {
    settings.validate()?;
    let b = read_runs(baseline, "baseline")?;
    let c = read_runs(candidate, "candidate")?;
    let mut columns: Vec<&str> = Vec::new();
    let mut why = Vec::new();
    if !settings.targets.is_empty() {
        columns.extend([RUN_ID, STEP]);
        columns.extend(settings.targets.iter().map(|t| t.metric.as_str()));
        why.push("--target");
    }
    if settings.metrics.iter().any(|m| m == EXAMPLES_PER_S) {
        columns.extend(speed::EXAMPLES_COLUMNS);
        why.push("--metric examples_per_s");
    }
    let mut outcome = if columns.is_empty() {
        compare_frames(&b, &c, settings)?
    } else {
        let why = why.join(" and ");
        let bm = read_metrics(baseline, "baseline", &columns, &why)?;
        let cm = read_metrics(candidate, "candidate", &columns, &why)?;
        compare_frames_with_metrics(&b, &c, Some((&bm, &cm)), settings)?
    };
    if let CompareOutcome::Pass(r) | CompareOutcome::Regression(r) = &mut outcome {
        r.baseline = baseline.to_path_buf();
        r.candidate = candidate.to_path_buf();
    }
    Ok(outcome)
}

/// Compares two runs tables (as read from runs.parquet); see the module docs. Settings with
/// targets or `examples_per_s` need the metrics tables too: use
/// [`compare_frames_with_metrics`].
pub fn compare_frames(
    baseline: &DataFrame,
    candidate: &DataFrame,
    settings: &Settings,
) -> Result<CompareOutcome, CompareError> {
    compare_frames_with_metrics(baseline, candidate, None, settings)
}

/// Both sides' problems as one not-comparable outcome.
fn not_comparable<T>(
    b: Result<T, Vec<String>>,
    c: Result<T, Vec<String>>,
) -> Result<(T, T), CompareOutcome> {
    match (b, c) {
        (Ok(b), Ok(c)) => Ok((b, c)),
        (b, c) => {
            let mut reasons = b.err().unwrap_or_default();
            reasons.extend(c.err().unwrap_or_default());
            Err(CompareOutcome::NotComparable(reasons))
        }
    }
}

/// The two sides with every compared metric's values: runs.parquet's columns (and the derived
/// `examples_per_s`), then the steps-to-target metrics.
fn sides(
    baseline: &DataFrame,
    candidate: &DataFrame,
    metrics_frames: Option<(&DataFrame, &DataFrame)>,
    settings: &Settings,
) -> Result<Result<(Side, Side), CompareOutcome>, CompareError> {
    let needs_metrics = if !settings.targets.is_empty() {
        Some("--target")
    } else if settings.metrics.iter().any(|m| m == EXAMPLES_PER_S) {
        Some("examples_per_s")
    } else {
        None
    };
    let frames = match (needs_metrics, metrics_frames) {
        (Some(what), None) => {
            return Err(CompareError::BadArgs(format!(
                "{what} needs the metrics tables (metrics.parquet) of both sides"
            )));
        }
        (_, frames) => frames,
    };
    let (mut bf, mut cf) = (baseline.clone(), candidate.clone());
    if let (true, Some((bm, cm))) = (settings.metrics.iter().any(|m| m == EXAMPLES_PER_S), frames) {
        let added = not_comparable(
            speed::add_examples_per_s(&mut bf, bm, "baseline").map_err(|e| vec![e]),
            speed::add_examples_per_s(&mut cf, cm, "candidate").map_err(|e| vec![e]),
        );
        if let Err(outcome) = added {
            return Ok(Err(outcome));
        }
    }
    let metrics = &settings.metrics;
    let (mut b, mut c) = match not_comparable(
        Side::extract(&bf, "baseline", metrics),
        Side::extract(&cf, "candidate", metrics),
    ) {
        Ok(sides) => sides,
        Err(outcome) => return Ok(Err(outcome)),
    };
    let targets = &settings.targets;
    if let (false, Some((bm, cm))) = (targets.is_empty(), frames) {
        match not_comparable(
            target::steps_to_targets(bm, "baseline", &b.run_id, targets),
            target::steps_to_targets(cm, "candidate", &c.run_id, targets),
        ) {
            Ok((bt, ct)) => {
                b.metrics.extend(bt);
                c.metrics.extend(ct);
            }
            Err(outcome) => return Ok(Err(outcome)),
        }
    }
    Ok(Ok((b, c)))
}

/// Compares two runs tables, with the `(baseline, candidate)` metrics tables (as read from
/// metrics.parquet; at least `run_id`, `step` and the target metrics for `settings.targets`,
/// `run_id` and `examples_seen` for `examples_per_s`).
pub fn compare_frames_with_metrics(
    baseline: &DataFrame,
    candidate: &DataFrame,
    metrics_frames: Option<(&DataFrame, &DataFrame)>,
    settings: &Settings,
) -> Result<CompareOutcome, CompareError> {
    settings.validate()?;
    let (b, c) = match sides(baseline, candidate, metrics_frames, settings)? {
        Ok(sides) => sides,
        Err(outcome) => return Ok(outcome),
    };
    // Every compared metric: runs.parquet's, then the steps-to-target ones.
    let compared: Vec<Compared> = settings
        .metrics
        .iter()
        .map(|m| Compared {
            name: m.clone(),
            target: None,
            direction: metric_direction(m).unwrap_or(Direction::LowerIsBetter),
        })
        .chain(settings.targets.iter().map(|t| Compared {
            name: t.name(),
            target: Some(t),
            direction: Direction::LowerIsBetter,
        }))
        .collect();
    let pairs = match pairing::pair_runs(&b, &c) {
        Ok(p) => p,
        Err(reasons) => return Ok(CompareOutcome::NotComparable(reasons)),
    };
    let mut rows = verdict::cell_rows(&b, &c, &pairs, &compared, settings)?;
    if !rows.null_mismatch.is_empty() {
        return Ok(CompareOutcome::NotComparable(vec![list_missing(
            "values are present on one side only",
            &rows.null_mismatch,
        )]));
    }
    let (tests, speed_tests) = verdict::decide(&mut rows, settings)?;
    // Worst first, stable within a verdict (baseline cell order).
    let mut rows_out = rows.rows;
    rows_out.sort_by_key(|r| r.verdict);
    let counts = verdict::count(&rows_out);
    let failed =
        counts.regression > 0 || (settings.fail_underpowered && counts.underpowered_regression > 0);
    let report = Box::new(Report {
        outcome: if failed { "regression" } else { "pass" },
        baseline: PathBuf::new(),
        candidate: PathBuf::new(),
        runs: rows.runs,
        cells: pairs.cell_order.len(),
        settings: settings.clone(),
        tests,
        speed_tests,
        counts,
        rows: rows_out,
    });
    Ok(if failed {
        CompareOutcome::Regression(report)
    } else {
        CompareOutcome::Pass(report)
    })
}
