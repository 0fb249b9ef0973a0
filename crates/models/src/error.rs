//! The error type of the models crate.

use std::path::PathBuf;

/// Everything that can go wrong while configuring a problem or loading its data.
///
/// Configuration variants name the thing configured (`owner`: a problem or dataset name) and the
/// key, so that the runner can add the file and entry; data variants name the file and, where
/// it applies, the row (1-based, counting a header line as row 1 for CSV) and the column.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A problem name that is not in [`crate::PROBLEM_NAMES`].
    #[error("unknown problem `{name}`; valid problems: {valid}")]
    UnknownProblem {
        /// The name as written.
        name: String,
        /// The valid names, comma-separated.
        valid: String,
    },
    /// A dataset name that is not in [`crate::DATASET_NAMES`].
    #[error("unknown dataset `{name}`; valid datasets: {valid}")]
    UnknownDataset {
        /// The name as written.
        name: String,
        /// The valid names, comma-separated.
        valid: String,
    },
    /// A key that the problem or dataset does not take.
    #[error("`{owner}` has no key `{key}`; valid keys: {valid}")]
    UnknownKey {
        /// Problem or dataset name.
        owner: String,
        /// The key as written.
        key: String,
        /// The valid keys, comma-separated.
        valid: String,
    },
    /// A required key that is absent.
    #[error("`{owner}` needs the key `{key}`")]
    MissingKey {
        /// Problem or dataset name.
        owner: String,
        /// The missing key.
        key: String,
    },
    /// A value of the wrong type.
    #[error("`{owner}.{key}` must be {expected}, found {found}")]
    WrongType {
        /// Problem or dataset name.
        owner: String,
        /// The key.
        key: String,
        /// What the key takes, e.g. "a non-negative integer".
        expected: &'static str,
        /// The value found, as JSON.
        found: String,
    },
    /// A value of the right type outside its range.
    #[error("`{owner}.{key}` {message}")]
    OutOfRange {
        /// Problem or dataset name.
        owner: String,
        /// The key.
        key: String,
        /// What is wrong, e.g. "must be in (0, 1), found 1.5".
        message: String,
    },
    /// A problem that cannot be built on the given data (e.g. logistic regression on 3 classes).
    #[error("`{problem}`: {message}")]
    Incompatible {
        /// Problem name.
        problem: String,
        /// What does not fit.
        message: String,
    },
    /// A file that cannot be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file whose content is malformed: truncated, a bad header, a non-numeric cell, a missing
    /// target column.
    #[error("{}{}{}: {message}", path.display(), row.map(|r| format!(", row {r}")).unwrap_or_default(), column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The row (1-based), where it applies.
        row: Option<u64>,
        /// The column name (or 1-based number), where it applies.
        column: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A weights file (`init: {file: ...}`) that does not fit the network: a missing, extra or
    /// mis-shaped tensor, a wrong dtype, or not a safetensors file.
    #[error("{}: {message}", path.display())]
    Weights {
        /// The file.
        path: PathBuf,
        /// The tensor, where one is at fault.
        tensor: Option<String>,
        /// What is wrong, naming the tensor and its expected shape.
        message: String,
    },
}

impl ModelError {
    /// A malformed file: the path, and the row (1-based) and column where it applies.
    pub fn malformed(
        path: &std::path::Path,
        row: Option<u64>,
        column: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        ModelError::Malformed {
            path: path.to_path_buf(),
            row,
            column,
            message: message.into(),
        }
    }

    /// The configuration key this error is about, if any (for the runner's messages).
    pub fn key(&self) -> Option<&str> {
        match self {
            ModelError::UnknownKey { key, .. }
            | ModelError::MissingKey { key, .. }
            | ModelError::WrongType { key, .. }
            | ModelError::OutOfRange { key, .. } => Some(key),
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: determinism, exact copies
mod tests {
    use super::*;

    #[test]
    fn malformed_names_file_row_column() {
        let e = ModelError::malformed(
            std::path::Path::new("d.csv"),
            Some(3),
            Some("x1".into()),
            "not a number: `abc`",
        );
        assert_eq!(
            e.to_string(),
            "d.csv, row 3, column x1: not a number: `abc`"
        );
    }
}
