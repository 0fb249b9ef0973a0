//! Figures drawn from a results folder's Parquet files alone (`optbench plot DIR`).
//!
//! [`plot_results`] reads `runs.parquet` and `metrics.parquet` and writes under `DIR/plots/`,
//! as PNG (300 dpi), SVG and PDF ([`output`]; `--format` chooses):
//!
//! - `convergence_<problem>[_bs<N>]`: train loss, test loss and test accuracy against `--x`
//!   (step, epoch, examples seen or wall time), one line per configuration: the mean over seeds,
//!   with a min–max band over seeds; log y for losses. One figure per problem variant, and per
//!   batch size when the grid varies it. `--metric` draws the metrics named instead (e.g. train
//!   and test accuracy); `--logx` puts the x axis on a log scale.
//! - `best_<problem>`: per optimizer setting (the label without `lr=`, so `sgd` and
//!   `sgd momentum=0.9` count separately), its configuration with the best mean `--select-by`
//!   (default final train loss; configurations with diverged seeds rank last).
//! - `lr_<problem>[_bs<N>]`: final train (and test) loss against the learning rate (log x), mean
//!   and min–max over the seeds that did not diverge; a diverged run is a × at the top edge.
//! - `trajectory_<problem>`: for two-parameter problems, each optimizer's path (`x0, x1` of the
//!   first seed of its best configuration) over contour lines of the objective.
//! - `noise_<problem>`: the mini-batch loss per step of `sgd` at each batch size in the grid
//!   (GD, SGD, mini-batch), and the update norm ‖θₜ − θₜ₋₁‖ per step of each optimizer's best
//!   configuration.
//!
//! `--size column` draws figures 3.25 in (975 px) wide, `page` 6.75 in (2025 px), 8–9 pt text
//! at 300 dpi; the height follows from the number of panels and legend rows. Text uses the bundled
//! DejaVu Sans ([`style`]), so no system font or fontconfig is needed. Colours are fixed per
//! optimizer name across every figure of a folder, and line styles differ per configuration.

pub mod axis;
pub mod best;
pub mod clip;
pub mod convergence;
pub mod data;
pub mod figure;
pub mod group;
pub mod noise;
pub mod output;
pub mod profile;
pub mod quantity;
pub mod render;
pub mod sensitivity;
pub mod smooth;
pub mod style;
pub mod synthetic;
pub mod trajectory;

pub use data::{DataError, Metric, SelectBy, XAxis};
pub use output::{Format, Formats};

use crate::compare::Target;
use figure::Figure;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Width of the figures.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[strum(serialize_all = "snake_case")]
pub enum FigureSize {
    /// 3.25 in (975 px at 300 dpi): one column of a two-column paper.
    #[default]
    Column,
    /// 6.75 in (2025 px at 300 dpi): the full text width.
    Page,
}

/// What to draw; `Default` is what `optbench run` draws.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PlotOptions {
    pub x: XAxis,
    /// `--metric`: the panels of the convergence figures, in order (empty: train loss, test
    /// loss and test accuracy, where recorded).
    pub metrics: Vec<Metric>,
    /// `--logx`: a logarithmic x axis on every per-step figure (else logarithmic only where
    /// runs' x extents differ by more than 10×); the step-0 row is then not drawn.
    pub x_log: bool,
    pub select_by: SelectBy,
    pub size: FigureSize,
    pub formats: Formats,
    /// `--profile METRIC=TARGET`: performance profiles and runtime ECDFs over every problem
    /// ([`profile`]), the cost being `x`.
    pub profiles: Vec<Target>,
}

/// Why figures could not be drawn; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("{path} holds no runs to plot")]
    NoRuns { path: PathBuf },
    #[error("the bundled font could not be loaded")]
    Font,
    #[error("cannot create {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot draw {path}: {message}")]
    Draw { path: PathBuf, message: String },
}

/// Everything a figure kind needs.
pub struct Context<'a> {
    pub runs: &'a [data::Run],
    pub metrics: &'a HashMap<String, data::Series>,
    pub groups: &'a [data::ProblemGroup],
    pub palette: &'a style::Palette,
    pub opts: &'a PlotOptions,
}

impl Context<'_> {
    /// Whether any run of the configurations recorded finite values of `metric`.
    pub fn has_metric(&self, configs: &[&data::Config], metric: Metric) -> bool {
        configs.iter().any(|c| {
            c.runs.iter().any(|&i| {
                self.metrics
                    .get(&self.runs[i].run_id)
                    .is_some_and(|s| metric.values(s).iter().any(|v| v.is_finite()))
            })
        })
    }
}

/// Readable batch size, e.g. `full (1000)` for the whole training set.
pub fn batch_label(bs: f64, full: Option<f64>) -> String {
    if !bs.is_finite() {
        return "n/a".into();
    }
    match full {
        Some(f) if (f - bs).abs() < 0.5 => format!("full ({})", bs as u64),
        _ => format!("{}", bs as u64),
    }
}

/// Everything a results folder's figures are drawn from.
pub struct Loaded {
    pub runs: Vec<data::Run>,
    pub metrics: HashMap<String, data::Series>,
    pub groups: Vec<data::ProblemGroup>,
    pub palette: style::Palette,
}

impl Loaded {
    /// The context of figures drawn with `opts`.
    pub fn context<'a>(&'a self, opts: &'a PlotOptions) -> Context<'a> {
        Context {
            runs: &self.runs,
            metrics: &self.metrics,
            groups: &self.groups,
            palette: &self.palette,
            opts,
        }
    }
}

/// Reads a results folder (runs, metrics) and groups its runs.
pub fn load(dir: &Path) -> Result<Loaded, PlotError> {
    if !style::register_font() {
        return Err(PlotError::Font);
    }
    let runs = data::read_runs(dir)?;
    if runs.is_empty() {
        return Err(PlotError::NoRuns {
            path: dir.join(optbench_results::OutputNames::new(None).runs),
        });
    }
    let metrics = data::read_metrics(dir)?;
    let palette = style::Palette::new(runs.iter().map(|r| r.optimizer.as_str()));
    let groups = data::group_runs(&runs, &palette);
    Ok(Loaded {
        runs,
        metrics,
        groups,
        palette,
    })
}

/// The figures of the results in `dir`, as data (not drawn).
pub fn figures(dir: &Path, opts: &PlotOptions) -> Result<Vec<Figure>, PlotError> {
    let l = load(dir)?;
    let ctx = l.context(opts);
    let mut figures: Vec<Figure> = Vec::new();
    figures.extend(convergence::figures(&ctx));
    figures.extend(best::figures(&ctx));
    figures.extend(sensitivity::figures(&ctx));
    figures.extend(trajectory::figures(&ctx));
    figures.extend(noise::figures(&ctx));
    figures.extend(profile::figures(&ctx, &opts.profiles));
    Ok(figures)
}

/// Reads the results in `dir` and writes every figure under `dir/plots/` in every format of
/// `opts.formats`; returns the files written, sorted.
pub fn plot_results(dir: &Path, opts: &PlotOptions) -> Result<Vec<PathBuf>, PlotError> {
    let figures = figures(dir, opts)?;
    write_figures(&dir.join("plots"), &figures, opts)
}

/// Writes figures under `out` (created if missing), in parallel; returns the files, sorted.
pub fn write_figures(
    out: &Path,
    figures: &[Figure],
    opts: &PlotOptions,
) -> Result<Vec<PathBuf>, PlotError> {
    std::fs::create_dir_all(out).map_err(|source| PlotError::Io {
        path: out.to_owned(),
        source,
    })?;
    let page = opts.size == FigureSize::Page;
    let written = figures
        .par_iter()
        .map(|fig| output::write_figure(out, fig, page, &opts.formats))
        .collect::<Result<Vec<_>, _>>()?;
    let mut files: Vec<PathBuf> = written.into_iter().flatten().collect();
    files.sort();
    Ok(files)
}
