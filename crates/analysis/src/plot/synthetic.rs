//! Synthetic results folders in the exact Parquet schema of docs/format.md, written by
//! `optbench-results`,
//! for tests and for timing the figures on large folders without running a sweep.
//!
//! The runs are a grid of two problems (`rosenbrock`, two parameters with `x0, x1`, and
//! `logistic_regression` on `synthetic_classification` at batch sizes 800 = full, 1 and 32)
//! × four optimizers (`sgd, adam, rmsprop, adagrad`) × learning rates × seeds. Losses decay
//! exponentially at a rate proportional to `lr / lr*` (an optimizer-specific good rate) and
//! diverge (status `diverged`, final values null) when `lr > 5 lr*`. The values are made up; only
//! the schema and the shapes are meant to be realistic.

use optbench_results::{self as col, ResultsError};
use polars::prelude::*;
use std::path::Path;

/// Size of a synthetic folder.
#[derive(Clone, Copy, Debug)]
pub struct Synthetic {
    /// Number of runs (rows of runs.parquet).
    pub runs: usize,
    /// Metric rows per run (fewer for diverged runs).
    pub records: usize,
    /// Seeds per configuration.
    pub seeds: u64,
    /// Learning rates per (problem, batch size, optimizer); 0 = as many as needed for `runs`.
    pub lrs: usize,
}

impl Default for Synthetic {
    fn default() -> Self {
        Synthetic {
            runs: 96,
            records: 41,
            seeds: 3,
            lrs: 0,
        }
    }
}

/// SplitMix64: a tiny deterministic generator (no dependency, stable stream).
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Approximately standard normal (sum of 12 uniforms − 6).
    fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.uniform()).sum::<f64>() - 6.0
    }
}

const OPTIMIZERS: [(&str, f64); 4] = [
    ("sgd", 0.05),
    ("adam", 0.01),
    ("rmsprop", 0.005),
    ("adagrad", 0.1),
];

/// Writes `runs.parquet` and `metrics.parquet` into `dir` (created if missing). Runs record
/// every `2 · n / (10 · batch)` steps (about a fifth of an epoch).
pub fn write_synthetic(dir: &Path, spec: &Synthetic) -> Result<(), ResultsError> {
    write(dir, spec, false)
}

/// As [`write_synthetic`], but every run takes the same number of steps whatever its batch
/// size (as `train.steps` does), so full-batch runs see hundreds of times more epochs than runs
/// of batch 1.
pub fn write_synthetic_same_steps(dir: &Path, spec: &Synthetic) -> Result<(), ResultsError> {
    write(dir, spec, true)
}

fn write(dir: &Path, spec: &Synthetic, same_steps: bool) -> Result<(), ResultsError> {
    std::fs::create_dir_all(dir).map_err(|source| ResultsError::Io {
        path: dir.to_owned(),
        source,
    })?;
    // (problem, dataset, batch size, train size, two-parameter?)
    let problems: [(&str, Option<&str>, u64, u64, bool); 4] = [
        ("rosenbrock", None, 1, 1, true),
        (
            "logistic_regression",
            Some("synthetic_classification"),
            800,
            800,
            false,
        ),
        (
            "logistic_regression",
            Some("synthetic_classification"),
            1,
            800,
            false,
        ),
        (
            "logistic_regression",
            Some("synthetic_classification"),
            32,
            800,
            false,
        ),
    ];
    let seeds = spec.seeds.max(1);
    let per_lr = problems.len() * OPTIMIZERS.len();
    let lrs = if spec.lrs > 0 {
        spec.lrs
    } else {
        spec.runs.div_ceil(seeds as usize).div_ceil(per_lr).max(1)
    };
    let mut r = RunsCols::default();
    let mut m = MetricsCols::default();
    let mut count = 0usize;
    'outer: for (pi, &(problem, dataset, bs, n_train, two)) in problems.iter().enumerate() {
        for &(opt, good) in &OPTIMIZERS {
            for li in 0..lrs {
                // Log-spaced from good/30 to good*30 (the top ones diverge).
                let t = if lrs == 1 {
                    0.5
                } else {
                    li as f64 / (lrs - 1) as f64
                };
                let lr = good * 10f64.powf(-1.5 + 3.0 * t);
                let lr = (lr * 1e6).round() / 1e6;
                // As the spec labels them: the batch size varies in the grid.
                let label = format!("{opt} lr={lr} bs={bs}");
                let cell = format!("cell-{pi}-{opt}-{li}");
                for seed in 0..seeds {
                    if count == spec.runs {
                        break 'outer;
                    }
                    count += 1;
                    let mut rng = Rng(0x1234 ^ (count as u64).wrapping_mul(0x9E37));
                    let rate = 6.0 * (lr / good).min(1.5);
                    let floor = if two {
                        1e-4 * (1.0 + rng.uniform())
                    } else {
                        0.2 + 0.02 * rng.uniform()
                    };
                    let steps_per_record = if two || same_steps {
                        25u64
                    } else {
                        (n_train / bs).max(1) * 2 / 10 + 1
                    };
                    let records = spec.records.max(2);
                    let diverges = lr > 5.0 * good;
                    let curve = Curve {
                        run_id: format!("run-{pi}-{opt}-{li}-{seed}"),
                        seed,
                        lr,
                        rate,
                        diverges,
                        two,
                        floor,
                        steps_per_record,
                        records,
                        batch_size: bs,
                        n_train,
                    };
                    let last = push_metrics(&mut m, &curve, &mut rng);
                    let row = CellRow {
                        problem_index: pi,
                        problem,
                        dataset,
                        optimizer: opt,
                        label: &label,
                        cell: &cell,
                    };
                    push_run_row(&mut r, &row, &curve, &last);
                }
            }
        }
    }
    let names = col::OutputNames::new(None);
    for (name, frame) in [(names.runs, r.frame()), (names.metrics, m.frame())] {
        let path = dir.join(name);
        let mut df = frame.map_err(|source| ResultsError::Polars {
            path: path.clone(),
            source,
        })?;
        col::write_parquet(&path, &mut df)?;
    }
    Ok(())
}

#[derive(Default)]
struct RunsCols {
    run_id: Vec<String>,
    cell_id: Vec<String>,
    problem: Vec<String>,
    dataset: Vec<Option<String>>,
    optimizer: Vec<String>,
    label: Vec<String>,
    seed: Vec<u64>,
    data_seed: Vec<u64>,
    batch_size: Vec<u64>,
    lr: Vec<f64>,
    hparams: Vec<String>,
    p_init: Vec<Option<String>>,
    status: Vec<String>,
    steps: Vec<u64>,
    epochs: Vec<f64>,
    final_train_loss: Vec<Option<f64>>,
    final_test_loss: Vec<Option<f64>>,
    final_test_accuracy: Vec<Option<f64>>,
    best_train_loss: Vec<Option<f64>>,
    wall_time_s: Vec<f64>,
}

impl RunsCols {
    fn frame(self) -> PolarsResult<DataFrame> {
        let n = self.run_id.len();
        DataFrame::new(
            n,
            vec![
                Column::new(col::RUN_ID.into(), self.run_id),
                Column::new(col::CELL_ID.into(), self.cell_id),
                Column::new(col::EXPERIMENT.into(), vec!["synthetic"; n]),
                Column::new(col::PROBLEM.into(), self.problem),
                Column::new(col::DATASET.into(), self.dataset),
                Column::new(col::OPTIMIZER.into(), self.optimizer),
                Column::new(col::LABEL.into(), self.label),
                Column::new(col::SEED.into(), self.seed),
                Column::new(col::DATA_SEED.into(), self.data_seed),
                Column::new(col::BATCH_SIZE.into(), self.batch_size),
                Column::new(col::LR.into(), self.lr.clone()),
                Column::new(col::HPARAMS.into(), self.hparams),
                Column::new(col::SCHEDULE.into(), vec![None::<String>; n]),
                Column::new(format!("{}{}", col::HP_PREFIX, col::LR).into(), self.lr),
                Column::new(format!("{}init", col::P_PREFIX).into(), self.p_init),
                Column::new(col::STATUS.into(), self.status),
                Column::new(col::ERROR.into(), vec![None::<String>; n]),
                Column::new(col::STEPS.into(), self.steps),
                Column::new(col::EPOCHS.into(), self.epochs),
                Column::new(col::FINAL_TRAIN_LOSS.into(), self.final_train_loss),
                Column::new(col::FINAL_TEST_LOSS.into(), self.final_test_loss),
                Column::new(col::FINAL_TEST_ACCURACY.into(), self.final_test_accuracy),
                Column::new(col::BEST_TRAIN_LOSS.into(), self.best_train_loss),
                Column::new(col::WALL_TIME_S.into(), self.wall_time_s),
            ],
        )
    }
}

#[derive(Default)]
struct MetricsCols {
    run_id: Vec<String>,
    step: Vec<u64>,
    epoch: Vec<f64>,
    examples_seen: Vec<u64>,
    wall_time_s: Vec<f64>,
    lr: Vec<f64>,
    train_loss: Vec<Option<f64>>,
    batch_loss: Vec<Option<f64>>,
    test_loss: Vec<Option<f64>>,
    test_accuracy: Vec<Option<f64>>,
    grad_norm: Vec<Option<f64>>,
    update_norm: Vec<Option<f64>>,
    x0: Vec<Option<f64>>,
    x1: Vec<Option<f64>>,
    train_accuracy: Vec<Option<f64>>,
}

impl MetricsCols {
    fn frame(self) -> PolarsResult<DataFrame> {
        DataFrame::new(
            self.run_id.len(),
            vec![
                Column::new(col::RUN_ID.into(), self.run_id),
                Column::new(col::STEP.into(), self.step),
                Column::new(col::EPOCH.into(), self.epoch),
                Column::new(col::EXAMPLES_SEEN.into(), self.examples_seen),
                Column::new(col::WALL_TIME_S.into(), self.wall_time_s),
                Column::new(col::LR.into(), self.lr),
                Column::new(col::TRAIN_LOSS.into(), self.train_loss),
                Column::new(col::BATCH_LOSS.into(), self.batch_loss),
                Column::new(col::TEST_LOSS.into(), self.test_loss),
                Column::new(col::TEST_ACCURACY.into(), self.test_accuracy),
                Column::new(col::GRAD_NORM.into(), self.grad_norm),
                Column::new(col::UPDATE_NORM.into(), self.update_norm),
                Column::new(col::X0.into(), self.x0),
                Column::new(col::X1.into(), self.x1),
                Column::new(col::TRAIN_ACCURACY.into(), self.train_accuracy),
            ],
        )
    }
}

/// One synthetic run's loss curve: exponential decay from `l0()` to `floor` at `rate`, or growth to
/// infinity at `stop()` when it `diverges`; `two` marks the two-parameter (Rosenbrock) problem.
struct Curve {
    run_id: String,
    seed: u64,
    lr: f64,
    rate: f64,
    diverges: bool,
    two: bool,
    floor: f64,
    steps_per_record: u64,
    records: usize,
    batch_size: u64,
    n_train: u64,
}

impl Curve {
    /// The starting loss: Rosenbrock's at (-1.2, 1), or ln 2 for the classifiers.
    fn l0(&self) -> f64 {
        if self.two { 24.2 } else { 0.693 }
    }

    /// How many rows are recorded: all `records`, or 2/5 of them for a diverging run.
    fn stop(&self) -> usize {
        if self.diverges {
            self.records * 2 / 5
        } else {
            self.records
        }
    }
}

/// The last finite values of a run's metrics, for its row of runs.parquet.
struct Last {
    train: f64,
    test: f64,
    accuracy: f64,
    best: f64,
    wall: f64,
}

/// Pushes the `curve.stop()` recorded rows of one run into `m`.
fn push_metrics(m: &mut MetricsCols, curve: &Curve, rng: &mut Rng) -> Last {
    let mut last = Last {
        train: f64::NAN,
        test: f64::NAN,
        accuracy: f64::NAN,
        best: f64::INFINITY,
        wall: 0.0,
    };
    for k in 0..curve.stop() {
        let frac = k as f64 / (curve.records - 1) as f64;
        let step = k as u64 * curve.steps_per_record;
        let examples = step * curve.batch_size;
        last.wall += 0.001 * (1.0 + 0.1 * rng.uniform());
        let noise = 1.0 + 0.05 * rng.normal();
        let train = if curve.diverges && k + 1 == curve.stop() {
            f64::INFINITY
        } else if curve.diverges {
            curve.l0() * (1.0 + 3.0 * frac).exp() * noise.abs()
        } else {
            curve.floor + (curve.l0() - curve.floor) * (-curve.rate * frac).exp() * noise.abs()
        };
        let batch = train * (1.0 + rng.normal() * 0.5 / (curve.batch_size as f64).sqrt()).abs();
        let (test, acc, train_acc) = if curve.two {
            (None, None, None)
        } else {
            (
                Some(train * 1.08 + 0.01),
                Some((1.0 - 0.7 * train).clamp(0.0, 1.0)),
                Some((1.0 - 0.6 * train).clamp(0.0, 1.0)),
            )
        };
        let upd = curve.lr * (-curve.rate * frac).exp() * (1.0 + 0.2 * rng.uniform());
        let (x0, x1) = if curve.two {
            let e = (-curve.rate * frac).exp();
            let a = 3.0 * frac * (1.0 + 0.1 * curve.seed as f64);
            (
                Some(1.0 - 2.2 * e * a.cos()),
                Some(1.0 - 1.0 * e * (a.sin() + a.cos())),
            )
        } else {
            (None, None)
        };
        m.run_id.push(curve.run_id.clone());
        m.step.push(step);
        m.epoch.push(examples as f64 / curve.n_train as f64);
        m.examples_seen.push(examples);
        m.wall_time_s.push(last.wall);
        m.lr.push(curve.lr);
        m.train_loss.push(Some(train));
        m.batch_loss.push((k > 0).then_some(batch));
        m.test_loss.push(test);
        m.test_accuracy.push(acc);
        m.grad_norm.push((k > 0).then_some(upd / curve.lr));
        m.update_norm.push((k > 0).then_some(upd));
        m.x0.push(x0);
        m.x1.push(x1);
        m.train_accuracy.push(train_acc);
        if train.is_finite() {
            last.train = train;
            last.test = test.unwrap_or(f64::NAN);
            last.accuracy = acc.unwrap_or(f64::NAN);
            last.best = last.best.min(train);
        }
    }
    last
}

/// The cell a synthetic run belongs to, for its row of runs.parquet.
struct CellRow<'a> {
    problem_index: usize,
    problem: &'a str,
    dataset: Option<&'a str>,
    optimizer: &'a str,
    label: &'a str,
    cell: &'a str,
}

/// Pushes one run's row into `r`.
fn push_run_row(r: &mut RunsCols, row: &CellRow, curve: &Curve, last: &Last) {
    let fin = |v: f64| (!curve.diverges && v.is_finite()).then_some(v);
    r.run_id.push(curve.run_id.clone());
    r.cell_id.push(row.cell.to_owned());
    r.problem.push(row.problem.to_owned());
    r.dataset.push(row.dataset.map(str::to_owned));
    r.optimizer.push(row.optimizer.to_owned());
    r.label.push(row.label.to_owned());
    r.seed.push(curve.seed);
    r.data_seed.push(
        curve
            .seed
            .wrapping_mul(31)
            .wrapping_add(row.problem_index as u64),
    );
    r.batch_size.push(curve.batch_size);
    r.lr.push(curve.lr);
    r.hparams.push(format!("{{\"lr\":{}}}", curve.lr));
    r.p_init.push(curve.two.then(|| "[-1.2,1.0]".to_owned()));
    r.status.push(
        if curve.diverges {
            col::STATUS_DIVERGED
        } else {
            col::STATUS_OK
        }
        .to_owned(),
    );
    let steps = (curve.stop() as u64 - 1) * curve.steps_per_record;
    r.steps.push(steps);
    r.epochs
        .push((steps * curve.batch_size) as f64 / curve.n_train as f64);
    r.final_train_loss.push(fin(last.train));
    r.final_test_loss.push(fin(last.test));
    r.final_test_accuracy.push(fin(last.accuracy));
    r.best_train_loss
        .push(last.best.is_finite().then_some(last.best));
    r.wall_time_s.push(last.wall);
}
