//! The `runs.parquet` table: one row per run, built from the plan's spec and the outcome.

use std::collections::{BTreeMap, BTreeSet};

use optbench_spec::ids;
use optbench_spec::plan::{BatchSize, RunSpec};
use polars::prelude::*;
use serde_json::{Map, Value};

use crate::record::RunOutcome;
use crate::schema::*;

/// A flattened parameter value.
#[derive(Clone, Debug, PartialEq)]
enum Flat {
    Num(f64),
    Bool(bool),
    Str(String),
    /// Lists and anything else: canonical JSON text.
    Json(String),
}

/// Flattens a JSON mapping into `prefix<key>` entries; nested mappings join keys with `_`.
fn flatten_into(prefix: &str, map: &Map<String, Value>, out: &mut BTreeMap<String, Flat>) {
    for (k, v) in map {
        let name = format!("{prefix}{k}");
        match v {
            Value::Null => {}
            Value::Bool(b) => {
                out.insert(name, Flat::Bool(*b));
            }
            Value::Number(n) => {
                if let Some(x) = n.as_f64() {
                    out.insert(name, Flat::Num(x));
                }
            }
            Value::String(s) => {
                out.insert(name, Flat::Str(s.clone()));
            }
            Value::Array(_) => {
                out.insert(name, Flat::Json(ids::canonical(v)));
            }
            Value::Object(m) => flatten_into(&format!("{name}_"), m, out),
        }
    }
}

/// The `hp_*` and `p_*` entries of a run.
fn flat_params(spec: &RunSpec) -> BTreeMap<String, Flat> {
    let mut out = BTreeMap::new();
    flatten_into(HP_PREFIX, &spec.optimizer.hparams, &mut out);
    flatten_into(P_PREFIX, &spec.problem.params, &mut out);
    out
}

/// Builds one column from the flattened values of every row, choosing its type: Float64 if all
/// present values are numbers, Boolean if all are booleans, else Utf8 (JSON text for lists and
/// for numbers or booleans mixed with other types).
fn flat_column(name: &str, values: &[Option<&Flat>]) -> Column {
    let present = || values.iter().flatten();
    if present().all(|v| matches!(v, Flat::Num(_))) {
        let col: Vec<Option<f64>> = values
            .iter()
            .map(|v| match v {
                Some(Flat::Num(x)) => Some(*x),
                _ => None,
            })
            .collect();
        return Column::new(name.into(), col);
    }
    if present().all(|v| matches!(v, Flat::Bool(_))) {
        let col: Vec<Option<bool>> = values
            .iter()
            .map(|v| match v {
                Some(Flat::Bool(b)) => Some(*b),
                _ => None,
            })
            .collect();
        return Column::new(name.into(), col);
    }
    let col: Vec<Option<String>> = values
        .iter()
        .map(|v| {
            v.map(|f| match f {
                Flat::Num(x) => {
                    let mut s = String::new();
                    ids::write_float(&mut s, *x);
                    s
                }
                Flat::Bool(b) => b.to_string(),
                Flat::Str(s) | Flat::Json(s) => s.clone(),
            })
        })
        .collect();
    Column::new(name.into(), col)
}

// ---- the runs table -----------------------------------------------------------------------

/// One row of `runs.parquet`, built from the plan's spec and the run's outcome.
#[derive(Clone, Debug)]
pub(crate) struct RunRow {
    run_id: String,
    cell_id: String,
    problem: String,
    dataset: Option<String>,
    optimizer: String,
    label: String,
    seed: u64,
    data_seed: u64,
    batch_size: Option<u64>,
    lr: Option<f64>,
    hparams: String,
    schedule: Option<String>,
    flat: BTreeMap<String, Flat>,
    status: &'static str,
    error: Option<String>,
    steps: u64,
    epochs: f64,
    final_train_loss: Option<f64>,
    final_test_loss: Option<f64>,
    final_test_accuracy: Option<f64>,
    best_train_loss: Option<f64>,
    wall_time_s: f64,
}

impl RunRow {
    pub(crate) fn new(spec: &RunSpec, outcome: &RunOutcome) -> Self {
        let last = outcome.metrics.last();
        let best = outcome
            .metrics
            .iter()
            .filter_map(|r| r.train_loss)
            .filter(|x| x.is_finite())
            .reduce(f64::min);
        let batch_size = match spec.train.batch_size {
            BatchSize::Examples(n) => Some(n as u64),
            BatchSize::Full => outcome.train_len,
        };
        Self {
            run_id: spec.run_id.clone(),
            cell_id: spec.cell_id.clone(),
            problem: spec.problem.name().to_string(),
            dataset: spec.problem.dataset_name().map(str::to_string),
            optimizer: spec.optimizer.name().to_string(),
            label: spec.label.clone(),
            seed: spec.seed,
            data_seed: spec.data_seed,
            batch_size,
            lr: Some(spec.optimizer.lr()),
            hparams: ids::canonical(&Value::Object(spec.optimizer.hparams.clone())),
            schedule: spec.optimizer.schedule_json.as_ref().map(ids::canonical),
            flat: flat_params(spec),
            status: outcome.status.as_str(),
            error: outcome.error.clone(),
            steps: outcome.steps,
            epochs: outcome.epochs,
            final_train_loss: last.and_then(|r| r.train_loss),
            final_test_loss: last.and_then(|r| r.test_loss),
            final_test_accuracy: last.and_then(|r| r.test_accuracy),
            best_train_loss: best,
            wall_time_s: outcome.wall_time_s,
        }
    }
}

/// Builds the `runs.parquet` frame of `rows` (already in plan order).
pub(crate) fn runs_frame(experiment: &str, rows: &[RunRow]) -> PolarsResult<DataFrame> {
    macro_rules! col {
        ($name:expr, $f:expr) => {
            Column::new($name.into(), rows.iter().map($f).collect::<Vec<_>>())
        };
    }
    let mut cols = vec![
        col!(RUN_ID, |r: &RunRow| r.run_id.clone()),
        col!(CELL_ID, |r: &RunRow| r.cell_id.clone()),
        col!(EXPERIMENT, |_r: &RunRow| experiment.to_string()),
        col!(PROBLEM, |r: &RunRow| r.problem.clone()),
        col!(DATASET, |r: &RunRow| r.dataset.clone()),
        col!(OPTIMIZER, |r: &RunRow| r.optimizer.clone()),
        col!(LABEL, |r: &RunRow| r.label.clone()),
        col!(SEED, |r: &RunRow| r.seed),
        col!(DATA_SEED, |r: &RunRow| r.data_seed),
        col!(BATCH_SIZE, |r: &RunRow| r.batch_size),
        col!(LR, |r: &RunRow| r.lr),
        col!(HPARAMS, |r: &RunRow| r.hparams.clone()),
        col!(SCHEDULE, |r: &RunRow| r.schedule.clone()),
    ];
    let names: BTreeSet<&String> = rows.iter().flat_map(|r| r.flat.keys()).collect();
    for name in names {
        let values: Vec<Option<&Flat>> = rows.iter().map(|r| r.flat.get(name)).collect();
        cols.push(flat_column(name, &values));
    }
    cols.extend([
        col!(STATUS, |r: &RunRow| r.status.to_string()),
        col!(ERROR, |r: &RunRow| r.error.clone()),
        col!(STEPS, |r: &RunRow| r.steps),
        col!(EPOCHS, |r: &RunRow| r.epochs),
        col!(FINAL_TRAIN_LOSS, |r: &RunRow| r.final_train_loss),
        col!(FINAL_TEST_LOSS, |r: &RunRow| r.final_test_loss),
        col!(FINAL_TEST_ACCURACY, |r: &RunRow| r.final_test_accuracy),
        col!(BEST_TRAIN_LOSS, |r: &RunRow| r.best_train_loss),
        col!(WALL_TIME_S, |r: &RunRow| r.wall_time_s),
    ]);
    DataFrame::new(rows.len(), cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattening_types_columns() {
        let mut m = BTreeMap::new();
        let hp: Map<String, Value> = serde_json::from_str(
            r#"{"lr": 0.1, "nesterov": true, "betas": [0.9, 0.999], "ds": {"name": "iris", "n": 3}}"#,
        )
        .unwrap();
        flatten_into("hp_", &hp, &mut m);
        assert_eq!(m["hp_lr"], Flat::Num(0.1));
        assert_eq!(m["hp_nesterov"], Flat::Bool(true));
        assert_eq!(m["hp_betas"], Flat::Json("[0.9,0.999]".into()));
        assert_eq!(m["hp_ds_name"], Flat::Str("iris".into()));
        assert_eq!(m["hp_ds_n"], Flat::Num(3.0));
        let mixed = [Some(&Flat::Num(1.0)), None, Some(&Flat::Bool(true))];
        let c = flat_column("x", &mixed);
        assert_eq!(c.dtype(), &DataType::String);
        let nums = [Some(&Flat::Num(1.0)), None];
        assert_eq!(flat_column("y", &nums).dtype(), &DataType::Float64);
    }
}
