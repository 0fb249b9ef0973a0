//! [`OptimizerConfig`]: any optimizer, from its YAML name and a JSON object of hyperparameters.
//!
//! The optimizers are listed once, in `optimizers!` below: the enum, [`OptimizerConfig::NAMES`],
//! the registry [`OPTIMIZERS`] (names, torch classes, summaries and hyperparameter schemas, as
//! `optbench list` shows them), construction by name and defaults all come from that list.
//! Adding an optimizer is: its file (with `optimizer_config!`), one line here,
//! fixtures (see the README).

use serde_json::{Map, Value};

use crate::hparam::{Hparam, check_keys};
use crate::{
    AdadeltaConfig, AdagradConfig, AdamConfig, AdamWConfig, AdamaxConfig, DynOptimizer, LionConfig,
    NAdamConfig, OptimError, Optimizer, RAdamConfig, RmsPropConfig, SgdConfig,
};

/// An optimizer's registry entry: what `optbench list optimizers` and key checking need.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OptimizerInfo {
    /// YAML name (`adam`).
    pub name: &'static str,
    /// The `torch.optim` class it matches (`Adam`), empty if torch has none.
    pub torch: &'static str,
    /// One line: what it is and the paper.
    pub summary: &'static str,
    /// Hyperparameters: torch's names, kinds, defaults and one-line docs.
    pub hparams: &'static [Hparam],
}

/// Parses `hparams` as the config `C` (after [`check_keys`] on its schema).
fn parse<C>(info: &OptimizerInfo, hparams: &Map<String, Value>) -> Result<C, OptimError>
where
    C: serde::de::DeserializeOwned,
{
    let context = format!("optimizer `{}`", info.name);
    check_keys(&context, info.hparams, &[], hparams)?;
    serde_json::from_value(Value::Object(hparams.clone())).map_err(|e| OptimError::WrongType {
        context,
        key: "hyperparameters".into(),
        expected: "torch's hyperparameter types",
        got: e.to_string(),
    })
}

fn unknown_optimizer(name: &str) -> OptimError {
    OptimError::UnknownName {
        kind: "optimizer",
        name: name.to_string(),
        valid: OptimizerConfig::NAMES.join(", "),
    }
}

/// The list of optimizers: `Variant(ConfigType)`, in the order of the README table. Each config
/// type provides `INFO`, `NAME`, `lr`, `validate()` and `build()` (see `optimizer_config!`).
macro_rules! optimizers {
    ($($variant:ident($config:ident)),+ $(,)?) => {
        /// The configuration of one optimizer: which one, and all its hyperparameters (torch's
        /// names and defaults). Build the optimizer with [`OptimizerConfig::build`].
        #[derive(Clone, Debug, PartialEq)]
        pub enum OptimizerConfig {
            $($variant($config),)+
        }

        $(
            impl From<$config> for OptimizerConfig {
                fn from(c: $config) -> Self {
                    OptimizerConfig::$variant(c)
                }
            }
        )+

        /// Every optimizer's registry entry, in the order of the README table.
        pub const OPTIMIZERS: &[OptimizerInfo] = &[$($config::INFO),+];

        impl OptimizerConfig {
            /// YAML names, in the order of the README table.
            pub const NAMES: &'static [&'static str] = &[$($config::NAME),+];

            /// From a JSON object of hyperparameters with torch's keyword names (`lr`, `betas`
            /// as a 2-element array, `momentum`, ...); missing keys take torch's defaults. An
            /// unknown optimizer ([`OptimError::UnknownName`], with the valid names), an
            /// unknown key ([`OptimError::UnknownKey`], with the valid keys) or
            /// a wrong type ([`OptimError::WrongType`]) is an error. Does not check ranges (see
            /// [`Self::validate`]).
            pub fn from_json(name: &str, hparams: &Map<String, Value>) -> Result<Self, OptimError> {
                $(
                    if name == $config::NAME {
                        return parse::<$config>(&$config::INFO, hparams).map(Self::$variant);
                    }
                )+
                Err(unknown_optimizer(name))
            }

            /// torch's defaults for the optimizer called `name` (for listings).
            pub fn default_for(name: &str) -> Option<Self> {
                $(
                    if name == $config::NAME {
                        return Some(Self::$variant($config::default()));
                    }
                )+
                None
            }

            /// The registry entry of this optimizer.
            pub fn info(&self) -> &'static OptimizerInfo {
                match self {
                    $(Self::$variant(_) => &$config::INFO,)+
                }
            }

            /// Every hyperparameter with its value, defaults filled in, keys sorted (canonical).
            pub fn to_json(&self) -> Map<String, Value> {
                let value = match self {
                    $(Self::$variant(c) => serde_json::to_value(c),)+
                };
                let Ok(Value::Object(map)) = value else {
                    unreachable!("optimizer configs serialise to JSON objects")
                };
                let mut entries: Vec<(String, Value)> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                entries.into_iter().collect()
            }

            /// The base learning rate.
            pub fn lr(&self) -> f64 {
                match self {
                    $(Self::$variant(c) => c.lr,)+
                }
            }

            /// Range checks as torch does (and `eps <= 0` rejected), with typed errors naming
            /// the parameter, the value and the allowed range.
            pub fn validate(&self) -> Result<(), OptimError> {
                match self {
                    $(Self::$variant(c) => c.validate(),)+
                }
            }

            /// Validates and builds the optimizer for `n` parameters.
            pub fn build(&self, n: usize) -> Result<Box<dyn DynOptimizer>, OptimError> {
                Ok(match self {
                    $(Self::$variant(c) => Box::new(Optimizer::new(c.build()?, n)),)+
                })
            }
        }
    };
}

optimizers! {
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

impl OptimizerConfig {
    /// The registry entry of the optimizer called `name`.
    pub fn info_for(name: &str) -> Option<&'static OptimizerInfo> {
        OPTIMIZERS.iter().find(|o| o.name == name)
    }

    /// The YAML name (`sgd`, `adam`, ...).
    pub fn name(&self) -> &'static str {
        self.info().name
    }

    /// One line: what the optimizer is and the paper.
    pub fn summary(name: &str) -> Option<&'static str> {
        Self::info_for(name).map(|o| o.summary)
    }

    /// The hyperparameters of the optimizer called `name`: torch's names, types, defaults,
    /// meanings.
    pub fn hparams(name: &str) -> Option<&'static [Hparam]> {
        Self::info_for(name).map(|o| o.hparams)
    }
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

    /// The schema's defaults are the configs' defaults, with the same JSON number types, so
    /// `optbench list` and key checking see what a run gets.
    #[test]
    fn schema_defaults_are_the_config_defaults() {
        assert_eq!(OPTIMIZERS.len(), OptimizerConfig::NAMES.len());
        for info in OPTIMIZERS {
            let json = OptimizerConfig::default_for(info.name).unwrap().to_json();
            let schema: Map<String, Value> = info
                .hparams
                .iter()
                .map(|h| (h.name.to_string(), h.default.to_json().unwrap()))
                .collect();
            assert_eq!(json, schema, "{}", info.name);
            for h in info.hparams {
                assert!(h.kind.accepts(&json[h.name]), "{} {}", info.name, h.name);
                assert!(
                    !h.doc.is_empty() && h.doc.trim() == h.doc,
                    "{} {}",
                    info.name,
                    h.name
                );
            }
            assert_eq!(OptimizerConfig::info_for(info.name), Some(info));
        }
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
    fn unknown_optimizer_lists_the_valid_names() {
        let e = OptimizerConfig::from_json("adamm", &Map::new()).unwrap_err();
        assert!(
            matches!(&e, OptimError::UnknownName { kind: "optimizer", name, .. } if name == "adamm")
        );
        let msg = e.to_string();
        assert!(msg.contains("sgd, adagrad, adadelta"), "{msg}");
    }

    #[test]
    fn unknown_key_lists_the_valid_keys() {
        let e = OptimizerConfig::from_json("sgd", &obj(json!({"momentun": 0.9}))).unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, OptimError::UnknownKey { ref key, .. } if key == "momentun"));
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
