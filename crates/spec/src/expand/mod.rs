//! From an experiment file to a validated [`Plan`]: overrides, grid expansion, validation, ids.
//!
//! # Grid rules (docs/format.md, "Grids")
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
//!   (without `eval_train_examples`, and without a network's `init`: `deepobs` or a weights
//!   file), seed}` — no optimizer or train key, so every optimizer and
//!   batch size of a problem variant sees the same initial point, split and data sample for a
//!   seed (the batch order also depends on the batch size, as it must).
//!
//! `train.eval_train_examples` is copied into the problem's `eval_train_examples` for problems
//! on data that do not set it themselves.
//!
//! The experiment's `name` is deliberately not part of the ids: renaming an experiment, or
//! running the same configuration from two experiment files (a baseline and a candidate),
//! gives the same ids, so results can be resumed, merged and compared.

mod axes;
mod checks;
mod context;
mod exclude;
mod labels;
mod optimizers;
mod overrides;
mod problems;
mod train;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use optbench_models::{ProblemConfig, TableReader, WithoutParquet};
use serde_json::{Value, json};

pub use axes::expand_value;
pub use labels::fmt_number;
pub use optimizers::catalog;
pub use overrides::apply_override;
pub use train::TRAIN_KEYS;

use crate::error::ExperimentError;
use crate::experiment::Experiment;
use crate::ids;
use crate::plan::{Cell, Grid, OptimizerSpec, Plan, ProblemSpec};
use crate::yaml::{self, KeyPath};
use context::Context;
use problems::ProblemVariant;
use train::TrainVariant;

/// Keys whose value is itself a list: a list of lists is their axis.
pub const LIST_VALUED_KEYS: &[&str] = &["hidden", "init", "betas", "milestones", "augment"];

/// The problem key that `train.eval_train_examples` sets.
const EVAL_TRAIN_EXAMPLES: &str = "eval_train_examples";

/// Default of `train.eval_every` (steps between metric records).
pub const DEFAULT_EVAL_EVERY: u64 = 10;

/// More runs than this is almost certainly a mistake in the grid.
pub const MAX_RUNS: usize = 1_000_000;

/// A plan and the warnings found while building it.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub plan: Plan,
    /// E.g. an `exclude` rule that matches nothing.
    pub warnings: Vec<String>,
}

/// Reads, expands and validates an experiment file; `overrides` are `key=value` strings
/// (`--set`); Parquet datasets are read with `tables`. Warnings are printed to stderr. Nothing
/// is written.
pub fn load_plan(
    path: &Path,
    overrides: &[String],
    tables: &dyn TableReader,
) -> Result<Plan, ExperimentError> {
    let loaded = load_with(path, overrides, tables)?;
    for w in &loaded.warnings {
        eprintln!("optbench: warning: {w}");
    }
    Ok(loaded.plan)
}

/// As [`load_plan`], returning the warnings instead of printing them, and without a reader of
/// Parquet datasets (they are an error).
pub fn load(path: &Path, overrides: &[String]) -> Result<Loaded, ExperimentError> {
    load_with(path, overrides, &WithoutParquet)
}

/// As [`load_plan`], returning the warnings instead of printing them.
pub fn load_with(
    path: &Path,
    overrides: &[String],
    tables: &dyn TableReader,
) -> Result<Loaded, ExperimentError> {
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
    load_str_with(&text, path, overrides, tables)
}

/// As [`load`], from the text of an experiment file; `path` names it in messages, and data
/// files are resolved against its folder.
pub fn load_str(text: &str, path: &Path, overrides: &[String]) -> Result<Loaded, ExperimentError> {
    load_str_with(text, path, overrides, &WithoutParquet)
}

/// As [`load_with`], from the text of an experiment file.
pub fn load_str_with(
    text: &str,
    path: &Path,
    overrides: &[String],
    tables: &dyn TableReader,
) -> Result<Loaded, ExperimentError> {
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
    let cx = Context {
        file: path,
        base_dir: path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
        doc: &doc,
        overrides: &applied,
        tables,
    };
    let exp = Experiment::from_value(&doc.value, &stem).map_err(|i| cx.issue(i))?;
    let mut resolved = doc.value.clone();
    if let Value::Object(m) = &mut resolved {
        m.insert("name".into(), json!(exp.name));
    }
    let (grid, warnings) = cx.expand(&exp)?;
    Ok(Loaded {
        plan: Plan::from_grid(
            exp.name.clone(),
            exp.seeds.clone(),
            yaml::to_string(&resolved),
            grid,
        ),
        warnings,
    })
}

impl Context<'_> {
    /// Expands the grid: variants, exclusion, data checks, duplicates, labels.
    fn expand(&self, exp: &Experiment) -> Result<(Grid, Vec<String>), ExperimentError> {
        self.check_size(exp)?;
        let problems = self.problem_variants(exp)?;
        let trains = self.train_variants(exp)?;
        let optimizers: Vec<Arc<OptimizerSpec>> = self
            .optimizer_variants(exp)?
            .into_iter()
            .map(Arc::new)
            .collect();
        let base: Vec<ProblemSpec> = problems
            .iter()
            .map(|p| ProblemSpec::new(p.config.clone()))
            .collect();
        let (cells, mut warnings) = self.cells(exp, &base, &trains, &optimizers)?;
        self.check_data(&problems, &trains, &cells)?;

        let (problem_specs, cells) = effective_problems(&problems, base, &trains, cells)
            .map_err(|m| self.error(&KeyPath::root().key("train"), m))?;
        let train_specs: Vec<_> = trains.iter().map(|t| Arc::new(t.spec.clone())).collect();
        let mut grid = Grid::new(
            exp.seed,
            problem_specs,
            train_specs,
            optimizers,
            cells,
            Vec::new(),
        );
        let duplicates = dedupe(&mut grid);
        if duplicates > 0 {
            warnings.push(format!(
                "{}: {duplicates} cell(s) appear twice in the grid (the same problem, train and optimizer settings); each runs once",
                self.file.display()
            ));
        }
        let label_input: Vec<_> = grid
            .cells
            .iter()
            .map(|c| {
                (
                    grid.optimizers[c.optimizer as usize].as_ref(),
                    &trains[c.train as usize].view,
                )
            })
            .collect();
        grid.labels = labels::labels(&label_input);
        Ok((grid, warnings))
    }

    /// Rejects a grid of more than [`MAX_RUNS`] runs from the lengths of its axes, before any
    /// variant is made or validated.
    fn check_size(&self, exp: &Experiment) -> Result<(), ExperimentError> {
        let mut sums = [0usize; 3];
        for entry in &exp.problems {
            let specs = optbench_models::problem_keys(&entry.name).unwrap_or_default();
            let list_valued = |k: &str| {
                LIST_VALUED_KEYS.contains(&k)
                    || specs.iter().any(|s| s.name == k && s.default.is_array())
            };
            let n = self.variant_count(entry, &[], &list_valued)?;
            sums[0] = sums[0].saturating_add(n);
        }
        let train = crate::experiment::Entry {
            path: KeyPath::root().key("train"),
            name: "train".into(),
            keys: exp.train.clone(),
            zip: Vec::new(),
        };
        sums[1] = self.variant_count(&train, &[], &|_| false)?;
        let extra = self.inherited_schedule(exp);
        for entry in &exp.optimizers {
            let n = self.variant_count(entry, &extra, &|k| LIST_VALUED_KEYS.contains(&k))?;
            sums[2] = sums[2].saturating_add(n);
        }
        let cells = sums[0].saturating_mul(sums[1]).saturating_mul(sums[2]);
        let runs = cells.saturating_mul(exp.seeds.len());
        if runs > MAX_RUNS {
            return Err(self.error(
                &KeyPath::root(),
                format!(
                    "the grid has {} problem × {} train × {} optimizer variants = {cells} cells × {} seeds, more than {MAX_RUNS} runs; shrink an axis or split the experiment",
                    sums[0],
                    sums[1],
                    sums[2],
                    exp.seeds.len()
                ),
            ));
        }
        Ok(())
    }

    /// The cells that no `exclude` rule drops, in plan order, and a warning per rule that
    /// matches nothing.
    fn cells(
        &self,
        exp: &Experiment,
        problems: &[ProblemSpec],
        trains: &[TrainVariant],
        optimizers: &[Arc<OptimizerSpec>],
    ) -> Result<(Vec<Cell>, Vec<String>), ExperimentError> {
        let pviews: Vec<Value> = problems.iter().map(exclude::problem_view).collect();
        let oviews: Vec<Value> = optimizers
            .iter()
            .map(|o| exclude::optimizer_view(o))
            .collect();
        let tviews: Vec<Value> = trains
            .iter()
            .map(|t| Value::Object(t.view.clone()))
            .collect();
        let rules = self.exclude_rules(exp, &pviews, &oviews)?;
        // masks[variant][rule]: whether the rule's keys about this part match the variant.
        let masks = |part: &str, views: &[Value]| -> Vec<Vec<bool>> {
            views
                .iter()
                .map(|v| rules.iter().map(|r| r.matches_part(part, v)).collect())
                .collect()
        };
        let (pm, tm, om) = (
            masks("problem", &pviews),
            masks("train", &tviews),
            masks("optimizer", &oviews),
        );
        let mut warnings = Vec::new();
        for (r, rule) in rules.iter().enumerate() {
            let count = |m: &[Vec<bool>]| m.iter().filter(|v| v[r]).count();
            if count(&pm) * count(&tm) * count(&om) == 0 {
                let path = KeyPath::root().key("exclude").index(rule.index);
                warnings.push(self.error(&path, "this rule matches no cell").to_string());
            }
        }
        let mut cells = Vec::new();
        for (p, pr) in pm.iter().enumerate() {
            for (t, tr) in tm.iter().enumerate() {
                for (o, or) in om.iter().enumerate() {
                    if (0..rules.len()).any(|r| pr[r] && tr[r] && or[r]) {
                        continue;
                    }
                    cells.push(Cell {
                        problem: index(p),
                        train: index(t),
                        optimizer: index(o),
                    });
                }
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
        Ok((cells, warnings))
    }
}

/// A table index as stored in a [`Cell`] (tables are bounded by [`MAX_RUNS`]).
fn index(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

/// The problems the cells run: `train.eval_train_examples` is copied into the problem's
/// `eval_train_examples` for problems on data that do not set it themselves, which makes a
/// distinct problem variant per value. Returns the table and the cells re-indexed into it.
fn effective_problems(
    problems: &[ProblemVariant],
    base: Vec<ProblemSpec>,
    trains: &[TrainVariant],
    cells: Vec<Cell>,
) -> Result<(Vec<Arc<ProblemSpec>>, Vec<Cell>), String> {
    let mut table: Vec<Arc<ProblemSpec>> = base.into_iter().map(Arc::new).collect();
    let mut extra: HashMap<(u32, usize), u32> = HashMap::new();
    let mut out = Vec::with_capacity(cells.len());
    for mut cell in cells {
        let p = &problems[cell.problem as usize];
        let spec = &table[cell.problem as usize];
        let inherits = !p.sources.contains_key(EVAL_TRAIN_EXAMPLES)
            && spec.params.contains_key(EVAL_TRAIN_EXAMPLES);
        if let (true, Some(n)) = (
            inherits,
            trains[cell.train as usize].spec.eval_train_examples,
        ) {
            let key = (cell.problem, n);
            cell.problem = match extra.get(&key) {
                Some(&i) => i,
                None => {
                    let mut params = spec.params.clone();
                    params.insert(EVAL_TRAIN_EXAMPLES.into(), json!(n));
                    let config = ProblemConfig::from_json(spec.name(), &params)
                        .map_err(|e| e.to_string())?;
                    table.push(Arc::new(ProblemSpec { config, params }));
                    let i = index(table.len() - 1);
                    extra.insert(key, i);
                    i
                }
            };
        }
        out.push(cell);
    }
    Ok((table, out))
}

/// Drops cells whose id an earlier cell has (the same settings written twice); returns how
/// many were dropped.
fn dedupe(grid: &mut Grid) -> usize {
    let mut seen = std::collections::HashSet::new();
    let before = grid.cells.len();
    let keep: Vec<bool> = (0..before).map(|c| seen.insert(grid.cell_id(c))).collect();
    let mut i = 0;
    grid.cells.retain(|_| {
        i += 1;
        keep[i - 1]
    });
    before - grid.cells.len()
}

/// Canonical JSON of a value (keys sorted, no spaces): the text ids hash, see [`crate::ids`].
pub fn canonical_json(v: &Value) -> String {
    ids::canonical(v)
}
