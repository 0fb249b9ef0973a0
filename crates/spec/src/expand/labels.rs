//! Cell labels, built from the typed variants: `adam lr=0.001 betas=[0.9,0.99] bs=32`.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

use super::exclude::values_equal;
use super::optimizers::catalog;
use super::train::TRAIN_KEYS;
use crate::plan::OptimizerSpec;

/// A number as it reads in a label: `0.001`, `1e-5`, `100`.
pub fn fmt_number(x: f64) -> String {
    if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e6) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

fn fmt_value(v: &Value) -> String {
    match v {
        Value::Number(n) => n
            .as_i64()
            .map(|i| i.to_string())
            .unwrap_or_else(|| fmt_number(n.as_f64().unwrap_or(f64::NAN))),
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(fmt_value).collect::<Vec<_>>().join(",")
        ),
        Value::Null => "none".into(),
        other => other.to_string(),
    }
}

/// Labels: the optimizer's name, `lr`, then every hyperparameter that differs from its default
/// or varies among the cells of that optimizer; the schedule's name (and its keys that vary);
/// then train keys that vary across the grid (`bs=32` for the batch size).
///
/// `cells` gives each cell's optimizer and training-loop view, in plan order.
pub(super) fn labels(cells: &[(&OptimizerSpec, &Map<String, Value>)]) -> Vec<String> {
    let varying = varying_hparams(cells);
    let train_varying: Vec<&str> = TRAIN_KEYS
        .iter()
        .copied()
        .filter(|k| {
            let vals: BTreeSet<String> = cells
                .iter()
                .map(|(_, t)| t.get(*k).map(Value::to_string).unwrap_or_default())
                .collect();
            vals.len() > 1
        })
        .collect();
    let mut defaults: HashMap<&str, Map<String, Value>> = HashMap::new();
    cells
        .iter()
        .map(|&(o, train)| {
            let defaults = defaults
                .entry(o.name())
                .or_insert_with(|| catalog::optimizer_defaults(o.name()).unwrap_or_default());
            let mut parts = optimizer_parts(o, defaults, varying.get(o.name()));
            for k in &train_varying {
                let v = train.get(*k).cloned().unwrap_or(Value::Null);
                let name = if *k == "batch_size" { "bs" } else { k };
                parts.push(format!("{name}={}", fmt_value(&v)));
            }
            parts.join(" ")
        })
        .collect()
}

/// Per optimizer name, the hyperparameters (and `schedule.<key>`s) that take more than one value
/// among the cells.
fn varying_hparams<'a>(
    cells: &[(&'a OptimizerSpec, &Map<String, Value>)],
) -> HashMap<&'a str, BTreeSet<String>> {
    let mut varying: HashMap<&str, BTreeSet<String>> = HashMap::new();
    let mut first: HashMap<&str, &OptimizerSpec> = HashMap::new();
    for &(o, _) in cells {
        let f = *first.entry(o.name()).or_insert(o);
        let set = varying.entry(o.name()).or_default();
        for (k, v) in &o.hparams {
            if f.hparams.get(k).is_none_or(|w| !values_equal(v, w)) {
                set.insert(k.clone());
            }
        }
        if let (Some(Value::Object(a)), Some(Value::Object(b))) =
            (&o.schedule_json, &f.schedule_json)
        {
            for (k, v) in a {
                if b.get(k).is_none_or(|w| !values_equal(v, w)) {
                    set.insert(format!("schedule.{k}"));
                }
            }
        }
    }
    varying
}

/// `adam lr=0.001 betas=[0.9,0.99] schedule=cosine`: the optimizer's part of a label.
fn optimizer_parts(
    o: &OptimizerSpec,
    defaults: &Map<String, Value>,
    vary: Option<&BTreeSet<String>>,
) -> Vec<String> {
    let mut parts = vec![o.name().to_string()];
    if let Some(lr) = o.hparams.get("lr") {
        parts.push(format!("lr={}", fmt_value(lr)));
    }
    for (k, v) in &o.hparams {
        if k == "lr" {
            continue;
        }
        let non_default = defaults.get(k).is_none_or(|d| !values_equal(v, d));
        if non_default || vary.is_some_and(|s| s.contains(k)) {
            parts.push(format!("{k}={}", fmt_value(v)));
        }
    }
    if let Some(s) = &o.schedule_json {
        let name = s.get("name").and_then(Value::as_str).unwrap_or("schedule");
        parts.push(format!("schedule={name}"));
        if let Value::Object(m) = s {
            for (k, v) in m {
                if k != "name" && vary.is_some_and(|set| set.contains(&format!("schedule.{k}"))) {
                    parts.push(format!("{k}={}", fmt_value(v)));
                }
            }
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn number_formats() {
        assert_eq!(fmt_number(0.001), "0.001");
        assert_eq!(fmt_number(1e-5), "1e-5");
        assert_eq!(fmt_number(0.9), "0.9");
        assert_eq!(fmt_value(&json!([0.9, 0.999])), "[0.9,0.999]");
    }
}
