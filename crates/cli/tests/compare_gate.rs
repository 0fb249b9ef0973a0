//! `optbench compare` on small hand-built runs.parquet folders, each verdict computed by hand.

use std::path::Path;

mod results_fixture;

use optbench::args::CompareArgs;
use optbench::commands::compare as compare_command;
use optbench::exit::ExitCode;
use optbench_analysis::compare::{
    CompareOutcome, Settings, Verdict, compare_dirs, render_markdown,
};
use polars::prelude::*;
use results_fixture::{Run, write_results};

/// An ok run of `cell` with test accuracy 0.5 (see results_fixture::run for the rest).
fn run(cell: &str, seed: u64, train: f64) -> Run {
    Run {
        acc: Some(0.5),
        ..results_fixture::run(cell, seed, train)
    }
}

fn write_runs(dir: &Path, runs: &[Run]) {
    write_results(dir, runs, None);
}

fn compare(base: &[Run], cand: &[Run], settings: &Settings) -> CompareOutcome {
    let tmp = tempfile::tempdir().unwrap();
    write_runs(&tmp.path().join("b"), base);
    write_runs(&tmp.path().join("c"), cand);
    compare_dirs(&tmp.path().join("b"), &tmp.path().join("c"), settings).unwrap()
}

fn train_only() -> Settings {
    Settings {
        metrics: vec!["final_train_loss".into()],
        ..Settings::default()
    }
}

/// Baseline cell of `seeds` seeds with train losses 1, 2, 3, ...
fn cell(name: &'static str, seeds: u64) -> Vec<Run> {
    (0..seeds).map(|s| run(name, s, (s + 1) as f64)).collect()
}

/// The cell with seed `s`'s train loss multiplied by `1 + change[s]`.
fn changed(base: &[Run], change: &[f64]) -> Vec<Run> {
    base.iter()
        .zip(change)
        .map(|(r, c)| Run {
            train: r.train.map(|v| v * (1.0 + c)),
            ..r.clone()
        })
        .collect()
}

fn report(o: &CompareOutcome) -> &optbench_analysis::compare::Report {
    match o {
        CompareOutcome::Pass(r) | CompareOutcome::Regression(r) => r,
        CompareOutcome::NotComparable(why) => panic!("not comparable: {why:?}"),
    }
}

fn verdict_of(o: &CompareOutcome, cell: &str, metric: &str) -> Verdict {
    report(o)
        .rows
        .iter()
        .find(|r| r.cell_id == cell && r.metric == metric)
        .unwrap_or_else(|| panic!("no row {cell} {metric}: {:?}", report(o).rows))
        .verdict
}

#[test]
fn identical_is_unchanged_and_passes() {
    let b = [cell("a", 3), cell("b", 3)].concat();
    let o = compare(&b, &b, &Settings::default());
    assert_eq!(o.exit_code(), 0);
    let r = report(&o);
    assert_eq!(r.runs, 6);
    assert_eq!(r.cells, 2);
    // 2 cells x 3 metrics, all bit-identical; nothing tested.
    assert_eq!(r.counts.unchanged, 6);
    assert_eq!(r.tests, 0);
}

#[test]
fn unanimous_worsening_with_three_seeds_is_a_regression() {
    // w = [0.10, 0.20, 0.15]: median 0.15 > 0.05; Wilcoxon exact p = 1/8 (not significant), but
    // every seed is worse by more than 5%.
    let b = cell("a", 3);
    let c = changed(&b, &[0.10, 0.20, 0.15]);
    let o = compare(&b, &c, &train_only());
    assert_eq!(o.exit_code(), 1);
    let row = &report(&o).rows[0];
    assert_eq!(row.verdict, Verdict::Regression);
    assert_eq!(row.worse_seeds, 3);
    assert!((row.median_change.unwrap() - 0.15).abs() < 1e-12);
    assert!((row.p_worse.unwrap() - 0.125).abs() < 1e-15);
    assert!(render_markdown(&o, false).contains("**regression**"));
}

#[test]
fn split_worsening_with_three_seeds_is_underpowered() {
    // w = [0.10, 0.20, -0.01]: median 0.10, two of three seeds worse; ranks of |w| 2, 3, 1,
    // T+ = 5, P(T+ >= 5) over the 8 sign patterns of {1, 2, 3} = 2/8.
    let b = cell("a", 3);
    let c = changed(&b, &[0.10, 0.20, -0.01]);
    let o = compare(&b, &c, &train_only());
    assert_eq!(o.exit_code(), 0);
    let row = &report(&o).rows[0];
    assert_eq!(row.verdict, Verdict::UnderpoweredRegression);
    assert!((row.p_worse.unwrap() - 0.25).abs() < 1e-15);
    assert!(render_markdown(&o, false).contains("underpowered (worse)"));
    // --fail-underpowered turns it into a failure.
    let strict = Settings {
        fail_underpowered: true,
        ..train_only()
    };
    assert_eq!(compare(&b, &c, &strict).exit_code(), 1);
}

/// Ten seeds: nine worse by 10..18%, one better by 1%.
fn ten_seed_change() -> Vec<f64> {
    vec![0.10, 0.11, 0.12, 0.13, 0.14, 0.15, 0.16, 0.17, 0.18, -0.01]
}

#[test]
fn significant_worsening_is_a_regression() {
    // Ranks: the -1% seed is rank 1; T+ = 55 - 1 = 54; P(T+ >= 54) = |{{}, {1}}| / 2^10.
    let b = cell("a", 10);
    let c = changed(&b, &ten_seed_change());
    let o = compare(&b, &c, &train_only());
    let row = &report(&o).rows[0];
    assert!((row.p_worse.unwrap() - 2.0 / 1024.0).abs() < 1e-15);
    assert_eq!(row.worse_seeds, 9);
    assert_eq!(row.verdict, Verdict::Regression);
    assert_eq!(o.exit_code(), 1);
}

#[test]
fn benjamini_hochberg_spans_all_cells() {
    // The same cell next to 30 cells that moved slightly the other way (each w in -0.5%..-1.4%,
    // so p_worse = P(T+ >= 0) = 1). 31 tests: adjusted p of the target = 2/1024 * 31 = 0.0605
    // > 0.05, and 9 of 10 seeds is not unanimous: underpowered, not a regression.
    const NAMES: [&str; 30] = [
        "c00", "c01", "c02", "c03", "c04", "c05", "c06", "c07", "c08", "c09", "c10", "c11", "c12",
        "c13", "c14", "c15", "c16", "c17", "c18", "c19", "c20", "c21", "c22", "c23", "c24", "c25",
        "c26", "c27", "c28", "c29",
    ];
    let mut b = cell("a", 10);
    let mut c = changed(&b, &ten_seed_change());
    let small: Vec<f64> = (0..10).map(|i| -0.005 - 0.001 * i as f64).collect();
    for name in NAMES {
        let x = cell(name, 10);
        c.extend(changed(&x, &small));
        b.extend(x);
    }
    let o = compare(&b, &c, &train_only());
    let r = report(&o);
    assert_eq!(r.tests, 31);
    let row = r.rows.iter().find(|r| r.cell_id == "a").unwrap();
    assert!((row.p_worse_adjusted.unwrap() - 31.0 * 2.0 / 1024.0).abs() < 1e-12);
    assert_eq!(row.verdict, Verdict::UnderpoweredRegression);
    assert_eq!(
        verdict_of(&o, "c07", "final_train_loss"),
        Verdict::WithinTolerance
    );
    assert_eq!(r.counts.within_tolerance, 30);
    assert_eq!(o.exit_code(), 0);
}

#[test]
fn status_regression_and_improvement() {
    let b = [cell("a", 3), cell("b", 3)].concat();
    let mut c = b.clone();
    // a: seed 1 ok -> diverged (metrics of that seed are left out).
    c[1].status = "diverged";
    c[1].train = Some(f64::NAN);
    let mut b2 = b.clone();
    // b: seed 2 failed in the baseline, ok in the candidate.
    b2[5].status = "failed";
    b2[5].train = None;
    b2[5].test = None;
    b2[5].acc = None;
    let o = compare(&b2, &c, &Settings::default());
    assert_eq!(o.exit_code(), 1);
    let r = report(&o);
    let a = r
        .rows
        .iter()
        .find(|r| r.cell_id == "a" && r.metric == "status")
        .unwrap();
    assert_eq!(a.verdict, Verdict::Regression);
    assert_eq!(a.note.as_deref(), Some("seed 1: ok → diverged"));
    let bb = r
        .rows
        .iter()
        .find(|r| r.cell_id == "b" && r.metric == "status")
        .unwrap();
    assert_eq!(bb.verdict, Verdict::Improvement);
    // The metrics of cell a compare the two remaining seeds, unchanged.
    let m = r
        .rows
        .iter()
        .find(|r| r.cell_id == "a" && r.metric == "final_train_loss")
        .unwrap();
    assert_eq!((m.seeds, m.verdict), (2, Verdict::Unchanged));
}

#[test]
fn accuracy_is_higher_is_better() {
    let b = cell("a", 3);
    let drop: Vec<Run> = b
        .iter()
        .zip([0.40, 0.45, 0.42])
        .map(|(r, a)| Run {
            acc: Some(a),
            ..r.clone()
        })
        .collect();
    let rise: Vec<Run> = b
        .iter()
        .zip([0.60, 0.55, 0.58])
        .map(|(r, a)| Run {
            acc: Some(a),
            ..r.clone()
        })
        .collect();
    let acc = Settings {
        metrics: vec!["final_test_accuracy".into()],
        ..Settings::default()
    };
    // 0.5 -> [0.40, 0.45, 0.42]: w = -(c - 0.5)/0.5 = [0.20, 0.10, 0.16], median 0.16 (worse).
    let o = compare(&b, &drop, &acc);
    assert_eq!(
        verdict_of(&o, "a", "final_test_accuracy"),
        Verdict::Regression
    );
    assert!((report(&o).rows[0].median_change.unwrap() - 0.16).abs() < 1e-12);
    let o = compare(&b, &rise, &acc);
    assert_eq!(
        verdict_of(&o, "a", "final_test_accuracy"),
        Verdict::Improvement
    );
    assert_eq!(o.exit_code(), 0);
}

#[test]
fn small_changes_are_within_tolerance_and_improvements_listed() {
    let b = [cell("a", 3), cell("b", 3)].concat();
    let c = [
        changed(&b[..3], &[0.01, 0.02, 0.03]),
        changed(&b[3..], &[-0.2, -0.3, -0.25]),
    ]
    .concat();
    let o = compare(&b, &c, &train_only());
    assert_eq!(o.exit_code(), 0);
    assert_eq!(
        verdict_of(&o, "a", "final_train_loss"),
        Verdict::WithinTolerance
    );
    assert_eq!(
        verdict_of(&o, "b", "final_train_loss"),
        Verdict::Improvement
    );
    let md = render_markdown(&o, false);
    assert!(
        md.contains("improvement") && md.contains("25.0% better"),
        "{md}"
    );
    assert!(!md.contains("within tolerance |"), "{md}");
    assert!(render_markdown(&o, true).contains("within tolerance |"));
}

#[test]
fn noise_floor_keeps_converged_losses_quiet() {
    // Losses at 1e-12 doubling are below the default floor 1e-8: w = 1e-12 / 1e-8 = 1e-4.
    let b: Vec<Run> = (0..3).map(|s| run("a", s, 1e-12)).collect();
    let c: Vec<Run> = (0..3).map(|s| run("a", s, 2e-12)).collect();
    let o = compare(&b, &c, &train_only());
    assert_eq!(
        verdict_of(&o, "a", "final_train_loss"),
        Verdict::WithinTolerance
    );
}

#[test]
fn missing_runs_are_not_comparable() {
    let b = cell("a", 3);
    let c = cell("a", 2);
    let o = compare(&b, &c, &Settings::default());
    assert_eq!(o.exit_code(), 2);
    let CompareOutcome::NotComparable(why) = &o else {
        panic!()
    };
    assert!(why[0].starts_with("1 baseline runs"), "{why:?}");
    assert!(why[0].contains("seed 2"), "{why:?}");
    // And the other way round.
    let o = compare(&c, &b, &Settings::default());
    let CompareOutcome::NotComparable(why) = &o else {
        panic!()
    };
    assert!(
        why[0].starts_with("1 candidate runs are not in the baseline"),
        "{why:?}"
    );
}

#[test]
fn schema_problems_are_not_comparable() {
    let tmp = tempfile::tempdir().unwrap();
    write_runs(&tmp.path().join("b"), &cell("a", 2));
    let mut df = DataFrame::new(
        1,
        vec![
            Column::new("run_id".into(), ["x"]),
            Column::new("cell_id".into(), ["a"]),
            Column::new("seed".into(), ["zero"]),
        ],
    )
    .unwrap();
    std::fs::create_dir_all(tmp.path().join("c")).unwrap();
    let f = std::fs::File::create(tmp.path().join("c/runs.parquet")).unwrap();
    ParquetWriter::new(f).finish(&mut df).unwrap();
    let o = compare_dirs(
        &tmp.path().join("b"),
        &tmp.path().join("c"),
        &Settings::default(),
    )
    .unwrap();
    let CompareOutcome::NotComparable(why) = &o else {
        panic!("{o:?}")
    };
    let all = why.join("\n");
    assert!(all.contains("no `status` column"), "{all}");
    assert!(
        all.contains("`seed`") && all.contains("not an integer"),
        "{all}"
    );
    // A folder without runs.parquet is bad input (exit 2).
    let e = compare_dirs(
        &tmp.path().join("b"),
        &tmp.path().join("nope"),
        &Settings::default(),
    )
    .unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("candidate"), "{e}");
}

#[test]
fn bad_options_are_rejected() {
    let s = Settings {
        metrics: vec!["final_train_los".into()],
        ..Settings::default()
    };
    let e = s.validate().unwrap_err();
    assert!(
        e.to_string().contains("did you mean `final_train_loss`"),
        "{e}"
    );
    let s = Settings {
        fdr: 0.0,
        ..Settings::default()
    };
    assert_eq!(s.validate().unwrap_err().exit_code(), 2);
}

#[test]
fn run_compare_writes_json() {
    let tmp = tempfile::tempdir().unwrap();
    let b = cell("a", 3);
    write_runs(&tmp.path().join("b"), &b);
    write_runs(&tmp.path().join("c"), &changed(&b, &[0.1, 0.2, 0.3]));
    let json = tmp.path().join("out/report.json");
    std::fs::create_dir_all(json.parent().unwrap()).unwrap();
    let args = CompareArgs {
        baseline: tmp.path().join("b"),
        candidate: tmp.path().join("c"),
        metrics: vec!["final_train_loss".into(), "final_train_loss".into()],
        targets: vec![],
        min_effect: 0.05,
        fdr: 0.05,
        atol: 1e-8,
        json: Some(json.clone()),
        all: false,
        fail_underpowered: false,
        speed_min_effect: 0.10,
        junit: None,
        summary: false,
    };
    assert_eq!(compare_command(&args).unwrap(), ExitCode::Failed);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["outcome"], "regression");
    assert_eq!(v["rows"].as_array().unwrap().len(), 1);
    assert_eq!(v["rows"][0]["verdict"], "regression");
    assert_eq!(v["rows"][0]["worse_seeds"], 3);
}
