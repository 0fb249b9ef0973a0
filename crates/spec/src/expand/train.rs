//! `train` variants: the training loop's keys, crossed and validated into [`TrainSpec`]s.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::DEFAULT_EVAL_EVERY;
use super::context::{Context, Variant};
use crate::error::ExperimentError;
use crate::experiment::{Entry, Experiment, describe_value};
use crate::keys::{self, Kind, suggest};
use crate::plan::{BatchSize, Budget, TrainSpec};
use crate::yaml::KeyPath;

/// Keys of the `train` mapping.
pub const TRAIN_KEYS: &[&str] = &[
    "epochs",
    "steps",
    "batch_size",
    "eval_every",
    "eval_train_examples",
    "clip_grad_norm",
    "clip_grad_value",
];

/// A train variant: its spec, the view exclude rules and labels see, and where keys came from.
pub(super) struct TrainVariant {
    pub(super) spec: TrainSpec,
    pub(super) view: Map<String, Value>,
    pub(super) sources: BTreeMap<String, KeyPath>,
}

impl Context<'_> {
    /// The variants of the `train` mapping.
    pub(super) fn train_variants(
        &self,
        exp: &Experiment,
    ) -> Result<Vec<TrainVariant>, ExperimentError> {
        let root = KeyPath::root().key("train");
        let entry = Entry {
            path: root.clone(),
            name: "train".into(),
            keys: exp.train.clone(),
            zip: Vec::new(),
        };
        keys::check_keys(Kind::KEY, exp.train.keys(), TRAIN_KEYS)
            .map_err(|(k, m)| self.error(&root.key(&k), m))?;
        self.variants(&entry, &[], &|_| false)?
            .into_iter()
            .map(|var| {
                let spec = self.train_spec(&root, &var)?;
                Ok(TrainVariant {
                    view: view(&spec),
                    spec,
                    sources: var.sources,
                })
            })
            .collect()
    }

    /// One variant's keys as a [`TrainSpec`].
    fn train_spec(&self, root: &KeyPath, var: &Variant) -> Result<TrainSpec, ExperimentError> {
        let at = |k: &str| var.sources.get(k).cloned().unwrap_or_else(|| root.key(k));
        let get = |k: &str| var.keys.get(k).filter(|v| !v.is_null());
        let budget = match (get("epochs"), get("steps")) {
            (Some(_), Some(_)) => {
                return Err(self.error(&at("steps"), "give either `epochs` or `steps`, not both"));
            }
            (Some(v), None) => Budget::Epochs(self.count(&at("epochs"), "epochs", v, 1)?),
            (None, Some(v)) => Budget::Steps(self.count(&at("steps"), "steps", v, 1)?),
            (None, None) => {
                return Err(self.error(
                    root,
                    "`train` needs `epochs` or `steps`, e.g. `train: {steps: 1000}`",
                ));
            }
        };
        let batch_size = match get("batch_size") {
            None => BatchSize::Full,
            Some(Value::String(s)) if s == "full" => BatchSize::Full,
            Some(v) => {
                let n = self.count(&at("batch_size"), "batch_size", v, 1).map_err(|e| {
                    if v.as_u64() == Some(0) {
                        self.error(
                            &at("batch_size"),
                            "`batch_size` is 0; use a number of examples ≥ 1 (1 is SGD) or `full` (gradient descent)",
                        )
                    } else if v.is_string() {
                        self.error(
                            &at("batch_size"),
                            format!(
                                "`batch_size` must be `full` or a number of examples, found {}{}",
                                describe_value(v),
                                suggest(v.as_str().unwrap_or(""), ["full"])
                            ),
                        )
                    } else {
                        e
                    }
                })?;
                BatchSize::Examples(usize::try_from(n).unwrap_or(usize::MAX))
            }
        };
        let eval_every = match get("eval_every") {
            None => DEFAULT_EVAL_EVERY,
            Some(v) => self.count(&at("eval_every"), "eval_every", v, 1)?,
        };
        let eval_train_examples = match get("eval_train_examples") {
            None => None,
            Some(v) => Some(
                usize::try_from(self.count(
                    &at("eval_train_examples"),
                    "eval_train_examples",
                    v,
                    1,
                )?)
                .unwrap_or(usize::MAX),
            ),
        };
        let positive = |k: &str| -> Result<Option<f64>, ExperimentError> {
            match get(k) {
                None => Ok(None),
                Some(v) => match v.as_f64() {
                    Some(x) if x > 0.0 && x.is_finite() => Ok(Some(x)),
                    _ => Err(self.error(
                        &at(k),
                        format!("`{k}` must be a number > 0, found {}", describe_value(v)),
                    )),
                },
            }
        };
        Ok(TrainSpec {
            budget,
            batch_size,
            eval_every,
            eval_train_examples,
            clip_grad_norm: positive("clip_grad_norm")?,
            clip_grad_value: positive("clip_grad_value")?,
        })
    }
}

/// The variant as exclude rules and labels see it: every key, `batch_size` as `full` or a count.
fn view(spec: &TrainSpec) -> Map<String, Value> {
    let mut view = Map::new();
    match spec.budget {
        Budget::Epochs(n) => view.insert("epochs".into(), json!(n)),
        Budget::Steps(n) => view.insert("steps".into(), json!(n)),
    };
    let batch = match spec.batch_size {
        BatchSize::Full => json!("full"),
        BatchSize::Examples(n) => json!(n),
    };
    view.insert("batch_size".into(), batch);
    view.insert("eval_every".into(), json!(spec.eval_every));
    view.insert(
        "eval_train_examples".into(),
        json!(spec.eval_train_examples),
    );
    view.insert("clip_grad_norm".into(), json!(spec.clip_grad_norm));
    view.insert("clip_grad_value".into(), json!(spec.clip_grad_value));
    view
}
