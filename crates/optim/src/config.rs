//! [`OptimizerConfig`]: any optimizer, from its YAML name and a JSON object of hyperparameters.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::hparam::Hparam;
use crate::{
    AdadeltaConfig, AdagradConfig, AdamConfig, AdamWConfig, AdamaxConfig, DynOptimizer, LionConfig,
    NAdamConfig, OptimError, Optimizer, RAdamConfig, RmsPropConfig, SgdConfig,
};

/// The configuration of one optimizer: which one, and all its hyperparameters (torch's names
/// and defaults). Build the optimizer with [`OptimizerConfig::build`].
#[derive(Clone, Debug, PartialEq)]
pub enum OptimizerConfig {
    Sgd(SgdConfig),
    Adagrad(AdagradConfig),
    Adadelta(AdadeltaConfig),
    RmsProp(RmsPropConfig),
    Adam(AdamConfig),
    AdamW(AdamWConfig),
    NAdam(NAdamConfig),
    RAdam(RAdamConfig),
    Adamax(AdamaxConfig),
    Lion(LionConfig),
}

/// What every per-optimizer config provides to [`OptimizerConfig`].
trait Spec: Serialize + DeserializeOwned + Default + Into<OptimizerConfig> {
    const NAME: &'static str;
    const HPARAMS: &'static [Hparam];
    const SUMMARY: &'static str;
    fn check(&self) -> Result<(), OptimError>;
    fn build_dyn(&self, n: usize) -> Result<Box<dyn DynOptimizer>, OptimError>;
    fn base_lr(&self) -> f64;
}

macro_rules! spec {
    ($variant:ident, $cfg:ty, $summary:expr) => {
        impl Spec for $cfg {
            const NAME: &'static str = <$cfg>::NAME;
            const HPARAMS: &'static [Hparam] = <$cfg>::HPARAMS;
            const SUMMARY: &'static str = $summary;
            fn check(&self) -> Result<(), OptimError> {
                self.validate()
            }
            fn build_dyn(&self, n: usize) -> Result<Box<dyn DynOptimizer>, OptimError> {
                Ok(Box::new(Optimizer::new(self.build()?, n)))
            }
            fn base_lr(&self) -> f64 {
                self.lr
            }
        }

        impl From<$cfg> for OptimizerConfig {
            fn from(c: $cfg) -> Self {
                OptimizerConfig::$variant(c)
            }
        }
    };
}

spec!(
    Sgd,
    SgdConfig,
    "stochastic gradient descent with optional (Nesterov) momentum (Robbins & Monro 1951; Sutskever et al. 2013)"
);
spec!(
    Adagrad,
    AdagradConfig,
    "per-coordinate step sizes from the sum of squared gradients (Duchi, Hazan & Singer 2011)"
);
spec!(
    Adadelta,
    AdadeltaConfig,
    "running averages of squared gradients and squared updates (Zeiler 2012)"
);
spec!(
    RmsProp,
    RmsPropConfig,
    "divide by a running RMS of the gradient, optionally centered, with momentum (Hinton 2012; Graves 2013)"
);
spec!(
    Adam,
    AdamConfig,
    "bias-corrected first and second moment estimates, optional AMSGrad (Kingma & Ba 2015; Reddi et al. 2018)"
);
spec!(
    AdamW,
    AdamWConfig,
    "Adam with decoupled weight decay (Loshchilov & Hutter 2019)"
);
spec!(
    NAdam,
    NAdamConfig,
    "Adam with Nesterov momentum and a momentum schedule (Dozat 2016)"
);
spec!(
    RAdam,
    RAdamConfig,
    "Adam with a rectified variance of the adaptive learning rate (Liu et al. 2020)"
);
spec!(
    Adamax,
    AdamaxConfig,
    "Adam with the infinity norm in place of the second moment (Kingma & Ba 2015, sec. 7.1)"
);
spec!(
    Lion,
    LionConfig,
    "sign of an interpolated momentum with decoupled weight decay (Chen et al. 2023)"
);

/// Runs `$body` with `$c` bound to the inner config of any variant.
macro_rules! with_config {
    ($self:expr, $c:ident => $body:expr) => {
        match $self {
            OptimizerConfig::Sgd($c) => $body,
            OptimizerConfig::Adagrad($c) => $body,
            OptimizerConfig::Adadelta($c) => $body,
            OptimizerConfig::RmsProp($c) => $body,
            OptimizerConfig::Adam($c) => $body,
            OptimizerConfig::AdamW($c) => $body,
            OptimizerConfig::NAdam($c) => $body,
            OptimizerConfig::RAdam($c) => $body,
            OptimizerConfig::Adamax($c) => $body,
            OptimizerConfig::Lion($c) => $body,
        }
    };
}

/// Runs `$f::<Config>($args)` for the config type whose YAML name is `$name`.
macro_rules! by_name {
    ($name:expr, $f:ident ($($arg:expr),*), $none:expr) => {
        match $name {
            "sgd" => $f::<SgdConfig>($($arg),*),
            "adagrad" => $f::<AdagradConfig>($($arg),*),
            "adadelta" => $f::<AdadeltaConfig>($($arg),*),
            "rmsprop" => $f::<RmsPropConfig>($($arg),*),
            "adam" => $f::<AdamConfig>($($arg),*),
            "adamw" => $f::<AdamWConfig>($($arg),*),
            "nadam" => $f::<NAdamConfig>($($arg),*),
            "radam" => $f::<RAdamConfig>($($arg),*),
            "adamax" => $f::<AdamaxConfig>($($arg),*),
            "lion" => $f::<LionConfig>($($arg),*),
            _ => $none,
        }
    };
}

fn parse<C: Spec>(hparams: &Map<String, Value>) -> Result<OptimizerConfig, OptimError> {
    let context = || format!("optimizer `{}`", C::NAME);
    for (key, value) in hparams {
        let Some(hp) = C::HPARAMS.iter().find(|h| h.name == key) else {
            return Err(OptimError::UnknownKey {
                context: context(),
                key: key.clone(),
                valid: hparam_list(C::HPARAMS),
            });
        };
        if !hp.kind.accepts(value) {
            return Err(OptimError::WrongType {
                context: context(),
                key: key.clone(),
                expected: hp.kind.describe(),
                got: value.to_string(),
            });
        }
    }
    let config: C = serde_json::from_value(Value::Object(hparams.clone())).map_err(|e| {
        OptimError::WrongType {
            context: context(),
            key: "hyperparameters".into(),
            expected: "torch's hyperparameter types",
            got: e.to_string(),
        }
    })?;
    Ok(config.into())
}

fn default_of<C: Spec>() -> OptimizerConfig {
    C::default().into()
}

fn summary_of<C: Spec>() -> &'static str {
    C::SUMMARY
}

fn hparams_of<C: Spec>() -> &'static [Hparam] {
    C::HPARAMS
}

fn hparam_list(hparams: &[Hparam]) -> String {
    hparams
        .iter()
        .map(|h| h.name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn unknown_optimizer(name: &str) -> OptimError {
    OptimError::UnknownName {
        kind: "optimizer",
        name: name.to_string(),
        valid: OptimizerConfig::NAMES.join(", "),
    }
}

impl OptimizerConfig {
    /// YAML names, in the order of the README table.
    pub const NAMES: &'static [&'static str] = &[
        "sgd", "adagrad", "adadelta", "rmsprop", "adam", "adamw", "nadam", "radam", "adamax",
        "lion",
    ];

    /// From a JSON object of hyperparameters with torch's keyword names (`lr`, `betas` as a
    /// 2-element array, `momentum`, ...); missing keys take torch's defaults. An unknown
    /// optimizer ([`OptimError::UnknownName`], with the closest name suggested), an unknown key
    /// ([`OptimError::UnknownKey`], with the valid keys) or a wrong type
    /// ([`OptimError::WrongType`]) is an error. Does not check ranges (see [`Self::validate`]).
    pub fn from_json(name: &str, hparams: &Map<String, Value>) -> Result<Self, OptimError> {
        by_name!(name, parse(hparams), Err(unknown_optimizer(name)))
    }

    /// Every hyperparameter with its value, defaults filled in, keys sorted (canonical).
    pub fn to_json(&self) -> Map<String, Value> {
        let value = with_config!(self, c => serde_json::to_value(c));
        let Ok(Value::Object(map)) = value else {
            unreachable!("optimizer configs serialise to JSON objects")
        };
        let mut entries: Vec<(String, Value)> = map.into_iter().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries.into_iter().collect()
    }

    /// The YAML name (`sgd`, `adam`, ...).
    pub fn name(&self) -> &'static str {
        with_config!(self, c => spec_name(c))
    }

    /// The base learning rate.
    pub fn lr(&self) -> f64 {
        with_config!(self, c => c.base_lr())
    }

    /// Range checks as torch does (and `eps <= 0` rejected), with typed errors naming the
    /// parameter, the value and the allowed range.
    pub fn validate(&self) -> Result<(), OptimError> {
        with_config!(self, c => c.check())
    }

    /// Validates and builds the optimizer for `n` parameters.
    pub fn build(&self, n: usize) -> Result<Box<dyn DynOptimizer>, OptimError> {
        with_config!(self, c => c.build_dyn(n))
    }

    /// torch's defaults for the optimizer called `name` (for listings).
    pub fn default_for(name: &str) -> Option<Self> {
        Some(by_name!(name, default_of(), return None))
    }

    /// One line: what the optimizer is and the paper.
    pub fn summary(name: &str) -> Option<&'static str> {
        Some(by_name!(name, summary_of(), return None))
    }

    /// The hyperparameters of the optimizer called `name`: torch's names, types, meanings.
    pub fn hparams(name: &str) -> Option<&'static [Hparam]> {
        Some(by_name!(name, hparams_of(), return None))
    }
}

fn spec_name<C: Spec>(_: &C) -> &'static str {
    C::NAME
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::testutil::invalid_name;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn every_name_parses_with_defaults_and_round_trips() {
        for &name in OptimizerConfig::NAMES {
            let cfg = OptimizerConfig::from_json(name, &Map::new()).unwrap();
            assert_eq!(cfg.name(), name);
            assert_eq!(Some(cfg.clone()), OptimizerConfig::default_for(name));
            assert!(cfg.validate().is_ok(), "{name} defaults are valid");
            let json = cfg.to_json();
            let keys: Vec<&String> = json.keys().collect();
            let mut sorted = keys.clone();
            sorted.sort();
            assert_eq!(keys, sorted, "{name}: keys sorted");
            let names: Vec<&str> = OptimizerConfig::hparams(name)
                .unwrap()
                .iter()
                .map(|h| h.name)
                .collect();
            assert_eq!(
                json.len(),
                names.len(),
                "{name}: every hyperparameter listed"
            );
            assert_eq!(OptimizerConfig::from_json(name, &json).unwrap(), cfg);
            assert!(OptimizerConfig::summary(name).is_some());
            let mut opt = cfg.build(3).unwrap();
            assert_eq!(opt.name(), name);
            let mut p = [1.0f32, 2.0, 3.0];
            opt.step(&mut p, &[0.1, 0.2, 0.3], cfg.lr()).unwrap();
            assert_eq!(opt.steps_taken(), 1);
        }
        assert_eq!(OptimizerConfig::default_for("nope"), None);
        assert_eq!(OptimizerConfig::summary("nope"), None);
    }

    #[test]
    fn from_json_reads_values_and_canonical_json_is_stable() {
        let hp = obj(json!({"lr": 0.01, "betas": [0.8, 0.99], "amsgrad": true}));
        let cfg = OptimizerConfig::from_json("adam", &hp).unwrap();
        let OptimizerConfig::Adam(a) = &cfg else {
            panic!("adam expected")
        };
        assert_eq!(a.betas[0].to_bits(), 0.8f64.to_bits());
        assert!(a.amsgrad);
        assert_eq!(cfg.lr().to_bits(), 0.01f64.to_bits());
        assert_eq!(
            serde_json::to_string(&cfg.to_json()).unwrap(),
            r#"{"amsgrad":true,"betas":[0.8,0.99],"eps":1e-8,"lr":0.01,"maximize":false,"weight_decay":0.0}"#
        );
        // Integers are numbers too.
        let cfg = OptimizerConfig::from_json("adadelta", &obj(json!({"lr": 1}))).unwrap();
        assert_eq!(cfg.lr().to_bits(), 1.0f64.to_bits());
    }

    #[test]
    fn unknown_optimizer_suggests_the_closest_name() {
        let e = OptimizerConfig::from_json("adamm", &Map::new()).unwrap_err();
        assert!(
            matches!(&e, OptimError::UnknownName { kind: "optimizer", name, .. } if name == "adamm")
        );
        let msg = e.to_string();
        assert!(msg.contains("did you mean `adam`?"), "{msg}");
        assert!(msg.contains("sgd, adagrad, adadelta"), "{msg}");
        let msg = OptimizerConfig::from_json("RMSProp", &Map::new())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("did you mean `rmsprop`?"), "{msg}");
    }

    #[test]
    fn unknown_key_lists_the_valid_keys() {
        let e = OptimizerConfig::from_json("sgd", &obj(json!({"momentun": 0.9}))).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, OptimError::UnknownKey { ref key, .. } if key == "momentun"));
        assert!(msg.contains("did you mean `momentum`?"), "{msg}");
        assert!(
            msg.contains("lr, momentum, dampening, weight_decay, nesterov, maximize"),
            "{msg}"
        );
        // Keys of other optimizers are unknown here (lion has no eps).
        assert!(OptimizerConfig::from_json("lion", &obj(json!({"eps": 1e-8}))).is_err());
    }

    #[test]
    fn wrong_types_are_named() {
        for (name, hp, key) in [
            ("sgd", json!({"lr": "0.1"}), "lr"),
            ("sgd", json!({"nesterov": 1}), "nesterov"),
            ("adam", json!({"betas": [0.9]}), "betas"),
            ("adam", json!({"betas": 0.9}), "betas"),
            ("rmsprop", json!({"centered": "yes"}), "centered"),
        ] {
            let e = OptimizerConfig::from_json(name, &obj(hp)).unwrap_err();
            assert!(
                matches!(&e, OptimError::WrongType { key: k, .. } if k == key),
                "{e}"
            );
        }
    }

    /// torch's range checks, per optimizer: a value out of range is rejected by `validate`
    /// with an error naming the parameter (SGD's Nesterov and NaN rules are tested in sgd.rs).
    #[test]
    fn out_of_range_values_are_rejected_naming_the_parameter() {
        let cases = [
            ("sgd", json!({"lr": -0.1}), "lr"),
            ("sgd", json!({"momentum": -0.1}), "momentum"),
            ("sgd", json!({"weight_decay": -1.0}), "weight_decay"),
            ("adagrad", json!({"lr": -1.0}), "lr"),
            ("adagrad", json!({"lr_decay": -1.0}), "lr_decay"),
            ("adagrad", json!({"weight_decay": -1.0}), "weight_decay"),
            (
                "adagrad",
                json!({"initial_accumulator_value": -1.0}),
                "initial_accumulator_value",
            ),
            ("adagrad", json!({"eps": 0.0}), "eps"),
            ("adadelta", json!({"lr": -1.0}), "lr"),
            ("adadelta", json!({"rho": 1.5}), "rho"),
            ("adadelta", json!({"rho": -0.1}), "rho"),
            ("adadelta", json!({"eps": 0.0}), "eps"),
            ("adadelta", json!({"weight_decay": -1.0}), "weight_decay"),
            ("rmsprop", json!({"lr": -1.0}), "lr"),
            ("rmsprop", json!({"eps": 0.0}), "eps"),
            ("rmsprop", json!({"momentum": -0.5}), "momentum"),
            ("rmsprop", json!({"weight_decay": -1.0}), "weight_decay"),
            ("rmsprop", json!({"alpha": -0.1}), "alpha"),
            ("adam", json!({"lr": -1e-3}), "lr"),
            ("adam", json!({"eps": 0.0}), "eps"),
            ("adam", json!({"betas": [1.0, 0.999]}), "betas[0]"),
            ("adam", json!({"betas": [0.9, -0.1]}), "betas[1]"),
            ("adam", json!({"weight_decay": -0.1}), "weight_decay"),
            ("adamw", json!({"eps": -1.0}), "eps"),
            ("adamax", json!({"lr": -1.0}), "lr"),
            ("adamax", json!({"eps": 0.0}), "eps"),
            ("adamax", json!({"betas": [0.9, 1.5]}), "betas[1]"),
            ("adamax", json!({"weight_decay": -1.0}), "weight_decay"),
            ("nadam", json!({"lr": -1.0}), "lr"),
            ("nadam", json!({"eps": 0.0}), "eps"),
            ("nadam", json!({"betas": [0.9, 1.0]}), "betas[1]"),
            ("nadam", json!({"weight_decay": -1.0}), "weight_decay"),
            ("nadam", json!({"momentum_decay": -1.0}), "momentum_decay"),
            ("radam", json!({"lr": -1.0}), "lr"),
            ("radam", json!({"eps": -1e-8}), "eps"),
            ("radam", json!({"betas": [-0.1, 0.999]}), "betas[0]"),
            ("radam", json!({"weight_decay": -1.0}), "weight_decay"),
            ("lion", json!({"lr": -1.0}), "lr"),
            ("lion", json!({"betas": [1.0, 0.99]}), "betas[0]"),
            ("lion", json!({"weight_decay": -1.0}), "weight_decay"),
        ];
        for (name, keys, param) in &cases {
            let cfg = OptimizerConfig::from_json(name, &obj(keys.clone())).unwrap();
            let e = cfg.validate().unwrap_err();
            assert_eq!(invalid_name(e), *param, "{name} {keys}");
        }
        // Every optimizer is covered.
        for name in OptimizerConfig::NAMES {
            assert!(cases.iter().any(|c| c.0 == *name), "{name} has no case");
        }
    }

    #[test]
    fn validate_and_build_report_ranges() {
        let cfg = OptimizerConfig::from_json("adam", &obj(json!({"betas": [0.9, 1.0]}))).unwrap();
        let e = cfg.validate().unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid adam hyperparameter `betas[1]` = 1: must be in [0, 1)"
        );
        assert_eq!(cfg.build(4).unwrap_err(), e);
        let cfg = OptimizerConfig::from_json("sgd", &obj(json!({"nesterov": true}))).unwrap();
        assert!(cfg.build(4).is_err());
    }
}
