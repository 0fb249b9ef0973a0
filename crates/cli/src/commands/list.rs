//! `optbench list`: optimizers, problems, datasets and schedules with every key and default.

use std::fmt::Write as _;

use optbench_spec::expand;
use serde_json::Value;

use crate::args::ListWhat;

fn fmt_default(v: &Value) -> String {
    match v {
        Value::Null => "—".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `optbench list`'s text.
pub fn list(what: Option<ListWhat>) -> String {
    let mut out = String::new();
    let all = what.is_none();
    if all || what == Some(ListWhat::Optimizers) {
        let _ = writeln!(
            out,
            "Optimizers (hyperparameters and defaults as torch.optim):"
        );
        for name in expand::catalog::optimizer_names() {
            let summary = expand::catalog::optimizer_summary(name).unwrap_or("");
            let _ = writeln!(out, "  {name:<20} {summary}");
            let docs = expand::catalog::optimizer_docs(name);
            for (k, v) in expand::catalog::optimizer_defaults(name).unwrap_or_default() {
                let help = docs.iter().find(|(n, _)| *n == k).map_or("", |(_, d)| *d);
                let _ = writeln!(
                    out,
                    "      {k:<26} {:<20} {help}",
                    format!("default {}", fmt_default(&v))
                );
            }
        }
        let _ = writeln!(out);
    }
    if all || what == Some(ListWhat::Problems) {
        let _ = writeln!(out, "Problems:");
        for name in optbench_models::PROBLEM_NAMES {
            let _ = writeln!(out, "  {name}");
            for k in optbench_models::problem_keys(name).unwrap_or_default() {
                let d = if k.required {
                    "required".to_string()
                } else {
                    format!("default {}", fmt_default(&k.default))
                };
                let _ = writeln!(out, "      {:<22} {:<20} {}", k.name, d, k.help);
            }
        }
        let _ = writeln!(out);
    }
    if all || what == Some(ListWhat::Datasets) {
        let _ = writeln!(
            out,
            "Datasets (`dataset: NAME` or `dataset: {{name: NAME, key: value}}`):"
        );
        for name in optbench_models::DATASET_NAMES {
            let _ = writeln!(out, "  {name}");
            for k in optbench_models::dataset_keys(name).unwrap_or_default() {
                let d = if k.required {
                    "required".to_string()
                } else {
                    format!("default {}", fmt_default(&k.default))
                };
                let _ = writeln!(out, "      {:<22} {:<20} {}", k.name, d, k.help);
            }
        }
        let _ = writeln!(out);
    }
    if all || what == Some(ListWhat::Schedules) {
        let _ = writeln!(
            out,
            "Schedules (`schedule: {{name: NAME, ...}}`, per optimizer or for all; every one takes warmup_steps and warmup_start_factor):"
        );
        for name in expand::catalog::schedule_names() {
            let v = expand::catalog::schedule_config(&Value::String((*name).to_string()))
                .map(|c| c.to_json());
            let keys = match v {
                Ok(Value::Object(m)) => m
                    .iter()
                    .filter(|(k, _)| *k != "name")
                    .map(|(k, v)| format!("{k}={}", fmt_default(v)))
                    .collect::<Vec<_>>()
                    .join(", "),
                _ => "(has required keys)".to_string(),
            };
            let _ = writeln!(out, "  {name:<14} {keys}");
        }
    }
    out
}
