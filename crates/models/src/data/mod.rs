//! Datasets: synthetic generators, real data shipped offline, and the user's files; the seeded
//! train/test split and standardization.

mod builtin;
mod csv;
mod idx;
mod parquet;
mod synthetic;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rand::seq::SliceRandom;

use crate::config::{DatasetConfig, DatasetKind, Task};
use crate::error::ModelError;
use crate::seeds;

/// Raw loaded data, before the split and standardization: `len()` examples of `n_features`
/// features (row-major `f32`) and one target each.
///
/// Class labels are stored as their integer value in `f32` (exact up to 2²⁴).
///
/// ```
/// use optbench_models::Dataset;
/// let d = Dataset::new("tiny", vec![1.0, 2.0, 3.0, 4.0], 2, vec![0.0, 1.0], Some(2)).unwrap();
/// assert_eq!(d.len(), 2);
/// assert_eq!(d.row(1), &[3.0, 4.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    name: String,
    features: Vec<f32>,
    n_features: usize,
    targets: Vec<f32>,
    n_classes: Option<usize>,
}

impl Dataset {
    /// A dataset from its parts; `None` if the lengths do not fit (`features.len() ==
    /// targets.len() * n_features`, `n_features ≥ 1`), a value is not finite, or a class label is
    /// not an integer in `0..n_classes`.
    pub fn new(
        name: impl Into<String>,
        features: Vec<f32>,
        n_features: usize,
        targets: Vec<f32>,
        n_classes: Option<usize>,
    ) -> Option<Self> {
        if n_features == 0 || features.len() != targets.len() * n_features {
            return None;
        }
        if !features.iter().chain(&targets).all(|v| v.is_finite()) {
            return None;
        }
        let label_ok = |t: f32, k: usize| t >= 0.0 && t.fract() == 0.0 && (t as usize) < k;
        if let Some(k) = n_classes {
            if !targets.iter().all(|&t| label_ok(t, k)) {
                return None;
            }
        }
        Some(Dataset {
            name: name.into(),
            features,
            n_features,
            targets,
            n_classes,
        })
    }

    /// Name, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Features per example.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// All features, row-major.
    pub fn features(&self) -> &[f32] {
        &self.features
    }

    /// The features of example `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.features[i * self.n_features..(i + 1) * self.n_features]
    }

    /// Targets: class labels (as `f32`) or real values.
    pub fn targets(&self) -> &[f32] {
        &self.targets
    }

    /// Number of classes for classification data, `None` for regression data.
    pub fn n_classes(&self) -> Option<usize> {
        self.n_classes
    }
}

/// Loads the data of `config` (or generates it, for the synthetic datasets, from `seed`).
/// Relative paths resolve against `base_dir` (the experiment file's folder).
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
        DatasetKind::Iris => builtin::iris(),
        DatasetKind::Diabetes => builtin::diabetes(),
        DatasetKind::WineQuality => builtin::wine_quality(config.task == Task::Classification),
        DatasetKind::Idx => idx::load(
            &resolve(&config.path, "path")?,
            &resolve(&config.labels, "labels")?,
            config.samples,
        )?,
        DatasetKind::Csv => {
            let path = resolve(&config.path, "path")?;
            let (x, d, y) = csv::load(&path, &config.target)?;
            tabular(&path, x, d, y, config.task)?
        }
        DatasetKind::Parquet => {
            let path = resolve(&config.path, "path")?;
            let (x, d, y) = parquet::load(&path, &config.target)?;
            tabular(&path, x, d, y, config.task)?
        }
    };
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

/// One run's view of the data: the seeded train/test split, features standardized with the
/// training statistics; targets unchanged.
#[derive(Clone, Debug)]
pub(crate) struct Split {
    pub n_features: usize,
    pub n_classes: Option<usize>,
    pub x_train: Vec<f32>,
    pub y_train: Vec<f32>,
    pub x_test: Vec<f32>,
    pub y_test: Vec<f32>,
}

impl Split {
    /// Splits `data`: a seeded permutation, the first `round(n · test_fraction)` examples (at
    /// least 1 when `test_fraction > 0`, and leaving at least 1 for training) are the test set.
    pub fn new(data: &Dataset, test_fraction: f64, standardize: bool, seed: u64) -> Self {
        let n = data.len();
        let d = data.n_features;
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut seeds::rng(seed, seeds::STREAM_SPLIT));
        let mut n_test = (n as f64 * test_fraction).round() as usize;
        if test_fraction > 0.0 && n_test == 0 {
            n_test = 1;
        }
        n_test = n_test.min(n.saturating_sub(1));
        let (test_idx, train_idx) = order.split_at(n_test);
        let gather = |idx: &[usize]| {
            let mut x = Vec::with_capacity(idx.len() * d);
            let mut y = Vec::with_capacity(idx.len());
            for &i in idx {
                x.extend_from_slice(data.row(i));
                y.push(data.targets[i]);
            }
            (x, y)
        };
        let (mut x_train, y_train) = gather(train_idx);
        let (mut x_test, y_test) = gather(test_idx);
        if standardize && !train_idx.is_empty() {
            let (mean, inv_std) = column_stats(&x_train, d);
            for x in [&mut x_train, &mut x_test] {
                for row in x.chunks_exact_mut(d) {
                    for ((v, m), s) in row.iter_mut().zip(&mean).zip(&inv_std) {
                        *v = ((f64::from(*v) - m) * s) as f32;
                    }
                }
            }
        }
        Split {
            n_features: d,
            n_classes: data.n_classes,
            x_train,
            y_train,
            x_test,
            y_test,
        }
    }

    pub fn train_len(&self) -> usize {
        self.y_train.len()
    }
}

/// Column means and 1/std (population std, in f64; 1 for constant columns).
fn column_stats(x: &[f32], d: usize) -> (Vec<f64>, Vec<f64>) {
    let n = (x.len() / d) as f64;
    let mut mean = vec![0.0f64; d];
    for row in x.chunks_exact(d) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += f64::from(*v);
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = vec![0.0f64; d];
    for row in x.chunks_exact(d) {
        for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
            let c = f64::from(*v) - m;
            *s += c * c;
        }
    }
    let inv_std = var
        .iter()
        .map(|s| {
            let sd = (s / n).sqrt();
            if sd > 1e-12 { 1.0 / sd } else { 1.0 }
        })
        .collect();
    (mean, inv_std)
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: determinism, exact copies
mod tests {
    use super::*;

    fn toy(n: usize) -> Dataset {
        let x: Vec<f32> = (0..n * 2).map(|i| i as f32).collect();
        let y: Vec<f32> = (0..n).map(|i| (i % 2) as f32).collect();
        Dataset::new("toy", x, 2, y, Some(2)).unwrap()
    }

    #[test]
    fn split_sizes_and_seeding() {
        let d = toy(10);
        let s = Split::new(&d, 0.2, false, 1);
        assert_eq!((s.train_len(), s.y_test.len()), (8, 2));
        let s2 = Split::new(&d, 0.2, false, 1);
        assert_eq!(s.x_test, s2.x_test);
        let s3 = Split::new(&d, 0.2, false, 2);
        assert_ne!(s.x_train, s3.x_train);
        // Rows stay together with their targets.
        for (row, y) in s.x_train.chunks(2).zip(&s.y_train) {
            assert_eq!(((row[0] / 2.0) as usize % 2) as f32, *y);
        }
        assert_eq!(Split::new(&d, 0.0, false, 1).y_test.len(), 0);
        assert_eq!(Split::new(&toy(3), 0.01, false, 1).y_test.len(), 1);
    }

    #[test]
    fn standardization_uses_training_statistics() {
        let s = Split::new(&toy(50), 0.2, true, 3);
        let (mean, inv_std) = column_stats(&s.x_train, 2);
        for (m, is) in mean.iter().zip(&inv_std) {
            assert!(m.abs() < 1e-5, "{m}");
            assert!((is - 1.0).abs() < 1e-4, "{is}");
        }
        // Test features use the same transformation: not exactly zero-mean.
        let (tm, _) = column_stats(&s.x_test, 2);
        assert!(tm[0].abs() > 1e-6);
    }

    #[test]
    fn dataset_new_checks_parts() {
        assert!(Dataset::new("x", vec![1.0; 3], 2, vec![0.0], None).is_none());
        assert!(Dataset::new("x", vec![1.0; 2], 2, vec![2.0], Some(2)).is_none());
        assert!(Dataset::new("x", vec![f32::NAN; 2], 2, vec![0.0], None).is_none());
    }

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
