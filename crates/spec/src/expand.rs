//! From an experiment file to a validated [`Plan`]: overrides, grid expansion, validation, ids.
//!
//! # Grid rules (DESIGN.md §3)
//!
//! - A list where a scalar is expected is an axis: `lr: [0.1, 0.01]` gives two variants.
//!   List-valued keys (`hidden`, `init`, `betas`, `milestones`) take one list as one value and a
//!   list of lists as an axis: `hidden: [[32], [64, 64]]`.
//! - `{logspace: [a, b], num: n}` is `n` values from `a` to `b` evenly spaced in log10 and
//!   `{linspace: [a, b], num: n}` evenly spaced; both ends are exactly `a` and `b`; values in
//!   between are rounded to 12 significant digits (so labels read `lr=0.01`).
//! - A mapping value (`dataset`, `schedule`) expands the axes inside it: `dataset: {name: iris,
//!   test_fraction: [0.2, 0.5]}` gives two datasets. A list of mappings is an axis of them.
//! - `zip: {k1: [..], k2: [..]}` pairs its lists element by element (they must have the same
//!   length); zip groups and the other keys are crossed. `zip` may also be a list of groups.
//! - The top-level `schedule` applies to every optimizer that has none of its own.
//! - Cells are problems × train × optimizers (in file order, the last key varying fastest);
//!   runs are cells × seeds, seeds varying fastest.
//! - `exclude` rules drop every cell whose named keys all match. Keys: `problem`, `dataset`,
//!   `optimizer` (names), `problem.<key>`, `train.<key>`, `optimizer.<key>` (canonical values,
//!   defaults included, so `optimizer.momentum: 0` matches SGD without momentum). A list where a
//!   scalar is expected matches any of its values. A rule that matches nothing is a warning.
//!
//! # Ids and seeds
//!
//! Every value is canonicalised by the schema it belongs to (optimizer hyperparameters with
//! torch's defaults filled in, problem and dataset keys with theirs), so writing a default
//! explicitly or reordering keys changes nothing. Then, with canonical JSON (keys sorted,
//! no spaces):
//!
//! - `run_id` = first 16 hex digits of blake3 of `{v, experiment_seed, problem, optimizer
//!   (name, hparams, schedule), train, seed}`;
//! - `cell_id` = the same without `seed`;
//! - `data_seed` = first 8 bytes (little endian) of blake3 of `{v, experiment_seed, problem
//!   (without `eval_train_examples`), seed}` — no optimizer or train key, so every optimizer and
//!   batch size of a problem variant sees the same initial point, split and data sample for a
//!   seed (the batch order also depends on the batch size, as it must).
//!
//! `train.eval_train_examples` is copied into the problem's `eval_train_examples` for problems
//! on data that do not set it themselves.
//!
//! The experiment's `name` is deliberately not part of the ids: renaming an experiment, or
//! running the same configuration from two experiment files (a baseline and a candidate),
//! gives the same ids, so results can be resumed, merged and compared.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use optbench_models::{ModelError, ProblemConfig};

use crate::error::ExperimentError;
use crate::experiment::{Entry, Experiment, Issue, describe_value, suggest};
use crate::plan::{BatchSize, Budget, OptimizerSpec, Plan, ProblemSpec, RunSpec, TrainSpec};
use crate::yaml::{self, Document, KeyPath, Seg};

/// Version tag mixed into every hash; bump it when the meaning of a resolved run changes.
const ID_VERSION: u64 = 1;

/// Keys whose value is itself a list: a list of lists is their axis.
pub const LIST_VALUED_KEYS: &[&str] = &["hidden", "init", "betas", "milestones"];

/// Keys of the `train` mapping.
pub const TRAIN_KEYS: &[&str] = &[
    "epochs",
    "steps",
    "batch_size",
    "eval_every",
    "eval_train_examples",
    "clip_grad_norm",
    "clip_grad_value",
];

/// The problem key that `train.eval_train_examples` sets.
const EVAL_TRAIN_EXAMPLES: &str = "eval_train_examples";

/// Default of `train.eval_every` (steps between metric records).
pub const DEFAULT_EVAL_EVERY: u64 = 10;

/// More cells or runs than this is almost certainly a mistake in the grid.
pub const MAX_RUNS: usize = 1_000_000;

/// A plan and the warnings found while building it.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub plan: Plan,
    /// E.g. an `exclude` rule that matches nothing.
    pub warnings: Vec<String>,
}

/// Reads, expands and validates an experiment file; `overrides` are `key=value` strings
/// (`--set`). Warnings are printed to stderr. Nothing is written.
pub fn load_plan(path: &Path, overrides: &[String]) -> Result<Plan, ExperimentError> {
    let loaded = load(path, overrides)?;
    for w in &loaded.warnings {
        eprintln!("optbench: warning: {w}");
    }
    Ok(loaded.plan)
}

/// As [`load_plan`], returning the warnings instead of printing them.
pub fn load(path: &Path, overrides: &[String]) -> Result<Loaded, ExperimentError> {
    let bytes = std::fs::read(path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            _ => e.to_string(),
        };
        ExperimentError::file(path, format!("cannot read the experiment file: {why}"))
    })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        ExperimentError::file(
            path,
            "this is not a text file; an experiment file is YAML text",
        )
    })?;
    load_str(&text, path, overrides)
}

/// As [`load`], from the text of an experiment file; `path` names it in messages, and data
/// files are resolved against its folder.
pub fn load_str(text: &str, path: &Path, overrides: &[String]) -> Result<Loaded, ExperimentError> {
    if text.trim().is_empty()
        || text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return Err(ExperimentError::file(
            path,
            "the file is empty; an experiment needs at least `problems`, `train` and `optimizers`",
        ));
    }
    let mut doc = yaml::parse(text).map_err(|e| ExperimentError {
        file: path.to_path_buf(),
        position: e.position,
        entry: None,
        key: None,
        message: format!("this is not valid YAML: {}", e.message),
    })?;
    let mut applied = Vec::new();
    for o in overrides {
        let p = apply_override(&mut doc.value, o).map_err(|message| ExperimentError {
            file: path.to_path_buf(),
            position: None,
            entry: Some(format!("--set {o}")),
            key: None,
            message,
        })?;
        applied.push((p, o.clone()));
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "experiment".into());
    let cx = Cx {
        file: path,
        base_dir: path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
        doc: &doc,
        overrides: &applied,
    };
    let exp = Experiment::from_value(&doc.value, &stem).map_err(|i| cx.issue(i))?;
    let mut resolved = doc.value.clone();
    if let Value::Object(m) = &mut resolved {
        m.insert("name".into(), json!(exp.name));
    }
    let (plan_runs, warnings) = cx.expand(&exp)?;
    Ok(Loaded {
        plan: Plan {
            experiment: exp.name.clone(),
            seeds: exp.seeds.clone(),
            resolved_yaml: yaml::to_string(&resolved),
            runs: plan_runs,
        },
        warnings,
    })
}

// ---------------------------------------------------------------------------------------------
// --set overrides
// ---------------------------------------------------------------------------------------------

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

/// Expands one key's value into its variants (see the module docs).
pub fn expand_value(v: &Value, list_valued: bool) -> Result<Vec<Value>, String> {
    match v {
        Value::Object(m) if m.contains_key("logspace") || m.contains_key("linspace") => space(m),
        Value::Object(m) => {
            let mut out = vec![Map::new()];
            for (k, child) in m {
                let vals = expand_value(child, LIST_VALUED_KEYS.contains(&k.as_str()))
                    .map_err(|e| format!("`{k}`: {e}"))?;
                if out.len().saturating_mul(vals.len()) > MAX_RUNS {
                    return Err(format!("more than {MAX_RUNS} variants"));
                }
                out = out
                    .into_iter()
                    .flat_map(|m| {
                        vals.iter().map(move |x| {
                            let mut m = m.clone();
                            m.insert(k.clone(), x.clone());
                            m
                        })
                    })
                    .collect();
            }
            Ok(out.into_iter().map(Value::Object).collect())
        }
        Value::Array(items) if list_valued => {
            let lists = items.iter().filter(|x| x.is_array()).count();
            if lists == 0 {
                Ok(vec![v.clone()])
            } else if lists == items.len() {
                Ok(items.clone())
            } else {
                Err("mixes lists and single values; write a list of lists for several variants (e.g. `[[32], [64, 64]]`) or one list for one value (e.g. `[64, 64]`)".into())
            }
        }
        Value::Array(items) => {
            if items.is_empty() {
                return Err("is an empty list; an axis needs at least one value".into());
            }
            let mut out = Vec::new();
            for item in items {
                match item {
                    Value::Object(_) => out.extend(expand_value(item, false)?),
                    _ => out.push(item.clone()),
                }
            }
            Ok(out)
        }
        _ => Ok(vec![v.clone()]),
    }
}

/// Rounds to 12 significant digits (exact ends are set by the caller).
fn round12(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{x:.11e}").parse().unwrap_or(x)
}

fn number(x: f64, integral: bool) -> Value {
    if integral && x.fract() == 0.0 && x.abs() < 9.0e15 {
        #[allow(clippy::cast_possible_truncation)]
        return json!(x as i64);
    }
    json!(x)
}

fn space(m: &Map<String, Value>) -> Result<Vec<Value>, String> {
    let kind = if m.contains_key("logspace") {
        "logspace"
    } else {
        "linspace"
    };
    let example = format!("`{{{kind}: [1.0e-4, 1.0e-1], num: 4}}`");
    for k in m.keys() {
        if k != kind && k != "num" {
            return Err(format!(
                "`{kind}` takes only `{kind}: [start, end]` and `num`, found `{k}`{}; e.g. {example}",
                suggest(k, ["num", kind])
            ));
        }
    }
    let ends = m[kind]
        .as_array()
        .filter(|a| a.len() == 2 && a.iter().all(Value::is_number))
        .ok_or_else(|| format!("`{kind}` must be two numbers [start, end], e.g. {example}"))?;
    let (a, b) = (
        ends[0].as_f64().unwrap_or(f64::NAN),
        ends[1].as_f64().unwrap_or(f64::NAN),
    );
    let num = match m.get("num") {
        Some(Value::Number(n)) => n.as_u64().filter(|&n| (1..=100_000).contains(&n)),
        None => None,
        Some(_) => None,
    }
    .ok_or_else(|| {
        format!("`{kind}` needs `num`, the number of values (an integer ≥ 1), e.g. {example}")
    })?;
    if num == 1 {
        #[allow(clippy::float_cmp)]
        if a != b {
            return Err(format!(
                "`num: 1` gives one value, but start {a} and end {b} differ; use num ≥ 2 or a single value"
            ));
        }
    }
    let integral = kind == "linspace" && ends.iter().all(|e| e.is_i64() || e.is_u64());
    if kind == "logspace" && (a <= 0.0 || b <= 0.0) {
        return Err(format!(
            "`logspace` ends are the values themselves (not exponents) and must be > 0, found [{a}, {b}]; e.g. {example}"
        ));
    }
    let n = num as usize;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let x = if i == 0 {
            a
        } else if i + 1 == n {
            b
        } else {
            #[allow(clippy::cast_precision_loss)]
            let t = i as f64 / (n - 1) as f64;
            if kind == "logspace" {
                round12(10f64.powf(a.log10() + t * (b.log10() - a.log10())))
            } else {
                round12(a + t * (b - a))
            }
        };
        out.push(number(x, integral));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Variants
// ---------------------------------------------------------------------------------------------

/// One combination of an entry's keys, with the path each key came from (for messages).
#[derive(Clone, Debug, Default)]
struct Variant {
    keys: Map<String, Value>,
    sources: BTreeMap<String, KeyPath>,
}

struct ProblemVariant {
    entry: usize,
    spec: ProblemSpec,
    config: ProblemConfig,
    sources: BTreeMap<String, KeyPath>,
}

struct TrainVariant {
    spec: TrainSpec,
    view: Map<String, Value>,
    sources: BTreeMap<String, KeyPath>,
}

struct OptimizerVariant {
    spec: OptimizerSpec,
}

struct Cell<'a> {
    problem: &'a ProblemVariant,
    train: &'a TrainVariant,
    optimizer: &'a OptimizerVariant,
}

/// Context for messages: the file, its positions, the overrides applied.
struct Cx<'a> {
    file: &'a Path,
    base_dir: PathBuf,
    doc: &'a Document,
    overrides: &'a [(KeyPath, String)],
}

impl Cx<'_> {
    fn issue(&self, i: Issue) -> ExperimentError {
        self.error(&i.path, i.message)
    }

    /// An error about the node at `path`: entry and key from the path, position from the text
    /// (none when the value came from `--set`).
    fn error(&self, path: &KeyPath, message: impl Into<String>) -> ExperimentError {
        let message = message.into();
        let segs = &path.0;
        let (entry, key_start) = match segs.as_slice() {
            [Seg::Key(list), Seg::Index(i), ..] if list == "problems" || list == "optimizers" => {
                let item = &self.doc.value[list.as_str()][*i];
                let name = item
                    .get("name")
                    .and_then(Value::as_str)
                    .or_else(|| item.as_str());
                let e = match name {
                    Some(n) => format!("{list}[{i}] ({n})"),
                    None => format!("{list}[{i}]"),
                };
                (Some(e), 2)
            }
            [Seg::Key(k), Seg::Index(i), ..] => (Some(format!("{k}[{i}]")), 2),
            [Seg::Key(k), ..] => (Some(k.clone()), 1),
            _ => (None, 0),
        };
        let key = (segs.len() > key_start).then(|| KeyPath(segs[key_start..].to_vec()).to_string());
        let key = key.map(|k| k.trim_start_matches('.').to_string());
        if let Some((_, o)) = self.overrides.iter().find(|(p, _)| path.starts_with(p)) {
            return ExperimentError {
                file: self.file.to_path_buf(),
                position: None,
                entry: Some(match entry {
                    Some(e) => format!("{e} (set by --set {o})"),
                    None => format!("--set {o}"),
                }),
                key,
                message,
            };
        }
        ExperimentError {
            file: self.file.to_path_buf(),
            position: self.doc.locate(path),
            entry,
            key,
            message,
        }
    }

    fn expand(&self, exp: &Experiment) -> Result<(Vec<RunSpec>, Vec<String>), ExperimentError> {
        let mut warnings = Vec::new();
        let problems = self.problem_variants(exp)?;
        let trains = self.train_variants(exp)?;
        let optimizers = self.optimizer_variants(exp)?;
        let rules = self.exclude_rules(exp, &problems, &optimizers)?;

        let total = problems
            .len()
            .saturating_mul(trains.len())
            .saturating_mul(optimizers.len());
        if total.saturating_mul(exp.seeds.len()) > MAX_RUNS {
            return Err(self.error(
                &KeyPath::root().key("optimizers"),
                format!(
                    "the grid has {total} cells × {} seeds, more than {MAX_RUNS} runs; shrink an axis",
                    exp.seeds.len()
                ),
            ));
        }

        let mut cells = Vec::new();
        let mut matched = vec![0usize; rules.len()];
        for p in &problems {
            for t in &trains {
                for o in &optimizers {
                    let cell = Cell {
                        problem: p,
                        train: t,
                        optimizer: o,
                    };
                    let view = cell_view(&cell);
                    let mut excluded = false;
                    for (r, rule) in rules.iter().enumerate() {
                        if rule.matches(&view) {
                            matched[r] += 1;
                            excluded = true;
                        }
                    }
                    if !excluded {
                        cells.push(cell);
                    }
                }
            }
        }
        for (r, n) in matched.iter().enumerate() {
            if *n == 0 {
                let path = KeyPath::root().key("exclude").index(rules[r].index);
                warnings.push(self.error(&path, "this rule matches no cell").to_string());
            }
        }
        if cells.is_empty() {
            let path = if rules.is_empty() {
                KeyPath::root()
            } else {
                KeyPath::root().key("exclude")
            };
            return Err(self.error(
                &path,
                "every cell is excluded, so there is nothing to run; loosen the `exclude` rules",
            ));
        }

        self.check_batch_sizes(&cells)?;

        // Ids, labels, runs.
        let labels = labels(&cells);
        let mut runs = Vec::with_capacity(cells.len() * exp.seeds.len());
        let mut seen = BTreeSet::new();
        let mut duplicates = 0usize;
        for (cell, label) in cells.iter().zip(labels) {
            // `train.eval_train_examples` applies to problems on data that do not set it.
            let mut pspec = cell.problem.spec.clone();
            if let Some(n) = cell.train.spec.eval_train_examples {
                if !cell.problem.sources.contains_key(EVAL_TRAIN_EXAMPLES)
                    && pspec.params.contains_key(EVAL_TRAIN_EXAMPLES)
                {
                    pspec.params.insert(EVAL_TRAIN_EXAMPLES.into(), json!(n));
                }
            }
            let problem = json!({"name": pspec.name, "params": pspec.params});
            // The data seed ignores how the train loss is evaluated.
            let mut data_params = pspec.params.clone();
            data_params.remove(EVAL_TRAIN_EXAMPLES);
            let data_problem = json!({"name": pspec.name, "params": data_params});
            let optimizer = json!({
                "name": cell.optimizer.spec.name,
                "hparams": cell.optimizer.spec.hparams,
                "schedule": cell.optimizer.spec.schedule,
            });
            let train = serde_json::to_value(&cell.train.spec).unwrap_or(Value::Null);
            let cell_json = json!({
                "v": ID_VERSION,
                "experiment_seed": exp.seed,
                "problem": problem,
                "optimizer": optimizer,
                "train": train,
            });
            let cell_id = hash_hex(&cell_json);
            if !seen.insert(cell_id.clone()) {
                duplicates += 1;
                continue;
            }
            for &seed in &exp.seeds {
                let mut run_json = cell_json.clone();
                run_json["seed"] = json!(seed);
                let data_json = json!({
                    "v": ID_VERSION,
                    "experiment_seed": exp.seed,
                    "problem": data_problem,
                    "seed": seed,
                });
                runs.push(RunSpec {
                    run_id: hash_hex(&run_json),
                    cell_id: cell_id.clone(),
                    label: label.clone(),
                    problem: pspec.clone(),
                    optimizer: cell.optimizer.spec.clone(),
                    train: cell.train.spec.clone(),
                    seed,
                    data_seed: hash_u64(&data_json),
                });
            }
        }
        if duplicates > 0 {
            warnings.push(format!(
                "{}: {duplicates} cell(s) appear twice in the grid (the same problem, train and optimizer settings); each runs once",
                self.file.display()
            ));
        }
        Ok((runs, warnings))
    }

    /// Crosses an entry's keys and zip groups.
    fn variants(
        &self,
        entry: &Entry,
        extra: &[(String, Value, KeyPath)],
        list_valued: &dyn Fn(&str) -> bool,
    ) -> Result<Vec<Variant>, ExperimentError> {
        let mut out = vec![Variant::default()];
        let mut keys: Vec<(String, Value, KeyPath)> = entry
            .keys
            .iter()
            .map(|(k, v)| (k.clone(), v.clone(), entry.path.key(k)))
            .collect();
        for (k, v, p) in extra {
            if !entry.keys.contains_key(k) && !entry.zip.iter().any(|g| g.keys.contains_key(k)) {
                keys.push((k.clone(), v.clone(), p.clone()));
            }
        }
        for (k, v, p) in keys {
            let vals = expand_value(&v, list_valued(&k))
                .map_err(|m| self.error(&p, format!("`{k}` {m}")))?;
            if out.len().saturating_mul(vals.len()) > MAX_RUNS {
                return Err(self.error(&p, format!("the grid has more than {MAX_RUNS} variants")));
            }
            out = out
                .into_iter()
                .flat_map(|var| {
                    vals.iter().map({
                        let k = k.clone();
                        let p = p.clone();
                        move |x| {
                            let mut var = var.clone();
                            var.keys.insert(k.clone(), x.clone());
                            var.sources.insert(k.clone(), p.clone());
                            var
                        }
                    })
                })
                .collect();
        }
        for g in &entry.zip {
            let mut next = Vec::with_capacity(out.len() * g.len);
            for var in &out {
                for i in 0..g.len {
                    let mut var = var.clone();
                    for (k, list) in &g.keys {
                        var.keys.insert(k.clone(), list[i].clone());
                        var.sources.insert(k.clone(), g.path.key(k));
                    }
                    next.push(var);
                }
            }
            out = next;
        }
        Ok(out)
    }

    fn problem_variants(&self, exp: &Experiment) -> Result<Vec<ProblemVariant>, ExperimentError> {
        let mut out = Vec::new();
        for (e, entry) in exp.problems.iter().enumerate() {
            let Some(specs) = optbench_models::problem_keys(&entry.name) else {
                return Err(self.error(
                    &entry.path.key("name"),
                    format!(
                        "unknown problem `{}`{}; valid problems: {}",
                        entry.name,
                        suggest(&entry.name, optbench_models::PROBLEM_NAMES.iter().copied()),
                        optbench_models::PROBLEM_NAMES.join(", ")
                    ),
                ));
            };
            let list_valued = |k: &str| {
                LIST_VALUED_KEYS.contains(&k)
                    || specs.iter().any(|s| s.name == k && s.default.is_array())
            };
            for var in self.variants(entry, &[], &list_valued)? {
                let config = ProblemConfig::from_json(&entry.name, &var.keys)
                    .map_err(|err| self.model_error(entry, &var, &err))?;
                out.push(ProblemVariant {
                    entry: e,
                    spec: ProblemSpec {
                        name: entry.name.clone(),
                        params: config.to_json(),
                    },
                    config,
                    sources: var.sources,
                });
            }
        }
        Ok(out)
    }

    /// Where a models-crate error points: the problem key, or the dataset's key.
    fn model_error(&self, entry: &Entry, var: &Variant, err: &ModelError) -> ExperimentError {
        let dataset_path = var
            .sources
            .get("dataset")
            .cloned()
            .unwrap_or_else(|| entry.path.key("dataset"));
        let dataset_is_map = var.keys.get("dataset").is_some_and(Value::is_object);
        let owner_path = |owner: &str| {
            if owner == entry.name {
                entry.path.clone()
            } else {
                dataset_path.clone()
            }
        };
        let path = match err {
            ModelError::UnknownDataset { .. } if dataset_is_map => dataset_path.key("name"),
            ModelError::UnknownDataset { .. } => dataset_path.clone(),
            ModelError::UnknownKey { owner, key, .. }
            | ModelError::WrongType { owner, key, .. }
            | ModelError::OutOfRange { owner, key, .. } => {
                if owner == &entry.name {
                    var.sources
                        .get(key)
                        .cloned()
                        .unwrap_or_else(|| entry.path.key(key))
                } else if dataset_is_map {
                    dataset_path.key(key)
                } else {
                    dataset_path.clone()
                }
            }
            ModelError::MissingKey { owner, .. } => owner_path(owner),
            ModelError::Io { .. } | ModelError::Malformed { .. } => {
                if dataset_is_map {
                    dataset_path.key("path")
                } else {
                    dataset_path.clone()
                }
            }
            _ => entry.path.clone(),
        };
        let mut message = err.to_string();
        if let ModelError::MissingKey { key, .. } = err {
            if key == "dataset" {
                message.push_str("; add e.g. `dataset: iris` or `dataset: {name: synthetic_classification, samples: 1000}`");
            }
        }
        self.error(&path, message)
    }

    fn train_variants(&self, exp: &Experiment) -> Result<Vec<TrainVariant>, ExperimentError> {
        let root = KeyPath::root().key("train");
        let entry = Entry {
            path: root.clone(),
            name: "train".into(),
            keys: exp.train.clone(),
            zip: Vec::new(),
        };
        for k in exp.train.keys() {
            if !TRAIN_KEYS.contains(&k.as_str()) {
                return Err(self.error(
                    &root.key(k),
                    format!(
                        "unknown key `{k}`{}; valid keys: {}",
                        suggest(k, TRAIN_KEYS.iter().copied()),
                        TRAIN_KEYS.join(", ")
                    ),
                ));
            }
        }
        let mut out = Vec::new();
        for var in self.variants(&entry, &[], &|_| false)? {
            let at = |k: &str| var.sources.get(k).cloned().unwrap_or_else(|| root.key(k));
            let get = |k: &str| var.keys.get(k).filter(|v| !v.is_null());
            let budget = match (get("epochs"), get("steps")) {
                (Some(_), Some(_)) => {
                    return Err(
                        self.error(&at("steps"), "give either `epochs` or `steps`, not both")
                    );
                }
                (Some(v), None) => Budget::Epochs(self.count(&at("epochs"), "epochs", v, 1)?),
                (None, Some(v)) => Budget::Steps(self.count(&at("steps"), "steps", v, 1)?),
                (None, None) => {
                    return Err(self.error(
                        &root,
                        "`train` needs `epochs` or `steps`, e.g. `train: {steps: 1000}`",
                    ));
                }
            };
            let batch_size = match get("batch_size") {
                None => BatchSize::Full,
                Some(Value::String(s)) if s == "full" => BatchSize::Full,
                Some(v) => {
                    let n = self.count(&at("batch_size"), "batch_size", v, 1).map_err(|e| {
                        if v.as_u64() == Some(0) {
                            self.error(
                                &at("batch_size"),
                                "`batch_size` is 0; use a number of examples ≥ 1 (1 is SGD) or `full` (gradient descent)",
                            )
                        } else if v.is_string() {
                            self.error(
                                &at("batch_size"),
                                format!(
                                    "`batch_size` must be `full` or a number of examples, found {}{}",
                                    describe_value(v),
                                    suggest(v.as_str().unwrap_or(""), ["full"])
                                ),
                            )
                        } else {
                            e
                        }
                    })?;
                    BatchSize::Examples(usize::try_from(n).unwrap_or(usize::MAX))
                }
            };
            let eval_every = match get("eval_every") {
                None => DEFAULT_EVAL_EVERY,
                Some(v) => self.count(&at("eval_every"), "eval_every", v, 1)?,
            };
            let eval_train_examples = match get("eval_train_examples") {
                None => None,
                Some(v) => Some(
                    usize::try_from(self.count(
                        &at("eval_train_examples"),
                        "eval_train_examples",
                        v,
                        1,
                    )?)
                    .unwrap_or(usize::MAX),
                ),
            };
            let positive = |k: &str| -> Result<Option<f64>, ExperimentError> {
                match get(k) {
                    None => Ok(None),
                    Some(v) => match v.as_f64() {
                        Some(x) if x > 0.0 && x.is_finite() => Ok(Some(x)),
                        _ => Err(self.error(
                            &at(k),
                            format!("`{k}` must be a number > 0, found {}", describe_value(v)),
                        )),
                    },
                }
            };
            let spec = TrainSpec {
                budget,
                batch_size,
                eval_every,
                eval_train_examples,
                clip_grad_norm: positive("clip_grad_norm")?,
                clip_grad_value: positive("clip_grad_value")?,
            };
            let mut view = Map::new();
            match budget {
                Budget::Epochs(n) => view.insert("epochs".into(), json!(n)),
                Budget::Steps(n) => view.insert("steps".into(), json!(n)),
            };
            view.insert("batch_size".into(), batch_json(batch_size));
            view.insert("eval_every".into(), json!(eval_every));
            view.insert("eval_train_examples".into(), json!(eval_train_examples));
            view.insert("clip_grad_norm".into(), json!(spec.clip_grad_norm));
            view.insert("clip_grad_value".into(), json!(spec.clip_grad_value));
            out.push(TrainVariant {
                spec,
                view,
                sources: var.sources,
            });
        }
        Ok(out)
    }

    /// An integer ≥ `min` (integral floats such as `1e3` accepted).
    fn count(
        &self,
        path: &KeyPath,
        key: &str,
        v: &Value,
        min: u64,
    ) -> Result<u64, ExperimentError> {
        let n = v.as_u64().or_else(|| {
            v.as_f64()
                .filter(|x| x.fract() == 0.0 && *x >= 0.0 && *x < 9.0e15)
                .map(|x| {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let n = x as u64;
                    n
                })
        });
        match n {
            Some(n) if n >= min => Ok(n),
            _ => Err(self.error(
                path,
                format!(
                    "`{key}` must be an integer ≥ {min}, found {}",
                    describe_value(v)
                ),
            )),
        }
    }

    fn optimizer_variants(
        &self,
        exp: &Experiment,
    ) -> Result<Vec<OptimizerVariant>, ExperimentError> {
        let mut extra = Vec::new();
        if let Some(s) = &exp.schedule {
            extra.push((
                "schedule".to_string(),
                s.clone(),
                KeyPath::root().key("schedule"),
            ));
        }
        let mut out = Vec::new();
        for entry in &exp.optimizers {
            let Some(defaults) = catalog::optimizer_defaults(&entry.name) else {
                return Err(self.error(
                    &entry.path.key("name"),
                    format!(
                        "unknown optimizer `{}`{}; valid optimizers: {}",
                        entry.name,
                        suggest(&entry.name, catalog::optimizer_names().iter().copied()),
                        catalog::optimizer_names().join(", ")
                    ),
                ));
            };
            let list_valued = |k: &str| {
                LIST_VALUED_KEYS.contains(&k) || defaults.get(k).is_some_and(Value::is_array)
            };
            for mut var in self.variants(entry, &extra, &list_valued)? {
                let schedule = var.keys.remove("schedule").filter(|v| !v.is_null());
                let sched_path = var.sources.get("schedule").cloned();
                let hparams =
                    catalog::optimizer_canonical(&entry.name, &var.keys).map_err(|err| {
                        let key = catalog::error_key(&err);
                        let path = key
                            .and_then(|k| var.sources.get(&k).cloned())
                            .unwrap_or_else(|| entry.path.clone());
                        self.error(&path, catalog::describe(&err))
                    })?;
                let schedule = match schedule {
                    None => None,
                    Some(s) => Some(catalog::schedule_canonical(&s).map_err(|err| {
                        let base = sched_path
                            .clone()
                            .unwrap_or_else(|| entry.path.key("schedule"));
                        let path = match catalog::error_key(&err) {
                            Some(k) if s.is_object() && k != "schedule" => base.key(&k),
                            _ => base,
                        };
                        self.error(&path, catalog::describe(&err))
                    })?),
                };
                out.push(OptimizerVariant {
                    spec: OptimizerSpec {
                        name: entry.name.clone(),
                        hparams,
                        schedule,
                    },
                });
            }
        }
        Ok(out)
    }

    fn exclude_rules(
        &self,
        exp: &Experiment,
        problems: &[ProblemVariant],
        optimizers: &[OptimizerVariant],
    ) -> Result<Vec<Rule>, ExperimentError> {
        let problem_keys: BTreeSet<String> = problems
            .iter()
            .flat_map(|p| p.spec.params.keys().cloned())
            .collect();
        let optimizer_keys: BTreeSet<String> = optimizers
            .iter()
            .flat_map(|o| o.spec.hparams.keys().cloned())
            .chain(["schedule".to_string()])
            .collect();
        let mut rules = Vec::new();
        for (i, m) in exp.exclude.iter().enumerate() {
            let rpath = KeyPath::root().key("exclude").index(i);
            let mut conds = Vec::new();
            for (k, pattern) in m {
                let p = rpath.key(k);
                let parts: Vec<&str> = k.split('.').collect();
                let (lookup, known): (Vec<String>, bool) = match parts.as_slice() {
                    ["problem"] => (vec!["problem".into(), "name".into()], true),
                    ["optimizer"] => (vec!["optimizer".into(), "name".into()], true),
                    ["dataset"] => (
                        vec!["problem".into(), "dataset".into(), "name".into()],
                        true,
                    ),
                    ["problem", rest @ ..] if !rest.is_empty() => {
                        let ok = rest[0] == "name" || problem_keys.contains(rest[0]);
                        if !ok {
                            return Err(self.error(
                                &p,
                                format!(
                                    "no problem of this experiment has the key `{}`{}; valid: {}",
                                    rest[0],
                                    suggest(rest[0], problem_keys.iter().map(String::as_str)),
                                    problem_keys.iter().cloned().collect::<Vec<_>>().join(", ")
                                ),
                            ));
                        }
                        (
                            std::iter::once("problem")
                                .chain(rest.iter().copied())
                                .map(String::from)
                                .collect(),
                            true,
                        )
                    }
                    ["optimizer", rest @ ..] if !rest.is_empty() => {
                        let ok = rest[0] == "name" || optimizer_keys.contains(rest[0]);
                        if !ok {
                            return Err(self.error(
                                &p,
                                format!(
                                    "no optimizer of this experiment has the hyperparameter `{}`{}; valid: {}",
                                    rest[0],
                                    suggest(rest[0], optimizer_keys.iter().map(String::as_str)),
                                    optimizer_keys.iter().cloned().collect::<Vec<_>>().join(", ")
                                ),
                            ));
                        }
                        (
                            std::iter::once("optimizer")
                                .chain(rest.iter().copied())
                                .map(String::from)
                                .collect(),
                            true,
                        )
                    }
                    ["train", key] if TRAIN_KEYS.contains(key) => {
                        (vec!["train".into(), (*key).into()], true)
                    }
                    ["train", key] => {
                        return Err(self.error(
                            &p,
                            format!(
                                "`train` has no key `{key}`{}; valid keys: {}",
                                suggest(key, TRAIN_KEYS.iter().copied()),
                                TRAIN_KEYS.join(", ")
                            ),
                        ));
                    }
                    _ => (Vec::new(), false),
                };
                if !known {
                    let valid = [
                        "problem",
                        "dataset",
                        "optimizer",
                        "problem.<key>",
                        "train.<key>",
                        "optimizer.<key>",
                    ];
                    let mut candidates: Vec<String> =
                        vec!["problem".into(), "dataset".into(), "optimizer".into()];
                    candidates.extend(TRAIN_KEYS.iter().map(|t| format!("train.{t}")));
                    candidates.extend(problem_keys.iter().map(|t| format!("problem.{t}")));
                    candidates.extend(optimizer_keys.iter().map(|t| format!("optimizer.{t}")));
                    return Err(self.error(
                        &p,
                        format!(
                            "`{k}` is not a key an exclude rule can match{}; use {}",
                            suggest(k, candidates.iter().map(String::as_str)),
                            valid.join(", ")
                        ),
                    ));
                }
                let list_valued = lookup
                    .last()
                    .is_some_and(|l| LIST_VALUED_KEYS.contains(&l.as_str()));
                conds.push(Condition {
                    lookup,
                    pattern: pattern.clone(),
                    list_valued,
                });
            }
            rules.push(Rule { index: i, conds });
        }
        Ok(rules)
    }

    /// Batch sizes larger than the training set are errors (on the pair, with the fix).
    fn check_batch_sizes(&self, cells: &[Cell<'_>]) -> Result<(), ExperimentError> {
        let mut lens: HashMap<String, usize> = HashMap::new();
        let mut data: HashMap<String, std::sync::Arc<optbench_models::Dataset>> = HashMap::new();
        let mut built: BTreeSet<String> = BTreeSet::new();
        for cell in cells {
            let p = cell.problem;
            let key = Value::Object(p.spec.params.clone()).to_string();
            if !lens.contains_key(&key) {
                let n = self.train_len(p, &mut data, &mut built)?;
                lens.insert(key.clone(), n);
            }
            let n = lens.get(&key).copied().unwrap_or(usize::MAX);
            if let BatchSize::Examples(b) = cell.train.spec.batch_size {
                if b > n {
                    let path = cell
                        .train
                        .sources
                        .get("batch_size")
                        .cloned()
                        .unwrap_or_else(|| KeyPath::root().key("train").key("batch_size"));
                    let what = match p.config.dataset() {
                        Some(d) => format!("dataset `{}`", d.name()),
                        None => format!("problem `{}`", p.spec.name),
                    };
                    return Err(self.error(
                        &path,
                        format!(
                            "batch size {b} is larger than the training set of {what} in problems[{}] ({n} example{}); use a smaller batch size or `full`, or exclude the pair with `exclude: [{{problem: {}, train.batch_size: {b}}}]`",
                            p.entry,
                            if n == 1 { "" } else { "s" },
                            p.spec.name
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The number of training examples of a problem variant: 1 for analytic problems; for data,
    /// the dataset is loaded (once per dataset) and split as the models crate splits it, and the
    /// problem is built once per (problem, dataset) to catch incompatibilities (e.g. logistic
    /// regression on three classes) before anything runs.
    fn train_len(
        &self,
        p: &ProblemVariant,
        data: &mut HashMap<String, std::sync::Arc<optbench_models::Dataset>>,
        built: &mut BTreeSet<String>,
    ) -> Result<usize, ExperimentError> {
        let Some(ds) = p.config.dataset() else {
            return Ok(1);
        };
        let entry_path = KeyPath::root().key("problems").index(p.entry);
        let ds_path = p
            .sources
            .get("dataset")
            .cloned()
            .unwrap_or_else(|| entry_path.key("dataset"));
        let ds_is_map = p.spec.params.get("dataset").is_some_and(Value::is_object);
        let load_key = ds.load_key(0);
        let d = match data.get(&load_key) {
            Some(d) => d.clone(),
            None => {
                let d = optbench_models::load_dataset(ds, 0, &self.base_dir).map_err(|e| {
                    let path = match &e {
                        ModelError::Io { .. } | ModelError::Malformed { .. } if ds_is_map => {
                            ds_path.key("path")
                        }
                        _ => ds_path.clone(),
                    };
                    self.error(&path, format!("cannot load dataset `{}`: {e}", ds.name()))
                })?;
                data.insert(load_key.clone(), d.clone());
                d
            }
        };
        let build_key = format!(
            "{}|{}|{:?}",
            p.spec.name,
            load_key,
            p.spec.params.get("loss")
        );
        if built.insert(build_key) {
            optbench_models::build_problem(&p.config, Some(d.clone()), 0)
                .map_err(|e| self.error(&entry_path, e.to_string()))?;
        }
        Ok(split_train_len(d.len(), ds.test_fraction()))
    }
}

/// Training examples after the models crate's split: `round(n · test_fraction)` test examples,
/// at least 1 when `test_fraction > 0`, leaving at least 1 for training.
fn split_train_len(n: usize, test_fraction: f64) -> usize {
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let mut n_test = (n as f64 * test_fraction).round() as usize;
    if test_fraction > 0.0 && n_test == 0 {
        n_test = 1;
    }
    n_test = n_test.min(n.saturating_sub(1));
    n - n_test
}

fn batch_json(b: BatchSize) -> Value {
    match b {
        BatchSize::Full => json!("full"),
        BatchSize::Examples(n) => json!(n),
    }
}

/// The cell as exclude rules see it.
fn cell_view(cell: &Cell<'_>) -> Value {
    let mut problem = cell.problem.spec.params.clone();
    problem.insert("name".into(), json!(cell.problem.spec.name));
    let mut optimizer = cell.optimizer.spec.hparams.clone();
    optimizer.insert("name".into(), json!(cell.optimizer.spec.name));
    optimizer.insert(
        "schedule".into(),
        cell.optimizer.spec.schedule.clone().unwrap_or(Value::Null),
    );
    json!({"problem": problem, "optimizer": optimizer, "train": cell.train.view})
}

struct Rule {
    index: usize,
    conds: Vec<Condition>,
}

struct Condition {
    lookup: Vec<String>,
    pattern: Value,
    list_valued: bool,
}

impl Rule {
    fn matches(&self, view: &Value) -> bool {
        self.conds.iter().all(|c| {
            let mut node = view;
            for k in &c.lookup {
                match node.get(k.as_str()) {
                    Some(n) => node = n,
                    None => return false,
                }
            }
            pattern_matches(&c.pattern, node, c.list_valued)
        })
    }
}

/// Whether `actual` matches `pattern`: numbers within a relative 1e-9, a mapping pattern matches
/// when all its keys match, a string matches a mapping's `name`, and a list where a scalar is
/// expected (or a list of lists for a list-valued key) matches any of its values.
fn pattern_matches(pattern: &Value, actual: &Value, list_valued: bool) -> bool {
    match (pattern, actual) {
        (Value::Array(options), _)
            if !list_valued || options.iter().all(Value::is_array) && !options.is_empty() =>
        {
            if list_valued || !actual.is_array() {
                return options.iter().any(|o| pattern_matches(o, actual, false));
            }
            values_equal(pattern, actual)
        }
        (Value::Object(p), Value::Object(a)) => p.iter().all(|(k, pv)| {
            a.get(k)
                .is_some_and(|av| pattern_matches(pv, av, LIST_VALUED_KEYS.contains(&k.as_str())))
        }),
        (Value::String(s), Value::Object(a)) => a.get("name").and_then(Value::as_str) == Some(s),
        _ => values_equal(pattern, actual),
    }
}

fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            (x - y).abs() <= 1e-9 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| values_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

// ---------------------------------------------------------------------------------------------
// Labels and hashes
// ---------------------------------------------------------------------------------------------

/// A number as it reads in a label: `0.001`, `1e-5`, `100`.
pub fn fmt_number(x: f64) -> String {
    if x != 0.0 && (x.abs() < 1e-3 || x.abs() >= 1e6) {
        format!("{x:e}")
    } else {
        format!("{x}")
    }
}

fn fmt_value(v: &Value) -> String {
    match v {
        Value::Number(n) => n
            .as_i64()
            .map(|i| i.to_string())
            .unwrap_or_else(|| fmt_number(n.as_f64().unwrap_or(f64::NAN))),
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(fmt_value).collect::<Vec<_>>().join(",")
        ),
        Value::Null => "none".into(),
        other => other.to_string(),
    }
}

/// Labels: the optimizer's name, `lr`, then every hyperparameter that differs from its default
/// or varies among the cells of that optimizer; the schedule's name (and its keys that vary);
/// then train keys that vary across the grid (`bs=32` for the batch size).
fn labels(cells: &[Cell<'_>]) -> Vec<String> {
    let mut varying: HashMap<&str, BTreeSet<String>> = HashMap::new();
    let mut first: HashMap<&str, &OptimizerSpec> = HashMap::new();
    for c in cells {
        let o = &c.optimizer.spec;
        let f = *first.entry(o.name.as_str()).or_insert(o);
        let set = varying.entry(o.name.as_str()).or_default();
        for (k, v) in &o.hparams {
            if f.hparams.get(k).is_none_or(|w| !values_equal(v, w)) {
                set.insert(k.clone());
            }
        }
        if let (Some(Value::Object(a)), Some(Value::Object(b))) = (&o.schedule, &f.schedule) {
            for (k, v) in a {
                if b.get(k).is_none_or(|w| !values_equal(v, w)) {
                    set.insert(format!("schedule.{k}"));
                }
            }
        }
    }
    let train_varying: Vec<String> = TRAIN_KEYS
        .iter()
        .filter(|k| {
            let vals: BTreeSet<String> = cells
                .iter()
                .map(|c| {
                    c.train
                        .view
                        .get(**k)
                        .map(Value::to_string)
                        .unwrap_or_default()
                })
                .collect();
            vals.len() > 1
        })
        .map(|k| (*k).to_string())
        .collect();
    cells
        .iter()
        .map(|c| {
            let o = &c.optimizer.spec;
            let defaults = catalog::optimizer_defaults(&o.name).unwrap_or_default();
            let vary = varying.get(o.name.as_str());
            let mut parts = vec![o.name.clone()];
            if let Some(lr) = o.hparams.get("lr") {
                parts.push(format!("lr={}", fmt_value(lr)));
            }
            for (k, v) in &o.hparams {
                if k == "lr" {
                    continue;
                }
                let non_default = defaults.get(k).is_none_or(|d| !values_equal(v, d));
                if non_default || vary.is_some_and(|s| s.contains(k)) {
                    parts.push(format!("{k}={}", fmt_value(v)));
                }
            }
            if let Some(s) = &o.schedule {
                let name = s.get("name").and_then(Value::as_str).unwrap_or("schedule");
                parts.push(format!("schedule={name}"));
                if let Value::Object(m) = s {
                    for (k, v) in m {
                        if k != "name"
                            && vary.is_some_and(|set| set.contains(&format!("schedule.{k}")))
                        {
                            parts.push(format!("{k}={}", fmt_value(v)));
                        }
                    }
                }
            }
            for k in &train_varying {
                let v = c.train.view.get(k).cloned().unwrap_or(Value::Null);
                let name = if k == "batch_size" { "bs" } else { k.as_str() };
                parts.push(format!("{name}={}", fmt_value(&v)));
            }
            parts.join(" ")
        })
        .collect()
}

/// JSON with keys sorted at every level and no spaces: the text that ids hash.
pub fn canonical_json(v: &Value) -> String {
    fn sorted(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = Map::new();
                for k in keys {
                    out.insert(k.clone(), sorted(&m[k]));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    // With serde_json's default (sorted) maps, `sorted` is the identity; with `preserve_order`
    // it inserts in sorted order.
    sorted(v).to_string()
}

fn hash_hex(v: &Value) -> String {
    let h = blake3::hash(canonical_json(v).as_bytes());
    h.to_hex()[..16].to_string()
}

fn hash_u64(v: &Value) -> u64 {
    let h = blake3::hash(canonical_json(v).as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&h.as_bytes()[..8]);
    u64::from_le_bytes(b)
}

// ---------------------------------------------------------------------------------------------
// The optimizer crate's schemas
// ---------------------------------------------------------------------------------------------

/// The optimizer crate seen from the runner: names, defaults, canonical hyperparameters,
/// schedules, and where an error points.
pub mod catalog {
    use optbench_optim::{OptimError, OptimizerConfig, ScheduleConfig};
    use serde_json::{Map, Value};

    /// Optimizer names, in the README's order.
    pub fn optimizer_names() -> &'static [&'static str] {
        OptimizerConfig::NAMES
    }

    /// torch's defaults of an optimizer, or `None` for an unknown name.
    pub fn optimizer_defaults(name: &str) -> Option<Map<String, Value>> {
        OptimizerConfig::default_for(name).map(|c| c.to_json())
    }

    /// Parses, range-checks and canonicalises hyperparameters.
    pub fn optimizer_canonical(
        name: &str,
        hparams: &Map<String, Value>,
    ) -> Result<Map<String, Value>, OptimError> {
        let cfg = OptimizerConfig::from_json(name, hparams)?;
        cfg.validate()?;
        Ok(cfg.to_json())
    }

    /// Parses, range-checks and canonicalises a schedule.
    pub fn schedule_canonical(v: &Value) -> Result<Value, OptimError> {
        let cfg = ScheduleConfig::from_json(v)?;
        cfg.validate()?;
        Ok(cfg.to_json())
    }

    /// One line on an optimizer (what it is, the paper).
    pub fn optimizer_summary(name: &str) -> Option<&'static str> {
        OptimizerConfig::summary(name)
    }

    /// Each hyperparameter's name and meaning.
    pub fn optimizer_docs(name: &str) -> Vec<(&'static str, &'static str)> {
        OptimizerConfig::hparams(name)
            .unwrap_or_default()
            .iter()
            .map(|h| (h.name, h.doc))
            .collect()
    }

    /// Schedule names.
    pub fn schedule_names() -> &'static [&'static str] {
        optbench_optim::schedule::SCHEDULE_NAMES
    }

    /// The key an error is about (`betas[1]` is about `betas`).
    pub fn error_key(e: &OptimError) -> Option<String> {
        let k = match e {
            OptimError::InvalidHyperparameter { name, .. } => (*name).to_string(),
            OptimError::UnknownKey { key, .. } | OptimError::WrongType { key, .. } => key.clone(),
            OptimError::MissingKey { key, .. } => (*key).to_string(),
            OptimError::UnknownName { kind, .. } if *kind == "schedule" => "name".to_string(),
            _ => return None,
        };
        Some(k.split('[').next().unwrap_or(&k).to_string())
    }

    /// The error as the end of a sentence that starts with the entry.
    pub fn describe(e: &OptimError) -> String {
        match e {
            OptimError::InvalidHyperparameter {
                name,
                value,
                allowed,
                ..
            } => format!("hyperparameter `{name}` = {value} is out of range: it must be {allowed}"),
            other => other.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logspace_and_linspace_include_both_ends_exactly() {
        let v = expand_value(&json!({"logspace": [1.0e-4, 1.0e-1], "num": 4}), false).unwrap();
        let xs: Vec<f64> = v.iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!(xs.len(), 4);
        assert_eq!(xs[0].to_bits(), 1.0e-4_f64.to_bits());
        assert_eq!(xs[3].to_bits(), 1.0e-1_f64.to_bits());
        assert!((xs[1] - 1e-3).abs() < 1e-15 && (xs[2] - 1e-2).abs() < 1e-15);
        assert_eq!(fmt_number(xs[2]), "0.01");
        let v = expand_value(&json!({"linspace": [0.0, 0.9], "num": 4}), false).unwrap();
        let xs: Vec<f64> = v.iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!(xs[3].to_bits(), 0.9_f64.to_bits());
        assert_eq!(fmt_number(xs[1]), "0.3");
        // Integer ends give integers.
        let v = expand_value(&json!({"linspace": [0, 100], "num": 3}), false).unwrap();
        assert_eq!(v, vec![json!(0), json!(50), json!(100)]);
    }

    #[test]
    fn bad_spaces_are_errors() {
        for bad in [
            json!({"logspace": [0.0, 1.0], "num": 3}),
            json!({"logspace": [1.0e-3], "num": 3}),
            json!({"logspace": [1.0e-3, 1.0]}),
            json!({"logspace": [1.0e-3, 1.0], "num": 0}),
            json!({"logspace": [1.0e-3, 1.0], "nm": 3}),
            json!({"linspace": [1, 2], "num": 1}),
        ] {
            assert!(expand_value(&bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn lists_are_axes_except_for_list_valued_keys() {
        assert_eq!(expand_value(&json!([1, 2, 3]), false).unwrap().len(), 3);
        assert_eq!(
            expand_value(&json!([32, 64]), true).unwrap(),
            vec![json!([32, 64])]
        );
        assert_eq!(
            expand_value(&json!([[32], [64, 64]]), true).unwrap().len(),
            2
        );
        assert!(expand_value(&json!([[32], 64]), true).is_err());
        assert!(expand_value(&json!([]), false).is_err());
        assert_eq!(expand_value(&json!([]), true).unwrap(), vec![json!([])]);
        // Mappings expand inside; lists of mappings are axes of them.
        let d = expand_value(&json!({"name": "iris", "test_fraction": [0.2, 0.5]}), false).unwrap();
        assert_eq!(d.len(), 2);
        let s = expand_value(
            &json!([{"name": "constant"}, {"name": "cosine", "warmup_steps": [0, 10]}]),
            false,
        )
        .unwrap();
        assert_eq!(s.len(), 3);
    }

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

    #[test]
    fn patterns() {
        assert!(pattern_matches(&json!(1), &json!(1.0), false));
        assert!(pattern_matches(&json!([1, 32]), &json!(32), false));
        assert!(!pattern_matches(&json!([1, 32]), &json!("full"), false));
        assert!(pattern_matches(&json!([32]), &json!([32]), true));
        assert!(!pattern_matches(&json!([32]), &json!([32, 32]), true));
        assert!(pattern_matches(&json!([[32], [64]]), &json!([64]), true));
        assert!(pattern_matches(
            &json!("iris"),
            &json!({"name": "iris", "x": 1}),
            false
        ));
        assert!(pattern_matches(
            &json!({"name": "iris"}),
            &json!({"name": "iris", "x": 1}),
            false
        ));
        assert!(pattern_matches(&json!(0.1), &json!(0.1 + 1e-17), false));
    }

    #[test]
    fn canonical_json_sorts_keys_and_split_matches_models() {
        let a = json!({"b": 1, "a": {"d": [1, 2], "c": null}});
        assert_eq!(canonical_json(&a), r#"{"a":{"c":null,"d":[1,2]},"b":1}"#);
        assert_eq!(split_train_len(150, 0.2), 120);
        assert_eq!(split_train_len(10, 0.01), 9);
        assert_eq!(split_train_len(2, 0.9), 1);
        assert_eq!(split_train_len(100, 0.0), 100);
    }

    #[test]
    fn number_formats() {
        assert_eq!(fmt_number(0.001), "0.001");
        assert_eq!(fmt_number(1e-5), "1e-5");
        assert_eq!(fmt_number(0.9), "0.9");
        assert_eq!(fmt_value(&json!([0.9, 0.999])), "[0.9,0.999]");
    }
}
