//! Assembling a run from its spec: the problem (`optbench-models`), the optimizer and schedule
//! (`optbench-optim`) and the batch order, with datasets loaded once per sweep and shared.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use optbench_models::{Batcher, Dataset, Problem, ProblemConfig};
use optbench_optim::DynOptimizer;
use optbench_spec::plan::{BatchSize, RunSpec};
use serde_json::Value;

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
    /// The problem, optimizer, schedule and batch order of `spec`; an error message makes the
    /// run `failed`.
    fn build(&self, spec: &RunSpec) -> Result<RunParts, String>;
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
}

impl RunBuilder for StandardBuilder {
    fn build(&self, spec: &RunSpec) -> Result<RunParts, String> {
        let name = &spec.problem.name;
        let mut keys = spec.problem.params.clone();
        if let Some(n) = spec.train.eval_train_examples {
            let takes = optbench_models::problem_keys(name)
                .is_some_and(|ks| ks.iter().any(|k| k.name == "eval_train_examples"));
            if takes && !keys.contains_key("eval_train_examples") {
                keys.insert("eval_train_examples".into(), Value::from(n as u64));
            }
        }
        let config = ProblemConfig::from_json(name, &keys).map_err(|e| e.to_string())?;
        let data = match config.dataset() {
            None => None,
            Some(ds) => {
                let key = ds.load_key(spec.data_seed);
                let data = self.data.get_or_load(&key, || {
                    optbench_models::load_dataset(ds, spec.data_seed, &self.base_dir)
                        .map_err(|e| e.to_string())
                })?;
                Some(data)
            }
        };
        let problem = optbench_models::build_problem(&config, data, spec.data_seed)
            .map_err(|e| e.to_string())?;
        let (optimizer, base_lr) = optim_api::build_optimizer(
            &spec.optimizer.name,
            &spec.optimizer.hparams,
            problem.dim(),
        )?;
        let schedule = match &spec.optimizer.schedule {
            None | Some(Value::Null) => None,
            Some(v) => Some(optim_api::build_schedule(v)?),
        };
        let batch = match spec.train.batch_size {
            BatchSize::Full => optbench_models::BatchSize::Full,
            BatchSize::Examples(n) => optbench_models::BatchSize::Examples(n),
        };
        let batches = Box::new(Batcher::new(problem.train_len(), batch, spec.data_seed));
        Ok(RunParts {
            problem,
            optimizer,
            base_lr,
            schedule,
            batches,
        })
    }
}

/// The optimizer crate's configuration entry points, as the runner uses them.
mod optim_api {
    use optbench_optim::{DynOptimizer, OptimizerConfig, ScheduleConfig};
    use serde_json::{Map, Value};

    use super::LrSchedule;

    /// The optimizer `name` with `hparams` for `dim` parameters, and its base learning rate.
    pub fn build_optimizer(
        name: &str,
        hparams: &Map<String, Value>,
        dim: usize,
    ) -> Result<(Box<dyn DynOptimizer>, f64), String> {
        let config = OptimizerConfig::from_json(name, hparams).map_err(|e| e.to_string())?;
        let optimizer = config.build(dim).map_err(|e| e.to_string())?;
        Ok((optimizer, config.lr()))
    }

    impl LrSchedule for ScheduleConfig {
        fn lr_at(&self, base_lr: f64, step: u64, total_steps: u64) -> f64 {
            ScheduleConfig::lr_at(self, base_lr, step, total_steps)
        }
    }

    /// The schedule described by `value`.
    pub fn build_schedule(value: &Value) -> Result<Box<dyn LrSchedule>, String> {
        let s = ScheduleConfig::from_json(value).map_err(|e| format!("schedule: {e}"))?;
        Ok(Box::new(s))
    }
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
