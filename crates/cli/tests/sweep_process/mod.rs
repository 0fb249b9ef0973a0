//! `optbench run` as a child process, and the part files it has written so far: for the tests
//! that kill, signal or race real sweeps.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};

use optbench_results as results;

/// `optbench run FILE --out OUT --jobs JOBS --no-plots`, outside any Slurm or Kubernetes array
/// (so no shard is taken from the environment), with stdin and stdout closed and stderr piped.
pub fn optbench_run(file: &Path, out: &Path, jobs: usize) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_optbench"));
    c.arg("run")
        .arg(file)
        .arg("--out")
        .arg(out)
        .args(["--jobs", &jobs.to_string(), "--no-plots"])
        .env_remove("SLURM_ARRAY_TASK_ID")
        .env_remove("SLURM_ARRAY_TASK_COUNT")
        .env_remove("JOB_COMPLETION_INDEX")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// The files of `OUT/parts/` whose name ends with `suffix`, or starts with `.` when `suffix` is
/// ".".
pub fn part_files(out: &Path, suffix: &str) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(out.join(results::PARTS_DIR)) else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            if suffix == "." {
                n.starts_with('.')
            } else {
                n.ends_with(suffix)
            }
        })
        .collect()
}

/// How many runs the sweep in `out` has saved.
pub fn parts(out: &Path) -> usize {
    part_files(out, ".part").len()
}
