//! Grouping runs into problem variants, configurations (cells) and optimizer settings
//! (families), averaging over seeds and selecting each setting's best configuration.

use super::data::{Run, Series, Status, number_text};
use super::quantity::{Metric, SelectBy, XAxis};
use std::collections::{BTreeMap, HashMap};

/// Runs of one configuration (a cell): the same problem variant, optimizer settings and batch
/// size, over seeds.
#[derive(Clone, Debug)]
pub struct Config {
    pub cell_id: String,
    pub label: String,
    pub optimizer: String,
    pub batch_size: f64,
    /// Whether the batch is the whole training set (then `batch_size` is its size).
    pub full_batch: bool,
    pub lr: f64,
    /// The optimizer setting this configuration belongs to: its optimizer, its
    /// hyperparameters but the learning rate, its schedule and its batch size. Configurations
    /// of one family differ only by learning rate; each family is tuned over them.
    pub family: usize,
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
    /// Readable names of the optimizer settings, indexed by [`Config::family`], in order of
    /// first appearance among `configs`.
    pub families: Vec<String>,
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
                    full_batch: ri.iter().any(|&i| runs[i].full_batch),
                    lr: r.lr,
                    family: 0,
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
        // The full batch is the training set's size: a batch size that any run of the variant
        // shows to be full is full for every configuration (runs that diverged at once do not
        // show it themselves).
        let full: Vec<u64> = configs
            .iter()
            .filter(|c| c.full_batch)
            .map(|c| c.batch_size.to_bits())
            .collect();
        for c in &mut configs {
            c.full_batch = full.contains(&c.batch_size.to_bits());
        }
        let families = assign_families(&mut configs, runs);
        groups.push(ProblemGroup {
            title,
            slug,
            problem: problem.clone(),
            params: params.clone(),
            configs,
            families,
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
    let &first = v.first()?;
    let n = v.len();
    // Deviations from the first value: identical values give a mean that is exactly that
    // value and a spread of exactly 0 (the plain sum / n is off by an ulp, and the standard
    // deviation then prints as 8.5e-18 instead of 0). The shift also keeps the sum of squares
    // accurate for values far from 0.
    let shift = v.iter().map(|x| x - first).sum::<f64>() / n as f64;
    let mean = first + shift;
    let var = if n > 1 {
        let d: Vec<f64> = v.iter().map(|x| x - first).collect();
        d.iter().map(|x| (x - shift) * (x - shift)).sum::<f64>() / (n - 1) as f64
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

/// What makes an optimizer setting, from typed columns: optimizer, hyperparameters but `lr`,
/// schedule, and the batch size as [`batch_text`] spells it (so the full batch of two problems
/// is one setting).
pub type FamilyKey = (String, Vec<(String, String)>, Option<String>, String);

/// The optimizer setting of a configuration.
pub fn family_key(c: &Config, runs: &[Run]) -> FamilyKey {
    let r = &runs[c.runs[0]];
    (
        r.optimizer.clone(),
        r.hparams.clone(),
        r.schedule.clone(),
        batch_text(c),
    )
}

/// Sets [`Config::family`] of every configuration and returns the families' names
/// ([`family_names`]).
fn assign_families(configs: &mut [Config], runs: &[Run]) -> Vec<String> {
    let mut keys: Vec<FamilyKey> = Vec::new();
    for c in configs.iter_mut() {
        let k = family_key(c, runs);
        c.family = match keys.iter().position(|x| *x == k) {
            Some(i) => i,
            None => {
                keys.push(k);
                keys.len() - 1
            }
        };
    }
    family_names(&keys)
}

/// Readable names of optimizer settings: the optimizer, then each hyperparameter (but `lr`)
/// whose value differs between the settings of that optimizer, the schedule's name where
/// schedules differ, and `bs=N` (`bs=full`) where the settings differ in batch size. So `sgd`
/// and `sgd momentum=0.9` are two settings, each tuned over its learning rates.
pub fn family_names(keys: &[FamilyKey]) -> Vec<String> {
    let several_batches = keys.iter().any(|k| k.3 != keys[0].3);
    keys.iter()
        .map(|(opt, hps, schedule, batch)| {
            let same_opt: Vec<&FamilyKey> = keys.iter().filter(|k| &k.0 == opt).collect();
            let mut name = opt.clone();
            for (n, v) in hps {
                let varies = same_opt
                    .iter()
                    .any(|k| k.1.iter().find(|(m, _)| m == n).map(|(_, w)| w) != Some(v));
                if varies {
                    name.push_str(&format!(" {n}={v}"));
                }
            }
            if same_opt.iter().any(|k| &k.2 != schedule) {
                name.push_str(&format!(" schedule={}", schedule_name(schedule.as_deref())));
            }
            if several_batches {
                name.push_str(&format!(" bs={batch}"));
            }
            name
        })
        .collect()
}

/// `full` or the number of examples per step.
pub fn batch_text(c: &Config) -> String {
    if c.full_batch {
        "full".into()
    } else if c.batch_size.is_finite() {
        number_text(c.batch_size)
    } else {
        "n/a".into()
    }
}

/// The `name` of a schedule's canonical JSON (`constant` when there is none).
fn schedule_name(json: Option<&str>) -> String {
    let Some(text) = json else {
        return "constant".into();
    };
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("name").and_then(|n| n.as_str()).map(str::to_owned))
        .unwrap_or_else(|| "custom".into())
}

/// Per optimizer setting ([`Config::family`], in configuration order), the index into
/// `group.configs` of its best configuration.
pub fn best_per_optimizer(group: &ProblemGroup, runs: &[Run], by: SelectBy) -> Vec<usize> {
    let mut best: Vec<(usize, usize)> = Vec::new();
    for (ci, c) in group.configs.iter().enumerate() {
        match best.iter_mut().find(|(f, _)| *f == c.family) {
            None => best.push((c.family, ci)),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Three identical values have a spread of exactly 0 and their mean is the value (with the
    /// plain sum / n, 0.1 + 0.1 + 0.1 = 0.30000000000000004 and the spread is 1.7e-17).
    #[test]
    fn identical_values_have_zero_spread() {
        for x in [0.1, 0.0463, 1e300, -7.25e-9] {
            let s = summarize([x, x, x]).unwrap();
            assert_eq!(s.std.to_bits(), 0f64.to_bits(), "{x}");
            assert_eq!(s.mean.to_bits(), x.to_bits(), "{x}");
        }
    }

    /// Mean and sample standard deviation of 1, 2, 3, 4 (by hand: 2.5 and sqrt(5/3)).
    #[test]
    fn summary_by_hand() {
        let s = summarize([4.0, 1.0, f64::NAN, 3.0, 2.0]).unwrap();
        assert_eq!(s.n, 4);
        assert!((s.mean - 2.5).abs() < 1e-15);
        assert!((s.std - (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert_eq!(
            (s.min.to_bits(), s.max.to_bits()),
            (1f64.to_bits(), 4f64.to_bits())
        );
    }
}
