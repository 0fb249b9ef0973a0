//! Dataset configuration: the dataset names and keys users write in YAML, their defaults, and
//! validation into [`DatasetConfig`].

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use super::tokens::{TokenConfig, is_token_key, modular_keys, text_keys};
use super::{Ctx, KeySpec, key, required};
use crate::data::augment::Augmentation;
use crate::error::ModelError;

/// Dataset names users write in YAML (`dataset: {name: ...}`).
pub const DATASET_NAMES: &[&str] = &[
    "synthetic_regression",
    "synthetic_classification",
    "iris",
    "wine_quality",
    "diabetes",
    "digits",
    "synthetic_images",
    "idx",
    "cifar10",
    "csv",
    "parquet",
    "modular_arithmetic",
    "text",
];

/// The keys of a dataset (without `name`), or `None` for an unknown dataset.
///
/// ```
/// let keys = optbench_models::dataset_keys("csv").unwrap();
/// assert!(keys.iter().any(|k| k.name == "path" && k.required));
/// assert!(optbench_models::dataset_keys("mnist").is_none());
/// ```
pub fn dataset_keys(dataset: &str) -> Option<Vec<KeySpec>> {
    let kind = DatasetKind::from_name(dataset)?;
    let test_fraction = key(
        "test_fraction",
        json!(0.2),
        "fraction held out as the test split (seeded), in [0, 1)",
    );
    let standardize = key(
        "standardize",
        json!(true),
        "standardize with the training split's mean and std: per feature, per channel for images",
    );
    let task = key(
        "task",
        json!("auto"),
        "classification, regression, or auto (classification if targets are integers in 0..=255)",
    );
    use DatasetKind::*;
    let mut keys = match kind {
        SyntheticRegression => vec![
            key("samples", json!(1000), "number of examples"),
            key("features", json!(10), "number of features"),
            key(
                "noise",
                json!(0.1),
                "std of the Gaussian noise added to targets",
            ),
        ],
        SyntheticClassification => vec![
            key("samples", json!(1000), "number of examples"),
            key("features", json!(10), "number of features"),
            key("classes", json!(2), "number of classes"),
            key(
                "noise",
                json!(0.1),
                "std of the Gaussian noise added to class scores (0 = linearly separable)",
            ),
        ],
        Iris | Diabetes | Digits => vec![],
        SyntheticImages => vec![
            key("samples", json!(1000), "number of examples"),
            key("channels", json!(1), "channels of an image"),
            key("height", json!(8), "rows of an image"),
            key("width", json!(8), "columns of an image"),
            key(
                "classes",
                json!(10),
                "number of classes (one template image each)",
            ),
            key(
                "noise",
                json!(1.0),
                "std of the Gaussian noise added to the class template (templates are N(0, 1))",
            ),
        ],
        WineQuality => vec![key(
            "task",
            json!("regression"),
            "regression on the quality score, or classification (quality as class label)",
        )],
        Idx => vec![
            required(
                "path",
                "IDX images file (raw or .gz), e.g. train-images-idx3-ubyte.gz",
            ),
            required(
                "labels",
                "IDX labels file (raw or .gz), e.g. train-labels-idx1-ubyte.gz",
            ),
            key(
                "samples",
                json!(0),
                "use only the first N examples (0 = all)",
            ),
            key(
                "test_path",
                Value::Null,
                "official test images (e.g. t10k-images-idx3-ubyte.gz), used instead of test_fraction",
            ),
            key(
                "test_labels",
                Value::Null,
                "official test labels (e.g. t10k-labels-idx1-ubyte.gz); given with test_path",
            ),
        ],
        Cifar10 => vec![
            required(
                "path",
                "folder of CIFAR-10's binary version: data_batch_1.bin … data_batch_5.bin, test_batch.bin",
            ),
            key(
                "samples",
                json!(0),
                "use only the first N training examples (0 = all 50,000)",
            ),
        ],
        Csv | Parquet => vec![
            required("path", "the file, relative to the experiment file"),
            key("target", json!("target"), "name of the target column"),
            task,
        ],
        ModularArithmetic => return Some(modular_keys()),
        Text => return Some(text_keys()),
    };
    if kind != Cifar10 {
        keys.push(test_fraction);
    }
    keys.push(standardize);
    if kind.has_images() {
        keys.push(key(
            "augment",
            json!([]),
            "training-batch augmentation of images, in order: `random_crop: P` (pad P zeros, \
             crop at a random offset), `hflip` (mirror with probability 1/2), e.g. \
             [random_crop: 4, hflip]",
        ));
    }
    Some(keys)
}

named_enum!(
    /// Which dataset.
    DatasetKind {
        /// Linear targets plus Gaussian noise.
        SyntheticRegression = "synthetic_regression",
        /// Argmax of noisy linear class scores.
        SyntheticClassification = "synthetic_classification",
        /// Fisher's iris (150 × 4, 3 classes).
        Iris = "iris",
        /// Wine quality (red, 1599 × 11).
        WineQuality = "wine_quality",
        /// Diabetes (Efron et al. 2004; 442 × 10, regression).
        Diabetes = "diabetes",
        /// scikit-learn's handwritten digits (1797 images of 1×8×8, 10 classes).
        Digits = "digits",
        /// Seeded class templates plus Gaussian noise, any image shape.
        SyntheticImages = "synthetic_images",
        /// IDX files (MNIST format).
        Idx = "idx",
        /// CIFAR-10, binary version (50,000 + 10,000 images of 3×32×32, 10 classes).
        Cifar10 = "cifar10",
        /// CSV file with a header and a target column.
        Csv = "csv",
        /// Parquet file with a target column.
        Parquet = "parquet",
        /// `a ∘ b mod p` as token sequences (Power et al. 2022's grokking task).
        ModularArithmetic = "modular_arithmetic",
        /// A UTF-8 text file as a token stream, for a language model.
        Text = "text",
    }
);

impl DatasetKind {
    /// Whether the dataset gives images (for `idx`: can give them, from a rank-3 images file):
    /// these take the `augment` key.
    pub fn has_images(self) -> bool {
        matches!(
            self,
            DatasetKind::Digits
                | DatasetKind::SyntheticImages
                | DatasetKind::Idx
                | DatasetKind::Cifar10
        )
    }

    /// Whether the dataset is token sequences, for the `transformer`.
    pub fn has_tokens(self) -> bool {
        matches!(self, DatasetKind::ModularArithmetic | DatasetKind::Text)
    }

    /// Whether the dataset is generated from the seed.
    pub fn is_synthetic(self) -> bool {
        matches!(
            self,
            DatasetKind::SyntheticRegression
                | DatasetKind::SyntheticClassification
                | DatasetKind::SyntheticImages
        )
    }
}

/// Keys that [`DatasetConfig::to_json`] leaves out while unset, so that the canonical JSON (and
/// the run ids hashed from it) of configurations written before these keys existed is unchanged.
pub const KEYS_OMITTED_WHEN_UNSET: &[&str] = &["test_path", "test_labels", "augment"];

named_enum!(
    /// Whether a dataset's targets are class labels or real values.
    Task {
        /// Decide from the data (integers in 0..=255 are class labels).
        Auto = "auto",
        /// Targets are class labels 0..k−1.
        Classification = "classification",
        /// Targets are real values.
        Regression = "regression",
    }
);

/// A validated dataset configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetConfig {
    pub(crate) kind: DatasetKind,
    pub(crate) samples: usize,
    pub(crate) features: usize,
    pub(crate) classes: usize,
    pub(crate) noise: f64,
    pub(crate) path: Option<PathBuf>,
    pub(crate) labels: Option<PathBuf>,
    pub(crate) test_path: Option<PathBuf>,
    pub(crate) test_labels: Option<PathBuf>,
    pub(crate) target: String,
    pub(crate) task: Task,
    pub(crate) test_fraction: f64,
    pub(crate) standardize: bool,
    pub(crate) channels: usize,
    pub(crate) height: usize,
    pub(crate) width: usize,
    pub(crate) augment: Vec<Augmentation>,
    pub(crate) tokens: TokenConfig,
}

impl DatasetConfig {
    /// Parses a dataset from its YAML value as JSON: a name (`"iris"`) or a mapping with `name`
    /// and the dataset's keys ([`dataset_keys`]).
    ///
    /// ```
    /// use serde_json::json;
    /// let d = optbench_models::DatasetConfig::from_json(&json!({"name": "synthetic_regression", "samples": 50})).unwrap();
    /// assert_eq!(d.to_json()["samples"], json!(50));
    /// assert_eq!(d.to_json()["test_fraction"], json!(0.2));
    /// ```
    pub fn from_json(value: &Value) -> Result<Self, ModelError> {
        let empty = Map::new();
        let (name, keys) = match value {
            Value::String(s) => (s.as_str(), &empty),
            Value::Object(m) => match m.get("name") {
                Some(Value::String(s)) => (s.as_str(), m),
                Some(other) => {
                    return Err(Ctx { owner: "dataset" }.wrong("name", "a dataset name", other));
                }
                None => {
                    return Err(ModelError::MissingKey {
                        owner: "dataset".into(),
                        key: "name".into(),
                    });
                }
            },
            other => {
                return Err(Ctx { owner: "dataset" }.wrong(
                    "dataset",
                    "a dataset name or a mapping with `name`",
                    other,
                ));
            }
        };
        let kind = DatasetKind::from_name(name).ok_or_else(|| ModelError::UnknownDataset {
            name: name.to_string(),
            valid: DATASET_NAMES.join(", "),
        })?;
        let specs = dataset_keys(name).unwrap_or_default();
        let cx = Ctx { owner: name };
        let given = |k: &str| keys.get(k).is_some_and(|v| !v.is_null());
        if given("augment") && !kind.has_images() {
            return Err(cx.range(
                "augment",
                format!(
                    "applies to image datasets only (digits, synthetic_images, idx, cifar10); \
                     `{name}` is tabular"
                ),
            ));
        }
        if given("test_fraction") && kind == DatasetKind::Cifar10 {
            return Err(cx.range(
                "test_fraction",
                "does not apply: cifar10 has an official test split (test_batch.bin)".into(),
            ));
        }
        cx.check_keys(keys, &specs)?;
        let mut cfg = DatasetConfig::defaults(kind);
        for (k, v) in keys {
            if v.is_null() {
                continue;
            }
            match k.as_str() {
                "name" => {}
                "samples" if matches!(kind, DatasetKind::Idx | DatasetKind::Cifar10) => {
                    cfg.samples = cx.usize(k, v)?;
                }
                "samples" => cfg.samples = cx.usize_in(k, v, 2, 100_000_000)?,
                "features" => cfg.features = cx.usize_in(k, v, 1, 1_000_000)?,
                "classes" => cfg.classes = cx.usize_in(k, v, 2, 10_000)?,
                "noise" => cfg.noise = cx.nonneg(k, v)?,
                "channels" => cfg.channels = cx.usize_in(k, v, 1, 1024)?,
                "height" => cfg.height = cx.usize_in(k, v, 1, 4096)?,
                "width" => cfg.width = cx.usize_in(k, v, 1, 4096)?,
                "path" | "labels" | "test_path" | "test_labels" => {
                    let s = cx.str(k, v)?;
                    if s.is_empty() {
                        return Err(cx.range(k, "must not be empty".into()));
                    }
                    let p = Some(PathBuf::from(s));
                    match k.as_str() {
                        "path" => cfg.path = p,
                        "labels" => cfg.labels = p,
                        "test_path" => cfg.test_path = p,
                        _ => cfg.test_labels = p,
                    }
                }
                "target" => cfg.target = cx.str(k, v)?.to_string(),
                "task" => cfg.task = cx.choice(k, v, Task::from_name, &Task::names())?,
                "test_fraction" => {
                    let f = cx.f64(k, v)?;
                    if !(0.0..1.0).contains(&f) {
                        return Err(cx.range(k, format!("must be in [0, 1), found {f}")));
                    }
                    cfg.test_fraction = f;
                }
                "standardize" => cfg.standardize = cx.bool(k, v)?,
                "augment" => {
                    cfg.augment = Augmentation::list_from_json(v).map_err(|m| cx.range(k, m))?;
                }
                k if is_token_key(k) => cfg.tokens.parse(&cx, k, v)?,
                _ => unreachable!("checked against the key list"),
            }
        }
        cfg.check_official_test(&cx, given("test_fraction"))?;
        cfg.tokens.check(&cx)?;
        match kind {
            DatasetKind::ModularArithmetic => cfg.test_fraction = 1.0 - cfg.tokens.train_fraction,
            DatasetKind::Text if cfg.test_fraction <= 0.0 => {
                return Err(cx.range(
                    "test_fraction",
                    "must be in (0, 1): the test windows come from the end of the text".into(),
                ));
            }
            _ => {}
        }
        if kind == DatasetKind::SyntheticImages {
            let values = cfg.samples as u128 * (cfg.channels * cfg.height * cfg.width) as u128;
            if values > MAX_SYNTHETIC_VALUES {
                return Err(cx.range(
                    "samples",
                    format!(
                        "× channels × height × width is {values} values, more than \
                         {MAX_SYNTHETIC_VALUES}"
                    ),
                ));
            }
        }
        Ok(cfg)
    }

    /// The configuration with every key at its default.
    fn defaults(kind: DatasetKind) -> Self {
        let images = kind == DatasetKind::SyntheticImages;
        DatasetConfig {
            kind,
            samples: match kind {
                DatasetKind::Idx | DatasetKind::Cifar10 => 0,
                _ => 1000,
            },
            features: 10,
            classes: if images { 10 } else { 2 },
            noise: if images { 1.0 } else { 0.1 },
            path: None,
            labels: None,
            test_path: None,
            test_labels: None,
            target: "target".into(),
            task: if kind == DatasetKind::WineQuality {
                Task::Regression
            } else {
                Task::Auto
            },
            test_fraction: match kind {
                DatasetKind::Cifar10 => 0.0,
                DatasetKind::Text => 0.1,
                DatasetKind::ModularArithmetic => 0.7,
                _ => 0.2,
            },
            standardize: !kind.has_tokens(),
            channels: 1,
            height: 8,
            width: 8,
            augment: Vec::new(),
            tokens: TokenConfig::default(),
        }
    }

    /// `test_path` and `test_labels` come together, and replace `test_fraction`.
    fn check_official_test(
        &mut self,
        cx: &Ctx,
        test_fraction_given: bool,
    ) -> Result<(), ModelError> {
        let missing = |key: &str| ModelError::MissingKey {
            owner: cx.owner.to_string(),
            key: key.to_string(),
        };
        match (&self.test_path, &self.test_labels) {
            (Some(_), None) => return Err(missing("test_labels")),
            (None, Some(_)) => return Err(missing("test_path")),
            (Some(_), Some(_)) if test_fraction_given => {
                return Err(cx.range(
                    "test_fraction",
                    "does not apply with `test_path`: the official test split is the test set"
                        .into(),
                ));
            }
            (Some(_), Some(_)) => self.test_fraction = 0.0,
            (None, None) => {}
        }
        Ok(())
    }

    /// Which dataset.
    pub fn kind(&self) -> DatasetKind {
        self.kind
    }

    /// The dataset's YAML name.
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// Fraction of examples held out for the test split; 0 when the dataset has an
    /// [official test split](Self::has_official_test).
    pub fn test_fraction(&self) -> f64 {
        self.test_fraction
    }

    /// Whether the test set is the dataset's official one (`cifar10`, `idx` with `test_path`)
    /// rather than a seeded fraction of the examples.
    pub fn has_official_test(&self) -> bool {
        self.kind == DatasetKind::Cifar10 || self.test_path.is_some()
    }

    /// The augmentation of training batches, in order (empty: none). Only image datasets take
    /// it; the networks apply it with [`crate::augment::augment_batch`] to training batches only.
    pub fn augment(&self) -> &[Augmentation] {
        &self.augment
    }

    /// Whether features are standardized with training statistics.
    pub fn standardize(&self) -> bool {
        self.standardize
    }

    /// Whether [`crate::load_dataset`]'s result depends on the seed (synthetic data).
    pub fn depends_on_seed(&self) -> bool {
        self.kind.is_synthetic()
    }

    /// A string that identifies the loaded data (not the split) for caching: the name and the
    /// keys that [`crate::load_dataset`] reads, plus the seed when the data depends on it.
    pub fn load_key(&self, seed: u64) -> String {
        let mut m = self.to_json();
        m.remove("test_fraction");
        m.remove("train_fraction");
        m.remove("standardize");
        m.remove("augment");
        if self.depends_on_seed() {
            m.insert("seed".into(), json!(seed));
        }
        Value::Object(m).to_string()
    }

    /// Canonical JSON (with `name`, defaults filled in, keys in [`dataset_keys`] order), except
    /// that the keys of [`KEYS_OMITTED_WHEN_UNSET`] are left out while unset, and
    /// `test_fraction` when the dataset has an official test split.
    pub fn to_json(&self) -> Map<String, Value> {
        let path = |p: &Option<PathBuf>| json!(p.as_ref().map(|p| p.to_string_lossy()));
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name()));
        for spec in dataset_keys(self.name()).unwrap_or_default() {
            let unset = match spec.name {
                "test_path" => self.test_path.is_none(),
                "test_labels" => self.test_labels.is_none(),
                "augment" => self.augment.is_empty(),
                "test_fraction" => self.has_official_test(),
                _ => false,
            };
            if unset {
                continue;
            }
            let v = match spec.name {
                "samples" => json!(self.samples),
                "features" => json!(self.features),
                "classes" => json!(self.classes),
                "noise" => json!(self.noise),
                "path" => path(&self.path),
                "labels" => path(&self.labels),
                "test_path" => path(&self.test_path),
                "test_labels" => path(&self.test_labels),
                "channels" => json!(self.channels),
                "height" => json!(self.height),
                "width" => json!(self.width),
                "augment" => Augmentation::list_to_json(&self.augment),
                k if is_token_key(k) => self.tokens.json(k),
                "target" => json!(self.target),
                "task" => json!(self.task.name()),
                "test_fraction" => json!(self.test_fraction),
                "standardize" => json!(self.standardize),
                _ => Value::Null,
            };
            m.insert(spec.name.into(), v);
        }
        m
    }
}

/// Largest `samples × channels × height × width` of `synthetic_images` (4 GB of `f32`).
const MAX_SYNTHETIC_VALUES: u128 = 1_000_000_000;

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: determinism, exact copies
mod tests {
    use super::*;

    #[test]
    fn every_name_has_keys() {
        for d in DATASET_NAMES {
            assert!(dataset_keys(d).is_some(), "{d}");
            assert_eq!(DatasetKind::from_name(d).unwrap().name(), *d);
        }
        assert_eq!(DatasetKind::ALL.len(), DATASET_NAMES.len());
    }

    #[test]
    fn defaults_match_key_specs() {
        for d in DATASET_NAMES {
            let mut m = json!({ "name": d }).as_object().unwrap().clone();
            if dataset_keys(d).unwrap().iter().any(|k| k.required) {
                m.insert("path".into(), json!("x"));
                if *d == "idx" {
                    m.insert("labels".into(), json!("y"));
                }
            }
            let cfg = DatasetConfig::from_json(&Value::Object(m)).unwrap();
            let j = cfg.to_json();
            for spec in dataset_keys(d).unwrap() {
                if KEYS_OMITTED_WHEN_UNSET.contains(&spec.name) {
                    assert!(!j.contains_key(spec.name), "{d}.{}", spec.name);
                } else if !spec.required {
                    assert_eq!(j[spec.name], spec.default, "{d}.{}", spec.name);
                }
            }
            assert_eq!(DatasetConfig::from_json(&Value::Object(j)).unwrap(), cfg);
        }
    }

    #[test]
    fn load_key_ignores_split_keys_and_seed_for_files() {
        let a = DatasetConfig::from_json(&json!({"name": "csv", "path": "a.csv"})).unwrap();
        let b = DatasetConfig::from_json(
            &json!({"name": "csv", "path": "a.csv", "test_fraction": 0.5}),
        )
        .unwrap();
        assert_eq!(a.load_key(1), b.load_key(2));
        let s = DatasetConfig::from_json(&json!("synthetic_regression")).unwrap();
        assert_ne!(s.load_key(1), s.load_key(2));
    }
}
