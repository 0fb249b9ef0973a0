//! `exclude` rules: which cells of the grid are dropped.
//!
//! A rule matches a cell when all its keys match. Each key concerns one part of the cell (the
//! problem, the optimizer or the training loop), so a rule is evaluated once per variant of each
//! part, and a cell is dropped when some rule matches all three of its parts: no per-cell work
//! beyond three lookups.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::LIST_VALUED_KEYS;
use super::context::Context;
use super::train::TRAIN_KEYS;
use crate::error::ExperimentError;
use crate::experiment::Experiment;
use crate::keys::suggest;
use crate::plan::{OptimizerSpec, ProblemSpec};
use crate::yaml::KeyPath;

impl Context<'_> {
    /// The `exclude` rules, each key checked against the keys the experiment's problems and
    /// optimizers have.
    pub(super) fn exclude_rules(
        &self,
        exp: &Experiment,
        problems: &[Value],
        optimizers: &[Value],
    ) -> Result<Vec<Rule>, ExperimentError> {
        let keys_of = |views: &[Value]| -> BTreeSet<String> {
            views
                .iter()
                .filter_map(Value::as_object)
                .flat_map(|m| m.keys().filter(|k| *k != "name").cloned())
                .collect()
        };
        let problem_keys = keys_of(problems);
        let mut optimizer_keys = keys_of(optimizers);
        optimizer_keys.insert("schedule".to_string());
        let mut rules = Vec::new();
        for (i, m) in exp.exclude.iter().enumerate() {
            let rpath = KeyPath::root().key("exclude").index(i);
            let mut conds = Vec::new();
            for (k, pattern) in m {
                let p = rpath.key(k);
                let parts: Vec<&str> = k.split('.').collect();
                let (lookup, known): (Vec<String>, bool) = match parts.as_slice() {
                    ["problem"] => (vec!["problem".into(), "name".into()], true),
                    ["optimizer"] => (vec!["optimizer".into(), "name".into()], true),
                    ["dataset"] => (
                        vec!["problem".into(), "dataset".into(), "name".into()],
                        true,
                    ),
                    ["problem", rest @ ..] if !rest.is_empty() => {
                        let ok = rest[0] == "name" || problem_keys.contains(rest[0]);
                        if !ok {
                            return Err(self.error(
                                &p,
                                format!(
                                    "no problem of this experiment has the key `{}`{}; valid: {}",
                                    rest[0],
                                    suggest(rest[0], problem_keys.iter().map(String::as_str)),
                                    problem_keys.iter().cloned().collect::<Vec<_>>().join(", ")
                                ),
                            ));
                        }
                        (
                            std::iter::once("problem")
                                .chain(rest.iter().copied())
                                .map(String::from)
                                .collect(),
                            true,
                        )
                    }
                    ["optimizer", rest @ ..] if !rest.is_empty() => {
                        let ok = rest[0] == "name" || optimizer_keys.contains(rest[0]);
                        if !ok {
                            return Err(self.error(
                                &p,
                                format!(
                                    "no optimizer of this experiment has the hyperparameter `{}`{}; valid: {}",
                                    rest[0],
                                    suggest(rest[0], optimizer_keys.iter().map(String::as_str)),
                                    optimizer_keys.iter().cloned().collect::<Vec<_>>().join(", ")
                                ),
                            ));
                        }
                        (
                            std::iter::once("optimizer")
                                .chain(rest.iter().copied())
                                .map(String::from)
                                .collect(),
                            true,
                        )
                    }
                    ["train", key] if TRAIN_KEYS.contains(key) => {
                        (vec!["train".into(), (*key).into()], true)
                    }
                    ["train", key] => {
                        return Err(self.error(
                            &p,
                            format!(
                                "`train` has no key `{key}`{}; valid keys: {}",
                                suggest(key, TRAIN_KEYS.iter().copied()),
                                TRAIN_KEYS.join(", ")
                            ),
                        ));
                    }
                    _ => (Vec::new(), false),
                };
                if !known {
                    let valid = [
                        "problem",
                        "dataset",
                        "optimizer",
                        "problem.<key>",
                        "train.<key>",
                        "optimizer.<key>",
                    ];
                    let mut candidates: Vec<String> =
                        vec!["problem".into(), "dataset".into(), "optimizer".into()];
                    candidates.extend(TRAIN_KEYS.iter().map(|t| format!("train.{t}")));
                    candidates.extend(problem_keys.iter().map(|t| format!("problem.{t}")));
                    candidates.extend(optimizer_keys.iter().map(|t| format!("optimizer.{t}")));
                    return Err(self.error(
                        &p,
                        format!(
                            "`{k}` is not a key an exclude rule can match{}; use {}",
                            suggest(k, candidates.iter().map(String::as_str)),
                            valid.join(", ")
                        ),
                    ));
                }
                let list_valued = lookup
                    .last()
                    .is_some_and(|l| LIST_VALUED_KEYS.contains(&l.as_str()));
                let (part, lookup) = lookup.split_first().map_or_else(
                    || (String::new(), Vec::new()),
                    |(p, rest)| (p.clone(), rest.to_vec()),
                );
                conds.push(Condition {
                    part,
                    lookup,
                    pattern: pattern.clone(),
                    list_valued,
                });
            }
            rules.push(Rule { index: i, conds });
        }
        Ok(rules)
    }
}

/// A problem variant as exclude rules see it: its keys and `name`.
pub(super) fn problem_view(p: &ProblemSpec) -> Value {
    let mut m: Map<String, Value> = p.params.clone();
    m.insert("name".into(), json!(p.name()));
    Value::Object(m)
}

/// An optimizer variant as exclude rules see it: its hyperparameters, `name` and `schedule`.
pub(super) fn optimizer_view(o: &OptimizerSpec) -> Value {
    let mut m = o.hparams.clone();
    m.insert("name".into(), json!(o.name()));
    m.insert(
        "schedule".into(),
        o.schedule_json.clone().unwrap_or(Value::Null),
    );
    Value::Object(m)
}

/// One `exclude` rule.
pub(super) struct Rule {
    /// Its index in `exclude`.
    pub(super) index: usize,
    conds: Vec<Condition>,
}

/// One key of a rule: a path into a part of the cell and the pattern it must match.
struct Condition {
    /// `problem`, `optimizer` or `train`.
    part: String,
    /// The path inside the part.
    lookup: Vec<String>,
    pattern: Value,
    list_valued: bool,
}

impl Rule {
    /// Whether every key of this rule about `part` matches `view` (true when it has none).
    pub(super) fn matches_part(&self, part: &str, view: &Value) -> bool {
        self.conds.iter().filter(|c| c.part == part).all(|c| {
            let mut node = view;
            for k in &c.lookup {
                match node.get(k.as_str()) {
                    Some(n) => node = n,
                    None => return false,
                }
            }
            pattern_matches(&c.pattern, node, c.list_valued)
        })
    }
}

/// Whether `actual` matches `pattern`: numbers within a relative 1e-9, a mapping pattern matches
/// when all its keys match, a string matches a mapping's `name`, and a list where a scalar is
/// expected (or a list of lists for a list-valued key) matches any of its values.
fn pattern_matches(pattern: &Value, actual: &Value, list_valued: bool) -> bool {
    match (pattern, actual) {
        (Value::Array(options), _)
            if !list_valued || options.iter().all(Value::is_array) && !options.is_empty() =>
        {
            if list_valued || !actual.is_array() {
                return options.iter().any(|o| pattern_matches(o, actual, false));
            }
            values_equal(pattern, actual)
        }
        (Value::Object(p), Value::Object(a)) => p.iter().all(|(k, pv)| {
            a.get(k)
                .is_some_and(|av| pattern_matches(pv, av, LIST_VALUED_KEYS.contains(&k.as_str())))
        }),
        (Value::String(s), Value::Object(a)) => a.get("name").and_then(Value::as_str) == Some(s),
        _ => values_equal(pattern, actual),
    }
}

pub(super) fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| values_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

// ---------------------------------------------------------------------------------------------
// Labels and hashes
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patterns() {
        assert!(pattern_matches(&json!(1), &json!(1.0), false));
        assert!(pattern_matches(&json!([1, 32]), &json!(32), false));
        assert!(!pattern_matches(&json!([1, 32]), &json!("full"), false));
        assert!(pattern_matches(&json!([32]), &json!([32]), true));
        assert!(!pattern_matches(&json!([32]), &json!([32, 32]), true));
        assert!(pattern_matches(&json!([[32], [64]]), &json!([64]), true));
        assert!(pattern_matches(
            &json!("iris"),
            &json!({"name": "iris", "x": 1}),
            false
        ));
        assert!(pattern_matches(
            &json!({"name": "iris"}),
            &json!({"name": "iris", "x": 1}),
            false
        ));
        assert!(pattern_matches(&json!(0.1), &json!(0.1 + 1e-17), false));
    }
}
