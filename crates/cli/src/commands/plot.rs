//! `optbench plot` and `optbench report`: figures and tables from a results folder.

use optbench_analysis::{html, plot, report};

use crate::args::{PlotArgs, ReportArgs};
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

/// Writes report.md and report.tex for `args.dir`, and report.html unless `--no-html` (only it
/// with `--html`).
pub fn report(args: &ReportArgs) -> Result<ExitCode, CliError> {
    if !args.html {
        let files = report::write_report_with(&args.dir, &args.options())?;
        eprintln!(
            "optbench: wrote {} and {}",
            files.markdown.display(),
            files.latex.display()
        );
    }
    if !args.no_html {
        let page = html::write_html_report(&args.dir)?;
        eprintln!("optbench: wrote {}", page.display());
    }
    Ok(ExitCode::Ok)
}
