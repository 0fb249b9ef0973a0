//! The convergence data of one configuration in `report.html`: at the kept steps (see
//! [`super::downsample`]), the mean over seeds of every x quantity and, per metric, the mean,
//! min and max over seeds.
//!
//! Same statistics as the static figures' [`crate::plot::data::aggregate`] (failed runs skipped,
//! finite values only, seeds aligned by step), computed in one pass for every metric and x
//! quantity and only at the kept steps, so a 1,000-run sweep with long runs stays fast.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::plot::data::{self, Config, Metric, Run, Series, Status, XAxis};

use super::downsample;

/// Significant digits of a mean in the page (the value shown on hover).
pub const MEAN_DIGITS: usize = 5;
/// Significant digits of a band edge (min or max over seeds).
pub const BAND_DIGITS: usize = 3;
/// Significant digits of x values (epochs, examples seen) that are not a multiple of the step.
pub const X_DIGITS: usize = 4;
/// Significant digits of wall times.
pub const TIME_DIGITS: usize = 3;

/// The metrics drawn in the page's convergence charts.
pub const METRICS: [Metric; 3] = [Metric::TrainLoss, Metric::TestLoss, Metric::TestAccuracy];

/// `v` rounded to `digits` significant digits (the nearest `f64` to the decimal, so JSON prints
/// it short); non-finite values are unchanged (JSON `null`).
pub fn round_sig(v: f64, digits: usize) -> f64 {
    if !v.is_finite() || v == 0.0 {
        return v;
    }
    format!("{:.*e}", digits.saturating_sub(1), v)
        .parse()
        .unwrap_or(v)
}

/// An x quantity: `scale × step` at every kept step (epochs and examples at a fixed batch
/// size), or its values.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(untagged)]
pub enum XValues {
    Scale(f64),
    Values(Vec<f64>),
}

/// Mean over seeds (`m`) and, where seeds differ, min (`lo`) and max (`hi`) of one metric.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Band {
    pub m: Vec<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lo: Option<Vec<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hi: Option<Vec<f64>>,
}

/// One configuration's curves.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Curves {
    /// Index into the page's shared step lists.
    pub g: usize,
    /// `epoch`, `examples`, `time` (absent where never recorded).
    pub x: BTreeMap<&'static str, XValues>,
    /// Per metric column name.
    pub y: BTreeMap<&'static str, Band>,
}

/// Step lists shared by configurations that kept the same steps.
#[derive(Default)]
pub struct Grids {
    pub lists: Vec<Vec<u64>>,
    index: HashMap<Vec<u64>, usize>,
}

impl Grids {
    fn intern(&mut self, steps: Vec<u64>) -> usize {
        if let Some(&i) = self.index.get(&steps) {
            return i;
        }
        let i = self.lists.len();
        self.lists.push(steps.clone());
        self.index.insert(steps, i);
        i
    }
}

/// The key of an x quantity in the page.
pub fn x_key(x: XAxis) -> &'static str {
    match x {
        XAxis::Step => "step",
        XAxis::Epoch => "epoch",
        XAxis::Examples => "examples",
        XAxis::Time => "time",
    }
}

/// Position of `step` in a run's sorted steps.
fn row_of(s: &Series, step: u64) -> Option<usize> {
    let target = step as f64;
    s.step
        .binary_search_by(|v| v.total_cmp(&target))
        .ok()
        .filter(|_| target.is_finite())
}

/// The curves of one configuration, or `None` if none of its runs recorded a step.
pub fn curves(
    config: &Config,
    runs: &[Run],
    metrics: &HashMap<String, Series>,
    grids: &mut Grids,
) -> Option<Curves> {
    let seeds: Vec<&Series> = config
        .runs
        .iter()
        .filter(|&&i| runs[i].status != Status::Failed)
        .filter_map(|&i| metrics.get(&runs[i].run_id))
        .collect();
    let mut steps: Vec<u64> = seeds
        .iter()
        .flat_map(|s| s.step.iter().filter(|v| v.is_finite()).map(|&v| v as u64))
        .collect();
    steps.sort_unstable();
    steps.dedup();
    if steps.is_empty() {
        return None;
    }
    let kept: Vec<u64> = downsample::select(steps.len(), downsample::MAX_POINTS)
        .into_iter()
        .map(|k| steps[k])
        .collect();
    // rows[j][k]: the row of kept step k in seed j.
    let rows: Vec<Vec<Option<usize>>> = seeds
        .iter()
        .map(|s| kept.iter().map(|&st| row_of(s, st)).collect())
        .collect();
    // Mean, min and max over the seeds that recorded kept step k.
    let at = |values: &dyn Fn(&Series, usize) -> f64, k: usize| {
        data::summarize(
            seeds
                .iter()
                .zip(&rows)
                .filter_map(|(s, r)| r[k].map(|i| values(s, i))),
        )
    };
    let mut x = BTreeMap::new();
    for (axis, digits) in [
        (XAxis::Epoch, X_DIGITS),
        (XAxis::Examples, X_DIGITS),
        (XAxis::Time, TIME_DIGITS),
    ] {
        let values: Vec<f64> = (0..kept.len())
            .map(|k| at(&|s, i| axis.values(s)[i], k).map_or(f64::NAN, |s| s.mean))
            .collect();
        if values.iter().all(|v| !v.is_finite()) {
            continue;
        }
        let encoded = match linear_scale(&kept, &values) {
            Some(scale) if axis != XAxis::Time => XValues::Scale(scale),
            _ => XValues::Values(values.iter().map(|&v| round_sig(v, digits)).collect()),
        };
        x.insert(x_key(axis), encoded);
    }
    let mut y = BTreeMap::new();
    for metric in METRICS {
        let sums: Vec<Option<data::Summary>> = (0..kept.len())
            .map(|k| at(&|s, i| metric.values(s)[i], k))
            .collect();
        if sums.iter().all(Option::is_none) {
            continue;
        }
        let pick = |f: fn(&data::Summary) -> f64, digits| -> Vec<f64> {
            sums.iter()
                .map(|s| s.as_ref().map_or(f64::NAN, |s| round_sig(f(s), digits)))
                .collect()
        };
        let spread = sums.iter().flatten().any(|s| s.max > s.min);
        y.insert(
            metric.column(),
            Band {
                m: pick(|s| s.mean, MEAN_DIGITS),
                lo: spread.then(|| pick(|s| s.min, BAND_DIGITS)),
                hi: spread.then(|| pick(|s| s.max, BAND_DIGITS)),
            },
        );
    }
    Some(Curves {
        g: grids.intern(kept),
        x,
        y,
    })
}

/// `Some(a)` if `values[k] = a × steps[k]` at every kept step (to 1e-9 relative), the form of
/// epochs and examples seen at a fixed batch size.
fn linear_scale(steps: &[u64], values: &[f64]) -> Option<f64> {
    let (&s, &v) = steps.iter().zip(values).rev().find(|(s, _)| **s > 0)?;
    let a = v / s as f64;
    let fits = steps.iter().zip(values).all(|(&s, &v)| {
        let want = a * s as f64;
        v.is_finite() && (v - want).abs() <= 1e-9 * want.abs().max(1e-300)
    });
    (fits && a.is_finite()).then_some(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_keeps_significant_digits() {
        assert_eq!(round_sig(0.123_456_789, 5).to_string(), "0.12346");
        assert_eq!(round_sig(123_456.0, 3).to_string(), "123000");
        assert_eq!(round_sig(-2.5e-7, 2).to_string(), "-0.00000025");
        assert!(round_sig(f64::NAN, 3).is_nan());
        assert_eq!(round_sig(0.0, 3).to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn linear_x_is_a_scale_and_anything_else_values() {
        assert_eq!(linear_scale(&[0, 10, 20], &[0.0, 320.0, 640.0]), Some(32.0));
        assert_eq!(linear_scale(&[0, 10, 20], &[0.0, 320.0, 630.0]), None);
        assert_eq!(linear_scale(&[0, 10], &[0.0, f64::NAN]), None);
        assert_eq!(linear_scale(&[0], &[0.0]), None);
    }

    fn series(steps: &[f64], loss: &[f64]) -> Series {
        Series {
            step: steps.to_vec(),
            epoch: steps.iter().map(|s| s / 10.0).collect(),
            examples_seen: steps.iter().map(|s| s * 32.0).collect(),
            wall_time_s: steps.iter().map(|s| s * 0.001).collect(),
            train_loss: loss.to_vec(),
            test_loss: vec![f64::NAN; steps.len()],
            test_accuracy: vec![f64::NAN; steps.len()],
            ..Series::default()
        }
    }

    fn run(id: &str, seed: u64, status: Status) -> Run {
        Run {
            run_id: id.into(),
            cell_id: "c".into(),
            problem: "p".into(),
            dataset: None,
            optimizer: "sgd".into(),
            label: "sgd lr=0.1".into(),
            seed,
            data_seed: None,
            batch_size: 32.0,
            full_batch: false,
            lr: 0.1,
            status,
            final_train_loss: 0.0,
            final_test_loss: f64::NAN,
            final_test_accuracy: f64::NAN,
            best_train_loss: 0.0,
            wall_time_s: 1.0,
            problem_params: Vec::new(),
            hparams: Vec::new(),
            schedule: None,
        }
    }

    #[test]
    fn seeds_are_averaged_per_step_and_failed_runs_skipped() {
        let runs = vec![
            run("a", 0, Status::Ok),
            run("b", 1, Status::Diverged),
            run("c", 2, Status::Failed),
        ];
        let mut metrics = HashMap::new();
        metrics.insert("a".into(), series(&[0.0, 10.0, 20.0], &[4.0, 2.0, 1.0]));
        metrics.insert("b".into(), series(&[0.0, 10.0], &[6.0, f64::INFINITY]));
        metrics.insert(
            "c".into(),
            series(&[0.0, 10.0, 20.0], &[100.0, 100.0, 100.0]),
        );
        let config = Config {
            cell_id: "c".into(),
            label: "sgd lr=0.1".into(),
            optimizer: "sgd".into(),
            batch_size: 32.0,
            full_batch: false,
            lr: 0.1,
            family: 0,
            runs: vec![0, 1, 2],
        };
        let mut grids = Grids::default();
        let c = curves(&config, &runs, &metrics, &mut grids).unwrap();
        assert_eq!(grids.lists[c.g], vec![0, 10, 20]);
        let train = &c.y["train_loss"];
        assert_eq!(train.m, vec![5.0, 2.0, 1.0]);
        assert_eq!(train.lo.as_ref().unwrap()[0].to_bits(), 4f64.to_bits());
        assert_eq!(train.hi.as_ref().unwrap()[0].to_bits(), 6f64.to_bits());
        assert!(!c.y.contains_key("test_loss"));
        assert_eq!(c.x["examples"], XValues::Scale(32.0));
        assert_eq!(c.x["epoch"], XValues::Scale(0.1));
        assert_eq!(c.x["time"], XValues::Values(vec![0.0, 0.01, 0.02]));
        // A second configuration with the same steps shares the step list.
        let again = curves(&config, &runs, &metrics, &mut grids).unwrap();
        assert_eq!(again.g, c.g);
        assert_eq!(grids.lists.len(), 1);
    }
}
