//! Key schemas as data: every key an optimizer or a schedule accepts, with its kind, default and
//! one-line doc, and the one key check that optimizers and schedules share.
//!
//! The schema of an optimizer is its config's `HPARAMS`, written by `optimizer_config!` from
//! the same lines that declare the struct's fields and `Default`, so each default is written
//! once. Schedules list theirs in [`crate::schedule::SCHEDULES`]. [`check_keys`] is the check
//! both run before reading values (unknown key, wrong type, missing required key); a caller
//! that validates experiment files (the spec crate) can run the same check on the same data.

use serde_json::{Map, Value};

use crate::OptimError;

/// The JSON/YAML type of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A number (integers are accepted and read as floats).
    Float,
    /// `true` or `false`.
    Bool,
    /// Two numbers, `[beta1, beta2]` (torch's `betas` tuple).
    Betas,
    /// A non-negative integer (an integral float such as `100.0` is accepted).
    Count,
    /// A list of non-negative integers.
    Counts,
    /// A non-negative integer, or `null` for the computed default.
    OptionalCount,
}

/// Whether `v` is a non-negative integer (or an integral float below 2^53).
fn is_count(v: &Value) -> bool {
    v.is_u64()
        || v.as_f64()
            .is_some_and(|x| x >= 0.0 && x.fract() == 0.0 && x < 9.0e15)
}

impl Kind {
    /// How the type is described in error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Float => "a number",
            Kind::Bool => "a boolean",
            Kind::Betas => "a list of two numbers [beta1, beta2]",
            Kind::Count => "a non-negative integer",
            Kind::Counts => "a list of non-negative integers",
            Kind::OptionalCount => "a non-negative integer or null",
        }
    }

    /// Whether `value` has this type.
    pub fn accepts(self, value: &Value) -> bool {
        match self {
            Kind::Float => value.is_number(),
            Kind::Bool => value.is_boolean(),
            Kind::Betas => value
                .as_array()
                .is_some_and(|a| a.len() == 2 && a.iter().all(Value::is_number)),
            Kind::Count => is_count(value),
            Kind::Counts => value.as_array().is_some_and(|a| a.iter().all(is_count)),
            Kind::OptionalCount => value.is_null() || is_count(value),
        }
    }
}

/// The default of a key.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HparamDefault {
    /// A number.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// `[beta1, beta2]`.
    Betas([f64; 2]),
    /// A non-negative integer.
    Count(u64),
    /// None: the key must be given.
    Required,
    /// Computed when the key is absent (or `null`); the text says from what.
    Computed(&'static str),
}

impl HparamDefault {
    /// The default as JSON, with the number types of the canonical JSON (floats stay floats,
    /// counts are integers); `Null` for a computed default, `None` for a required key.
    pub fn to_json(self) -> Option<Value> {
        Some(match self {
            HparamDefault::Float(x) => Value::from(x),
            HparamDefault::Bool(b) => Value::Bool(b),
            HparamDefault::Betas(b) => Value::from(b.to_vec()),
            HparamDefault::Count(n) => Value::from(n),
            HparamDefault::Computed(_) => Value::Null,
            HparamDefault::Required => return None,
        })
    }
}

/// One key of an optimizer or a schedule: its name (torch's keyword), type, default and a
/// one-line meaning.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hparam {
    pub name: &'static str,
    pub kind: Kind,
    pub default: HparamDefault,
    pub doc: &'static str,
}

impl Hparam {
    /// Whether the key must be given.
    pub fn is_required(&self) -> bool {
        self.default == HparamDefault::Required
    }
}

/// The names of `keys`, comma-separated, after `also_valid`.
fn key_list(also_valid: &[&str], keys: &[Hparam]) -> String {
    let names: Vec<&str> = also_valid
        .iter()
        .copied()
        .chain(keys.iter().map(|h| h.name))
        .collect();
    names.join(", ")
}

/// The key check of optimizers and schedules: every key of `given` is in `keys` (or in
/// `also_valid`, keys the caller reads itself, such as a schedule's `name`) and has its kind,
/// and every required key is given. Errors name the key: [`OptimError::UnknownKey`] (with the
/// valid keys), [`OptimError::WrongType`], [`OptimError::MissingKey`]; `context` says whose key
/// it is (`optimizer `adam``).
pub fn check_keys(
    context: &str,
    keys: &'static [Hparam],
    also_valid: &[&str],
    given: &Map<String, Value>,
) -> Result<(), OptimError> {
    for (key, value) in given {
        if also_valid.contains(&key.as_str()) {
            continue;
        }
        let Some(h) = keys.iter().find(|h| h.name == key) else {
            return Err(OptimError::UnknownKey {
                context: context.to_string(),
                key: key.clone(),
                valid: key_list(also_valid, keys),
            });
        };
        if !h.kind.accepts(value) {
            return Err(OptimError::WrongType {
                context: context.to_string(),
                key: key.clone(),
                expected: h.kind.describe(),
                got: value.to_string(),
            });
        }
    }
    match keys
        .iter()
        .find(|h| h.is_required() && !given.contains_key(h.name))
    {
        Some(h) => Err(OptimError::MissingKey {
            context: context.to_string(),
            key: h.name,
        }),
        None => Ok(()),
    }
}

/// The Rust type of a hyperparameter kind in an optimizer config.
macro_rules! hparam_type {
    (Float) => {
        f64
    };
    (Bool) => {
        bool
    };
    (Betas) => {
        [f64; 2]
    };
}
pub(crate) use hparam_type;

/// Declares an optimizer's config: the struct with torch's keyword names, its `Default`, its
/// schema `HPARAMS` and its registry entry `INFO`, from one line per hyperparameter
/// (`/// one-line doc` then `name: Kind = default,`), so that each default is written once.
/// Every field's rustdoc is that line plus the default. Kinds: `Float` (`f64`), `Bool`,
/// `Betas` (`[f64; 2]`).
macro_rules! optimizer_config {
    (
        $(#[doc = $struct_doc:literal])*
        pub struct $config:ident {
            name: $name:literal,
            torch: $torch:literal,
            summary: $summary:literal,
            $(
                #[doc = $doc:literal]
                $field:ident: $kind:ident = $default:expr,
            )+
        }
    ) => {
        $(#[doc = $struct_doc])*
        #[derive(Clone, Debug, PartialEq, ::serde::Serialize, ::serde::Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct $config {
            $(
                #[doc = concat!($doc, " (default `", stringify!($default), "`).")]
                pub $field: $crate::hparam::hparam_type!($kind),
            )+
        }

        impl Default for $config {
            /// The reference implementation's defaults (see [`Self::HPARAMS`]).
            fn default() -> Self {
                Self {
                    $($field: $default,)+
                }
            }
        }

        impl $config {
            /// YAML name.
            pub const NAME: &'static str = $name;
            /// Hyperparameters with kinds, defaults and docs, in the reference's signature order.
            pub const HPARAMS: &'static [$crate::hparam::Hparam] = &[$(
                $crate::hparam::Hparam {
                    name: stringify!($field),
                    kind: $crate::hparam::Kind::$kind,
                    default: $crate::hparam::HparamDefault::$kind($default),
                    doc: $doc.trim_ascii(),
                },
            )+];
            /// The optimizer's registry entry.
            pub const INFO: $crate::config::OptimizerInfo = $crate::config::OptimizerInfo {
                name: $name,
                torch: $torch,
                summary: $summary,
                hparams: Self::HPARAMS,
            };
        }
    };
}
pub(crate) use optimizer_config;

/// Range checks that build [`OptimError::InvalidHyperparameter`] naming optimizer, parameter,
/// value and allowed range. NaN fails every check.
pub(crate) struct Check(pub(crate) &'static str);

impl Check {
    fn err(&self, name: &'static str, value: f64, allowed: &'static str) -> OptimError {
        OptimError::InvalidHyperparameter {
            optimizer: self.0,
            name,
            value: format!("{value}"),
            allowed,
        }
    }

    /// `0 <= value < inf`.
    pub(crate) fn non_negative(&self, name: &'static str, value: f64) -> Result<(), OptimError> {
        if value >= 0.0 && value.is_finite() {
            Ok(())
        } else {
            Err(self.err(name, value, ">= 0 and finite"))
        }
    }

    /// `0 < value < inf`.
    pub(crate) fn positive(&self, name: &'static str, value: f64) -> Result<(), OptimError> {
        if value > 0.0 && value.is_finite() {
            Ok(())
        } else {
            Err(self.err(name, value, "> 0 and finite"))
        }
    }

    /// Any finite value.
    pub(crate) fn finite(&self, name: &'static str, value: f64) -> Result<(), OptimError> {
        if value.is_finite() {
            Ok(())
        } else {
            Err(self.err(name, value, "finite"))
        }
    }

    /// `0 <= value <= 1`.
    pub(crate) fn unit_closed(&self, name: &'static str, value: f64) -> Result<(), OptimError> {
        if (0.0..=1.0).contains(&value) {
            Ok(())
        } else {
            Err(self.err(name, value, "in [0, 1]"))
        }
    }

    /// Both betas in `[0, 1)`, named `betas[0]` and `betas[1]`.
    pub(crate) fn betas(&self, betas: [f64; 2]) -> Result<(), OptimError> {
        for (name, b) in [("betas[0]", betas[0]), ("betas[1]", betas[1])] {
            if !(0.0..1.0).contains(&b) {
                return Err(self.err(name, b, "in [0, 1)"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn count_kinds_accept_non_negative_integers() {
        assert!(Kind::Count.accepts(&json!(3)));
        assert!(Kind::Count.accepts(&json!(100.0)));
        assert!(!Kind::Count.accepts(&json!(2.5)));
        assert!(!Kind::Count.accepts(&json!(-3)));
        assert!(Kind::Counts.accepts(&json!([1, 4])));
        assert!(!Kind::Counts.accepts(&json!(3)));
        assert!(Kind::OptionalCount.accepts(&json!(null)));
        assert!(!Kind::OptionalCount.accepts(&json!("x")));
    }

    #[test]
    fn check_keys_names_unknown_mistyped_and_missing_keys() {
        const KEYS: &[Hparam] = &[
            Hparam {
                name: "a",
                kind: Kind::Float,
                default: HparamDefault::Float(1.0),
                doc: "",
            },
            Hparam {
                name: "b",
                kind: Kind::Count,
                default: HparamDefault::Required,
                doc: "",
            },
        ];
        let map = |v: serde_json::Value| v.as_object().unwrap().clone();
        assert!(check_keys("x", KEYS, &["name"], &map(json!({"name": 1, "b": 2}))).is_ok());
        let e = check_keys("x", KEYS, &["name"], &map(json!({"b": 2, "c": 1}))).unwrap_err();
        assert!(
            matches!(&e, OptimError::UnknownKey { key, valid, .. } if key == "c" && valid == "name, a, b"),
            "{e:?}"
        );
        let e = check_keys("x", KEYS, &[], &map(json!({"a": true, "b": 1}))).unwrap_err();
        assert!(
            matches!(&e, OptimError::WrongType { key, .. } if key == "a"),
            "{e:?}"
        );
        let e = check_keys("x", KEYS, &[], &map(json!({"a": 2}))).unwrap_err();
        assert_eq!(
            e,
            OptimError::MissingKey {
                context: "x".into(),
                key: "b"
            }
        );
        assert_eq!(KEYS[0].default.to_json(), Some(json!(1.0)));
        assert_eq!(KEYS[1].default.to_json(), None);
    }

    #[test]
    fn kinds_accept_their_types_only() {
        assert!(Kind::Float.accepts(&json!(1)));
        assert!(Kind::Float.accepts(&json!(1e-3)));
        assert!(!Kind::Float.accepts(&json!("0.1")));
        assert!(Kind::Bool.accepts(&json!(true)));
        assert!(!Kind::Bool.accepts(&json!(1)));
        assert!(Kind::Betas.accepts(&json!([0.9, 0.999])));
        assert!(!Kind::Betas.accepts(&json!([0.9])));
        assert!(!Kind::Betas.accepts(&json!([0.9, "x"])));
        assert!(!Kind::Betas.accepts(&json!(0.9)));
    }

    #[test]
    fn checks_reject_nan_and_name_the_range() {
        let c = Check("adam");
        assert!(c.non_negative("lr", 0.0).is_ok());
        assert!(c.non_negative("lr", f64::NAN).is_err());
        assert!(c.non_negative("lr", f64::INFINITY).is_err());
        assert!(c.positive("eps", 0.0).is_err());
        assert!(c.unit_closed("rho", 1.0).is_ok());
        assert!(c.unit_closed("rho", 1.0 + 1e-12).is_err());
        assert!(c.finite("dampening", -0.5).is_ok());
        let e = c.betas([0.9, 1.0]).unwrap_err();
        assert_eq!(
            e,
            OptimError::InvalidHyperparameter {
                optimizer: "adam",
                name: "betas[1]",
                value: "1".into(),
                allowed: "in [0, 1)",
            }
        );
    }
}
