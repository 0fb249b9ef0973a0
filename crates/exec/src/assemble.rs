//! Assembling a run from its spec: the problem (`optbench-models`), the optimizer and schedule
//! (`optbench-optim`) and the batch order, with datasets loaded once per sweep and shared.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use optbench_models::{Batcher, Dataset, ModelError, Problem};
use optbench_optim::{DynOptimizer, OptimError, ScheduleConfig};
use optbench_results::ParquetTables;
use optbench_spec::plan::{BatchSize, RunSpec};

/// A learning-rate schedule: the rate of update `step` (0-based) of a run of `total_steps`.
pub trait LrSchedule: Send {
    /// The learning rate of update `step`, from the base rate `base_lr`.
    fn lr_at(&self, base_lr: f64, step: u64, total_steps: u64) -> f64;
}

/// The order in which training examples are visited.
pub trait BatchSource: Send {
    /// The indices of the next minibatch (into the training split).
    fn next_batch(&mut self) -> &[usize];
    /// Minibatches per pass over the training set.
    fn batches_per_epoch(&self) -> u64;
}

/// Everything a run needs, built from its spec (see `sweep` for how).
pub struct RunParts {
    /// The objective.
    pub problem: Box<dyn Problem>,
    /// The optimizer, built for `problem.dim()` parameters.
    pub optimizer: Box<dyn DynOptimizer>,
    /// The base learning rate.
    pub base_lr: f64,
    /// The schedule (None: constant `base_lr`).
    pub schedule: Option<Box<dyn LrSchedule>>,
    /// The batch order.
    pub batches: Box<dyn BatchSource>,
}

/// Builds the pieces of one run from its spec. Implementations are shared by the worker
/// threads.
pub trait RunBuilder: Sync {
    /// The problem, optimizer, schedule and batch order of `spec`; an error makes the run
    /// `failed`.
    fn build(&self, spec: &RunSpec) -> Result<RunParts, RunError>;
}

impl BatchSource for Batcher {
    fn next_batch(&mut self) -> &[usize] {
        Batcher::next_batch(self)
    }
    fn batches_per_epoch(&self) -> u64 {
        Batcher::batches_per_epoch(self) as u64
    }
}

/// Builds runs from `optbench-models` problems and `optbench-optim` optimizers and schedules.
///
/// Datasets are loaded once per sweep for each distinct loaded data (the dataset's keys, plus
/// the seed for synthetic data) and shared by every run that uses them (`Arc<Dataset>`); the
/// problem (its train/test split, initial point, noise) and the batch order are derived from the
/// run's `data_seed`.
pub struct StandardBuilder {
    base_dir: PathBuf,
    data: Cache<Arc<Dataset>>,
}

impl StandardBuilder {
    /// A builder resolving relative data paths against `base_dir`.
    pub fn new(base_dir: &Path) -> Self {
        Self {
            base_dir: base_dir.to_path_buf(),
            data: Cache::default(),
        }
    }

    /// The problem of `spec`: its dataset loaded once per sweep, its split, initial point
    /// (a weights file resolved against the experiment's folder) and noise from `data_seed`.
    /// `optbench init` writes the initial weights of this problem.
    pub fn problem(&self, spec: &RunSpec) -> Result<Box<dyn Problem>, RunError> {
        let config = &spec.problem.config;
        let data = match config.dataset() {
            None => None,
            Some(ds) => {
                let key = ds.load_key(spec.data_seed);
                let data = self
                    .data
                    .get_or_load(&key, || {
                        optbench_models::load_dataset_with(
                            ds,
                            spec.data_seed,
                            &self.base_dir,
                            &ParquetTables,
                        )
                        .map_err(|e| e.to_string())
                    })
                    .map_err(RunError::Data)?;
                Some(data)
            }
        };
        Ok(optbench_models::build_problem_in(
            config,
            data,
            spec.data_seed,
            &self.base_dir,
        )?)
    }
}

impl RunBuilder for StandardBuilder {
    fn build(&self, spec: &RunSpec) -> Result<RunParts, RunError> {
        let problem = self.problem(spec)?;
        let optimizer = spec.optimizer.config.build(problem.dim())?;
        let schedule = spec
            .optimizer
            .schedule
            .clone()
            .map(|s| Box::new(s) as Box<dyn LrSchedule>);
        let batch = match spec.train.batch_size {
            BatchSize::Full => optbench_models::BatchSize::Full,
            BatchSize::Examples(n) => optbench_models::BatchSize::Examples(n),
        };
        let batches = Box::new(Batcher::new(problem.train_len(), batch, spec.data_seed));
        Ok(RunParts {
            problem,
            optimizer,
            base_lr: spec.optimizer.lr(),
            schedule,
            batches,
        })
    }
}

impl LrSchedule for ScheduleConfig {
    fn lr_at(&self, base_lr: f64, step: u64, total_steps: u64) -> f64 {
        ScheduleConfig::lr_at(self, base_lr, step, total_steps)
    }
}

/// Why a run could not be built or did not finish; every variant but
/// [`RunError::Stopped`] makes the run `failed`, with this error's text as its message.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The problem cannot be built (incompatible data, bad initial weights...).
    #[error(transparent)]
    Problem(#[from] ModelError),
    /// The dataset cannot be loaded.
    #[error("{0}")]
    Data(String),
    /// The optimizer cannot be built or rejected a step.
    #[error(transparent)]
    Optimizer(#[from] OptimError),
    /// The optimizer rejected update `step`.
    #[error("optimizer step {step}: {source}")]
    Step {
        /// The update (0-based).
        step: u64,
        /// What the optimizer said.
        source: OptimError,
    },
    /// The problem gave an initial point of the wrong size (a bug in a problem).
    #[error("problem `{problem}` returned {got} initial parameters for dimension {dim}")]
    InitialParams {
        /// The problem's name.
        problem: &'static str,
        /// Parameters returned.
        got: usize,
        /// The problem's dimension.
        dim: usize,
    },
    /// The stop flag was raised (Ctrl-C, a signal); the run is abandoned and not recorded.
    #[error("stopped")]
    Stopped,
}

/// Loaded datasets shared by the runs of a sweep, keyed by what identifies the loaded data;
/// each is loaded once even when several runs ask for it at the same time.
pub struct Cache<T> {
    #[allow(clippy::type_complexity)]
    map: Mutex<HashMap<String, Arc<OnceLock<Result<T, String>>>>>,
}

impl<T> Default for Cache<T> {
    fn default() -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone> Cache<T> {
    /// The value for `key`, computed by `load` on first use (errors are cached too).
    pub fn get_or_load(
        &self,
        key: &str,
        load: impl FnOnce() -> Result<T, String>,
    ) -> Result<T, String> {
        let cell = {
            let mut map = self
                .map
                .lock()
                .map_err(|_| "dataset cache poisoned".to_string())?;
            Arc::clone(map.entry(key.to_string()).or_default())
        };
        cell.get_or_init(load).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_loads_once() {
        let cache: Cache<Arc<u32>> = Cache::default();
        let mut calls = 0;
        let a = cache.get_or_load("k", || {
            calls += 1;
            Ok(Arc::new(1))
        });
        let b = cache.get_or_load("k", || Err("not called".into()));
        assert_eq!(calls, 1);
        assert!(Arc::ptr_eq(&a.unwrap(), &b.unwrap()));
    }
}
