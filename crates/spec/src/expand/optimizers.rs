//! Optimizer variants: each `optimizers` entry's hyperparameters (and the schedule, its own or
//! the experiment's) checked against optbench-optim's tables, crossed, and validated into typed
//! [`OptimizerSpec`]s.

use optbench_optim::{OptimizerConfig, ScheduleConfig};
use serde_json::Value;

use super::LIST_VALUED_KEYS;
use super::context::Context;
use crate::error::ExperimentError;
use crate::experiment::{Entry, Experiment};
use crate::keys::{self, Kind};
use crate::plan::OptimizerSpec;
use crate::yaml::KeyPath;

impl Context<'_> {
    /// The variants of every `optimizers` entry, in file order.
    pub(super) fn optimizer_variants(
        &self,
        exp: &Experiment,
    ) -> Result<Vec<OptimizerSpec>, ExperimentError> {
        let extra = self.inherited_schedule(exp);
        let mut out = Vec::new();
        for entry in &exp.optimizers {
            self.check_optimizer_keys(entry)?;
            let defaults = catalog::optimizer_defaults(&entry.name).unwrap_or_default();
            let list_valued = |k: &str| {
                LIST_VALUED_KEYS.contains(&k) || defaults.get(k).is_some_and(Value::is_array)
            };
            for mut var in self.variants(entry, &extra, &list_valued)? {
                let schedule = var.keys.remove("schedule").filter(|v| !v.is_null());
                let sched_path = var.sources.get("schedule").cloned();
                let config = catalog::optimizer_config(&entry.name, &var.keys).map_err(|err| {
                    let key = catalog::error_key(&err);
                    let path = key
                        .and_then(|k| var.sources.get(&k).cloned())
                        .unwrap_or_else(|| entry.path.clone());
                    self.error(&path, catalog::describe(&err))
                })?;
                let schedule = match schedule {
                    None => None,
                    Some(s) => {
                        let base = sched_path.unwrap_or_else(|| entry.path.key("schedule"));
                        Some(self.schedule_config(&s, &base)?)
                    }
                };
                out.push(OptimizerSpec::new(config, schedule));
            }
        }
        Ok(out)
    }

    /// The top-level `schedule`, inherited by every entry without its own.
    pub(super) fn inherited_schedule(&self, exp: &Experiment) -> Vec<(String, Value, KeyPath)> {
        exp.schedule
            .iter()
            .map(|s| {
                (
                    "schedule".to_string(),
                    s.clone(),
                    KeyPath::root().key("schedule"),
                )
            })
            .collect()
    }

    /// The optimizer's name and its hyperparameters' names.
    fn check_optimizer_keys(&self, entry: &Entry) -> Result<(), ExperimentError> {
        keys::check_name(Kind::OPTIMIZER, &entry.name, OptimizerConfig::NAMES)
            .map_err(|m| self.error(&entry.path.key("name"), m))?;
        let valid: Vec<&str> = OptimizerConfig::hparams(&entry.name)
            .unwrap_or_default()
            .iter()
            .map(|h| h.name)
            .chain(["schedule"])
            .collect();
        let zipped = entry.zip.iter().flat_map(|g| g.keys.keys());
        keys::check_keys(
            Kind::HYPERPARAMETER,
            entry.keys.keys().chain(zipped),
            &valid,
        )
        .map_err(|(k, m)| self.error(&entry.path.key(&k), m))
    }

    /// A schedule value (a name or a mapping) at `path`, validated.
    fn schedule_config(
        &self,
        s: &Value,
        path: &KeyPath,
    ) -> Result<ScheduleConfig, ExperimentError> {
        let names = optbench_optim::schedule::SCHEDULE_NAMES;
        let name = match s {
            Value::String(n) => Some((n.as_str(), path.clone())),
            Value::Object(m) => m
                .get("name")
                .and_then(Value::as_str)
                .map(|n| (n, path.key("name"))),
            _ => None,
        };
        if let Some((name, at)) = name {
            keys::check_name(Kind::SCHEDULE, name, names).map_err(|m| self.error(&at, m))?;
            if let Value::Object(m) = s {
                let valid: Vec<&str> = std::iter::once("name")
                    .chain(
                        ScheduleConfig::keys(name)
                            .unwrap_or_default()
                            .iter()
                            .map(|k| k.name),
                    )
                    .collect();
                keys::check_keys(Kind::KEY, m.keys(), &valid)
                    .map_err(|(k, msg)| self.error(&path.key(&k), msg))?;
            }
        }
        catalog::schedule_config(s).map_err(|err| {
            let at = match catalog::error_key(&err) {
                Some(k) if s.is_object() && k != "schedule" => path.key(&k),
                _ => path.clone(),
            };
            self.error(&at, catalog::describe(&err))
        })
    }
}

/// The optimizer crate seen from the runner: names, defaults, canonical hyperparameters,
/// schedules, and where an error points.
pub mod catalog {
    use optbench_optim::{OptimError, OptimizerConfig, ScheduleConfig};
    use serde_json::{Map, Value};

    /// Optimizer names, in the README's order.
    pub fn optimizer_names() -> &'static [&'static str] {
        OptimizerConfig::NAMES
    }

    /// torch's defaults of an optimizer, or `None` for an unknown name.
    pub fn optimizer_defaults(name: &str) -> Option<Map<String, Value>> {
        OptimizerConfig::default_for(name).map(|c| c.to_json())
    }

    /// Parses and range-checks hyperparameters.
    pub fn optimizer_config(
        name: &str,
        hparams: &Map<String, Value>,
    ) -> Result<OptimizerConfig, OptimError> {
        let cfg = OptimizerConfig::from_json(name, hparams)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Parses and range-checks a schedule.
    pub fn schedule_config(v: &Value) -> Result<ScheduleConfig, OptimError> {
        let cfg = ScheduleConfig::from_json(v)?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// One line on an optimizer (what it is, the paper).
    pub fn optimizer_summary(name: &str) -> Option<&'static str> {
        OptimizerConfig::summary(name)
    }

    /// Each hyperparameter's name and meaning.
    pub fn optimizer_docs(name: &str) -> Vec<(&'static str, &'static str)> {
        OptimizerConfig::hparams(name)
            .unwrap_or_default()
            .iter()
            .map(|h| (h.name, h.doc))
            .collect()
    }

    /// Schedule names.
    pub fn schedule_names() -> &'static [&'static str] {
        optbench_optim::schedule::SCHEDULE_NAMES
    }

    /// The key an error is about (`betas[1]` is about `betas`).
    pub fn error_key(e: &OptimError) -> Option<String> {
        let k = match e {
            OptimError::InvalidHyperparameter { name, .. } => (*name).to_string(),
            OptimError::UnknownKey { key, .. } | OptimError::WrongType { key, .. } => key.clone(),
            OptimError::MissingKey { key, .. } => (*key).to_string(),
            OptimError::UnknownName { kind, .. } if *kind == "schedule" => "name".to_string(),
            _ => return None,
        };
        Some(k.split('[').next().unwrap_or(&k).to_string())
    }

    /// The error as the end of a sentence that starts with the entry.
    pub fn describe(e: &OptimError) -> String {
        match e {
            OptimError::InvalidHyperparameter {
                name,
                value,
                allowed,
                ..
            } => format!("hyperparameter `{name}` = {value} is out of range: it must be {allowed}"),
            other => other.to_string(),
        }
    }
}
