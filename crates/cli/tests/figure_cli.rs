//! `--format` and `--profile` through the binary: `plot` and `report` write only the formats
//! asked for, with the profile figure and its tables; an unknown format is refused.

mod results_fixture;

use optbench_analysis::plot::synthetic::{Synthetic, write_synthetic};
use results_fixture::{describe, optbench};
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn extensions(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            p.extension().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn plot_and_report_take_formats_and_profiles() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_synthetic(
        dir,
        &Synthetic {
            runs: 24,
            records: 11,
            seeds: 2,
            lrs: 2,
        },
    )
    .unwrap();
    // Every run reaches a loss of 1e9 at its first record.
    let o = optbench(
        &[
            "plot",
            s(dir),
            "--format",
            "pdf",
            "--profile",
            "train_loss=1e9",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", describe(&o));
    let plots = dir.join("plots");
    assert_eq!(extensions(&plots), ["pdf"]);
    assert!(plots.join("profile_train_loss.pdf").is_file());

    std::fs::remove_dir_all(&plots).unwrap();
    let o = optbench(
        &[
            "report",
            s(dir),
            "--no-html",
            "--format",
            "svg",
            "--profile",
            "train_loss=1e9",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", describe(&o));
    assert_eq!(extensions(&plots), ["svg"]);
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("## Steps to train_loss ≤"), "{md}");
    assert!(md.contains("plots/profile_train_loss.svg"), "{md}");

    let o = optbench(&["plot", s(dir), "--format", "png,eps"], &[]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("eps"),
        "{}",
        describe(&o)
    );
}
