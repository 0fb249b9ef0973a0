//! The resolved plan: every run of an experiment, typed and fully specified.
//!
//! A [`Plan`] is what the experiment file expands to after the grid, `zip`, `exclude`, seeds and
//! `--set` overrides are applied and every value has been validated. It holds each distinct
//! problem, optimizer and training variant once, typed ([`ProblemSpec`], [`OptimizerSpec`],
//! [`TrainSpec`]), and the cells as indices into them; runs are cells × seeds and are made on
//! demand ([`Plan::run`], [`Plan::runs`]), ids included. A grid of a million runs is a few
//! megabytes, not a million JSON maps.
//!
//! Everything downstream (the sweep, sharding, results) works from these types; nobody parses
//! JSON to get a setting back. Each variant also keeps its canonical description (the mapping of
//! every key with defaults filled in), which is what ids hash and what the `hp_`/`p_` columns of
//! `runs.parquet` show.

use std::sync::Arc;

use optbench_models::ProblemConfig;
use optbench_optim::{OptimizerConfig, ScheduleConfig};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids;

/// Version tag mixed into every hash; bump it when the meaning of a resolved run changes.
pub const ID_VERSION: u64 = 1;

/// A problem variant: its validated configuration and its canonical keys.
#[derive(Clone, Debug, PartialEq)]
pub struct ProblemSpec {
    /// The configuration the run is built from.
    pub config: ProblemConfig,
    /// Every key of the problem with defaults filled in (`ProblemConfig::to_json`), as ids hash
    /// it; `train.eval_train_examples` already copied in where it applies.
    pub params: Map<String, Value>,
}

impl ProblemSpec {
    /// From a validated configuration.
    pub fn new(config: ProblemConfig) -> Self {
        let params = config.to_json();
        ProblemSpec { config, params }
    }

    /// The problem's YAML name.
    pub fn name(&self) -> &'static str {
        self.config.name()
    }

    /// The dataset's name, for problems on data.
    pub fn dataset_name(&self) -> Option<&'static str> {
        self.config.dataset().map(|d| d.name())
    }
}

/// An optimizer variant: the validated optimizer and its learning-rate schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerSpec {
    /// The optimizer and every hyperparameter.
    pub config: OptimizerConfig,
    /// The schedule (per-optimizer, else the experiment's), if any.
    pub schedule: Option<ScheduleConfig>,
    /// Every hyperparameter with defaults filled in, as ids hash it.
    pub hparams: Map<String, Value>,
    /// The schedule's canonical keys, as ids hash them.
    pub schedule_json: Option<Value>,
}

impl OptimizerSpec {
    /// From a validated optimizer and schedule.
    pub fn new(config: OptimizerConfig, schedule: Option<ScheduleConfig>) -> Self {
        let hparams = config.to_json();
        let schedule_json = schedule.as_ref().map(ScheduleConfig::to_json);
        OptimizerSpec {
            config,
            schedule,
            hparams,
            schedule_json,
        }
    }

    /// The optimizer's YAML name.
    pub fn name(&self) -> &'static str {
        self.config.name()
    }

    /// The base learning rate.
    pub fn lr(&self) -> f64 {
        self.config.lr()
    }
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
    /// Size of the fixed subset the train loss is evaluated on (None: the problem's own).
    pub eval_train_examples: Option<usize>,
    /// Clip the gradient to this global 2-norm before each step.
    pub clip_grad_norm: Option<f64>,
    /// Clip each gradient element to [-v, v] before each step.
    pub clip_grad_value: Option<f64>,
}

impl TrainSpec {
    /// The canonical text ids hash (keys sorted; see [`crate::ids`]).
    pub fn canonical(&self) -> String {
        let mut s = String::from("{\"batch_size\":");
        match self.batch_size {
            BatchSize::Full => s.push_str("\"full\""),
            BatchSize::Examples(n) => s.push_str(&format!("{{\"examples\":{n}}}")),
        }
        s.push_str(",\"budget\":");
        match self.budget {
            Budget::Steps(n) => s.push_str(&format!("{{\"steps\":{n}}}")),
            Budget::Epochs(n) => s.push_str(&format!("{{\"epochs\":{n}}}")),
        }
        let float = |s: &mut String, x: Option<f64>| match x {
            Some(x) => ids::write_float(s, x),
            None => s.push_str("null"),
        };
        s.push_str(",\"clip_grad_norm\":");
        float(&mut s, self.clip_grad_norm);
        s.push_str(",\"clip_grad_value\":");
        float(&mut s, self.clip_grad_value);
        s.push_str(&format!(",\"eval_every\":{}", self.eval_every));
        s.push_str(",\"eval_train_examples\":");
        match self.eval_train_examples {
            Some(n) => s.push_str(&n.to_string()),
            None => s.push_str("null"),
        }
        s.push('}');
        s
    }
}

/// One run: a cell (problem variant × train variant × optimizer variant) and a seed.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// Stable hash of everything that determines the run ([`crate::ids`]).
    pub run_id: String,
    /// Stable hash of the cell: the run without its seed.
    pub cell_id: String,
    /// Readable label, e.g. `adam lr=0.001`.
    pub label: String,
    /// The problem variant.
    pub problem: Arc<ProblemSpec>,
    /// The optimizer variant.
    pub optimizer: Arc<OptimizerSpec>,
    /// The training-loop variant.
    pub train: Arc<TrainSpec>,
    /// The user's seed `s` (0, 1, 2, ...).
    pub seed: u64,
    /// The seed that data order, initialisation and data sample derive from: a function of
    /// (experiment seed, problem variant, `seed`) only, so every optimizer sees the same data.
    pub data_seed: u64,
}

/// A cell of a grid: indices into the plan's variant tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cell {
    /// Index into [`Grid::problems`].
    pub problem: u32,
    /// Index into [`Grid::trains`].
    pub train: u32,
    /// Index into [`Grid::optimizers`].
    pub optimizer: u32,
}

/// The runs of an expanded experiment: variant tables, cells and the texts ids hash.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    /// The experiment seed (`seed`), part of every id.
    pub experiment_seed: u64,
    /// Distinct problem variants (with `train.eval_train_examples` applied).
    pub problems: Vec<Arc<ProblemSpec>>,
    /// Distinct training-loop variants.
    pub trains: Vec<Arc<TrainSpec>>,
    /// Distinct optimizer variants.
    pub optimizers: Vec<Arc<OptimizerSpec>>,
    /// The cells, in plan order (problems × train × optimizers, last varying fastest), without
    /// excluded or duplicate cells.
    pub cells: Vec<Cell>,
    /// The label of each cell.
    pub labels: Vec<String>,
    problem_texts: Vec<String>,
    data_texts: Vec<String>,
    train_texts: Vec<String>,
    optimizer_texts: Vec<String>,
}

impl Grid {
    /// A grid from its tables; the canonical texts are computed here, once per variant.
    pub fn new(
        experiment_seed: u64,
        problems: Vec<Arc<ProblemSpec>>,
        trains: Vec<Arc<TrainSpec>>,
        optimizers: Vec<Arc<OptimizerSpec>>,
        cells: Vec<Cell>,
        labels: Vec<String>,
    ) -> Self {
        let problem_texts = problems.iter().map(|p| problem_text(p, false)).collect();
        let data_texts = problems.iter().map(|p| problem_text(p, true)).collect();
        let train_texts = trains.iter().map(|t| t.canonical()).collect();
        let optimizer_texts = optimizers.iter().map(|o| optimizer_text(o)).collect();
        Grid {
            experiment_seed,
            problems,
            trains,
            optimizers,
            cells,
            labels,
            problem_texts,
            data_texts,
            train_texts,
            optimizer_texts,
        }
    }

    /// The text a cell's id hashes, with the seed when given (then it is the run's).
    fn cell_text(&self, cell: Cell, seed: Option<u64>) -> String {
        let mut s = format!(
            "{{\"experiment_seed\":{},\"optimizer\":{},\"problem\":{}",
            self.experiment_seed,
            self.optimizer_texts[cell.optimizer as usize],
            self.problem_texts[cell.problem as usize]
        );
        if let Some(seed) = seed {
            s.push_str(&format!(",\"seed\":{seed}"));
        }
        s.push_str(&format!(
            ",\"train\":{},\"v\":{ID_VERSION}}}",
            self.train_texts[cell.train as usize]
        ));
        s
    }

    /// The id of cell `c`.
    pub fn cell_id(&self, c: usize) -> String {
        ids::hash_hex(&self.cell_text(self.cells[c], None))
    }

    /// The id of the run of cell `c` with seed `seed`.
    pub fn run_id(&self, c: usize, seed: u64) -> String {
        ids::hash_hex(&self.cell_text(self.cells[c], Some(seed)))
    }

    /// The data seed of the runs of cell `c` with seed `seed`: it depends on the problem variant
    /// (without `eval_train_examples` and a network's `init`) and the seed only.
    pub fn data_seed(&self, c: usize, seed: u64) -> u64 {
        let p = self.cells[c].problem as usize;
        ids::hash_u64(&format!(
            "{{\"experiment_seed\":{},\"problem\":{},\"seed\":{seed},\"v\":{ID_VERSION}}}",
            self.experiment_seed, self.data_texts[p]
        ))
    }
}

/// `{"name":…,"params":{…}}`; for the data seed without `eval_train_examples` and without a
/// network's `init` (`deepobs` or `{file: ...}`, not an analytic problem's start point): a run
/// started from a weights file sees the split, batch order and dropout masks of the run it came
/// from (`optbench init`), so the two can be compared step by step.
fn problem_text(p: &ProblemSpec, for_data: bool) -> String {
    let mut params = p.params.clone();
    if for_data {
        params.remove("eval_train_examples");
        if params
            .get("init")
            .is_some_and(|v| v.is_string() || v.is_object())
        {
            params.remove("init");
        }
    }
    let mut s = String::from("{\"name\":");
    ids::write_string(&mut s, p.name());
    s.push_str(",\"params\":");
    ids::write_map(&mut s, &params);
    s.push('}');
    s
}

/// `{"hparams":{…},"name":…,"schedule":…}`.
fn optimizer_text(o: &OptimizerSpec) -> String {
    let mut s = String::from("{\"hparams\":");
    ids::write_map(&mut s, &o.hparams);
    s.push_str(",\"name\":");
    ids::write_string(&mut s, o.name());
    s.push_str(",\"schedule\":");
    match &o.schedule_json {
        Some(v) => ids::write_canonical(&mut s, v),
        None => s.push_str("null"),
    }
    s.push('}');
    s
}

/// Where a plan's runs come from.
#[derive(Clone, Debug, PartialEq)]
enum Runs {
    /// An expanded experiment: cells × seeds, made on demand.
    Grid(Grid),
    /// Runs given one by one (tests, tools that build plans by hand).
    Listed(Vec<RunSpec>),
}

/// Every run of one experiment.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The experiment's `name`.
    pub experiment: String,
    /// Seeds of the experiment (`seeds: 3` means `[0, 1, 2]`).
    pub seeds: Vec<u64>,
    /// The resolved experiment as YAML text (written to `experiment.yaml`).
    pub resolved_yaml: String,
    runs: Runs,
}

impl Plan {
    /// The plan of an expanded grid.
    pub fn from_grid(
        experiment: String,
        seeds: Vec<u64>,
        resolved_yaml: String,
        grid: Grid,
    ) -> Self {
        Plan {
            experiment,
            seeds,
            resolved_yaml,
            runs: Runs::Grid(grid),
        }
    }

    /// A plan of runs given one by one, in order.
    pub fn from_runs(
        experiment: impl Into<String>,
        seeds: Vec<u64>,
        resolved_yaml: impl Into<String>,
        runs: Vec<RunSpec>,
    ) -> Self {
        Plan {
            experiment: experiment.into(),
            seeds,
            resolved_yaml: resolved_yaml.into(),
            runs: Runs::Listed(runs),
        }
    }

    /// The grid, for plans expanded from an experiment file.
    pub fn grid(&self) -> Option<&Grid> {
        match &self.runs {
            Runs::Grid(g) => Some(g),
            Runs::Listed(_) => None,
        }
    }

    /// Number of runs.
    pub fn len(&self) -> usize {
        match &self.runs {
            Runs::Grid(g) => g.cells.len() * self.seeds.len(),
            Runs::Listed(r) => r.len(),
        }
    }

    /// Whether the plan has no run.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Run `i` (cells in plan order, seeds varying fastest).
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn run(&self, i: usize) -> RunSpec {
        match &self.runs {
            Runs::Listed(r) => r[i].clone(),
            Runs::Grid(g) => {
                let (c, k) = (i / self.seeds.len(), i % self.seeds.len());
                let cell = g.cells[c];
                let seed = self.seeds[k];
                RunSpec {
                    run_id: g.run_id(c, seed),
                    cell_id: g.cell_id(c),
                    label: g.labels[c].clone(),
                    problem: Arc::clone(&g.problems[cell.problem as usize]),
                    optimizer: Arc::clone(&g.optimizers[cell.optimizer as usize]),
                    train: Arc::clone(&g.trains[cell.train as usize]),
                    seed,
                    data_seed: g.data_seed(c, seed),
                }
            }
        }
    }

    /// The id of run `i`, without building the rest of the run.
    pub fn run_id(&self, i: usize) -> String {
        match &self.runs {
            Runs::Listed(r) => r[i].run_id.clone(),
            Runs::Grid(g) => g.run_id(i / self.seeds.len(), self.seeds[i % self.seeds.len()]),
        }
    }

    /// The cell id and seed of run `i` (what decides its shard).
    pub fn cell_and_seed(&self, i: usize) -> (String, u64) {
        match &self.runs {
            Runs::Listed(r) => (r[i].cell_id.clone(), r[i].seed),
            Runs::Grid(g) => (
                g.cell_id(i / self.seeds.len()),
                self.seeds[i % self.seeds.len()],
            ),
        }
    }

    /// Every run, in order.
    pub fn runs(&self) -> impl ExactSizeIterator<Item = RunSpec> + '_ {
        (0..self.len()).map(|i| self.run(i))
    }

    /// Number of cells.
    pub fn cell_count(&self) -> usize {
        match &self.runs {
            Runs::Grid(g) => g.cells.len(),
            Runs::Listed(r) => listed_cells(r).len(),
        }
    }

    /// Cell `c`: its variants, label and number of runs (its id is [`Plan::cell_id`]).
    pub fn cell(&self, c: usize) -> CellInfo {
        match &self.runs {
            Runs::Grid(g) => {
                let cell = g.cells[c];
                CellInfo {
                    problem: Arc::clone(&g.problems[cell.problem as usize]),
                    optimizer: Arc::clone(&g.optimizers[cell.optimizer as usize]),
                    train: Arc::clone(&g.trains[cell.train as usize]),
                    label: g.labels[c].clone(),
                    runs: self.seeds.len(),
                }
            }
            Runs::Listed(r) => {
                let (first, runs) = listed_cells(r)[c];
                let spec = &r[first];
                CellInfo {
                    problem: Arc::clone(&spec.problem),
                    optimizer: Arc::clone(&spec.optimizer),
                    train: Arc::clone(&spec.train),
                    label: spec.label.clone(),
                    runs,
                }
            }
        }
    }

    /// The id of cell `c`.
    pub fn cell_id(&self, c: usize) -> String {
        match &self.runs {
            Runs::Grid(g) => g.cell_id(c),
            Runs::Listed(r) => r[listed_cells(r)[c].0].cell_id.clone(),
        }
    }
}

/// A cell of a plan, for summaries.
#[derive(Clone, Debug)]
pub struct CellInfo {
    pub problem: Arc<ProblemSpec>,
    pub optimizer: Arc<OptimizerSpec>,
    pub train: Arc<TrainSpec>,
    pub label: String,
    /// Its number of runs (seeds).
    pub runs: usize,
}

/// The distinct cells of listed runs, in order of first appearance: (first run, run count).
fn listed_cells(runs: &[RunSpec]) -> Vec<(usize, usize)> {
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        match index.get(r.cell_id.as_str()) {
            Some(&c) => out[c].1 += 1,
            None => {
                index.insert(&r.cell_id, out.len());
                out.push((i, 1));
            }
        }
    }
    out
}
