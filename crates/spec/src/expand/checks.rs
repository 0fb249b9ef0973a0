//! Checks that need the data: every problem on data is built once (its dataset loaded once), so
//! a missing file, an incompatible problem (a network that needs images on a table, a kernel
//! larger than its input) or a weights file that does not fit is reported at its key before
//! anything runs, and batch sizes larger than the training set are errors naming the pair and
//! the fix.

use std::collections::HashMap;
use std::sync::Arc;

use optbench_models::{Dataset, ModelError};
use serde_json::Value;

use super::context::Context;
use super::problems::ProblemVariant;
use super::train::TrainVariant;
use crate::error::ExperimentError;
use crate::ids;
use crate::plan::{BatchSize, Cell};
use crate::yaml::KeyPath;

impl Context<'_> {
    /// Builds each problem variant that a cell uses, then checks every cell's batch size
    /// against its training set.
    pub(super) fn check_data(
        &self,
        problems: &[ProblemVariant],
        trains: &[TrainVariant],
        cells: &[Cell],
    ) -> Result<(), ExperimentError> {
        let mut lens: Vec<Option<usize>> = vec![None; problems.len()];
        let mut data: HashMap<String, Arc<Dataset>> = HashMap::new();
        let mut built: HashMap<String, usize> = HashMap::new();
        for cell in cells {
            let (pi, ti) = (cell.problem as usize, cell.train as usize);
            let p = &problems[pi];
            let n = match lens[pi] {
                Some(n) => n,
                None => {
                    let n = self.train_len(p, &mut data, &mut built)?;
                    lens[pi] = Some(n);
                    n
                }
            };
            if let BatchSize::Examples(b) = trains[ti].spec.batch_size {
                if b > n {
                    return Err(self.batch_too_large(p, &trains[ti], b, n));
                }
            }
        }
        Ok(())
    }

    fn batch_too_large(
        &self,
        p: &ProblemVariant,
        t: &TrainVariant,
        b: usize,
        n: usize,
    ) -> ExperimentError {
        let path = t
            .sources
            .get("batch_size")
            .cloned()
            .unwrap_or_else(|| KeyPath::root().key("train").key("batch_size"));
        let name = p.config.name();
        let what = match p.config.dataset() {
            Some(d) => format!("dataset `{}`", d.name()),
            None => format!("problem `{name}`"),
        };
        self.error(
            &path,
            format!(
                "batch size {b} is larger than the training set of {what} in problems[{}] ({n} example{}); use a smaller batch size or `full`, or exclude the pair with `exclude: [{{problem: {name}, train.batch_size: {b}}}]`",
                p.entry,
                if n == 1 { "" } else { "s" },
            ),
        )
    }

    /// The number of training examples of a problem variant: 1 for analytic problems; for data,
    /// the problem is built (its dataset loaded once per dataset, the problem once per distinct
    /// configuration), which also catches incompatibilities such as logistic regression on
    /// three classes.
    fn train_len(
        &self,
        p: &ProblemVariant,
        data: &mut HashMap<String, Arc<Dataset>>,
        built: &mut HashMap<String, usize>,
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
        let load_key = ds.load_key(0);
        let d = match data.get(&load_key) {
            Some(d) => Arc::clone(d),
            None => {
                let d = optbench_models::load_dataset_with(ds, 0, &self.base_dir, self.tables)
                    .map_err(|e| {
                        let path = match &e {
                            ModelError::Io { .. } | ModelError::Malformed { .. } => {
                                ds_path.key("path")
                            }
                            _ => ds_path.clone(),
                        };
                        let key = if path == ds_path {
                            "dataset"
                        } else {
                            "dataset.path"
                        };
                        self.error(
                            &path,
                            format!("cannot load dataset `{}` (key `{key}`): {e}", ds.name()),
                        )
                    })?;
                data.insert(load_key, Arc::clone(&d));
                d
            }
        };
        let key = ids::canonical(&Value::Object(p.config.to_json()));
        if let Some(&n) = built.get(&key) {
            return Ok(n);
        }
        let problem = optbench_models::build_problem_in(&p.config, Some(d), 0, &self.base_dir)
            .map_err(|e| self.build_error(p, &ds_path, &e))?;
        let n = problem.train_len();
        built.insert(key, n);
        Ok(n)
    }

    /// A problem that cannot be built, at the key at fault: a network's key (`conv[0]`,
    /// `hidden`), the weights file (`init`), the dataset (incompatible data, an augmentation
    /// the problem does not apply), else the entry.
    fn build_error(
        &self,
        p: &ProblemVariant,
        ds_path: &KeyPath,
        e: &ModelError,
    ) -> ExperimentError {
        let entry_path = KeyPath::root().key("problems").index(p.entry);
        let at_key = |key: &str| {
            let mut segs = key.split('.');
            let first = segs.next().unwrap_or(key);
            let (name, indices) = split_indices(first);
            let mut path = p
                .sources
                .get(name)
                .cloned()
                .unwrap_or_else(|| entry_path.key(name));
            for i in indices {
                path = path.index(i);
            }
            for seg in segs {
                let (name, indices) = split_indices(seg);
                path = path.key(name);
                for i in indices {
                    path = path.index(i);
                }
            }
            path
        };
        let path = match e {
            ModelError::OutOfRange { owner, key, .. }
            | ModelError::WrongType { owner, key, .. }
                if owner == p.config.name() =>
            {
                at_key(key)
            }
            ModelError::OutOfRange { key, .. } | ModelError::WrongType { key, .. } => {
                ds_path.key(key)
            }
            ModelError::Weights { .. } | ModelError::Io { .. } => at_key("init"),
            ModelError::Incompatible { .. } | ModelError::Malformed { .. } => ds_path.clone(),
            _ => entry_path,
        };
        let mut message = e.to_string();
        if let Some(key) = path.0.get(2..).filter(|k| !k.is_empty()) {
            let key = KeyPath(key.to_vec()).to_string();
            let key = key.trim_start_matches('.');
            if !message.contains(&format!("`{key}`")) && !message.contains(&format!(".{key}`")) {
                message = format!("`{key}`: {message}");
            }
        }
        self.error(&path, message)
    }
}

/// `conv[0][1]` → (`conv`, [0, 1]); a key without indices as it is.
fn split_indices(seg: &str) -> (&str, Vec<usize>) {
    let name_end = seg.find('[').unwrap_or(seg.len());
    let indices = seg[name_end..]
        .split(['[', ']'])
        .filter_map(|s| s.parse().ok())
        .collect();
    (&seg[..name_end], indices)
}
