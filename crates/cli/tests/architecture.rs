//! The crate map of ARCHITECTURE.md, enforced: which optbench crates each crate may depend on,
//! and which heavy dependencies stay where they are used. Read from `cargo metadata`, normal
//! (non-dev) dependencies only.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

/// (crate, optbench crates it may use, third-party crates it must not use).
const RULES: &[(&str, &[&str], &[&str])] = &[
    (
        "optbench-optim",
        &[],
        &["polars", "plotters", "clap", "rayon"],
    ),
    (
        "optbench-models",
        &[],
        &["polars", "plotters", "clap", "rayon", "parquet"],
    ),
    (
        "optbench-spec",
        &["optbench-optim", "optbench-models"],
        &["polars", "plotters", "clap", "rayon", "parquet"],
    ),
    (
        "optbench-results",
        &["optbench-spec", "optbench-models"],
        &["plotters", "clap", "rayon", "parquet"],
    ),
    (
        "optbench-exec",
        &[
            "optbench-optim",
            "optbench-models",
            "optbench-spec",
            "optbench-results",
        ],
        &["polars", "plotters", "clap", "parquet"],
    ),
    (
        "optbench-analysis",
        &["optbench-results", "optbench-models"],
        &["clap", "parquet"],
    ),
    (
        "optbench",
        &[
            "optbench-optim",
            "optbench-models",
            "optbench-spec",
            "optbench-results",
            "optbench-exec",
            "optbench-analysis",
        ],
        &["parquet"],
    ),
    (
        "optbench-testkit",
        &[
            "optbench-optim",
            "optbench-models",
            "optbench-spec",
            "optbench-results",
        ],
        &["plotters", "clap", "parquet"],
    ),
];

/// Normal dependencies of every workspace package.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut deps = BTreeMap::new();
    for p in meta["packages"].as_array().unwrap() {
        let names = p["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"].is_null())
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect();
        deps.insert(p["name"].as_str().unwrap().to_string(), names);
    }
    deps
}

#[test]
fn crates_depend_only_on_what_the_architecture_allows() {
    let deps = dependencies();
    let packages: BTreeSet<&str> = deps.keys().map(String::as_str).collect();
    let ruled: BTreeSet<&str> = RULES.iter().map(|r| r.0).collect();
    assert_eq!(
        packages, ruled,
        "every workspace crate has a rule, and only those"
    );
    for (name, allowed, forbidden) in RULES {
        for d in &deps[*name] {
            if d.starts_with("optbench") {
                assert!(
                    allowed.contains(&d.as_str()),
                    "{name} depends on {d}, which ARCHITECTURE.md does not allow"
                );
            }
            assert!(
                !forbidden.contains(&d.as_str()),
                "{name} depends on {d}, which must stay out of it"
            );
        }
    }
}

#[test]
fn clap_appears_only_in_the_binary() {
    for (name, ds) in dependencies() {
        if name != "optbench" {
            assert!(!ds.contains("clap"), "{name} depends on clap");
        }
    }
}

#[test]
fn the_testkit_is_a_dev_dependency_only() {
    for (name, ds) in dependencies() {
        assert!(
            !ds.contains("optbench-testkit"),
            "{name} depends on optbench-testkit outside [dev-dependencies]"
        );
    }
}
