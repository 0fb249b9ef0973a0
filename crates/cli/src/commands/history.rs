//! `optbench history add` and `optbench history show`: regression tracking over commits.

use optbench_analysis::history::{self, AddOptions};

use crate::args::{HistoryAddArgs, HistoryCommand, HistoryShowArgs};
use crate::exit::{CliError, ExitCode};

/// Runs `history add` or `history show`.
pub fn history(command: &HistoryCommand) -> Result<ExitCode, CliError> {
    match command {
        HistoryCommand::Add(args) => add(args),
        HistoryCommand::Show(args) => show(args),
    }
}

/// Adds a results folder to the store.
fn add(args: &HistoryAddArgs) -> Result<ExitCode, CliError> {
    let opts = AddOptions {
        commit: args.commit.clone(),
        date: args.date.clone(),
        labels: args.labels.clone(),
        replace: args.replace,
    };
    let added = history::add(&args.store, &args.dir, &opts)?;
    eprintln!(
        "optbench: added commit {} ({}) to {}: {} rows ({} cells)",
        added.commit,
        added.date,
        added.path.display(),
        added.rows,
        added.cells
    );
    Ok(ExitCode::Ok)
}

/// Prints the change points and writes the figures and tables.
fn show(args: &HistoryShowArgs) -> Result<ExitCode, CliError> {
    let opts = args.options();
    let shown = history::show(&args.store, &opts)?;
    print!("{}", shown.markdown);
    eprintln!(
        "optbench: {} commits, {} series, {} change points; {} files in {}",
        shown.commits,
        shown.series,
        shown.changes.len(),
        shown.files.len(),
        opts.out.display()
    );
    Ok(ExitCode::Ok)
}
