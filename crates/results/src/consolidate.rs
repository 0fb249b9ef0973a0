//! Consolidation: the part files of a plan, in plan order, into `runs.parquet` and
//! `metrics.parquet`, with memory bounded by one run plus one row group.

use std::io::{BufWriter, Write};
use std::path::Path;

use optbench_spec::plan::RunSpec;
use polars::prelude::*;

use crate::atomic::AtomicFile;
use crate::error::{ResultsError, io_err, pl_err};
use crate::part::{OPTIONAL_COLUMNS, optional_values, read_part};
use crate::record::{MetricRow, RunStatus};
use crate::runs_table::{RunRow, runs_frame};
use crate::schema::*;

/// Column buffers of `metrics.parquet`, flushed as one row group when full.
#[derive(Default)]
struct MetricsBuffer {
    run_id: Vec<String>,
    step: Vec<u64>,
    epoch: Vec<f64>,
    examples_seen: Vec<u64>,
    wall_time_s: Vec<f64>,
    opt: [Vec<Option<f64>>; OPTIONAL_COLUMNS],
}

impl MetricsBuffer {
    fn len(&self) -> usize {
        self.step.len()
    }

    fn push_run(&mut self, run_id: &str, rows: &[MetricRow]) {
        for r in rows {
            self.run_id.push(run_id.to_string());
            self.step.push(r.step);
            self.epoch.push(r.epoch);
            self.examples_seen.push(r.examples_seen);
            self.wall_time_s.push(r.wall_time_s);
            for (buf, v) in self.opt.iter_mut().zip(optional_values(r)) {
                buf.push(v);
            }
        }
    }

    /// The buffered rows as a frame; the buffers are emptied.
    fn take_frame(&mut self) -> PolarsResult<DataFrame> {
        let n = self.len();
        let opt_names = &METRICS_COLUMNS[5..];
        let mut cols = vec![
            Column::new(RUN_ID.into(), std::mem::take(&mut self.run_id)),
            Column::new(STEP.into(), std::mem::take(&mut self.step)),
            Column::new(EPOCH.into(), std::mem::take(&mut self.epoch)),
            Column::new(
                EXAMPLES_SEEN.into(),
                std::mem::take(&mut self.examples_seen),
            ),
            Column::new(WALL_TIME_S.into(), std::mem::take(&mut self.wall_time_s)),
        ];
        for (name, buf) in opt_names.iter().zip(self.opt.iter_mut()) {
            cols.push(Column::new((*name).into(), std::mem::take(buf)));
        }
        DataFrame::new(n, cols)
    }
}

/// Rows of `metrics.parquet` buffered before a row group is written: bounds the memory of the
/// consolidation whatever the sweep's size.
pub const METRICS_ROW_GROUP: usize = 64 * 1024;

/// What [`consolidate`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Consolidated {
    /// Rows of the runs file (finished runs).
    pub runs: usize,
    /// Rows of the metrics file.
    pub metric_rows: usize,
    /// Runs by status.
    pub ok: usize,
    /// Diverged runs.
    pub diverged: usize,
    /// Failed runs.
    pub failed: usize,
}

/// A Parquet writer into `out`. Polars issues one `write` per page header and page, thousands for
/// a sweep's metrics, so `out` is a [`BufWriter`] (flushed by the caller, which sees its errors).
pub(crate) fn parquet_writer<W: Write>(out: W) -> ParquetWriter<W> {
    ParquetWriter::new(out)
        .with_compression(ParquetCompression::Zstd(None))
        .set_parallel(false)
}

/// Consolidates the part files of `specs` (in the given order; specs without a part file are
/// skipped) into `<dir>/<names.runs>` and `<dir>/<names.metrics>`, each written to a temporary
/// file, flushed to disk and renamed ([`crate::atomic`]). Memory is bounded by one run's part file plus [`METRICS_ROW_GROUP`] metric
/// rows plus one small row per run.
pub fn consolidate(
    dir: &Path,
    experiment: &str,
    specs: impl IntoIterator<Item = RunSpec>,
    names: &OutputNames,
) -> Result<Consolidated, ResultsError> {
    let metrics_path = dir.join(&names.metrics);
    let file = AtomicFile::create(&metrics_path)?;
    let mut metrics_out = BufWriter::with_capacity(1 << 20, file);
    let mut buffer = MetricsBuffer::default();
    let schema = buffer
        .take_frame()
        .map_err(pl_err(&metrics_path))?
        .schema()
        .as_ref()
        .clone();
    let mut writer = parquet_writer(&mut metrics_out)
        .batched(&schema)
        .map_err(pl_err(&metrics_path))?;
    let mut rows = Vec::new();
    let mut summary = Consolidated::default();
    for spec in specs {
        let path = part_path(dir, &spec.run_id);
        if !path.exists() {
            continue;
        }
        let outcome = read_part(&path)?;
        match outcome.status {
            RunStatus::Ok => summary.ok += 1,
            RunStatus::Diverged => summary.diverged += 1,
            RunStatus::Failed => summary.failed += 1,
        }
        rows.push(RunRow::new(&spec, &outcome));
        buffer.push_run(&spec.run_id, &outcome.metrics);
        summary.metric_rows += outcome.metrics.len();
        if buffer.len() >= METRICS_ROW_GROUP {
            let df = buffer.take_frame().map_err(pl_err(&metrics_path))?;
            writer.write_batch(&df).map_err(pl_err(&metrics_path))?;
        }
    }
    if buffer.len() > 0 || summary.metric_rows == 0 {
        let df = buffer.take_frame().map_err(pl_err(&metrics_path))?;
        writer.write_batch(&df).map_err(pl_err(&metrics_path))?;
    }
    writer.finish().map_err(pl_err(&metrics_path))?;
    drop(writer);
    let metrics_file = finish_buffer(metrics_out, &metrics_path)?;
    summary.runs = rows.len();

    let runs_path = dir.join(&names.runs);
    let mut df = runs_frame(experiment, &rows).map_err(pl_err(&runs_path))?;
    let mut runs_out = BufWriter::with_capacity(1 << 20, AtomicFile::create(&runs_path)?);
    parquet_writer(&mut runs_out)
        .finish(&mut df)
        .map_err(pl_err(&runs_path))?;
    let runs_file = finish_buffer(runs_out, &runs_path)?;
    metrics_file.commit()?;
    runs_file.commit()?;
    Ok(summary)
}

/// The file under a buffered writer, with the buffer written out.
fn finish_buffer(out: BufWriter<AtomicFile>, path: &Path) -> Result<AtomicFile, ResultsError> {
    out.into_inner().map_err(|e| io_err(path)(e.into_error()))
}
