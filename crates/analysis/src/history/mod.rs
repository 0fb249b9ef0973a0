//! Regression tracking over time: a history store of results, trend figures and change points
//! (`optbench history add` and `optbench history show`).
//!
//! # The store
//!
//! A folder of Parquet files, one per added result, named after its commit
//! (`optbench_results::history` has the layout, the columns and how files are written
//! atomically, so concurrent CI jobs never rewrite a shared file). [`add::add`] summarises a
//! results folder per (cell, metric) over its seeds: median, quartiles (linear interpolation,
//! [`crate::stats::quantile`]), the number of runs with status ok and a finite value, and the
//! cell's diverged and failed counts, for every metric of [`HISTORY_METRICS`] a cell has. The
//! provenance comes from the folder's `manifest.json` (`git_commit`, `start_time`, `rustc`,
//! `cpu`, ...), `--commit`/`--date` override it (back-filling, tests) and `--label key=value`
//! adds to it. Adding a commit already in the store is refused unless `--replace`.
//!
//! # Showing it
//!
//! [`show`] orders the store's results by date (then commit name) and, for each series (the
//! cell without its learning rate, [`identity`]) and metric, finds the change points of the per-commit medians ([`changepoint`]: asv's
//! penalised L1 step fit, exact dynamic programming, documented false-positive rate; steps
//! within the minimum effect of `compare`, 5 % or 10 % for speed metrics, are merged). It
//! writes `changes.md` and `changes.json` (the table of change points; the Markdown also goes
//! to stdout) and the trend figures ([`trend`]) into the output folder.

pub mod add;
pub mod changepoint;
pub mod changes;
pub mod identity;
pub mod series;
pub mod trend;

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::compare::KNOWN_METRICS;
use crate::plot::{FigureSize, Formats, PlotError};
use optbench_results::history::HistoryStoreError;

pub use add::{AddOptions, Added, add};
pub use changes::{ChangePoint, ChangeSettings};

/// The metrics summarised per cell (those a cell has), in this order: every metric `compare`
/// knows.
pub const HISTORY_METRICS: [&str; 6] = KNOWN_METRICS;

/// The Markdown table of change points.
pub const CHANGES_MD: &str = "changes.md";
/// The JSON report.
pub const CHANGES_JSON: &str = "changes.json";

/// What went wrong in `history add` or `history show`.
#[derive(Debug, Error)]
pub enum HistoryError {
    /// Invalid options or a results folder without a commit or date (exit 2).
    #[error("{0}")]
    BadArgs(String),
    /// The results folder cannot be read (exit 2).
    #[error("cannot read {}: {message}", path.display())]
    Results {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The result cannot be added (exit 2 for a commit already there or a bad commit name,
    /// 3 for I/O).
    #[error(transparent)]
    Add(HistoryStoreError),
    /// The store cannot be read (exit 2).
    #[error("cannot read the history store: {0}")]
    Read(HistoryStoreError),
    /// The store holds no result (with the labels asked for) (exit 2).
    #[error("the history store {} holds no result{}", store.display(), if *filtered { " with these labels" } else { "" })]
    Empty {
        /// The store.
        store: PathBuf,
        /// Whether labels filtered the results.
        filtered: bool,
    },
    /// Drawing a figure failed (exit 3).
    #[error(transparent)]
    Plot(PlotError),
    /// The report cannot be written (exit 3).
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// What `history show` draws and reports.
#[derive(Clone, Debug, PartialEq)]
pub struct ShowOptions {
    /// The output folder.
    pub out: PathBuf,
    /// Only these metrics (empty: every metric in the store).
    pub metrics: Vec<String>,
    /// Only results with these labels.
    pub labels: Vec<(String, String)>,
    /// How change points are found.
    pub changes: ChangeSettings,
    /// Figure width.
    pub size: FigureSize,
    /// Figure files.
    pub format: Formats,
}

/// What `history show` wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Shown {
    /// Commits shown.
    pub commits: usize,
    /// Series (cell × metric).
    pub series: usize,
    /// The change points found.
    pub changes: Vec<ChangePoint>,
    /// The Markdown table (also in `changes.md`).
    pub markdown: String,
    /// Every file written, sorted.
    pub files: Vec<PathBuf>,
}

/// Reads the store and writes the change-point tables and the trend figures into `opts.out`.
pub fn show(store: &Path, opts: &ShowOptions) -> Result<Shown, HistoryError> {
    for m in &opts.metrics {
        if !HISTORY_METRICS.contains(&m.as_str()) {
            return Err(HistoryError::BadArgs(format!(
                "unknown metric `{m}` (history metrics: {})",
                HISTORY_METRICS.join(", ")
            )));
        }
    }
    let s = &opts.changes;
    let non_negative = |x: f64| x.is_finite() && x >= 0.0;
    let valid = non_negative(s.beta)
        && non_negative(s.min_effect)
        && non_negative(s.speed_min_effect)
        && s.atol.is_finite()
        && s.atol > 0.0;
    if !valid {
        return Err(HistoryError::BadArgs(format!(
            "--penalty, --min-effect and --speed-min-effect must be finite and >= 0, --atol > 0 \
             (got {s:?})"
        )));
    }
    let mut history = series::load(store, &opts.labels)?;
    if history.commits.is_empty() {
        return Err(HistoryError::Empty {
            store: store.to_path_buf(),
            filtered: !opts.labels.is_empty(),
        });
    }
    if !opts.metrics.is_empty() {
        history.series.retain(|s| opts.metrics.contains(&s.metric));
    }
    let changes = changes::find_change_points(&history, &opts.changes);
    let markdown = changes::render_markdown(&history, &changes, &opts.changes);
    let json = changes::render_json(&history, &changes, &opts.changes);
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| HistoryError::Write { path, source }
    };
    std::fs::create_dir_all(&opts.out).map_err(write_err(&opts.out))?;
    let figures = trend::figures(&history, &changes);
    let mut files = trend::write_figures(&opts.out, &figures, opts.size, &opts.format)?;
    for (name, text) in [(CHANGES_MD, &markdown), (CHANGES_JSON, &json)] {
        let path = opts.out.join(name);
        std::fs::write(&path, text).map_err(write_err(&path))?;
        files.push(path);
    }
    files.sort();
    Ok(Shown {
        commits: history.commits.len(),
        series: history.series.len(),
        changes,
        markdown,
        files,
    })
}
