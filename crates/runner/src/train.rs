//! One run: the training loop, its metrics and divergence.
//!
//! A run is single-threaded and deterministic: given its [`RunParts`] (problem, optimizer,
//! schedule and batch order, all derived from the run's spec and `data_seed`), every recorded
//! value except `wall_time_s` is a function of the spec alone.
//!
//! # The loop
//!
//! For update `t = 0, 1, …, T−1` (`T` = `steps`, or `epochs × batches_per_epoch`):
//!
//! ```text
//! B_t      = next minibatch (the whole training set for `batch_size: full`)
//! ℓ_t, g_t = loss and gradient of the mean loss over B_t at θ_t
//! g_t      ← clip_grad_norm(g_t, c) and/or clip_grad_value(g_t, v), when configured
//! η_t      = schedule.lr_at(lr, t, T)             (lr when there is no schedule)
//! θ_{t+1}  = optimizer.step(θ_t, g_t, η_t)
//! ```
//!
//! A row is recorded at step 0 (before any update), after every `eval_every`-th update and after
//! the last one (see [`crate::results`] for the meaning of each column). A non-finite minibatch
//! loss, train loss or parameter ends the run with status `diverged`: the rows so far are kept
//! and a last row is recorded at the step where it was detected (`steps` is that step).
//!
//! The loop does not allocate: the gradient buffer and the copy of the previous parameters
//! (taken only before updates that end in a recorded row) are allocated once, and the rows'
//! vector is reserved up front.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use optbench_models::{Batcher, Dataset, Problem, ProblemConfig};
use optbench_optim::DynOptimizer;
use serde_json::Value;

use crate::plan::{BatchSize, Budget, RunSpec, TrainSpec};
use crate::results::{MetricRow, RunOutcome, RunStatus};
use crate::sweep::{Cache, RunBuilder};

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

/// How a run ended when it did not produce an outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunInterrupt {
    /// The stop flag was raised (Ctrl-C); the run is abandoned and not recorded.
    Stopped,
}

/// Steps between two checks of the stop flag (besides every recorded row).
const STOP_CHECK_EVERY: u64 = 1024;

/// The number of updates of a run.
pub fn total_steps(train: &TrainSpec, batches_per_epoch: u64) -> u64 {
    match train.budget {
        Budget::Steps(n) => n,
        Budget::Epochs(e) => e.saturating_mul(batches_per_epoch),
    }
}

fn norm2(v: &[f32]) -> f64 {
    v.iter()
        .map(|&x| f64::from(x) * f64::from(x))
        .sum::<f64>()
        .sqrt()
}

fn diff_norm2(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = f64::from(x) - f64::from(y);
            d * d
        })
        .sum::<f64>()
        .sqrt()
}

/// Mutable state of the loop that goes into the recorded rows.
struct Recorder {
    start: Instant,
    train_len: f64,
    two_d: bool,
    rows: Vec<MetricRow>,
}

impl Recorder {
    /// Evaluates the problem at `params` and appends a row; returns whether everything recorded
    /// is finite.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        problem: &mut dyn Problem,
        params: &[f32],
        step: u64,
        examples_seen: u64,
        lr: f64,
        batch_loss: Option<f64>,
        grad_norm: Option<f64>,
        update_norm: Option<f64>,
    ) -> bool {
        let train_loss = problem.train_loss(params);
        let test = problem.test_metrics(params);
        let (x0, x1) = if self.two_d {
            (Some(f64::from(params[0])), Some(f64::from(params[1])))
        } else {
            (None, None)
        };
        #[allow(clippy::cast_precision_loss)]
        let epoch = examples_seen as f64 / self.train_len;
        self.rows.push(MetricRow {
            step,
            epoch,
            examples_seen,
            wall_time_s: self.start.elapsed().as_secs_f64(),
            lr: Some(lr),
            train_loss: Some(train_loss),
            batch_loss,
            test_loss: test.loss,
            test_accuracy: test.accuracy,
            grad_norm,
            update_norm,
            x0,
            x1,
        });
        train_loss.is_finite() && params.iter().all(|p| p.is_finite())
    }
}

/// Runs the training loop of `spec` on `parts`.
///
/// Returns the outcome (status `ok` or `diverged`), `Err(Ok(Stopped))` when `stop()` returned
/// true (checked at every recorded row and every 1,024 steps), or `Err(Err(message))` when the
/// optimizer rejected a step (a `failed` run).
pub fn train(
    spec: &RunSpec,
    parts: &mut RunParts,
    stop: &dyn Fn() -> bool,
) -> Result<RunOutcome, Result<RunInterrupt, String>> {
    let start = Instant::now();
    let train = &spec.train;
    let problem = parts.problem.as_mut();
    let dim = problem.dim();
    let train_len = problem.train_len();
    let total = total_steps(train, parts.batches.batches_per_epoch());
    let eval_every = train.eval_every.max(1);
    let lr_at = |t: u64| match &parts.schedule {
        Some(s) => s.lr_at(parts.base_lr, t, total),
        None => parts.base_lr,
    };

    let mut params = problem.initial_params();
    if params.len() != dim {
        return Err(Err(format!(
            "problem `{}` returned {} initial parameters for dimension {dim}",
            spec.problem.name,
            params.len()
        )));
    }
    let mut grad = vec![0.0_f32; dim];
    let mut prev = vec![0.0_f32; dim];
    #[allow(clippy::cast_precision_loss)]
    let mut rec = Recorder {
        start,
        train_len: train_len.max(1) as f64,
        two_d: dim == 2,
        rows: Vec::with_capacity(usize::try_from(total / eval_every + 3).unwrap_or(16)),
    };

    let outcome = |rec: Recorder, status: RunStatus, steps: u64, examples_seen: u64| {
        #[allow(clippy::cast_precision_loss)]
        let epochs = examples_seen as f64 / rec.train_len;
        RunOutcome {
            run_id: spec.run_id.clone(),
            status,
            error: None,
            steps,
            epochs,
            train_len: Some(train_len as u64),
            wall_time_s: rec.start.elapsed().as_secs_f64(),
            metrics: rec.rows,
        }
    };

    let finite = rec.record(problem, &params, 0, 0, lr_at(0), None, None, None);
    if !finite {
        return Ok(outcome(rec, RunStatus::Diverged, 0, 0));
    }

    let mut examples_seen: u64 = 0;
    let mut batch_sum = 0.0_f64;
    let mut batch_count = 0_u64;
    for t in 0..total {
        if t % STOP_CHECK_EVERY == 0 && stop() {
            return Err(Ok(RunInterrupt::Stopped));
        }
        let record_next = (t + 1) % eval_every == 0 || t + 1 == total;
        let batch = parts.batches.next_batch();
        examples_seen += batch.len() as u64;
        let loss = problem.loss_grad(&params, batch, &mut grad);
        batch_sum += loss;
        batch_count += 1;
        if !loss.is_finite() {
            #[allow(clippy::cast_precision_loss)]
            let mean = batch_sum / batch_count as f64;
            let last_step = rec.rows.last().map(|r| r.step);
            if last_step == Some(t) {
                // The row of this step was recorded before the minibatch was drawn: keep a
                // single row per step and mark it with the non-finite minibatch loss.
                if let Some(r) = rec.rows.last_mut() {
                    r.batch_loss = Some(loss);
                    r.examples_seen = examples_seen;
                    r.epoch = examples_seen as f64 / rec.train_len;
                }
            } else {
                rec.record(
                    problem,
                    &params,
                    t,
                    examples_seen,
                    lr_at(t),
                    Some(mean),
                    None,
                    None,
                );
            }
            return Ok(outcome(rec, RunStatus::Diverged, t, examples_seen));
        }
        let mut grad_norm = None;
        if let Some(max_norm) = train.clip_grad_norm {
            grad_norm = Some(optbench_optim::clip_grad_norm(&mut grad, max_norm));
        }
        if let Some(v) = train.clip_grad_value {
            if record_next && grad_norm.is_none() {
                grad_norm = Some(norm2(&grad));
            }
            optbench_optim::clip_grad_value(&mut grad, v);
        }
        if record_next {
            if grad_norm.is_none() {
                grad_norm = Some(norm2(&grad));
            }
            prev.copy_from_slice(&params);
        }
        let lr = lr_at(t);
        if let Err(e) = parts.optimizer.step(&mut params, &grad, lr) {
            return Err(Err(format!("optimizer step {t}: {e}")));
        }
        if record_next {
            #[allow(clippy::cast_precision_loss)]
            let mean = batch_sum / batch_count as f64;
            let update_norm = diff_norm2(&params, &prev);
            let finite = rec.record(
                problem,
                &params,
                t + 1,
                examples_seen,
                lr,
                Some(mean),
                grad_norm,
                Some(update_norm),
            );
            batch_sum = 0.0;
            batch_count = 0;
            if !finite {
                return Ok(outcome(rec, RunStatus::Diverged, t + 1, examples_seen));
            }
            if t + 1 < total && stop() {
                return Err(Ok(RunInterrupt::Stopped));
            }
        }
    }
    Ok(outcome(rec, RunStatus::Ok, total, examples_seen))
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
