//! The keys of the networks built from layers: `init` (every problem on data), the `cnn`'s
//! `preset`, `conv` blocks, `global_pool` and `dropout`, and the `resnet`'s `depth` and
//! `shortcut`. [`super::problem`] dispatches these keys here.

use std::path::PathBuf;

use serde_json::{Map, Value, json};

use super::Ctx;
use crate::error::ModelError;
use crate::nets::cnn::{ConvBlock, PadSpec, PoolKind, PoolSpec, Preset};
use crate::nets::resnet::{DEPTHS, Shortcut};

/// Where a network's initial parameters come from (`init`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WeightsInit {
    /// PyTorch's default initialisation of each module, drawn from the run's seed.
    Default,
    /// DeepOBS's initialisation of the `cnn` preset.
    Deepobs,
    /// A safetensors file (relative to the experiment file), as PyTorch's `state_dict()`.
    File(PathBuf),
}

/// The network keys of a problem, defaults filled in.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct NetConfig {
    pub weights: WeightsInit,
    pub preset: Option<Preset>,
    pub conv: Vec<ConvBlock>,
    pub global_pool: bool,
    pub dropout: f64,
    pub depth: usize,
    pub shortcut: Shortcut,
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig {
            weights: WeightsInit::Default,
            preset: None,
            conv: Vec::new(),
            global_pool: false,
            dropout: 0.0,
            depth: 20,
            shortcut: Shortcut::A,
        }
    }
}

/// Whether `key` is one of the keys parsed here (for problems on data).
pub(crate) fn is_network_key(key: &str) -> bool {
    matches!(
        key,
        "init" | "preset" | "conv" | "global_pool" | "dropout" | "depth" | "shortcut"
    )
}

fn parse_pad(cx: &Ctx, key: &str, v: &Value, pixels: bool) -> Result<PadSpec, ModelError> {
    match v {
        Value::String(s) if s == "same" => Ok(PadSpec::Same),
        Value::String(s) if s == "valid" => Ok(PadSpec::Valid),
        Value::Number(_) if pixels => Ok(PadSpec::Pixels(cx.usize_in(key, v, 0, 1024)?)),
        _ => Err(cx.wrong(
            key,
            if pixels {
                "same, valid or a number of pixels"
            } else {
                "same or valid"
            },
            v,
        )),
    }
}

fn pad_json(p: PadSpec) -> Value {
    match p {
        PadSpec::Same => json!("same"),
        PadSpec::Valid => json!("valid"),
        PadSpec::Pixels(n) => json!(n),
    }
}

fn parse_pool(cx: &Ctx, key: &str, v: &Value) -> Result<Option<PoolSpec>, ModelError> {
    let kind_of = |s: &str| match s {
        "max" => Some(PoolKind::Max),
        "avg" => Some(PoolKind::Avg),
        _ => None,
    };
    let (kind, map) = match v {
        Value::String(s) if s == "none" => return Ok(None),
        Value::String(_) => (cx.choice(key, v, kind_of, &["max", "avg", "none"])?, None),
        Value::Object(m) => {
            let t = m.get("type").unwrap_or(&Value::Null);
            (
                cx.choice(&format!("{key}.type"), t, kind_of, &["max", "avg"])?,
                Some(m),
            )
        }
        _ => return Err(cx.wrong(key, "max, avg, none or {type, kernel, stride, padding}", v)),
    };
    let mut pool = PoolSpec {
        kind,
        kernel: 2,
        stride: 2,
        padding: PadSpec::Valid,
    };
    let mut stride = None;
    for (k, v) in map.into_iter().flatten() {
        let name = format!("{key}.{k}");
        match k.as_str() {
            "type" => {}
            "kernel" => pool.kernel = cx.usize_in(&name, v, 1, 1024)?,
            "stride" => stride = Some(cx.usize_in(&name, v, 1, 1024)?),
            "padding" => pool.padding = parse_pad(cx, &name, v, false)?,
            _ => {
                return Err(unknown(cx, &name, &["type", "kernel", "stride", "padding"]));
            }
        }
    }
    pool.stride = stride.unwrap_or(pool.kernel);
    Ok(Some(pool))
}

fn unknown(cx: &Ctx, full: &str, valid: &[&str]) -> ModelError {
    ModelError::UnknownKey {
        owner: cx.owner.to_string(),
        key: full.to_string(),
        valid: valid.join(", "),
    }
}

const BLOCK_KEYS: [&str; 7] = [
    "channels", "kernel", "stride", "padding", "bias", "norm", "pool",
];

fn parse_block(cx: &Ctx, i: usize, v: &Value) -> Result<ConvBlock, ModelError> {
    let key = format!("conv[{i}]");
    let m = v
        .as_object()
        .ok_or_else(|| cx.wrong(&key, "a block {channels, kernel, stride, padding, ...}", v))?;
    let mut b = ConvBlock {
        channels: 0,
        kernel: 3,
        stride: 1,
        padding: PadSpec::Same,
        bias: true,
        batch_norm: false,
        pool: None,
    };
    for (k, v) in m {
        let name = format!("{key}.{k}");
        match k.as_str() {
            "channels" => b.channels = cx.usize_in(&name, v, 1, 65_536)?,
            "kernel" => b.kernel = cx.usize_in(&name, v, 1, 1024)?,
            "stride" => b.stride = cx.usize_in(&name, v, 1, 1024)?,
            "padding" => b.padding = parse_pad(cx, &name, v, true)?,
            "bias" => b.bias = cx.bool(&name, v)?,
            "norm" => {
                b.batch_norm = cx.choice(
                    &name,
                    v,
                    |s| match s {
                        "batch" => Some(true),
                        "none" => Some(false),
                        _ => None,
                    },
                    &["batch", "none"],
                )?;
            }
            "pool" => b.pool = parse_pool(cx, &name, v)?,
            _ => return Err(unknown(cx, &name, &BLOCK_KEYS)),
        }
    }
    if b.channels == 0 {
        return Err(ModelError::MissingKey {
            owner: cx.owner.to_string(),
            key: format!("{key}.channels"),
        });
    }
    Ok(b)
}

/// The canonical JSON of a block (every key).
pub(crate) fn block_json(b: &ConvBlock) -> Value {
    let pool = match b.pool {
        None => json!("none"),
        Some(p) => json!({
            "type": if p.kind == PoolKind::Max { "max" } else { "avg" },
            "kernel": p.kernel, "stride": p.stride, "padding": pad_json(p.padding),
        }),
    };
    json!({
        "channels": b.channels, "kernel": b.kernel, "stride": b.stride,
        "padding": pad_json(b.padding), "bias": b.bias,
        "norm": if b.batch_norm { "batch" } else { "none" }, "pool": pool,
    })
}

impl NetConfig {
    /// Parses one network key.
    pub(super) fn parse(&mut self, cx: &Ctx, key: &str, v: &Value) -> Result<(), ModelError> {
        match key {
            "init" => {
                self.weights = match v {
                    Value::String(s) if s == "default" => WeightsInit::Default,
                    Value::String(s) if s == "deepobs" => WeightsInit::Deepobs,
                    Value::Object(m) if m.len() == 1 && m.contains_key("file") => {
                        let f = cx.str("init.file", &m["file"])?;
                        if f.is_empty() {
                            return Err(cx.range("init.file", "must not be empty".into()));
                        }
                        WeightsInit::File(PathBuf::from(f))
                    }
                    _ => {
                        return Err(cx.wrong(
                            key,
                            "default, deepobs or {file: weights.safetensors}",
                            v,
                        ));
                    }
                }
            }
            "preset" => {
                self.preset = Some(cx.choice(key, v, Preset::from_name, &["2c2d", "3c3d"])?);
            }
            "conv" => {
                let arr = v
                    .as_array()
                    .ok_or_else(|| cx.wrong(key, "a list of blocks", v))?;
                self.conv = arr
                    .iter()
                    .enumerate()
                    .map(|(i, b)| parse_block(cx, i, b))
                    .collect::<Result<_, _>>()?;
            }
            "global_pool" => {
                self.global_pool = cx.choice(
                    key,
                    v,
                    |s| match s {
                        "avg" => Some(true),
                        "none" => Some(false),
                        _ => None,
                    },
                    &["avg", "none"],
                )?;
            }
            "dropout" => {
                let p = cx.f64(key, v)?;
                if !(0.0..1.0).contains(&p) {
                    return Err(cx.range(key, format!("must be in [0, 1), found {p}")));
                }
                self.dropout = p;
            }
            "depth" => {
                let d = cx.usize(key, v)?;
                if !DEPTHS.contains(&d) {
                    return Err(cx.range(
                        key,
                        format!("must be one of 8, 14, 20, 32, 56 (6n + 2), found {d}"),
                    ));
                }
                self.depth = d;
            }
            "shortcut" => {
                self.shortcut = cx.choice(
                    key,
                    v,
                    |s| match s {
                        "A" | "a" => Some(Shortcut::A),
                        "B" | "b" => Some(Shortcut::B),
                        _ => None,
                    },
                    &["A", "B"],
                )?;
            }
            _ => unreachable!("dispatched by is_network_key"),
        }
        Ok(())
    }

    /// Checks keys that depend on each other: a preset replaces `conv` and `hidden`;
    /// `init: deepobs` needs a preset.
    pub(super) fn check(&self, cx: &Ctx, keys: &Map<String, Value>) -> Result<(), ModelError> {
        if self.preset.is_some() {
            for k in ["conv", "hidden", "global_pool"] {
                if keys.get(k).is_some_and(|v| !v.is_null()) {
                    return Err(cx.range(
                        k,
                        "cannot be combined with `preset`, which fixes the architecture".into(),
                    ));
                }
            }
        }
        if self.weights == WeightsInit::Deepobs && self.preset.is_none() {
            return Err(cx.range(
                "init",
                "deepobs needs `preset: 2c2d` or `preset: 3c3d`".into(),
            ));
        }
        Ok(())
    }

    /// The canonical JSON of network key `key`; `None` for `init` at its default (so that the
    /// canonical configuration, and the run ids, of problems that existed before the key stay
    /// the same).
    pub(crate) fn json(&self, key: &str) -> Option<Value> {
        Some(match key {
            "init" => match &self.weights {
                WeightsInit::Default => return None,
                WeightsInit::Deepobs => json!("deepobs"),
                WeightsInit::File(p) => json!({"file": p.to_string_lossy()}),
            },
            "preset" => json!(self.preset.map(Preset::name)),
            "conv" => Value::Array(self.conv.iter().map(block_json).collect()),
            "global_pool" => json!(if self.global_pool { "avg" } else { "none" }),
            "dropout" => json!(self.dropout),
            "depth" => json!(self.depth),
            "shortcut" => json!(if self.shortcut == Shortcut::A {
                "A"
            } else {
                "B"
            }),
            _ => return None,
        })
    }
}
