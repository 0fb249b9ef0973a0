//! `compare --junit FILE`: the comparison as JUnit XML, which GitHub (test-report actions),
//! GitLab (`artifacts:reports:junit`) and Jenkins (the JUnit plugin) show as test results.
//!
//! Written with quick-junit (cargo-nextest's JUnit writer, which keeps the counts attributes
//! right and escapes text for XML). The structure:
//!
//! ```text
//! <testsuites name="optbench compare" tests=".." failures=".." errors=".." skipped="0">
//!   <testsuite name="<metric>" tests=".." failures=".." errors="0" skipped="0">  one per metric
//!     <testcase name="<problem/dataset label> [<cell id>]" classname="optbench.compare.<metric>">
//!       <failure type="regression" message="<the numbers>">details</failure>   a regression
//!       <system-out>verdict and numbers</system-out>                           otherwise
//! ```
//!
//! Each (cell, metric) row of the report is a test case, worst first; a status change is a case
//! of the suite `status`, which comes first, then the metrics in the order compared. A case fails when it makes the gate fail: a regression, and with
//! `--fail-underpowered` an underpowered worsening. When the folders are not comparable the file
//! holds one suite `optbench compare` with one case `comparable` in error, whose message gives
//! the reasons.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::read::short;
use super::render::{num, pct};
use super::{CompareOutcome, Report as CompareReport, Row, Verdict};
use optbench_results::STATUS;

/// The name of the `<testsuites>` element.
pub const REPORT_NAME: &str = "optbench compare";

/// The one-line message of a row: verdict, medians, change, seeds, adjusted p-value.
fn message(row: &Row, r: &CompareReport) -> String {
    let verdict = match row.verdict {
        Verdict::Regression => "regression",
        Verdict::UnderpoweredRegression => "underpowered worsening",
        Verdict::UnderpoweredImprovement => "underpowered improvement",
        Verdict::Improvement => "improvement",
        Verdict::WithinTolerance => "within tolerance",
        Verdict::Unchanged => "unchanged",
    };
    if let (Some(note), None) = (&row.note, row.baseline_median) {
        return format!("{verdict}: {note}");
    }
    let p = match row.median_change {
        Some(m) if m < 0.0 => row.p_better_adjusted,
        _ => row.p_worse_adjusted,
    };
    let mut s = format!(
        "{verdict}: median {} → {} ({}; minimum effect {}%); {} of {} seeds worse, {} better",
        num(row.baseline_median),
        num(row.candidate_median),
        pct(row.median_change),
        100.0 * r.settings.min_effect_of(&row.metric),
        row.worse_seeds,
        row.seeds,
        row.better_seeds,
    );
    if let Some(p) = p {
        s.push_str(&format!("; one-sided Wilcoxon p (BH) = {p:.3}"));
    }
    if let Some(note) = &row.note {
        s.push_str(&format!("; {note}"));
    }
    s
}

/// Whether the row makes the gate fail.
fn fails(row: &Row, r: &CompareReport) -> bool {
    row.verdict == Verdict::Regression
        || (r.settings.fail_underpowered && row.verdict == Verdict::UnderpoweredRegression)
}

/// The test case of one row.
fn case(row: &Row, r: &CompareReport) -> TestCase {
    let text = message(row, r);
    let status = if fails(row, r) {
        let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
        s.set_type(match row.verdict {
            Verdict::Regression => "regression",
            _ => "underpowered_regression",
        });
        s.set_message(text.clone());
        s.set_description(format!(
            "{text}\ncell {} (id {}), metric {}; baseline {}, candidate {}",
            row.cell,
            row.cell_id,
            row.metric,
            r.baseline.display(),
            r.candidate.display()
        ));
        s
    } else {
        TestCaseStatus::success()
    };
    let mut case = TestCase::new(format!("{} [{}]", row.cell, short(&row.cell_id)), status);
    case.set_classname(format!("optbench.compare.{}", row.metric));
    if !fails(row, r) {
        case.set_system_out(text);
    }
    case
}

/// The JUnit XML of a comparison (see the module docs).
pub fn render_junit(outcome: &CompareOutcome) -> Result<String, quick_junit::SerializeError> {
    let mut report = Report::new(REPORT_NAME);
    match outcome {
        CompareOutcome::NotComparable(reasons) => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_type("not_comparable");
            status.set_message(format!(
                "the results are not comparable: {}",
                reasons.join("; ")
            ));
            status.set_description(reasons.join("\n"));
            let mut suite = TestSuite::new(REPORT_NAME);
            suite.add_test_case(TestCase::new("comparable", status));
            report.add_test_suite(suite);
        }
        CompareOutcome::Pass(r) | CompareOutcome::Regression(r) => {
            // One suite per metric with rows: status first, then the compared metrics in
            // their order.
            let order = std::iter::once(STATUS.to_string())
                .chain(r.settings.metrics.iter().cloned())
                .chain(r.settings.targets.iter().map(|t| t.name()));
            for metric in order {
                if !r.rows.iter().any(|row| row.metric == metric) {
                    continue;
                }
                let mut suite = TestSuite::new(metric.as_str());
                suite.add_test_cases(
                    r.rows
                        .iter()
                        .filter(|row| row.metric == metric)
                        .map(|row| case(row, r)),
                );
                report.add_test_suite(suite);
            }
        }
    }
    report.to_string()
}
