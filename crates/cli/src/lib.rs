//! The `optbench` command line: clap types ([`args`]), one module per command ([`commands`]),
//! and the exit codes ([`exit`]).

pub mod args;
pub mod commands;
pub mod exit;

use clap::Parser;

use crate::args::Cli;
use crate::exit::{CliError, one_line};

/// Parses the command line, runs it and returns the process exit code. Never panics outward:
/// a panic is reported as an internal error, without a backtrace.
pub fn main() -> i32 {
    std::panic::set_hook(Box::new(|info| {
        let msg = panic_message(info.payload());
        let at = info
            .location()
            .map(|l| format!(" (at {}:{})", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("optbench: internal error: {msg}{at}");
    }));
    let cli = Cli::parse();
    let result = std::panic::catch_unwind(|| commands::run_command(cli.command))
        .unwrap_or_else(|payload| Err(CliError::Panic(panic_message(payload.as_ref()))));
    match result {
        Ok(code) => code.code(),
        Err(CliError::Panic(_)) => exit::ExitCode::Internal.code(),
        Err(err) => {
            eprintln!("optbench: error: {}", one_line(&err));
            let code = err.exit_code();
            if code == exit::ExitCode::Io {
                eprintln!(
                    "optbench: a file could not be written or read (a full disk, permissions, a \
                     read-only folder?); everything written before is intact: fix the cause and \
                     run the same command again"
                );
            }
            code.code()
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}
