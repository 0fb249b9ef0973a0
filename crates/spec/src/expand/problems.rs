//! Problem variants: each `problems` entry's keys checked against the problem's and dataset's
//! key tables (optbench-models), crossed, and validated into typed [`ProblemConfig`]s.

use std::collections::BTreeMap;

use optbench_models::{DATASET_NAMES, ModelError, PROBLEM_NAMES, ProblemConfig};
use serde_json::Value;

use super::LIST_VALUED_KEYS;
use super::context::{Context, Variant};
use crate::error::ExperimentError;
use crate::experiment::{Entry, Experiment};
use crate::keys::{self, Kind};
use crate::yaml::KeyPath;

/// A problem variant and where its keys came from.
pub(super) struct ProblemVariant {
    /// Index of its entry in `problems`.
    pub(super) entry: usize,
    /// The validated configuration.
    pub(super) config: ProblemConfig,
    /// The path each key came from.
    pub(super) sources: BTreeMap<String, KeyPath>,
}

impl Context<'_> {
    /// The variants of every `problems` entry, in file order.
    pub(super) fn problem_variants(
        &self,
        exp: &Experiment,
    ) -> Result<Vec<ProblemVariant>, ExperimentError> {
        let mut out = Vec::new();
        for (e, entry) in exp.problems.iter().enumerate() {
            keys::check_name(Kind::PROBLEM, &entry.name, PROBLEM_NAMES)
                .map_err(|m| self.error(&entry.path.key("name"), m))?;
            let specs = optbench_models::problem_keys(&entry.name).unwrap_or_default();
            let valid: Vec<&str> = specs.iter().map(|k| k.name).collect();
            let zipped = entry.zip.iter().flat_map(|g| g.keys.keys());
            keys::check_keys(Kind::KEY, entry.keys.keys().chain(zipped), &valid)
                .map_err(|(k, m)| self.error(&entry.path.key(&k), m))?;
            let list_valued = |k: &str| {
                LIST_VALUED_KEYS.contains(&k)
                    || specs.iter().any(|s| s.name == k && s.default.is_array())
            };
            for var in self.variants(entry, &[], &list_valued)? {
                self.check_dataset_keys(entry, &var)?;
                let config = ProblemConfig::from_json(&entry.name, &var.keys)
                    .map_err(|err| self.model_error(entry, &var, &err))?;
                out.push(ProblemVariant {
                    entry: e,
                    config,
                    sources: var.sources,
                });
            }
        }
        Ok(out)
    }

    /// A variant's dataset: its name and keys against the dataset tables.
    fn check_dataset_keys(&self, entry: &Entry, var: &Variant) -> Result<(), ExperimentError> {
        let path = var
            .sources
            .get("dataset")
            .cloned()
            .unwrap_or_else(|| entry.path.key("dataset"));
        let (name, map, name_path) = match var.keys.get("dataset") {
            Some(Value::String(s)) => (s.as_str(), None, path.clone()),
            Some(Value::Object(m)) => match m.get("name") {
                Some(Value::String(s)) => (s.as_str(), Some(m), path.key("name")),
                _ => return Ok(()), // the models crate names what is missing or wrong
            },
            _ => return Ok(()),
        };
        keys::check_name(Kind::DATASET, name, DATASET_NAMES)
            .map_err(|m| self.error(&name_path, m))?;
        if let Some(m) = map {
            let specs = optbench_models::dataset_keys(name).unwrap_or_default();
            let valid: Vec<&str> = std::iter::once("name")
                .chain(specs.iter().map(|k| k.name))
                .collect();
            keys::check_keys(Kind::KEY, m.keys(), &valid)
                .map_err(|(k, msg)| self.error(&path.key(&k), msg))?;
        }
        Ok(())
    }

    /// Where a models-crate error points: the problem key, or the dataset's key.
    fn model_error(&self, entry: &Entry, var: &Variant, err: &ModelError) -> ExperimentError {
        let dataset_path = var
            .sources
            .get("dataset")
            .cloned()
            .unwrap_or_else(|| entry.path.key("dataset"));
        let dataset_is_map = var.keys.get("dataset").is_some_and(Value::is_object);
        let owner_path = |owner: &str| {
            if owner == entry.name {
                entry.path.clone()
            } else {
                dataset_path.clone()
            }
        };
        let path = match err {
            ModelError::UnknownDataset { .. } if dataset_is_map => dataset_path.key("name"),
            ModelError::UnknownDataset { .. } => dataset_path.clone(),
            ModelError::UnknownKey { owner, key, .. }
            | ModelError::WrongType { owner, key, .. }
            | ModelError::OutOfRange { owner, key, .. } => {
                if owner == &entry.name {
                    var.sources
                        .get(key)
                        .cloned()
                        .unwrap_or_else(|| entry.path.key(key))
                } else if dataset_is_map {
                    dataset_path.key(key)
                } else {
                    dataset_path.clone()
                }
            }
            ModelError::MissingKey { owner, .. } => owner_path(owner),
            ModelError::Io { .. } | ModelError::Malformed { .. } => {
                if dataset_is_map {
                    dataset_path.key("path")
                } else {
                    dataset_path.clone()
                }
            }
            _ => entry.path.clone(),
        };
        let mut message = err.to_string();
        if let ModelError::MissingKey { key, .. } = err {
            if key == "dataset" {
                message.push_str("; add e.g. `dataset: iris` or `dataset: {name: synthetic_classification, samples: 1000}`");
            }
        }
        self.error(&path, message)
    }
}
