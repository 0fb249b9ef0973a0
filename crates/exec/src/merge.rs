//! `optbench merge DIR`: combines the shards of a sweep into one result.
//!
//! Shards (`optbench run --shard I/N`) share one results folder: every finished run is a part
//! file `parts/<run_id>.part`, and each shard consolidates its own runs into
//! `runs.shard-I-of-N.parquet`, `metrics.shard-I-of-N.parquet` and `manifest.shard-I-of-N.json`.
//! [`merge_dir`] checks that every run of the plan has a part file, then consolidates all of them
//! in plan order with the very function a single-process sweep uses
//! ([`results::consolidate`]), so `runs.parquet` and `metrics.parquet` are identical to a
//! single-process run's (except `wall_time_s`). A `manifest.json` records the merge and the
//! shards' manifests.
//!
//! # Where the plan comes from
//!
//! `optbench merge DIR` re-expands `DIR/experiment.yaml` ([`plan_for_dir`]): the resolved
//! experiment every shard wrote (overrides applied, seeds explicit), so it is the plan the shards
//! ran, and the merge needs nothing but the folder. Re-expansion alone would silently trust that
//! the merging binary expands the file as the shards' binary did (a changed default changes every
//! run id), so the plan is cross-checked against each shard's manifest (`experiment`,
//! `plan_runs`): a mismatch is an error (exit 2), not a merge of the wrong runs. Relative data
//! paths in the experiment resolve against `--data-dir` (the original experiment file's folder),
//! default `DIR`.
//!
//! # Errors and exit codes
//!
//! Missing runs ([`MergeError::Incomplete`]: counts, the shards they belong to, the first few run
//! ids), a plan that differs from the shards' ([`MergeError::PlanMismatch`]) and a folder without
//! `experiment.yaml` are bad input (exit 2); nothing is written then. I/O and Parquet failures
//! are exit 3.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use thiserror::Error;

use optbench_results::{self as results, EXPERIMENT_YAML, OutputNames, ResultsError};
use optbench_spec::plan::{Plan, RunSpec};
use optbench_spec::shard::Shard;

/// How many missing runs an error message names.
const SHOW: usize = 5;

/// What [`merge_dir`] wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct MergeSummary {
    /// Runs in the plan (= rows of runs.parquet).
    pub runs: usize,
    /// Rows of metrics.parquet.
    pub metric_rows: usize,
    /// Runs with status ok.
    pub ok: usize,
    /// Diverged runs.
    pub diverged: usize,
    /// Failed runs.
    pub failed: usize,
    /// Shards whose files were found (from their file names), in order.
    pub shards: Vec<Shard>,
    /// Part files that belong to no run of the plan (left over from another plan; ignored).
    pub stray_parts: usize,
    /// The merged runs file.
    pub runs_file: PathBuf,
    /// The merged metrics file.
    pub metrics_file: PathBuf,
}

/// Why a merge did not happen.
#[derive(Debug, Error)]
pub enum MergeError {
    /// Runs of the plan have no part file.
    #[error("{}", incomplete_message(*missing, *total, by_shard, absent_shards, first))]
    Incomplete {
        /// Missing runs.
        missing: usize,
        /// Runs in the plan.
        total: usize,
        /// Missing runs per shard, when the shard count is known from the shard files.
        by_shard: Vec<(Shard, usize)>,
        /// Shards of that count that left no manifest at all.
        absent_shards: Vec<Shard>,
        /// The first few missing runs, `run_id (label, seed s)`.
        first: Vec<String>,
    },
    /// The shards ran a different plan than the one re-expanded here.
    #[error("{0}")]
    PlanMismatch(String),
    /// The folder has no experiment.yaml.
    #[error("{}: no {EXPERIMENT_YAML}; is this a results folder written by `optbench run`?", dir.display())]
    NoExperiment {
        /// The folder.
        dir: PathBuf,
    },
    /// The experiment does not expand.
    #[error("{0}")]
    Experiment(#[from] optbench_spec::ExperimentError),
    /// Reading part files or writing the Parquet files failed.
    #[error(transparent)]
    Results(#[from] ResultsError),
    /// A file or folder that cannot be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl MergeError {
    /// 2 for incomplete or mismatched input, 4 for I/O errors, 3 for other internal errors
    /// (what `optbench merge` exits with: the binary's table in `crates/cli/src/exit.rs`).
    pub fn exit_code(&self) -> i32 {
        match self {
            MergeError::Incomplete { .. }
            | MergeError::PlanMismatch(_)
            | MergeError::NoExperiment { .. }
            | MergeError::Experiment(_)
            | MergeError::Results(ResultsError::CorruptPart { .. }) => 2,
            MergeError::Io { .. } | MergeError::Results(ResultsError::Io { .. }) => 4,
            MergeError::Results(ResultsError::Polars { .. }) => 3,
        }
    }
}

fn incomplete_message(
    missing: usize,
    total: usize,
    by_shard: &[(Shard, usize)],
    absent: &[Shard],
    first: &[String],
) -> String {
    let mut s = format!("{missing} of {total} runs are missing");
    if !by_shard.is_empty() {
        let parts: Vec<String> = by_shard
            .iter()
            .map(|(sh, n)| format!("shard {sh}: {n}"))
            .collect();
        let _ = write!(s, " ({})", parts.join(", "));
    }
    let _ = write!(s, ": {}", first.join(", "));
    if missing > first.len() {
        s.push_str(", ...");
    }
    if !absent.is_empty() {
        let names: Vec<String> = absent.iter().map(|sh| sh.to_string()).collect();
        let _ = write!(
            s,
            "; shard(s) {} wrote no manifest (not run or not finished)",
            names.join(", ")
        );
    }
    s.push_str("; run the missing shards again (they resume where they stopped), then merge");
    s
}

/// A shard's manifest as found in the folder.
struct ShardManifest {
    shard: Shard,
    file: String,
    value: Value,
}

/// Shards whose files are in `dir` (from `runs|metrics|manifest.shard-I-of-N.*` names), and the
/// shard manifests that parse.
fn scan_shards(dir: &Path) -> Result<(Vec<Shard>, Vec<ShardManifest>), MergeError> {
    let entries = std::fs::read_dir(dir).map_err(|source| MergeError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut shards = Vec::new();
    let mut manifests = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((stem, tag, ext)) = split_shard_name(&name) else {
            continue;
        };
        let Some(shard) = Shard::parse_tag(tag) else {
            continue;
        };
        if !shards.contains(&shard) {
            shards.push(shard);
        }
        if stem == "manifest" && ext == "json" {
            let text = std::fs::read_to_string(entry.path()).map_err(|source| MergeError::Io {
                path: entry.path(),
                source,
            })?;
            if let Ok(value) = serde_json::from_str::<Value>(&text) {
                manifests.push(ShardManifest {
                    shard,
                    file: name,
                    value,
                });
            }
        }
    }
    shards.sort_by_key(|s| (s.count, s.index));
    manifests.sort_by_key(|m| (m.shard.count, m.shard.index));
    Ok((shards, manifests))
}

/// `runs.shard-0-of-4.parquet` → (`runs`, `shard-0-of-4`, `parquet`).
fn split_shard_name(name: &str) -> Option<(&str, &str, &str)> {
    let (stem, rest) = name.split_once('.')?;
    let (tag, ext) = rest.rsplit_once('.')?;
    tag.starts_with("shard-").then_some((stem, tag, ext))
}

/// Checks the shards' manifests against `plan`.
fn check_plan(plan: &Plan, manifests: &[ShardManifest]) -> Result<(), MergeError> {
    let counts: std::collections::BTreeSet<u64> = manifests.iter().map(|m| m.shard.count).collect();
    if counts.len() > 1 {
        let list: Vec<String> = counts.iter().map(|n| format!("N={n}")).collect();
        return Err(MergeError::PlanMismatch(format!(
            "the folder holds shards of different splits ({}); keep the files of one split \
             (or start again with --force)",
            list.join(", ")
        )));
    }
    for m in manifests {
        if let Some(e) = m.value.get("experiment").and_then(Value::as_str) {
            if e != plan.experiment {
                return Err(MergeError::PlanMismatch(format!(
                    "{} is from experiment `{e}`, but {EXPERIMENT_YAML} is `{}`",
                    m.file, plan.experiment
                )));
            }
        }
        if let Some(n) = m.value.get("plan_runs").and_then(Value::as_u64) {
            if n != plan.len() as u64 {
                return Err(MergeError::PlanMismatch(format!(
                    "shard {} ran a plan of {n} runs, but {EXPERIMENT_YAML} expands to {} runs \
                     here (a different optbench version or experiment file?)",
                    m.shard,
                    plan.len()
                )));
            }
        }
    }
    Ok(())
}

/// The plan of a results folder: `DIR/experiment.yaml` re-expanded, with relative data paths
/// resolved against `data_dir` (default `dir`).
pub fn plan_for_dir(dir: &Path, data_dir: Option<&Path>) -> Result<Plan, MergeError> {
    let path = dir.join(EXPERIMENT_YAML);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(MergeError::NoExperiment {
                dir: dir.to_path_buf(),
            });
        }
        Err(source) => return Err(MergeError::Io { path, source }),
    };
    let named = data_dir.map_or(path, |d| d.join(EXPERIMENT_YAML));
    Ok(optbench_spec::expand::load_str_with(&text, &named, &[], &results::ParquetTables)?.plan)
}

/// `optbench merge DIR [--data-dir D]`: re-expands the plan of `dir` (data paths resolved
/// against `data_dir`, default `dir`) and merges its shards.
pub fn run_merge(dir: &Path, data_dir: Option<&Path>) -> Result<MergeSummary, MergeError> {
    let plan = plan_for_dir(dir, data_dir)?;
    merge_dir(dir, &plan)
}

fn describe(spec: &RunSpec) -> String {
    format!("{} ({}, seed {})", spec.run_id, spec.label, spec.seed)
}

/// Checks that every run of `plan` finished in `dir` and writes the consolidated
/// `runs.parquet`, `metrics.parquet` (plan order) and `manifest.json`.
pub fn merge_dir(dir: &Path, plan: &Plan) -> Result<MergeSummary, MergeError> {
    let (shards, manifests) = scan_shards(dir)?;
    check_plan(plan, &manifests)?;

    let missing: Vec<RunSpec> = plan
        .runs()
        .filter(|r| !results::part_path(dir, &r.run_id).is_file())
        .collect();
    if !missing.is_empty() {
        // Attribute missing runs to shards when the folder holds one split.
        let counts: std::collections::BTreeSet<u64> = shards.iter().map(|s| s.count).collect();
        let (mut by_shard, mut absent) = (Vec::new(), Vec::new());
        if let (1, Some(&n)) = (counts.len(), counts.iter().next()) {
            let mut per: BTreeMap<u64, usize> = BTreeMap::new();
            for r in &missing {
                *per.entry(Shard::bucket_of(&r.cell_id, r.seed, n))
                    .or_default() += 1;
            }
            by_shard = per
                .into_iter()
                .map(|(i, k)| (Shard { index: i, count: n }, k))
                .collect();
            absent = (0..n)
                .map(|i| Shard { index: i, count: n })
                .filter(|s| !manifests.iter().any(|m| m.shard == *s))
                .collect();
        }
        return Err(MergeError::Incomplete {
            missing: missing.len(),
            total: plan.len(),
            by_shard,
            absent_shards: absent,
            first: missing.iter().take(SHOW).map(describe).collect(),
        });
    }

    let names = OutputNames::new(None);
    let consolidated = results::consolidate(dir, &plan.experiment, plan.runs(), &names)?;

    let parts_dir = dir.join(results::PARTS_DIR);
    let in_plan: std::collections::HashSet<String> =
        (0..plan.len()).map(|i| plan.run_id(i)).collect();
    let stray_parts = std::fs::read_dir(&parts_dir)
        .map(|it| {
            it.flatten()
                .filter(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.strip_suffix(&format!(".{}", results::PART_EXT))
                        .is_some_and(|id| !in_plan.contains(id))
                })
                .count()
        })
        .unwrap_or(0);

    let manifest = json!({
        "optbench_version": env!("CARGO_PKG_VERSION"),
        "merged_at": crate::sweep::rfc3339(std::time::SystemTime::now()),
        "experiment": plan.experiment,
        "plan_runs": plan.len(),
        "status_counts": {
            "ok": consolidated.ok,
            "diverged": consolidated.diverged,
            "failed": consolidated.failed,
        },
        "metric_rows": consolidated.metric_rows,
        "merged_shards": shards.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        "shards": manifests.iter().map(|m| m.value.clone()).collect::<Vec<_>>(),
        "runs_file": names.runs,
        "metrics_file": names.metrics,
    });
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n";
    results::write_atomic(&dir.join(&names.manifest), text.as_bytes())?;

    Ok(MergeSummary {
        runs: consolidated.runs,
        metric_rows: consolidated.metric_rows,
        ok: consolidated.ok,
        diverged: consolidated.diverged,
        failed: consolidated.failed,
        shards,
        stray_parts,
        runs_file: dir.join(&names.runs),
        metrics_file: dir.join(&names.metrics),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_file_names() {
        assert_eq!(
            split_shard_name("runs.shard-0-of-4.parquet"),
            Some(("runs", "shard-0-of-4", "parquet"))
        );
        assert_eq!(
            split_shard_name("manifest.shard-3-of-4.json"),
            Some(("manifest", "shard-3-of-4", "json"))
        );
        assert_eq!(split_shard_name("runs.parquet"), None);
        assert_eq!(split_shard_name("manifest.json"), None);
    }

    #[test]
    fn incomplete_message_names_counts_shards_and_runs() {
        let m = incomplete_message(
            7,
            40,
            &[(Shard { index: 1, count: 4 }, 7)],
            &[Shard { index: 1, count: 4 }],
            &["abc (adam lr=0.1, seed 0)".into()],
        );
        assert!(
            m.starts_with("7 of 40 runs are missing (shard 1/4: 7): abc (adam"),
            "{m}"
        );
        assert!(m.contains(", ...; shard(s) 1/4 wrote no manifest"), "{m}");
    }
}
