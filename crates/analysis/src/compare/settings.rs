//! The thresholds of a comparison and their checks.

use serde::Serialize;

use super::{
    CompareError, DEFAULT_METRICS, KNOWN_METRICS, TARGET_METRICS, Target, is_speed_metric,
    metric_direction,
};
use optbench_results::FINAL_TRAIN_LOSS;

/// The thresholds of a comparison (see the module docs for their meaning).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Settings {
    /// Metrics of runs.parquet compared, in order.
    pub metrics: Vec<String>,
    /// Steps-to-target metrics from metrics.parquet, compared after `metrics`.
    pub targets: Vec<Target>,
    /// Smallest median relative change that counts (default 0.05).
    pub min_effect: f64,
    /// Benjamini–Hochberg false discovery rate (default 0.05).
    pub fdr: f64,
    /// Noise floor of relative changes (default 1e-8).
    pub atol: f64,
    /// Underpowered worsenings fail the gate (default false).
    pub fail_underpowered: bool,
    /// Smallest median relative change of a speed metric that counts (default 0.10).
    pub speed_min_effect: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            metrics: DEFAULT_METRICS.iter().map(|s| s.to_string()).collect(),
            targets: Vec::new(),
            min_effect: 0.05,
            fdr: 0.05,
            atol: 1e-8,
            fail_underpowered: false,
            speed_min_effect: 0.10,
        }
    }
}

impl Settings {
    /// The minimum effect that applies to `metric`: [`Settings::speed_min_effect`] for the
    /// speed metrics, [`Settings::min_effect`] for the others.
    pub fn min_effect_of(&self, metric: &str) -> f64 {
        if is_speed_metric(metric) {
            self.speed_min_effect
        } else {
            self.min_effect
        }
    }

    /// Checks the thresholds and metric names.
    pub fn validate(&self) -> Result<(), CompareError> {
        if self.metrics.is_empty() && self.targets.is_empty() {
            return Err(CompareError::BadArgs("no metric to compare".into()));
        }
        for m in &self.metrics {
            if metric_direction(m).is_none() {
                let closest = closest_metric(m, KNOWN_METRICS.iter().copied(), FINAL_TRAIN_LOSS);
                return Err(CompareError::BadArgs(format!(
                    "unknown metric `{m}` (did you mean `{closest}`? known: {})",
                    KNOWN_METRICS.join(", ")
                )));
            }
        }
        for (k, t) in self.targets.iter().enumerate() {
            let known = TARGET_METRICS
                .iter()
                .any(|(m, d)| *m == t.metric && *d == t.direction);
            if !known || !t.value.is_finite() {
                return Err(CompareError::BadArgs(format!(
                    "target `{}` is not valid (metrics: train_loss, test_loss, batch_loss, \
                     grad_norm with <=, test_accuracy with >=; a finite value)",
                    t.name()
                )));
            }
            if self.targets[..k].iter().any(|u| u.name() == t.name()) {
                return Err(CompareError::BadArgs(format!(
                    "target `{}` is given twice",
                    t.name()
                )));
            }
        }
        if !(self.min_effect.is_finite() && self.min_effect >= 0.0) {
            return Err(CompareError::BadArgs(format!(
                "--min-effect must be a finite fraction >= 0, got {}",
                self.min_effect
            )));
        }
        if !(self.speed_min_effect.is_finite() && self.speed_min_effect >= 0.0) {
            return Err(CompareError::BadArgs(format!(
                "--speed-min-effect must be a finite fraction >= 0, got {}",
                self.speed_min_effect
            )));
        }
        if !(self.fdr > 0.0 && self.fdr < 1.0) {
            return Err(CompareError::BadArgs(format!(
                "--fdr must be in (0, 1), got {}",
                self.fdr
            )));
        }
        if !(self.atol.is_finite() && self.atol > 0.0) {
            return Err(CompareError::BadArgs(format!(
                "--atol must be a finite number > 0, got {}",
                self.atol
            )));
        }
        Ok(())
    }
}

/// The metric name of `known` closest to `name` (Jaro–Winkler similarity, which favours a shared
/// prefix such as `final_`), or `fallback` when `known` is empty; for "did you mean" in errors.
pub(crate) fn closest_metric<'a>(
    name: &str,
    known: impl Iterator<Item = &'a str>,
    fallback: &'a str,
) -> &'a str {
    known
        .max_by(|a, b| strsim::jaro_winkler(name, a).total_cmp(&strsim::jaro_winkler(name, b)))
        .unwrap_or(fallback)
}
