//! The error of the experiment front end: a problem with an experiment file or a `--set`
//! override, found before anything runs.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::yaml::Position;

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
}
