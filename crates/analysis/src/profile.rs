//! Across-problem summaries of speed (`--profile METRIC=TARGET`): how many steps (or examples,
//! epochs, seconds: the cost is `--x`) each optimizer setting needs to reach a target, over every
//! problem of a results folder.
//!
//! **Cost.** A run's cost is the `--x` value of its first recorded row whose `METRIC` reaches
//! the target (`≤` for losses and norms, `≥` for accuracy: [`Target::reached`], the rule of
//! `compare --target`); `+∞` when it has values of the metric but never reaches it; none when the
//! metric does not apply (no value at all) or the run failed. Metrics are recorded every
//! `eval_every` steps, which is the cost's resolution.
//!
//! **Per problem and setting.** Problems are the problem variants of the folder; a setting is an
//! optimizer with its hyperparameters but the learning rate ([`crate::plot::group::FamilyKey`]),
//! tuned over its learning rates: of its configurations on the problem, the one with the lowest
//! median cost over seeds (ties: lower third quartile) stands for it, and `c(p, s)` is that
//! median. Quartiles interpolate linearly between order statistics (numpy's default), with
//! not-reached seeds counted as `+∞`.
//!
//! **Performance profile** (Dolan & Moré 2002, "Benchmarking optimization software with
//! performance profiles"; AlgoPerf scores submissions with them): the ratio
//! `r(p, s) = c(p, s) / min over s' of c(p, s')` (costs below one unit, e.g. a target met at step 0,
//! count as one unit: one step, one example, 10⁻⁶ epoch or 1 µs), `+∞` when `s` did not reach the
//! target or was not run on `p`, and `ρ_s(τ) = |{p : r(p, s) ≤ τ}| / |P|` over all problems `P`.
//! `ρ_s(1)` is the fraction of problems on which `s` was fastest, `ρ_s(∞)` the fraction it
//! solved.
//!
//! **Runtime ECDF** (COCO, Hansen et al. 2021, "COCO: a platform for comparing continuous
//! optimizers in a black-box setting"): over all (problem, target) pairs of the targets given for
//! one metric, the fraction with `c(p, s) ≤ budget`, against the budget.

use crate::compare::Target;
use crate::plot::data::{Run, Series, Status, XAxis};
use crate::plot::group::{Config, FamilyKey, ProblemGroup, family_key, family_names};
use crate::plot::quantity::Metric;
use std::collections::HashMap;

/// The cost of one run (see the module docs): `Some(+∞)` not reached, `None` not applicable.
pub fn run_cost(s: &Series, metric: Metric, target: &Target, x: XAxis) -> Option<f64> {
    let ys = metric.values(s);
    let xs = x.values(s);
    let mut seen = false;
    for (k, &y) in ys.iter().enumerate() {
        if y.is_finite() {
            seen = true;
        }
        if target.reached(y) && xs.get(k).is_some_and(|v| v.is_finite()) {
            return Some(xs[k]);
        }
    }
    seen.then_some(f64::INFINITY)
}

/// The `q`-quantile of sorted values (linear interpolation between order statistics, numpy's
/// default), `+∞` allowed; `None` for no values.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let frac = h - lo as f64;
    let a = sorted[lo];
    if frac == 0.0 || lo + 1 >= sorted.len() {
        return Some(a);
    }
    let b = sorted[lo + 1];
    Some(if b.is_infinite() {
        b
    } else {
        a + frac * (b - a)
    })
}

/// The seeds' costs of the configuration that stands for a setting on a problem.
#[derive(Clone, Debug, PartialEq)]
pub struct CellCost {
    /// The configuration's label.
    pub label: String,
    /// Costs of its seeds, ascending (`+∞`: not reached).
    pub costs: Vec<f64>,
    pub median: f64,
    pub q1: f64,
    pub q3: f64,
}

impl CellCost {
    /// Seeds that reached the target.
    pub fn solved(&self) -> usize {
        self.costs.iter().filter(|c| c.is_finite()).count()
    }
}

/// Costs for one target: per problem, per setting.
#[derive(Clone, Debug, PartialEq)]
pub struct Costs {
    pub target: Target,
    pub x: XAxis,
    /// Names of the settings (solvers).
    pub settings: Vec<String>,
    /// Problem titles.
    pub problems: Vec<String>,
    /// `cells[p][s]`: `None` when setting `s` was not run on problem `p` (or the metric does not
    /// apply).
    pub cells: Vec<Vec<Option<CellCost>>>,
}

/// The cost of one configuration over its seeds, if any seed has one.
fn config_cost(
    c: &Config,
    runs: &[Run],
    metrics: &HashMap<String, Series>,
    metric: Metric,
    target: &Target,
    x: XAxis,
) -> Option<CellCost> {
    let mut costs: Vec<f64> = c
        .runs
        .iter()
        .filter(|&&i| runs[i].status != Status::Failed)
        .filter_map(|&i| metrics.get(&runs[i].run_id))
        .filter_map(|s| run_cost(s, metric, target, x))
        .collect();
    costs.sort_by(f64::total_cmp);
    Some(CellCost {
        label: c.label.clone(),
        median: quantile(&costs, 0.5)?,
        q1: quantile(&costs, 0.25)?,
        q3: quantile(&costs, 0.75)?,
        costs,
    })
}

/// The settings of all groups, in order of first appearance, with their names; and per group,
/// the global setting of each of its families.
fn settings(groups: &[ProblemGroup], runs: &[Run]) -> (Vec<String>, Vec<Vec<usize>>) {
    let mut keys: Vec<FamilyKey> = Vec::new();
    let mut per_group = Vec::new();
    for g in groups {
        let mut map = vec![usize::MAX; g.families.len()];
        for c in &g.configs {
            let k = family_key(c, runs);
            let i = match keys.iter().position(|x| *x == k) {
                Some(i) => i,
                None => {
                    keys.push(k);
                    keys.len() - 1
                }
            };
            map[c.family] = i;
        }
        per_group.push(map);
    }
    (family_names(&keys), per_group)
}

/// Per problem and setting, the cost of the setting's best configuration (see the module docs).
pub fn costs(
    groups: &[ProblemGroup],
    runs: &[Run],
    metrics: &HashMap<String, Series>,
    target: &Target,
    x: XAxis,
) -> Costs {
    let metric: Metric = target.metric.parse().unwrap_or(Metric::TrainLoss);
    let (names, per_group) = settings(groups, runs);
    let mut cells = Vec::new();
    for (g, map) in groups.iter().zip(&per_group) {
        let mut row: Vec<Option<CellCost>> = vec![None; names.len()];
        for c in &g.configs {
            let Some(cost) = config_cost(c, runs, metrics, metric, target, x) else {
                continue;
            };
            let slot = &mut row[map[c.family]];
            let better = match slot {
                None => true,
                Some(cur) => (cost.median, cost.q3) < (cur.median, cur.q3),
            };
            if better {
                *slot = Some(cost);
            }
        }
        cells.push(row);
    }
    Costs {
        target: target.clone(),
        x,
        settings: names,
        problems: groups.iter().map(|g| g.title.clone()).collect(),
        cells,
    }
}

/// The smallest cost that counts (one step or example, 10⁻⁶ epoch, 1 µs).
pub fn cost_floor(x: XAxis) -> f64 {
    match x {
        XAxis::Step | XAxis::Examples => 1.0,
        XAxis::Epoch | XAxis::Time => 1e-6,
    }
}

impl Costs {
    /// `c(p, s)`: the median cost, `+∞` when not reached or not run.
    pub fn cost(&self, p: usize, s: usize) -> f64 {
        self.cells[p][s]
            .as_ref()
            .map_or(f64::INFINITY, |c| c.median)
    }

    /// The performance ratios `r(p, s)`, `[p][s]`.
    pub fn ratios(&self) -> Vec<Vec<f64>> {
        let floor = cost_floor(self.x);
        (0..self.problems.len())
            .map(|p| {
                let n = self.settings.len();
                let best = (0..n)
                    .map(|s| self.cost(p, s))
                    .fold(f64::INFINITY, f64::min)
                    .max(floor);
                (0..n)
                    .map(|s| {
                        let c = self.cost(p, s);
                        if c.is_finite() {
                            c.max(floor) / best
                        } else {
                            f64::INFINITY
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// The performance profile of each setting: its sorted finite ratios; `ρ_s(τ)` is the number
    /// of them `≤ τ` divided by [`Costs::problems`]' length.
    pub fn profile(&self) -> Vec<Vec<f64>> {
        let r = self.ratios();
        (0..self.settings.len())
            .map(|s| {
                let mut v: Vec<f64> = r
                    .iter()
                    .map(|row| row[s])
                    .filter(|x| x.is_finite())
                    .collect();
                v.sort_by(f64::total_cmp);
                v
            })
            .collect()
    }
}

/// `ρ(τ)` of a profile (sorted finite ratios) over `problems` problems.
pub fn rho(sorted_ratios: &[f64], problems: usize, tau: f64) -> f64 {
    if problems == 0 {
        return 0.0;
    }
    sorted_ratios.iter().filter(|&&r| r <= tau).count() as f64 / problems as f64
}

/// The runtime ECDF of each setting over all (problem, target) pairs of `costs` (one entry per
/// target, same settings and problems): its sorted finite costs, and the number of pairs.
pub fn ecdf(costs: &[Costs]) -> (Vec<Vec<f64>>, usize) {
    let Some(first) = costs.first() else {
        return (Vec::new(), 0);
    };
    let pairs = costs.iter().map(|c| c.problems.len()).sum();
    let per_setting = (0..first.settings.len())
        .map(|s| {
            let mut v: Vec<f64> = costs
                .iter()
                .flat_map(|c| (0..c.problems.len()).map(move |p| c.cost(p, s)))
                .filter(|x| x.is_finite())
                .map(|x| x.max(cost_floor(first.x)))
                .collect();
            v.sort_by(f64::total_cmp);
            v
        })
        .collect();
    (per_setting, pairs)
}
