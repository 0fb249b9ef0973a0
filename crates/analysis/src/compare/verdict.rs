//! The rows of a comparison and their verdicts: status changes per cell, then per metric the
//! paired relative changes, the one-sided Wilcoxon tests, Benjamini–Hochberg per family
//! (convergence metrics, speed metrics) and the verdict rules of the parent module's docs.

use super::pairing::Pairs;
use super::read::{Side, status_name};
use super::target::Target;
use super::{CompareError, Counts, Direction, Row, Settings, Verdict, is_speed_metric};
use crate::stats::{self, Alternative, WilcoxonMethod};
use optbench_results::STATUS;

/// One compared metric: its column in [`Side::metrics`] is its index in the list.
pub(crate) struct Compared<'a> {
    /// The name in the report.
    pub(crate) name: String,
    /// The target, for a steps-to-target metric.
    pub(crate) target: Option<&'a Target>,
    /// Which way it improves.
    pub(crate) direction: Direction,
}

/// The rows of a comparison before Benjamini–Hochberg.
#[derive(Default)]
pub(crate) struct Rows {
    /// Status rows and metric rows, cell by cell.
    pub(crate) rows: Vec<Row>,
    /// Indices of the rows with a Wilcoxon test (values moved).
    pub(crate) tested: Vec<usize>,
    /// Tested steps-to-target rows with seeds that reach the target only in the candidate.
    pub(crate) gained: Vec<usize>,
    /// Paired runs.
    pub(crate) runs: usize,
    /// Values present on one side only (the folders are not comparable).
    pub(crate) null_mismatch: Vec<String>,
}

fn empty_row(cell: &str, desc: &str, metric: &str, seeds: usize) -> Row {
    Row {
        cell_id: cell.to_string(),
        cell: desc.to_string(),
        metric: metric.to_string(),
        verdict: Verdict::Unchanged,
        seeds,
        baseline_median: None,
        candidate_median: None,
        median_change: None,
        worse_seeds: 0,
        better_seeds: 0,
        p_worse: None,
        p_worse_adjusted: None,
        p_better: None,
        p_better_adjusted: None,
        note: None,
    }
}

/// The status row of a cell, when a seed's status changed (ranked `ok < diverged < failed`).
fn status_row(cell: &str, pairs: &[(usize, usize)], b: &Side, c: &Side) -> Option<Row> {
    let mut worse = Vec::new();
    let mut better = Vec::new();
    for &(i, j) in pairs {
        let (sb, sc) = (b.status[i], c.status[j]);
        let note = format!(
            "seed {}: {} → {}",
            b.seed[i],
            status_name(sb),
            status_name(sc)
        );
        if sc > sb {
            worse.push(note);
        } else if sc < sb {
            better.push(note);
        }
    }
    if worse.is_empty() && better.is_empty() {
        return None;
    }
    let mut row = empty_row(cell, &b.desc[pairs[0].0], STATUS, pairs.len());
    row.verdict = if worse.is_empty() {
        Verdict::Improvement
    } else {
        Verdict::Regression
    };
    row.worse_seeds = worse.len();
    row.better_seeds = better.len();
    worse.extend(better);
    row.note = Some(worse.join("; "));
    Some(row)
}

/// The pairs of values of metric `k` over seeds that are ok on both sides: (baseline,
/// candidate, seed). A value present on one side only is recorded in `null_mismatch`.
fn paired_values(
    k: usize,
    metric: &Compared,
    pairs: &[(usize, usize)],
    b: &Side,
    c: &Side,
    null_mismatch: &mut Vec<String>,
) -> (Vec<f64>, Vec<f64>, Vec<u64>) {
    let (bv, cv) = (&b.metrics[k], &c.metrics[k]);
    let mut base = Vec::with_capacity(pairs.len());
    let mut cand = Vec::with_capacity(pairs.len());
    let mut seeds = Vec::with_capacity(pairs.len());
    for &(i, j) in pairs {
        if b.status[i] != 0 || c.status[j] != 0 {
            continue;
        }
        match (bv[i], cv[j]) {
            // Steps to target: finite or +inf (not reached).
            (Some(x), Some(y)) if metric.target.is_some() || (x.is_finite() && y.is_finite()) => {
                base.push(x);
                cand.push(y);
                seeds.push(b.seed[i]);
            }
            (None, None) => {}
            (Some(x), Some(y)) if !x.is_finite() && !y.is_finite() => {}
            (x, y) => null_mismatch.push(format!(
                "{} of {} seed {} is {} in the baseline and {} in the candidate",
                metric.name,
                b.desc[i],
                b.seed[i],
                fmt_opt(x),
                fmt_opt(y)
            )),
        }
    }
    (base, cand, seeds)
}

fn fmt_opt(v: Option<f64>) -> String {
    match v {
        None => "null".into(),
        Some(x) => format!("{x}"),
    }
}

/// What a metric row needs after its values are paired.
enum MetricRow {
    /// Final: unchanged, or decided by seeds that reached a target on one side only.
    Decided(Row),
    /// Goes through the Wilcoxon tests and Benjamini–Hochberg; `gained`: some seed reached
    /// the target only in the candidate.
    Tested { row: Row, gained: bool },
}

/// The row of one metric of one cell, or None when no seed has values on both sides.
fn metric_row(
    k: usize,
    metric: &Compared,
    pairs: &[(usize, usize)],
    (b, c): (&Side, &Side),
    settings: &Settings,
    null_mismatch: &mut Vec<String>,
) -> Result<Option<MetricRow>, CompareError> {
    let (base, cand, seeds) = paired_values(k, metric, pairs, b, c, null_mismatch);
    if base.is_empty() {
        return Ok(None);
    }
    let (i0, _) = pairs[0];
    let mut row = empty_row(&b.cell_id[i0], &b.desc[i0], &metric.name, base.len());
    row.baseline_median = stats::median(&base);
    row.candidate_median = stats::median(&cand);
    row.median_change = Some(0.0);
    if base
        .iter()
        .zip(&cand)
        .all(|(x, y)| x.to_bits() == y.to_bits())
    {
        return Ok(Some(MetricRow::Decided(row)));
    }
    // Paired relative changes, positive = worse. Steps to target: seeds that reached the
    // target on one side only are set apart (`lost`: regression; `gained`: improvement), not
    // reached on both sides is an unchanged pair, and the floor is one step.
    let sign = match metric.direction {
        Direction::HigherIsBetter => -1.0,
        Direction::LowerIsBetter => 1.0,
    };
    let floor = if metric.target.is_some() {
        1.0
    } else {
        settings.atol
    };
    let min_effect = settings.min_effect_of(&metric.name);
    let mut w = Vec::with_capacity(base.len());
    let (mut lost, mut gained) = (Vec::new(), Vec::new());
    for ((x, y), seed) in base.iter().zip(&cand).zip(&seeds) {
        if x.to_bits() == y.to_bits() {
            w.push(0.0);
        } else if x.is_finite() && !y.is_finite() {
            lost.push(format!("seed {seed}: step {x} → not reached"));
        } else if !x.is_finite() && y.is_finite() {
            gained.push(format!("seed {seed}: not reached → step {y}"));
        } else {
            w.push(sign * (y - x) / x.abs().max(floor));
        }
    }
    row.median_change = stats::median(&w).or(Some(0.0));
    row.worse_seeds = lost.len() + w.iter().filter(|v| **v > min_effect).count();
    row.better_seeds = gained.len() + w.iter().filter(|v| **v < -min_effect).count();
    if !lost.is_empty() || !gained.is_empty() {
        let mut notes = lost.clone();
        notes.extend(gained.iter().cloned());
        row.note = Some(format!("{} (target)", notes.join("; ")));
    }
    if !lost.is_empty() {
        row.verdict = Verdict::Regression;
        return Ok(Some(MetricRow::Decided(row)));
    }
    if w.iter().all(|v| *v == 0.0) {
        // Only seeds that newly reach the target moved.
        row.verdict = Verdict::Improvement;
        return Ok(Some(MetricRow::Decided(row)));
    }
    let method = WilcoxonMethod::Auto { correction: true };
    let internal = |e: stats::StatsError| CompareError::Internal(e.to_string());
    row.p_worse = Some(
        stats::wilcoxon_signed_rank(&w, Alternative::Greater, method)
            .map_err(internal)?
            .p_value,
    );
    row.p_better = Some(
        stats::wilcoxon_signed_rank(&w, Alternative::Less, method)
            .map_err(internal)?
            .p_value,
    );
    Ok(Some(MetricRow::Tested {
        row,
        gained: !gained.is_empty(),
    }))
}

/// Every row of every cell: its status row, then one row per metric with values.
pub(crate) fn cell_rows(
    b: &Side,
    c: &Side,
    pairs: &Pairs,
    metrics: &[Compared],
    settings: &Settings,
) -> Result<Rows, CompareError> {
    let mut out = Rows::default();
    for cell in &pairs.cell_order {
        let mut cell_pairs = pairs.cell_pairs[cell].clone();
        cell_pairs.sort_by_key(|&(i, _)| b.seed[i]);
        out.runs += cell_pairs.len();
        out.rows.extend(status_row(cell, &cell_pairs, b, c));
        for (k, metric) in metrics.iter().enumerate() {
            let made = metric_row(
                k,
                metric,
                &cell_pairs,
                (b, c),
                settings,
                &mut out.null_mismatch,
            )?;
            match made {
                None => {}
                Some(MetricRow::Decided(row)) => out.rows.push(row),
                Some(MetricRow::Tested { row, gained }) => {
                    if gained {
                        out.gained.push(out.rows.len());
                    }
                    out.tested.push(out.rows.len());
                    out.rows.push(row);
                }
            }
        }
    }
    Ok(out)
}

/// Benjamini–Hochberg over the tested rows of one family, separately for each direction, then
/// the verdict of each (see the parent module's docs).
fn decide_family(
    rows: &mut [Row],
    family: &[usize],
    gained: &[usize],
    settings: &Settings,
) -> Result<(), CompareError> {
    let internal = |e: stats::StatsError| CompareError::Internal(e.to_string());
    let pw: Vec<f64> = family
        .iter()
        .map(|&r| rows[r].p_worse.unwrap_or(1.0))
        .collect();
    let pb: Vec<f64> = family
        .iter()
        .map(|&r| rows[r].p_better.unwrap_or(1.0))
        .collect();
    let aw = stats::benjamini_hochberg(&pw).map_err(internal)?;
    let ab = stats::benjamini_hochberg(&pb).map_err(internal)?;
    for (t, &r) in family.iter().enumerate() {
        let row = &mut rows[r];
        let min_effect = settings.min_effect_of(&row.metric);
        row.p_worse_adjusted = Some(aw[t]);
        row.p_better_adjusted = Some(ab[t]);
        let m = row.median_change.unwrap_or(0.0);
        let n = row.seeds;
        row.verdict = if m > min_effect {
            if aw[t] <= settings.fdr || row.worse_seeds == n {
                Verdict::Regression
            } else {
                Verdict::UnderpoweredRegression
            }
        } else if m < -min_effect {
            if ab[t] <= settings.fdr || row.better_seeds == n {
                Verdict::Improvement
            } else {
                Verdict::UnderpoweredImprovement
            }
        } else {
            Verdict::WithinTolerance
        };
        // A seed that newly reaches the target is an improvement unless the others got worse.
        if gained.contains(&r)
            && !matches!(
                row.verdict,
                Verdict::Regression | Verdict::UnderpoweredRegression
            )
        {
            row.verdict = Verdict::Improvement;
        }
    }
    Ok(())
}

/// Decides every tested row, one Benjamini–Hochberg family for the convergence metrics and one
/// for the speed metrics; returns the size of each family.
pub(crate) fn decide(rows: &mut Rows, settings: &Settings) -> Result<(usize, usize), CompareError> {
    let (speed, convergence): (Vec<usize>, Vec<usize>) = rows
        .tested
        .iter()
        .partition(|&&r| is_speed_metric(&rows.rows[r].metric));
    decide_family(&mut rows.rows, &convergence, &rows.gained, settings)?;
    decide_family(&mut rows.rows, &speed, &rows.gained, settings)?;
    Ok((convergence.len(), speed.len()))
}

/// Rows per verdict.
pub(crate) fn count(rows: &[Row]) -> Counts {
    let mut counts = Counts::default();
    for r in rows {
        *match r.verdict {
            Verdict::Regression => &mut counts.regression,
            Verdict::UnderpoweredRegression => &mut counts.underpowered_regression,
            Verdict::UnderpoweredImprovement => &mut counts.underpowered_improvement,
            Verdict::Improvement => &mut counts.improvement,
            Verdict::WithinTolerance => &mut counts.within_tolerance,
            Verdict::Unchanged => &mut counts.unchanged,
        } += 1;
    }
    counts
}
