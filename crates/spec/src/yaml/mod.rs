//! Reading and writing YAML: the only module of optbench that touches a YAML library.
//!
//! An experiment file is parsed into a [`serde_json::Value`] (so that the rest of the crate never
//! sees a YAML type) plus a table of positions: for every mapping key and sequence item, the
//! line and column where its own text starts (a key's name, possibly quoted; an item's value,
//! after `- `). Errors about a value can then point at `file:line:column`.
//!
//! Two parsers read the text, each for what it does well:
//! - **serde_yaml** reads the values, as the project's design names it. Its limits on aliases
//!   ("repetition limit exceeded", "recursion limit exceeded") and its messages for syntax errors,
//!   with their positions, are the ones users see.
//! - **saphyr-parser** says where things are ([`outline`]): its events carry start and end marks
//!   (line, column, character index), and a walk over them with a stack of open collections
//!   records every key and item. saphyr-parser is the maintained line of the yaml-rust family
//!   (yaml-rust2's README sends new work there; yaml-rust2 only gets basic maintenance), is
//!   pure safe Rust with two small dependencies (arraydeque, thiserror), passes the YAML test
//!   suite, and tests its spans. libyaml's own marks (serde_yaml's `unsafe-libyaml`) are only
//!   reachable through `unsafe` calls, which this workspace denies.
//!
//! [`convert`] pairs the two entry by entry (by order, so keys never have to be resolved twice)
//! and applies merge keys to values and positions at once.
//!
//! Conversion rules:
//! - numbers stay numbers; a string that reads as a float in exponent notation (`1e-3`, `5E+2`)
//!   becomes a float, since YAML 1.1 parsers read `1e-3` as a string;
//! - non-finite numbers (`.inf`, `.nan`) are rejected: no hyperparameter takes them;
//! - mapping keys must be strings (numbers, booleans and null are written back as their text);
//! - tags (`!foo`) are ignored, keeping the tagged value;
//! - anchors and aliases work as in any YAML; an alias's parts are located in the anchored text;
//! - merge keys (`<<: *defaults`, `<<: [*a, *b]`, YAML 1.1) copy in the entries the mapping does
//!   not have: a key written in the mapping itself wins, then the earlier mapping of a list.
//!   Merged entries are located where they are written, in the anchored block. Chains (a merged
//!   block that merges another) work, because mappings are converted inside out. serde_yaml's
//!   `Value::apply_merge` is not used: it works top down and leaves the `<<` of a merged block
//!   that itself merges in place, and positions need the same merge anyway.

mod convert;
mod outline;

use serde_json::Value;
use std::fmt;

use convert::{PosKind, PosNode};

/// One step of a path into a document: a mapping key or a sequence index.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A path into a document, e.g. `optimizers[1].lr`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    /// The empty path (the document itself).
    pub fn root() -> Self {
        KeyPath(Vec::new())
    }

    /// This path extended by a key.
    pub fn key(&self, key: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(key.to_string()));
        p
    }

    /// This path extended by an index.
    pub fn index(&self, index: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(index));
        p
    }

    /// Whether `prefix` is a prefix of this path.
    pub fn starts_with(&self, prefix: &KeyPath) -> bool {
        self.0.starts_with(&prefix.0)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// A 1-based line and column in a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// A syntax error, with its position when the parser reports one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub position: Option<Position>,
    pub message: String,
}

/// A parsed document: its value and where each key and item is written.
#[derive(Clone, Debug)]
pub struct Document {
    pub value: Value,
    positions: PosKind,
}

impl Document {
    /// Where the node at `path` is written: the position of its key (for a mapping entry) or of
    /// its value (for a sequence item). When the path cannot be followed to its end (a key added
    /// by an override), the position of the deepest node found on the way.
    pub fn locate(&self, path: &KeyPath) -> Option<Position> {
        self.walk(path).0
    }

    /// As [`Document::locate`], but only when the whole path is found in the text.
    pub fn locate_exact(&self, path: &KeyPath) -> Option<Position> {
        match self.walk(path) {
            (found, true) => found,
            (_, false) => None,
        }
    }

    /// The position of the deepest node found along `path`, and whether that is its end.
    fn walk(&self, path: &KeyPath) -> (Option<Position>, bool) {
        let mut kind = &self.positions;
        let mut found = None;
        for seg in &path.0 {
            let child: Option<&PosNode> = match (seg, kind) {
                (Seg::Key(k), PosKind::Map(m)) => m.get(k.as_str()),
                (Seg::Index(i), PosKind::Seq(items)) => items.get(*i),
                _ => None,
            };
            match child {
                Some(c) => {
                    found = Some(c.pos);
                    kind = &c.kind;
                }
                None => return (found, false),
            }
        }
        (found, true)
    }
}

/// Parses one YAML document.
pub fn parse(text: &str) -> Result<Document, SyntaxError> {
    let raw = read(text)?;
    let (value, positions) = convert::to_json(raw, &outline::outline(text))?;
    Ok(Document { value, positions })
}

/// Parses a short YAML value (the right-hand side of `--set key=value`).
pub fn parse_value(text: &str) -> Result<Value, SyntaxError> {
    let raw = read(text)?;
    let (value, _) = convert::to_json(raw, &outline::Outline::default())?;
    Ok(value)
}

fn read(text: &str) -> Result<serde_yaml::Value, SyntaxError> {
    serde_yaml::from_str(text).map_err(|e| SyntaxError {
        position: e.location().map(|l| Position {
            line: l.line(),
            column: l.column(),
        }),
        message: strip_location(&e.to_string()),
    })
}

/// Writes a value as YAML text.
pub fn to_string(value: &Value) -> String {
    serde_yaml::to_string(value).unwrap_or_else(|_| format!("{value}\n"))
}

/// serde_yaml appends " at line L column C" to its messages; the caller prints the position
/// itself.
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests;
