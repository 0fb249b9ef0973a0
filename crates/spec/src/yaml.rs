//! Reading and writing YAML: the only module of optbench that touches a YAML library.
//!
//! Experiment files are parsed into a [`serde_json::Value`] (so that the rest of the runner never
//! sees a YAML type) plus a table of positions: for every mapping key and sequence item, the line
//! and column where it is written, found by a small structural scan of the text (block mappings,
//! block sequences, flow collections). Errors about a value can then point at `file:line:column`.
//!
//! Conversion rules:
//! - numbers stay numbers; a string that reads as a float in exponent notation (`1e-3`, `5E+2`)
//!   becomes a float, since YAML 1.1 parsers read `1e-3` as a string;
//! - non-finite numbers (`.inf`, `.nan`) are rejected: no hyperparameter takes them;
//! - mapping keys must be strings (numbers and booleans are written back as their text);
//! - tags (`!foo`) are ignored, keeping the tagged value.
//!
//! To move to a maintained fork of serde_yaml, change the `use` line below.

use serde_yaml as yaml_impl;

use serde_json::{Map, Number, Value};
use std::collections::BTreeMap;
use std::fmt;

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
    positions: PosNode,
}

impl Document {
    /// Where the node at `path` is written: the position of its key (for a mapping entry) or of
    /// its item (for a sequence item). When the path cannot be followed to its end (a key added
    /// by an override, a merge key), the position of the deepest node found on the way.
    pub fn locate(&self, path: &KeyPath) -> Option<Position> {
        let mut node = &self.positions;
        let mut found = None;
        for seg in &path.0 {
            let child = match (seg, &node.kind) {
                (Seg::Key(k), PosKind::Map(m)) => m.get(k.as_str()),
                (Seg::Index(i), PosKind::Seq(items)) => items.get(*i),
                _ => None,
            };
            match child {
                Some(c) => {
                    found = Some(c.pos);
                    node = c;
                }
                None => break,
            }
        }
        found
    }
}

/// Parses one YAML document.
pub fn parse(text: &str) -> Result<Document, SyntaxError> {
    let raw: yaml_impl::Value = yaml_impl::from_str(text).map_err(|e| SyntaxError {
        position: e.location().map(|l| Position {
            line: l.line(),
            column: l.column(),
        }),
        message: strip_location(&e.to_string()),
    })?;
    let value = to_json(raw, &mut Vec::new())?;
    let positions = Scanner::new(text).scan();
    Ok(Document { value, positions })
}

/// Parses a short YAML value (the right-hand side of `--set key=value`).
pub fn parse_value(text: &str) -> Result<Value, SyntaxError> {
    let doc = parse(text)?;
    Ok(doc.value)
}

/// Writes a value as YAML text.
pub fn to_string(value: &Value) -> String {
    yaml_impl::to_string(value).unwrap_or_else(|_| format!("{value}\n"))
}

/// serde_yaml appends " at line L column C" to its messages; the caller prints the position
/// itself.
fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn path_text(path: &[String]) -> String {
    if path.is_empty() {
        "the document".to_string()
    } else {
        format!("`{}`", path.join("."))
    }
}

fn to_json(v: yaml_impl::Value, path: &mut Vec<String>) -> Result<Value, SyntaxError> {
    use yaml_impl::Value as Y;
    Ok(match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(u) = n.as_u64() {
                Value::Number(u.into())
            } else if let Some(i) = n.as_i64() {
                Value::Number(i.into())
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                match Number::from_f64(f) {
                    Some(num) if f.is_finite() => Value::Number(num),
                    _ => {
                        return Err(SyntaxError {
                            position: None,
                            message: format!(
                                "{} is {n}: only finite numbers are allowed",
                                path_text(path)
                            ),
                        });
                    }
                }
            }
        }
        Y::String(s) => coerce_float(&s).unwrap_or(Value::String(s)),
        Y::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                path.push(i.to_string());
                out.push(to_json(item, path)?);
                path.pop();
            }
            Value::Array(out)
        }
        Y::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_string(),
                    _ => {
                        return Err(SyntaxError {
                            position: None,
                            message: format!(
                                "{} has a key that is a list or a mapping; keys must be names",
                                path_text(path)
                            ),
                        });
                    }
                };
                path.push(key.clone());
                let value = to_json(v, path)?;
                path.pop();
                out.insert(key, value);
            }
            Value::Object(out)
        }
        Y::Tagged(t) => to_json(t.value, path)?,
    })
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

// ---------------------------------------------------------------------------------------------
// Positions: a structural scan of the text.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct PosNode {
    pos: Position,
    kind: PosKind,
}

#[derive(Clone, Debug)]
enum PosKind {
    Leaf,
    Map(BTreeMap<String, PosNode>),
    Seq(Vec<PosNode>),
}

/// One line of the text, comments removed.
struct Line {
    /// Characters of the line (to index by column).
    chars: Vec<char>,
    /// Number of leading spaces.
    indent: usize,
}

impl Line {
    fn is_blank(&self) -> bool {
        self.indent >= self.chars.len()
    }
}

/// A scanner over block and flow YAML that records where keys and items are. It never fails:
/// on anything it does not understand it stops descending, and lookups fall back to the
/// enclosing node's position.
struct Scanner {
    lines: Vec<Line>,
    /// Index of the next unconsumed line.
    next: usize,
}

impl Scanner {
    fn new(text: &str) -> Self {
        let lines = text
            .lines()
            .map(|l| {
                let chars = strip_comment(l);
                let indent = chars.iter().take_while(|c| **c == ' ').count();
                Line { chars, indent }
            })
            .map(|l| {
                // Document markers and directives carry no structure.
                let s: String = l.chars.iter().collect();
                let t = s.trim();
                if t == "---" || t == "..." || t.starts_with('%') || t.starts_with("--- ") {
                    Line {
                        chars: Vec::new(),
                        indent: 0,
                    }
                } else {
                    l
                }
            })
            .collect();
        Scanner { lines, next: 0 }
    }

    fn scan(mut self) -> PosNode {
        self.skip_blank();
        if self.next >= self.lines.len() {
            return PosNode {
                pos: Position { line: 1, column: 1 },
                kind: PosKind::Leaf,
            };
        }
        let line = self.next;
        let col = self.lines[line].indent;
        self.block(line, col, None)
    }

    fn skip_blank(&mut self) {
        while self.next < self.lines.len() && self.lines[self.next].is_blank() {
            self.next += 1;
        }
    }

    fn rest(&self, line: usize, col: usize) -> &[char] {
        let chars = &self.lines[line].chars;
        if col >= chars.len() {
            &[]
        } else {
            &chars[col..]
        }
    }

    fn pos(line: usize, col: usize) -> Position {
        Position {
            line: line + 1,
            column: col + 1,
        }
    }

    /// The node whose text starts at (`line`, `col`). `parent_indent` is the indentation of the
    /// enclosing mapping (a sequence may sit at the same indentation as its key).
    fn block(&mut self, line: usize, col: usize, parent_indent: Option<usize>) -> PosNode {
        let rest = self.rest(line, col);
        if is_dash(rest) {
            return self.block_seq(line, col);
        }
        if matches!(rest.first(), Some('{') | Some('[')) {
            let (node, end_line) = self.flow(line, col);
            self.next = end_line + 1;
            self.skip_continuation(parent_indent.unwrap_or(0), line);
            return node;
        }
        if find_key_colon(rest).is_some() {
            return self.block_map(line, col);
        }
        // A scalar (possibly a block scalar or a multi-line plain scalar).
        self.next = line + 1;
        self.skip_continuation(parent_indent.map_or(0, |p| p + 1).max(col.min(1)), line);
        PosNode {
            pos: Self::pos(line, col),
            kind: PosKind::Leaf,
        }
    }

    /// Skips lines indented deeper than `min_indent - 1`... i.e. continuation lines of a scalar
    /// that belong to the node that started on `start_line`.
    fn skip_continuation(&mut self, min_indent: usize, start_line: usize) {
        let base = self.lines[start_line].indent;
        while self.next < self.lines.len() {
            let l = &self.lines[self.next];
            if l.is_blank() || (l.indent > base && l.indent >= min_indent) {
                self.next += 1;
            } else {
                break;
            }
        }
    }

    fn block_seq(&mut self, line: usize, col: usize) -> PosNode {
        let mut items = Vec::new();
        let mut cur = line;
        let mut first = true;
        loop {
            if !first {
                self.skip_blank();
                if self.next >= self.lines.len() {
                    break;
                }
                cur = self.next;
                let l = &self.lines[cur];
                if l.indent != col || !is_dash(self.rest(cur, col)) {
                    break;
                }
            }
            first = false;
            // Content after "- ".
            let after = col + 1;
            let spaces = self
                .rest(cur, after)
                .iter()
                .take_while(|c| **c == ' ')
                .count();
            let content_col = after + spaces;
            if content_col >= self.lines[cur].chars.len() {
                // The item is on the following lines.
                self.next = cur + 1;
                self.skip_blank();
                if self.next < self.lines.len() && self.lines[self.next].indent > col {
                    let l = self.next;
                    let c = self.lines[l].indent;
                    let mut node = self.block(l, c, Some(col));
                    node.pos = Self::pos(cur, col);
                    items.push(node);
                } else {
                    items.push(PosNode {
                        pos: Self::pos(cur, col),
                        kind: PosKind::Leaf,
                    });
                }
            } else {
                let mut node = self.block(cur, content_col, Some(col));
                if matches!(node.kind, PosKind::Map(_)) {
                    node.pos = Self::pos(cur, col);
                }
                items.push(node);
            }
        }
        PosNode {
            pos: Self::pos(line, col),
            kind: PosKind::Seq(items),
        }
    }

    fn block_map(&mut self, line: usize, col: usize) -> PosNode {
        let mut entries = BTreeMap::new();
        let mut cur = line;
        let mut first = true;
        loop {
            if !first {
                self.skip_blank();
                if self.next >= self.lines.len() {
                    break;
                }
                cur = self.next;
                if self.lines[cur].indent != col {
                    break;
                }
            }
            first = false;
            let rest = self.rest(cur, col).to_vec();
            let Some(colon) = find_key_colon(&rest) else {
                // Not a `key:` line: stop describing this mapping.
                self.next = cur + 1;
                break;
            };
            let key = unquote(&rest[..colon]);
            let key_pos = Self::pos(cur, col);
            let after = col + colon + 1;
            let spaces = self
                .rest(cur, after)
                .iter()
                .take_while(|c| **c == ' ')
                .count();
            let value_col = after + spaces;
            let mut node = if value_col >= self.lines[cur].chars.len() {
                self.next = cur + 1;
                self.skip_blank();
                let nl = self.next;
                if nl < self.lines.len()
                    && (self.lines[nl].indent > col
                        || (self.lines[nl].indent == col && is_dash(self.rest(nl, col))))
                {
                    let c = self.lines[nl].indent;
                    self.block(nl, c, Some(col))
                } else {
                    PosNode {
                        pos: key_pos,
                        kind: PosKind::Leaf,
                    }
                }
            } else {
                self.block(cur, value_col, Some(col))
            };
            node.pos = key_pos;
            entries.insert(key, node);
        }
        PosNode {
            pos: Self::pos(line, col),
            kind: PosKind::Map(entries),
        }
    }

    /// A flow collection starting at (`line`, `col`); returns the node and the line it ends on.
    fn flow(&self, line: usize, col: usize) -> (PosNode, usize) {
        let mut cursor = FlowCursor {
            lines: &self.lines,
            line,
            col,
            last_line: line,
        };
        let node = cursor.value(0);
        (
            node,
            cursor.last_line.min(self.lines.len().saturating_sub(1)),
        )
    }
}

struct FlowCursor<'a> {
    lines: &'a [Line],
    line: usize,
    col: usize,
    /// The line of the last character consumed.
    last_line: usize,
}

impl FlowCursor<'_> {
    fn peek(&self) -> Option<char> {
        self.lines.get(self.line)?.chars.get(self.col).copied()
    }

    fn bump(&mut self) {
        if self.line >= self.lines.len() {
            return;
        }
        self.last_line = self.line;
        self.col += 1;
        if self.col >= self.lines[self.line].chars.len() {
            // Move to the next line's first character (if any line remains).
            if self.line + 1 < self.lines.len() {
                self.line += 1;
                self.col = 0;
            } else {
                self.col = self.lines[self.line].chars.len();
                self.line = self.lines.len();
            }
        }
    }

    fn skip_ws(&mut self) {
        loop {
            if self.line >= self.lines.len() {
                return;
            }
            if self.col >= self.lines[self.line].chars.len() {
                if self.line + 1 < self.lines.len() {
                    self.line += 1;
                    self.col = 0;
                    continue;
                }
                self.line = self.lines.len();
                return;
            }
            match self.peek() {
                Some(' ') | Some('\t') => self.bump(),
                _ => return,
            }
        }
    }

    fn here(&self) -> Position {
        Scanner::pos(self.line, self.col)
    }

    fn value(&mut self, depth: usize) -> PosNode {
        self.skip_ws();
        let pos = self.here();
        if depth > 64 {
            return PosNode {
                pos,
                kind: PosKind::Leaf,
            };
        }
        match self.peek() {
            Some('{') => {
                self.bump();
                let mut entries = BTreeMap::new();
                while self.flow_next('}') {
                    let key_pos = self.here();
                    let key = self.scalar_text();
                    self.skip_ws();
                    let mut node = if self.peek() == Some(':') {
                        self.bump();
                        self.value(depth + 1)
                    } else {
                        PosNode {
                            pos: key_pos,
                            kind: PosKind::Leaf,
                        }
                    };
                    node.pos = key_pos;
                    entries.insert(unquote(&key.chars().collect::<Vec<_>>()), node);
                }
                PosNode {
                    pos,
                    kind: PosKind::Map(entries),
                }
            }
            Some('[') => {
                self.bump();
                let mut items = Vec::new();
                while self.flow_next(']') {
                    let before = (self.line, self.col);
                    items.push(self.value(depth + 1));
                    if (self.line, self.col) == before {
                        // No progress: give up on this collection.
                        self.bump();
                    }
                }
                PosNode {
                    pos,
                    kind: PosKind::Seq(items),
                }
            }
            _ => {
                self.scalar_text();
                PosNode {
                    pos,
                    kind: PosKind::Leaf,
                }
            }
        }
    }

    /// Moves to the next item of a flow collection: skips whitespace and separating commas, and
    /// is false at the collection's end (`close`, consumed) or at the end of the input.
    fn flow_next(&mut self, close: char) -> bool {
        loop {
            self.skip_ws();
            match self.peek() {
                None => return false,
                Some(c) if c == close => {
                    self.bump();
                    return false;
                }
                Some(',') => self.bump(),
                _ => return true,
            }
        }
    }

    /// Reads a scalar up to `,` `:` (followed by space or end) `}` `]`, honouring quotes.
    fn scalar_text(&mut self) -> String {
        let mut out = String::new();
        let quote = match self.peek() {
            Some(q @ ('"' | '\'')) => Some(q),
            _ => None,
        };
        if let Some(q) = quote {
            out.push(q);
            self.bump();
            while let Some(c) = self.peek() {
                out.push(c);
                self.bump();
                if c == q {
                    break;
                }
            }
            return out;
        }
        let start_line = self.line;
        while let Some(c) = self.peek() {
            if self.line != start_line {
                break;
            }
            if c == ',' || c == '}' || c == ']' || c == '{' || c == '[' {
                break;
            }
            if c == ':' {
                let next = self
                    .lines
                    .get(self.line)
                    .and_then(|l| l.chars.get(self.col + 1))
                    .copied();
                if matches!(next, None | Some(' ') | Some(',') | Some('}') | Some(']')) {
                    break;
                }
            }
            out.push(c);
            self.bump();
        }
        out.trim().to_string()
    }
}

/// `-` alone or followed by a space: a block sequence item.
fn is_dash(rest: &[char]) -> bool {
    matches!(rest, ['-'] | ['-', ' ', ..])
}

/// The index of the `:` that ends a block mapping key at the start of `rest`, if `rest` is a
/// `key: value` or `key:` line.
fn find_key_colon(rest: &[char]) -> Option<usize> {
    let first = *rest.first()?;
    if first == '{' || first == '[' || first == '-' && is_dash(rest) {
        return None;
    }
    if first == '"' || first == '\'' {
        let close = rest[1..].iter().position(|c| *c == first)? + 1;
        return (rest.get(close + 1) == Some(&':')
            && matches!(rest.get(close + 2), None | Some(' ')))
        .then_some(close + 1);
    }
    (0..rest.len()).find(|&i| rest[i] == ':' && matches!(rest.get(i + 1), None | Some(' ')))
}

fn unquote(chars: &[char]) -> String {
    let s: String = chars.iter().collect();
    let t = s.trim();
    for q in ['"', '\''] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
            return t[1..t.len() - 1].to_string();
        }
    }
    t.to_string()
}

/// The characters of a line without its comment (`#` at the start or after a space, outside
/// quotes) and without trailing spaces.
fn strip_comment(line: &str) -> Vec<char> {
    let chars: Vec<char> = line.chars().collect();
    let mut quote: Option<char> = None;
    let mut end = chars.len();
    for (i, &c) in chars.iter().enumerate() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => {
                if c == '#' && (i == 0 || chars[i - 1] == ' ' || chars[i - 1] == '\t') {
                    end = i;
                    break;
                }
                if (c == '"' || c == '\'')
                    && (i == 0 || matches!(chars[i - 1], ' ' | '[' | '{' | ',' | ':'))
                {
                    quote = Some(c);
                }
            }
        }
    }
    let mut out = chars[..end].to_vec();
    while out.last().is_some_and(|c| c.is_whitespace()) {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(s: &[&str]) -> KeyPath {
        KeyPath(
            s.iter()
                .map(|p| match p.parse::<usize>() {
                    Ok(i) => Seg::Index(i),
                    Err(_) => Seg::Key(p.to_string()),
                })
                .collect(),
        )
    }

    const DOC: &str = "\
name: demo   # a comment
seeds: 3
problems:
  - name: mlp
    dataset: {name: iris, test_fraction: 0.25}
    hidden: [[32], [64, 64]]
  - name: rosenbrock
train:
  epochs: 2
  batch_size: [full, 1]
optimizers:
- name: sgd
  lr: 1e-3
- {name: adam, lr: 0.1,
   betas: [0.9, 0.99]}
- name: rmsprop
  zip:
    lr: [0.1, 0.2]
exclude:
  - {problem: rosenbrock, train.batch_size: 1}
";

    #[test]
    fn values_convert_and_exponent_floats_are_floats() {
        let d = parse(DOC).unwrap();
        assert_eq!(d.value["name"], "demo");
        assert_eq!(d.value["seeds"], 3);
        assert!(d.value["optimizers"][0]["lr"].is_f64());
        assert!((d.value["optimizers"][0]["lr"].as_f64().unwrap() - 1e-3).abs() < 1e-18);
        assert_eq!(d.value["train"]["batch_size"][0], "full");
        // Quoted exponent floats (a YAML 1.1 reading) become floats too.
        let q = parse("lr: '2E-4'\nname: '1e5x'").unwrap();
        assert!(q.value["lr"].is_f64());
        assert_eq!(q.value["name"], "1e5x");
    }

    #[test]
    fn positions_of_block_and_flow_keys() {
        let d = parse(DOC).unwrap();
        let at = |p: &[&str]| d.locate(&path(p)).map(|p| (p.line, p.column));
        assert_eq!(at(&["name"]), Some((1, 1)));
        assert_eq!(at(&["problems"]), Some((3, 1)));
        assert_eq!(at(&["problems", "0"]), Some((4, 3)));
        assert_eq!(at(&["problems", "0", "name"]), Some((4, 5)));
        assert_eq!(
            at(&["problems", "0", "dataset", "test_fraction"]),
            Some((5, 27))
        );
        assert_eq!(at(&["problems", "0", "hidden"]), Some((6, 5)));
        assert_eq!(at(&["problems", "1", "name"]), Some((7, 5)));
        assert_eq!(at(&["train", "batch_size"]), Some((10, 3)));
        assert_eq!(at(&["optimizers", "0", "lr"]), Some((13, 3)));
        assert_eq!(at(&["optimizers", "1"]), Some((14, 1)));
        assert_eq!(at(&["optimizers", "1", "lr"]), Some((14, 16)));
        assert_eq!(at(&["optimizers", "1", "betas"]), Some((15, 4)));
        assert_eq!(at(&["optimizers", "2", "zip", "lr"]), Some((18, 5)));
        assert_eq!(at(&["exclude", "0", "train.batch_size"]), Some((20, 27)));
        // A key that is not in the text falls back to its entry.
        assert_eq!(at(&["optimizers", "2", "momentum"]), Some((16, 1)));
        assert_eq!(at(&["nothing"]), None);
    }

    #[test]
    fn syntax_errors_have_positions() {
        let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.position.is_some(), "{e:?}");
        let e = parse("a: 1\na: 2\n").unwrap_err();
        assert!(e.message.contains("duplicate"), "{}", e.message);
        let e = parse("x: .nan").unwrap_err();
        assert!(e.message.contains("`x`"), "{}", e.message);
    }

    #[test]
    fn keypath_display() {
        assert_eq!(
            path(&["optimizers", "2", "lr"]).to_string(),
            "optimizers[2].lr"
        );
    }

    #[test]
    fn scanner_survives_odd_text() {
        for text in [
            "- - a\n  - b\n- c",
            "a:\n- 1\n- 2\nb: |\n  text\n  more\nc: 3",
            "{a: [1, {b: 2}], c: 'x: y'}",
            "a: [1,\n  2,\n  3]\nb: 4",
            "? complex\n: value",
            "a: \"quoted # not a comment\"  # comment\nb: 1",
            "]]]{{{",
            ":",
            "-",
            "a:\n  - b: 1\n    c: 2\n  - d",
        ] {
            let _ = Scanner::new(text).scan();
        }
        let d = parse("a:\n- 1\n- 2\nb: |\n  text\n  more\nc: 3").unwrap();
        assert_eq!(d.locate(&path(&["c"])).map(|p| p.line), Some(7));
        assert_eq!(d.locate(&path(&["a", "1"])).map(|p| p.line), Some(3));
        let d = parse("a:\n  - b: 1\n    c: 2\n  - d").unwrap();
        assert_eq!(
            d.locate(&path(&["a", "0", "c"]))
                .map(|p| (p.line, p.column)),
            Some((3, 5))
        );
        assert_eq!(d.locate(&path(&["a", "1"])).map(|p| p.line), Some(4));
    }
}
