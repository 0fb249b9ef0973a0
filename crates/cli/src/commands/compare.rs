//! `optbench compare`: the CI gate.

use optbench_analysis::compare::{
    CompareError, CompareOutcome, compare_dirs, render_json, render_markdown,
};

use crate::args::CompareArgs;
use crate::exit::{CliError, ExitCode};

/// Reads both folders, prints the Markdown report on stdout, writes `--json FILE`; exits 0 (no
/// regression), 1 (regression) or 2 (not comparable).
pub fn compare(args: &CompareArgs) -> Result<ExitCode, CliError> {
    let outcome = compare_dirs(&args.baseline, &args.candidate, &args.settings())?;
    print!("{}", render_markdown(&outcome, args.all));
    if let Some(path) = &args.json {
        std::fs::write(path, render_json(&outcome)).map_err(|source| CompareError::WriteJson {
            path: path.clone(),
            source,
        })?;
    }
    eprintln!("optbench: {}", outcome.summary());
    Ok(match outcome {
        CompareOutcome::Pass(_) => ExitCode::Ok,
        CompareOutcome::Regression(_) => ExitCode::Failed,
        CompareOutcome::NotComparable(_) => ExitCode::BadInput,
    })
}
