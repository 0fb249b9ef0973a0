//! Reading results: the consolidated Parquet files of a results folder; and writing a frame
//! to a results file for tools and tests that build folders without a sweep.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

use polars::prelude::*;

use crate::consolidate::parquet_writer;
use crate::error::{ResultsError, io_err, pl_err};
use crate::part::tmp_path;
use crate::schema::OutputNames;

/// Writes a frame to a Parquet file (zstd, as the sweep writes its files), through a temporary
/// file renamed into place. For tools and tests that build result folders without a sweep.
pub fn write_parquet(path: &Path, df: &mut DataFrame) -> Result<(), ResultsError> {
    let tmp = tmp_path(path);
    let file = File::create(&tmp).map_err(io_err(&tmp))?;
    let mut out = BufWriter::new(file);
    parquet_writer(&mut out).finish(df).map_err(pl_err(path))?;
    out.flush().map_err(io_err(&tmp))?;
    drop(out);
    fs::rename(&tmp, path).map_err(io_err(path))
}

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
