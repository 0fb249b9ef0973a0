//! The experiment file's structure (docs/format.md), before the grid is expanded.
//!
//! ```yaml
//! name: demo                 # results go to results/demo/; default: the file's stem
//! seed: 0                    # experiment seed (default 0): data seeds derive from it
//! seeds: 3                   # 3 means [0, 1, 2]; or a list such as [0, 7, 42]
//! problems:                  # a list of entries: `- rosenbrock` or `- {name: mlp, keys...}`
//!   - name: mlp
//!     dataset: iris
//!     hidden: [[16], [32, 32]]
//! train: {steps: 1000, batch_size: [full, 32], eval_every: 50}
//! optimizers:
//!   - name: sgd
//!     lr: {logspace: [1.0e-3, 1.0e-1], num: 3}
//!   - {name: adam, schedule: {name: cosine}}
//! schedule: {name: constant}  # default schedule of optimizers without their own
//! exclude:
//!   - {problem: mlp, train.batch_size: full}
//! ```
//!
//! This module only checks the shape (which top-level keys exist, that entries have names, that
//! `zip` groups are mappings of lists); [`crate::expand`] expands axes and validates every value
//! against the schema of the optimizer, problem and dataset it configures.

use serde_json::{Map, Value};

use crate::keys::{self, Kind};
use crate::yaml::KeyPath;

/// Top-level keys of an experiment file.
pub const TOP_LEVEL_KEYS: &[&str] = &[
    "name",
    "description",
    "seed",
    "seeds",
    "problems",
    "train",
    "optimizers",
    "schedule",
    "exclude",
];

/// Top-level keys starting with this are ignored: a place for blocks shared through YAML
/// anchors and merge keys (`x-adam: &adam {…}`, then `<<: *adam`).
pub const EXTENSION_PREFIX: &str = "x-";

/// A problem found at a path of the document, with a message that says what is wrong and how to
/// fix it. [`crate::expand`] adds the file and the position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    pub path: KeyPath,
    pub message: String,
}

impl Issue {
    pub fn new(path: KeyPath, message: impl Into<String>) -> Self {
        Issue {
            path,
            message: message.into(),
        }
    }
}

/// An experiment file, its shape checked, axes not yet expanded.
#[derive(Clone, Debug, PartialEq)]
pub struct Experiment {
    /// `name` (default: the file's stem); names the results folder.
    pub name: String,
    /// Free text, carried into `experiment.yaml`.
    pub description: Option<String>,
    /// The experiment seed (`seed`, default 0).
    pub seed: u64,
    /// The run seeds (`seeds: N` means `0..N`; default `[0]`).
    pub seeds: Vec<u64>,
    /// `problems` entries.
    pub problems: Vec<Entry>,
    /// The `train` mapping (values may be axes).
    pub train: Map<String, Value>,
    /// `optimizers` entries.
    pub optimizers: Vec<Entry>,
    /// The top-level `schedule` (a mapping, or a list of them as an axis).
    pub schedule: Option<Value>,
    /// `exclude` rules: mappings of dotted keys to values.
    pub exclude: Vec<Map<String, Value>>,
}

/// One entry of `problems` or `optimizers`.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Where the entry is, e.g. `optimizers[2]`.
    pub path: KeyPath,
    /// Its `name`.
    pub name: String,
    /// The other keys (without `name`, `zip`), values possibly axes.
    pub keys: Map<String, Value>,
    /// `zip` groups: within a group the lists are paired element by element; groups and other
    /// keys are crossed.
    pub zip: Vec<ZipGroup>,
}

/// One `zip` mapping: keys to equally long lists.
#[derive(Clone, Debug, PartialEq)]
pub struct ZipGroup {
    pub path: KeyPath,
    pub keys: Map<String, Value>,
    /// The common length of the lists.
    pub len: usize,
}

impl Entry {
    /// `optimizers[2] (adam)`: how errors name the entry.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.path, self.name)
    }
}

/// What a JSON value is, for messages ("a list", "the string `x`").
pub fn describe_value(v: &Value) -> String {
    match v {
        Value::Null => "nothing (null)".into(),
        Value::Bool(b) => format!("`{b}`"),
        Value::Number(n) => format!("`{n}`"),
        Value::String(s) => format!("the string `{s}`"),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
    }
}

impl Experiment {
    /// Checks the shape of a parsed experiment file. `default_name` is used when `name` is
    /// absent (the file's stem).
    pub fn from_value(doc: &Value, default_name: &str) -> Result<Experiment, Issue> {
        let root = KeyPath::root();
        let top = match doc {
            Value::Object(m) => m,
            Value::Null => {
                return Err(Issue::new(
                    root,
                    "the file is empty; an experiment needs at least `problems`, `train` and `optimizers`",
                ));
            }
            other => {
                return Err(Issue::new(
                    root,
                    format!(
                        "an experiment file must be a mapping with `problems`, `train` and `optimizers`, found {}",
                        describe_value(other)
                    ),
                ));
            }
        };
        // `x-…` keys hold blocks shared through anchors (as in docker-compose); they are ignored.
        let own = top.keys().filter(|k| !k.starts_with(EXTENSION_PREFIX));
        keys::check_keys(Kind::TOP_LEVEL_KEY, own, TOP_LEVEL_KEYS)
            .map_err(|(key, message)| Issue::new(root.key(&key), message))?;

        let name = optional_string(top, "name", &root)?.unwrap_or_else(|| default_name.to_string());
        check_name(&name).map_err(|m| Issue::new(root.key("name"), m))?;
        let description = optional_string(top, "description", &root)?;
        let seed = match top.get("seed") {
            None | Some(Value::Null) => 0,
            Some(v) => v.as_u64().ok_or_else(|| {
                Issue::new(
                    root.key("seed"),
                    format!(
                        "`seed` (the experiment seed) must be a non-negative integer, found {}",
                        describe_value(v)
                    ),
                )
            })?,
        };
        let seeds = parse_seeds(top.get("seeds"), &root.key("seeds"))?;
        let problems = parse_entries(top, "problems", "rosenbrock")?;
        let optimizers = parse_entries(top, "optimizers", "sgd")?;
        let train = parse_train(top.get("train"), &root)?;
        let schedule = parse_schedule(top.get("schedule"), &root)?;
        let exclude = parse_exclude(top.get("exclude"), &root)?;

        Ok(Experiment {
            name,
            description,
            seed,
            seeds,
            problems,
            train,
            optimizers,
            schedule,
            exclude,
        })
    }
}

/// The top-level string `key`, or `None` when it is absent or null.
fn optional_string(
    top: &Map<String, Value>,
    key: &str,
    root: &KeyPath,
) -> Result<Option<String>, Issue> {
    match top.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(Issue::new(
            root.key(key),
            format!("`{key}` must be a string, found {}", describe_value(other)),
        )),
    }
}

/// The `train` mapping, which every experiment needs.
fn parse_train(value: Option<&Value>, root: &KeyPath) -> Result<Map<String, Value>, Issue> {
    match value {
        Some(Value::Object(m)) => Ok(m.clone()),
        None | Some(Value::Null) => Err(Issue::new(
            root.clone(),
            "`train` is missing; add e.g. `train: {steps: 1000}` or `train: {epochs: 10, batch_size: 32}`",
        )),
        Some(other) => Err(Issue::new(
            root.key("train"),
            format!(
                "`train` must be a mapping such as `{{steps: 1000, batch_size: 32}}`, found {}",
                describe_value(other)
            ),
        )),
    }
}

/// The experiment-wide `schedule`: a mapping, a list of them (an axis) or a bare name.
fn parse_schedule(value: Option<&Value>, root: &KeyPath) -> Result<Option<Value>, Issue> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v @ (Value::Object(_) | Value::Array(_) | Value::String(_))) => Ok(Some(v.clone())),
        Some(other) => Err(Issue::new(
            root.key("schedule"),
            format!(
                "`schedule` must be a mapping such as `{{name: cosine}}`, found {}",
                describe_value(other)
            ),
        )),
    }
}

/// The `exclude` rules: a list of non-empty mappings, or one mapping.
fn parse_exclude(value: Option<&Value>, root: &KeyPath) -> Result<Vec<Map<String, Value>>, Issue> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::Object(m) if !m.is_empty() => Ok(m.clone()),
                other => Err(Issue::new(
                    root.key("exclude").index(i),
                    format!(
                        "each `exclude` rule must be a non-empty mapping such as `{{problem: rosenbrock, train.batch_size: 1}}`, found {}",
                        describe_value(other)
                    ),
                )),
            })
            .collect(),
        Some(Value::Object(m)) => Ok(vec![m.clone()]),
        Some(other) => Err(Issue::new(
            root.key("exclude"),
            format!(
                "`exclude` must be a list of mappings such as `[{{problem: rosenbrock, train.batch_size: 1}}]`, found {}",
                describe_value(other)
            ),
        )),
    }
}

/// Experiment names become folder names: letters, digits, `-`, `_`, `.`; not starting with `.`.
fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`name` is `{name}`: it names the results folder, so use letters, digits, `-`, `_` and `.` only (and not a leading `.`)"
        ))
    }
}

fn parse_seeds(v: Option<&Value>, path: &KeyPath) -> Result<Vec<u64>, Issue> {
    const MAX_SEEDS: u64 = 100_000;
    match v {
        None | Some(Value::Null) => Ok(vec![0]),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(k) if (1..=MAX_SEEDS).contains(&k) => Ok((0..k).collect()),
            _ => Err(Issue::new(
                path.clone(),
                format!(
                    "`seeds` must be a count from 1 to {MAX_SEEDS} (e.g. `seeds: 3` for seeds 0, 1, 2) or a list of seeds, found `{n}`"
                ),
            )),
        },
        Some(Value::Array(items)) => {
            if items.is_empty() {
                return Err(Issue::new(
                    path.clone(),
                    "`seeds` is an empty list; give at least one seed, e.g. `seeds: [0]`",
                ));
            }
            let mut seeds = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let s = item.as_u64().ok_or_else(|| {
                    Issue::new(
                        path.index(i),
                        format!(
                            "seeds must be non-negative integers, found {}",
                            describe_value(item)
                        ),
                    )
                })?;
                if seeds.contains(&s) {
                    return Err(Issue::new(
                        path.index(i),
                        format!("seed {s} is listed twice in `seeds`; remove one"),
                    ));
                }
                seeds.push(s);
            }
            Ok(seeds)
        }
        Some(other) => Err(Issue::new(
            path.clone(),
            format!(
                "`seeds` must be a count (e.g. `seeds: 3`) or a list of seeds, found {}",
                describe_value(other)
            ),
        )),
    }
}

fn parse_entries(top: &Map<String, Value>, key: &str, example: &str) -> Result<Vec<Entry>, Issue> {
    let path = KeyPath::root().key(key);
    let items = match top.get(key) {
        None | Some(Value::Null) => {
            return Err(Issue::new(
                KeyPath::root(),
                format!("`{key}` is missing; add a list such as `{key}: [{{name: {example}}}]`"),
            ));
        }
        Some(Value::Array(items)) => items,
        Some(v @ Value::Object(_)) => std::slice::from_ref(v),
        Some(other) => {
            return Err(Issue::new(
                path,
                format!(
                    "`{key}` must be a list of entries such as `- name: {example}`, found {}",
                    describe_value(other)
                ),
            ));
        }
    };
    if items.is_empty() {
        return Err(Issue::new(
            path,
            format!("`{key}` is empty; add at least one entry such as `- name: {example}`"),
        ));
    }
    let mut entries = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let p = path.index(i);
        let (name, map) = match item {
            Value::String(s) => (s.clone(), Map::new()),
            Value::Object(m) => match m.get("name") {
                Some(Value::String(s)) => (s.clone(), m.clone()),
                Some(other) => {
                    return Err(Issue::new(
                        p.key("name"),
                        format!(
                            "`name` must be a string such as `{example}`, found {}",
                            describe_value(other)
                        ),
                    ));
                }
                None => {
                    return Err(Issue::new(
                        p,
                        format!("this entry has no `name`; add e.g. `name: {example}`"),
                    ));
                }
            },
            other => {
                return Err(Issue::new(
                    p,
                    format!(
                        "each entry of `{key}` must be a mapping with a `name` (or just the name), found {}",
                        describe_value(other)
                    ),
                ));
            }
        };
        let mut keys = Map::new();
        let mut zip = Vec::new();
        for (k, v) in map {
            match k.as_str() {
                "name" => {}
                "zip" => zip = parse_zip(&v, &p.key("zip"))?,
                _ => {
                    keys.insert(k, v);
                }
            }
        }
        for group in &zip {
            for k in group.keys.keys() {
                if keys.contains_key(k) {
                    return Err(Issue::new(
                        group.path.key(k),
                        format!(
                            "`{k}` is set both in `zip` and directly in the entry; keep only one"
                        ),
                    ));
                }
            }
        }
        for (a, ga) in zip.iter().enumerate() {
            for gb in &zip[a + 1..] {
                if let Some(k) = gb.keys.keys().find(|k| ga.keys.contains_key(*k)) {
                    return Err(Issue::new(
                        gb.path.key(k),
                        format!("`{k}` appears in two `zip` groups; keep it in one"),
                    ));
                }
            }
        }
        entries.push(Entry {
            path: p,
            name,
            keys,
            zip,
        });
    }
    Ok(entries)
}

fn parse_zip(v: &Value, path: &KeyPath) -> Result<Vec<ZipGroup>, Issue> {
    match v {
        Value::Object(m) => Ok(vec![parse_zip_group(m, path)?]),
        Value::Array(groups) => groups
            .iter()
            .enumerate()
            .map(|(i, g)| match g {
                Value::Object(m) => parse_zip_group(m, &path.index(i)),
                other => Err(Issue::new(
                    path.index(i),
                    format!(
                        "a `zip` group must be a mapping of keys to lists, found {}",
                        describe_value(other)
                    ),
                )),
            })
            .collect(),
        other => Err(Issue::new(
            path.clone(),
            format!(
                "`zip` must be a mapping of keys to equally long lists, e.g. `zip: {{momentum: [0.9, 0.99], nesterov: [false, true]}}`, found {}",
                describe_value(other)
            ),
        )),
    }
}

fn parse_zip_group(m: &Map<String, Value>, path: &KeyPath) -> Result<ZipGroup, Issue> {
    if m.is_empty() {
        return Err(Issue::new(
            path.clone(),
            "`zip` is empty; give keys with equally long lists",
        ));
    }
    let mut len: Option<(usize, &str)> = None;
    for (k, v) in m {
        let n = match v {
            Value::Array(items) if !items.is_empty() => items.len(),
            Value::Array(_) => {
                return Err(Issue::new(
                    path.key(k),
                    format!("`zip.{k}` is an empty list; give one value per paired variant"),
                ));
            }
            other => {
                return Err(Issue::new(
                    path.key(k),
                    format!(
                        "`zip.{k}` must be a list (one value per paired variant), found {}",
                        describe_value(other)
                    ),
                ));
            }
        };
        match len {
            None => len = Some((n, k)),
            Some((l, first)) if l != n => {
                return Err(Issue::new(
                    path.key(k),
                    format!(
                        "`zip` pairs its lists element by element, but `{first}` has {l} values and `{k}` has {n}; give them the same length"
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(ZipGroup {
        path: path.clone(),
        keys: m.clone(),
        len: len.map_or(0, |(n, _)| n),
    })
}

#[cfg(test)]
mod tests;
