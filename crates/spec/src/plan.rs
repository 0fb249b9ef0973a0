//! The resolved plan: every run of an experiment, fully specified.
//!
//! A [`Plan`] is what the experiment file expands to after the grid, `zip`, `exclude`, seeds and
//! `--set` overrides are applied and every value has been validated. Everything downstream
//! (the sweep, sharding, results) works from these types alone.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Every run of one experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The experiment's `name`.
    pub experiment: String,
    /// Seeds of the experiment (`seeds: 3` means `[0, 1, 2]`).
    pub seeds: Vec<u64>,
    /// The resolved experiment as YAML text (written to `experiment.yaml`).
    pub resolved_yaml: String,
    /// The runs, cells × seeds, in a stable order.
    pub runs: Vec<RunSpec>,
}

/// One run: a cell (problem variant × train variant × optimizer variant) and a seed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// Stable hash (blake3 of canonical JSON) of everything that determines the run.
    pub run_id: String,
    /// Stable hash of the cell: the run without its seed.
    pub cell_id: String,
    /// Readable label, e.g. `adam lr=0.001`.
    pub label: String,
    /// The problem variant.
    pub problem: ProblemSpec,
    /// The optimizer variant.
    pub optimizer: OptimizerSpec,
    /// The training-loop variant.
    pub train: TrainSpec,
    /// The user's seed `s` (0, 1, 2, ...).
    pub seed: u64,
    /// The seed that data order, initialisation and data sample derive from: a function of
    /// (experiment, problem variant, `seed`) only, so every optimizer sees the same data.
    pub data_seed: u64,
}

/// A problem variant: its name and every key (canonical JSON, defaults filled in), including
/// the `dataset` mapping for problems on data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProblemSpec {
    pub name: String,
    pub params: Map<String, Value>,
}

impl ProblemSpec {
    /// The dataset's name, for problems on data.
    pub fn dataset_name(&self) -> Option<&str> {
        self.params.get("dataset")?.get("name")?.as_str()
    }
}

/// An optimizer variant: its name and every hyperparameter (canonical JSON, defaults filled).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerSpec {
    pub name: String,
    pub hparams: Map<String, Value>,
    /// Learning-rate schedule (per-optimizer value, else the experiment's), as canonical JSON.
    pub schedule: Option<Value>,
}

/// How many examples a gradient sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchSize {
    /// The whole training set (gradient descent).
    Full,
    /// `n` examples (1 is SGD, more is mini-batch SGD).
    Examples(usize),
}

/// How long to train.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Budget {
    Steps(u64),
    Epochs(u64),
}

/// A training-loop variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainSpec {
    pub budget: Budget,
    pub batch_size: BatchSize,
    /// Record metrics every this many steps (and at step 0 and the last step).
    pub eval_every: u64,
    /// Size of the fixed subset the train loss is evaluated on (None: the whole training set).
    pub eval_train_examples: Option<usize>,
    /// Clip the gradient to this global 2-norm before each step.
    pub clip_grad_norm: Option<f64>,
    /// Clip each gradient element to [-v, v] before each step.
    pub clip_grad_value: Option<f64>,
}
