//! Datasets: synthetic generators, real data shipped offline, and the user's files; the seeded
//! train/test split and standardization.

pub mod augment;
mod builtin;
mod cifar10;
mod csv;
mod dataset;
mod idx;
pub(crate) mod modular;
mod split;
mod synthetic;
mod synthetic_images;
pub(crate) mod text;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{DatasetConfig, DatasetKind, Task};
use crate::error::ModelError;

pub use dataset::{Dataset, ImageShape, Tokens};
pub(crate) use split::Split;

/// A table read from a file this crate does not read itself: every row's features
/// (row-major), the number of features and every row's target.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub features: Vec<f32>,
    pub n_features: usize,
    pub targets: Vec<f32>,
}

/// Reads the table formats this crate leaves to others: Parquet is read with polars by
/// optbench-results (the one crate of the workspace that reads Parquet), which implements this
/// for the crates that load datasets.
pub trait TableReader: Sync {
    /// The table of the Parquet file `path`, `target` being the target column; errors name
    /// the file and, where it applies, the row and column.
    fn read_parquet(&self, path: &Path, target: &str) -> Result<Table, ModelError>;
}

/// A [`TableReader`] for callers that have none: Parquet files are an error that says so.
pub struct WithoutParquet;

impl TableReader for WithoutParquet {
    fn read_parquet(&self, path: &Path, _target: &str) -> Result<Table, ModelError> {
        Err(ModelError::malformed(
            path,
            None,
            None,
            "Parquet datasets are read through optbench-results (load the data with its reader)",
        ))
    }
}

/// Loads the data of `config` (or generates it, for the synthetic datasets, from `seed`), with
/// Parquet files unsupported ([`load_dataset_with`] takes a reader for them). Relative paths
/// resolve against `base_dir` (the experiment file's folder).
///
/// A missing, truncated or malformed file, a non-numeric cell or a missing target column is a
/// [`ModelError::Io`] or [`ModelError::Malformed`] naming the file and, where it applies, the
/// row and column.
///
/// ```
/// use optbench_models::{DatasetConfig, load_dataset};
/// let cfg = DatasetConfig::from_json(&serde_json::json!("iris")).unwrap();
/// let iris = load_dataset(&cfg, 0, std::path::Path::new(".")).unwrap();
/// assert_eq!((iris.len(), iris.n_features(), iris.n_classes()), (150, 4, Some(3)));
/// ```
pub fn load_dataset(
    config: &DatasetConfig,
    seed: u64,
    base_dir: &Path,
) -> Result<Arc<Dataset>, ModelError> {
    load_dataset_with(config, seed, base_dir, &WithoutParquet)
}

/// As [`load_dataset`], reading Parquet files with `tables`.
pub fn load_dataset_with(
    config: &DatasetConfig,
    seed: u64,
    base_dir: &Path,
    tables: &dyn TableReader,
) -> Result<Arc<Dataset>, ModelError> {
    let resolve = |p: &Option<PathBuf>, key: &str| -> Result<PathBuf, ModelError> {
        let p = p.as_ref().ok_or_else(|| ModelError::MissingKey {
            owner: config.name().into(),
            key: key.into(),
        })?;
        Ok(if p.is_absolute() {
            p.clone()
        } else {
            base_dir.join(p)
        })
    };
    let data = match config.kind {
        DatasetKind::SyntheticRegression => {
            synthetic::regression(config.samples, config.features, config.noise, seed)
        }
        DatasetKind::SyntheticClassification => synthetic::classification(
            config.samples,
            config.features,
            config.classes,
            config.noise,
            seed,
        ),
        DatasetKind::Iris => builtin::iris()?,
        DatasetKind::Diabetes => builtin::diabetes()?,
        DatasetKind::WineQuality => builtin::wine_quality(config.task == Task::Classification)?,
        DatasetKind::Digits => builtin::digits()?,
        DatasetKind::SyntheticImages => synthetic_images::generate(
            config.samples,
            ImageShape {
                channels: config.channels,
                height: config.height,
                width: config.width,
            },
            config.classes,
            config.noise,
            seed,
        ),
        DatasetKind::Idx => {
            let test = match (&config.test_path, &config.test_labels) {
                (Some(_), Some(_)) => Some((
                    resolve(&config.test_path, "test_path")?,
                    resolve(&config.test_labels, "test_labels")?,
                )),
                _ => None,
            };
            idx::load(
                &resolve(&config.path, "path")?,
                &resolve(&config.labels, "labels")?,
                test.as_ref().map(|(x, y)| (x.as_path(), y.as_path())),
                config.samples,
            )?
        }
        DatasetKind::Cifar10 => cifar10::load(&resolve(&config.path, "path")?, config.samples)?,
        DatasetKind::Csv => {
            let path = resolve(&config.path, "path")?;
            let (x, d, y) = csv::load(&path, &config.target)?;
            tabular(&path, x, d, y, config.task)?
        }
        DatasetKind::Parquet => {
            let path = resolve(&config.path, "path")?;
            let t = tables.read_parquet(&path, &config.target)?;
            tabular(&path, t.features, t.n_features, t.targets, config.task)?
        }
        DatasetKind::ModularArithmetic => modular::generate(config.tokens.p, config.tokens.op),
        DatasetKind::Text => text::load(&resolve(&config.path, "path")?, config.tokens.chars)?,
    };
    if !config.augment().is_empty() && data.image_shape().is_none() {
        return Err(ModelError::OutOfRange {
            owner: config.name().into(),
            key: "augment".into(),
            message: format!(
                "needs images, but `{}` has none (an IDX images file of rank 3 gives 1×H×W \
                 images)",
                data.name()
            ),
        });
    }
    Ok(Arc::new(data))
}

/// Largest label that `task: auto` takes for a class label.
const AUTO_MAX_LABEL: f32 = 255.0;

/// Builds a dataset from a file's table, deciding classification or regression by `task`.
fn tabular(
    path: &Path,
    features: Vec<f32>,
    n_features: usize,
    targets: Vec<f32>,
    task: Task,
) -> Result<Dataset, ModelError> {
    if targets.is_empty() {
        return Err(ModelError::malformed(path, None, None, "no data rows"));
    }
    let is_label = |t: f32| t >= 0.0 && t.fract() == 0.0 && t < 16_777_216.0;
    let max = targets.iter().fold(0.0f32, |m, &t| m.max(t));
    let n_classes = match task {
        Task::Regression => None,
        Task::Auto => targets
            .iter()
            .all(|&t| is_label(t) && t <= AUTO_MAX_LABEL)
            .then(|| (max as usize + 1).max(2)),
        Task::Classification => {
            if let Some(i) = targets.iter().position(|&t| !is_label(t)) {
                return Err(ModelError::malformed(
                    path,
                    Some(i as u64 + 1),
                    Some("target".into()),
                    format!(
                        "task: classification needs integer class labels ≥ 0, found {}",
                        targets[i]
                    ),
                ));
            }
            Some((max as usize + 1).max(2))
        }
    };
    let name = path.display().to_string();
    Dataset::new(name, features, n_features, targets, n_classes)
        .ok_or_else(|| ModelError::malformed(path, None, None, "inconsistent table"))
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: determinism, exact copies
mod tests {
    use super::*;

    #[test]
    fn auto_task_detects_labels() {
        let p = Path::new("t.csv");
        let c = tabular(p, vec![0.0; 3], 1, vec![0.0, 2.0, 1.0], Task::Auto).unwrap();
        assert_eq!(c.n_classes(), Some(3));
        let r = tabular(p, vec![0.0; 2], 1, vec![0.5, 2.0], Task::Auto).unwrap();
        assert_eq!(r.n_classes(), None);
        let e = tabular(p, vec![0.0; 2], 1, vec![0.5, 2.0], Task::Classification).unwrap_err();
        assert!(e.to_string().contains("row 1"), "{e}");
    }
}
