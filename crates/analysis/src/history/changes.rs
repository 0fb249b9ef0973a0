//! The change points of every series, and their table as Markdown and JSON.

use std::fmt::Write as _;

use rayon::prelude::*;
use serde::Serialize;

use super::changepoint::{StepSettings, relative_change, segments};
use super::series::{History, Series};
use crate::compare::{Direction, is_speed_metric, metric_direction};
use crate::plot::style::short_number;

/// How change points are found and which steps count.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ChangeSettings {
    /// Penalty per change point in units of `σ̂·ln n` (see [`super::changepoint`]).
    pub beta: f64,
    /// Smallest relative step of a convergence metric that counts (default 0.05, as compare).
    pub min_effect: f64,
    /// Smallest relative step of a speed metric that counts (default 0.10, as compare).
    pub speed_min_effect: f64,
    /// Floor of the denominator of relative changes (default 1e-8, as compare).
    pub atol: f64,
}

impl Default for ChangeSettings {
    fn default() -> Self {
        Self {
            beta: super::changepoint::DEFAULT_BETA,
            min_effect: 0.05,
            speed_min_effect: 0.10,
            atol: 1e-8,
        }
    }
}

impl ChangeSettings {
    /// The step settings of `metric`.
    pub fn steps_for(&self, metric: &str) -> StepSettings {
        StepSettings {
            beta: self.beta,
            min_effect: if is_speed_metric(metric) {
                self.speed_min_effect
            } else {
                self.min_effect
            },
            atol: self.atol,
            ..StepSettings::default()
        }
    }
}

/// A commit at which a series steps to a new level.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChangePoint {
    /// Problem name.
    pub problem: String,
    /// Dataset name.
    pub dataset: Option<String>,
    /// Optimizer name.
    pub optimizer: String,
    /// The cell's label (at the latest commit).
    pub label: String,
    /// The series' key.
    pub series_id: String,
    /// The cell's id (at the latest commit).
    pub cell_id: String,
    /// The metric.
    pub metric: String,
    /// 1-based index of the first commit at the new level.
    pub commit_index: usize,
    /// That commit.
    pub commit: String,
    /// Its date.
    pub date: String,
    /// The last commit at the old level (the series' previous point).
    pub previous_commit: String,
    /// The level (median of the per-commit medians) before the step.
    pub before: f64,
    /// The level after it.
    pub after: f64,
    /// Relative change of the level, positive = worse.
    pub change: f64,
    /// Whether the step is for the worse.
    pub worse: bool,
}

/// The change points of one series.
fn series_changes(h: &History, s: &Series, settings: &ChangeSettings) -> Vec<ChangePoint> {
    let points: Vec<(usize, f64)> = s
        .points
        .iter()
        .filter_map(|p| Some((p.index, p.median?)))
        .collect();
    let y: Vec<f64> = points.iter().map(|p| p.1).collect();
    let sign = match metric_direction(&s.metric) {
        Some(Direction::HigherIsBetter) => -1.0,
        _ => 1.0,
    };
    let segs = segments(&y, &settings.steps_for(&s.metric));
    segs.windows(2)
        .map(|w| {
            let (index, prev) = (points[w[1].start].0, points[w[1].start - 1].0);
            let change = sign * relative_change(w[0].level, w[1].level, settings.atol);
            let commit = &h.commits[index - 1].provenance;
            ChangePoint {
                problem: s.problem.clone(),
                dataset: s.dataset.clone(),
                optimizer: s.optimizer.clone(),
                label: s.label.clone(),
                series_id: s.series_id.clone(),
                cell_id: s.cell_id.clone(),
                metric: s.metric.clone(),
                commit_index: index,
                commit: commit.commit.clone(),
                date: commit.date.clone(),
                previous_commit: h.commits[prev - 1].provenance.commit.clone(),
                before: w[0].level,
                after: w[1].level,
                change,
                worse: change > 0.0,
            }
        })
        .collect()
}

/// The change points of every series of `h`, ordered by commit, then as the series are.
pub fn find_change_points(h: &History, settings: &ChangeSettings) -> Vec<ChangePoint> {
    let mut all: Vec<ChangePoint> = h
        .series
        .par_iter()
        .flat_map_iter(|s| series_changes(h, s, settings))
        .collect();
    all.sort_by_key(|c| c.commit_index);
    all
}

fn short(s: &str) -> &str {
    s.get(..8).unwrap_or(s)
}

fn day(date: &str) -> &str {
    date.get(..10).unwrap_or(date)
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The Markdown table of change points, with the store's span and the method.
pub fn render_markdown(h: &History, changes: &[ChangePoint], settings: &ChangeSettings) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## optbench history: {} change points\n", changes.len());
    if let (Some(first), Some(last)) = (h.commits.first(), h.commits.last()) {
        let _ = writeln!(
            s,
            "{} commits from `{}` ({}) to `{}` ({}), {} series (cell × metric).  ",
            h.commits.len(),
            short(&first.provenance.commit),
            day(&first.provenance.date),
            short(&last.provenance.commit),
            day(&last.provenance.date),
            h.series.len()
        );
    }
    let _ = writeln!(
        s,
        "Change points of the per-commit medians: penalised L1 step fit (asv's step detection), \
         penalty {} × σ̂ × ln n, steps smaller than {}% ({}% for speed metrics) merged; at most 0.5% \
         of series of pure noise get a false change point.\n",
        settings.beta,
        100.0 * settings.min_effect,
        100.0 * settings.speed_min_effect
    );
    if changes.is_empty() {
        return s;
    }
    s.push_str(
        "| commit | date | problem | series | metric | before | after | change |\n\
         |---:|---|---|---|---|---:|---:|---:|\n",
    );
    for c in changes {
        let problem = match &c.dataset {
            Some(d) => format!("{}/{d}", c.problem),
            None => c.problem.clone(),
        };
        let change = if c.worse {
            format!("**{:.1}% worse**", 100.0 * c.change)
        } else {
            format!("{:.1}% better", -100.0 * c.change)
        };
        let _ = writeln!(
            s,
            "| {} `{}` | {} | {} | {} `{}` | {} | {} | {} | {} |",
            c.commit_index,
            short(&c.commit),
            day(&c.date),
            md_escape(&problem),
            md_escape(&c.label),
            short(&c.series_id),
            c.metric,
            short_number(c.before),
            short_number(c.after),
            change
        );
    }
    s
}

/// The JSON report: the commits in order, the settings and the change points.
pub fn render_json(h: &History, changes: &[ChangePoint], settings: &ChangeSettings) -> String {
    let commits: Vec<serde_json::Value> = h
        .commits
        .iter()
        .map(|c| {
            serde_json::json!({
                "index": c.index,
                "commit": c.provenance.commit,
                "date": c.provenance.date,
                "experiment": c.provenance.experiment,
                "rustc": c.provenance.rustc,
                "cpu": c.provenance.cpu,
                "labels": c.provenance.labels,
            })
        })
        .collect();
    let value = serde_json::json!({
        "method": "penalised L1 step fit (asv step_detect; Friedrich et al. 2008), exact DP",
        "settings": settings,
        "commits": commits,
        "series": h.series.len(),
        "change_points": changes,
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}
