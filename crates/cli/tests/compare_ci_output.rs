//! CI-native output of `optbench compare`: the JUnit file parsed with an XML parser
//! (roxmltree) and checked against the structure GitHub, GitLab and Jenkins read, the step
//! summary, and the speed metrics with their own rule.

mod results_fixture;

use std::path::Path;

use optbench_analysis::compare::{CompareOutcome, Settings, Verdict, compare_dirs};
use results_fixture::{Run, describe, optbench, run, write_results};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Baseline and candidate: cell `worse` (train loss +20 % on every seed), `same`, `better`
/// (−30 %), and `broke` (seed 0 diverges in the candidate).
fn fixture(root: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let mut base = Vec::new();
    let mut cand = Vec::new();
    for seed in 0..3 {
        let v = 1.0 + seed as f64;
        for (cell, factor) in [("worse", 1.2), ("same", 1.0), ("better", 0.7)] {
            base.push(run(cell, seed, v));
            cand.push(run(cell, seed, v * factor));
        }
        base.push(run("broke", seed, v));
        cand.push(if seed == 0 {
            Run {
                status: "diverged",
                train: Some(f64::NAN),
                test: Some(f64::NAN),
                ..run("broke", seed, v)
            }
        } else {
            run("broke", seed, v)
        });
    }
    let (b, c) = (root.join("b"), root.join("c"));
    write_results(&b, &base, None);
    write_results(&c, &cand, None);
    (b, c)
}

fn attr<'a>(node: roxmltree::Node<'a, '_>, name: &str) -> &'a str {
    node.attribute(name)
        .unwrap_or_else(|| panic!("<{}> has no {name}", node.tag_name().name()))
}

fn count(node: roxmltree::Node, name: &str) -> usize {
    attr(node, name).parse().unwrap()
}

fn elements<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    tag: &'a str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> {
    node.children().filter(move |n| n.has_tag_name(tag))
}

#[test]
fn junit_has_a_case_per_cell_and_metric_and_a_failure_per_regression() {
    let tmp = tempfile::tempdir().unwrap();
    let (b, c) = fixture(tmp.path());
    let junit = tmp.path().join("out/junit.xml");
    std::fs::create_dir_all(junit.parent().unwrap()).unwrap();
    let o = optbench(&["compare", s(&b), s(&c), "--junit", s(&junit)], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let text = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(attr(root, "name"), "optbench compare");
    let suites: Vec<_> = elements(root, "testsuite").collect();
    // Suites: status (broke), final_train_loss, final_test_loss (no accuracy values).
    let names: Vec<&str> = suites.iter().map(|s| attr(*s, "name")).collect();
    assert_eq!(names, ["status", "final_train_loss", "final_test_loss"]);
    let (mut tests, mut failures) = (0, 0);
    for suite in &suites {
        let cases: Vec<_> = elements(*suite, "testcase").collect();
        let failed = cases
            .iter()
            .filter(|c| elements(**c, "failure").count() == 1)
            .count();
        assert_eq!(count(*suite, "tests"), cases.len());
        assert_eq!(count(*suite, "failures"), failed);
        assert_eq!(count(*suite, "errors"), 0);
        for case in &cases {
            assert_eq!(
                attr(*case, "classname"),
                format!("optbench.compare.{}", attr(*suite, "name"))
            );
            assert!(elements(*case, "error").next().is_none());
        }
        tests += cases.len();
        failures += failed;
    }
    // 4 cells × 2 metrics + the status row of `broke`; failures: `worse` twice and `broke`.
    assert_eq!((tests, failures), (9, 3));
    assert_eq!(count(root, "tests"), tests);
    assert_eq!(count(root, "failures"), failures);
    assert_eq!(count(root, "errors"), 0);
    // The failure of `worse` gives the numbers: medians 2 → 2.4, +20 %, 3 of 3 seeds.
    let worse = suites[1]
        .descendants()
        .find(|n| n.has_tag_name("testcase") && attr(*n, "name").contains("worse"))
        .unwrap();
    let failure = elements(worse, "failure").next().unwrap();
    let message = attr(failure, "message");
    assert!(
        message.starts_with("regression: median 2.0000 → 2.4000 (20.0% worse"),
        "{message}"
    );
    assert!(message.contains("3 of 3 seeds worse"), "{message}");
    assert_eq!(attr(failure, "type"), "regression");
    let broke = elements(suites[0], "testcase").next().unwrap();
    assert!(attr(elements(broke, "failure").next().unwrap(), "message").contains("ok → diverged"));
    // Passing cases say why in system-out.
    let better = suites[1]
        .descendants()
        .find(|n| n.has_tag_name("testcase") && attr(*n, "name").contains("better"))
        .unwrap();
    let out = elements(better, "system-out")
        .next()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        out.starts_with("improvement: median 2.0000 → 1.4000"),
        "{out}"
    );
}

#[test]
fn junit_of_folders_that_cannot_be_compared_is_one_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (b, _) = fixture(tmp.path());
    let other = tmp.path().join("other");
    write_results(&other, &[run("x", 0, 1.0)], None);
    let junit = tmp.path().join("junit.xml");
    let o = optbench(&["compare", s(&b), s(&other), "--junit", s(&junit)], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    let text = std::fs::read_to_string(&junit).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let root = doc.root_element();
    assert_eq!(
        (
            count(root, "tests"),
            count(root, "errors"),
            count(root, "failures")
        ),
        (1, 1, 0)
    );
    let error = root
        .descendants()
        .find(|n| n.has_tag_name("error"))
        .unwrap();
    assert!(attr(error, "message").contains("not comparable"));
}

#[test]
fn summary_is_appended_to_the_github_step_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let (b, c) = fixture(tmp.path());
    let summary = tmp.path().join("summary.md");
    std::fs::write(&summary, "# earlier step\n").unwrap();
    let o = optbench(
        &["compare", s(&b), s(&c), "--summary"],
        &[("GITHUB_STEP_SUMMARY", &summary)],
    );
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("# earlier step\n## optbench compare: REGRESSION"),
        "{text}"
    );
    assert!(text.contains(&String::from_utf8_lossy(&o.stdout).to_string()));
    // Without the variable nothing is written and the gate still runs.
    let o = optbench(&["compare", s(&b), s(&b), "--summary"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("GITHUB_STEP_SUMMARY is not set"));
}

/// Cells `slow` (wall time × `slow`) and `steady` (× `steady`), 5 seeds each, in wall time
/// only; the losses do not move.
fn speed(root: &Path, slow: [f64; 5], steady: [f64; 5]) -> CompareOutcome {
    let mut base = Vec::new();
    let mut cand = Vec::new();
    for seed in 0..5 {
        for (cell, f) in [("slow", slow[seed]), ("steady", steady[seed])] {
            let r = run(cell, seed as u64, 1.0);
            base.push(Run {
                wall: 2.0 + seed as f64,
                ..r.clone()
            });
            cand.push(Run {
                wall: (2.0 + seed as f64) * f,
                ..r
            });
        }
    }
    let (b, c) = (root.join("sb"), root.join("sc"));
    write_results(&b, &base, None);
    write_results(&c, &cand, None);
    let settings = Settings {
        metrics: vec![
            "final_train_loss".into(),
            "wall_time_s".into(),
            "examples_per_s".into(),
        ],
        ..Settings::default()
    };
    compare_dirs(&b, &c, &settings).unwrap()
}

fn verdict(o: &CompareOutcome, cell: &str, metric: &str) -> Verdict {
    let (CompareOutcome::Pass(r) | CompareOutcome::Regression(r)) = o else {
        panic!("{o:?}")
    };
    r.rows
        .iter()
        .find(|row| row.cell_id == cell && row.metric == metric)
        .unwrap_or_else(|| panic!("no row {cell} {metric}"))
        .verdict
}

#[test]
fn speed_metrics_have_their_own_minimum_effect_and_family() {
    let tmp = tempfile::tempdir().unwrap();
    // Every seed of `slow` 25 % slower; `steady` moves by under 10 %, both ways.
    let o = speed(tmp.path(), [1.25; 5], [1.08, 0.95, 1.02, 0.97, 1.06]);
    assert!(matches!(o, CompareOutcome::Regression(_)));
    assert_eq!(verdict(&o, "slow", "wall_time_s"), Verdict::Regression);
    // Examples per second falls to 1/1.25: 20 % worse.
    assert_eq!(verdict(&o, "slow", "examples_per_s"), Verdict::Regression);
    assert_eq!(
        verdict(&o, "steady", "wall_time_s"),
        Verdict::WithinTolerance
    );
    assert_eq!(
        verdict(&o, "steady", "final_train_loss"),
        Verdict::Unchanged
    );
    let (CompareOutcome::Pass(r) | CompareOutcome::Regression(r)) = &o else {
        unreachable!()
    };
    // The losses did not move: the convergence family is empty; speed has 4 hypotheses.
    assert_eq!((r.tests, r.speed_tests), (0, 4));
    let row = r
        .rows
        .iter()
        .find(|x| x.cell_id == "slow" && x.metric == "examples_per_s")
        .unwrap();
    assert!((row.median_change.unwrap() - 0.2).abs() < 1e-12);
    // 8 % slower on every seed is a regression for the losses' 5 % but not for speed's 10 %.
    let o = speed(tmp.path(), [1.08; 5], [1.0; 5]);
    assert_eq!(verdict(&o, "slow", "wall_time_s"), Verdict::WithinTolerance);
    // Split: three seeds 30 % slower, two 5 % faster: median +30 %, not unanimous, and the
    // Wilcoxon p of 5 seeds (≥ 3/32 here) is not significant: underpowered.
    let o = speed(tmp.path(), [1.3, 0.95, 1.3, 0.95, 1.3], [1.0; 5]);
    assert_eq!(
        verdict(&o, "slow", "wall_time_s"),
        Verdict::UnderpoweredRegression
    );
    // A bad --speed-min-effect is bad input.
    let bad = Settings {
        speed_min_effect: -0.1,
        ..Settings::default()
    };
    assert_eq!(bad.validate().unwrap_err().exit_code(), 2);
}
