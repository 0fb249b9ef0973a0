//! The compare report as Markdown (stdout, `$GITHUB_STEP_SUMMARY`) and as JSON (`--json`).

use std::fmt::Write as _;

use super::read::short;
use super::target::Target;
use super::{CompareOutcome, Row, Verdict, is_speed_metric};

/// A number in a few significant digits.
pub(crate) fn num(x: Option<f64>) -> String {
    match x {
        None => "–".into(),
        Some(v) if v.is_infinite() && v > 0.0 => "not reached".into(),
        Some(0.0) => "0".into(),
        Some(v) if (1e-3..1e5).contains(&v.abs()) => format!("{v:.4}"),
        Some(v) => format!("{v:.3e}"),
    }
}

pub(crate) fn pct(x: Option<f64>) -> String {
    match x {
        None => "–".into(),
        Some(v) if v > 0.0 => format!("{:.1}% worse", 100.0 * v),
        Some(v) if v < 0.0 => format!("{:.1}% better", -100.0 * v),
        Some(_) => "0%".into(),
    }
}

fn md_escape(s: &str) -> String {
    s.replace('|', "\\|")
}

/// The Markdown report (`all`: include unchanged and within-tolerance rows).
pub fn render_markdown(outcome: &CompareOutcome, all: bool) -> String {
    let mut s = String::new();
    let r = match outcome {
        CompareOutcome::NotComparable(reasons) => {
            s.push_str("## optbench compare: not comparable\n\n");
            for reason in reasons {
                let _ = writeln!(s, "- {}", md_escape(reason));
            }
            return s;
        }
        CompareOutcome::Pass(r) | CompareOutcome::Regression(r) => r,
    };
    let c = &r.counts;
    let _ = writeln!(
        s,
        "## optbench compare: {}\n",
        if r.outcome == "pass" {
            "pass"
        } else {
            "REGRESSION"
        }
    );
    let _ = writeln!(
        s,
        "Baseline `{}` vs candidate `{}`: {} paired runs in {} cells; metrics {}.  ",
        r.baseline.display(),
        r.candidate.display(),
        r.runs,
        r.cells,
        r.settings
            .metrics
            .iter()
            .cloned()
            .chain(r.settings.targets.iter().map(Target::name))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        s,
        "Minimum effect {}% (median paired relative change, floor {:e}{}); one-sided Wilcoxon \
         signed-rank over seeds, Benjamini–Hochberg at FDR {} over {} changed cell-metrics.\n",
        100.0 * r.settings.min_effect,
        r.settings.atol,
        if r.settings.targets.is_empty() {
            ""
        } else {
            ", 1 step for steps to target"
        },
        r.settings.fdr,
        r.tests
    );
    if r.speed_tests > 0 || r.settings.metrics.iter().any(|m| is_speed_metric(m)) {
        let _ = writeln!(
            s,
            "Speed metrics (wall time, examples per second): minimum effect {}%, their own \
             Benjamini–Hochberg family over {} cell-metrics. Trust them only between runs on the \
             same machine type with no other load.\n",
            100.0 * r.settings.speed_min_effect,
            r.speed_tests
        );
    }
    let _ = writeln!(
        s,
        "{} regressions, {} underpowered worse, {} underpowered better, {} improvements, \
         {} within tolerance, {} unchanged.\n",
        c.regression,
        c.underpowered_regression,
        c.underpowered_improvement,
        c.improvement,
        c.within_tolerance,
        c.unchanged
    );
    let shown: Vec<&Row> = r
        .rows
        .iter()
        .filter(|row| all || !matches!(row.verdict, Verdict::Unchanged | Verdict::WithinTolerance))
        .collect();
    if shown.is_empty() {
        return s;
    }
    s.push_str(
        "| verdict | cell | metric | seeds | baseline median | candidate median | median change \
         | worse / better seeds | p (BH) |\n|---|---|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for row in shown {
        let p = match row.median_change {
            Some(m) if m < 0.0 => row.p_better_adjusted,
            _ => row.p_worse_adjusted,
        };
        let change = match &row.note {
            Some(note) => note.clone(),
            None => pct(row.median_change),
        };
        let _ = writeln!(
            s,
            "| {} | {} `{}` | {} | {} | {} | {} | {} | {} / {} | {} |",
            row.verdict.text(),
            md_escape(&row.cell),
            short(&row.cell_id),
            row.metric,
            row.seeds,
            num(row.baseline_median),
            num(row.candidate_median),
            md_escape(&change),
            row.worse_seeds,
            row.better_seeds,
            p.map(|p| format!("{p:.3}")).unwrap_or_else(|| "–".into())
        );
    }
    s
}

/// The JSON report: `{"outcome": "pass" | "regression" | "not_comparable", ...}`.
pub fn render_json(outcome: &CompareOutcome) -> String {
    let value = match outcome {
        CompareOutcome::Pass(r) | CompareOutcome::Regression(r) => {
            serde_json::to_value(r.as_ref()).unwrap_or_default()
        }
        CompareOutcome::NotComparable(reasons) => serde_json::json!({
            "outcome": "not_comparable",
            "reasons": reasons,
        }),
    };
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}
