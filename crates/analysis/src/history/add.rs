//! `optbench history add STORE DIR`: one results folder summarised per (cell, metric) and
//! written to the store with its provenance.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use polars::prelude::DataFrame;
use serde_json::Value;

use super::identity::series_ids;
use super::{HISTORY_METRICS, HistoryError};
use crate::compare::read::{number_column, status_rank, str_column};
use crate::compare::speed::{EXAMPLES_COLUMNS, EXAMPLES_PER_S, add_examples_per_s};
use crate::compare::{METRICS_FILE, RUNS_FILE};
use crate::stats;
use optbench_results::history::{HistoryEntry, HistoryRow, Provenance, check_commit, write_entry};
use optbench_results::select::read_parquet_columns;
use optbench_results::{CELL_ID, DATASET, LABEL, OPTIMIZER, PROBLEM, STATUS, read_parquet};

/// The manifest of a results folder.
pub const MANIFEST_FILE: &str = "manifest.json";

/// What `history add` is told besides the folders.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddOptions {
    /// The commit, instead of the manifest's `git_commit`.
    pub commit: Option<String>,
    /// The date, instead of the manifest's `start_time` (RFC 3339 or `YYYY-MM-DD`).
    pub date: Option<String>,
    /// `key=value` labels recorded with the result.
    pub labels: Vec<(String, String)>,
    /// Replace the commit if it is already in the store.
    pub replace: bool,
}

/// What `history add` wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Added {
    /// The store file.
    pub path: PathBuf,
    /// The commit.
    pub commit: String,
    /// The date recorded (RFC 3339, UTC).
    pub date: String,
    /// Rows written (cells × metrics).
    pub rows: usize,
    /// Cells summarised.
    pub cells: usize,
}

/// Parses `key=value` (a label); keys are non-empty and have no `=`.
pub fn parse_label(text: &str) -> Result<(String, String), HistoryError> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(HistoryError::BadArgs(format!(
            "--label `{text}` is not of the form KEY=VALUE (e.g. runner=ubuntu-24.04)"
        ))),
    }
}

/// Parses a date given as RFC 3339 (`2026-01-31T12:00:00+01:00`) or as a day (`2026-01-31`,
/// midnight UTC) and writes it as RFC 3339 in UTC, to the second.
pub fn normalize_date(text: &str) -> Result<String, HistoryError> {
    let t = text.trim();
    let utc: DateTime<Utc> = if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        d.with_timezone(&Utc)
    } else if let Ok(day) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        day.and_hms_opt(0, 0, 0)
            .map(|d| d.and_utc())
            .ok_or_else(|| HistoryError::BadArgs(format!("date `{text}` is out of range")))?
    } else {
        return Err(HistoryError::BadArgs(format!(
            "date `{text}` is neither RFC 3339 (2026-01-31T12:00:00Z, or with an offset, as \
             `git show -s --format=%cI` prints it) nor a day (2026-01-31)"
        )));
    };
    Ok(utc.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// The manifest as JSON, or None when the folder has none.
fn read_manifest(dir: &Path) -> Result<Option<Value>, HistoryError> {
    let path = dir.join(MANIFEST_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(HistoryError::Results {
                path,
                message: e.to_string(),
            });
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| HistoryError::Results {
            path,
            message: format!("not JSON: {e}"),
        })
}

/// The provenance of a result: the manifest's, with the options' overrides.
fn provenance(dir: &Path, opts: &AddOptions) -> Result<Provenance, HistoryError> {
    let manifest = read_manifest(dir)?;
    let field = |key: &str| -> Option<String> {
        manifest
            .as_ref()
            .and_then(|m| m.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let commit = opts.commit.clone().or_else(|| field("git_commit")).ok_or_else(|| {
        HistoryError::BadArgs(format!(
            "{} has no commit (no {MANIFEST_FILE}, or its git_commit is null): pass --commit SHA",
            dir.display()
        ))
    })?;
    check_commit(&commit).map_err(HistoryError::Add)?;
    let date = opts
        .date
        .clone()
        .or_else(|| field("start_time"))
        .ok_or_else(|| {
            HistoryError::BadArgs(format!(
                "{} has no start_time in {MANIFEST_FILE}: pass --date (the commit date)",
                dir.display()
            ))
        })?;
    let mut labels = BTreeMap::new();
    for (k, v) in &opts.labels {
        labels.insert(k.clone(), v.clone());
    }
    Ok(Provenance {
        commit,
        date: normalize_date(&date)?,
        experiment: field("experiment").unwrap_or_default(),
        rustc: field("rustc").unwrap_or_default(),
        cpu: field("cpu").unwrap_or_default(),
        arch: field("arch").unwrap_or_default(),
        os: field("os").unwrap_or_default(),
        optbench_version: field("optbench_version").unwrap_or_default(),
        labels,
    })
}

/// The runs table of `dir`, with `examples_per_s` when its metrics.parquet is there.
fn read_runs_with_speed(dir: &Path) -> Result<DataFrame, HistoryError> {
    let runs_path = dir.join(RUNS_FILE);
    let mut runs = read_parquet(&runs_path).map_err(|e| HistoryError::Results {
        path: runs_path.clone(),
        message: e.to_string(),
    })?;
    let metrics_path = dir.join(METRICS_FILE);
    if metrics_path.exists() {
        let metrics = read_parquet_columns(&metrics_path, &EXAMPLES_COLUMNS).map_err(|e| {
            HistoryError::Results {
                path: metrics_path.clone(),
                message: e.to_string(),
            }
        })?;
        add_examples_per_s(&mut runs, &metrics, "results folder's").map_err(|message| {
            HistoryError::Results {
                path: metrics_path,
                message,
            }
        })?;
    }
    Ok(runs)
}

/// One row per (cell, metric) of a runs table: the median, quartiles and count of the finite
/// values of the runs with status ok, and the cell's run, diverged and failed counts. A metric
/// gets a row in a cell when at least one run of the cell has a value (not null) for it. The
/// series of each cell is given by [`series_ids`].
pub fn summarize(runs: &DataFrame) -> Result<Vec<HistoryRow>, String> {
    let mut problems = Vec::new();
    let side = "results folder's runs.parquet";
    let cell_id = str_column(runs, CELL_ID, side, &mut problems);
    let status = str_column(runs, STATUS, side, &mut problems);
    let problem = str_column(runs, PROBLEM, side, &mut problems);
    let optimizer = str_column(runs, OPTIMIZER, side, &mut problems);
    let label = str_column(runs, LABEL, side, &mut problems);
    let dataset = match runs.column(DATASET) {
        Ok(_) => str_column(runs, DATASET, side, &mut problems),
        Err(_) => vec![None; runs.height()],
    };
    let metrics: Vec<(&str, Vec<Option<f64>>)> = HISTORY_METRICS
        .iter()
        .filter(|m| runs.column(m).is_ok() || **m != EXAMPLES_PER_S)
        .map(|m| (*m, number_column(runs, m, side, &mut problems)))
        .collect();
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    // Runs by cell, in order of first appearance.
    let mut order: Vec<&str> = Vec::new();
    let mut by_cell: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, id) in cell_id.iter().enumerate() {
        let Some(id) = id.as_deref() else {
            return Err(format!("row {i} of runs.parquet has no cell_id"));
        };
        by_cell
            .entry(id)
            .or_insert_with(|| {
                order.push(id);
                Vec::new()
            })
            .push(i);
    }
    let first_rows: Vec<(&str, usize)> = order.iter().map(|c| (*c, by_cell[c][0])).collect();
    let series = series_ids(runs, &first_rows);
    let mut rows = Vec::new();
    for cell in order {
        let members = &by_cell[cell];
        let rank = |i: usize| status[i].as_deref().and_then(status_rank);
        let count = |r: u8| members.iter().filter(|&&i| rank(i) == Some(r)).count() as u64;
        let first = members[0];
        for (metric, values) in &metrics {
            if members.iter().all(|&i| values[i].is_none()) {
                continue;
            }
            let ok: Vec<f64> = members
                .iter()
                .filter(|&&i| rank(i) == Some(0))
                .filter_map(|&i| values[i].filter(|v| v.is_finite()))
                .collect();
            rows.push(HistoryRow {
                series_id: series[cell].clone(),
                cell_id: cell.to_string(),
                problem: problem[first].clone().unwrap_or_default(),
                dataset: dataset[first].clone(),
                optimizer: optimizer[first].clone().unwrap_or_default(),
                label: label[first].clone().unwrap_or_default(),
                metric: metric.to_string(),
                median: stats::median(&ok),
                q25: stats::quantile(&ok, 0.25),
                q75: stats::quantile(&ok, 0.75),
                n: ok.len() as u64,
                runs: members.len() as u64,
                diverged: count(1),
                failed: count(2),
            });
        }
    }
    Ok(rows)
}

/// Adds the results folder `dir` to the history store `store` (see the module docs).
pub fn add(store: &Path, dir: &Path, opts: &AddOptions) -> Result<Added, HistoryError> {
    let provenance = provenance(dir, opts)?;
    let runs = read_runs_with_speed(dir)?;
    let rows = summarize(&runs).map_err(|message| HistoryError::Results {
        path: dir.join(RUNS_FILE),
        message,
    })?;
    let cells = rows
        .iter()
        .map(|r| r.cell_id.as_str())
        .collect::<std::collections::HashSet<_>>()
        .len();
    let entry = HistoryEntry { provenance, rows };
    let path = write_entry(store, &entry, opts.replace).map_err(HistoryError::Add)?;
    Ok(Added {
        path,
        commit: entry.provenance.commit,
        date: entry.provenance.date,
        rows: entry.rows.len(),
        cells,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_normalized_to_utc() {
        assert_eq!(
            normalize_date("2026-01-31T12:00:00+01:00").unwrap(),
            "2026-01-31T11:00:00Z"
        );
        assert_eq!(
            normalize_date("2026-01-31").unwrap(),
            "2026-01-31T00:00:00Z"
        );
        assert_eq!(
            normalize_date("2026-11-25T17:40:32Z").unwrap(),
            "2026-11-25T17:40:32Z"
        );
        assert!(normalize_date("31/01/2026").is_err());
    }

    #[test]
    fn labels_parse() {
        assert_eq!(
            parse_label("runner = linux-x64").unwrap(),
            ("runner".into(), "linux-x64".into())
        );
        assert_eq!(parse_label("k=").unwrap(), ("k".into(), String::new()));
        assert!(parse_label("novalue").is_err());
        assert!(parse_label("=x").is_err());
    }
}
