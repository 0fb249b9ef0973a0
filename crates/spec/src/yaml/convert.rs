//! serde_yaml's value to JSON, paired entry by entry with the [`Outline`] of the same text, so
//! that every key and item of the result knows where it is written; merge keys resolved on both
//! at once.
//!
//! Pairing by order, not by name, means the outline never has to resolve a key's text the way
//! serde_yaml does (`1.50:` is the key `1.5`, `"a b":` is `a b`). An alias is expanded by
//! serde_yaml and stands for the anchored node in the outline, so its parts are found in the
//! anchored text. Where the two parsers ever disagreed on a collection's length, that collection's
//! parts get no position (lookups fall back to the enclosing entry); the values are serde_yaml's
//! in any case.

use std::collections::BTreeMap;

use serde_json::{Map, Number, Value};
use serde_yaml::Value as Yaml;

use super::outline::{Outline, Placed};
use super::{KeyPath, Position, SyntaxError};

/// The key that merges mappings into the one it is written in (YAML 1.1 merge key type).
const MERGE_KEY: &str = "<<";

/// Where a key or item is written, and where the parts of its value are.
#[derive(Clone, Debug)]
pub(super) struct PosNode {
    pub pos: Position,
    pub kind: PosKind,
}

#[derive(Clone, Debug)]
pub(super) enum PosKind {
    Leaf,
    Map(BTreeMap<String, PosNode>),
    Seq(Vec<PosNode>),
}

/// Converts `raw`, read from the text that `outline` describes, into JSON and its positions.
pub(super) fn to_json(raw: Yaml, outline: &Outline) -> Result<(Value, PosKind), SyntaxError> {
    let mut cx = Converter {
        outline,
        path: KeyPath::root(),
    };
    cx.value(raw, outline.root)
}

struct Converter<'a> {
    outline: &'a Outline,
    /// Where the conversion is, for messages.
    path: KeyPath,
}

impl Converter<'_> {
    /// A value and the positions of its parts. `at`, when known, is where its entry is written
    /// (its key, or the item itself) and the outline node of the value.
    fn value(&mut self, raw: Yaml, at: Option<Placed>) -> Result<(Value, PosKind), SyntaxError> {
        Ok(match raw {
            Yaml::Null => (Value::Null, PosKind::Leaf),
            Yaml::Bool(b) => (Value::Bool(b), PosKind::Leaf),
            Yaml::Number(n) => (self.number(&n, at.map(|a| a.pos))?, PosKind::Leaf),
            Yaml::String(s) => (coerce_float(&s).unwrap_or(Value::String(s)), PosKind::Leaf),
            Yaml::Sequence(items) => self.sequence(items, at)?,
            Yaml::Mapping(m) => self.mapping(m, at)?,
            // Tags are properties of the same written node.
            Yaml::Tagged(t) => self.value(t.value, at)?,
        })
    }

    fn number(&self, n: &serde_yaml::Number, at: Option<Position>) -> Result<Value, SyntaxError> {
        if let Some(u) = n.as_u64() {
            return Ok(Value::Number(u.into()));
        }
        if let Some(i) = n.as_i64() {
            return Ok(Value::Number(i.into()));
        }
        let f = n.as_f64().unwrap_or(f64::NAN);
        match Number::from_f64(f) {
            Some(num) if f.is_finite() => Ok(Value::Number(num)),
            _ => Err(self.error(at, format!("is {n}: only finite numbers are allowed"))),
        }
    }

    fn sequence(
        &mut self,
        items: Vec<Yaml>,
        at: Option<Placed>,
    ) -> Result<(Value, PosKind), SyntaxError> {
        let written = at.and_then(|a| self.outline.seq(a.node, items.len()));
        let mut values = Vec::with_capacity(items.len());
        let mut positions = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let item_at = written.map(|w| w[i]);
            self.path.0.push(super::Seg::Index(i));
            let (value, kind) = self.value(item, item_at)?;
            self.path.0.pop();
            values.push(value);
            if let Some(a) = item_at {
                positions.push(PosNode { pos: a.pos, kind });
            }
        }
        let kind = if positions.len() == values.len() {
            PosKind::Seq(positions)
        } else {
            PosKind::Leaf
        };
        Ok((Value::Array(values), kind))
    }

    fn mapping(
        &mut self,
        m: serde_yaml::Mapping,
        at: Option<Placed>,
    ) -> Result<(Value, PosKind), SyntaxError> {
        let written = at.and_then(|a| self.outline.map(a.node, m.len()));
        let mut values = Map::new();
        let mut positions = BTreeMap::new();
        let mut merge = None;
        for (i, (k, v)) in m.into_iter().enumerate() {
            // The entry is where its key is written; its value's parts are below that.
            let entry_at = written.map(|w| Placed {
                pos: w[i].0,
                node: w[i].1.node,
            });
            let key_pos = entry_at.map(|a| a.pos);
            let Some(key) = key_text(k) else {
                return Err(self.error(
                    key_pos.or(at.map(|a| a.pos)),
                    "has a key that is a list or a mapping; keys must be names",
                ));
            };
            self.path.0.push(super::Seg::Key(key.clone()));
            let (value, kind) = self.value(v, entry_at)?;
            self.path.0.pop();
            let entry = key_pos.map(|pos| PosNode { pos, kind });
            if key == MERGE_KEY {
                merge = Some((value, entry));
                continue;
            }
            values.insert(key.clone(), value);
            if let Some(e) = entry {
                positions.insert(key, e);
            }
        }
        if let Some((merged, entry)) = merge {
            self.merge(&mut values, &mut positions, merged, entry)?;
        }
        Ok((Value::Object(values), PosKind::Map(positions)))
    }

    /// Applies a merge key (YAML 1.1, <https://yaml.org/type/merge.html>): the entries of the
    /// merged mapping, or of each mapping of a merged list, that the mapping does not have
    /// already; a key written in the mapping itself wins, then the earlier of the list. Merged
    /// entries keep their positions, in the text they were merged from.
    fn merge(
        &self,
        values: &mut Map<String, Value>,
        positions: &mut BTreeMap<String, PosNode>,
        merged: Value,
        entry: Option<PosNode>,
    ) -> Result<(), SyntaxError> {
        let key_pos = entry.as_ref().map(|e| e.pos);
        let not_mergeable = |found: String| {
            let mut path = self.path.clone();
            path.0.push(super::Seg::Key(MERGE_KEY.into()));
            SyntaxError {
                position: key_pos,
                message: format!(
                    "{} merges {found}; a merge key takes a mapping or a list of mappings (`<<: *defaults`, `<<: [*a, *b]`)",
                    describe_path(&path),
                ),
            }
        };
        let kind = entry.map(|e| e.kind);
        match merged {
            Value::Object(source) => {
                let source_positions = match kind {
                    Some(PosKind::Map(p)) => p,
                    _ => BTreeMap::new(),
                };
                add_missing(values, positions, source, source_positions);
            }
            Value::Array(sources) => {
                let mut item_positions: Vec<Option<PosNode>> = match kind {
                    Some(PosKind::Seq(items)) => items.into_iter().map(Some).collect(),
                    _ => Vec::new(),
                };
                for (i, source) in sources.into_iter().enumerate() {
                    let Value::Object(source) = source else {
                        return Err(not_mergeable(format!(
                            "a list whose item {i} is {}",
                            describe(&source)
                        )));
                    };
                    let source_positions = match item_positions.get_mut(i).and_then(Option::take) {
                        Some(PosNode {
                            kind: PosKind::Map(p),
                            ..
                        }) => p,
                        _ => BTreeMap::new(),
                    };
                    add_missing(values, positions, source, source_positions);
                }
            }
            other => return Err(not_mergeable(describe(&other).to_string())),
        }
        Ok(())
    }

    /// An error about the node being converted, at `at` when known.
    fn error(&self, at: Option<Position>, what: impl std::fmt::Display) -> SyntaxError {
        SyntaxError {
            position: at,
            message: format!("{} {what}", describe_path(&self.path)),
        }
    }
}

fn add_missing(
    values: &mut Map<String, Value>,
    positions: &mut BTreeMap<String, PosNode>,
    source: Map<String, Value>,
    mut source_positions: BTreeMap<String, PosNode>,
) {
    for (k, v) in source {
        if values.contains_key(&k) {
            continue;
        }
        if let Some(p) = source_positions.remove(&k) {
            positions.insert(k.clone(), p);
        }
        values.insert(k, v);
    }
}

/// A mapping key as text: strings as they are, numbers, booleans and null as written back by
/// serde_yaml, a tagged key as its value; lists and mappings have none.
fn key_text(k: Yaml) -> Option<String> {
    match k {
        Yaml::String(s) => Some(s),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        Yaml::Null => Some("null".to_string()),
        Yaml::Tagged(t) => key_text(t.value),
        Yaml::Sequence(_) | Yaml::Mapping(_) => None,
    }
}

fn describe_path(path: &KeyPath) -> String {
    if path.0.is_empty() {
        "the document".to_string()
    } else {
        format!("`{path}`")
    }
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// `1e-3`, `-2.5E+4`: floats in exponent notation written without a decimal point are strings
/// for YAML 1.1 parsers; read them as floats.
fn coerce_float(s: &str) -> Option<Value> {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exponent) = body.split_once(['e', 'E'])?;
    let exponent = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((a, b)) => {
            (digits(a) || a.is_empty())
                && (digits(b) || b.is_empty())
                && !(a.is_empty() && b.is_empty())
        }
        None => digits(mantissa),
    };
    if !mantissa_ok || !digits(exponent) {
        return None;
    }
    let f: f64 = s.parse().ok()?;
    if !f.is_finite() {
        return None;
    }
    Number::from_f64(f).map(Value::Number)
}
