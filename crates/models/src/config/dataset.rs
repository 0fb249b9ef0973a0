//! Dataset configuration: the dataset names and keys users write in YAML, their defaults, and
//! validation into [`DatasetConfig`].

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use super::{Ctx, KeySpec, key, required};
use crate::error::{ModelError, closest};

/// Dataset names users write in YAML (`dataset: {name: ...}`).
pub const DATASET_NAMES: &[&str] = &[
    "synthetic_regression",
    "synthetic_classification",
    "iris",
    "wine_quality",
    "diabetes",
    "digits",
    "idx",
    "csv",
    "parquet",
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
        "standardize features with the training split's mean and std",
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
        ],
        Csv | Parquet => vec![
            required("path", "the file, relative to the experiment file"),
            key("target", json!("target"), "name of the target column"),
            task,
        ],
    };
    keys.push(test_fraction);
    keys.push(standardize);
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
        /// IDX files (MNIST format).
        Idx = "idx",
        /// CSV file with a header and a target column.
        Csv = "csv",
        /// Parquet file with a target column.
        Parquet = "parquet",
    }
);

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
    pub(crate) target: String,
    pub(crate) task: Task,
    pub(crate) test_fraction: f64,
    pub(crate) standardize: bool,
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
            suggestion: closest(name, DATASET_NAMES),
        })?;
        let specs = dataset_keys(name).unwrap_or_default();
        let cx = Ctx { owner: name };
        cx.check_keys(keys, &specs)?;
        let mut cfg = DatasetConfig {
            kind,
            samples: if kind == DatasetKind::Idx { 0 } else { 1000 },
            features: 10,
            classes: 2,
            noise: 0.1,
            path: None,
            labels: None,
            target: "target".into(),
            task: if kind == DatasetKind::WineQuality {
                Task::Regression
            } else {
                Task::Auto
            },
            test_fraction: 0.2,
            standardize: true,
        };
        for (k, v) in keys {
            if v.is_null() {
                continue;
            }
            match k.as_str() {
                "name" => {}
                "samples" if kind == DatasetKind::Idx => cfg.samples = cx.usize(k, v)?,
                "samples" => cfg.samples = cx.usize_in(k, v, 2, 100_000_000)?,
                "features" => cfg.features = cx.usize_in(k, v, 1, 1_000_000)?,
                "classes" => cfg.classes = cx.usize_in(k, v, 2, 10_000)?,
                "noise" => cfg.noise = cx.nonneg(k, v)?,
                "path" | "labels" => {
                    let s = cx.str(k, v)?;
                    if s.is_empty() {
                        return Err(cx.range(k, "must not be empty".into()));
                    }
                    let p = Some(PathBuf::from(s));
                    if k == "path" {
                        cfg.path = p;
                    } else {
                        cfg.labels = p;
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
                _ => unreachable!("checked against the key list"),
            }
        }
        Ok(cfg)
    }

    /// Which dataset.
    pub fn kind(&self) -> DatasetKind {
        self.kind
    }

    /// The dataset's YAML name.
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// Fraction of examples held out for the test split.
    pub fn test_fraction(&self) -> f64 {
        self.test_fraction
    }

    /// Whether features are standardized with training statistics.
    pub fn standardize(&self) -> bool {
        self.standardize
    }

    /// Whether [`crate::load_dataset`]'s result depends on the seed (synthetic data).
    pub fn depends_on_seed(&self) -> bool {
        matches!(
            self.kind,
            DatasetKind::SyntheticRegression | DatasetKind::SyntheticClassification
        )
    }

    /// A string that identifies the loaded data (not the split) for caching: the name and the
    /// keys that [`crate::load_dataset`] reads, plus the seed when the data depends on it.
    pub fn load_key(&self, seed: u64) -> String {
        let mut m = self.to_json();
        m.remove("test_fraction");
        m.remove("standardize");
        if self.depends_on_seed() {
            m.insert("seed".into(), json!(seed));
        }
        Value::Object(m).to_string()
    }

    /// Canonical JSON (with `name`, defaults filled in, keys in [`dataset_keys`] order).
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name()));
        for spec in dataset_keys(self.name()).unwrap_or_default() {
            let v = match spec.name {
                "samples" => json!(self.samples),
                "features" => json!(self.features),
                "classes" => json!(self.classes),
                "noise" => json!(self.noise),
                "path" => json!(self.path.as_ref().map(|p| p.to_string_lossy())),
                "labels" => json!(self.labels.as_ref().map(|p| p.to_string_lossy())),
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
                if !spec.required {
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
