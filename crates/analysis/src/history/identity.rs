//! Which cells of different commits form one series.
//!
//! A series is **the cell without its learning rate**: the problem with its parameters (the
//! `p_*` columns), the dataset, the batch size, the optimizer with every hyperparameter but
//! `lr`, and the schedule. So retuning an optimizer's learning rate in the CI experiment (which
//! gives the cell a new `cell_id`) continues its series, with a step at that commit; changing
//! anything else starts a new series. When one result holds several cells that share this key
//! (a grid over learning rates), each of those cells is its own series (its `cell_id`).
//!
//! The key is the first 16 hex digits of the blake3 hash of a canonical text written here, not
//! by a serializer: numbers as Rust prints them (shortest round trip), strings escaped as Rust
//! debug strings, object keys sorted, so no dependency update changes it.

use std::collections::HashMap;
use std::fmt::Write as _;

use polars::prelude::*;
use serde_json::Value;

use optbench_results::{BATCH_SIZE, DATASET, HPARAMS, OPTIMIZER, P_PREFIX, PROBLEM, SCHEDULE};

/// Appends the canonical text of a JSON value.
fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Number(n) => {
            let _ = match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => write!(out, "{i}"),
                (_, Some(u), _) => write!(out, "{u}"),
                (_, _, f) => write!(out, "{:?}", f.unwrap_or(f64::NAN)),
            };
        }
        Value::String(s) => {
            let _ = write!(out, "{s:?}");
        }
        Value::Array(items) => {
            out.push('[');
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (k, key) in keys.iter().enumerate() {
                if k > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{key:?}:");
                canonical(&map[key.as_str()], out);
            }
            out.push('}');
        }
    }
}

/// The value of row `i` of a column as canonical text (`null` when missing).
fn cell_text(col: &Column, i: usize) -> String {
    match col.dtype() {
        DataType::Float64 | DataType::Float32 => col
            .cast(&DataType::Float64)
            .ok()
            .and_then(|c| c.f64().ok().and_then(|ca| ca.get(i)))
            .map_or("null".into(), |v| format!("{v:?}")),
        DataType::String => col
            .str()
            .ok()
            .and_then(|ca| ca.get(i))
            .map_or("null".into(), |v| format!("{v:?}")),
        DataType::Boolean => col
            .bool()
            .ok()
            .and_then(|ca| ca.get(i))
            .map_or("null".into(), |v| v.to_string()),
        _ => col
            .cast(&DataType::String)
            .ok()
            .and_then(|c| c.str().ok().and_then(|ca| ca.get(i).map(str::to_string)))
            .map_or("null".into(), |v| format!("{v:?}")),
    }
}

/// A JSON text column's value at row `i`, canonical, with `drop` removed from an object.
fn json_text(col: Option<&Column>, i: usize, drop: &str) -> String {
    let Some(text) = col.and_then(|c| c.str().ok()).and_then(|ca| ca.get(i)) else {
        return "null".into();
    };
    let Ok(mut value) = serde_json::from_str::<Value>(text) else {
        return format!("{text:?}");
    };
    if let Value::Object(map) = &mut value {
        map.remove(drop);
    }
    let mut out = String::new();
    canonical(&value, &mut out);
    out
}

/// The canonical text of the cell of run `i` without its learning rate.
fn key_text(runs: &DataFrame, i: usize) -> String {
    let mut out = String::new();
    for name in [PROBLEM, DATASET, OPTIMIZER, BATCH_SIZE] {
        let v = runs.column(name).map_or("null".into(), |c| cell_text(c, i));
        let _ = write!(out, "{name}={v};");
    }
    let _ = write!(
        out,
        "{HPARAMS}={};",
        json_text(runs.column(HPARAMS).ok(), i, "lr")
    );
    let _ = write!(
        out,
        "{SCHEDULE}={};",
        json_text(runs.column(SCHEDULE).ok(), i, "")
    );
    let mut params: Vec<&Column> = runs
        .columns()
        .iter()
        .filter(|c| c.name().starts_with(P_PREFIX))
        .collect();
    params.sort_by(|a, b| a.name().cmp(b.name()));
    for c in params {
        let _ = write!(out, "{}={};", c.name(), cell_text(c, i));
    }
    out
}

/// The series of each cell of a runs table, given each cell's first row: the hash of the cell
/// without its learning rate, or the cell's id where several cells of the table share it.
pub fn series_ids(runs: &DataFrame, first_rows: &[(&str, usize)]) -> HashMap<String, String> {
    let keys: Vec<String> = first_rows
        .iter()
        .map(|&(_, i)| {
            let hash = blake3::hash(key_text(runs, i).as_bytes()).to_hex();
            hash.as_str()[..16].to_string()
        })
        .collect();
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for k in &keys {
        *uses.entry(k.as_str()).or_default() += 1;
    }
    first_rows
        .iter()
        .zip(&keys)
        .map(|(&(cell, _), key)| {
            let series = if uses[key.as_str()] == 1 {
                key.clone()
            } else {
                cell.to_string()
            };
            (cell.to_string(), series)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(lrs: &[f64], eps: &[f64]) -> DataFrame {
        let n = lrs.len();
        let hp: Vec<String> = lrs
            .iter()
            .zip(eps)
            .map(|(lr, e)| format!(r#"{{"lr":{lr},"eps":{e},"betas":[0.9,0.999]}}"#))
            .collect();
        DataFrame::new(
            n,
            vec![
                Column::new(PROBLEM.into(), vec!["rosenbrock"; n]),
                Column::new(OPTIMIZER.into(), vec!["adam"; n]),
                Column::new(HPARAMS.into(), hp),
                Column::new("p_init".into(), vec!["[-1.5,2.0]"; n]),
            ],
        )
        .unwrap()
    }

    #[test]
    fn the_learning_rate_is_left_out_unless_it_tells_cells_apart() {
        let a = series_ids(&runs(&[0.01], &[1e-8]), &[("cell-a", 0)]);
        let b = series_ids(&runs(&[0.02], &[1e-8]), &[("cell-b", 0)]);
        let c = series_ids(&runs(&[0.01], &[1e-6]), &[("cell-c", 0)]);
        assert_eq!(a["cell-a"], b["cell-b"]);
        assert_ne!(a["cell-a"], c["cell-c"]);
        assert_eq!(a["cell-a"].len(), 16);
        // A grid over learning rates: each cell is its own series.
        let grid = series_ids(&runs(&[0.01, 0.02], &[1e-8, 1e-8]), &[("x", 0), ("y", 1)]);
        assert_eq!((grid["x"].as_str(), grid["y"].as_str()), ("x", "y"));
    }

    #[test]
    fn canonical_text_sorts_keys_and_prints_numbers_exactly() {
        let v: Value =
            serde_json::from_str(r#"{"b":[1,2.5,1e-8],"a":{"y":true,"x":"q\"s"}}"#).unwrap();
        let mut out = String::new();
        canonical(&v, &mut out);
        assert_eq!(out, r#"{"a":{"x":"q\"s","y":true},"b":[1,2.5,1e-8]}"#);
    }
}
