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
        let keys = RuleKeys {
            problem: problem_keys,
            optimizer: optimizer_keys,
        };
        let mut rules = Vec::new();
        for (i, m) in exp.exclude.iter().enumerate() {
            let rpath = KeyPath::root().key("exclude").index(i);
            let mut conds = Vec::new();
            for (k, pattern) in m {
                let lookup = self.rule_lookup(k, &rpath.key(k), &keys)?;
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

    /// Where the value an exclude rule's `key` matches lives: the part (`problem`, `optimizer`,
    /// `train`) and the keys within it. A key that no problem, optimizer or `train` of this
    /// experiment has is an error at `at`.
    fn rule_lookup(
        &self,
        key: &str,
        at: &KeyPath,
        keys: &RuleKeys,
    ) -> Result<Vec<String>, ExperimentError> {
        let parts: Vec<&str> = key.split('.').collect();
        let owned = |parts: &[&str]| parts.iter().map(|s| s.to_string()).collect();
        match parts.as_slice() {
            ["problem"] | ["optimizer"] => Ok(owned(&[parts[0], "name"])),
            ["dataset"] => Ok(owned(&["problem", "dataset", "name"])),
            [part @ ("problem" | "optimizer"), first, ..] => {
                let (valid, what) = if *part == "problem" {
                    (&keys.problem, "problem of this experiment has the key")
                } else {
                    (
                        &keys.optimizer,
                        "optimizer of this experiment has the hyperparameter",
                    )
                };
                if *first != "name" && !valid.contains(*first) {
                    return Err(self.error(
                        at,
                        format!(
                            "no {what} `{first}`{}; valid: {}",
                            suggest(first, valid.iter().map(String::as_str)),
                            valid.iter().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
                Ok(owned(&parts))
            }
            ["train", k] if TRAIN_KEYS.contains(k) => Ok(owned(&parts)),
            ["train", k] => Err(self.error(
                at,
                format!(
                    "`train` has no key `{k}`{}; valid keys: {}",
                    suggest(k, TRAIN_KEYS.iter().copied()),
                    TRAIN_KEYS.join(", ")
                ),
            )),
            _ => {
                let mut candidates: Vec<String> =
                    vec!["problem".into(), "dataset".into(), "optimizer".into()];
                candidates.extend(TRAIN_KEYS.iter().map(|t| format!("train.{t}")));
                candidates.extend(keys.problem.iter().map(|t| format!("problem.{t}")));
                candidates.extend(keys.optimizer.iter().map(|t| format!("optimizer.{t}")));
                Err(self.error(
                    at,
                    format!(
                        "`{key}` is not a key an exclude rule can match{}; use problem, dataset, \
                         optimizer, problem.<key>, train.<key> or optimizer.<key>",
                        suggest(key, candidates.iter().map(String::as_str)),
                    ),
                ))
            }
        }
    }
}

/// The keys that the problems and optimizers of an experiment have, which exclude rules may name.
struct RuleKeys {
    problem: BTreeSet<String>,
    optimizer: BTreeSet<String>,
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
