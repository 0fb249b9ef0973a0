//! Errors of the front end (experiment files, command line) and the exit codes of `optbench`.
//!
//! Exit codes (DESIGN.md §4): 0 success, 1 a regression or a failed run, 2 bad input, 3 internal
//! error. Library functions return typed errors; the binary turns them into `anyhow::Error` and
//! [`exit_code`] maps them back by downcasting.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::yaml::Position;

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: a regression (compare) or a failed run (run).
pub const EXIT_FAILED: i32 = 1;
/// Exit code: bad input (experiment file, command line, results folder).
pub const EXIT_BAD_INPUT: i32 = 2;
/// Exit code: internal error (I/O while writing, a bug).
pub const EXIT_INTERNAL: i32 = 3;

/// A problem with an experiment file or a `--set` override, found before anything runs.
///
/// Displayed as one sentence: `FILE:LINE:COLUMN: ENTRY: MESSAGE`, e.g.
/// `experiments/x.yaml:14:5: optimizers[1] (adam): unknown hyperparameter 'beta1'; did you mean
/// 'betas'?`. Line and column are given where the parser or the key scan knows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExperimentError {
    /// The experiment file.
    pub file: PathBuf,
    /// Where in the file, when known.
    pub position: Option<Position>,
    /// The entry, e.g. `optimizers[1] (adam)`, `train`, `--set optimizers.0.lr=-1`.
    pub entry: Option<String>,
    /// The key concerned (dotted, relative to the entry), when there is one.
    pub key: Option<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl ExperimentError {
    /// An error about the whole file (unreadable, empty, not YAML).
    pub fn file(file: &Path, message: impl Into<String>) -> Self {
        ExperimentError {
            file: file.to_path_buf(),
            position: None,
            entry: None,
            key: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for ExperimentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(p) = self.position {
            write!(f, ":{}:{}", p.line, p.column)?;
        }
        write!(f, ": ")?;
        if let Some(e) = &self.entry {
            write!(f, "{e}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for ExperimentError {}

/// A bad command-line argument that clap cannot check by itself (e.g. `--shard 3/2`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// A feature whose implementation has not landed in this build.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not available in this build of optbench yet")]
pub struct NotAvailable(pub &'static str);

/// An error of another module, already classified: its message and exit code.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// The exit code (2 bad input, 3 internal).
    pub code: i32,
    /// One sentence.
    pub message: String,
}

impl Failure {
    /// Bad input (exit code 2).
    pub fn bad_input(message: impl Into<String>) -> Self {
        Failure {
            code: EXIT_BAD_INPUT,
            message: message.into(),
        }
    }

    /// Internal error (exit code 3).
    pub fn internal(message: impl Into<String>) -> Self {
        Failure {
            code: EXIT_INTERNAL,
            message: message.into(),
        }
    }
}

/// The exit code for an error returned by a subcommand: 2 for bad input, 3 otherwise.
/// Errors of other modules that mean bad input are recognised by type.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    if err.downcast_ref::<ExperimentError>().is_some() || err.downcast_ref::<UsageError>().is_some()
    {
        return EXIT_BAD_INPUT;
    }
    if let Some(f) = err.downcast_ref::<Failure>() {
        return f.code;
    }
    EXIT_INTERNAL
}

/// Formats an error chain as one line: the outermost message, then its causes after `: `,
/// skipping causes whose text is already contained in the line.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut line = err.to_string();
    for cause in err.chain().skip(1) {
        let c = cause.to_string();
        if !line.contains(&c) {
            line.push_str(": ");
            line.push_str(&c);
        }
    }
    line.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_file_position_entry_message() {
        let e = ExperimentError {
            file: "experiments/x.yaml".into(),
            position: Some(Position {
                line: 14,
                column: 5,
            }),
            entry: Some("optimizers[1] (adam)".into()),
            key: Some("beta1".into()),
            message: "unknown hyperparameter 'beta1'; did you mean 'betas'?".into(),
        };
        assert_eq!(
            e.to_string(),
            "experiments/x.yaml:14:5: optimizers[1] (adam): unknown hyperparameter 'beta1'; did you mean 'betas'?"
        );
        let e = ExperimentError::file(Path::new("a.yaml"), "the file is empty");
        assert_eq!(e.to_string(), "a.yaml: the file is empty");
    }

    #[test]
    fn exit_codes_by_type() {
        let e: anyhow::Error = ExperimentError::file(Path::new("a"), "x").into();
        assert_eq!(exit_code(&e), EXIT_BAD_INPUT);
        let e: anyhow::Error = UsageError("bad".into()).into();
        assert_eq!(exit_code(&e), EXIT_BAD_INPUT);
        let e = anyhow::anyhow!("disk full");
        assert_eq!(exit_code(&e), EXIT_INTERNAL);
        let e: anyhow::Error = Failure::bad_input("no runs.parquet").into();
        assert_eq!(exit_code(&e), EXIT_BAD_INPUT);
        assert_eq!(e.to_string(), "no runs.parquet");
    }
}
