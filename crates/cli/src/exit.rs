//! The exit codes of `optbench` and the one place every error is mapped to one.
//!
//! | code | meaning |
//! |---:|---|
//! | 0 | success (`compare`: no regression) |
//! | 1 | a run failed (`run`), a regression (`compare`), an interrupted sweep |
//! | 2 | bad input: experiment file, command line, results folder not comparable or incomplete, a commit already in the history store |
//! | 3 | internal error: a bug, or writing results failed |
//!
//! Every command returns `Result<ExitCode, CliError>`; [`CliError::exit_code`] is one exhaustive
//! match over every library error, so a new error variant cannot reach the user without a code.

use optbench_analysis::compare::CompareError;
use optbench_analysis::history::HistoryError;
use optbench_analysis::html::HtmlError;
use optbench_analysis::plot::{DataError, PlotError};
use optbench_analysis::report::ReportError;
use optbench_exec::merge::MergeError;
use optbench_exec::sweep::SweepError;
use optbench_results::ResultsError;
use optbench_results::history::HistoryStoreError;
use optbench_spec::ExperimentError;

/// What the process returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitCode {
    /// 0: success.
    Ok,
    /// 1: a failed run, a regression or an interrupted sweep.
    Failed,
    /// 2: bad input.
    BadInput,
    /// 3: internal error.
    Internal,
}

impl ExitCode {
    /// The number the process exits with.
    pub fn code(self) -> i32 {
        match self {
            ExitCode::Ok => 0,
            ExitCode::Failed => 1,
            ExitCode::BadInput => 2,
            ExitCode::Internal => 3,
        }
    }
}

/// Every error a command can end with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The experiment file or a `--set` override is wrong.
    #[error(transparent)]
    Experiment(#[from] ExperimentError),
    /// A command-line value clap cannot check by itself (e.g. `--shard 3/2`).
    #[error("{0}")]
    Usage(String),
    /// The sweep could not write its results.
    #[error(transparent)]
    Sweep(#[from] SweepError),
    /// The results are saved, but drawing or reporting them failed.
    #[error("the results are saved, but {what} failed: {message}")]
    AfterSweep {
        /// `drawing figures` or `the report`.
        what: &'static str,
        /// The error.
        message: String,
    },
    /// `optbench merge`.
    #[error(transparent)]
    Merge(#[from] MergeError),
    /// `optbench compare`.
    #[error(transparent)]
    Compare(#[from] CompareError),
    /// `optbench plot`.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// `optbench report`.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// `optbench history`.
    #[error(transparent)]
    History(#[from] HistoryError),
    /// `report.html`.
    #[error(transparent)]
    Html(#[from] HtmlError),
    /// A panic inside a command (a bug).
    #[error("internal error: {0}")]
    Panic(String),
}

impl CliError {
    /// The exit code of this error: the one place errors are classified.
    pub fn exit_code(&self) -> ExitCode {
        use ExitCode::{BadInput, Internal};
        match self {
            CliError::Experiment(_) | CliError::Usage(_) => BadInput,
            CliError::Sweep(e) => match e {
                SweepError::Io { .. } | SweepError::Results(_) | SweepError::ThreadPool { .. } => {
                    Internal
                }
            },
            CliError::AfterSweep { .. } | CliError::Panic(_) => Internal,
            CliError::Merge(e) => match e {
                MergeError::Incomplete { .. }
                | MergeError::PlanMismatch(_)
                | MergeError::NoExperiment { .. }
                | MergeError::Experiment(_) => BadInput,
                MergeError::Results(r) => results_code(r),
                MergeError::Io { .. } => Internal,
            },
            CliError::Compare(e) => match e {
                CompareError::BadArgs(_) | CompareError::Read { .. } => BadInput,
                CompareError::WriteReport { .. } | CompareError::Internal(_) => Internal,
            },
            CliError::Plot(e) => plot_code(e),
            CliError::Report(e) => match e {
                ReportError::Data(d) => data_code(d),
                ReportError::Plot(p) => plot_code(p),
                ReportError::NoRuns { .. } => BadInput,
                ReportError::Io { .. } => Internal,
            },
            CliError::History(e) => match e {
                HistoryError::BadArgs(_)
                | HistoryError::Results { .. }
                | HistoryError::Read(_)
                | HistoryError::Empty { .. } => BadInput,
                HistoryError::Add(store) => match store {
                    HistoryStoreError::BadCommit(_)
                    | HistoryStoreError::Exists { .. }
                    | HistoryStoreError::Schema { .. } => BadInput,
                    HistoryStoreError::Io { .. } | HistoryStoreError::Polars { .. } => Internal,
                },
                HistoryError::Plot(p) => plot_code(p),
                HistoryError::Write { .. } => Internal,
            },
            CliError::Html(e) => match e {
                HtmlError::Data(d) => data_code(d),
                HtmlError::NoRuns { .. } => BadInput,
                HtmlError::Read { .. } | HtmlError::Write { .. } | HtmlError::Json { .. } => {
                    Internal
                }
            },
        }
    }
}

/// Figures: results that cannot be read are bad input; failing to draw is internal.
fn plot_code(e: &PlotError) -> ExitCode {
    match e {
        PlotError::Data(d) => data_code(d),
        PlotError::NoRuns { .. } => ExitCode::BadInput,
        PlotError::Font | PlotError::Io { .. } | PlotError::Draw { .. } => ExitCode::Internal,
    }
}

/// Results that cannot be read are bad input to the command that reads them.
fn data_code(e: &DataError) -> ExitCode {
    match e {
        DataError::Read { .. } | DataError::Column { .. } => ExitCode::BadInput,
    }
}

fn results_code(e: &ResultsError) -> ExitCode {
    match e {
        ResultsError::CorruptPart { .. } => ExitCode::BadInput,
        ResultsError::Io { .. } | ResultsError::Polars { .. } => ExitCode::Internal,
    }
}

/// The error as one line for stderr: its message, then causes not already in it.
pub fn one_line(err: &CliError) -> String {
    let mut line = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let c = cause.to_string();
        if !line.contains(&c) {
            line.push_str(": ");
            line.push_str(&c);
        }
        source = cause.source();
    }
    line.replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn exit_codes_by_error() {
        let e = CliError::from(ExperimentError::file(Path::new("a"), "x"));
        assert_eq!(e.exit_code(), ExitCode::BadInput);
        assert_eq!(CliError::Usage("bad".into()).exit_code().code(), 2);
        assert_eq!(CliError::Panic("x".into()).exit_code().code(), 3);
        let e = CliError::from(CompareError::BadArgs("no metric".into()));
        assert_eq!(e.exit_code(), ExitCode::BadInput);
        let e = CliError::from(PlotError::NoRuns { path: "r".into() });
        assert_eq!(e.exit_code(), ExitCode::BadInput);
        let e = CliError::from(HistoryError::Add(HistoryStoreError::Exists {
            commit: "abc".into(),
            path: "s/abc.parquet".into(),
        }));
        assert_eq!(e.exit_code(), ExitCode::BadInput);
        let e = CliError::from(HistoryError::Write {
            path: "o".into(),
            source: std::io::Error::other("disk full"),
        });
        assert_eq!(e.exit_code(), ExitCode::Internal);
        assert_eq!(ExitCode::Failed.code(), 1);
        assert_eq!(ExitCode::Ok.code(), 0);
    }
}
