//! Results on disk: the Parquet schema (docs/format.md, "Results"), part files, consolidation,
//! readers.
//!
//! # Layout of a result folder
//!
//! ```text
//! <out>/
//!   parts/<run_id>.part      one finished run (temporary file, fsync, rename: see [`atomic`])
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
//! problems with exactly two; null otherwise), [`TRAIN_ACCURACY`] (for classifiers, the accuracy on
//! the examples of `train_loss`; null otherwise).
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

pub mod atomic;
mod consolidate;
mod dataset;
mod error;
pub mod history;
mod part;
pub mod process;
mod read;
mod record;
mod runs_table;
mod schema;
pub mod select;

pub use atomic::{AtomicFile, remove_stale_temps, write_atomic};
pub use consolidate::{Consolidated, METRICS_ROW_GROUP, consolidate};
pub use dataset::ParquetTables;
pub use error::ResultsError;
pub use part::{decode_part, encode_part, read_part, write_part};
pub use read::{read_metrics, read_parquet, read_runs, write_parquet};
pub use record::{MetricRow, RunOutcome, RunStatus};
pub use schema::*;
