//! `--set key=value` overrides, Hydra style.

use serde_json::{Map, Value};

use crate::experiment::describe_value;
use crate::yaml::{self, KeyPath};

/// Applies one `key=value` override (Hydra style: dotted path, list indices as numbers, value
/// parsed as YAML) and returns the path it set.
pub fn apply_override(doc: &mut Value, o: &str) -> Result<KeyPath, String> {
    let Some((key, raw)) = o.split_once('=') else {
        return Err("an override must look like `key=value`, e.g. `train.epochs=3` or `optimizers.0.lr=0.1`".into());
    };
    let key = key.trim();
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(format!(
            "`{key}` is not a key path; use dotted keys such as `train.epochs` or `optimizers.0.lr`"
        ));
    }
    let value = yaml::parse_value(raw)
        .map_err(|e| format!("the value `{raw}` is not valid YAML: {}", e.message))?;
    if !doc.is_object() {
        *doc = Value::Object(Map::new());
    }
    let segs: Vec<&str> = key.split('.').collect();
    let mut path = KeyPath::root();
    let mut node = doc;
    let mut i = 0;
    while i < segs.len() {
        let last = i + 1 == segs.len();
        match node {
            Value::Object(m) => {
                // A key that itself contains dots (exclude rules: `train.batch_size`).
                let rest = segs[i..].join(".");
                let (k, is_last) = if !last && m.contains_key(&rest) {
                    (rest, true)
                } else {
                    (segs[i].to_string(), last)
                };
                path = path.key(&k);
                if is_last {
                    m.insert(k, value);
                    return Ok(path);
                }
                node = m.entry(k).or_insert_with(|| Value::Object(Map::new()));
            }
            Value::Array(items) => {
                let n = items.len();
                let idx: usize = segs[i].parse().map_err(|_| {
                    format!(
                        "`{path}` is a list; index it with a number (e.g. `{path}.0`), not `{}`",
                        segs[i]
                    )
                })?;
                if idx >= n {
                    return Err(format!(
                        "`{path}` has {n} entr{}; index {idx} is out of range (indices start at 0)",
                        if n == 1 { "y" } else { "ies" }
                    ));
                }
                path = path.index(idx);
                if last {
                    items[idx] = value;
                    return Ok(path);
                }
                node = &mut items[idx];
            }
            other => {
                return Err(format!(
                    "`{path}` is {}, not a mapping or a list, so `{}` cannot be set inside it",
                    describe_value(other),
                    segs[i..].join(".")
                ));
            }
        }
        i += 1;
    }
    Ok(path)
}

// ---------------------------------------------------------------------------------------------
// Axes
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn overrides_follow_hydra_paths() {
        let mut doc = json!({"train": {"epochs": 1}, "optimizers": [{"name": "sgd"}], "exclude": [{"train.batch_size": 1}]});
        apply_override(&mut doc, "train.epochs=3").unwrap();
        apply_override(&mut doc, "optimizers.0.lr=1e-2").unwrap();
        apply_override(&mut doc, "seeds=2").unwrap();
        apply_override(&mut doc, "name=x").unwrap();
        apply_override(&mut doc, "train.batch_size=[1, full]").unwrap();
        apply_override(&mut doc, "exclude.0.train.batch_size=32").unwrap();
        assert_eq!(doc["train"]["epochs"], 3);
        assert!((doc["optimizers"][0]["lr"].as_f64().unwrap() - 0.01).abs() < 1e-15);
        assert_eq!(doc["seeds"], 2);
        assert_eq!(doc["name"], "x");
        assert_eq!(doc["train"]["batch_size"], json!([1, "full"]));
        assert_eq!(doc["exclude"][0]["train.batch_size"], 32);
        for bad in [
            "noequals",
            "=3",
            "a..b=1",
            "optimizers.5.lr=1",
            "optimizers.x.lr=1",
            "name.x=1",
            "train.epochs=[1",
        ] {
            assert!(apply_override(&mut doc, bad).is_err(), "{bad}");
        }
    }
}
