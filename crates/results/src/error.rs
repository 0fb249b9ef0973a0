//! The error of reading and writing results.

use std::path::{Path, PathBuf};

use polars::prelude::PolarsError;

/// What can go wrong while writing or reading results.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// A file or folder that cannot be created, written, read or renamed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A part file that is truncated or not a part file.
    #[error("{}: corrupt part file: {message}", path.display())]
    CorruptPart {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Polars failed to build, write or read a frame.
    #[error("{}: {source}", path.display())]
    Polars {
        /// The Parquet file.
        path: PathBuf,
        /// The underlying error.
        source: PolarsError,
    },
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> ResultsError + '_ {
    move |source| ResultsError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A Polars error about `path`; one that is an I/O error (a full disk while writing Parquet) is
/// reported as [`ResultsError::Io`], so that it gets the exit code of I/O errors.
pub(crate) fn pl_err(path: &Path) -> impl FnOnce(PolarsError) -> ResultsError + '_ {
    move |source| match source {
        PolarsError::IO { error, .. } => ResultsError::Io {
            path: path.to_path_buf(),
            source: error.raw_os_error().map_or_else(
                || std::io::Error::new(error.kind(), error.to_string()),
                std::io::Error::from_raw_os_error,
            ),
        },
        source => ResultsError::Polars {
            path: path.to_path_buf(),
            source,
        },
    }
}
