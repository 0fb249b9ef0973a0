//! The keys of the language-model datasets: `modular_arithmetic`'s `p`, `op` and
//! `train_fraction`, and `text`'s `tokens`. [`super::dataset`] dispatches these keys here.

use serde_json::{Value, json};

use super::{Ctx, KeySpec, key, required};
use crate::data::modular::is_prime;
use crate::error::ModelError;

named_enum!(
    /// The operation of `modular_arithmetic`.
    ModularOp {
        /// `a + b mod p`.
        Add = "+",
        /// `a − b mod p`.
        Sub = "-",
        /// `a · b mod p`.
        Mul = "*",
        /// `a · b⁻¹ mod p` (p prime, b ≠ 0).
        Div = "/",
        /// `a² + ab + b² mod p`.
        Quadratic = "x^2+xy+y^2",
    }
);

/// Largest `p` of `modular_arithmetic` (p² examples).
pub const MAX_MODULUS: usize = 2000;

/// The keys of `modular_arithmetic`.
pub(super) fn modular_keys() -> Vec<KeySpec> {
    vec![
        key(
            "p",
            json!(97),
            "the modulus: residues 0 … p−1 (a prime for op: /; Power et al. 2022 use 97)",
        ),
        key(
            "op",
            json!("+"),
            "+, -, *, / (modular inverse) or x^2+xy+y^2",
        ),
        key(
            "train_fraction",
            json!(0.3),
            "fraction of the pairs (a, b) that train, drawn with the data seed; the rest test",
        ),
    ]
}

/// The keys of `text`.
pub(super) fn text_keys() -> Vec<KeySpec> {
    vec![
        required(
            "path",
            "the text file (UTF-8 for tokens: char), relative to the experiment",
        ),
        key(
            "tokens",
            json!("byte"),
            "byte (vocabulary 256) or char (the file's distinct characters)",
        ),
        key(
            "test_fraction",
            json!(0.1),
            "the last fraction of the text, the test set (a contiguous split), in (0, 1)",
        ),
    ]
}

/// The token keys of a dataset, defaults filled in.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TokenConfig {
    pub p: usize,
    pub op: ModularOp,
    pub train_fraction: f64,
    /// `tokens: char` (else bytes).
    pub chars: bool,
}

impl Default for TokenConfig {
    fn default() -> Self {
        TokenConfig {
            p: 97,
            op: ModularOp::Add,
            train_fraction: 0.3,
            chars: false,
        }
    }
}

/// Whether `key` is one of the keys parsed here.
pub(super) fn is_token_key(key: &str) -> bool {
    matches!(key, "p" | "op" | "train_fraction" | "tokens")
}

impl TokenConfig {
    /// Parses one token key.
    pub(super) fn parse(&mut self, cx: &Ctx, key: &str, v: &Value) -> Result<(), ModelError> {
        match key {
            "p" => self.p = cx.usize_in(key, v, 2, MAX_MODULUS)?,
            "op" => self.op = cx.choice(key, v, ModularOp::from_name, &ModularOp::names())?,
            "train_fraction" => {
                let f = cx.f64(key, v)?;
                if !(f > 0.0 && f < 1.0) {
                    return Err(cx.range(key, format!("must be in (0, 1), found {f}")));
                }
                self.train_fraction = f;
            }
            "tokens" => {
                self.chars = cx.choice(
                    key,
                    v,
                    |s| match s {
                        "byte" => Some(false),
                        "char" => Some(true),
                        _ => None,
                    },
                    &["byte", "char"],
                )?;
            }
            _ => unreachable!("dispatched by is_token_key"),
        }
        Ok(())
    }

    /// Division needs a prime modulus (every nonzero residue has an inverse).
    pub(super) fn check(&self, cx: &Ctx) -> Result<(), ModelError> {
        if self.op == ModularOp::Div && !is_prime(self.p) {
            return Err(cx.range(
                "p",
                format!(
                    "must be a prime for op: / (every b ≠ 0 needs an inverse mod p), found {}",
                    self.p
                ),
            ));
        }
        Ok(())
    }

    /// The canonical JSON of token key `key`.
    pub(super) fn json(&self, key: &str) -> Value {
        match key {
            "p" => json!(self.p),
            "op" => json!(self.op.name()),
            "train_fraction" => json!(self.train_fraction),
            "tokens" => json!(if self.chars { "char" } else { "byte" }),
            _ => Value::Null,
        }
    }
}
