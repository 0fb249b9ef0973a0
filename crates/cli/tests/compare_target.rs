//! `optbench compare --target METRIC=VALUE` (steps to target, from metrics.parquet) on small
//! results folders written by the real writer (`results::write_part` + `results::consolidate`),
//! every verdict and number computed by hand.

use std::path::Path;

use clap::Parser;
use optbench_testkit as testkit;

use optbench::args::{Cli, Command, CompareArgs};
use optbench::commands::compare as compare_command;
use optbench::exit::ExitCode;
use optbench_analysis::compare::{
    CompareError, CompareOutcome, Direction, Report, Row, Settings, Target, Verdict, compare_dirs,
    render_json, render_markdown,
};
use optbench_results::{
    MetricRow, OutputNames, PARTS_DIR, RunOutcome, RunStatus, consolidate, write_part,
};
use optbench_spec::plan::{BatchSize, Budget, RunSpec};
use serde_json::json;

/// Metrics are recorded at steps 0, 10, ..., 100.
const STEPS: [u64; 11] = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100];

/// One run of a fixture: `reach` is the first recorded step from which the train loss is 0.01
/// (1.0 before) and the test accuracy 0.95 (0.5 before); `None`: never.
#[derive(Clone, Copy)]
struct Run {
    cell: &'static str,
    seed: u64,
    reach: Option<u64>,
    status: RunStatus,
    /// Whether test_accuracy is recorded at all.
    acc: bool,
}

fn spec(cell: &str, seed: u64) -> RunSpec {
    RunSpec {
        run_id: format!("{cell}-s{seed}"),
        cell_id: format!("cell-{cell}"),
        label: format!("adam {cell}"),
        problem: testkit::problem("quadratic", json!({})),
        optimizer: testkit::optimizer("adam", json!({"lr": 0.1})),
        train: testkit::train(Budget::Steps(100), BatchSize::Full, 10),
        seed,
        data_seed: seed,
    }
}

fn outcome(r: &Run) -> RunOutcome {
    let reached = |step: u64| r.reach.is_some_and(|k| step >= k);
    RunOutcome {
        run_id: format!("{}-s{}", r.cell, r.seed),
        status: r.status,
        error: None,
        steps: 100,
        epochs: 100.0,
        train_len: Some(1),
        wall_time_s: 0.01,
        metrics: STEPS
            .iter()
            .map(|&step| MetricRow {
                step,
                train_loss: Some(if reached(step) { 0.01 } else { 1.0 }),
                test_accuracy: r.acc.then_some(if reached(step) { 0.95 } else { 0.5 }),
                ..MetricRow::default()
            })
            .collect(),
    }
}

/// Writes a results folder (parts, then runs.parquet and metrics.parquet in run order).
fn write(dir: &Path, runs: &[Run]) {
    std::fs::create_dir_all(dir.join(PARTS_DIR)).unwrap();
    let specs: Vec<RunSpec> = runs.iter().map(|r| spec(r.cell, r.seed)).collect();
    for r in runs {
        write_part(dir, &outcome(r)).unwrap();
    }
    consolidate(dir, "t", specs, &OutputNames::new(None)).unwrap();
}

fn cell(name: &'static str, reach: [Option<u64>; 5]) -> Vec<Run> {
    reach
        .iter()
        .enumerate()
        .map(|(s, &reach)| Run {
            cell: name,
            seed: s as u64,
            reach,
            status: RunStatus::Ok,
            acc: true,
        })
        .collect()
}

fn target(text: &str) -> Target {
    Target::parse(text).unwrap()
}

fn only(targets: &[&str]) -> Settings {
    Settings {
        metrics: vec![],
        targets: targets.iter().map(|t| target(t)).collect(),
        ..Settings::default()
    }
}

fn compare(base: &[Run], cand: &[Run], settings: &Settings) -> CompareOutcome {
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("b"), base);
    write(&tmp.path().join("c"), cand);
    compare_dirs(&tmp.path().join("b"), &tmp.path().join("c"), settings).unwrap()
}

fn report(o: &CompareOutcome) -> &Report {
    match o {
        CompareOutcome::Pass(r) | CompareOutcome::Regression(r) => r,
        CompareOutcome::NotComparable(why) => panic!("not comparable: {why:?}"),
    }
}

fn row<'a>(r: &'a Report, cell: &str, metric: &str) -> &'a Row {
    r.rows
        .iter()
        .find(|row| row.cell_id == format!("cell-{cell}") && row.metric == metric)
        .unwrap_or_else(|| panic!("no row {cell} {metric} in {:#?}", r.rows))
}

const S: fn(u64) -> Option<u64> = Some;

/// The baseline and candidate of the main fixture: one cell per case.
fn fixture() -> (Vec<Run>, Vec<Run>) {
    let mut b = Vec::new();
    let mut c = Vec::new();
    let mut add = |name, bb: [Option<u64>; 5], cc: [Option<u64>; 5]| {
        b.extend(cell(name, bb));
        c.extend(cell(name, cc));
    };
    let same = [S(20), S(30), S(40), S(50), S(60)];
    add("same", same, same);
    // Every seed needs 30 steps instead of 20: w = (30 - 20) / 20 = 0.5 for each, unanimous.
    add("slower", [S(20); 5], [S(30); 5]);
    // Seed 2 no longer reaches the target: a regression whatever the others say.
    add("lost", [S(20); 5], [S(20), S(20), None, S(20), S(20)]);
    // Never reached on either side: unchanged pairs.
    add("never", [None; 5], [None; 5]);
    // Seed 0 reaches it only in the candidate, the others are unchanged.
    add(
        "gained",
        [None, S(20), S(20), S(20), S(20)],
        [S(40), S(20), S(20), S(20), S(20)],
    );
    // 100 -> 90 steps: w = -0.1 for each seed, unanimous improvement.
    add("faster", [S(100); 5], [S(90); 5]);
    // One seed 80 -> 90: w = [0, 0, 0, 0, 0.125], median 0: within tolerance.
    add("tolerance", [S(80); 5], [S(80), S(80), S(80), S(80), S(90)]);
    // Reached at step 0 in the baseline, at 10 in the candidate: the floor of one step gives
    // w = (10 - 0) / max(0, 1) = 10 (not (10 - 0) / 1e-8).
    add("zero", [S(0); 5], [S(10); 5]);
    (b, c)
}

const TRAIN: &str = "steps_to_target(train_loss<=0.01)";
const ACC: &str = "steps_to_target(test_accuracy>=0.9)";

#[test]
fn verdicts_of_every_case() {
    let (b, c) = fixture();
    let o = compare(&b, &c, &only(&["train_loss=0.01"]));
    assert_eq!(o.exit_code(), 1, "{}", render_markdown(&o, true));
    let r = report(&o);
    assert_eq!(r.runs, 40);
    assert_eq!(r.rows.len(), 8, "{:#?}", r.rows);

    let same = row(r, "same", TRAIN);
    assert_eq!(same.verdict, Verdict::Unchanged);
    assert_eq!(same.baseline_median, Some(40.0));

    let slower = row(r, "slower", TRAIN);
    assert_eq!(slower.verdict, Verdict::Regression);
    assert_eq!(
        (slower.baseline_median, slower.candidate_median),
        (Some(20.0), Some(30.0))
    );
    assert_eq!(slower.median_change, Some(0.5));
    assert_eq!((slower.worse_seeds, slower.better_seeds), (5, 0));
    // Five positive differences, all tied: the exact conditional distribution puts 1/32 on
    // "all positive".
    assert!((slower.p_worse.unwrap() - 1.0 / 32.0).abs() < 1e-12);

    let lost = row(r, "lost", TRAIN);
    assert_eq!(lost.verdict, Verdict::Regression);
    assert_eq!((lost.worse_seeds, lost.better_seeds), (1, 0));
    assert_eq!(
        lost.p_worse, None,
        "a lost target is not a statistical test"
    );
    // Candidate steps 20, 20, +inf, 20, 20: median 20.
    assert_eq!(lost.candidate_median, Some(20.0));
    let note = lost.note.as_deref().unwrap();
    assert!(note.contains("seed 2: step 20 → not reached"), "{note}");

    let never = row(r, "never", TRAIN);
    assert_eq!(never.verdict, Verdict::Unchanged);
    assert_eq!(never.baseline_median, Some(f64::INFINITY));

    let gained = row(r, "gained", TRAIN);
    assert_eq!(gained.verdict, Verdict::Improvement);
    assert_eq!((gained.worse_seeds, gained.better_seeds), (0, 1));
    assert!(
        gained
            .note
            .as_deref()
            .unwrap()
            .contains("seed 0: not reached → step 40")
    );

    let faster = row(r, "faster", TRAIN);
    assert_eq!(faster.verdict, Verdict::Improvement);
    assert!((faster.median_change.unwrap() + 0.1).abs() < 1e-15);
    assert_eq!(faster.better_seeds, 5);

    let tol = row(r, "tolerance", TRAIN);
    assert_eq!(tol.verdict, Verdict::WithinTolerance);
    assert_eq!(tol.median_change, Some(0.0));
    assert_eq!(tol.worse_seeds, 1);

    let zero = row(r, "zero", TRAIN);
    assert_eq!(zero.verdict, Verdict::Regression);
    assert_eq!(zero.median_change, Some(10.0));

    // Tested (in the Benjamini–Hochberg family): slower, faster, tolerance, zero.
    assert_eq!(r.tests, 4);
    assert_eq!(
        (
            r.counts.regression,
            r.counts.improvement,
            r.counts.unchanged
        ),
        (3, 2, 2)
    );
}

#[test]
fn accuracy_targets_are_reached_from_above() {
    // test_accuracy is 0.5 before `reach` and 0.95 from it on. With `>= 0.9` the steps are the
    // same as the train loss's; read the wrong way (`<= 0.9`) every run would reach it at step 0
    // and nothing would change.
    let (b, c) = fixture();
    let o = compare(&b, &c, &only(&["test_accuracy=0.9"]));
    let r = report(&o);
    assert_eq!(row(r, "slower", ACC).verdict, Verdict::Regression);
    assert_eq!(row(r, "slower", ACC).baseline_median, Some(20.0));
    assert_eq!(row(r, "lost", ACC).verdict, Verdict::Regression);
    assert_eq!(row(r, "faster", ACC).verdict, Verdict::Improvement);
    assert_eq!(row(r, "never", ACC).verdict, Verdict::Unchanged);
}

#[test]
fn the_target_is_inclusive_and_unreachable_targets_change_nothing() {
    let (b, c) = fixture();
    // 0.01 <= 0.01: reached (the case above). 0.0099 is below every loss: never reached, by
    // any run, so every pair is unchanged.
    let o = compare(&b, &c, &only(&["train_loss=0.0099"]));
    assert_eq!(o.exit_code(), 0);
    let r = report(&o);
    assert_eq!(r.counts.unchanged, 8);
    assert!(
        r.rows
            .iter()
            .all(|row| row.baseline_median == Some(f64::INFINITY))
    );
    // Every loss is <= 1.0: reached at step 0 everywhere.
    let o = compare(&b, &c, &only(&["train_loss=1"]));
    let r = report(&o);
    assert_eq!(r.counts.unchanged, 8);
    assert!(r.rows.iter().all(|row| row.baseline_median == Some(0.0)));
}

#[test]
fn targets_join_the_default_metrics_and_the_tables() {
    let (b, c) = fixture();
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("b"), &b);
    write(&tmp.path().join("c"), &c);
    let json = tmp.path().join("report.json");
    let cli = Cli::try_parse_from([
        "optbench",
        "compare",
        tmp.path().join("b").to_str().unwrap(),
        tmp.path().join("c").to_str().unwrap(),
        "--metric",
        "final_train_loss",
        "--target",
        "train_loss=0.01",
        "--target",
        "test_accuracy=0.9",
        "--target",
        "train_loss=0.01",
        "--json",
        json.to_str().unwrap(),
    ])
    .unwrap();
    let Command::Compare(args) = cli.command else {
        panic!("not compare")
    };
    assert_eq!(args.targets.len(), 3);
    assert_eq!(args.targets[1].direction, Direction::HigherIsBetter);
    // Duplicates are dropped, in order.
    let names: Vec<String> = args.settings().targets.iter().map(Target::name).collect();
    assert_eq!(names, [TRAIN, ACC]);
    assert_eq!(compare_command(&args).unwrap(), ExitCode::Failed);
    let o = compare_dirs(&args.baseline, &args.candidate, &args.settings()).unwrap();
    assert_eq!(o.exit_code(), 1);
    let r = report(&o);
    // final_train_loss: the cells whose runs all end at 0.01 on both sides (or 1.0 on both) are
    // unchanged; "lost" seed 2 ends at 1.0 instead of 0.01 (w = 99, one seed of five: median
    // 0, within tolerance); "gained" seed 0 the other way round.
    assert_eq!(
        row(r, "lost", "final_train_loss").verdict,
        Verdict::WithinTolerance
    );
    assert_eq!(
        row(r, "slower", "final_train_loss").verdict,
        Verdict::Unchanged
    );
    assert_eq!(row(r, "slower", TRAIN).verdict, Verdict::Regression);
    assert_eq!(row(r, "slower", ACC).verdict, Verdict::Regression);

    let md = render_markdown(&o, true);
    assert!(
        md.contains("metrics final_train_loss, steps_to_target(train_loss<=0.01), steps_to_target(test_accuracy>=0.9)"),
        "{md}"
    );
    let never = md
        .lines()
        .find(|l| l.contains("cell-nev") && l.contains(TRAIN))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(never.contains("| not reached | not reached |"), "{never}");
    let lost = md
        .lines()
        .find(|l| l.contains("cell-los") && l.contains(TRAIN))
        .unwrap();
    assert!(lost.starts_with("| **regression** |"), "{lost}");
    assert!(
        lost.contains("seed 2: step 20 → not reached (target)"),
        "{lost}"
    );

    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["outcome"], "regression");
    assert_eq!(v["settings"]["targets"][0]["metric"], "train_loss");
    assert_eq!(v["settings"]["targets"][0]["value"], 0.01);
    assert_eq!(v["settings"]["targets"][1]["direction"], "higher_is_better");
    let rows = v["rows"].as_array().unwrap();
    let slower = rows
        .iter()
        .find(|r| r["cell_id"] == "cell-slower" && r["metric"] == TRAIN)
        .unwrap();
    assert_eq!(slower["verdict"], "regression");
    assert_eq!(slower["baseline_median"], 20.0);
    assert_eq!(slower["candidate_median"], 30.0);
    let never = rows
        .iter()
        .find(|r| r["cell_id"] == "cell-never" && r["metric"] == TRAIN)
        .unwrap();
    assert!(never["baseline_median"].is_null(), "{never}");
    assert_eq!(render_json(&o), std::fs::read_to_string(&json).unwrap());
}

#[test]
fn only_seeds_ok_on_both_sides_count() {
    // Seed 1 diverged in the candidate: a status regression; its steps are not compared, so the
    // target row is over the 4 other seeds, which are unchanged.
    let b = cell("a", [S(20); 5]);
    let mut c = cell("a", [S(20), None, S(20), S(20), S(20)]);
    c[1].status = RunStatus::Diverged;
    let o = compare(&b, &c, &only(&["train_loss=0.01"]));
    let r = report(&o);
    assert_eq!(row(r, "a", "status").verdict, Verdict::Regression);
    let t = row(r, "a", TRAIN);
    assert_eq!((t.verdict, t.seeds), (Verdict::Unchanged, 4));
}

#[test]
fn a_metric_that_does_not_apply_gives_no_row_and_one_sided_values_are_not_comparable() {
    // No test_accuracy anywhere: the target does not apply, no row, nothing to fail.
    let mut b = cell("a", [S(20); 5]);
    let mut c = b.clone();
    for r in b.iter_mut().chain(c.iter_mut()) {
        r.acc = false;
    }
    let o = compare(&b, &c, &only(&["test_accuracy=0.9"]));
    assert_eq!(o.exit_code(), 0);
    assert!(report(&o).rows.is_empty());
    // Recorded in the candidate only: not comparable (exit 2), naming the run.
    c[3].acc = true;
    let o = compare(&b, &c, &only(&["test_accuracy=0.9"]));
    let CompareOutcome::NotComparable(why) = &o else {
        panic!("{o:?}")
    };
    assert_eq!(o.exit_code(), 2);
    assert!(why[0].contains("present on one side only"), "{why:?}");
    assert!(
        why[0].contains("steps_to_target(test_accuracy>=0.9) of quadratic adam a seed 3 is null"),
        "{why:?}"
    );
}

#[test]
fn missing_metrics_file_or_column_is_bad_input() {
    let (b, c) = fixture();
    let tmp = tempfile::tempdir().unwrap();
    write(&tmp.path().join("b"), &b);
    write(&tmp.path().join("c"), &c);
    std::fs::remove_file(tmp.path().join("c/metrics.parquet")).unwrap();
    let err = compare_dirs(
        &tmp.path().join("b"),
        &tmp.path().join("c"),
        &only(&["train_loss=0.01"]),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            CompareError::Read {
                side: "candidate",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.exit_code(), 2);
    assert!(err.to_string().contains("metrics.parquet"), "{err}");
    // Without --target, metrics.parquet is not needed.
    let o = compare_dirs(
        &tmp.path().join("b"),
        &tmp.path().join("c"),
        &Settings::default(),
    )
    .unwrap();
    assert_ne!(o.exit_code(), 2);
}

#[test]
fn target_syntax_errors_are_clear() {
    let t = target(" train_loss = 5e-2 ");
    assert_eq!(t.name(), "steps_to_target(train_loss<=0.05)");
    assert_eq!(t.direction, Direction::LowerIsBetter);
    assert!(t.reached(0.05) && t.reached(-1.0) && !t.reached(0.0501));
    assert!(!t.reached(f64::NAN) && !t.reached(f64::NEG_INFINITY));
    let a = target("test_accuracy=0.9");
    assert!(a.reached(0.9) && a.reached(1.0) && !a.reached(0.89) && !a.reached(f64::INFINITY));

    let msg = |s: &str| Target::parse(s).unwrap_err().to_string();
    assert!(
        msg("train_loss").contains("METRIC=VALUE"),
        "{}",
        msg("train_loss")
    );
    assert!(msg("trian_loss=0.1").contains("did you mean `train_loss`"));
    assert!(msg("train_loss=abc").contains("`abc` is not a number"));
    assert!(msg("train_loss=inf").contains("finite"));
    assert!(msg("x0=1").contains("unknown metric `x0`"));
    assert_eq!(Target::parse("lr=1").unwrap_err().exit_code(), 2);
    // Through clap: a usage error, not a panic.
    let e = Cli::try_parse_from(["optbench", "compare", "a", "b", "--target", "loss=1"])
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown metric `loss`"), "{e}");

    // Settings built by hand are checked too.
    let bad = Settings {
        targets: vec![Target {
            metric: "test_accuracy".into(),
            value: 0.9,
            direction: Direction::LowerIsBetter,
        }],
        ..Settings::default()
    };
    assert!(bad.validate().is_err());
    let twice = Settings {
        targets: vec![target("train_loss=0.1"), target("train_loss=0.10")],
        ..Settings::default()
    };
    assert!(twice.validate().unwrap_err().to_string().contains("twice"));
    let args = CompareArgs {
        baseline: "b".into(),
        candidate: "c".into(),
        metrics: vec![],
        targets: vec![target("train_loss=0.1")],
        min_effect: 0.05,
        fdr: 0.05,
        atol: 1e-8,
        json: None,
        all: false,
        fail_underpowered: false,
        speed_min_effect: 0.10,
        junit: None,
        summary: false,
    };
    // --target adds to the default metrics.
    assert_eq!(args.settings().metrics.len(), 3);
}
