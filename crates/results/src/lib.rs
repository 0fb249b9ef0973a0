//! Results on disk: the Parquet schema (DESIGN.md §5), part files, consolidation, readers.
//!
//! # Layout of a result folder
//!
//! ```text
//! <out>/
//!   parts/<run_id>.part      one finished run (written to a temporary name, then renamed)
//!   runs.parquet             one row per finished run, in plan order
//!   metrics.parquet          one row per (run, recorded step), in plan order then step order
//!   experiment.yaml          the resolved experiment
//!   manifest.json            provenance (see `sweep`)
//! ```
//!
//! With `--shard I/N` the consolidated files are named per shard so that shards sharing a
//! folder never collide: `runs.shard-I-of-N.parquet`, `metrics.shard-I-of-N.parquet`,
//! `manifest.shard-I-of-N.json` (see [`OutputNames`]); the part files are per run and shared.
//! `optbench merge` combines the shard files into `runs.parquet` and `metrics.parquet`.
//!
//! # Columns
//!
//! `runs.parquet`: [`RUN_ID`], [`CELL_ID`], [`EXPERIMENT`], [`PROBLEM`], [`DATASET`],
//! [`OPTIMIZER`], [`LABEL`], [`SEED`], [`DATA_SEED`], [`BATCH_SIZE`] (full batch written as the
//! training-set size; null if the run failed before its data was loaded), [`LR`] (base learning
//! rate), [`HPARAMS`] (canonical JSON of every optimizer hyperparameter), [`SCHEDULE`] (canonical
//! JSON or null), then `hp_<name>` for every optimizer hyperparameter and `p_<name>` for every
//! problem parameter (nested mappings such as `dataset` flattened with `_`, e.g.
//! `p_dataset_samples`; numbers as Float64, booleans as Boolean, strings as Utf8, lists and
//! mixed types as JSON strings; null where a run lacks the key; sorted by name), then
//! [`STATUS`] (`ok | diverged | failed`), [`ERROR`], [`STEPS`] (updates done), [`EPOCHS`]
//! (examples seen / training-set size, Float64), [`FINAL_TRAIN_LOSS`], [`FINAL_TEST_LOSS`],
//! [`FINAL_TEST_ACCURACY`] (values of the last recorded row), [`BEST_TRAIN_LOSS`] (smallest
//! finite recorded train loss), [`WALL_TIME_S`].
//!
//! `metrics.parquet`: [`RUN_ID`], [`STEP`], [`EPOCH`] (examples seen / training-set size,
//! fractional), [`EXAMPLES_SEEN`], [`WALL_TIME_S`] (since the run started), [`LR`] (learning
//! rate of the update that led to this row; at step 0 the rate of the first update),
//! [`TRAIN_LOSS`], [`BATCH_LOSS`] (mean minibatch loss since the previous row; null at step 0),
//! [`TEST_LOSS`], [`TEST_ACCURACY`] (null where the problem has none), [`GRAD_NORM`] (2-norm of
//! the gradient of the last update, before clipping; null at step 0), [`UPDATE_NORM`]
//! (‖θ_t − θ_{t−1}‖₂ of the last update; null at step 0), [`X0`], [`X1`] (the parameters, for
//! problems with exactly two; null otherwise).
//!
//! Types: ids, names and JSON are Utf8; `seed`, `data_seed`, `batch_size`, `steps`, `step`,
//! `examples_seen` are UInt64; everything else numeric is Float64. Files are written with zstd
//! compression and read as they are by polars, pandas and pyarrow.
//!
//! # Determinism
//!
//! `wall_time_s` (both files) is the only column that depends on the machine and its load.
//! Every other column is a function of the experiment, the seed and the binary: the same
//! experiment gives the same values bit for bit whatever `--jobs` is and whether the sweep was
//! resumed. Compare results with `wall_time_s` dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde_json::{Map, Value};

use optbench_spec::ids;
use optbench_spec::plan::{BatchSize, RunSpec};
use optbench_spec::shard::Shard;

pub mod history;
pub mod select;

// ---- column names -------------------------------------------------------------------------

/// Stable hash of the resolved run (both files).
pub const RUN_ID: &str = "run_id";
/// Stable hash of the cell (the run without its seed).
pub const CELL_ID: &str = "cell_id";
/// The experiment's name.
pub const EXPERIMENT: &str = "experiment";
/// Problem name.
pub const PROBLEM: &str = "problem";
/// Dataset name (null for analytic problems).
pub const DATASET: &str = "dataset";
/// Optimizer name.
pub const OPTIMIZER: &str = "optimizer";
/// Readable label of the cell.
pub const LABEL: &str = "label";
/// The user's seed.
pub const SEED: &str = "seed";
/// The seed data order, initialisation and data sample derive from.
pub const DATA_SEED: &str = "data_seed";
/// Examples per gradient (full batch written as the training-set size).
pub const BATCH_SIZE: &str = "batch_size";
/// Learning rate: the base rate in runs, the rate of the step in metrics.
pub const LR: &str = "lr";
/// Canonical JSON of all optimizer hyperparameters.
pub const HPARAMS: &str = "hparams";
/// Canonical JSON of the learning-rate schedule (null: constant).
pub const SCHEDULE: &str = "schedule";
/// Prefix of flattened optimizer hyperparameters.
pub const HP_PREFIX: &str = "hp_";
/// Prefix of flattened problem parameters.
pub const P_PREFIX: &str = "p_";
/// `ok | diverged | failed`.
pub const STATUS: &str = "status";
/// Error message of a failed run.
pub const ERROR: &str = "error";
/// Updates done.
pub const STEPS: &str = "steps";
/// Epochs done (examples seen / training-set size).
pub const EPOCHS: &str = "epochs";
/// Train loss of the last recorded row.
pub const FINAL_TRAIN_LOSS: &str = "final_train_loss";
/// Test loss of the last recorded row.
pub const FINAL_TEST_LOSS: &str = "final_test_loss";
/// Test accuracy of the last recorded row.
pub const FINAL_TEST_ACCURACY: &str = "final_test_accuracy";
/// Smallest finite recorded train loss.
pub const BEST_TRAIN_LOSS: &str = "best_train_loss";
/// Seconds of wall-clock time (the only non-deterministic column).
pub const WALL_TIME_S: &str = "wall_time_s";

/// Parameter updates done before this row.
pub const STEP: &str = "step";
/// Fractional epoch of this row.
pub const EPOCH: &str = "epoch";
/// Training examples that went through a gradient so far.
pub const EXAMPLES_SEEN: &str = "examples_seen";
/// Objective on the training set (or its evaluation subset).
pub const TRAIN_LOSS: &str = "train_loss";
/// Mean minibatch loss since the previous row.
pub const BATCH_LOSS: &str = "batch_loss";
/// Objective on the test split.
pub const TEST_LOSS: &str = "test_loss";
/// Accuracy on the test split.
pub const TEST_ACCURACY: &str = "test_accuracy";
/// 2-norm of the last gradient, before clipping.
pub const GRAD_NORM: &str = "grad_norm";
/// ‖θ_t − θ_{t−1}‖₂ of the last update.
pub const UPDATE_NORM: &str = "update_norm";
/// First parameter (2-parameter problems).
pub const X0: &str = "x0";
/// Second parameter (2-parameter problems).
pub const X1: &str = "x1";

/// `status` of a run that finished its budget.
pub const STATUS_OK: &str = "ok";
/// `status` of a run whose loss or parameters became non-finite.
pub const STATUS_DIVERGED: &str = "diverged";
/// `status` of a run that could not be built or panicked.
pub const STATUS_FAILED: &str = "failed";

/// The columns of `metrics.parquet`, in order.
pub const METRICS_COLUMNS: [&str; 14] = [
    RUN_ID,
    STEP,
    EPOCH,
    EXAMPLES_SEEN,
    WALL_TIME_S,
    LR,
    TRAIN_LOSS,
    BATCH_LOSS,
    TEST_LOSS,
    TEST_ACCURACY,
    GRAD_NORM,
    UPDATE_NORM,
    X0,
    X1,
];

/// The fixed columns of `runs.parquet` before the `hp_*`/`p_*` columns, in order.
pub const RUNS_LEADING_COLUMNS: [&str; 13] = [
    RUN_ID, CELL_ID, EXPERIMENT, PROBLEM, DATASET, OPTIMIZER, LABEL, SEED, DATA_SEED, BATCH_SIZE,
    LR, HPARAMS, SCHEDULE,
];

/// The fixed columns of `runs.parquet` after the `hp_*`/`p_*` columns, in order.
pub const RUNS_TRAILING_COLUMNS: [&str; 9] = [
    STATUS,
    ERROR,
    STEPS,
    EPOCHS,
    FINAL_TRAIN_LOSS,
    FINAL_TEST_LOSS,
    FINAL_TEST_ACCURACY,
    BEST_TRAIN_LOSS,
    WALL_TIME_S,
];

// ---- file names ---------------------------------------------------------------------------

/// Folder of the part files inside a result folder.
pub const PARTS_DIR: &str = "parts";
/// Extension of a finished part file.
pub const PART_EXT: &str = "part";
/// The resolved experiment.
pub const EXPERIMENT_YAML: &str = "experiment.yaml";

/// Names of the consolidated files of a sweep or of one shard of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputNames {
    /// `runs.parquet` or `runs.shard-I-of-N.parquet`.
    pub runs: String,
    /// `metrics.parquet` or `metrics.shard-I-of-N.parquet`.
    pub metrics: String,
    /// `manifest.json` or `manifest.shard-I-of-N.json`.
    pub manifest: String,
}

impl OutputNames {
    /// Names for the whole plan (`shard = None`) or for one shard (tagged with
    /// [`Shard::tag`], `shard-I-of-N`).
    pub fn new(shard: Option<Shard>) -> Self {
        match shard {
            None => Self {
                runs: "runs.parquet".into(),
                metrics: "metrics.parquet".into(),
                manifest: "manifest.json".into(),
            },
            Some(s) => Self {
                runs: format!("runs.{}.parquet", s.tag()),
                metrics: format!("metrics.{}.parquet", s.tag()),
                manifest: format!("manifest.{}.json", s.tag()),
            },
        }
    }
}

/// The path of the part file of `run_id` in result folder `dir`.
pub fn part_path(dir: &Path, run_id: &str) -> PathBuf {
    dir.join(PARTS_DIR).join(format!("{run_id}.{PART_EXT}"))
}

// ---- errors -------------------------------------------------------------------------------

/// What can go wrong while writing or reading results.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// A file or folder that cannot be created, written, read or renamed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A part file that is truncated or not a part file.
    #[error("{}: corrupt part file: {message}", path.display())]
    CorruptPart {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Polars failed to build, write or read a frame.
    #[error("{}: {source}", path.display())]
    Polars {
        /// The Parquet file.
        path: PathBuf,
        /// The underlying error.
        source: PolarsError,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ResultsError + '_ {
    move |source| ResultsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn pl_err(path: &Path) -> impl FnOnce(PolarsError) -> ResultsError + '_ {
    move |source| ResultsError::Polars {
        path: path.to_path_buf(),
        source,
    }
}

// ---- in-memory records --------------------------------------------------------------------

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunStatus {
    /// The run finished its budget with finite losses.
    Ok,
    /// The loss or the parameters became non-finite (a result, not an error).
    Diverged,
    /// The run could not be built, returned an error or panicked.
    Failed,
}

impl RunStatus {
    /// The value written in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Ok => STATUS_OK,
            RunStatus::Diverged => STATUS_DIVERGED,
            RunStatus::Failed => STATUS_FAILED,
        }
    }

    fn code(self) -> u8 {
        match self {
            RunStatus::Ok => 0,
            RunStatus::Diverged => 1,
            RunStatus::Failed => 2,
        }
    }

    fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(RunStatus::Ok),
            1 => Some(RunStatus::Diverged),
            2 => Some(RunStatus::Failed),
            _ => None,
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of `metrics.parquet` (without the run id).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MetricRow {
    /// Parameter updates done.
    pub step: u64,
    /// Examples seen / training-set size.
    pub epoch: f64,
    /// Training examples that went through a gradient.
    pub examples_seen: u64,
    /// Seconds since the run started (not deterministic).
    pub wall_time_s: f64,
    /// Learning rate of the last update (of the first one at step 0).
    pub lr: Option<f64>,
    /// Training objective.
    pub train_loss: Option<f64>,
    /// Mean minibatch loss since the previous row.
    pub batch_loss: Option<f64>,
    /// Test loss.
    pub test_loss: Option<f64>,
    /// Test accuracy.
    pub test_accuracy: Option<f64>,
    /// Norm of the last gradient before clipping.
    pub grad_norm: Option<f64>,
    /// Norm of the last update.
    pub update_norm: Option<f64>,
    /// First parameter (2-parameter problems).
    pub x0: Option<f64>,
    /// Second parameter (2-parameter problems).
    pub x1: Option<f64>,
}

/// The result of one run: everything that is not already in its [`RunSpec`].
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutcome {
    /// The run's id.
    pub run_id: String,
    /// How it ended.
    pub status: RunStatus,
    /// The error message of a failed run.
    pub error: Option<String>,
    /// Updates done (for a diverged run: the step at which divergence was detected).
    pub steps: u64,
    /// Examples seen / training-set size.
    pub epochs: f64,
    /// Training-set size (None if the run failed before its problem was built).
    pub train_len: Option<u64>,
    /// Seconds the run took (not deterministic).
    pub wall_time_s: f64,
    /// The recorded rows, in step order.
    pub metrics: Vec<MetricRow>,
}

impl RunOutcome {
    /// A failed run with no metrics.
    pub fn failed(run_id: &str, message: String, wall_time_s: f64) -> Self {
        Self {
            run_id: run_id.to_string(),
            status: RunStatus::Failed,
            error: Some(message),
            steps: 0,
            epochs: 0.0,
            train_len: None,
            wall_time_s,
            metrics: Vec::new(),
        }
    }
}

// ---- part files ---------------------------------------------------------------------------
//
// Binary, little-endian, exact (floats as their bits, so a resumed sweep is bit-identical):
//   magic b"OBPART01"
//   str run_id | u8 status | u8 has_error [str error] | u64 steps | f64 epochs
//   | u8 has_train_len [u64 train_len] | f64 wall_time_s | u64 n_rows
//   n_rows × ( u64 step | f64 epoch | u64 examples_seen | f64 wall_time_s
//              | u16 presence bits of the 9 optional columns | the present f64 values )
//   magic b"OBPARTEND"
// where str is u64 length + UTF-8 bytes.

const PART_MAGIC: &[u8; 8] = b"OBPART01";
const PART_END: &[u8; 9] = b"OBPARTEND";

fn put_u64(buf: &mut Vec<u8>, v: u64) {
    buf.extend_from_slice(&v.to_le_bytes());
}
fn put_f64(buf: &mut Vec<u8>, v: f64) {
    buf.extend_from_slice(&v.to_bits().to_le_bytes());
}
fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_u64(buf, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

/// Serialises an outcome into the part-file format.
pub fn encode_part(outcome: &RunOutcome) -> Vec<u8> {
    let mut buf = Vec::with_capacity(128 + outcome.metrics.len() * 112);
    buf.extend_from_slice(PART_MAGIC);
    put_str(&mut buf, &outcome.run_id);
    buf.push(outcome.status.code());
    match &outcome.error {
        Some(e) => {
            buf.push(1);
            put_str(&mut buf, e);
        }
        None => buf.push(0),
    }
    put_u64(&mut buf, outcome.steps);
    put_f64(&mut buf, outcome.epochs);
    match outcome.train_len {
        Some(n) => {
            buf.push(1);
            put_u64(&mut buf, n);
        }
        None => buf.push(0),
    }
    put_f64(&mut buf, outcome.wall_time_s);
    put_u64(&mut buf, outcome.metrics.len() as u64);
    for row in &outcome.metrics {
        put_u64(&mut buf, row.step);
        put_f64(&mut buf, row.epoch);
        put_u64(&mut buf, row.examples_seen);
        put_f64(&mut buf, row.wall_time_s);
        let opts = optional_values(row);
        let mut bits = 0u16;
        for (k, v) in opts.iter().enumerate() {
            if v.is_some() {
                bits |= 1 << k;
            }
        }
        buf.extend_from_slice(&bits.to_le_bytes());
        for v in opts.iter().flatten() {
            put_f64(&mut buf, *v);
        }
    }
    buf.extend_from_slice(PART_END);
    buf
}

fn optional_values(row: &MetricRow) -> [Option<f64>; 9] {
    [
        row.lr,
        row.train_loss,
        row.batch_loss,
        row.test_loss,
        row.test_accuracy,
        row.grad_norm,
        row.update_norm,
        row.x0,
        row.x1,
    ]
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or_else(|| format!("truncated at byte {}", self.pos))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u64(&mut self) -> Result<u64, String> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_bits(self.u64()?))
    }
    fn str(&mut self) -> Result<String, String> {
        let n = usize::try_from(self.u64()?).map_err(|e| e.to_string())?;
        let b = self.take(n)?;
        String::from_utf8(b.to_vec()).map_err(|e| e.to_string())
    }
    fn flag(&mut self) -> Result<bool, String> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(format!("bad flag byte {b} at byte {}", self.pos - 1)),
        }
    }
}

/// Parses the part-file format written by [`encode_part`].
pub fn decode_part(buf: &[u8]) -> Result<RunOutcome, String> {
    let mut c = Cursor { buf, pos: 0 };
    if c.take(PART_MAGIC.len())? != PART_MAGIC {
        return Err("not an optbench part file (bad magic)".into());
    }
    let run_id = c.str()?;
    let status = RunStatus::from_code(c.u8()?).ok_or("bad status code")?;
    let error = if c.flag()? { Some(c.str()?) } else { None };
    let steps = c.u64()?;
    let epochs = c.f64()?;
    let train_len = if c.flag()? { Some(c.u64()?) } else { None };
    let wall_time_s = c.f64()?;
    let n = usize::try_from(c.u64()?).map_err(|e| e.to_string())?;
    // Each row takes at least 34 bytes: refuse absurd counts before allocating.
    if n > buf.len() / 34 {
        return Err(format!("row count {n} does not fit the file"));
    }
    let mut metrics = Vec::with_capacity(n);
    for _ in 0..n {
        let step = c.u64()?;
        let epoch = c.f64()?;
        let examples_seen = c.u64()?;
        let wall = c.f64()?;
        let bits = c.u16()?;
        let mut vals = [None; 9];
        for (k, v) in vals.iter_mut().enumerate() {
            if bits & (1 << k) != 0 {
                *v = Some(c.f64()?);
            }
        }
        metrics.push(MetricRow {
            step,
            epoch,
            examples_seen,
            wall_time_s: wall,
            lr: vals[0],
            train_loss: vals[1],
            batch_loss: vals[2],
            test_loss: vals[3],
            test_accuracy: vals[4],
            grad_norm: vals[5],
            update_norm: vals[6],
            x0: vals[7],
            x1: vals[8],
        });
    }
    if c.take(PART_END.len())? != PART_END {
        return Err("bad end marker".into());
    }
    if c.pos != buf.len() {
        return Err("trailing bytes after the end marker".into());
    }
    Ok(RunOutcome {
        run_id,
        status,
        error,
        steps,
        epochs,
        train_len,
        wall_time_s,
        metrics,
    })
}

/// Writes `bytes` to `path` atomically: to a temporary name in the same folder, then renamed.
/// A reader (or a resumed sweep) sees either no file or the complete file, even after `kill -9`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ResultsError> {
    let tmp = tmp_path(path);
    fs::write(&tmp, bytes).map_err(io_err(&tmp))?;
    fs::rename(&tmp, path).map_err(io_err(path))
}

/// A temporary sibling of `path`, unique per process and thread.
pub(crate) fn tmp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tid = format!("{:?}", std::thread::current().id());
    let tid: String = tid.chars().filter(char::is_ascii_digit).collect();
    path.with_file_name(format!(".{name}.tmp-{}-{tid}", std::process::id()))
}

/// Writes the part file of a finished run into `<dir>/parts/` (atomically).
pub fn write_part(dir: &Path, outcome: &RunOutcome) -> Result<(), ResultsError> {
    write_atomic(&part_path(dir, &outcome.run_id), &encode_part(outcome))
}

/// Reads a part file.
pub fn read_part(path: &Path) -> Result<RunOutcome, ResultsError> {
    let mut buf = Vec::new();
    File::open(path)
        .and_then(|f| BufReader::new(f).read_to_end(&mut buf))
        .map_err(io_err(path))?;
    decode_part(&buf).map_err(|message| ResultsError::CorruptPart {
        path: path.to_path_buf(),
        message,
    })
}

// ---- flattening of parameters -------------------------------------------------------------

/// A flattened parameter value.
#[derive(Clone, Debug, PartialEq)]
enum Flat {
    Num(f64),
    Bool(bool),
    Str(String),
    /// Lists and anything else: canonical JSON text.
    Json(String),
}

/// Flattens a JSON mapping into `prefix<key>` entries; nested mappings join keys with `_`.
fn flatten_into(prefix: &str, map: &Map<String, Value>, out: &mut BTreeMap<String, Flat>) {
    for (k, v) in map {
        let name = format!("{prefix}{k}");
        match v {
            Value::Null => {}
            Value::Bool(b) => {
                out.insert(name, Flat::Bool(*b));
            }
            Value::Number(n) => {
                if let Some(x) = n.as_f64() {
                    out.insert(name, Flat::Num(x));
                }
            }
            Value::String(s) => {
                out.insert(name, Flat::Str(s.clone()));
            }
            Value::Array(_) => {
                out.insert(name, Flat::Json(ids::canonical(v)));
            }
            Value::Object(m) => flatten_into(&format!("{name}_"), m, out),
        }
    }
}

/// The `hp_*` and `p_*` entries of a run.
fn flat_params(spec: &RunSpec) -> BTreeMap<String, Flat> {
    let mut out = BTreeMap::new();
    flatten_into(HP_PREFIX, &spec.optimizer.hparams, &mut out);
    flatten_into(P_PREFIX, &spec.problem.params, &mut out);
    out
}

/// Builds one column from the flattened values of every row, choosing its type: Float64 if all
/// present values are numbers, Boolean if all are booleans, else Utf8 (JSON text for lists and
/// for numbers or booleans mixed with other types).
fn flat_column(name: &str, values: &[Option<&Flat>]) -> Column {
    let present = || values.iter().flatten();
    if present().all(|v| matches!(v, Flat::Num(_))) {
        let col: Vec<Option<f64>> = values
            .iter()
            .map(|v| match v {
                Some(Flat::Num(x)) => Some(*x),
                _ => None,
            })
            .collect();
        return Column::new(name.into(), col);
    }
    if present().all(|v| matches!(v, Flat::Bool(_))) {
        let col: Vec<Option<bool>> = values
            .iter()
            .map(|v| match v {
                Some(Flat::Bool(b)) => Some(*b),
                _ => None,
            })
            .collect();
        return Column::new(name.into(), col);
    }
    let col: Vec<Option<String>> = values
        .iter()
        .map(|v| {
            v.map(|f| match f {
                Flat::Num(x) => {
                    let mut s = String::new();
                    ids::write_float(&mut s, *x);
                    s
                }
                Flat::Bool(b) => b.to_string(),
                Flat::Str(s) | Flat::Json(s) => s.clone(),
            })
        })
        .collect();
    Column::new(name.into(), col)
}

// ---- the runs table -----------------------------------------------------------------------

/// One row of `runs.parquet`, built from the plan's spec and the run's outcome.
#[derive(Clone, Debug)]
struct RunRow {
    run_id: String,
    cell_id: String,
    problem: String,
    dataset: Option<String>,
    optimizer: String,
    label: String,
    seed: u64,
    data_seed: u64,
    batch_size: Option<u64>,
    lr: Option<f64>,
    hparams: String,
    schedule: Option<String>,
    flat: BTreeMap<String, Flat>,
    status: &'static str,
    error: Option<String>,
    steps: u64,
    epochs: f64,
    final_train_loss: Option<f64>,
    final_test_loss: Option<f64>,
    final_test_accuracy: Option<f64>,
    best_train_loss: Option<f64>,
    wall_time_s: f64,
}

impl RunRow {
    fn new(spec: &RunSpec, outcome: &RunOutcome) -> Self {
        let last = outcome.metrics.last();
        let best = outcome
            .metrics
            .iter()
            .filter_map(|r| r.train_loss)
            .filter(|x| x.is_finite())
            .reduce(f64::min);
        let batch_size = match spec.train.batch_size {
            BatchSize::Examples(n) => Some(n as u64),
            BatchSize::Full => outcome.train_len,
        };
        Self {
            run_id: spec.run_id.clone(),
            cell_id: spec.cell_id.clone(),
            problem: spec.problem.name().to_string(),
            dataset: spec.problem.dataset_name().map(str::to_string),
            optimizer: spec.optimizer.name().to_string(),
            label: spec.label.clone(),
            seed: spec.seed,
            data_seed: spec.data_seed,
            batch_size,
            lr: Some(spec.optimizer.lr()),
            hparams: ids::canonical(&Value::Object(spec.optimizer.hparams.clone())),
            schedule: spec.optimizer.schedule_json.as_ref().map(ids::canonical),
            flat: flat_params(spec),
            status: outcome.status.as_str(),
            error: outcome.error.clone(),
            steps: outcome.steps,
            epochs: outcome.epochs,
            final_train_loss: last.and_then(|r| r.train_loss),
            final_test_loss: last.and_then(|r| r.test_loss),
            final_test_accuracy: last.and_then(|r| r.test_accuracy),
            best_train_loss: best,
            wall_time_s: outcome.wall_time_s,
        }
    }
}

/// Builds the `runs.parquet` frame of `rows` (already in plan order).
fn runs_frame(experiment: &str, rows: &[RunRow]) -> PolarsResult<DataFrame> {
    macro_rules! col {
        ($name:expr, $f:expr) => {
            Column::new($name.into(), rows.iter().map($f).collect::<Vec<_>>())
        };
    }
    let mut cols = vec![
        col!(RUN_ID, |r: &RunRow| r.run_id.clone()),
        col!(CELL_ID, |r: &RunRow| r.cell_id.clone()),
        col!(EXPERIMENT, |_r: &RunRow| experiment.to_string()),
        col!(PROBLEM, |r: &RunRow| r.problem.clone()),
        col!(DATASET, |r: &RunRow| r.dataset.clone()),
        col!(OPTIMIZER, |r: &RunRow| r.optimizer.clone()),
        col!(LABEL, |r: &RunRow| r.label.clone()),
        col!(SEED, |r: &RunRow| r.seed),
        col!(DATA_SEED, |r: &RunRow| r.data_seed),
        col!(BATCH_SIZE, |r: &RunRow| r.batch_size),
        col!(LR, |r: &RunRow| r.lr),
        col!(HPARAMS, |r: &RunRow| r.hparams.clone()),
        col!(SCHEDULE, |r: &RunRow| r.schedule.clone()),
    ];
    let names: BTreeSet<&String> = rows.iter().flat_map(|r| r.flat.keys()).collect();
    for name in names {
        let values: Vec<Option<&Flat>> = rows.iter().map(|r| r.flat.get(name)).collect();
        cols.push(flat_column(name, &values));
    }
    cols.extend([
        col!(STATUS, |r: &RunRow| r.status.to_string()),
        col!(ERROR, |r: &RunRow| r.error.clone()),
        col!(STEPS, |r: &RunRow| r.steps),
        col!(EPOCHS, |r: &RunRow| r.epochs),
        col!(FINAL_TRAIN_LOSS, |r: &RunRow| r.final_train_loss),
        col!(FINAL_TEST_LOSS, |r: &RunRow| r.final_test_loss),
        col!(FINAL_TEST_ACCURACY, |r: &RunRow| r.final_test_accuracy),
        col!(BEST_TRAIN_LOSS, |r: &RunRow| r.best_train_loss),
        col!(WALL_TIME_S, |r: &RunRow| r.wall_time_s),
    ]);
    DataFrame::new(rows.len(), cols)
}

// ---- the metrics table, in batches -------------------------------------------------------

/// Column buffers of `metrics.parquet`, flushed as one row group when full.
#[derive(Default)]
struct MetricsBuffer {
    run_id: Vec<String>,
    step: Vec<u64>,
    epoch: Vec<f64>,
    examples_seen: Vec<u64>,
    wall_time_s: Vec<f64>,
    opt: [Vec<Option<f64>>; 9],
}

impl MetricsBuffer {
    fn len(&self) -> usize {
        self.step.len()
    }

    fn push_run(&mut self, run_id: &str, rows: &[MetricRow]) {
        for r in rows {
            self.run_id.push(run_id.to_string());
            self.step.push(r.step);
            self.epoch.push(r.epoch);
            self.examples_seen.push(r.examples_seen);
            self.wall_time_s.push(r.wall_time_s);
            for (buf, v) in self.opt.iter_mut().zip(optional_values(r)) {
                buf.push(v);
            }
        }
    }

    /// The buffered rows as a frame; the buffers are emptied.
    fn take_frame(&mut self) -> PolarsResult<DataFrame> {
        let n = self.len();
        let opt_names = &METRICS_COLUMNS[5..];
        let mut cols = vec![
            Column::new(RUN_ID.into(), std::mem::take(&mut self.run_id)),
            Column::new(STEP.into(), std::mem::take(&mut self.step)),
            Column::new(EPOCH.into(), std::mem::take(&mut self.epoch)),
            Column::new(
                EXAMPLES_SEEN.into(),
                std::mem::take(&mut self.examples_seen),
            ),
            Column::new(WALL_TIME_S.into(), std::mem::take(&mut self.wall_time_s)),
        ];
        for (name, buf) in opt_names.iter().zip(self.opt.iter_mut()) {
            cols.push(Column::new((*name).into(), std::mem::take(buf)));
        }
        DataFrame::new(n, cols)
    }
}

/// Rows of `metrics.parquet` buffered before a row group is written: bounds the memory of the
/// consolidation whatever the sweep's size.
pub const METRICS_ROW_GROUP: usize = 64 * 1024;

/// What [`consolidate`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Consolidated {
    /// Rows of the runs file (finished runs).
    pub runs: usize,
    /// Rows of the metrics file.
    pub metric_rows: usize,
    /// Runs by status.
    pub ok: usize,
    /// Diverged runs.
    pub diverged: usize,
    /// Failed runs.
    pub failed: usize,
}

/// A Parquet writer into `out`. Polars issues one `write` per page header and page, thousands for
/// a sweep's metrics, so `out` is a [`BufWriter`] (flushed by the caller, which sees its errors).
fn parquet_writer<W: Write>(out: W) -> ParquetWriter<W> {
    ParquetWriter::new(out)
        .with_compression(ParquetCompression::Zstd(None))
        .set_parallel(false)
}

/// Consolidates the part files of `specs` (in the given order; specs without a part file are
/// skipped) into `<dir>/<names.runs>` and `<dir>/<names.metrics>`, each written to a temporary
/// file and renamed. Memory is bounded by one run's part file plus [`METRICS_ROW_GROUP`] metric
/// rows plus one small row per run.
pub fn consolidate(
    dir: &Path,
    experiment: &str,
    specs: impl IntoIterator<Item = RunSpec>,
    names: &OutputNames,
) -> Result<Consolidated, ResultsError> {
    let metrics_path = dir.join(&names.metrics);
    let metrics_tmp = tmp_path(&metrics_path);
    let file = File::create(&metrics_tmp).map_err(io_err(&metrics_tmp))?;
    let mut metrics_out = BufWriter::with_capacity(1 << 20, file);
    let mut buffer = MetricsBuffer::default();
    let schema = buffer
        .take_frame()
        .map_err(pl_err(&metrics_path))?
        .schema()
        .as_ref()
        .clone();
    let mut writer = parquet_writer(&mut metrics_out)
        .batched(&schema)
        .map_err(pl_err(&metrics_path))?;
    let mut rows = Vec::new();
    let mut summary = Consolidated::default();
    for spec in specs {
        let path = part_path(dir, &spec.run_id);
        if !path.exists() {
            continue;
        }
        let outcome = read_part(&path)?;
        match outcome.status {
            RunStatus::Ok => summary.ok += 1,
            RunStatus::Diverged => summary.diverged += 1,
            RunStatus::Failed => summary.failed += 1,
        }
        rows.push(RunRow::new(&spec, &outcome));
        buffer.push_run(&spec.run_id, &outcome.metrics);
        summary.metric_rows += outcome.metrics.len();
        if buffer.len() >= METRICS_ROW_GROUP {
            let df = buffer.take_frame().map_err(pl_err(&metrics_path))?;
            writer.write_batch(&df).map_err(pl_err(&metrics_path))?;
        }
    }
    if buffer.len() > 0 || summary.metric_rows == 0 {
        let df = buffer.take_frame().map_err(pl_err(&metrics_path))?;
        writer.write_batch(&df).map_err(pl_err(&metrics_path))?;
    }
    writer.finish().map_err(pl_err(&metrics_path))?;
    drop(writer);
    metrics_out.flush().map_err(io_err(&metrics_tmp))?;
    drop(metrics_out);
    summary.runs = rows.len();

    let runs_path = dir.join(&names.runs);
    let runs_tmp = tmp_path(&runs_path);
    let mut df = runs_frame(experiment, &rows).map_err(pl_err(&runs_path))?;
    let file = File::create(&runs_tmp).map_err(io_err(&runs_tmp))?;
    let mut runs_out = BufWriter::with_capacity(1 << 20, file);
    parquet_writer(&mut runs_out)
        .finish(&mut df)
        .map_err(pl_err(&runs_path))?;
    runs_out.flush().map_err(io_err(&runs_tmp))?;
    drop(runs_out);
    fs::rename(&metrics_tmp, &metrics_path).map_err(io_err(&metrics_path))?;
    fs::rename(&runs_tmp, &runs_path).map_err(io_err(&runs_path))?;
    Ok(summary)
}

// ---- readers ------------------------------------------------------------------------------

/// Reads a Parquet file into a frame.
pub fn read_parquet(path: &Path) -> Result<DataFrame, ResultsError> {
    let file = File::open(path).map_err(io_err(path))?;
    ParquetReader::new(file).finish().map_err(pl_err(path))
}

/// Reads `<dir>/runs.parquet`.
pub fn read_runs(dir: &Path) -> Result<DataFrame, ResultsError> {
    read_parquet(&dir.join(OutputNames::new(None).runs))
}

/// Reads `<dir>/metrics.parquet`.
pub fn read_metrics(dir: &Path) -> Result<DataFrame, ResultsError> {
    read_parquet(&dir.join(OutputNames::new(None).metrics))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome() -> RunOutcome {
        RunOutcome {
            run_id: "abc".into(),
            status: RunStatus::Diverged,
            error: Some("boom ü".into()),
            steps: 7,
            epochs: 0.5,
            train_len: Some(14),
            wall_time_s: 0.25,
            metrics: vec![
                MetricRow {
                    step: 0,
                    lr: Some(0.1),
                    train_loss: Some(3.0),
                    x0: Some(-1.5),
                    x1: Some(2.0),
                    ..MetricRow::default()
                },
                MetricRow {
                    step: 7,
                    epoch: 0.5,
                    examples_seen: 7,
                    wall_time_s: 0.2,
                    lr: Some(0.1),
                    train_loss: Some(f64::NAN),
                    batch_loss: Some(f64::INFINITY),
                    test_loss: None,
                    test_accuracy: None,
                    grad_norm: Some(-0.0),
                    update_norm: Some(1e300),
                    x0: Some(f64::NEG_INFINITY),
                    x1: None,
                },
            ],
        }
    }

    fn bits(o: &RunOutcome) -> Vec<Vec<Option<u64>>> {
        o.metrics
            .iter()
            .map(|r| {
                let mut v = vec![Some(r.step), Some(r.epoch.to_bits()), Some(r.examples_seen)];
                v.extend(optional_values(r).iter().map(|x| x.map(f64::to_bits)));
                v
            })
            .collect()
    }

    #[test]
    fn part_roundtrip_is_bit_exact() {
        let o = outcome();
        let back = decode_part(&encode_part(&o)).unwrap();
        assert_eq!(back.run_id, o.run_id);
        assert_eq!(back.status, o.status);
        assert_eq!(back.error, o.error);
        assert_eq!(back.steps, 7);
        assert_eq!(back.train_len, Some(14));
        assert_eq!(bits(&back), bits(&o));
    }

    #[test]
    fn truncated_or_foreign_parts_are_rejected() {
        let bytes = encode_part(&outcome());
        for cut in [0, 5, 8, 20, bytes.len() / 2, bytes.len() - 1] {
            assert!(decode_part(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(decode_part(&extra).is_err());
        assert!(decode_part(b"PAR1 not a part file at all").is_err());
    }

    #[test]
    fn shard_names_do_not_collide() {
        let a = OutputNames::new(Some(Shard::new(0, 4).unwrap()));
        let b = OutputNames::new(Some(Shard::new(1, 4).unwrap()));
        let all = OutputNames::new(None);
        assert_eq!(a.runs, "runs.shard-0-of-4.parquet");
        assert_eq!(b.metrics, "metrics.shard-1-of-4.parquet");
        assert_eq!(all.manifest, "manifest.json");
        assert_ne!(a.manifest, b.manifest);
    }

    #[test]
    fn flattening_types_columns() {
        let mut m = BTreeMap::new();
        let hp: Map<String, Value> = serde_json::from_str(
            r#"{"lr": 0.1, "nesterov": true, "betas": [0.9, 0.999], "ds": {"name": "iris", "n": 3}}"#,
        )
        .unwrap();
        flatten_into("hp_", &hp, &mut m);
        assert_eq!(m["hp_lr"], Flat::Num(0.1));
        assert_eq!(m["hp_nesterov"], Flat::Bool(true));
        assert_eq!(m["hp_betas"], Flat::Json("[0.9,0.999]".into()));
        assert_eq!(m["hp_ds_name"], Flat::Str("iris".into()));
        assert_eq!(m["hp_ds_n"], Flat::Num(3.0));
        let mixed = [Some(&Flat::Num(1.0)), None, Some(&Flat::Bool(true))];
        let c = flat_column("x", &mixed);
        assert_eq!(c.dtype(), &DataType::String);
        let nums = [Some(&Flat::Num(1.0)), None];
        assert_eq!(flat_column("y", &nums).dtype(), &DataType::Float64);
    }
}
