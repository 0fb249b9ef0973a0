//! Reading `runs.parquet` and `metrics.parquet` into plain vectors.
//!
//! The files are read by `optbench-results` (the only crate that reads or writes Parquet), and
//! the columns are named by its constants (the schema is documented there and in
//! `docs/format.md`). Integer columns may be UInt64 or Int64; every numeric column is read as
//! `f64`, nulls become `NaN`. Grouping into problem variants and configurations is in
//! [`super::group`], the per-step quantities in [`super::quantity`].

pub use super::group::{
    Config, ProblemGroup, Summary, aggregate, best_per_optimizer, compare_scores, config_score,
    group_runs, summarize,
};
pub use super::quantity::{Metric, SelectBy, XAxis};

use optbench_results::{self as col, ResultsError};
use polars::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A failure to read a results file; names the file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: Box<ResultsError>,
    },
    #[error("{} lacks the column `{column}` (or it has the wrong type): {source}", path.display())]
    Column {
        path: PathBuf,
        column: String,
        source: PolarsError,
    },
}

/// Outcome of a run (`status` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Ok,
    Diverged,
    Failed,
}

/// One row of `runs.parquet`.
#[derive(Clone, Debug)]
pub struct Run {
    pub run_id: String,
    pub cell_id: String,
    pub problem: String,
    pub dataset: Option<String>,
    pub optimizer: String,
    pub label: String,
    pub seed: u64,
    /// `data_seed` (what the problem instance was built with), if recorded.
    pub data_seed: Option<u64>,
    /// `batch_size` (full batch is the training-set size); NaN when null.
    pub batch_size: f64,
    /// Whether the batch was the whole training set: every step was one epoch (`epochs ==
    /// steps`, and at least one step).
    pub full_batch: bool,
    /// The base learning rate (`lr` column); NaN when null.
    pub lr: f64,
    pub status: Status,
    pub final_train_loss: f64,
    pub final_test_loss: f64,
    pub final_test_accuracy: f64,
    pub best_train_loss: f64,
    pub wall_time_s: f64,
    /// The `p_*` columns, `name=value`, in column order (problem variant key).
    pub problem_params: Vec<(String, String)>,
    /// The `hp_*` columns but `hp_lr`, `name=value`, in column order: with the optimizer and
    /// the schedule, what makes an optimizer setting ([`Config::family`]).
    pub hparams: Vec<(String, String)>,
    /// The `schedule` column (canonical JSON), if any.
    pub schedule: Option<String>,
}

/// Recorded metrics of one run, sorted by step; NaN where null.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub step: Vec<f64>,
    pub epoch: Vec<f64>,
    pub examples_seen: Vec<f64>,
    pub wall_time_s: Vec<f64>,
    pub lr: Vec<f64>,
    pub train_loss: Vec<f64>,
    pub batch_loss: Vec<f64>,
    pub test_loss: Vec<f64>,
    pub test_accuracy: Vec<f64>,
    pub train_accuracy: Vec<f64>,
    pub grad_norm: Vec<f64>,
    pub update_norm: Vec<f64>,
    pub x0: Vec<f64>,
    pub x1: Vec<f64>,
}

/// Where the frames of a results folder come from and how their columns are read.
struct Frame {
    df: DataFrame,
    path: PathBuf,
}

impl Frame {
    fn read(
        path: PathBuf,
        read: impl FnOnce() -> Result<DataFrame, ResultsError>,
    ) -> Result<Self, DataError> {
        let df = read().map_err(|source| DataError::Read {
            path: path.clone(),
            source: Box::new(source),
        })?;
        Ok(Frame { df, path })
    }

    fn err(&self, column: &str) -> impl FnOnce(PolarsError) -> DataError + '_ {
        let column = column.to_owned();
        move |source| DataError::Column {
            path: self.path.clone(),
            column,
            source,
        }
    }

    /// A numeric column as f64 (NaN for nulls; all NaN when absent and not `required`).
    fn f64s(&self, name: &str, required: bool) -> Result<Vec<f64>, DataError> {
        let col = match self.df.column(name) {
            Ok(c) => c,
            Err(e) if required => return Err(self.err(name)(e)),
            Err(_) => return Ok(vec![f64::NAN; self.df.height()]),
        };
        let col = col.cast(&DataType::Float64).map_err(self.err(name))?;
        let ca = col.f64().map_err(self.err(name))?;
        Ok(ca.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    }

    /// A text column (all `None` when absent and not `required`).
    fn strs(&self, name: &str, required: bool) -> Result<Vec<Option<String>>, DataError> {
        let col = match self.df.column(name) {
            Ok(c) => c,
            Err(e) if required => return Err(self.err(name)(e)),
            Err(_) => return Ok(vec![None; self.df.height()]),
        };
        let ca = col.str().map_err(self.err(name))?;
        Ok(ca.iter().map(|v| v.map(str::to_owned)).collect())
    }

    /// The columns whose name starts with `prefix` (but `skip`), as `name=value` text per row
    /// (the prefix removed, nulls left out).
    fn prefixed(&self, prefix: &str, skip: &[&str]) -> Vec<Vec<(String, String)>> {
        let cols: Vec<&Column> = self
            .df
            .get_column_names()
            .into_iter()
            .filter(|n| n.starts_with(prefix) && !skip.contains(&n.as_str()))
            .filter_map(|n| self.df.column(n).ok())
            .collect();
        (0..self.df.height())
            .map(|i| {
                cols.iter()
                    .filter_map(|c| {
                        let text = match c.get(i).ok()? {
                            AnyValue::Null => return None,
                            AnyValue::String(s) => s.to_owned(),
                            AnyValue::StringOwned(s) => s.to_string(),
                            AnyValue::Float64(x) => number_text(x),
                            AnyValue::Float32(x) => number_text(f64::from(x)),
                            other => other.to_string(),
                        };
                        Some((c.name().trim_start_matches(prefix).to_owned(), text))
                    })
                    .collect()
            })
            .collect()
    }
}

/// A number as the experiment file would spell it: `0`, `0.9`, `1e-5`.
pub fn number_text(x: f64) -> String {
    if x.is_finite() && x.fract().abs() < f64::MIN_POSITIVE && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// Reads `runs.parquet` of a results folder.
pub fn read_runs(dir: &Path) -> Result<Vec<Run>, DataError> {
    let names = col::OutputNames::new(None);
    let f = Frame::read(dir.join(&names.runs), || col::read_runs(dir))?;
    let run_id = f.strs(col::RUN_ID, true)?;
    let cell_id = f.strs(col::CELL_ID, false)?;
    let problem = f.strs(col::PROBLEM, true)?;
    let dataset = f.strs(col::DATASET, false)?;
    let optimizer = f.strs(col::OPTIMIZER, true)?;
    let label = f.strs(col::LABEL, false)?;
    let status = f.strs(col::STATUS, true)?;
    let schedule = f.strs(col::SCHEDULE, false)?;
    let seed = f.f64s(col::SEED, false)?;
    let data_seed = f.f64s(col::DATA_SEED, false)?;
    let batch_size = f.f64s(col::BATCH_SIZE, false)?;
    let lr = f.f64s(col::LR, false)?;
    let ftl = f.f64s(col::FINAL_TRAIN_LOSS, false)?;
    let fvl = f.f64s(col::FINAL_TEST_LOSS, false)?;
    let fta = f.f64s(col::FINAL_TEST_ACCURACY, false)?;
    let btl = f.f64s(col::BEST_TRAIN_LOSS, false)?;
    let wall = f.f64s(col::WALL_TIME_S, false)?;
    let steps = f.f64s(col::STEPS, false)?;
    let epochs = f.f64s(col::EPOCHS, false)?;
    let params = f.prefixed(col::P_PREFIX, &[]);
    let lr_column = format!("{}{}", col::HP_PREFIX, col::LR);
    let hparams = f.prefixed(col::HP_PREFIX, &[lr_column.as_str()]);
    let mut runs = Vec::with_capacity(f.df.height());
    for (i, (problem_params, hparams)) in params.into_iter().zip(hparams).enumerate() {
        let optimizer = optimizer[i].clone().unwrap_or_default();
        runs.push(Run {
            run_id: run_id[i].clone().unwrap_or_default(),
            cell_id: cell_id[i]
                .clone()
                .or_else(|| label[i].clone())
                .unwrap_or_default(),
            problem: problem[i].clone().unwrap_or_default(),
            dataset: dataset[i].clone(),
            label: label[i].clone().unwrap_or_else(|| optimizer.clone()),
            optimizer,
            seed: if seed[i].is_finite() {
                seed[i] as u64
            } else {
                0
            },
            data_seed: data_seed[i].is_finite().then_some(data_seed[i] as u64),
            batch_size: batch_size[i],
            full_batch: steps[i] >= 1.0 && (epochs[i] - steps[i]).abs() <= 1e-9 * steps[i],
            lr: lr[i],
            status: match status[i].as_deref() {
                Some(col::STATUS_OK) => Status::Ok,
                Some(col::STATUS_DIVERGED) => Status::Diverged,
                _ => Status::Failed,
            },
            final_train_loss: ftl[i],
            final_test_loss: fvl[i],
            final_test_accuracy: fta[i],
            best_train_loss: btl[i],
            wall_time_s: wall[i],
            problem_params,
            hparams,
            schedule: schedule[i].clone(),
        });
    }
    Ok(runs)
}

/// Reads `metrics.parquet` of a results folder: one [`Series`] per run id, sorted by step.
pub fn read_metrics(dir: &Path) -> Result<HashMap<String, Series>, DataError> {
    let names = col::OutputNames::new(None);
    let f = Frame::read(dir.join(&names.metrics), || col::read_metrics(dir))?;
    let ids = f.strs(col::RUN_ID, true)?;
    let step = f.f64s(col::STEP, true)?;
    let c = |name: &str| f.f64s(name, false);
    let (epoch, examples, wall, lr) = (
        c(col::EPOCH)?,
        c(col::EXAMPLES_SEEN)?,
        c(col::WALL_TIME_S)?,
        c(col::LR)?,
    );
    let (train, batch, test, acc) = (
        c(col::TRAIN_LOSS)?,
        c(col::BATCH_LOSS)?,
        c(col::TEST_LOSS)?,
        c(col::TEST_ACCURACY)?,
    );
    let (grad, update, x0, x1) = (
        c(col::GRAD_NORM)?,
        c(col::UPDATE_NORM)?,
        c(col::X0)?,
        c(col::X1)?,
    );
    // Absent from results written before the column existed: all NaN then.
    let train_acc = c(col::TRAIN_ACCURACY)?;
    let mut rows: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, id) in ids.iter().enumerate() {
        if let Some(id) = id {
            rows.entry(id.as_str()).or_default().push(i);
        }
    }
    let mut out = HashMap::with_capacity(rows.len());
    for (id, mut idx) in rows {
        idx.sort_by(|&a, &b| step[a].total_cmp(&step[b]));
        let take = |c: &Vec<f64>| idx.iter().map(|&i| c[i]).collect::<Vec<f64>>();
        let s = Series {
            step: take(&step),
            epoch: take(&epoch),
            examples_seen: take(&examples),
            wall_time_s: take(&wall),
            lr: take(&lr),
            train_loss: take(&train),
            batch_loss: take(&batch),
            test_loss: take(&test),
            test_accuracy: take(&acc),
            train_accuracy: take(&train_acc),
            grad_norm: take(&grad),
            update_norm: take(&update),
            x0: take(&x0),
            x1: take(&x1),
        };
        out.insert(id.to_owned(), s);
    }
    Ok(out)
}
