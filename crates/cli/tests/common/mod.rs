//! Helpers shared by the runner's integration tests.

use optbench_results as results;
use polars::prelude::*;

/// Every value of every column but `wall_time_s`, floats as bits: two results are identical
/// run for run exactly when their fingerprints are equal.
pub fn fingerprint(df: &DataFrame) -> Vec<(String, Vec<String>)> {
    df.columns()
        .iter()
        .filter(|c| c.name().as_str() != results::WALL_TIME_S)
        .map(|c| {
            let values = match c.dtype() {
                DataType::Float64 => c
                    .f64()
                    .unwrap()
                    .iter()
                    .map(|v| format!("{:?}", v.map(f64::to_bits)))
                    .collect(),
                _ => (0..c.len())
                    .map(|i| format!("{:?}", c.get(i).unwrap()))
                    .collect(),
            };
            (c.name().to_string(), values)
        })
        .collect()
}
