//! `optbench plot` and `optbench report`: figures and tables from a results folder.

use std::path::Path;

use optbench_analysis::{plot, report};

use crate::args::PlotArgs;
use crate::exit::{CliError, ExitCode};

/// Redraws the figures of `args.dir`.
pub fn plot(args: &PlotArgs) -> Result<ExitCode, CliError> {
    let files = plot::plot_results(&args.dir, &args.options())?;
    eprintln!(
        "optbench: {} figure file(s) in {}",
        files.len(),
        args.dir.join("plots").display()
    );
    Ok(ExitCode::Ok)
}

/// Writes report.md and report.tex for `dir`.
pub fn report(dir: &Path) -> Result<ExitCode, CliError> {
    let files = report::write_report(dir)?;
    eprintln!(
        "optbench: wrote {} and {}",
        files.markdown.display(),
        files.latex.display()
    );
    Ok(ExitCode::Ok)
}
