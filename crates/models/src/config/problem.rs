//! Problem configuration: the problem names and keys users write in YAML, their defaults, and
//! validation into [`ProblemConfig`].

use serde_json::{Map, Value, json};

use super::network::{NetConfig, WeightsInit, is_network_key};
use super::transformer::{TransformerConfig, is_transformer_key, transformer_keys};
use super::{Ctx, DatasetConfig, KeySpec, key, required};
use crate::error::ModelError;

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
    "cnn",
    "resnet",
    "transformer",
];

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
    let weights_init = key(
        "init",
        Value::Null,
        "default (PyTorch's init per module), deepobs (cnn presets) or {file: x.safetensors}",
    );
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
        LinearRegression | LogisticRegression | SoftmaxRegression => {
            vec![dataset, weights_init, eval_train]
        }
        Mlp => vec![
            dataset,
            key("hidden", json!([64]), "hidden layer sizes, e.g. [64, 64]"),
            key(
                "activation",
                json!("relu"),
                "relu, tanh, sigmoid, gelu or gelu_tanh",
            ),
            key(
                "loss",
                json!("auto"),
                "cross_entropy, mse, or auto (cross_entropy for classification data)",
            ),
            weights_init,
            eval_train,
        ],
        Cnn => {
            let mut keys = vec![dataset];
            keys.extend(cnn_keys());
            keys.push(weights_init);
            keys.push(eval_train);
            keys
        }
        Resnet => vec![
            dataset,
            key(
                "depth",
                json!(20),
                "8, 14, 20, 32 or 56 (6n + 2 layers, He et al. 2016 §4.2)",
            ),
            key(
                "shortcut",
                json!("A"),
                "A: subsample and zero-pad (no parameters); B: 1×1 convolution and batch norm",
            ),
            weights_init,
            eval_train,
        ],
        Transformer => {
            let mut keys = vec![required(
                "dataset",
                "token data: modular_arithmetic or {name: text, path: ...}",
            )];
            keys.extend(transformer_keys());
            keys.push(weights_init);
            keys.push(eval_train);
            keys
        }
    })
}

/// The `cnn` network's own keys (the problem adds `dataset`, `init` and `eval_train_examples`).
fn cnn_keys() -> Vec<KeySpec> {
    vec![
        key(
            "preset",
            Value::Null,
            "2c2d or 3c3d: DeepOBS's architecture (then no conv, hidden or global_pool)",
        ),
        key(
            "conv",
            json!([]),
            "conv blocks [{channels, kernel: 3, stride: 1, padding: same|valid|N, bias: true, \
         norm: none|batch, pool: none|max|avg|{type, kernel, stride, padding}}]",
        ),
        key(
            "global_pool",
            json!("none"),
            "avg: global average pooling before the dense layers",
        ),
        key(
            "hidden",
            json!([]),
            "dense hidden layer sizes after the conv blocks",
        ),
        key(
            "activation",
            json!("relu"),
            "relu, tanh, sigmoid, gelu or gelu_tanh",
        ),
        key(
            "dropout",
            json!(0.0),
            "dropout probability after each hidden dense layer",
        ),
    ]
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
        /// Convolutional network (DeepOBS's 2c2d and 3c3d as presets).
        Cnn = "cnn",
        /// CIFAR ResNet of He et al. 2016.
        Resnet = "resnet",
        /// Decoder-only transformer language model (GPT-2's architecture).
        Transformer = "transformer",
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
        /// GELU's tanh approximation, torch.nn.GELU(approximate="tanh").
        GeluTanh = "gelu_tanh",
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
/// assert!(err.to_string().contains("valid keys:"));
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
    pub(crate) net: NetConfig,
    pub(crate) transformer: TransformerConfig,
}

/// Largest `dim` of the quadratic (its matrix is dense).
pub const MAX_QUADRATIC_DIM: usize = 4096;
const MAX_DIM: usize = 10_000_000;

impl ProblemConfig {
    /// Validates a problem from its YAML mapping as JSON (keys other than `name`; a `name` key
    /// is ignored). An unknown key, a wrong type or an out-of-range value is an error naming it
    /// (and listing the valid keys or values).
    pub fn from_json(name: &str, keys: &Map<String, Value>) -> Result<Self, ModelError> {
        let kind = ProblemKind::from_name(name).ok_or_else(|| ModelError::UnknownProblem {
            name: name.to_string(),
            valid: PROBLEM_NAMES.join(", "),
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
            hidden: if kind == ProblemKind::Cnn {
                Vec::new()
            } else {
                vec![64]
            },
            activation: Activation::Relu,
            loss: LossKind::Auto,
            eval_train_examples: DEFAULT_EVAL_TRAIN_EXAMPLES,
            dataset: None,
            net: NetConfig::default(),
            transformer: TransformerConfig::default(),
        };
        for (k, v) in keys {
            if v.is_null() {
                continue;
            }
            match k.as_str() {
                "name" => {}
                k if kind == ProblemKind::Transformer && is_transformer_key(k) => {
                    cfg.transformer.parse(&cx, k, v)?;
                }
                k if is_network_key(k) && !kind.is_analytic() => cfg.net.parse(&cx, k, v)?,
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
        cfg.net.check(&cx, keys)?;
        cfg.transformer.check(&cx)?;
        if let Some(preset) = cfg.net.preset {
            let spec = preset.spec();
            cfg.hidden = spec.hidden;
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
        let preset = self.net.preset.is_some();
        for spec in problem_keys(self.kind.name()).unwrap_or_default() {
            let v = match spec.name {
                "conv" | "hidden" | "global_pool" if preset => Value::Null,
                k if self.kind == ProblemKind::Transformer && is_transformer_key(k) => {
                    self.transformer.json(k)
                }
                k if is_network_key(k) && !self.kind.is_analytic() => match self.net.json(k) {
                    Some(v) => v,
                    None => continue,
                },
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

    /// Where the initial weights of a network come from (`init`).
    pub fn weights_init(&self) -> &WeightsInit {
        &self.net.weights
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
        assert_eq!(ProblemKind::ALL.len(), PROBLEM_NAMES.len());
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
                    let v = j.get(spec.name).unwrap_or(&Value::Null);
                    assert_eq!(v, &spec.default, "{p}.{}", spec.name);
                }
            }
            assert_eq!(ProblemConfig::from_json(p, &j).unwrap(), cfg);
        }
    }

    #[test]
    fn errors_name_the_key() {
        let e = ProblemConfig::from_json("rosenbrok", &Map::new()).unwrap_err();
        assert!(
            matches!(e, ModelError::UnknownProblem { ref valid, .. } if valid.contains("rosenbrock"))
        );
        let e = ProblemConfig::from_json("rosenbrock", &obj(json!({"nois": 0.1}))).unwrap_err();
        assert!(matches!(e, ModelError::UnknownKey { ref valid, .. } if valid.contains("noise")));
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
        assert!(e.to_string().contains("must be one of relu, tanh"), "{e}");
        let e = ProblemConfig::from_json("mlp", &obj(json!({"dataset": "irsi"}))).unwrap_err();
        assert!(
            matches!(e, ModelError::UnknownDataset { ref valid, .. } if valid.contains("iris"))
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
}
