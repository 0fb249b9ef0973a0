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

use std::time::{Duration, Instant};

use optbench_models::Problem;

use optbench_results::{MetricRow, RunOutcome, RunStatus};
use optbench_spec::plan::{Budget, RunSpec, TrainSpec};

use crate::assemble::{RunError, RunParts};

/// The most steps between two checks of the stop flag (besides every recorded row).
const STOP_CHECK_MAX_STEPS: u64 = 1024;
/// The time aimed at between two checks of the stop flag: a SIGTERM's grace period is spent
/// finishing runs, not waiting for a check.
const STOP_CHECK_EVERY: Duration = Duration::from_millis(100);

/// When to check the stop flag: about every [`STOP_CHECK_EVERY`] of training, by doubling or
/// halving the number of steps between checks (1 to [`STOP_CHECK_MAX_STEPS`]). Only the time
/// of a stop depends on it, never a recorded value.
struct StopCheck {
    next: u64,
    every: u64,
    last: Instant,
}

impl StopCheck {
    fn new() -> Self {
        StopCheck {
            next: 0,
            every: 1,
            last: Instant::now(),
        }
    }

    /// Whether to check at step `t`.
    fn due(&mut self, t: u64) -> bool {
        if t < self.next {
            return false;
        }
        let now = Instant::now();
        let took = now.duration_since(self.last);
        if took > STOP_CHECK_EVERY {
            self.every = (self.every / 2).max(1);
        } else if took < STOP_CHECK_EVERY / 4 {
            self.every = (self.every * 2).min(STOP_CHECK_MAX_STEPS);
        }
        self.last = now;
        self.next = t + self.every;
        true
    }
}

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

/// The NaN written for every recorded NaN: positive, quiet, no payload (`0x7ff8000000000000`).
/// An invalid operation (∞ − ∞, 0 · ∞) gives x86-64's default NaN, whose sign bit is set, and
/// aarch64's, whose sign bit is clear: recorded as they come, the losses of diverged runs
/// differed between the two in their sign bit only (scripts/check_cpu_paths.sh).
const CANONICAL_NAN: f64 = f64::from_bits(0x7ff8_0000_0000_0000);

/// `v`, or [`CANONICAL_NAN`] if `v` is any NaN.
fn canonical_nan(v: f64) -> f64 {
    if v.is_nan() { CANONICAL_NAN } else { v }
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
        let train = problem.train_metrics(params);
        let train_loss = train.loss;
        let test = problem.test_metrics(params);
        let (x0, x1) = if self.two_d {
            (Some(f64::from(params[0])), Some(f64::from(params[1])))
        } else {
            (None, None)
        };
        #[allow(clippy::cast_precision_loss)]
        let epoch = examples_seen as f64 / self.train_len;
        let c = |v: Option<f64>| v.map(canonical_nan);
        self.rows.push(MetricRow {
            step,
            epoch,
            examples_seen,
            wall_time_s: self.start.elapsed().as_secs_f64(),
            lr: c(Some(lr)),
            train_loss: c(Some(train_loss)),
            batch_loss: c(batch_loss),
            test_loss: c(test.loss),
            test_accuracy: c(test.accuracy),
            grad_norm: c(grad_norm),
            update_norm: c(update_norm),
            x0: c(x0),
            x1: c(x1),
            train_accuracy: c(train.accuracy),
        });
        train_loss.is_finite() && params.iter().all(|p| p.is_finite())
    }

    /// The last row of a run whose minibatch loss at update `t` was `loss` (non-finite);
    /// `mean` is the mean minibatch loss since the previous row.
    #[allow(clippy::too_many_arguments)]
    fn record_nonfinite_batch(
        &mut self,
        problem: &mut dyn Problem,
        params: &[f32],
        t: u64,
        examples_seen: u64,
        lr: f64,
        loss: f64,
        mean: f64,
    ) {
        let train_len = self.train_len;
        match self.rows.last_mut() {
            // The row of this step was recorded before the minibatch was drawn: keep a single
            // row per step and mark it with the non-finite minibatch loss.
            Some(r) if r.step == t => {
                r.batch_loss = Some(loss);
                r.examples_seen = examples_seen;
                #[allow(clippy::cast_precision_loss)]
                let epoch = examples_seen as f64 / train_len;
                r.epoch = epoch;
            }
            _ => {
                self.record(
                    problem,
                    params,
                    t,
                    examples_seen,
                    lr,
                    Some(mean),
                    None,
                    None,
                );
            }
        }
    }

    /// The outcome of the run of `spec` (`train_len` training examples) that ended with `status`
    /// after `steps` updates.
    fn finish(
        self,
        spec: &RunSpec,
        train_len: usize,
        status: RunStatus,
        steps: u64,
        examples_seen: u64,
    ) -> RunOutcome {
        #[allow(clippy::cast_precision_loss)]
        let epochs = examples_seen as f64 / self.train_len;
        RunOutcome {
            run_id: spec.run_id.clone(),
            status,
            error: None,
            steps,
            epochs,
            train_len: Some(train_len as u64),
            wall_time_s: self.start.elapsed().as_secs_f64(),
            metrics: self.rows,
        }
    }
}

/// Clips `grad` as `train` says; returns the gradient's norm before clipping when it was
/// computed for clipping or `wanted` (the next row is recorded).
fn clip(train: &TrainSpec, grad: &mut [f32], wanted: bool) -> Option<f64> {
    let mut grad_norm = None;
    if let Some(max_norm) = train.clip_grad_norm {
        grad_norm = Some(optbench_optim::clip_grad_norm(grad, max_norm));
    }
    if let Some(v) = train.clip_grad_value {
        if wanted && grad_norm.is_none() {
            grad_norm = Some(norm2(grad));
        }
        optbench_optim::clip_grad_value(grad, v);
    }
    if wanted && grad_norm.is_none() {
        grad_norm = Some(norm2(grad));
    }
    grad_norm
}

/// Runs the training loop of `spec` on `parts`.
///
/// Returns the outcome (status `ok` or `diverged`), [`RunError::Stopped`] when `stop()` returned
/// true (checked at every recorded row and about every 0.1 s, at most every 1,024 steps), or
/// the error that makes the run
/// `failed` (the optimizer rejected a step).
pub fn train(
    spec: &RunSpec,
    parts: &mut RunParts,
    stop: &dyn Fn() -> bool,
) -> Result<RunOutcome, RunError> {
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
        return Err(RunError::InitialParams {
            problem: spec.problem.name(),
            got: params.len(),
            dim,
        });
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
        rec.finish(spec, train_len, status, steps, examples_seen)
    };

    let finite = rec.record(problem, &params, 0, 0, lr_at(0), None, None, None);
    if !finite {
        return Ok(outcome(rec, RunStatus::Diverged, 0, 0));
    }

    let mut examples_seen: u64 = 0;
    let mut batch_sum = 0.0_f64;
    let mut batch_count = 0_u64;
    let mut stop_check = StopCheck::new();
    for t in 0..total {
        if stop_check.due(t) && stop() {
            return Err(RunError::Stopped);
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
            rec.record_nonfinite_batch(problem, &params, t, examples_seen, lr_at(t), loss, mean);
            return Ok(outcome(rec, RunStatus::Diverged, t, examples_seen));
        }
        let grad_norm = clip(train, &mut grad, record_next);
        if record_next {
            prev.copy_from_slice(&params);
        }
        let lr = lr_at(t);
        if let Err(source) = parts.optimizer.step(&mut params, &grad, lr) {
            return Err(RunError::Step { step: t, source });
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
                return Err(RunError::Stopped);
            }
        }
    }
    Ok(outcome(rec, RunStatus::Ok, total, examples_seen))
}

#[cfg(test)]
mod nan_tests {
    use super::*;

    /// x86-64's default NaN (sign set), aarch64's (sign clear) and a NaN with a payload are all
    /// recorded as one bit pattern; numbers pass unchanged.
    #[test]
    fn every_nan_is_recorded_as_one_pattern() {
        let x86 = f64::from_bits(0xfff8_0000_0000_0000);
        let aarch64 = f64::from_bits(0x7ff8_0000_0000_0000);
        let payload = f64::from_bits(0xfff8_8930_f912_a8f0);
        for v in [x86, aarch64, payload, f64::INFINITY - f64::INFINITY] {
            assert_eq!(canonical_nan(v).to_bits(), 0x7ff8_0000_0000_0000);
        }
        for v in [0.0, -0.0, 1.5, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(canonical_nan(v).to_bits(), v.to_bits());
        }
    }
}
