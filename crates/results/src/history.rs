//! The history store on disk: a folder of Parquet files, one per added result
//! (`optbench history add STORE DIR`).
//!
//! # Layout
//!
//! ```text
//! <store>/
//!   <commit>.parquet      one added result: one row per (cell, metric), see below
//!   .<commit>.parquet.tmp.<writer>.<random>   a file being written (never read)
//! ```
//!
//! Every added result is its own file, named after its commit, so concurrent CI jobs that add
//! different commits never write the same file. A file is written to a temporary name in the
//! store folder, flushed to disk (`fsync`), then published ([`crate::atomic`]): with a rename
//! that refuses an existing name (a hard link where the file system has no such rename), so
//! that two jobs adding the same commit cannot both succeed and a refused add leaves the
//! existing file untouched, or, to replace, with a rename over the old file. Both
//! are atomic on POSIX file systems: a reader sees the old file, the new file or no file, never
//! a partial one. The folder is `fsync`ed after publishing. Files whose name starts with `.`,
//! subfolders and files that do not end in `.parquet` are ignored by [`list_entries`].
//!
//! A commit is "the same" as one already in the store when the names are equal, or both are git
//! SHAs (7 or more hex digits) and one is a prefix of the other (an abbreviated and a full SHA);
//! see [`same_commit`].
//!
//! # Columns (one row per cell and metric; provenance repeated on every row)
//!
//! Provenance: [`COMMIT`], [`DATE`] (RFC 3339, UTC, e.g. `2026-01-31T12:00:00Z`),
//! [`EXPERIMENT`](crate::EXPERIMENT), [`RUSTC`], [`CPU`], [`ARCH`], [`OS`],
//! [`OPTBENCH_VERSION`], [`LABELS`] (JSON object of the `--label key=value` pairs, keys
//! sorted). Cell: [`SERIES_ID`] (what stays the same from commit to commit; see the analysis
//! crate's `history::add`), [`CELL_ID`](crate::CELL_ID), [`PROBLEM`](crate::PROBLEM),
//! [`DATASET`](crate::DATASET) (null for analytic problems), [`OPTIMIZER`](crate::OPTIMIZER),
//! [`LABEL`](crate::LABEL). Summary of the cell's seeds for [`METRIC`]: [`MEDIAN`], [`Q25`],
//! [`Q75`] (the interquartile range is `q75 − q25`; null when no run has a finite value), [`N`]
//! (runs the summary is over: status `ok` with a finite value), [`RUNS`] (runs in the cell),
//! [`DIVERGED`] and [`FAILED`] (runs of the cell with that status).
//!
//! Types: counts are UInt64, the summary Float64, everything else Utf8.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::atomic::{self, AtomicFile};
use crate::error::ResultsError;
use crate::{CELL_ID, DATASET, EXPERIMENT, LABEL, OPTIMIZER, PROBLEM};

/// The commit the result was produced from (any non-empty text of `[0-9A-Za-z._-]`).
pub const COMMIT: &str = "commit";
/// When the commit was made (or the result produced), RFC 3339 in UTC.
pub const DATE: &str = "date";
/// `rustc --version` of the build that produced the result.
pub const RUSTC: &str = "rustc";
/// The CPU model.
pub const CPU: &str = "cpu";
/// The CPU architecture.
pub const ARCH: &str = "arch";
/// The operating system.
pub const OS: &str = "os";
/// The optbench version that produced the result.
pub const OPTBENCH_VERSION: &str = "optbench_version";
/// JSON object of the labels given with `--label key=value`.
pub const LABELS: &str = "labels";
/// The series a row belongs to: the same key at every commit for the same benchmark entry.
pub const SERIES_ID: &str = "series_id";
/// The metric summarised by the row.
pub const METRIC: &str = "metric";
/// Median over the runs counted in [`N`].
pub const MEDIAN: &str = "median";
/// First quartile (25th percentile, linear interpolation).
pub const Q25: &str = "q25";
/// Third quartile (75th percentile, linear interpolation).
pub const Q75: &str = "q75";
/// Runs with status `ok` and a finite value of the metric.
pub const N: &str = "n";
/// Runs in the cell.
pub const RUNS: &str = "runs";
/// Runs of the cell that diverged.
pub const DIVERGED: &str = "diverged";
/// Runs of the cell that failed.
pub const FAILED: &str = "failed";

/// Extension of a store file.
pub const ENTRY_EXT: &str = "parquet";

/// Longest accepted commit name.
pub const MAX_COMMIT_LEN: usize = 100;

/// Where a result came from: one per store file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Provenance {
    /// The commit (names the file).
    pub commit: String,
    /// RFC 3339 in UTC.
    pub date: String,
    /// The experiment's name.
    pub experiment: String,
    /// `rustc --version`.
    pub rustc: String,
    /// CPU model.
    pub cpu: String,
    /// CPU architecture.
    pub arch: String,
    /// Operating system.
    pub os: String,
    /// optbench version.
    pub optbench_version: String,
    /// `--label key=value` pairs.
    pub labels: BTreeMap<String, String>,
}

/// The summary of one metric of one cell.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistoryRow {
    /// The series (stable across commits).
    pub series_id: String,
    /// The cell's id.
    pub cell_id: String,
    /// Problem name.
    pub problem: String,
    /// Dataset name (None for analytic problems).
    pub dataset: Option<String>,
    /// Optimizer name.
    pub optimizer: String,
    /// The cell's readable label.
    pub label: String,
    /// The metric.
    pub metric: String,
    /// Median over the `n` values.
    pub median: Option<f64>,
    /// 25th percentile.
    pub q25: Option<f64>,
    /// 75th percentile.
    pub q75: Option<f64>,
    /// Runs with status ok and a finite value.
    pub n: u64,
    /// Runs in the cell.
    pub runs: u64,
    /// Diverged runs in the cell.
    pub diverged: u64,
    /// Failed runs in the cell.
    pub failed: u64,
}

/// One added result: its provenance and its rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistoryEntry {
    /// Where it came from.
    pub provenance: Provenance,
    /// One row per (cell, metric).
    pub rows: Vec<HistoryRow>,
}

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum HistoryStoreError {
    /// A commit name that cannot name a file.
    #[error(
        "commit `{0}` cannot name a store file: use 1 to {MAX_COMMIT_LEN} characters of \
         0-9, A-Z, a-z, `.`, `_`, `-`, not starting with `.`"
    )]
    BadCommit(String),
    /// The commit is already in the store (and `replace` was not asked for).
    #[error(
        "commit {commit} is already in the history store ({}); pass --replace to replace it",
        path.display()
    )]
    Exists {
        /// The commit being added.
        commit: String,
        /// The file holding it.
        path: PathBuf,
    },
    /// A file or folder that cannot be created, written, read or renamed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Polars failed to build, write or read a frame.
    #[error("{}: {source}", path.display())]
    Polars {
        /// The Parquet file.
        path: PathBuf,
        /// The underlying error.
        source: PolarsError,
    },
    /// A store file that lacks a column or has one of the wrong type.
    #[error("{}: not a history store file: {message}", path.display())]
    Schema {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> HistoryStoreError + '_ {
    move |source| HistoryStoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An error of [`AtomicFile`] (only ever an I/O error) as a store error.
fn store_err(e: ResultsError) -> HistoryStoreError {
    match e {
        ResultsError::Io { path, source } => HistoryStoreError::Io { path, source },
        other => HistoryStoreError::Io {
            path: PathBuf::new(),
            source: std::io::Error::other(other.to_string()),
        },
    }
}

fn pl_err(path: &Path) -> impl FnOnce(PolarsError) -> HistoryStoreError + '_ {
    move |source| HistoryStoreError::Polars {
        path: path.to_path_buf(),
        source,
    }
}

/// Checks that `commit` can name a store file.
pub fn check_commit(commit: &str) -> Result<(), HistoryStoreError> {
    let ok = !commit.is_empty()
        && commit.len() <= MAX_COMMIT_LEN
        && !commit.starts_with('.')
        && commit
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(HistoryStoreError::BadCommit(commit.to_string()))
    }
}

/// The file of `commit` in `store`.
pub fn entry_path(store: &Path, commit: &str) -> PathBuf {
    store.join(format!("{commit}.{ENTRY_EXT}"))
}

/// The store files, sorted by name (an empty list when the folder does not exist).
pub fn list_entries(store: &Path) -> Result<Vec<PathBuf>, HistoryStoreError> {
    let read = match fs::read_dir(store) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err(store)(e)),
    };
    let mut files = Vec::new();
    for item in read {
        let item = item.map_err(io_err(store))?;
        let name = item.file_name();
        let name = name.to_string_lossy();
        let is_file = item.file_type().map(|t| t.is_file()).unwrap_or(false);
        if is_file && !name.starts_with('.') && name.ends_with(&format!(".{ENTRY_EXT}")) {
            files.push(item.path());
        }
    }
    files.sort();
    Ok(files)
}

/// The commit a store file holds, from its name.
pub fn commit_of(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    name.strip_suffix(&format!(".{ENTRY_EXT}"))
        .map(str::to_string)
}

/// Whether two commit names name the same commit: equal, or both git SHAs (at least 7 hex
/// digits, git's shortest abbreviation) of which one is a prefix of the other.
pub fn same_commit(a: &str, b: &str) -> bool {
    let sha = |s: &str| s.len() >= 7 && s.chars().all(|c| c.is_ascii_hexdigit());
    a == b || (sha(a) && sha(b) && (a.starts_with(b) || b.starts_with(a)))
}

/// The store files whose commit is the same as `commit` ([`same_commit`]).
pub fn same_commit_entries(store: &Path, commit: &str) -> Result<Vec<PathBuf>, HistoryStoreError> {
    Ok(list_entries(store)?
        .into_iter()
        .filter(|p| commit_of(p).is_some_and(|c| same_commit(&c, commit)))
        .collect())
}

/// The frame of an entry (provenance repeated on every row).
fn entry_frame(entry: &HistoryEntry) -> PolarsResult<DataFrame> {
    let p = &entry.provenance;
    let rows = &entry.rows;
    let n = rows.len();
    let labels = serde_json::to_string(&p.labels).unwrap_or_else(|_| "{}".into());
    macro_rules! col {
        ($name:expr, $f:expr) => {
            Column::new($name.into(), rows.iter().map($f).collect::<Vec<_>>())
        };
    }
    let constant = |name: &str, value: &str| Column::new(name.into(), vec![value; n]);
    let cols = vec![
        constant(COMMIT, &p.commit),
        constant(DATE, &p.date),
        constant(EXPERIMENT, &p.experiment),
        constant(RUSTC, &p.rustc),
        constant(CPU, &p.cpu),
        constant(ARCH, &p.arch),
        constant(OS, &p.os),
        constant(OPTBENCH_VERSION, &p.optbench_version),
        constant(LABELS, &labels),
        col!(SERIES_ID, |r: &HistoryRow| r.series_id.as_str()),
        col!(CELL_ID, |r: &HistoryRow| r.cell_id.as_str()),
        col!(PROBLEM, |r: &HistoryRow| r.problem.as_str()),
        col!(DATASET, |r: &HistoryRow| r.dataset.as_deref()),
        col!(OPTIMIZER, |r: &HistoryRow| r.optimizer.as_str()),
        col!(LABEL, |r: &HistoryRow| r.label.as_str()),
        col!(METRIC, |r: &HistoryRow| r.metric.as_str()),
        col!(MEDIAN, |r: &HistoryRow| r.median),
        col!(Q25, |r: &HistoryRow| r.q25),
        col!(Q75, |r: &HistoryRow| r.q75),
        col!(N, |r: &HistoryRow| r.n),
        col!(RUNS, |r: &HistoryRow| r.runs),
        col!(DIVERGED, |r: &HistoryRow| r.diverged),
        col!(FAILED, |r: &HistoryRow| r.failed),
    ];
    DataFrame::new(n, cols)
}

/// Writes `entry` as `<store>/<commit>.parquet` (see the module docs: temporary file, fsync,
/// then a rename or hard link that refuses an existing commit, or with `replace` a rename over it; other
/// files of the same commit under another abbreviation are removed after a replace). Creates
/// the store folder if needed. Returns the file written.
pub fn write_entry(
    store: &Path,
    entry: &HistoryEntry,
    replace: bool,
) -> Result<PathBuf, HistoryStoreError> {
    let commit = &entry.provenance.commit;
    check_commit(commit)?;
    fs::create_dir_all(store).map_err(io_err(store))?;
    let path = entry_path(store, commit);
    let existing = same_commit_entries(store, commit)?;
    if let (false, Some(old)) = (replace, existing.first()) {
        return Err(HistoryStoreError::Exists {
            commit: commit.clone(),
            path: old.clone(),
        });
    }
    let mut df = entry_frame(entry).map_err(pl_err(&path))?;
    let file = AtomicFile::create(&path).map_err(store_err)?;
    let mut out = BufWriter::new(file);
    ParquetWriter::new(&mut out)
        .with_compression(ParquetCompression::Zstd(None))
        .set_parallel(false)
        .finish(&mut df)
        .map_err(pl_err(&path))?;
    let file = out
        .into_inner()
        .map_err(|e| io_err(&path)(e.into_error()))?;
    if replace {
        file.commit().map_err(store_err)?;
    } else if !file.commit_new().map_err(store_err)? {
        return Err(HistoryStoreError::Exists {
            commit: commit.clone(),
            path,
        });
    }
    for old in existing.iter().filter(|p| **p != path) {
        fs::remove_file(old).map_err(io_err(old))?;
    }
    if replace && existing.iter().any(|p| *p != path) {
        atomic::sync_dir(store).map_err(store_err)?;
    }
    Ok(path)
}

/// The column `name` of a store file, or why it is missing.
fn column<'a>(df: &'a DataFrame, name: &str, path: &Path) -> Result<&'a Column, HistoryStoreError> {
    df.column(name)
        .map_err(|_| schema_err(path, format!("no `{name}` column")))
}

fn schema_err(path: &Path, message: String) -> HistoryStoreError {
    HistoryStoreError::Schema {
        path: path.to_path_buf(),
        message,
    }
}

/// A Utf8 column of a store file.
fn text<'a>(
    df: &'a DataFrame,
    name: &str,
    path: &Path,
) -> Result<&'a StringChunked, HistoryStoreError> {
    let col = column(df, name, path)?;
    col.str().map_err(|_| {
        schema_err(
            path,
            format!("column `{name}` is {}, not text", col.dtype()),
        )
    })
}

/// A Utf8 column as owned optional strings.
fn str_col(
    df: &DataFrame,
    name: &str,
    path: &Path,
) -> Result<Vec<Option<String>>, HistoryStoreError> {
    Ok(text(df, name, path)?
        .iter()
        .map(|v| v.map(str::to_string))
        .collect())
}

/// A numeric column cast to `T`.
fn num_col<T: PolarsNumericType>(
    df: &DataFrame,
    name: &str,
    path: &Path,
) -> Result<Vec<Option<T::Native>>, HistoryStoreError> {
    let schema = |message: String| schema_err(path, message);
    let col = column(df, name, path)?;
    if !(col.dtype().is_primitive_numeric() || col.dtype().is_null()) {
        return Err(schema(format!(
            "column `{name}` is {}, not a number",
            col.dtype()
        )));
    }
    let cast = col
        .cast(&T::get_static_dtype())
        .map_err(|e| schema(format!("column `{name}`: {e}")))?;
    let ca: &ChunkedArray<T> = cast
        .as_materialized_series()
        .unpack()
        .map_err(|e| schema(format!("column `{name}`: {e}")))?;
    Ok(ca.iter().collect())
}

/// Reads one store file.
pub fn read_entry(path: &Path) -> Result<HistoryEntry, HistoryStoreError> {
    let file = File::open(path).map_err(io_err(path))?;
    let df = ParquetReader::new(file).finish().map_err(pl_err(path))?;
    let first = |name: &str| -> Result<String, HistoryStoreError> {
        Ok(text(&df, name, path)?
            .get(0)
            .unwrap_or_default()
            .to_string())
    };
    let labels_text = first(LABELS)?;
    let labels: BTreeMap<String, String> = if labels_text.is_empty() {
        BTreeMap::new()
    } else {
        serde_json::from_str(&labels_text).map_err(|e| HistoryStoreError::Schema {
            path: path.to_path_buf(),
            message: format!("column `{LABELS}` is not a JSON object of strings: {e}"),
        })?
    };
    let provenance = Provenance {
        commit: first(COMMIT)?,
        date: first(DATE)?,
        experiment: first(EXPERIMENT)?,
        rustc: first(RUSTC)?,
        cpu: first(CPU)?,
        arch: first(ARCH)?,
        os: first(OS)?,
        optbench_version: first(OPTBENCH_VERSION)?,
        labels,
    };
    let series_id = str_col(&df, SERIES_ID, path)?;
    let cell_id = str_col(&df, CELL_ID, path)?;
    let problem = str_col(&df, PROBLEM, path)?;
    let dataset = str_col(&df, DATASET, path)?;
    let optimizer = str_col(&df, OPTIMIZER, path)?;
    let label = str_col(&df, LABEL, path)?;
    let metric = str_col(&df, METRIC, path)?;
    let median = num_col::<Float64Type>(&df, MEDIAN, path)?;
    let q25 = num_col::<Float64Type>(&df, Q25, path)?;
    let q75 = num_col::<Float64Type>(&df, Q75, path)?;
    let n = num_col::<UInt64Type>(&df, N, path)?;
    let runs = num_col::<UInt64Type>(&df, RUNS, path)?;
    let diverged = num_col::<UInt64Type>(&df, DIVERGED, path)?;
    let failed = num_col::<UInt64Type>(&df, FAILED, path)?;
    let rows = (0..df.height())
        .map(|i| HistoryRow {
            series_id: series_id[i].clone().unwrap_or_default(),
            cell_id: cell_id[i].clone().unwrap_or_default(),
            problem: problem[i].clone().unwrap_or_default(),
            dataset: dataset[i].clone(),
            optimizer: optimizer[i].clone().unwrap_or_default(),
            label: label[i].clone().unwrap_or_default(),
            metric: metric[i].clone().unwrap_or_default(),
            median: median[i],
            q25: q25[i],
            q75: q75[i],
            n: n[i].unwrap_or(0),
            runs: runs[i].unwrap_or(0),
            diverged: diverged[i].unwrap_or(0),
            failed: failed[i].unwrap_or(0),
        })
        .collect();
    Ok(HistoryEntry { provenance, rows })
}

#[cfg(test)]
mod tests;
