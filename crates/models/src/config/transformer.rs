//! The keys of the `transformer` problem (see [`crate::nets::transformer`] for the network):
//! its size, layer norm, MLP activation, tied embeddings, initialisation and loss target.
//! [`super::problem`] dispatches these keys here.

use serde_json::{Value, json};

use super::{Activation, Ctx, KeySpec, key};
use crate::error::ModelError;
use crate::nets::transformer::{Target, TransformerSpec};

/// The MLP activations a transformer takes.
const MLP_ACTIVATIONS: [&str; 3] = ["relu", "gelu", "gelu_tanh"];

/// The transformer's own keys (the problem adds `dataset`, `init` and `eval_train_examples`).
pub(super) fn transformer_keys() -> Vec<KeySpec> {
    vec![
        key("layers", json!(2), "number of blocks"),
        key("d_model", json!(128), "width of the residual stream"),
        key("heads", json!(4), "attention heads; must divide d_model"),
        key(
            "d_mlp",
            Value::Null,
            "width of each block's MLP; default 4 · d_model",
        ),
        key(
            "context",
            json!(64),
            "positions of the position table: the window length of a text, at least the \
             sequence length (4 for modular_arithmetic)",
        ),
        key(
            "norm",
            json!("pre"),
            "pre: pre-LN blocks and a final layer norm (GPT-2); none: no layer norm (Nanda et \
             al. 2023)",
        ),
        key(
            "mlp_activation",
            json!("gelu"),
            "relu, gelu (erf) or gelu_tanh (GPT-2's)",
        ),
        key(
            "tie_embeddings",
            json!(false),
            "the head reuses the token embedding's table (Press & Wolf 2017)",
        ),
        key(
            "init_std",
            Value::Null,
            "GPT-2's initialisation N(0, σ) (residual projections σ/√(2·layers)), e.g. 0.02; \
             default: PyTorch's per module",
        ),
        key(
            "target",
            Value::Null,
            "all: next-token loss at every position; last: the last position only (the answer); \
             default last for modular_arithmetic, all for text",
        ),
    ]
}

/// Whether `key` is one of the keys parsed here.
pub(super) fn is_transformer_key(key: &str) -> bool {
    matches!(
        key,
        "layers"
            | "d_model"
            | "heads"
            | "d_mlp"
            | "context"
            | "norm"
            | "mlp_activation"
            | "tie_embeddings"
            | "init_std"
            | "target"
    )
}

/// The transformer keys of a problem, defaults filled in (`d_mlp`, `init_std` and `target`
/// unset where the default depends on others).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TransformerConfig {
    pub layers: usize,
    pub d_model: usize,
    pub heads: usize,
    pub d_mlp: Option<usize>,
    pub context: usize,
    pub layer_norm: bool,
    pub activation: Activation,
    pub tie_embeddings: bool,
    pub init_std: Option<f64>,
    pub target: Option<Target>,
}

impl Default for TransformerConfig {
    fn default() -> Self {
        TransformerConfig {
            layers: 2,
            d_model: 128,
            heads: 4,
            d_mlp: None,
            context: 64,
            layer_norm: true,
            activation: Activation::Gelu,
            tie_embeddings: false,
            init_std: None,
            target: None,
        }
    }
}

impl TransformerConfig {
    /// Parses one transformer key.
    pub(super) fn parse(&mut self, cx: &Ctx, key: &str, v: &Value) -> Result<(), ModelError> {
        match key {
            "layers" => self.layers = cx.usize_in(key, v, 1, 256)?,
            "d_model" => self.d_model = cx.usize_in(key, v, 1, 65_536)?,
            "heads" => self.heads = cx.usize_in(key, v, 1, 1024)?,
            "d_mlp" => self.d_mlp = Some(cx.usize_in(key, v, 1, 1 << 20)?),
            "context" => self.context = cx.usize_in(key, v, 1, 1 << 16)?,
            "norm" => {
                self.layer_norm = cx.choice(
                    key,
                    v,
                    |s| match s {
                        "pre" => Some(true),
                        "none" => Some(false),
                        _ => None,
                    },
                    &["pre", "none"],
                )?;
            }
            "mlp_activation" => {
                let parse = |s: &str| {
                    MLP_ACTIVATIONS
                        .contains(&s)
                        .then(|| Activation::from_name(s))
                        .flatten()
                };
                self.activation = cx.choice(key, v, parse, &MLP_ACTIVATIONS)?;
            }
            "tie_embeddings" => self.tie_embeddings = cx.bool(key, v)?,
            "init_std" => {
                let s = cx.f64(key, v)?;
                if s <= 0.0 {
                    return Err(cx.range(key, format!("must be > 0, found {s}")));
                }
                self.init_std = Some(s);
            }
            "target" => {
                let parse = |s: &str| match s {
                    "all" => Some(Target::All),
                    "last" => Some(Target::Last),
                    _ => None,
                };
                self.target = Some(cx.choice(key, v, parse, &["all", "last"])?);
            }
            _ => unreachable!("dispatched by is_transformer_key"),
        }
        Ok(())
    }

    /// Keys that depend on each other: the heads split `d_model` evenly.
    pub(super) fn check(&self, cx: &Ctx) -> Result<(), ModelError> {
        if self.d_model % self.heads != 0 {
            return Err(cx.range(
                "heads",
                format!(
                    "must divide d_model: {} heads of d_model {} are not whole",
                    self.heads, self.d_model
                ),
            ));
        }
        Ok(())
    }

    /// The canonical JSON of transformer key `key` (`null` for an unset default).
    pub(super) fn json(&self, key: &str) -> Value {
        match key {
            "layers" => json!(self.layers),
            "d_model" => json!(self.d_model),
            "heads" => json!(self.heads),
            "d_mlp" => json!(self.d_mlp),
            "context" => json!(self.context),
            "norm" => json!(if self.layer_norm { "pre" } else { "none" }),
            "mlp_activation" => json!(self.activation.name()),
            "tie_embeddings" => json!(self.tie_embeddings),
            "init_std" => json!(self.init_std),
            "target" => json!(self.target.map(|t| match t {
                Target::All => "all",
                Target::Last => "last",
            })),
            _ => Value::Null,
        }
    }

    /// The network's architecture.
    pub(crate) fn spec(&self) -> TransformerSpec {
        TransformerSpec {
            layers: self.layers,
            d_model: self.d_model,
            heads: self.heads,
            d_mlp: self.d_mlp.unwrap_or(4 * self.d_model),
            context: self.context,
            layer_norm: self.layer_norm,
            activation: self.activation,
            tie_embeddings: self.tie_embeddings,
            init_std: self.init_std,
        }
    }
}
