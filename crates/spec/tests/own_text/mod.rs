//! The check shared by the YAML position tests: every key and item of a parsed document has a
//! position, and the text there is its own (a key's name, possibly quoted; an item's value, after
//! `- `). Independent of the position code: scalars are cut out of the text by hand and
//! read back with `parse_value`.

use optbench_spec::yaml::{self, Document, KeyPath, Position};
use serde_json::Value;

/// Every path to a key or an item of `value`, with the value there.
pub fn paths(value: &Value, at: &KeyPath, out: &mut Vec<(KeyPath, Value)>) {
    match value {
        Value::Object(m) => {
            for (k, v) in m {
                let p = at.key(k);
                out.push((p.clone(), v.clone()));
                paths(v, &p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let p = at.index(i);
                out.push((p.clone(), v.clone()));
                paths(v, &p, out);
            }
        }
        _ => {}
    }
}

/// The text from `pos` to the end of the document.
pub fn text_at(text: &str, pos: Position) -> &str {
    let mut rest = text;
    for _ in 1..pos.line {
        match rest.find('\n') {
            Some(i) => rest = &rest[i + 1..],
            None => return "",
        }
    }
    match rest.char_indices().nth(pos.column - 1) {
        Some((i, _)) => &rest[i..],
        None => "",
    }
}

/// The first line of `text`, for messages.
pub fn first_line(text: &str) -> &str {
    text.split(['\r', '\n']).next().unwrap_or("")
}

/// The scalar written at the start of `text_from`, and the text after it: a quoted scalar up to
/// its closing quote (across lines), or a plain one up to an indicator or the end of the line.
fn scalar_token(text_from: &str) -> Option<(Value, String)> {
    let first = text_from.chars().next()?;
    let token_len = if first == '\'' || first == '"' {
        let mut chars = text_from.char_indices().skip(1).peekable();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            if first == '"' && c == '\\' {
                chars.next();
            } else if c == first {
                if first == '\'' && chars.peek().map(|&(_, c)| c) == Some('\'') {
                    chars.next();
                } else {
                    end = Some(i + 1);
                    break;
                }
            }
        }
        end?
    } else {
        let line_end = text_from.find(['\n', '\r']).unwrap_or(text_from.len());
        let line = &text_from[..line_end];
        [": ", ", ", ",", "]", "}", " #"]
            .iter()
            .filter_map(|s| line.find(s))
            .chain(line.ends_with(':').then(|| line.len() - 1))
            .min()
            .unwrap_or(line.len())
    };
    let token = &text_from[..token_len];
    let value = yaml::parse_value(token).ok()?;
    Some((value, text_from[token_len..].to_string()))
}

/// A key as serde_yaml writes a scalar key back.
fn key_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => Some("null".into()),
        Value::Bool(_) | Value::Number(_) => Some(v.to_string()),
        _ => None,
    }
}

/// Whether `text_from` (the text from a position on) starts with `key` as a mapping key.
pub fn starts_with_key(text_from: &str, key: &str) -> bool {
    matches!(scalar_token(text_from), Some((v, after))
        if key_of(&v).as_deref() == Some(key) && after.trim_start().starts_with(':'))
}

/// Whether `text_from` starts with the written form of the item `value`.
pub fn starts_with_item(text_from: &str, value: &Value) -> bool {
    if text_from.starts_with('*') {
        return true; // an alias: its parts are checked where the anchor writes them
    }
    match value {
        Value::Object(m) => {
            text_from.starts_with('{')
                || m.keys()
                    .chain(std::iter::once(&"<<".to_string()))
                    .any(|k| starts_with_key(text_from, k))
        }
        Value::Array(_) => {
            text_from.starts_with('[')
                || first_line(text_from) == "-"
                || text_from.starts_with("- ")
        }
        _ => {
            if text_from.starts_with('|') || text_from.starts_with('>') {
                return value.is_string();
            }
            match (scalar_token(text_from), value) {
                (Some((Value::String(first_line), _)), Value::String(s)) => {
                    s.starts_with(&first_line)
                }
                (Some((v, _)), _) => &v == value,
                (None, _) => false,
            }
        }
    }
}

/// Checks every key and item of `doc` (parsed from `text`); returns the failures.
pub fn own_text_failures(text: &str, doc: &Document) -> Vec<String> {
    let mut all = Vec::new();
    paths(&doc.value, &KeyPath::root(), &mut all);
    let mut failures = Vec::new();
    for (path, value) in all {
        let Some(pos) = doc.locate_exact(&path) else {
            failures.push(format!("{path}: no position"));
            continue;
        };
        let here = text_at(text, pos);
        let own = match path.0.last() {
            Some(yaml::Seg::Key(k)) => starts_with_key(here, k),
            _ => starts_with_item(here, &value),
        };
        if !own {
            failures.push(format!(
                "{path} at {}:{}: the text there is `{}`",
                pos.line,
                pos.column,
                first_line(here)
            ));
        }
    }
    failures
}
