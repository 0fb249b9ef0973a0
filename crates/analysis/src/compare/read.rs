//! Reading the two sides of a comparison: the files of a results folder (through the results
//! crate, which owns all Parquet I/O) and the columns of a runs table, checked once.

use std::path::Path;

use polars::prelude::*;

use super::{CompareError, METRICS_FILE, RUNS_FILE};
use optbench_results::select::read_parquet_columns;
use optbench_results::{
    CELL_ID, DATASET, LABEL, PROBLEM, RUN_ID, ResultsError, SEED, STATUS, STATUS_DIVERGED,
    STATUS_FAILED, STATUS_OK, read_parquet,
};

/// The error of reading `<dir>/<file>` for one side; `missing` says what it means that the
/// file does not exist.
fn read_error(
    dir: &Path,
    file: &str,
    side: &'static str,
    missing: &str,
    e: ResultsError,
) -> CompareError {
    let message = match e {
        ResultsError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            missing.to_string()
        }
        ResultsError::Io { source, .. } => source.to_string(),
        ResultsError::Polars { source, .. } => format!("not a readable Parquet file: {source}"),
        ResultsError::CorruptPart { message, .. } => message,
    };
    CompareError::Read {
        side,
        path: dir.join(file),
        message,
    }
}

/// Reads `<dir>/runs.parquet`.
pub(crate) fn read_runs(dir: &Path, side: &'static str) -> Result<DataFrame, CompareError> {
    read_parquet(&dir.join(RUNS_FILE)).map_err(|e| {
        read_error(
            dir,
            RUNS_FILE,
            side,
            "no such file (is this a results folder?)",
            e,
        )
    })
}

/// Reads the `columns` of `<dir>/metrics.parquet` that it has (missing ones are reported by
/// the comparison as not comparable); `why` names the option that needs the file.
pub(crate) fn read_metrics(
    dir: &Path,
    side: &'static str,
    columns: &[&str],
    why: &str,
) -> Result<DataFrame, CompareError> {
    read_parquet_columns(&dir.join(METRICS_FILE), columns).map_err(|e| {
        read_error(
            dir,
            METRICS_FILE,
            side,
            &format!("no such file ({why} needs the metrics of every run)"),
            e,
        )
    })
}

/// The columns of one side, extracted once.
pub(crate) struct Side {
    pub(crate) run_id: Vec<String>,
    pub(crate) cell_id: Vec<String>,
    pub(crate) seed: Vec<u64>,
    pub(crate) status: Vec<u8>,
    pub(crate) desc: Vec<String>,
    /// Per selected metric, per run.
    pub(crate) metrics: Vec<Vec<Option<f64>>>,
}

pub(crate) fn status_rank(s: &str) -> Option<u8> {
    match s {
        STATUS_OK => Some(0),
        STATUS_DIVERGED => Some(1),
        STATUS_FAILED => Some(2),
        _ => None,
    }
}

pub(crate) fn status_name(rank: u8) -> &'static str {
    match rank {
        0 => STATUS_OK,
        1 => STATUS_DIVERGED,
        _ => STATUS_FAILED,
    }
}

/// A numeric column as f64, or why it is missing or not numeric; `file` names the table in the
/// message (`baseline runs.parquet`).
pub(crate) fn f64_column(df: &DataFrame, name: &str, file: &str) -> Result<Float64Chunked, String> {
    let col = df
        .column(name)
        .map_err(|_| format!("the {file} has no `{name}` column"))?;
    if !(col.dtype().is_primitive_numeric() || col.dtype().is_null()) {
        return Err(format!(
            "column `{name}` of the {file} is {}, not a number",
            col.dtype()
        ));
    }
    col.cast(&DataType::Float64)
        .and_then(|c| c.f64().cloned())
        .map_err(|e| format!("column `{name}` ({file}): {e}"))
}

/// A text column, or why it is missing or not text; `file` names the table in the message.
pub(crate) fn text_column(df: &DataFrame, name: &str, file: &str) -> Result<StringChunked, String> {
    let col = df
        .column(name)
        .map_err(|_| format!("the {file} has no `{name}` column"))?;
    col.str()
        .cloned()
        .map_err(|_| format!("column `{name}` of the {file} is {}, not text", col.dtype()))
}

/// [`f64_column`] as values, empty with the reason in `problems` when it is missing.
pub(crate) fn number_column(
    df: &DataFrame,
    name: &str,
    file: &str,
    problems: &mut Vec<String>,
) -> Vec<Option<f64>> {
    f64_column(df, name, file)
        .map(|ca| ca.iter().collect())
        .unwrap_or_else(|e| {
            problems.push(e);
            Vec::new()
        })
}

/// [`text_column`] as owned values, empty with the reason in `problems` when it is missing.
pub(crate) fn str_column(
    df: &DataFrame,
    name: &str,
    file: &str,
    problems: &mut Vec<String>,
) -> Vec<Option<String>> {
    text_column(df, name, file)
        .map(|ca| ca.iter().map(|v| v.map(str::to_owned)).collect())
        .unwrap_or_else(|e| {
            problems.push(e);
            Vec::new()
        })
}

impl Side {
    pub(crate) fn extract(
        df: &DataFrame,
        side: &str,
        metrics: &[String],
    ) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let file = format!("{side} runs.parquet");
        let file = file.as_str();
        let run_id = str_column(df, RUN_ID, file, &mut problems);
        let cell_id = str_column(df, CELL_ID, file, &mut problems);
        let status = str_column(df, STATUS, file, &mut problems);
        let problem = str_column(df, PROBLEM, file, &mut problems);
        let label = str_column(df, LABEL, file, &mut problems);
        let dataset = match df.column(DATASET) {
            Ok(_) => str_column(df, DATASET, file, &mut problems),
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
        let metric_values: Vec<Vec<Option<f64>>> = metrics
            .iter()
            .map(|m| number_column(df, m, file, &mut problems))
            .collect();
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

    pub(crate) fn key(&self, i: usize) -> (&str, u64) {
        (&self.cell_id[i], self.seed[i])
    }

    pub(crate) fn describe(&self, i: usize) -> String {
        format!(
            "{} seed {} (cell {})",
            self.desc[i],
            self.seed[i],
            short(&self.cell_id[i])
        )
    }
}

pub(crate) fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// How many examples a "missing" message lists.
const SHOW: usize = 5;

pub(crate) fn list_missing(what: &str, items: &[String]) -> String {
    let mut s = format!("{} {what}", items.len());
    s.push_str(": ");
    s.push_str(&items[..items.len().min(SHOW)].join(", "));
    if items.len() > SHOW {
        s.push_str(", ...");
    }
    s
}
