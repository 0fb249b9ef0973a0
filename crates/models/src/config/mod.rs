//! Problem and dataset configuration: the names and keys users write in YAML, their defaults,
//! and validation into typed configs. Problems are in [`problem`], datasets in [`dataset`];
//! this module holds what both use: the key specs, the named enums' macro and the value checks.

use serde_json::{Map, Value};

use crate::error::ModelError;

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

mod dataset;
mod network;
mod problem;
mod tokens;
mod transformer;

pub use dataset::{
    DATASET_NAMES, DatasetConfig, DatasetKind, KEYS_OMITTED_WHEN_UNSET, Task, dataset_keys,
};
pub use network::WeightsInit;
pub use problem::{
    Activation, DEFAULT_EVAL_TRAIN_EXAMPLES, LossKind, MAX_QUADRATIC_DIM, PROBLEM_NAMES,
    ProblemConfig, ProblemKind, problem_keys,
};
pub use tokens::{MAX_MODULUS, ModularOp};

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
            self.range(
                key,
                format!("must be one of {}, found `{s}`", names.join(", ")),
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
                    valid: names.join(", "),
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
