//! `optbench history add` and `optbench history show` on hand-built results folders: the
//! summary and provenance written, refusing a commit twice, concurrent adds, and a known step
//! found at its commit in the tables and figures.

mod results_fixture;

use std::path::Path;

use optbench_analysis::history::{AddOptions, HistoryError, add};
use optbench_results::history::{HistoryStoreError, list_entries, read_entry};
use results_fixture::{Run, describe, manifest, optbench, run, write_results};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn add_records_the_summary_and_the_provenance() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    // Cell a: train losses 4, 1, 3, 2 (ok) and a diverged seed; quartiles by hand
    // (numpy.quantile([1, 2, 3, 4], [.25, .5, .75]) = 1.75, 2.5, 3.25).
    let mut runs: Vec<Run> = [4.0, 1.0, 3.0, 2.0]
        .iter()
        .enumerate()
        .map(|(s, &v)| run("a", s as u64, v))
        .collect();
    runs.push(Run {
        status: "diverged",
        train: Some(f64::NAN),
        test: None,
        ..run("a", 9, 0.0)
    });
    // Cell b: one failed run without values, one ok run that took 2 s for 500 examples.
    runs.push(Run {
        status: "failed",
        train: None,
        test: None,
        ..run("b", 0, 0.0)
    });
    runs.push(Run {
        wall: 2.0,
        examples: 500,
        ..run("b", 1, 7.0)
    });
    write_results(
        &dir,
        &runs,
        Some(manifest("0123abcd", "2026-03-04T05:06:07+01:00")),
    );
    let store = tmp.path().join("store");
    let o = optbench(
        &[
            "history",
            "add",
            s(&store),
            s(&dir),
            "--label",
            "runner=ci-x64",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", describe(&o));
    let files = list_entries(&store).unwrap();
    assert_eq!(files, [store.join("0123abcd.parquet")]);
    let e = read_entry(&files[0]).unwrap();
    assert_eq!(e.provenance.commit, "0123abcd");
    assert_eq!(e.provenance.date, "2026-03-04T04:06:07Z");
    assert_eq!(e.provenance.cpu, "Test CPU");
    assert_eq!(e.provenance.rustc, "rustc 1.95.0");
    assert_eq!(e.provenance.labels["runner"], "ci-x64");
    let row = |cell: &str, metric: &str| {
        e.rows
            .iter()
            .find(|r| r.cell_id == cell && r.metric == metric)
            .unwrap_or_else(|| panic!("no row {cell} {metric}"))
            .clone()
    };
    let a = row("a", "final_train_loss");
    assert_eq!(
        (a.median, a.q25, a.q75),
        (Some(2.5), Some(1.75), Some(3.25))
    );
    assert_eq!((a.n, a.runs, a.diverged, a.failed), (4, 5, 1, 0));
    let b = row("b", "final_train_loss");
    assert_eq!((b.median, b.n, b.runs, b.failed), (Some(7.0), 1, 2, 1));
    // Speed: 500 examples in 2 s.
    assert_eq!(row("b", "examples_per_s").median, Some(250.0));
    assert_eq!(row("a", "wall_time_s").median, Some(1.0));
    // No test accuracy anywhere: no row for it.
    assert!(e.rows.iter().all(|r| r.metric != "final_test_accuracy"));
    // Metrics in a fixed order per cell: 5 of them for each of the two cells.
    assert_eq!(e.rows.len(), 10);
}

#[test]
fn a_commit_is_refused_twice_unless_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, store) = (tmp.path().join("r"), tmp.path().join("store"));
    write_results(
        &dir,
        &[run("a", 0, 1.0)],
        Some(manifest("feedbeef00", "2026-01-01")),
    );
    let add = |extra: &[&str]| {
        let mut args = vec!["history", "add", s(&store), s(&dir)];
        args.extend(extra);
        optbench(&args, &[])
    };
    assert!(add(&[]).status.success());
    // The same commit, also as an abbreviation.
    for extra in [&[][..], &["--commit", "feedbee"][..]] {
        let o = add(extra);
        assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("--replace"),
            "{}",
            describe(&o)
        );
    }
    let o = add(&["--replace", "--date", "2026-02-01"]);
    assert!(o.status.success(), "{}", describe(&o));
    let files = list_entries(&store).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(
        read_entry(&files[0]).unwrap().provenance.date,
        "2026-02-01T00:00:00Z"
    );
    // Bad input: no commit anywhere, a bad date, a bad label, a missing folder.
    write_results(&tmp.path().join("nm"), &[run("a", 0, 1.0)], None);
    for args in [
        vec!["history", "add", s(&store), s(&tmp.path().join("nm"))],
        vec![
            "history",
            "add",
            s(&store),
            s(&dir),
            "--commit",
            "x1",
            "--date",
            "yesterday",
        ],
        vec![
            "history",
            "add",
            s(&store),
            s(&dir),
            "--commit",
            "x2",
            "--label",
            "nolabel",
        ],
        vec![
            "history",
            "add",
            s(&store),
            s(&tmp.path().join("none")),
            "--commit",
            "x3",
        ],
        vec!["history", "add", s(&store), s(&dir), "--commit", "../x4"],
    ] {
        let o = optbench(&args, &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", describe(&o));
    }
    assert_eq!(list_entries(&store).unwrap().len(), 1);
}

#[test]
fn concurrent_adds_never_collide() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, store) = (tmp.path().join("r"), tmp.path().join("store"));
    write_results(&dir, &[run("a", 0, 1.0), run("a", 1, 2.0)], None);
    let opts = |commit: &str| AddOptions {
        commit: Some(commit.into()),
        date: Some("2026-01-01".into()),
        ..AddOptions::default()
    };
    // Eight jobs add eight commits at once, and eight more race to add one same commit.
    let results: Vec<Result<_, HistoryError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..16)
            .map(|k| {
                let commit = if k < 8 {
                    format!("c{k}")
                } else {
                    "same".into()
                };
                let (store, dir, opts) = (&store, &dir, opts(&commit));
                scope.spawn(move || add(store, dir, &opts))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(results[..8].iter().all(Result::is_ok));
    let won = results[8..].iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "exactly one add of the same commit succeeds");
    assert!(results[8..].iter().all(|r| matches!(
        r,
        Ok(_) | Err(HistoryError::Add(HistoryStoreError::Exists { .. }))
    )));
    let files = list_entries(&store).unwrap();
    assert_eq!(files.len(), 9);
    for f in &files {
        assert_eq!(read_entry(f).unwrap().rows.len(), 5);
    }
    // No temporary file is left.
    assert_eq!(std::fs::read_dir(&store).unwrap().count(), 9);
}

/// A store of 30 back-filled commits: from commit 18 on (index 18, commit `c17`) the sgd cell
/// on rosenbrock runs with another learning rate (a new cell id, `b-lr2`: the same series) and
/// its train loss is 40 % higher; everything else is constant but the wall times, which jitter
/// by ±1 %.
fn thirty_commits(root: &Path) -> std::path::PathBuf {
    let store = root.join("store");
    for k in 0..30u64 {
        let dir = root.join(format!("r{k}"));
        let jitter = 1.0 + 0.01 * ((k * 7919 % 13) as f64 / 6.0 - 1.0);
        let runs: Vec<Run> = (0..3)
            .flat_map(|seed| {
                let (cell, lr, factor) = if k >= 17 {
                    ("b-lr2", 0.02, 1.4)
                } else {
                    ("b", 0.01, 1.0)
                };
                [
                    Run {
                        wall: jitter,
                        ..run("a", seed, 0.5 + seed as f64)
                    },
                    Run {
                        wall: jitter,
                        problem: "rosenbrock",
                        optimizer: "sgd",
                        lr,
                        ..run(cell, seed, factor * (seed + 1) as f64)
                    },
                ]
            })
            .collect();
        write_results(&dir, &runs, None);
        let date = format!("2026-01-{:02}T12:00:00Z", k + 1);
        let commit = format!("c{k:02}");
        let o = optbench(
            &[
                "history",
                "add",
                s(&store),
                s(&dir),
                "--commit",
                &commit,
                "--date",
                &date,
            ],
            &[],
        );
        assert!(o.status.success(), "{}", describe(&o));
    }
    store
}

#[test]
fn show_finds_a_known_step_at_its_commit() {
    let tmp = tempfile::tempdir().unwrap();
    let store = thirty_commits(tmp.path());
    let out = tmp.path().join("report");
    let o = optbench(
        &[
            "history",
            "show",
            s(&store),
            "--out",
            s(&out),
            "--format",
            "both",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", describe(&o));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("changes.json")).unwrap()).unwrap();
    assert_eq!(json["commits"].as_array().unwrap().len(), 30);
    assert_eq!(json["commits"][0]["commit"], "c00");
    let changes = json["change_points"].as_array().unwrap();
    // One step per metric of cell b that moved: final train, final test and best train loss.
    assert_eq!(changes.len(), 3, "{changes:#?}");
    for c in changes {
        assert_eq!(c["cell_id"], "b-lr2");
        assert_eq!(c["label"], "sgd b-lr2");
        assert_eq!(c["commit_index"], 18);
        assert_eq!(c["commit"], "c17");
        assert_eq!(c["previous_commit"], "c16");
        assert_eq!(c["worse"], true);
        assert!((c["change"].as_f64().unwrap() - 0.4).abs() < 1e-12, "{c}");
    }
    let md = std::fs::read_to_string(out.join("changes.md")).unwrap();
    assert!(
        md.contains("| 18 `c17` | 2026-01-18 | rosenbrock | sgd b-lr2 `"),
        "{md}"
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("3 change points"));
    // A figure per problem and metric, in both formats, with PNG files that decode.
    for problem in ["quadratic", "rosenbrock"] {
        for metric in [
            "final_train_loss",
            "final_test_loss",
            "best_train_loss",
            "wall_time_s",
            "examples_per_s",
        ] {
            for ext in ["png", "svg"] {
                let f = out.join(format!("trend_{problem}_{metric}.{ext}"));
                assert!(f.is_file(), "missing {}", f.display());
            }
        }
    }
    let png = std::fs::File::open(out.join("trend_rosenbrock_final_train_loss.png")).unwrap();
    let info = png::Decoder::new(std::io::BufReader::new(png))
        .read_info()
        .unwrap();
    assert_eq!(info.info().width, 2025, "6.75 in at 300 dpi");
}

#[test]
fn show_filters_and_rejects() {
    let tmp = tempfile::tempdir().unwrap();
    let store = thirty_commits(tmp.path());
    let out = tmp.path().join("report");
    let o = optbench(
        &[
            "history",
            "show",
            s(&store),
            "--out",
            s(&out),
            "--metric",
            "wall_time_s",
            "--format",
            "svg",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", describe(&o));
    assert!(out.join("trend_quadratic_wall_time_s.svg").is_file());
    assert!(!out.join("trend_quadratic_wall_time_s.png").exists());
    assert!(!out.join("trend_quadratic_final_train_loss.svg").exists());
    // A minimum effect above the step hides it.
    let o = optbench(
        &[
            "history",
            "show",
            s(&store),
            "--out",
            s(&out),
            "--min-effect",
            "0.5",
            "--format",
            "svg",
        ],
        &[],
    );
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("0 change points"),
        "{}",
        describe(&o)
    );
    for args in [
        vec!["history", "show", s(&tmp.path().join("empty"))],
        vec!["history", "show", s(&store), "--label", "runner=none"],
        vec!["history", "show", s(&store), "--metric", "final_train_los"],
        vec!["history", "show", s(&store), "--penalty", "-1"],
    ] {
        let o = optbench(&args, &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", describe(&o));
    }
}
