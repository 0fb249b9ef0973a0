//! Reading results: the consolidated Parquet files of a results folder.

use std::fs::File;
use std::path::Path;

use polars::prelude::*;

use crate::error::{ResultsError, io_err, pl_err};
use crate::schema::OutputNames;

/// Reads a Parquet file into a frame.
pub fn read_parquet(path: &Path) -> Result<DataFrame, ResultsError> {
    let file = File::open(path).map_err(io_err(path))?;
    ParquetReader::new(file).finish().map_err(pl_err(path))
}

/// Reads `<dir>/runs.parquet`.
pub fn read_runs(dir: &Path) -> Result<DataFrame, ResultsError> {
    read_parquet(&dir.join(OutputNames::new(None).runs))
}

/// Reads `<dir>/metrics.parquet`.
pub fn read_metrics(dir: &Path) -> Result<DataFrame, ResultsError> {
    read_parquet(&dir.join(OutputNames::new(None).metrics))
}
