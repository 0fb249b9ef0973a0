//! One module per command; [`run_command`] dispatches.

mod compare;
mod history;
mod init;
mod list;
mod merge;
mod plot;
mod run;
mod validate;

pub use compare::compare;
pub use list::list;
pub use run::default_out_dir;
pub use validate::summary;

use crate::args::Command;
use crate::exit::{CliError, ExitCode};

/// Runs one subcommand.
pub fn run_command(command: Command) -> Result<ExitCode, CliError> {
    match command {
        Command::Run(args) => run::run(&args),
        Command::Validate(args) => validate::validate(&args),
        Command::Init(args) => init::init(&args),
        Command::List(args) => {
            print!("{}", list(args.what));
            Ok(ExitCode::Ok)
        }
        Command::Plot(args) => plot::plot(&args),
        Command::Report(args) => plot::report(&args),
        Command::Compare(args) => compare::compare(&args),
        Command::Merge(args) => merge::merge(&args),
        Command::History(command) => history::history(&command),
    }
}
