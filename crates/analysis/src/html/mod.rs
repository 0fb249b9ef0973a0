//! `report.html`: one self-contained, interactive page of a results folder (`optbench report DIR`
//! writes it next to `report.md`; `--html` writes it alone).
//!
//! The page needs no network when it is viewed: the charting library, [uPlot] 1.6.32 (MIT,
//! vendored from npm under `crates/analysis/assets/uplot/` with its licence), the page's own
//! script and style ([`page`]), the data and the static figures are all inline, and a
//! Content-Security-Policy forbids any request. It shows:
//!
//! - the summary tables of `report.md` ([`crate::report::tables`]), sortable by any column;
//! - per problem variant, a convergence chart: per configuration the mean over seeds (line) and
//!   min–max over seeds (band), with the value under the cursor on hover; optimizers and single
//!   configurations switch on and off; the metric (train loss, test loss, test accuracy), the x
//!   quantity (step, epoch, examples seen, wall time) and log or linear axes are chosen above
//!   the charts;
//! - the learning-rate sensitivity figures of [`crate::plot::sensitivity`] as interactive charts;
//! - the figures in `plots/`, if any, each as the smaller of its PNG and SVG, up to a size
//!   budget ([`figures`]).
//!
//! # Data
//!
//! One JSON object in `<script type="application/json" id="optbench-data">` ([`payload`]):
//! `optimizers` (`name`, `color`), `metrics` and `xs` (the choices), `grids` (shared lists of
//! kept steps), `problems[]` with `configs[]` (`label`, `cell` (its `cell_id`), `opt`, `color`, `dash`, `seeds`,
//! `best`, `g` = index of its step list, `x.{epoch,examples,time}` = a number `a` meaning
//! `a × step` or one value per kept step, `y.<metric>.{m,lo,hi}` = mean, min and max over seeds
//! per kept step, `lo`/`hi` absent when the seeds agree), and `lr[]` (the sensitivity figures'
//! panels and lines). To stay small:
//!
//! - a configuration with more than [`downsample::MAX_POINTS`] recorded steps keeps that many,
//!   selected (never averaged) half evenly and half geometrically in index ([`downsample`]);
//! - means keep [`series::MEAN_DIGITS`] significant digits, band edges [`series::BAND_DIGITS`],
//!   x values [`series::X_DIGITS`], wall times [`series::TIME_DIGITS`]; missing values are
//!   `null`;
//! - figures are embedded smallest first up to [`figures::FIGURE_BUDGET`] bytes;
//! - epochs and examples seen at a fixed batch size are stored as one factor on the step.
//!
//! A 1,000-run sweep gives a page of a few MB at most (`scripts/bench_html_report.sh` measures
//! size and speed). Tests of the page in headless Chromium: `crates/cli/tests/html_report.rs`.
//!
//! [uPlot]: https://github.com/leeoniya/uPlot

pub mod downsample;
pub mod figures;
pub mod page;
pub mod payload;
pub mod series;
pub mod tables;

use std::path::{Path, PathBuf};

use crate::plot::data::{self, DataError, SelectBy, Status};
use crate::plot::{Context, PlotOptions, sensitivity, style};
use crate::report;

/// File name of the page inside the results folder.
pub const HTML_FILE: &str = "report.html";

/// Why `report.html` could not be written; names the file.
#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("{path} holds no runs to report")]
    NoRuns { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode the data of {path} as JSON: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
}

/// Writes `dir/report.html`, selecting each optimizer's best configuration by final train loss;
/// returns its path.
pub fn write_html_report(dir: &Path) -> Result<PathBuf, HtmlError> {
    write_html_report_with(dir, SelectBy::FinalTrainLoss)
}

/// Writes `dir/report.html`, selecting best configurations by `select_by`.
pub fn write_html_report_with(dir: &Path, select_by: SelectBy) -> Result<PathBuf, HtmlError> {
    let runs = data::read_runs(dir)?;
    if runs.is_empty() {
        return Err(HtmlError::NoRuns {
            path: dir.join("runs.parquet"),
        });
    }
    let metrics = data::read_metrics(dir)?;
    let palette = style::Palette::new(runs.iter().map(|r| r.optimizer.as_str()));
    let groups = data::group_runs(&runs, &palette);
    let opts = PlotOptions {
        select_by,
        ..PlotOptions::default()
    };
    let ctx = Context {
        runs: &runs,
        metrics: &metrics,
        groups: &groups,
        palette: &palette,
        opts: &opts,
    };
    let path = dir.join(HTML_FILE);
    let title = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| dir.display().to_string());
    let lr_figures = sensitivity::figures(&ctx);
    let payload = payload::build(title.clone(), &runs, &metrics, &ctx, &lr_figures);
    let json = serde_json::to_string(&payload).map_err(|source| HtmlError::Json {
        path: path.clone(),
        source,
    })?;
    let tables = tables::html(&report::tables(&runs, select_by), select_by.describe());
    let figures = figures::html(&figures::files(&dir.join("plots"))?, figures::FIGURE_BUDGET)?;
    let count = |s: Status| runs.iter().filter(|r| r.status == s).count();
    let meta = format!(
        "{} runs ({} ok, {} diverged, {} failed) in {} problem variant(s)",
        runs.len(),
        count(Status::Ok),
        count(Status::Diverged),
        count(Status::Failed),
        groups.len()
    );
    let html = page::render(&page::Parts {
        title: &title,
        meta: &meta,
        json: &json,
        tables: &tables,
        figures: &figures,
        has_lr: !lr_figures.is_empty(),
    });
    std::fs::write(&path, html).map_err(|source| HtmlError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
