//! The exit codes of `optbench` and the one place every error is mapped to one.
//!
//! | code | meaning |
//! |---:|---|
//! | 0 | success (`compare`: no regression) |
//! | 1 | a run failed (`run`), a regression (`compare`), a sweep stopped by its embedding program |
//! | 2 | bad input: experiment file, command line, results folder not comparable or incomplete, a commit already in the history store |
//! | 3 | internal error: a bug |
//! | 4 | I/O error: a file or folder that cannot be written, created or read back (a full disk, permissions, a read-only folder); the message names it; what was written before is intact |
//! | 130 | `run` stopped by SIGINT (Ctrl-C): finished runs are kept, the same command resumes (a second SIGINT exits at once, also 130) |
//! | 143 | `run` stopped by SIGTERM (Slurm's `scancel` or time limit, Kubernetes): as for 130 |
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
    /// 1: a failed run, a regression or a sweep stopped by its embedding program.
    Failed,
    /// 2: bad input.
    BadInput,
    /// 3: internal error.
    Internal,
    /// 4: a file or folder that cannot be written, created or read back.
    Io,
    /// 130 (128 + 2): `run` stopped by SIGINT.
    Sigint,
    /// 143 (128 + 15): `run` stopped by SIGTERM.
    Sigterm,
}

impl ExitCode {
    /// The number the process exits with.
    pub fn code(self) -> i32 {
        match self {
            ExitCode::Ok => 0,
            ExitCode::Failed => 1,
            ExitCode::BadInput => 2,
            ExitCode::Internal => 3,
            ExitCode::Io => 4,
            ExitCode::Sigint => 130,
            ExitCode::Sigterm => 143,
        }
    }

    /// The code of a sweep stopped by `signal` (Some(2): SIGINT, Some(15): SIGTERM; None: by
    /// the embedding program's stop flag).
    pub fn interrupted(signal: Option<i32>) -> Self {
        match signal {
            Some(2) => ExitCode::Sigint,
            Some(15) => ExitCode::Sigterm,
            _ => ExitCode::Failed,
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
    #[error("the results are saved, but {what} failed: {source}")]
    AfterSweep {
        /// `drawing figures` or `the report`.
        what: &'static str,
        /// The error.
        source: Box<CliError>,
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
    /// `optbench init`: a run's problem cannot be built (its data or weights file).
    #[error("{what}: {message}")]
    Init {
        /// The run, e.g. `cell 0123abcd (adam lr=0.001), seed 0`.
        what: String,
        /// Why.
        message: String,
    },
    /// Writing an output file failed.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file or folder.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A panic inside a command (a bug).
    #[error("internal error: {0}")]
    Panic(String),
}

impl CliError {
    /// The exit code of this error: the one place errors are classified.
    pub fn exit_code(&self) -> ExitCode {
        use ExitCode::{BadInput, Internal, Io};
        match self {
            CliError::Experiment(_) | CliError::Usage(_) | CliError::Init { .. } => BadInput,
            CliError::Write { .. } => Internal,
            CliError::Sweep(e) => match e {
                SweepError::Io { .. } => Io,
                SweepError::Results(r) => match r {
                    ResultsError::Io { .. } => Io,
                    ResultsError::CorruptPart { .. } | ResultsError::Polars { .. } => Internal,
                },
                SweepError::ThreadPool { .. } => Internal,
            },
            // Figures and the report of a finished sweep: only I/O is the user's to fix.
            CliError::AfterSweep { source, .. } => match source.exit_code() {
                Io => Io,
                _ => Internal,
            },
            CliError::Panic(_) => Internal,
            CliError::Merge(e) => match e {
                MergeError::Incomplete { .. }
                | MergeError::PlanMismatch(_)
                | MergeError::NoExperiment { .. }
                | MergeError::Experiment(_) => BadInput,
                MergeError::Results(r) => results_code(r),
                MergeError::Io { .. } => Io,
            },
            CliError::Compare(e) => match e {
                CompareError::BadArgs(_) | CompareError::Read { .. } => BadInput,
                CompareError::WriteReport { .. } => Io,
                CompareError::Internal(_) => Internal,
            },
            CliError::Plot(e) => plot_code(e),
            CliError::Report(e) => match e {
                ReportError::Data(d) => data_code(d),
                ReportError::Plot(p) => plot_code(p),
                ReportError::NoRuns { .. } => BadInput,
                ReportError::Io { .. } => Io,
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
                    HistoryStoreError::Io { .. } => Io,
                    HistoryStoreError::Polars { .. } => Internal,
                },
                HistoryError::Plot(p) => plot_code(p),
                HistoryError::Write { .. } => Io,
            },
            CliError::Html(e) => match e {
                HtmlError::Data(d) => data_code(d),
                HtmlError::NoRuns { .. } => BadInput,
                HtmlError::Read { .. } | HtmlError::Write { .. } => Io,
                HtmlError::Json { .. } => Internal,
            },
        }
    }
}

/// Figures: results that cannot be read are bad input; failing to draw is internal.
fn plot_code(e: &PlotError) -> ExitCode {
    match e {
        PlotError::Data(d) => data_code(d),
        PlotError::NoRuns { .. } => ExitCode::BadInput,
        PlotError::Io { .. } => ExitCode::Io,
        PlotError::Font | PlotError::Draw { .. } => ExitCode::Internal,
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
        ResultsError::Io { .. } => ExitCode::Io,
        ResultsError::Polars { .. } => ExitCode::Internal,
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
        assert_eq!(e.exit_code(), ExitCode::Io);
        assert_eq!(ExitCode::Failed.code(), 1);
        assert_eq!(ExitCode::Ok.code(), 0);
    }

    #[test]
    fn io_errors_have_their_own_code_and_name_the_file() {
        let full = || std::io::Error::from_raw_os_error(28); // ENOSPC
        let path = std::path::PathBuf::from("/results/x/parts/abc.part");
        let e = CliError::from(SweepError::Results(ResultsError::Io {
            path: path.clone(),
            source: full(),
        }));
        assert_eq!(e.exit_code().code(), 4);
        let line = one_line(&e);
        assert!(line.contains("/results/x/parts/abc.part"), "{line}");
        assert!(line.contains("No space left on device"), "{line}");
        let e = CliError::from(SweepError::Io {
            path: path.clone(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        });
        assert_eq!(e.exit_code(), ExitCode::Io);
        let e = CliError::from(MergeError::Io {
            path: path.clone(),
            source: full(),
        });
        assert_eq!(e.exit_code(), ExitCode::Io);
        let e = CliError::AfterSweep {
            what: "the report",
            source: Box::new(CliError::from(ReportError::Io {
                path,
                source: full(),
            })),
        };
        assert_eq!(e.exit_code(), ExitCode::Io);
        let e = CliError::AfterSweep {
            what: "drawing figures",
            source: Box::new(CliError::from(PlotError::Font)),
        };
        assert_eq!(e.exit_code(), ExitCode::Internal);
    }

    #[test]
    fn signals_exit_with_128_plus_their_number() {
        assert_eq!(ExitCode::interrupted(Some(2)).code(), 130);
        assert_eq!(ExitCode::interrupted(Some(15)).code(), 143);
        assert_eq!(ExitCode::interrupted(None).code(), 1);
    }
}
