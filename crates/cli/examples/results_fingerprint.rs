//! Prints every value of a results folder's `runs.parquet` and `metrics.parquet` except
//! `wall_time_s`, floats as their bit patterns (hex), one line per column and row: two folders
//! hold the same results bit for bit exactly when the outputs are equal (`cmp`). Used by
//! `scripts/check_cpu_paths.sh`.
//!
//! ```sh
//! cargo run -q -p optbench --example results_fingerprint -- results/baseline
//! ```

use std::io::Write;
use std::path::PathBuf;

use optbench_results::{WALL_TIME_S, read_metrics, read_runs};
use polars::prelude::*;

fn dump(name: &str, df: &DataFrame, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "# {name}: {} rows", df.height())?;
    for c in df.columns() {
        if c.name().as_str() == WALL_TIME_S {
            continue;
        }
        write!(out, "{}:", c.name())?;
        match c.dtype() {
            DataType::Float64 => {
                for v in c.f64().map_err(std::io::Error::other)?.iter() {
                    match v {
                        Some(x) => write!(out, " {:016x}", x.to_bits())?,
                        None => write!(out, " null")?,
                    }
                }
            }
            DataType::Float32 => {
                for v in c.f32().map_err(std::io::Error::other)?.iter() {
                    match v {
                        Some(x) => write!(out, " {:08x}", x.to_bits())?,
                        None => write!(out, " null")?,
                    }
                }
            }
            _ => {
                for i in 0..c.len() {
                    write!(out, " {:?}", c.get(i).map_err(std::io::Error::other)?)?;
                }
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir: PathBuf = std::env::args_os()
        .nth(1)
        .ok_or("usage: results_fingerprint RESULTS_DIR")?
        .into();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    dump("runs.parquet", &read_runs(&dir)?, &mut out)?;
    dump("metrics.parquet", &read_metrics(&dir)?, &mut out)?;
    out.flush()?;
    Ok(())
}
