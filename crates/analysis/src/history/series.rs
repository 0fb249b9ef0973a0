//! The store read back as commits in order and one series per (series, metric).

use std::collections::HashMap;
use std::path::Path;

use rayon::prelude::*;

use super::HistoryError;
use optbench_results::history::{HistoryEntry, Provenance, list_entries, read_entry};

/// One commit of the store, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Commit {
    /// 1-based position in commit order (the x of the trend figures).
    pub index: usize,
    /// Where the result came from.
    pub provenance: Provenance,
}

/// One commit's summary of a series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// 1-based commit index.
    pub index: usize,
    /// Median over seeds (None when no run has a finite value).
    pub median: Option<f64>,
    /// 25th percentile.
    pub q25: Option<f64>,
    /// 75th percentile.
    pub q75: Option<f64>,
    /// Runs the summary is over.
    pub n: u64,
    /// Runs that diverged or failed.
    pub not_ok: u64,
}

/// The summaries of one series (see [`super::identity`]) and metric over the commits that have
/// it.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The series' key.
    pub series_id: String,
    /// The cell's id at the latest commit.
    pub cell_id: String,
    /// Problem name.
    pub problem: String,
    /// Dataset name.
    pub dataset: Option<String>,
    /// Optimizer name.
    pub optimizer: String,
    /// The cell's label at the latest commit.
    pub label: String,
    /// The metric.
    pub metric: String,
    /// One point per commit that has the cell and metric, in commit order.
    pub points: Vec<Point>,
}

impl Series {
    /// `problem` or `problem/dataset`.
    pub fn problem_name(&self) -> String {
        match &self.dataset {
            Some(d) => format!("{}/{d}", self.problem),
            None => self.problem.clone(),
        }
    }
}

/// The store: its commits in order and its series.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    /// Commits, oldest first.
    pub commits: Vec<Commit>,
    /// Series ordered by problem, dataset, metric, then the cell's first appearance.
    pub series: Vec<Series>,
}

/// Whether an entry has every label of `filter`.
fn matches(entry: &HistoryEntry, filter: &[(String, String)]) -> bool {
    filter
        .iter()
        .all(|(k, v)| entry.provenance.labels.get(k) == Some(v))
}

/// Reads every file of the store (in parallel), keeps the entries with the labels of `filter`,
/// and orders them by date, then commit name.
pub fn load(store: &Path, filter: &[(String, String)]) -> Result<History, HistoryError> {
    let files = list_entries(store).map_err(HistoryError::Read)?;
    let entries = files
        .par_iter()
        .map(|p| read_entry(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(HistoryError::Read)?;
    let mut entries: Vec<HistoryEntry> =
        entries.into_iter().filter(|e| matches(e, filter)).collect();
    // Dates are RFC 3339 in UTC written by `history add`, so they sort as text.
    entries.sort_by(|a, b| {
        (&a.provenance.date, &a.provenance.commit).cmp(&(&b.provenance.date, &b.provenance.commit))
    });
    Ok(build(entries))
}

/// The series of entries already in commit order.
pub fn build(entries: Vec<HistoryEntry>) -> History {
    let mut index: HashMap<(String, String), usize> = HashMap::new();
    let mut series: Vec<Series> = Vec::new();
    let mut commits = Vec::with_capacity(entries.len());
    for (k, entry) in entries.into_iter().enumerate() {
        for row in entry.rows {
            let point = Point {
                index: k + 1,
                median: row.median.filter(|v| v.is_finite()),
                q25: row.q25.filter(|v| v.is_finite()),
                q75: row.q75.filter(|v| v.is_finite()),
                n: row.n,
                not_ok: row.diverged + row.failed,
            };
            let key = (row.series_id, row.metric);
            match index.get(&key) {
                Some(&s) => {
                    let s = &mut series[s];
                    s.points.push(point);
                    s.cell_id = row.cell_id;
                    s.label = row.label;
                }
                None => {
                    index.insert(key.clone(), series.len());
                    series.push(Series {
                        series_id: key.0,
                        cell_id: row.cell_id,
                        problem: row.problem,
                        dataset: row.dataset,
                        optimizer: row.optimizer,
                        label: row.label,
                        metric: key.1,
                        points: vec![point],
                    });
                }
            }
        }
        commits.push(Commit {
            index: k + 1,
            provenance: entry.provenance,
        });
    }
    // Stable: within a (problem, dataset, metric) the cells keep their first appearance.
    series.sort_by(|a, b| {
        (&a.problem, &a.dataset, metric_rank(&a.metric)).cmp(&(
            &b.problem,
            &b.dataset,
            metric_rank(&b.metric),
        ))
    });
    History { commits, series }
}

/// Metrics in the order of [`super::HISTORY_METRICS`], unknown ones last.
fn metric_rank(metric: &str) -> usize {
    super::HISTORY_METRICS
        .iter()
        .position(|m| *m == metric)
        .unwrap_or(usize::MAX)
}
