//! Problem and dataset configuration: the names and keys users write in YAML, their defaults,
//! and validation into typed configs.

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use crate::error::{ModelError, closest};

/// Problem names users write in YAML (`problems: - name: ...`).
pub const PROBLEM_NAMES: &[&str] = &[
    "rosenbrock",
    "beale",
    "booth",
    "himmelblau",
    "rastrigin",
    "quadratic",
    "linear_regression",
    "logistic_regression",
    "softmax_regression",
    "mlp",
];

/// Dataset names users write in YAML (`dataset: {name: ...}`).
pub const DATASET_NAMES: &[&str] = &[
    "synthetic_regression",
    "synthetic_classification",
    "iris",
    "wine_quality",
    "diabetes",
    "idx",
    "csv",
    "parquet",
];

/// One configuration key: its name, its default (`Value::Null` when the key is required or when
/// the default depends on other keys, as said in `help`) and a one-line help.
#[derive(Clone, Debug, PartialEq)]
pub struct KeySpec {
    /// Key name as written in YAML.
    pub name: &'static str,
    /// Default value as JSON; `Null` if required or computed (see `help`).
    pub default: Value,
    /// One-line description.
    pub help: &'static str,
    /// Whether the key must be given.
    pub required: bool,
}

fn key(name: &'static str, default: Value, help: &'static str) -> KeySpec {
    KeySpec {
        name,
        default,
        help,
        required: false,
    }
}

fn required(name: &'static str, help: &'static str) -> KeySpec {
    KeySpec {
        name,
        default: Value::Null,
        help,
        required: true,
    }
}

/// Default number of training examples on which `train_loss` is evaluated.
pub const DEFAULT_EVAL_TRAIN_EXAMPLES: usize = 10_000;

/// The keys of a problem (without `name`), or `None` for an unknown problem.
///
/// ```
/// let keys = optbench_models::problem_keys("quadratic").unwrap();
/// let names: Vec<_> = keys.iter().map(|k| k.name).collect();
/// assert_eq!(names, ["dim", "condition", "init", "noise"]);
/// assert!(optbench_models::problem_keys("nope").is_none());
/// ```
pub fn problem_keys(problem: &str) -> Option<Vec<KeySpec>> {
    let kind = ProblemKind::from_name(problem)?;
    let init2 = key(
        "init",
        Value::Null,
        "initial point [x, y]; default: the classic start point of the function",
    );
    let init_n = key(
        "init",
        Value::Null,
        "initial point (dim numbers); default: drawn from the run's seed",
    );
    let noise = key(
        "noise",
        json!(0.0),
        "standard deviation of additive Gaussian gradient noise (seeded)",
    );
    let dataset = required("dataset", "the data: a dataset name or {name: ..., keys}");
    let eval_train = key(
        "eval_train_examples",
        json!(DEFAULT_EVAL_TRAIN_EXAMPLES),
        "train_loss is measured on this many training examples (a fixed subset; 0 = all)",
    );
    use ProblemKind::*;
    Some(match kind {
        Rosenbrock | Beale | Booth | Himmelblau => vec![init2, noise],
        Rastrigin => vec![key("dim", json!(2), "number of variables"), init_n, noise],
        Quadratic => vec![
            key("dim", json!(10), "number of variables"),
            key(
                "condition",
                json!(100.0),
                "condition number κ: eigenvalues log-spaced in [1/κ, 1]",
            ),
            init_n,
            noise,
        ],
        LinearRegression | LogisticRegression | SoftmaxRegression => vec![dataset, eval_train],
        Mlp => vec![
            dataset,
            key("hidden", json!([64]), "hidden layer sizes, e.g. [64, 64]"),
            key("activation", json!("relu"), "relu, tanh, sigmoid or gelu"),
            key(
                "loss",
                json!("auto"),
                "cross_entropy, mse, or auto (cross_entropy for classification data)",
            ),
            eval_train,
        ],
    })
}

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
        Iris | Diabetes => vec![],
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

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $variant),+ }
        impl $name {
            /// All values, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The name as written in YAML.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $s),+ }
            }
            /// Parses the YAML name.
            pub fn from_name(s: &str) -> Option<Self> {
                match s { $($s => Some($name::$variant),)+ _ => None }
            }
            #[allow(dead_code)]
            fn names() -> Vec<&'static str> {
                vec![$($s),+]
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

named_enum!(
    /// Which problem.
    ProblemKind {
        /// Rosenbrock's banana function.
        Rosenbrock = "rosenbrock",
        /// Beale's function.
        Beale = "beale",
        /// Booth's function.
        Booth = "booth",
        /// Himmelblau's function.
        Himmelblau = "himmelblau",
        /// Rastrigin's function in any dimension.
        Rastrigin = "rastrigin",
        /// Rotated ill-conditioned convex quadratic.
        Quadratic = "quadratic",
        /// Linear regression, mean squared error.
        LinearRegression = "linear_regression",
        /// Binary logistic regression.
        LogisticRegression = "logistic_regression",
        /// Multinomial logistic regression.
        SoftmaxRegression = "softmax_regression",
        /// Multi-layer perceptron.
        Mlp = "mlp",
    }
);

impl ProblemKind {
    /// Whether the problem is an analytic function (no dataset).
    pub fn is_analytic(self) -> bool {
        matches!(
            self,
            ProblemKind::Rosenbrock
                | ProblemKind::Beale
                | ProblemKind::Booth
                | ProblemKind::Himmelblau
                | ProblemKind::Rastrigin
                | ProblemKind::Quadratic
        )
    }
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
        /// Diabetes (441 × 10 as linfa-datasets ships it, regression).
        Diabetes = "diabetes",
        /// IDX files (MNIST format).
        Idx = "idx",
        /// CSV file with a header and a target column.
        Csv = "csv",
        /// Parquet file with a target column.
        Parquet = "parquet",
    }
);

named_enum!(
    /// Hidden-layer activation of an MLP.
    Activation {
        /// max(0, x).
        Relu = "relu",
        /// tanh(x).
        Tanh = "tanh",
        /// 1 / (1 + e^(−x)).
        Sigmoid = "sigmoid",
        /// x·Φ(x), the exact (erf) GELU as torch.nn.GELU().
        Gelu = "gelu",
    }
);

named_enum!(
    /// Training loss of an MLP.
    LossKind {
        /// Cross-entropy for classification data, MSE for regression data.
        Auto = "auto",
        /// Softmax cross-entropy (mean over the batch).
        CrossEntropy = "cross_entropy",
        /// Mean squared error, mean over the batch of (y − ŷ)².
        Mse = "mse",
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

/// A validated problem configuration: the problem and all its keys, defaults filled in.
///
/// ```
/// use serde_json::json;
/// use optbench_models::ProblemConfig;
///
/// let keys = json!({"dataset": {"name": "iris"}, "hidden": [16]});
/// let cfg = ProblemConfig::from_json("mlp", keys.as_object().unwrap()).unwrap();
/// assert_eq!(cfg.to_json()["activation"], json!("relu"));
/// assert_eq!(cfg.dataset().unwrap().name(), "iris");
///
/// let bad = json!({"hiden": [16], "dataset": "iris"});
/// let err = ProblemConfig::from_json("mlp", bad.as_object().unwrap()).unwrap_err();
/// assert!(err.to_string().contains("did you mean `hidden`"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ProblemConfig {
    pub(crate) kind: ProblemKind,
    pub(crate) init: Option<Vec<f64>>,
    pub(crate) noise: f64,
    pub(crate) dim: usize,
    pub(crate) condition: f64,
    pub(crate) hidden: Vec<usize>,
    pub(crate) activation: Activation,
    pub(crate) loss: LossKind,
    pub(crate) eval_train_examples: usize,
    pub(crate) dataset: Option<DatasetConfig>,
}

/// Largest `dim` of the quadratic (its matrix is dense).
pub const MAX_QUADRATIC_DIM: usize = 4096;
const MAX_DIM: usize = 10_000_000;

struct Ctx<'a> {
    owner: &'a str,
}

impl Ctx<'_> {
    fn wrong(&self, key: &str, expected: &'static str, v: &Value) -> ModelError {
        ModelError::WrongType {
            owner: self.owner.to_string(),
            key: key.to_string(),
            expected,
            found: v.to_string(),
        }
    }
    fn range(&self, key: &str, message: String) -> ModelError {
        ModelError::OutOfRange {
            owner: self.owner.to_string(),
            key: key.to_string(),
            message,
        }
    }
    fn f64(&self, key: &str, v: &Value) -> Result<f64, ModelError> {
        match v.as_f64() {
            Some(x) if x.is_finite() => Ok(x),
            _ => Err(self.wrong(key, "a finite number", v)),
        }
    }
    fn nonneg(&self, key: &str, v: &Value) -> Result<f64, ModelError> {
        let x = self.f64(key, v)?;
        if x < 0.0 {
            return Err(self.range(key, format!("must be ≥ 0, found {x}")));
        }
        Ok(x)
    }
    fn usize(&self, key: &str, v: &Value) -> Result<usize, ModelError> {
        if let Some(u) = v.as_u64() {
            return usize::try_from(u).map_err(|_| self.range(key, format!("is too large: {u}")));
        }
        match v.as_f64() {
            Some(x) if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x < 9.0e15 => {
                Ok(x as usize)
            }
            Some(x) if x < 0.0 => Err(self.range(key, format!("must be ≥ 0, found {x}"))),
            _ => Err(self.wrong(key, "a non-negative integer", v)),
        }
    }
    fn usize_in(&self, key: &str, v: &Value, lo: usize, hi: usize) -> Result<usize, ModelError> {
        let u = self.usize(key, v)?;
        if u < lo || u > hi {
            return Err(self.range(key, format!("must be in {lo}..={hi}, found {u}")));
        }
        Ok(u)
    }
    fn bool(&self, key: &str, v: &Value) -> Result<bool, ModelError> {
        v.as_bool()
            .ok_or_else(|| self.wrong(key, "true or false", v))
    }
    fn str<'v>(&self, key: &str, v: &'v Value) -> Result<&'v str, ModelError> {
        v.as_str().ok_or_else(|| self.wrong(key, "a string", v))
    }
    fn choice<T>(
        &self,
        key: &str,
        v: &Value,
        parse: fn(&str) -> Option<T>,
        names: &[&str],
    ) -> Result<T, ModelError> {
        let s = self.str(key, v)?;
        parse(s).ok_or_else(|| {
            let hint = closest(s, names)
                .map(|c| format!(" (did you mean `{c}`?)"))
                .unwrap_or_default();
            self.range(
                key,
                format!("must be one of {}, found `{s}`{hint}", names.join(", ")),
            )
        })
    }
    fn check_keys(&self, keys: &Map<String, Value>, specs: &[KeySpec]) -> Result<(), ModelError> {
        let names: Vec<&str> = specs.iter().map(|k| k.name).collect();
        for k in keys.keys() {
            if k != "name" && !names.contains(&k.as_str()) {
                return Err(ModelError::UnknownKey {
                    owner: self.owner.to_string(),
                    key: k.clone(),
                    suggestion: closest(k, &names),
                });
            }
        }
        for spec in specs.iter().filter(|s| s.required) {
            if keys.get(spec.name).is_none_or(Value::is_null) {
                return Err(ModelError::MissingKey {
                    owner: self.owner.to_string(),
                    key: spec.name.to_string(),
                });
            }
        }
        Ok(())
    }
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

impl ProblemConfig {
    /// Validates a problem from its YAML mapping as JSON (keys other than `name`; a `name` key
    /// is ignored). An unknown key, a wrong type or an out-of-range value is an error naming it,
    /// with the closest valid name as a suggestion.
    pub fn from_json(name: &str, keys: &Map<String, Value>) -> Result<Self, ModelError> {
        let kind = ProblemKind::from_name(name).ok_or_else(|| ModelError::UnknownProblem {
            name: name.to_string(),
            suggestion: closest(name, PROBLEM_NAMES),
        })?;
        let specs = problem_keys(name).unwrap_or_default();
        let cx = Ctx { owner: name };
        cx.check_keys(keys, &specs)?;
        let mut cfg = ProblemConfig {
            kind,
            init: None,
            noise: 0.0,
            dim: match kind {
                ProblemKind::Quadratic => 10,
                _ => 2,
            },
            condition: 100.0,
            hidden: vec![64],
            activation: Activation::Relu,
            loss: LossKind::Auto,
            eval_train_examples: DEFAULT_EVAL_TRAIN_EXAMPLES,
            dataset: None,
        };
        for (k, v) in keys {
            if v.is_null() {
                continue;
            }
            match k.as_str() {
                "name" => {}
                "init" => {
                    let arr = v
                        .as_array()
                        .ok_or_else(|| cx.wrong(k, "a list of numbers", v))?;
                    let xs = arr
                        .iter()
                        .map(|x| cx.f64(k, x))
                        .collect::<Result<Vec<_>, _>>()?;
                    cfg.init = Some(xs);
                }
                "noise" => cfg.noise = cx.nonneg(k, v)?,
                "dim" => {
                    let hi = if kind == ProblemKind::Quadratic {
                        MAX_QUADRATIC_DIM
                    } else {
                        MAX_DIM
                    };
                    cfg.dim = cx.usize_in(k, v, 1, hi)?;
                }
                "condition" => {
                    let c = cx.f64(k, v)?;
                    if c < 1.0 {
                        return Err(cx.range(k, format!("must be ≥ 1, found {c}")));
                    }
                    cfg.condition = c;
                }
                "hidden" => {
                    let arr = v
                        .as_array()
                        .ok_or_else(|| cx.wrong(k, "a list of layer sizes", v))?;
                    cfg.hidden = arr
                        .iter()
                        .map(|x| cx.usize_in(k, x, 1, 1_000_000))
                        .collect::<Result<Vec<_>, _>>()?;
                }
                "activation" => {
                    cfg.activation =
                        cx.choice(k, v, Activation::from_name, &Activation::names())?;
                }
                "loss" => cfg.loss = cx.choice(k, v, LossKind::from_name, &LossKind::names())?,
                "eval_train_examples" => cfg.eval_train_examples = cx.usize(k, v)?,
                "dataset" => cfg.dataset = Some(DatasetConfig::from_json(v)?),
                _ => unreachable!("checked against the key list"),
            }
        }
        if let Some(init) = &cfg.init {
            let want = match kind {
                ProblemKind::Rastrigin | ProblemKind::Quadratic => cfg.dim,
                _ => 2,
            };
            if init.len() != want {
                return Err(cx.range(
                    "init",
                    format!("must have {want} numbers, found {}", init.len()),
                ));
            }
        }
        Ok(cfg)
    }

    /// Canonical JSON of the keys (without `name`), defaults filled in, in [`problem_keys`]
    /// order; `init` is `null` when not overridden. `from_json(to_json())` gives the same config.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        for spec in problem_keys(self.kind.name()).unwrap_or_default() {
            let v = match spec.name {
                "init" => json!(self.init),
                "noise" => json!(self.noise),
                "dim" => json!(self.dim),
                "condition" => json!(self.condition),
                "hidden" => json!(self.hidden),
                "activation" => json!(self.activation.name()),
                "loss" => json!(self.loss.name()),
                "eval_train_examples" => json!(self.eval_train_examples),
                "dataset" => self
                    .dataset
                    .as_ref()
                    .map(|d| Value::Object(d.to_json()))
                    .unwrap_or(Value::Null),
                _ => Value::Null,
            };
            m.insert(spec.name.into(), v);
        }
        m
    }

    /// Which problem.
    pub fn kind(&self) -> ProblemKind {
        self.kind
    }

    /// The problem's YAML name.
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// The dataset, for problems on data.
    pub fn dataset(&self) -> Option<&DatasetConfig> {
        self.dataset.as_ref()
    }

    /// Number of training examples `train_loss` is measured on (0 = all).
    pub fn eval_train_examples(&self) -> usize {
        self.eval_train_examples
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: determinism, exact copies
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn every_name_has_keys() {
        for p in PROBLEM_NAMES {
            assert!(problem_keys(p).is_some(), "{p}");
            assert_eq!(ProblemKind::from_name(p).unwrap().name(), *p);
        }
        for d in DATASET_NAMES {
            assert!(dataset_keys(d).is_some(), "{d}");
            assert_eq!(DatasetKind::from_name(d).unwrap().name(), *d);
        }
        assert_eq!(ProblemKind::ALL.len(), PROBLEM_NAMES.len());
        assert_eq!(DatasetKind::ALL.len(), DATASET_NAMES.len());
    }

    #[test]
    fn defaults_match_key_specs() {
        for p in PROBLEM_NAMES {
            let mut keys = Map::new();
            if problem_keys(p).unwrap().iter().any(|k| k.name == "dataset") {
                keys.insert("dataset".into(), json!("iris"));
            }
            let cfg = ProblemConfig::from_json(p, &keys).unwrap();
            let j = cfg.to_json();
            for spec in problem_keys(p).unwrap() {
                if spec.name != "dataset" {
                    assert_eq!(j[spec.name], spec.default, "{p}.{}", spec.name);
                }
            }
            assert_eq!(ProblemConfig::from_json(p, &j).unwrap(), cfg);
        }
        for d in DATASET_NAMES {
            let mut m = obj(json!({ "name": d }));
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
    fn errors_name_the_key() {
        let e = ProblemConfig::from_json("rosenbrok", &Map::new()).unwrap_err();
        assert!(
            matches!(e, ModelError::UnknownProblem { suggestion: Some(ref s), .. } if s == "rosenbrock")
        );
        let e = ProblemConfig::from_json("rosenbrock", &obj(json!({"nois": 0.1}))).unwrap_err();
        assert!(
            matches!(e, ModelError::UnknownKey { suggestion: Some(ref s), .. } if s == "noise")
        );
        let e = ProblemConfig::from_json("rosenbrock", &obj(json!({"noise": -1}))).unwrap_err();
        assert!(matches!(e, ModelError::OutOfRange { ref key, .. } if key == "noise"));
        let e = ProblemConfig::from_json("rosenbrock", &obj(json!({"noise": "x"}))).unwrap_err();
        assert!(matches!(e, ModelError::WrongType { ref key, .. } if key == "noise"));
        let e = ProblemConfig::from_json("rosenbrock", &obj(json!({"init": [1.0]}))).unwrap_err();
        assert_eq!(e.key(), Some("init"));
        let e = ProblemConfig::from_json("quadratic", &obj(json!({"condition": 0.5}))).unwrap_err();
        assert_eq!(e.key(), Some("condition"));
        let e = ProblemConfig::from_json("mlp", &Map::new()).unwrap_err();
        assert!(matches!(e, ModelError::MissingKey { ref key, .. } if key == "dataset"));
        let e = ProblemConfig::from_json(
            "mlp",
            &obj(json!({"dataset": "iris", "activation": "rleu"})),
        )
        .unwrap_err();
        assert!(e.to_string().contains("did you mean `relu`"), "{e}");
        let e = ProblemConfig::from_json("mlp", &obj(json!({"dataset": "irsi"}))).unwrap_err();
        assert!(
            matches!(e, ModelError::UnknownDataset { suggestion: Some(ref s), .. } if s == "iris")
        );
        let e = ProblemConfig::from_json(
            "mlp",
            &obj(json!({"dataset": {"name": "iris", "test_fraction": 1.0}})),
        )
        .unwrap_err();
        assert_eq!(e.key(), Some("test_fraction"));
        let e =
            ProblemConfig::from_json("mlp", &obj(json!({"dataset": {"name": "csv"}}))).unwrap_err();
        assert!(matches!(e, ModelError::MissingKey { ref key, .. } if key == "path"));
    }

    #[test]
    fn integral_floats_are_integers() {
        let cfg = ProblemConfig::from_json("rastrigin", &obj(json!({"dim": 3.0}))).unwrap();
        assert_eq!(cfg.dim, 3);
        assert!(ProblemConfig::from_json("rastrigin", &obj(json!({"dim": 2.5}))).is_err());
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
