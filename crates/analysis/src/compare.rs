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
//! Output: a Markdown table of every cell-metric that is not unchanged or within tolerance
//! (`--all` lists every one) on stdout, and with `--json FILE` the full report as JSON.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;
use thiserror::Error;

use crate::stats::{self, Alternative, WilcoxonMethod};
use optbench_results::{
    BATCH_LOSS, BEST_TRAIN_LOSS, CELL_ID, DATASET, FINAL_TEST_ACCURACY, FINAL_TEST_LOSS,
    FINAL_TRAIN_LOSS, GRAD_NORM, LABEL, PROBLEM, RUN_ID, SEED, STATUS, STATUS_DIVERGED,
    STATUS_FAILED, STATUS_OK, STEP, TEST_ACCURACY, TEST_LOSS, TRAIN_LOSS,
};

/// The runs file of a results folder.
pub const RUNS_FILE: &str = "runs.parquet";

/// The metrics file of a results folder (read for `--target`).
pub const METRICS_FILE: &str = "metrics.parquet";

/// The metrics compared when no `--metric` is given.
pub const DEFAULT_METRICS: [&str; 3] = [FINAL_TRAIN_LOSS, FINAL_TEST_LOSS, FINAL_TEST_ACCURACY];

/// Which way a metric improves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Losses.
    LowerIsBetter,
    /// Accuracy.
    HigherIsBetter,
}

/// The metrics `compare` knows, and which way each improves.
pub fn metric_direction(metric: &str) -> Option<Direction> {
    match metric {
        FINAL_TRAIN_LOSS | FINAL_TEST_LOSS | BEST_TRAIN_LOSS => Some(Direction::LowerIsBetter),
        FINAL_TEST_ACCURACY => Some(Direction::HigherIsBetter),
        _ => None,
    }
}

const KNOWN_METRICS: [&str; 4] = [
    FINAL_TRAIN_LOSS,
    FINAL_TEST_LOSS,
    FINAL_TEST_ACCURACY,
    BEST_TRAIN_LOSS,
];

/// The `metrics.parquet` columns `--target` accepts, and which way each improves.
pub const TARGET_METRICS: [(&str, Direction); 5] = [
    (TRAIN_LOSS, Direction::LowerIsBetter),
    (TEST_LOSS, Direction::LowerIsBetter),
    (BATCH_LOSS, Direction::LowerIsBetter),
    (GRAD_NORM, Direction::LowerIsBetter),
    (TEST_ACCURACY, Direction::HigherIsBetter),
];

/// A steps-to-target metric: the first recorded step at which `metric` reaches `value` (`≤` for
/// [`Direction::LowerIsBetter`] metrics, `≥` for accuracy); see the module docs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Target {
    /// A column of metrics.parquet, one of [`TARGET_METRICS`].
    pub metric: String,
    /// The threshold.
    pub value: f64,
    /// Which way `metric` improves: `≤ value` or `≥ value` counts as reached.
    pub direction: Direction,
}

impl Target {
    /// Parses `METRIC=VALUE`, e.g. `train_loss=0.05` or `test_accuracy=0.9`.
    pub fn parse(text: &str) -> Result<Self, CompareError> {
        let known = || {
            TARGET_METRICS
                .iter()
                .map(|(m, _)| *m)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Some((metric, value)) = text.split_once('=') else {
            return Err(CompareError::BadArgs(format!(
                "--target `{text}` is not of the form METRIC=VALUE (e.g. train_loss=0.05; \
                 metrics: {})",
                known()
            )));
        };
        let metric = metric.trim();
        let Some(&(_, direction)) = TARGET_METRICS.iter().find(|(m, _)| *m == metric) else {
            let closest = TARGET_METRICS
                .iter()
                .map(|(m, _)| *m)
                .max_by(|a, b| {
                    strsim::jaro_winkler(metric, a).total_cmp(&strsim::jaro_winkler(metric, b))
                })
                .unwrap_or(TRAIN_LOSS);
            return Err(CompareError::BadArgs(format!(
                "--target `{text}`: unknown metric `{metric}` (did you mean `{closest}`? \
                 metrics.parquet columns with a target: {})",
                known()
            )));
        };
        let value: f64 = value.trim().parse().map_err(|_| {
            CompareError::BadArgs(format!(
                "--target `{text}`: `{}` is not a number",
                value.trim()
            ))
        })?;
        if !value.is_finite() {
            return Err(CompareError::BadArgs(format!(
                "--target `{text}`: the target must be a finite number"
            )));
        }
        Ok(Self {
            metric: metric.to_string(),
            value,
            direction,
        })
    }

    /// The metric's name in the report: `steps_to_target(train_loss<=0.05)`.
    pub fn name(&self) -> String {
        let op = match self.direction {
            Direction::LowerIsBetter => "<=",
            Direction::HigherIsBetter => ">=",
        };
        format!("steps_to_target({}{op}{})", self.metric, self.value)
    }

    /// Whether `v` reaches the target (finite and on the right side of it).
    pub fn reached(&self, v: f64) -> bool {
        v.is_finite()
            && match self.direction {
                Direction::LowerIsBetter => v <= self.value,
                Direction::HigherIsBetter => v >= self.value,
            }
    }
}

/// The thresholds of a comparison (see the module docs for their meaning).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Settings {
    /// Metrics of runs.parquet compared, in order.
    pub metrics: Vec<String>,
    /// Steps-to-target metrics from metrics.parquet, compared after `metrics`.
    pub targets: Vec<Target>,
    /// Smallest median relative change that counts (default 0.05).
    pub min_effect: f64,
    /// Benjamini–Hochberg false discovery rate (default 0.05).
    pub fdr: f64,
    /// Noise floor of relative changes (default 1e-8).
    pub atol: f64,
    /// Underpowered worsenings fail the gate (default false).
    pub fail_underpowered: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            metrics: DEFAULT_METRICS.iter().map(|s| s.to_string()).collect(),
            targets: Vec::new(),
            min_effect: 0.05,
            fdr: 0.05,
            atol: 1e-8,
            fail_underpowered: false,
        }
    }
}

impl Settings {
    /// Checks the thresholds and metric names.
    pub fn validate(&self) -> Result<(), CompareError> {
        if self.metrics.is_empty() && self.targets.is_empty() {
            return Err(CompareError::BadArgs("no metric to compare".into()));
        }
        for m in &self.metrics {
            if metric_direction(m).is_none() {
                let closest = KNOWN_METRICS
                    .iter()
                    .max_by(|a, b| {
                        strsim::jaro_winkler(m, a).total_cmp(&strsim::jaro_winkler(m, b))
                    })
                    .copied()
                    .unwrap_or(FINAL_TRAIN_LOSS);
                return Err(CompareError::BadArgs(format!(
                    "unknown metric `{m}` (did you mean `{closest}`? known: {})",
                    KNOWN_METRICS.join(", ")
                )));
            }
        }
        for (k, t) in self.targets.iter().enumerate() {
            let known = TARGET_METRICS
                .iter()
                .any(|(m, d)| *m == t.metric && *d == t.direction);
            if !known || !t.value.is_finite() {
                return Err(CompareError::BadArgs(format!(
                    "target `{}` is not valid (metrics: train_loss, test_loss, batch_loss, \
                     grad_norm with <=, test_accuracy with >=; a finite value)",
                    t.name()
                )));
            }
            if self.targets[..k].iter().any(|u| u.name() == t.name()) {
                return Err(CompareError::BadArgs(format!(
                    "target `{}` is given twice",
                    t.name()
                )));
            }
        }
        if !(self.min_effect.is_finite() && self.min_effect >= 0.0) {
            return Err(CompareError::BadArgs(format!(
                "--min-effect must be a finite fraction >= 0, got {}",
                self.min_effect
            )));
        }
        if !(self.fdr > 0.0 && self.fdr < 1.0) {
            return Err(CompareError::BadArgs(format!(
                "--fdr must be in (0, 1), got {}",
                self.fdr
            )));
        }
        if !(self.atol.is_finite() && self.atol > 0.0) {
            return Err(CompareError::BadArgs(format!(
                "--atol must be a finite number > 0, got {}",
                self.atol
            )));
        }
        Ok(())
    }
}

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
    /// The JSON report cannot be written (exit 3).
    #[error("cannot write {}: {source}", path.display())]
    WriteJson {
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
            CompareError::WriteJson { .. } | CompareError::Internal(_) => 3,
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
    /// Hypotheses in each Benjamini–Hochberg family.
    pub tests: usize,
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

/// Compares the `runs.parquet` of two result folders.
pub fn compare_dirs(
    baseline: &Path,
    candidate: &Path,
    settings: &Settings,
) -> Result<CompareOutcome, CompareError> {
    settings.validate()?;
    let b = read_runs(baseline, "baseline")?;
    let c = read_runs(candidate, "candidate")?;
    let mut outcome = if settings.targets.is_empty() {
        compare_frames(&b, &c, settings)?
    } else {
        let bm = read_metrics(baseline, "baseline", &settings.targets)?;
        let cm = read_metrics(candidate, "candidate", &settings.targets)?;
        compare_frames_with_metrics(&b, &c, Some((&bm, &cm)), settings)?
    };
    if let CompareOutcome::Pass(r) | CompareOutcome::Regression(r) = &mut outcome {
        r.baseline = baseline.to_path_buf();
        r.candidate = candidate.to_path_buf();
    }
    Ok(outcome)
}

/// Opens `<dir>/<file>` for reading with a Parquet reader, or the error for that side; `missing`
/// says what it means that the file does not exist.
fn open_parquet(
    dir: &Path,
    file: &str,
    side: &'static str,
    missing: &str,
) -> Result<
    (
        ParquetReader<std::fs::File>,
        impl Fn(String) -> CompareError,
    ),
    CompareError,
> {
    let path = dir.join(file);
    let err = move |message: String| CompareError::Read {
        side,
        path: path.clone(),
        message,
    };
    match std::fs::File::open(dir.join(file)) {
        Ok(f) => Ok((ParquetReader::new(f), err)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(err(missing.into())),
        Err(e) => Err(err(e.to_string())),
    }
}

/// Reads `<dir>/runs.parquet`.
fn read_runs(dir: &Path, side: &'static str) -> Result<DataFrame, CompareError> {
    let (reader, err) = open_parquet(
        dir,
        RUNS_FILE,
        side,
        "no such file (is this a results folder?)",
    )?;
    reader
        .finish()
        .map_err(|e| err(format!("not a readable Parquet file: {e}")))
}

/// Reads the columns of `<dir>/metrics.parquet` that `targets` need (`run_id`, `step` and the
/// target metrics; missing ones are reported by the comparison as not comparable).
fn read_metrics(
    dir: &Path,
    side: &'static str,
    targets: &[Target],
) -> Result<DataFrame, CompareError> {
    let (mut reader, err) = open_parquet(
        dir,
        METRICS_FILE,
        side,
        "no such file (--target needs the metrics of every run)",
    )?;
    let schema = reader
        .schema()
        .map_err(|e| err(format!("not a readable Parquet file: {e}")))?;
    let mut wanted: Vec<String> = vec![RUN_ID.into(), STEP.into()];
    for t in targets {
        if !wanted.contains(&t.metric) {
            wanted.push(t.metric.clone());
        }
    }
    wanted.retain(|c| schema.contains(c.as_str()));
    reader
        .with_columns(Some(wanted))
        .finish()
        .map_err(|e| err(format!("not a readable Parquet file: {e}")))
}

/// A numeric column of a metrics frame as f64, or a reason it is missing or not numeric.
fn f64_column(df: &DataFrame, name: &str, side: &str) -> Result<Float64Chunked, String> {
    let col = df
        .column(name)
        .map_err(|_| format!("the {side} {METRICS_FILE} has no `{name}` column"))?;
    if !(col.dtype().is_primitive_numeric() || col.dtype().is_null()) {
        return Err(format!(
            "column `{name}` of the {side} {METRICS_FILE} is {}, not a number",
            col.dtype()
        ));
    }
    col.cast(&DataType::Float64)
        .and_then(|c| c.f64().cloned())
        .map_err(|e| format!("column `{name}` ({side} {METRICS_FILE}): {e}"))
}

/// Steps to each target for every run of `run_ids` (the order of the runs table), from a
/// metrics frame: `Some(step)` of the first row (lowest step) that reaches the target,
/// `Some(+∞)` when the run has values of the metric but none reaches it, `None` when it has no
/// value of the metric at all. Rows of runs not in `run_ids` are ignored.
fn steps_to_targets(
    df: &DataFrame,
    side: &str,
    run_ids: &[String],
    targets: &[Target],
) -> Result<Vec<Vec<Option<f64>>>, Vec<String>> {
    let mut problems = Vec::new();
    let ids = match df.column(RUN_ID).map(|c| c.str()) {
        Ok(Ok(ca)) => Some(ca),
        Ok(Err(_)) => {
            problems.push(format!(
                "column `{RUN_ID}` of the {side} {METRICS_FILE} is not text"
            ));
            None
        }
        Err(_) => {
            problems.push(format!(
                "the {side} {METRICS_FILE} has no `{RUN_ID}` column"
            ));
            None
        }
    };
    let step = f64_column(df, STEP, side)
        .map_err(|e| problems.push(e))
        .ok();
    let values: Vec<Option<Float64Chunked>> = targets
        .iter()
        .map(|t| {
            f64_column(df, &t.metric, side)
                .map_err(|e| problems.push(e))
                .ok()
        })
        .collect();
    let (Some(ids), Some(step)) = (ids, step) else {
        return Err(problems);
    };
    let Some(values) = values.into_iter().collect::<Option<Vec<_>>>() else {
        return Err(problems);
    };

    let index: HashMap<&str, usize> = run_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let n = run_ids.len();
    // Per target: whether each run has a value, and the first step reaching the target.
    let mut seen = vec![vec![false; n]; targets.len()];
    let mut first = vec![vec![f64::INFINITY; n]; targets.len()];
    let mut value_iters: Vec<_> = values.iter().map(|ca| ca.iter()).collect();
    // Rows come grouped by run: look the id up only when it changes.
    let mut last: Option<(&str, Option<usize>)> = None;
    for (id, st) in ids.iter().zip(step.iter()) {
        let vals: Vec<Option<f64>> = value_iters
            .iter_mut()
            .map(|it| it.next().flatten())
            .collect();
        let Some(id) = id else { continue };
        let run = match last {
            Some((prev, run)) if prev == id => run,
            _ => {
                let run = index.get(id).copied();
                last = Some((id, run));
                run
            }
        };
        let (Some(run), Some(st)) = (run, st) else {
            continue;
        };
        for (t, v) in vals.into_iter().enumerate() {
            let Some(v) = v else { continue };
            seen[t][run] = true;
            if targets[t].reached(v) && st < first[t][run] {
                first[t][run] = st;
            }
        }
    }
    Ok(seen
        .into_iter()
        .zip(first)
        .map(|(seen, first)| {
            seen.into_iter()
                .zip(first)
                .map(|(s, f)| s.then_some(f))
                .collect()
        })
        .collect())
}

/// The columns of one side, extracted once.
struct Side {
    run_id: Vec<String>,
    cell_id: Vec<String>,
    seed: Vec<u64>,
    status: Vec<u8>,
    desc: Vec<String>,
    /// Per selected metric, per run.
    metrics: Vec<Vec<Option<f64>>>,
}

fn status_rank(s: &str) -> Option<u8> {
    match s {
        STATUS_OK => Some(0),
        STATUS_DIVERGED => Some(1),
        STATUS_FAILED => Some(2),
        _ => None,
    }
}

fn status_name(rank: u8) -> &'static str {
    match rank {
        0 => STATUS_OK,
        1 => STATUS_DIVERGED,
        _ => STATUS_FAILED,
    }
}

fn str_column(
    df: &DataFrame,
    name: &str,
    side: &str,
    problems: &mut Vec<String>,
) -> Vec<Option<String>> {
    match df.column(name) {
        Err(_) => {
            problems.push(format!("the {side} runs.parquet has no `{name}` column"));
            Vec::new()
        }
        Ok(col) => match col.str() {
            Ok(ca) => ca.iter().map(|v| v.map(str::to_owned)).collect(),
            Err(_) => {
                problems.push(format!(
                    "column `{name}` of the {side} runs.parquet is {}, not text",
                    col.dtype()
                ));
                Vec::new()
            }
        },
    }
}

impl Side {
    fn extract(df: &DataFrame, side: &str, metrics: &[String]) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let run_id = str_column(df, RUN_ID, side, &mut problems);
        let cell_id = str_column(df, CELL_ID, side, &mut problems);
        let status = str_column(df, STATUS, side, &mut problems);
        let problem = str_column(df, PROBLEM, side, &mut problems);
        let label = str_column(df, LABEL, side, &mut problems);
        let dataset = match df.column(DATASET) {
            Ok(_) => str_column(df, DATASET, side, &mut problems),
            Err(_) => vec![None; df.height()],
        };
        let seed: Vec<Option<u64>> = match df.column(SEED) {
            Err(_) => {
                problems.push(format!("the {side} runs.parquet has no `{SEED}` column"));
                Vec::new()
            }
            Ok(col) if col.dtype().is_integer() => match col.cast(&DataType::UInt64) {
                Ok(c) => c.u64().map(|ca| ca.iter().collect()).unwrap_or_default(),
                Err(e) => {
                    problems.push(format!("column `{SEED}` of the {side} runs.parquet: {e}"));
                    Vec::new()
                }
            },
            Ok(col) => {
                problems.push(format!(
                    "column `{SEED}` of the {side} runs.parquet is {}, not an integer",
                    col.dtype()
                ));
                Vec::new()
            }
        };
        let mut metric_values = Vec::with_capacity(metrics.len());
        for m in metrics {
            match df.column(m) {
                Err(_) => problems.push(format!("the {side} runs.parquet has no `{m}` column")),
                Ok(col) if col.dtype().is_primitive_numeric() || col.dtype().is_null() => {
                    match col.cast(&DataType::Float64) {
                        Ok(c) => match c.f64() {
                            Ok(ca) => metric_values.push(ca.iter().collect()),
                            Err(e) => problems.push(format!("column `{m}` ({side}): {e}")),
                        },
                        Err(e) => problems.push(format!("column `{m}` ({side}): {e}")),
                    }
                }
                Ok(col) => problems.push(format!(
                    "column `{m}` of the {side} runs.parquet is {}, not a number",
                    col.dtype()
                )),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let n = df.height();
        let mut out = Side {
            run_id: Vec::with_capacity(n),
            cell_id: Vec::with_capacity(n),
            seed: Vec::with_capacity(n),
            status: Vec::with_capacity(n),
            desc: Vec::with_capacity(n),
            metrics: metric_values,
        };
        for i in 0..n {
            let (Some(cell), Some(s)) = (cell_id[i].clone(), seed[i]) else {
                problems.push(format!(
                    "row {i} of the {side} runs.parquet (run {}) has no cell_id or seed",
                    run_id[i].as_deref().unwrap_or("?")
                ));
                continue;
            };
            let Some(rank) = status[i].as_deref().and_then(status_rank) else {
                problems.push(format!(
                    "run {} of the {side} runs.parquet has status {:?}, not ok/diverged/failed",
                    run_id[i].as_deref().unwrap_or("?"),
                    status[i]
                ));
                continue;
            };
            let mut desc = problem[i].clone().unwrap_or_default();
            if let Some(d) = &dataset[i] {
                desc.push('/');
                desc.push_str(d);
            }
            if let Some(l) = &label[i] {
                desc.push(' ');
                desc.push_str(l);
            }
            out.run_id.push(run_id[i].clone().unwrap_or_default());
            out.cell_id.push(cell);
            out.seed.push(s);
            out.status.push(rank);
            out.desc.push(desc);
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            problems.truncate(5);
            Err(problems)
        }
    }

    fn key(&self, i: usize) -> (&str, u64) {
        (&self.cell_id[i], self.seed[i])
    }

    fn describe(&self, i: usize) -> String {
        format!(
            "{} seed {} (cell {})",
            self.desc[i],
            self.seed[i],
            short(&self.cell_id[i])
        )
    }
}

fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// How many examples a "missing" message lists.
const SHOW: usize = 5;

fn list_missing(what: &str, items: &[String]) -> String {
    let mut s = format!("{} {what}", items.len());
    s.push_str(": ");
    s.push_str(&items[..items.len().min(SHOW)].join(", "));
    if items.len() > SHOW {
        s.push_str(", ...");
    }
    s
}

/// Compares two runs tables (as read from runs.parquet); see the module docs. Settings with
/// targets need the metrics tables too: use [`compare_frames_with_metrics`].
pub fn compare_frames(
    baseline: &DataFrame,
    candidate: &DataFrame,
    settings: &Settings,
) -> Result<CompareOutcome, CompareError> {
    compare_frames_with_metrics(baseline, candidate, None, settings)
}

/// Compares two runs tables, with the `(baseline, candidate)` metrics tables (as read from
/// metrics.parquet; at least `run_id`, `step` and the target metrics) for the steps-to-target
/// metrics of `settings.targets`.
pub fn compare_frames_with_metrics(
    baseline: &DataFrame,
    candidate: &DataFrame,
    metrics_frames: Option<(&DataFrame, &DataFrame)>,
    settings: &Settings,
) -> Result<CompareOutcome, CompareError> {
    settings.validate()?;
    let metrics = &settings.metrics;
    let (mut b, mut c) = match (
        Side::extract(baseline, "baseline", metrics),
        Side::extract(candidate, "candidate", metrics),
    ) {
        (Ok(b), Ok(c)) => (b, c),
        (b, c) => {
            let mut reasons = b.err().unwrap_or_default();
            reasons.extend(c.err().unwrap_or_default());
            return Ok(CompareOutcome::NotComparable(reasons));
        }
    };
    let targets = &settings.targets;
    if !targets.is_empty() {
        let Some((bm, cm)) = metrics_frames else {
            return Err(CompareError::BadArgs(
                "--target needs the metrics tables (metrics.parquet) of both sides".into(),
            ));
        };
        match (
            steps_to_targets(bm, "baseline", &b.run_id, targets),
            steps_to_targets(cm, "candidate", &c.run_id, targets),
        ) {
            (Ok(bt), Ok(ct)) => {
                b.metrics.extend(bt);
                c.metrics.extend(ct);
            }
            (bt, ct) => {
                let mut reasons = bt.err().unwrap_or_default();
                reasons.extend(ct.err().unwrap_or_default());
                return Ok(CompareOutcome::NotComparable(reasons));
            }
        }
    }
    // Every compared metric: runs.parquet's, then the steps-to-target ones (`Some(target)`).
    let all_metrics: Vec<(String, Option<&Target>)> = metrics
        .iter()
        .map(|m| (m.clone(), None))
        .chain(targets.iter().map(|t| (t.name(), Some(t))))
        .collect();

    // Pair runs by (cell_id, seed).
    let mut reasons = Vec::new();
    let mut c_index: HashMap<(&str, u64), usize> = HashMap::with_capacity(c.seed.len());
    let mut dup = Vec::new();
    for i in 0..c.seed.len() {
        if c_index.insert(c.key(i), i).is_some() {
            dup.push(c.describe(i));
        }
    }
    if !dup.is_empty() {
        reasons.push(list_missing("duplicated runs in the candidate", &dup));
    }
    let mut b_seen: HashMap<(&str, u64), usize> = HashMap::with_capacity(b.seed.len());
    let mut dup = Vec::new();
    let mut missing = Vec::new();
    let mut cell_order: Vec<&str> = Vec::new();
    let mut cell_pairs: HashMap<&str, Vec<(usize, usize)>> = HashMap::new();
    for i in 0..b.seed.len() {
        if b_seen.insert(b.key(i), i).is_some() {
            dup.push(b.describe(i));
            continue;
        }
        match c_index.get(&b.key(i)) {
            None => missing.push(b.describe(i)),
            Some(&j) => {
                let cell = b.cell_id[i].as_str();
                cell_pairs
                    .entry(cell)
                    .or_insert_with(|| {
                        cell_order.push(cell);
                        Vec::new()
                    })
                    .push((i, j));
            }
        }
    }
    if !dup.is_empty() {
        reasons.push(list_missing("duplicated runs in the baseline", &dup));
    }
    if !missing.is_empty() {
        reasons.push(list_missing(
            "baseline runs have no candidate run with the same cell and seed",
            &missing,
        ));
    }
    let extra: Vec<String> = (0..c.seed.len())
        .filter(|&j| !b_seen.contains_key(&c.key(j)))
        .map(|j| c.describe(j))
        .collect();
    if !extra.is_empty() {
        reasons.push(list_missing(
            "candidate runs are not in the baseline",
            &extra,
        ));
    }
    if !reasons.is_empty() {
        if !missing.is_empty() || !extra.is_empty() {
            reasons.push(
                "the two folders were not run from the same plan (experiment file, --set \
                 overrides or seeds differ), or a sweep is incomplete"
                    .into(),
            );
        }
        return Ok(CompareOutcome::NotComparable(reasons));
    }

    let mut rows: Vec<Row> = Vec::new();
    // Indices into `rows` of tested rows, with their w vectors' p-values.
    let mut tested: Vec<usize> = Vec::new();
    let mut null_mismatch: Vec<String> = Vec::new();
    // Tested steps-to-target rows with seeds that reach the target only in the candidate.
    let mut gained_rows: Vec<usize> = Vec::new();
    let mut runs = 0;
    for cell in &cell_order {
        let mut pairs = cell_pairs[cell].clone();
        pairs.sort_by_key(|&(i, _)| b.seed[i]);
        runs += pairs.len();
        let (i0, _) = pairs[0];
        let desc = &b.desc[i0];

        // Status changes.
        let mut worse = Vec::new();
        let mut better = Vec::new();
        for &(i, j) in &pairs {
            let (sb, sc) = (b.status[i], c.status[j]);
            let note = format!(
                "seed {}: {} → {}",
                b.seed[i],
                status_name(sb),
                status_name(sc)
            );
            if sc > sb {
                worse.push(note);
            } else if sc < sb {
                better.push(note);
            }
        }
        if !worse.is_empty() || !better.is_empty() {
            let verdict = if worse.is_empty() {
                Verdict::Improvement
            } else {
                Verdict::Regression
            };
            let mut notes = worse.clone();
            notes.extend(better.iter().cloned());
            rows.push(Row {
                cell_id: cell.to_string(),
                cell: desc.clone(),
                metric: STATUS.to_string(),
                verdict,
                seeds: pairs.len(),
                baseline_median: None,
                candidate_median: None,
                median_change: None,
                worse_seeds: worse.len(),
                better_seeds: better.len(),
                p_worse: None,
                p_worse_adjusted: None,
                p_better: None,
                p_better_adjusted: None,
                note: Some(notes.join("; ")),
            });
        }

        // Metrics over seeds that are ok on both sides.
        for (k, (metric, target)) in all_metrics.iter().enumerate() {
            let sign = match metric_direction(metric) {
                Some(Direction::HigherIsBetter) => -1.0,
                _ => 1.0,
            };
            let (bv, cv) = (&b.metrics[k], &c.metrics[k]);
            let mut base = Vec::with_capacity(pairs.len());
            let mut cand = Vec::with_capacity(pairs.len());
            let mut pair_seeds = Vec::with_capacity(pairs.len());
            for &(i, j) in &pairs {
                if b.status[i] != 0 || c.status[j] != 0 {
                    continue;
                }
                match (bv[i], cv[j]) {
                    // Steps to target: finite or +inf (not reached).
                    (Some(x), Some(y)) if target.is_some() => {
                        base.push(x);
                        cand.push(y);
                        pair_seeds.push(b.seed[i]);
                    }
                    (Some(x), Some(y)) if x.is_finite() && y.is_finite() => {
                        base.push(x);
                        cand.push(y);
                        pair_seeds.push(b.seed[i]);
                    }
                    (None, None) => {}
                    (Some(x), Some(y)) if !x.is_finite() && !y.is_finite() => {}
                    (x, y) => null_mismatch.push(format!(
                        "{metric} of {} seed {} is {} in the baseline and {} in the candidate",
                        desc,
                        b.seed[i],
                        fmt_opt(x),
                        fmt_opt(y)
                    )),
                }
            }
            if base.is_empty() {
                continue;
            }
            let identical = base
                .iter()
                .zip(&cand)
                .all(|(x, y)| x.to_bits() == y.to_bits());
            let mut row = Row {
                cell_id: cell.to_string(),
                cell: desc.clone(),
                metric: metric.clone(),
                verdict: Verdict::Unchanged,
                seeds: base.len(),
                baseline_median: stats::median(&base),
                candidate_median: stats::median(&cand),
                median_change: Some(0.0),
                worse_seeds: 0,
                better_seeds: 0,
                p_worse: None,
                p_worse_adjusted: None,
                p_better: None,
                p_better_adjusted: None,
                note: None,
            };
            if identical {
                rows.push(row);
                continue;
            }
            // Paired relative changes, positive = worse. Steps to target: seeds that reached the
            // target on one side only are set apart (`lost`: regression; `gained`: improvement),
            // not reached on both sides is an unchanged pair, and the floor is one step.
            let floor = if target.is_some() { 1.0 } else { settings.atol };
            let mut w = Vec::with_capacity(base.len());
            let (mut lost, mut gained) = (Vec::new(), Vec::new());
            for ((x, y), seed) in base.iter().zip(&cand).zip(&pair_seeds) {
                if x.to_bits() == y.to_bits() {
                    w.push(0.0);
                } else if x.is_finite() && !y.is_finite() {
                    lost.push(format!("seed {seed}: step {x} → not reached"));
                } else if !x.is_finite() && y.is_finite() {
                    gained.push(format!("seed {seed}: not reached → step {y}"));
                } else {
                    w.push(sign * (y - x) / x.abs().max(floor));
                }
            }
            row.median_change = stats::median(&w).or(Some(0.0));
            row.worse_seeds = lost.len() + w.iter().filter(|v| **v > settings.min_effect).count();
            row.better_seeds =
                gained.len() + w.iter().filter(|v| **v < -settings.min_effect).count();
            if !lost.is_empty() || !gained.is_empty() {
                let mut notes = lost.clone();
                notes.extend(gained.iter().cloned());
                row.note = Some(format!("{} (target)", notes.join("; ")));
            }
            if !lost.is_empty() {
                row.verdict = Verdict::Regression;
                rows.push(row);
                continue;
            }
            if w.iter().all(|v| *v == 0.0) {
                // Only seeds that newly reach the target moved.
                row.verdict = Verdict::Improvement;
                rows.push(row);
                continue;
            }
            let method = WilcoxonMethod::Auto { correction: true };
            let pw = stats::wilcoxon_signed_rank(&w, Alternative::Greater, method)
                .map_err(|e| CompareError::Internal(e.to_string()))?;
            let pb = stats::wilcoxon_signed_rank(&w, Alternative::Less, method)
                .map_err(|e| CompareError::Internal(e.to_string()))?;
            row.p_worse = Some(pw.p_value);
            row.p_better = Some(pb.p_value);
            if !gained.is_empty() {
                gained_rows.push(rows.len());
            }
            tested.push(rows.len());
            rows.push(row);
        }
    }
    if !null_mismatch.is_empty() {
        return Ok(CompareOutcome::NotComparable(vec![list_missing(
            "values are present on one side only",
            &null_mismatch,
        )]));
    }

    // Benjamini–Hochberg over the tested rows, separately for each direction.
    let pw: Vec<f64> = tested
        .iter()
        .map(|&r| rows[r].p_worse.unwrap_or(1.0))
        .collect();
    let pb: Vec<f64> = tested
        .iter()
        .map(|&r| rows[r].p_better.unwrap_or(1.0))
        .collect();
    let aw = stats::benjamini_hochberg(&pw).map_err(|e| CompareError::Internal(e.to_string()))?;
    let ab = stats::benjamini_hochberg(&pb).map_err(|e| CompareError::Internal(e.to_string()))?;
    for (t, &r) in tested.iter().enumerate() {
        let row = &mut rows[r];
        row.p_worse_adjusted = Some(aw[t]);
        row.p_better_adjusted = Some(ab[t]);
        let m = row.median_change.unwrap_or(0.0);
        let n = row.seeds;
        row.verdict = if m > settings.min_effect {
            if aw[t] <= settings.fdr || row.worse_seeds == n {
                Verdict::Regression
            } else {
                Verdict::UnderpoweredRegression
            }
        } else if m < -settings.min_effect {
            if ab[t] <= settings.fdr || row.better_seeds == n {
                Verdict::Improvement
            } else {
                Verdict::UnderpoweredImprovement
            }
        } else {
            Verdict::WithinTolerance
        };
        // A seed that newly reaches the target is an improvement unless the others got worse.
        if gained_rows.contains(&r)
            && !matches!(
                row.verdict,
                Verdict::Regression | Verdict::UnderpoweredRegression
            )
        {
            row.verdict = Verdict::Improvement;
        }
    }

    // Worst first, stable within a verdict (baseline cell order).
    rows.sort_by_key(|r| r.verdict);
    let mut counts = Counts::default();
    for r in &rows {
        *match r.verdict {
            Verdict::Regression => &mut counts.regression,
            Verdict::UnderpoweredRegression => &mut counts.underpowered_regression,
            Verdict::UnderpoweredImprovement => &mut counts.underpowered_improvement,
            Verdict::Improvement => &mut counts.improvement,
            Verdict::WithinTolerance => &mut counts.within_tolerance,
            Verdict::Unchanged => &mut counts.unchanged,
        } += 1;
    }
    let failed =
        counts.regression > 0 || (settings.fail_underpowered && counts.underpowered_regression > 0);
    let report = Box::new(Report {
        outcome: if failed { "regression" } else { "pass" },
        baseline: PathBuf::new(),
        candidate: PathBuf::new(),
        runs,
        cells: cell_order.len(),
        settings: settings.clone(),
        tests: tested.len(),
        counts,
        rows,
    });
    Ok(if failed {
        CompareOutcome::Regression(report)
    } else {
        CompareOutcome::Pass(report)
    })
}

fn fmt_opt(v: Option<f64>) -> String {
    match v {
        None => "null".into(),
        Some(x) => format!("{x}"),
    }
}

/// A number in a few significant digits.
fn num(x: Option<f64>) -> String {
    match x {
        None => "–".into(),
        Some(v) if v.is_infinite() && v > 0.0 => "not reached".into(),
        Some(0.0) => "0".into(),
        Some(v) if (1e-3..1e5).contains(&v.abs()) => format!("{v:.4}"),
        Some(v) => format!("{v:.3e}"),
    }
}

fn pct(x: Option<f64>) -> String {
    match x {
        None => "–".into(),
        Some(v) if v > 0.0 => format!("{:.1}% worse", 100.0 * v),
        Some(v) if v < 0.0 => format!("{:.1}% better", -100.0 * v),
        Some(_) => "0%".into(),
    }
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The Markdown report (`all`: include unchanged and within-tolerance rows).
pub fn render_markdown(outcome: &CompareOutcome, all: bool) -> String {
    let mut s = String::new();
    let r = match outcome {
        CompareOutcome::NotComparable(reasons) => {
            s.push_str("## optbench compare: not comparable\n\n");
            for reason in reasons {
                let _ = writeln!(s, "- {}", md_escape(reason));
            }
            return s;
        }
        CompareOutcome::Pass(r) | CompareOutcome::Regression(r) => r,
    };
    let c = &r.counts;
    let _ = writeln!(
        s,
        "## optbench compare: {}\n",
        if r.outcome == "pass" {
            "pass"
        } else {
            "REGRESSION"
        }
    );
    let _ = writeln!(
        s,
        "Baseline `{}` vs candidate `{}`: {} paired runs in {} cells; metrics {}.  ",
        r.baseline.display(),
        r.candidate.display(),
        r.runs,
        r.cells,
        r.settings
            .metrics
            .iter()
            .cloned()
            .chain(r.settings.targets.iter().map(Target::name))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        s,
        "Minimum effect {}% (median paired relative change, floor {:e}{}); one-sided Wilcoxon \
         signed-rank over seeds, Benjamini–Hochberg at FDR {} over {} changed cell-metrics.\n",
        100.0 * r.settings.min_effect,
        r.settings.atol,
        if r.settings.targets.is_empty() {
            ""
        } else {
            ", 1 step for steps to target"
        },
        r.settings.fdr,
        r.tests
    );
    let _ = writeln!(
        s,
        "{} regressions, {} underpowered worse, {} underpowered better, {} improvements, \
         {} within tolerance, {} unchanged.\n",
        c.regression,
        c.underpowered_regression,
        c.underpowered_improvement,
        c.improvement,
        c.within_tolerance,
        c.unchanged
    );
    let shown: Vec<&Row> = r
        .rows
        .iter()
        .filter(|row| all || !matches!(row.verdict, Verdict::Unchanged | Verdict::WithinTolerance))
        .collect();
    if shown.is_empty() {
        return s;
    }
    s.push_str(
        "| verdict | cell | metric | seeds | baseline median | candidate median | median change \
         | worse / better seeds | p (BH) |\n|---|---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in shown {
        let p = match row.median_change {
            Some(m) if m < 0.0 => row.p_better_adjusted,
            _ => row.p_worse_adjusted,
        };
        let change = match &row.note {
            Some(note) => note.clone(),
            None => pct(row.median_change),
        };
        let _ = writeln!(
            s,
            "| {} | {} `{}` | {} | {} | {} | {} | {} | {} / {} | {} |",
            row.verdict.text(),
            md_escape(&row.cell),
            short(&row.cell_id),
            row.metric,
            row.seeds,
            num(row.baseline_median),
            num(row.candidate_median),
            md_escape(&change),
            row.worse_seeds,
            row.better_seeds,
            p.map(|p| format!("{p:.3}")).unwrap_or_else(|| "–".into())
        );
    }
    s
}

/// The JSON report: `{"outcome": "pass" | "regression" | "not_comparable", ...}`.
pub fn render_json(outcome: &CompareOutcome) -> String {
    let value = match outcome {
        CompareOutcome::Pass(r) | CompareOutcome::Regression(r) => {
            serde_json::to_value(r.as_ref()).unwrap_or_default()
        }
        CompareOutcome::NotComparable(reasons) => serde_json::json!({
            "outcome": "not_comparable",
            "reasons": reasons,
        }),
    };
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}
