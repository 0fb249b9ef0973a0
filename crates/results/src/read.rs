//! Reading results: the consolidated Parquet files of a results folder; and writing a frame
//! to a results file for tools and tests that build folders without a sweep.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use polars::prelude::*;

use crate::atomic::AtomicFile;
use crate::consolidate::parquet_writer;
use crate::error::{ResultsError, io_err, pl_err};
use crate::schema::OutputNames;

/// Writes a frame to a Parquet file (zstd, as the sweep writes its files), atomically and
/// durably ([`crate::atomic`]). For tools and tests that build result folders without a sweep.
pub fn write_parquet(path: &Path, df: &mut DataFrame) -> Result<(), ResultsError> {
    let mut out = BufWriter::new(AtomicFile::create(path)?);
    parquet_writer(&mut out).finish(df).map_err(pl_err(path))?;
    let file = out.into_inner().map_err(|e| io_err(path)(e.into_error()))?;
    file.commit()
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
