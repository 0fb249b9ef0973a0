//! `optbench compare`: the CI gate.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use optbench_analysis::compare::junit::render_junit;
use optbench_analysis::compare::{
    CompareError, CompareOutcome, compare_dirs, render_json, render_markdown,
};

use crate::args::CompareArgs;
use crate::exit::{CliError, ExitCode};

/// The variable GitHub Actions sets to the file of a step's summary.
pub const STEP_SUMMARY_VAR: &str = "GITHUB_STEP_SUMMARY";

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> CompareError + '_ {
    move |source| CompareError::WriteReport {
        path: path.to_path_buf(),
        source,
    }
}

/// Appends `text` to the step summary file, when `$GITHUB_STEP_SUMMARY` names one.
fn append_step_summary(text: &str) -> Result<(), CompareError> {
    let Some(path) = std::env::var_os(STEP_SUMMARY_VAR).filter(|p| !p.is_empty()) else {
        eprintln!("optbench: --summary: ${STEP_SUMMARY_VAR} is not set, nothing appended");
        return Ok(());
    };
    let path = PathBuf::from(path);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(write_error(&path))?;
    writeln!(file, "{text}").map_err(write_error(&path))
}

/// Reads both folders, prints the Markdown report on stdout, writes `--json FILE` and
/// `--junit FILE`, appends to the step summary with `--summary`; exits 0 (no regression), 1
/// (regression) or 2 (not comparable).
pub fn compare(args: &CompareArgs) -> Result<ExitCode, CliError> {
    let outcome = compare_dirs(&args.baseline, &args.candidate, &args.settings())?;
    let markdown = render_markdown(&outcome, args.all);
    print!("{markdown}");
    if let Some(path) = &args.json {
        std::fs::write(path, render_json(&outcome)).map_err(write_error(path))?;
    }
    if let Some(path) = &args.junit {
        let xml = render_junit(&outcome).map_err(|e| CompareError::Internal(e.to_string()))?;
        std::fs::write(path, xml).map_err(write_error(path))?;
    }
    if args.summary {
        append_step_summary(&markdown)?;
    }
    eprintln!("optbench: {}", outcome.summary());
    Ok(match outcome {
        CompareOutcome::Pass(_) => ExitCode::Ok,
        CompareOutcome::Regression(_) => ExitCode::Failed,
        CompareOutcome::NotComparable(_) => ExitCode::BadInput,
    })
}
