//! A finished run in memory: its status, its metric rows and its outcome.

use crate::schema::{STATUS_DIVERGED, STATUS_FAILED, STATUS_OK};

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

    pub(crate) fn code(self) -> u8 {
        match self {
            RunStatus::Ok => 0,
            RunStatus::Diverged => 1,
            RunStatus::Failed => 2,
        }
    }

    pub(crate) fn from_code(code: u8) -> Option<Self> {
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
    /// Accuracy on the training examples of `train_loss` (classifiers).
    pub train_accuracy: Option<f64>,
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
