//! Trend figures: per problem and metric, one panel per cell with the per-commit median (line)
//! and interquartile range (band) against the commit's position, oldest first, drawn with the
//! plot module's figure model, style and renderer (same fonts, sizes, colours, formats, and the
//! same clipping of values outside the range of the runs that did not diverge).
//!
//! Change points are marked with a black `+` at the first commit of the new level; commits at
//! which some seeds diverged or failed with a `×` at the top edge. The x axis is the commit's
//! position; its label and the caption give the dates of the first and last commits (the
//! renderer's ticks are numbers).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::HistoryError;
use super::changes::ChangePoint;
use super::series::{History, Series};
use crate::compare::EXAMPLES_PER_S;
use crate::plot::figure::{Figure, Line, Panel};
use crate::plot::output::write_figure;
use crate::plot::style::{self, Palette};
use crate::plot::{FigureSize, Formats, PlotError};
use optbench_results::{
    BEST_TRAIN_LOSS, FINAL_TEST_ACCURACY, FINAL_TEST_LOSS, FINAL_TRAIN_LOSS, WALL_TIME_S,
};

/// Panels per figure; a problem with more cells gets several figures (`_2`, `_3`, ...).
pub const PANELS_PER_FIGURE: usize = 12;

/// The y-axis label of a metric.
fn axis_label(metric: &str) -> String {
    match metric {
        FINAL_TRAIN_LOSS => "final train loss".into(),
        FINAL_TEST_LOSS => "final test loss".into(),
        FINAL_TEST_ACCURACY => "final test accuracy".into(),
        BEST_TRAIN_LOSS => "best train loss".into(),
        WALL_TIME_S => "wall time (s)".into(),
        EXAMPLES_PER_S => "examples / s".into(),
        other => other.replace('_', " "),
    }
}

/// Losses on a log axis, as in the convergence figures (when every value is positive).
fn log_axis(metric: &str, series: &[&Series]) -> bool {
    matches!(metric, FINAL_TRAIN_LOSS | FINAL_TEST_LOSS | BEST_TRAIN_LOSS)
        && series
            .iter()
            .flat_map(|s| s.points.iter())
            .filter_map(|p| p.median)
            .all(|v| v > 0.0)
}

fn day(date: &str) -> &str {
    date.get(..10).unwrap_or(date)
}

/// A safe file-name part.
fn slug(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// The panel of one series.
fn panel(s: &Series, title: String, log: bool, palette: &Palette, marks: &[(f64, f64)]) -> Panel {
    // A few evenly spaced markers (not one per commit), so the change points' `+` shows.
    let mut line = Line::new(palette.style(&s.optimizer, 0));
    for p in &s.points {
        let x = p.index as f64;
        if let Some(m) = p.median {
            line.points.push((x, m));
        }
        if let (Some(lo), Some(hi)) = (p.q25, p.q75) {
            line.band.push((x, lo, hi));
        }
        if p.not_ok > 0 {
            line.diverged_at.push(x);
        }
    }
    Panel {
        title,
        x_label: "commit".into(),
        y_label: axis_label(&s.metric),
        y_log: log,
        lines: vec![line],
        targets: marks.to_vec(),
        ..Panel::default()
    }
}

/// Panel titles: the cell's label, with its short id where two cells share a label.
fn titles(series: &[&Series]) -> Vec<String> {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for s in series {
        *seen.entry(s.label.as_str()).or_default() += 1;
    }
    series
        .iter()
        .map(|s| {
            if seen[s.label.as_str()] > 1 {
                format!(
                    "{} [{}]",
                    s.label,
                    s.series_id.get(..8).unwrap_or(&s.series_id)
                )
            } else {
                s.label.clone()
            }
        })
        .collect()
}

/// The trend figures of a history (see the module docs).
pub fn figures(h: &History, changes: &[ChangePoint]) -> Vec<Figure> {
    let palette = Palette::new(h.series.iter().map(|s| s.optimizer.as_str()));
    let mut marks: HashMap<(&str, &str), Vec<(f64, f64)>> = HashMap::new();
    for c in changes {
        marks
            .entry((c.series_id.as_str(), c.metric.as_str()))
            .or_default()
            .push((c.commit_index as f64, c.after));
    }
    let (Some(first), Some(last)) = (h.commits.first(), h.commits.last()) else {
        return Vec::new();
    };
    let span = format!(
        "commit ({} to {})",
        day(&first.provenance.date),
        day(&last.provenance.date)
    );
    let caption = format!(
        "Line: median over seeds per commit; band: interquartile range; commits oldest first, \
         1 = {} ({}) to {} = {} ({}). +: change point (first commit at a new level, see \
         changes.md); ×: a commit at which seeds diverged or failed.",
        first
            .provenance
            .commit
            .get(..8)
            .unwrap_or(&first.provenance.commit),
        day(&first.provenance.date),
        h.commits.len(),
        last.provenance
            .commit
            .get(..8)
            .unwrap_or(&last.provenance.commit),
        day(&last.provenance.date),
    );
    // Groups of (problem, dataset, metric) in the series' order.
    let mut groups: Vec<Vec<&Series>> = Vec::new();
    let mut seen: HashSet<(&str, Option<&str>, &str)> = HashSet::new();
    for s in &h.series {
        let key = (s.problem.as_str(), s.dataset.as_deref(), s.metric.as_str());
        if seen.insert(key) {
            groups.push(Vec::new());
        }
        if let Some(g) = groups.last_mut() {
            g.push(s);
        }
    }
    let mut out = Vec::new();
    for group in groups {
        let s0 = group[0];
        let log = log_axis(&s0.metric, &group);
        let names = titles(&group);
        let chunks = group.len().div_ceil(PANELS_PER_FIGURE);
        for (k, (chunk, names)) in group
            .chunks(PANELS_PER_FIGURE)
            .zip(names.chunks(PANELS_PER_FIGURE))
            .enumerate()
        {
            let panels = chunk
                .iter()
                .zip(names)
                .map(|(s, title)| {
                    let m = marks
                        .get(&(s.series_id.as_str(), s.metric.as_str()))
                        .map(Vec::as_slice)
                        .unwrap_or(&[]);
                    let mut p = panel(s, title.clone(), log, &palette, m);
                    p.x_label = span.clone();
                    p
                })
                .collect();
            let part = if chunks > 1 {
                format!(" ({}/{chunks})", k + 1)
            } else {
                String::new()
            };
            let stem_part = if chunks > 1 {
                format!("_{}", k + 1)
            } else {
                String::new()
            };
            out.push(Figure {
                stem: format!(
                    "trend_{}_{}{stem_part}",
                    slug(&s0.problem_name()),
                    slug(&s0.metric)
                ),
                title: format!("{}: {}{part}", s0.problem_name(), axis_label(&s0.metric)),
                panels,
                legend: Vec::new(),
                caption: caption.clone(),
            });
        }
    }
    out
}

/// Draws `figures` into `out` in the formats asked for; returns the files written, sorted.
pub fn write_figures(
    out: &Path,
    figures: &[Figure],
    size: FigureSize,
    formats: &Formats,
) -> Result<Vec<PathBuf>, HistoryError> {
    if !style::register_font() {
        return Err(HistoryError::Plot(PlotError::Font));
    }
    let page = size == FigureSize::Page;
    let written = figures
        .par_iter()
        .map(|fig| write_figure(out, fig, page, formats))
        .collect::<Result<Vec<_>, _>>()
        .map_err(HistoryError::Plot)?;
    let mut files: Vec<PathBuf> = written.into_iter().flatten().collect();
    files.sort();
    Ok(files)
}
