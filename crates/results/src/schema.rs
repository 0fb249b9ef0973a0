//! The results schema: column names, file names and where part files live.

use std::path::{Path, PathBuf};

use optbench_spec::shard::Shard;

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
/// Accuracy on the training examples of `train_loss` (classifiers).
pub const TRAIN_ACCURACY: &str = "train_accuracy";

/// `status` of a run that finished its budget.
pub const STATUS_OK: &str = "ok";
/// `status` of a run whose loss or parameters became non-finite.
pub const STATUS_DIVERGED: &str = "diverged";
/// `status` of a run that could not be built or panicked.
pub const STATUS_FAILED: &str = "failed";

/// The columns of `metrics.parquet`, in order.
pub const METRICS_COLUMNS: [&str; 15] = [
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
    TRAIN_ACCURACY,
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
