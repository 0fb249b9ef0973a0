//! Reading `runs.parquet` and `metrics.parquet` into plain vectors, grouping runs into problem
//! variants and configurations, averaging over seeds and selecting the best configuration.
//!
//! Everything here works from the Parquet files alone (docs/format.md). Integer columns may be
//! UInt64 or Int64; every numeric column is read as `f64`, nulls become `NaN`.

use polars::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};

/// A failure to read a results file; names the file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot open {path}: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path} as Parquet: {source}")]
    Parquet { path: PathBuf, source: PolarsError },
    #[error("{path} lacks the column `{column}` (or it has the wrong type): {source}")]
    Column {
        path: PathBuf,
        column: String,
        source: PolarsError,
    },
}

/// Outcome of a run (`status` column).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Ok,
    Diverged,
    Failed,
}

/// One row of `runs.parquet`.
#[derive(Clone, Debug)]
pub struct Run {
    pub run_id: String,
    pub cell_id: String,
    pub problem: String,
    pub dataset: Option<String>,
    pub optimizer: String,
    pub label: String,
    pub seed: u64,
    /// `data_seed` (what the problem instance was built with), if recorded.
    pub data_seed: Option<u64>,
    /// `batch_size` (full batch is the training-set size); NaN when null.
    pub batch_size: f64,
    pub lr: f64,
    pub status: Status,
    pub final_train_loss: f64,
    pub final_test_loss: f64,
    pub final_test_accuracy: f64,
    pub best_train_loss: f64,
    pub wall_time_s: f64,
    /// The `p_*` columns, `name=value`, in column order (problem variant key).
    pub problem_params: Vec<(String, String)>,
}

/// Recorded metrics of one run, sorted by step; NaN where null.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub step: Vec<f64>,
    pub epoch: Vec<f64>,
    pub examples_seen: Vec<f64>,
    pub wall_time_s: Vec<f64>,
    pub lr: Vec<f64>,
    pub train_loss: Vec<f64>,
    pub batch_loss: Vec<f64>,
    pub test_loss: Vec<f64>,
    pub test_accuracy: Vec<f64>,
    pub grad_norm: Vec<f64>,
    pub update_norm: Vec<f64>,
    pub x0: Vec<f64>,
    pub x1: Vec<f64>,
}

/// A metric recorded per step in `metrics.parquet`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[strum(serialize_all = "snake_case")]
pub enum Metric {
    TrainLoss,
    TestLoss,
    TestAccuracy,
    BatchLoss,
    GradNorm,
    UpdateNorm,
    Lr,
}

impl Metric {
    /// Column name in `metrics.parquet`.
    pub fn column(self) -> &'static str {
        match self {
            Metric::TrainLoss => "train_loss",
            Metric::TestLoss => "test_loss",
            Metric::TestAccuracy => "test_accuracy",
            Metric::BatchLoss => "batch_loss",
            Metric::GradNorm => "grad_norm",
            Metric::UpdateNorm => "update_norm",
            Metric::Lr => "lr",
        }
    }

    /// Axis label with units.
    pub fn axis_label(self) -> &'static str {
        match self {
            Metric::TrainLoss => "Train loss (objective)",
            Metric::TestLoss => "Test loss (objective)",
            Metric::TestAccuracy => "Test accuracy (fraction)",
            Metric::BatchLoss => "Mini-batch loss (mean since last record)",
            Metric::GradNorm => "Gradient norm ‖g‖₂",
            Metric::UpdateNorm => "Update norm ‖θₜ − θₜ₋₁‖₂",
            Metric::Lr => "Learning rate",
        }
    }

    /// Whether the y axis is logarithmic (all but accuracy).
    pub fn log_scale(self) -> bool {
        !matches!(self, Metric::TestAccuracy)
    }

    /// The values of this metric in a run's series.
    pub fn values(self, s: &Series) -> &[f64] {
        match self {
            Metric::TrainLoss => &s.train_loss,
            Metric::TestLoss => &s.test_loss,
            Metric::TestAccuracy => &s.test_accuracy,
            Metric::BatchLoss => &s.batch_loss,
            Metric::GradNorm => &s.grad_norm,
            Metric::UpdateNorm => &s.update_norm,
            Metric::Lr => &s.lr,
        }
    }
}

/// A final value in `runs.parquet` that configurations are ranked by (`--select-by`).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[strum(serialize_all = "snake_case")]
pub enum SelectBy {
    #[default]
    FinalTrainLoss,
    FinalTestLoss,
    FinalTestAccuracy,
    BestTrainLoss,
}

impl SelectBy {
    /// The value of a run.
    pub fn value(self, r: &Run) -> f64 {
        match self {
            SelectBy::FinalTrainLoss => r.final_train_loss,
            SelectBy::FinalTestLoss => r.final_test_loss,
            SelectBy::FinalTestAccuracy => r.final_test_accuracy,
            SelectBy::BestTrainLoss => r.best_train_loss,
        }
    }

    /// Whether larger is better (accuracy).
    pub fn higher_is_better(self) -> bool {
        matches!(self, SelectBy::FinalTestAccuracy)
    }

    /// Readable name.
    pub fn describe(self) -> &'static str {
        match self {
            SelectBy::FinalTrainLoss => "final train loss",
            SelectBy::FinalTestLoss => "final test loss",
            SelectBy::FinalTestAccuracy => "final test accuracy",
            SelectBy::BestTrainLoss => "best train loss",
        }
    }
}

/// Quantity on the x axis of per-step figures (`--x`).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[strum(serialize_all = "snake_case")]
pub enum XAxis {
    #[default]
    Step,
    Epoch,
    #[strum(serialize = "examples", serialize = "examples_seen")]
    Examples,
    #[strum(serialize = "time", serialize = "wall_time", serialize = "wall_time_s")]
    Time,
}

impl XAxis {
    /// Axis label with units.
    pub fn axis_label(self) -> &'static str {
        match self {
            XAxis::Step => "Step (parameter updates)",
            XAxis::Epoch => "Epoch (passes over the training set)",
            XAxis::Examples => "Examples seen",
            XAxis::Time => "Wall time (s)",
        }
    }

    /// The x values of a run's series.
    pub fn values(self, s: &Series) -> &[f64] {
        match self {
            XAxis::Step => &s.step,
            XAxis::Epoch => &s.epoch,
            XAxis::Examples => &s.examples_seen,
            XAxis::Time => &s.wall_time_s,
        }
    }
}

fn read_parquet(path: &Path) -> Result<DataFrame, DataError> {
    let file = File::open(path).map_err(|source| DataError::Open {
        path: path.to_owned(),
        source,
    })?;
    ParquetReader::new(file)
        .finish()
        .map_err(|source| DataError::Parquet {
            path: path.to_owned(),
            source,
        })
}

fn f64_column(
    df: &DataFrame,
    path: &Path,
    name: &str,
    required: bool,
) -> Result<Vec<f64>, DataError> {
    let err = |source| DataError::Column {
        path: path.to_owned(),
        column: name.to_owned(),
        source,
    };
    let col = match df.column(name) {
        Ok(c) => c,
        Err(e) if required => return Err(err(e)),
        Err(_) => return Ok(vec![f64::NAN; df.height()]),
    };
    let col = col.cast(&DataType::Float64).map_err(err)?;
    let ca = col.f64().map_err(err)?;
    Ok(ca.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

fn str_column(
    df: &DataFrame,
    path: &Path,
    name: &str,
    required: bool,
) -> Result<Vec<Option<String>>, DataError> {
    let err = |source| DataError::Column {
        path: path.to_owned(),
        column: name.to_owned(),
        source,
    };
    let col = match df.column(name) {
        Ok(c) => c,
        Err(e) if required => return Err(err(e)),
        Err(_) => return Ok(vec![None; df.height()]),
    };
    let col = col.cast(&DataType::String).map_err(err)?;
    let ca = col.str().map_err(err)?;
    Ok(ca.iter().map(|v| v.map(str::to_owned)).collect())
}

/// Reads `runs.parquet` of a results folder.
pub fn read_runs(dir: &Path) -> Result<Vec<Run>, DataError> {
    let path = dir.join("runs.parquet");
    let df = read_parquet(&path)?;
    let s = |n, req| str_column(&df, &path, n, req);
    let f = |n, req| f64_column(&df, &path, n, req);
    let run_id = s("run_id", true)?;
    let cell_id = s("cell_id", false)?;
    let problem = s("problem", true)?;
    let dataset = s("dataset", false)?;
    let optimizer = s("optimizer", true)?;
    let label = s("label", false)?;
    let status = s("status", true)?;
    let seed = f("seed", false)?;
    let data_seed = f("data_seed", false)?;
    let batch_size = f("batch_size", false)?;
    let lr = f("lr", false)?;
    let ftl = f("final_train_loss", false)?;
    let fvl = f("final_test_loss", false)?;
    let fta = f("final_test_accuracy", false)?;
    let btl = f("best_train_loss", false)?;
    let wall = f("wall_time_s", false)?;
    let p_names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .filter(|n| n.starts_with("p_"))
        .collect();
    let mut p_cols = Vec::new();
    for n in &p_names {
        let col = df.column(n).map_err(|source| DataError::Column {
            path: path.clone(),
            column: n.clone(),
            source,
        })?;
        p_cols.push(col.clone());
    }
    let mut runs = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let optimizer = optimizer[i].clone().unwrap_or_default();
        let problem_params = p_names
            .iter()
            .zip(&p_cols)
            .filter_map(|(n, c)| {
                let v = c.get(i).ok()?;
                if v.is_null() {
                    return None;
                }
                let text = match v {
                    AnyValue::String(s) => s.to_owned(),
                    AnyValue::StringOwned(s) => s.to_string(),
                    other => other.to_string(),
                };
                Some((n.trim_start_matches("p_").to_owned(), text))
            })
            .collect();
        runs.push(Run {
            run_id: run_id[i].clone().unwrap_or_default(),
            cell_id: cell_id[i]
                .clone()
                .or_else(|| label[i].clone())
                .unwrap_or_default(),
            problem: problem[i].clone().unwrap_or_default(),
            dataset: dataset[i].clone(),
            label: label[i].clone().unwrap_or_else(|| optimizer.clone()),
            optimizer,
            seed: if seed[i].is_finite() {
                seed[i] as u64
            } else {
                0
            },
            data_seed: data_seed[i].is_finite().then_some(data_seed[i] as u64),
            batch_size: batch_size[i],
            lr: lr[i],
            status: match status[i].as_deref() {
                Some("ok") => Status::Ok,
                Some("diverged") => Status::Diverged,
                _ => Status::Failed,
            },
            final_train_loss: ftl[i],
            final_test_loss: fvl[i],
            final_test_accuracy: fta[i],
            best_train_loss: btl[i],
            wall_time_s: wall[i],
            problem_params,
        });
    }
    Ok(runs)
}

/// Reads `metrics.parquet` of a results folder: one [`Series`] per run id, sorted by step.
pub fn read_metrics(dir: &Path) -> Result<HashMap<String, Series>, DataError> {
    let path = dir.join("metrics.parquet");
    let df = read_parquet(&path)?;
    let ids = str_column(&df, &path, "run_id", true)?;
    let step = f64_column(&df, &path, "step", true)?;
    let cols: Vec<Vec<f64>> = [
        "epoch",
        "examples_seen",
        "wall_time_s",
        "lr",
        "train_loss",
        "batch_loss",
        "test_loss",
        "test_accuracy",
        "grad_norm",
        "update_norm",
        "x0",
        "x1",
    ]
    .iter()
    .map(|n| f64_column(&df, &path, n, false))
    .collect::<Result<_, _>>()?;
    let mut rows: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, id) in ids.iter().enumerate() {
        if let Some(id) = id {
            rows.entry(id.as_str()).or_default().push(i);
        }
    }
    let mut out = HashMap::with_capacity(rows.len());
    for (id, mut idx) in rows {
        idx.sort_by(|&a, &b| step[a].total_cmp(&step[b]));
        let take = |c: &Vec<f64>| idx.iter().map(|&i| c[i]).collect::<Vec<f64>>();
        let s = Series {
            step: take(&step),
            epoch: take(&cols[0]),
            examples_seen: take(&cols[1]),
            wall_time_s: take(&cols[2]),
            lr: take(&cols[3]),
            train_loss: take(&cols[4]),
            batch_loss: take(&cols[5]),
            test_loss: take(&cols[6]),
            test_accuracy: take(&cols[7]),
            grad_norm: take(&cols[8]),
            update_norm: take(&cols[9]),
            x0: take(&cols[10]),
            x1: take(&cols[11]),
        };
        out.insert(id.to_owned(), s);
    }
    Ok(out)
}

/// Runs of one configuration (a cell): the same problem variant, optimizer settings and batch
/// size, over seeds.
#[derive(Clone, Debug)]
pub struct Config {
    pub cell_id: String,
    pub label: String,
    pub optimizer: String,
    pub batch_size: f64,
    pub lr: f64,
    /// Indices into the run list, sorted by seed.
    pub runs: Vec<usize>,
}

impl Config {
    /// Runs that did not fail (ok or diverged).
    pub fn count(&self, runs: &[Run], status: Status) -> usize {
        self.runs
            .iter()
            .filter(|&&i| runs[i].status == status)
            .count()
    }
}

/// Runs of one problem variant (problem, dataset and `p_*` values).
#[derive(Clone, Debug)]
pub struct ProblemGroup {
    /// Readable name: the problem, then the dataset and the `p_*` values that vary between
    /// variants of the same problem.
    pub title: String,
    /// File-name stem, unique within the results folder.
    pub slug: String,
    pub problem: String,
    /// The `p_*` values of this variant.
    pub params: Vec<(String, String)>,
    /// Configurations in a stable order (optimizer palette order, then lr, then label).
    pub configs: Vec<Config>,
}

impl ProblemGroup {
    /// Distinct batch sizes, ascending.
    pub fn batch_sizes(&self) -> Vec<f64> {
        let mut b: Vec<f64> = self.configs.iter().map(|c| c.batch_size).collect();
        b.sort_by(f64::total_cmp);
        b.dedup_by(|a, b| a.total_cmp(b).is_eq());
        b
    }
}

fn slugify(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// Problem, dataset and `p_*` values of a problem variant.
type VariantKey = (String, String, Vec<(String, String)>);

/// Groups runs into problem variants and configurations.
pub fn group_runs(runs: &[Run], palette: &super::style::Palette) -> Vec<ProblemGroup> {
    // Key: problem, dataset, p_* values.
    let mut by_variant: BTreeMap<VariantKey, Vec<usize>> = BTreeMap::new();
    for (i, r) in runs.iter().enumerate() {
        let key = (
            r.problem.clone(),
            r.dataset.clone().unwrap_or_default(),
            r.problem_params.clone(),
        );
        by_variant.entry(key).or_default().push(i);
    }
    // Which parameters vary between variants of the same problem name.
    let mut varying: HashMap<String, Vec<String>> = HashMap::new();
    for (problem, _, params) in by_variant.keys() {
        let others: Vec<_> = by_variant.keys().filter(|k| &k.0 == problem).collect();
        let names = params
            .iter()
            .filter(|(n, v)| {
                others
                    .iter()
                    .any(|o| o.2.iter().find(|(m, _)| m == n).map(|(_, w)| w) != Some(v))
            })
            .map(|(n, _)| n.clone())
            .collect();
        varying.insert(format!("{problem}\u{0}{params:?}"), names);
    }
    let mut datasets_per_problem: HashMap<&str, Vec<&str>> = HashMap::new();
    for (p, d, _) in by_variant.keys() {
        let e = datasets_per_problem.entry(p.as_str()).or_default();
        if !e.contains(&d.as_str()) {
            e.push(d);
        }
    }
    let mut groups = Vec::new();
    let mut slugs: Vec<String> = Vec::new();
    for ((problem, dataset, params), idx) in &by_variant {
        let vary = &varying[&format!("{problem}\u{0}{params:?}")];
        let mut extras: Vec<String> = Vec::new();
        if !dataset.is_empty() && datasets_per_problem[problem.as_str()].len() > 1 {
            extras.push(dataset.clone());
        }
        for (n, v) in params {
            if vary.contains(n) {
                extras.push(format!("{n}={v}"));
            }
        }
        let title = if extras.is_empty() {
            problem.clone()
        } else {
            format!("{problem} ({})", extras.join(", "))
        };
        let mut slug = slugify(&title);
        if slug.is_empty() {
            slug = "problem".into();
        }
        if slugs.contains(&slug) {
            slug = format!("{slug}_{}", slugs.len());
        }
        slugs.push(slug.clone());
        // Configurations by cell id.
        let mut cells: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for &i in idx {
            cells.entry(runs[i].cell_id.as_str()).or_default().push(i);
        }
        let mut configs: Vec<Config> = cells
            .into_iter()
            .map(|(cell, mut ri)| {
                ri.sort_by_key(|&i| runs[i].seed);
                let r = &runs[ri[0]];
                Config {
                    cell_id: cell.to_owned(),
                    label: r.label.clone(),
                    optimizer: r.optimizer.clone(),
                    batch_size: r.batch_size,
                    lr: r.lr,
                    runs: ri,
                }
            })
            .collect();
        let rank = |o: &str| {
            palette
                .names()
                .iter()
                .position(|n| n == o)
                .unwrap_or(usize::MAX)
        };
        configs.sort_by(|a, b| {
            rank(&a.optimizer)
                .cmp(&rank(&b.optimizer))
                .then(a.batch_size.total_cmp(&b.batch_size))
                .then(a.lr.total_cmp(&b.lr))
                .then_with(|| a.label.cmp(&b.label))
                .then_with(|| a.cell_id.cmp(&b.cell_id))
        });
        groups.push(ProblemGroup {
            title,
            slug,
            problem: problem.clone(),
            params: params.clone(),
            configs,
        });
    }
    groups
}

/// Mean, sample standard deviation (n − 1; 0 for one value), min and max of the finite values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    pub std: f64,
    pub min: f64,
    pub max: f64,
}

/// Summary of the finite values; `None` if there are none.
pub fn summarize(values: impl IntoIterator<Item = f64>) -> Option<Summary> {
    let v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    let n = v.len();
    let mean = v.iter().sum::<f64>() / n as f64;
    let var = if n > 1 {
        v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64
    } else {
        0.0
    };
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(Summary {
        n,
        mean,
        std: var.sqrt(),
        min,
        max,
    })
}

/// Mean of a configuration's selection value over its `ok` seeds, and how many seeds did not
/// finish ok. Configurations are ranked first by that count (fewer is better), then by the mean.
pub fn config_score(c: &Config, runs: &[Run], by: SelectBy) -> (usize, Option<f64>) {
    let bad = c
        .runs
        .iter()
        .filter(|&&i| runs[i].status != Status::Ok)
        .count();
    let mean = summarize(
        c.runs
            .iter()
            .filter(|&&i| runs[i].status == Status::Ok)
            .map(|&i| by.value(&runs[i])),
    )
    .map(|s| s.mean);
    (bad, mean)
}

/// Orders two scores: fewer bad seeds first, then the better mean (a missing mean is worst).
pub fn compare_scores(
    a: (usize, Option<f64>),
    b: (usize, Option<f64>),
    higher_is_better: bool,
) -> std::cmp::Ordering {
    a.0.cmp(&b.0).then_with(|| match (a.1, b.1) {
        (Some(x), Some(y)) => {
            if higher_is_better {
                y.total_cmp(&x)
            } else {
                x.total_cmp(&y)
            }
        }
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    })
}

/// The label of a configuration without its `lr=...` token. Configurations that share it are
/// one "optimizer" for selection (so `sgd` and `sgd momentum=0.9` are compared as two
/// optimizers, each tuned over its learning rates and batch sizes) and one line of the
/// sensitivity figure.
pub fn family(label: &str) -> String {
    label
        .split_whitespace()
        .filter(|t| !t.starts_with("lr="))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Per optimizer setting ([`family`] of the label, in configuration order), the index into
/// `group.configs` of its best configuration.
pub fn best_per_optimizer(group: &ProblemGroup, runs: &[Run], by: SelectBy) -> Vec<usize> {
    let mut best: Vec<(String, usize)> = Vec::new();
    let fam: Vec<String> = group.configs.iter().map(|c| family(&c.label)).collect();
    for (ci, c) in group.configs.iter().enumerate() {
        match best.iter_mut().find(|(o, _)| *o == fam[ci]) {
            None => best.push((fam[ci].clone(), ci)),
            Some((_, b)) => {
                let cur = config_score(&group.configs[*b], runs, by);
                let new = config_score(c, runs, by);
                if compare_scores(new, cur, by.higher_is_better()).is_lt() {
                    *b = ci;
                }
            }
        }
    }
    best.into_iter().map(|(_, i)| i).collect()
}

/// Mean and min–max over seeds of a metric against an x quantity, aligned by step.
///
/// At each recorded step, `x` is the mean of the seeds' x values; the line is the mean of the
/// finite metric values and the band their min and max. Failed runs are skipped.
pub fn aggregate(
    config: &Config,
    runs: &[Run],
    metrics: &HashMap<String, Series>,
    metric: Metric,
    x: XAxis,
) -> Vec<(f64, Summary)> {
    let mut by_step: BTreeMap<u64, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for &i in &config.runs {
        if runs[i].status == Status::Failed {
            continue;
        }
        let Some(s) = metrics.get(&runs[i].run_id) else {
            continue;
        };
        let xs = x.values(s);
        let ys = metric.values(s);
        for k in 0..s.step.len() {
            if !s.step[k].is_finite() {
                continue;
            }
            let e = by_step.entry(s.step[k] as u64).or_default();
            if xs[k].is_finite() {
                e.0.push(xs[k]);
            }
            e.1.push(ys[k]);
        }
    }
    by_step
        .into_values()
        .filter_map(|(xs, ys)| {
            let xm = summarize(xs)?.mean;
            Some((xm, summarize(ys)?))
        })
        .collect()
}
