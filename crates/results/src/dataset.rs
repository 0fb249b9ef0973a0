//! Parquet datasets (`dataset: {name: parquet, path: …, target: …}`), read with polars and
//! handed to optbench-models as arrays: this crate is the workspace's one reader of Parquet.

use std::fs::File;
use std::path::Path;

use optbench_models::{ModelError, Table, TableReader};
use polars::prelude::*;

/// Reads Parquet datasets for [`optbench_models::load_dataset_with`].
#[derive(Clone, Copy, Debug, Default)]
pub struct ParquetTables;

impl TableReader for ParquetTables {
    /// Every column but `target` is a feature, in file order. Each value must be a finite
    /// number (integers and booleans are read as numbers); a null, a string or a non-finite
    /// value is an error naming the file, the row (1-based) and the column.
    fn read_parquet(&self, path: &Path, target: &str) -> Result<Table, ModelError> {
        let bad = |row: Option<u64>, col: Option<String>, msg: String| {
            ModelError::malformed(path, row, col, msg)
        };
        let file = File::open(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let df = ParquetReader::new(file)
            .finish()
            .map_err(|e| bad(None, None, format!("not a readable Parquet file: {e}")))?;
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        if !names.iter().any(|n| n == target) {
            return Err(bad(
                None,
                Some(target.to_string()),
                format!(
                    "no target column `{target}` (columns: {})",
                    names.join(", ")
                ),
            ));
        }
        let n_features = names.len() - 1;
        if n_features == 0 {
            return Err(bad(None, None, "no feature columns".into()));
        }
        let rows = df.height();
        if rows == 0 {
            return Err(bad(None, None, "no data rows".into()));
        }
        let mut features = vec![0.0f32; rows * n_features];
        let mut targets = vec![0.0f32; rows];
        let mut j = 0;
        for (name, column) in names.iter().zip(df.columns()) {
            let values = numeric_column(column).map_err(|m| bad(None, Some(name.clone()), m))?;
            for (i, v) in values.into_iter().enumerate() {
                let row = Some(i as u64 + 1);
                let v = v.ok_or_else(|| bad(row, Some(name.clone()), "null value".into()))?;
                if !v.is_finite() {
                    return Err(bad(
                        row,
                        Some(name.clone()),
                        format!("value {v} is not finite"),
                    ));
                }
                #[allow(clippy::cast_possible_truncation)]
                let v = v as f32;
                if name == target {
                    targets[i] = v;
                } else {
                    features[i * n_features + j] = v;
                }
            }
            if name != target {
                j += 1;
            }
        }
        Ok(Table {
            features,
            n_features,
            targets,
        })
    }
}

/// A column's values as `f64` (null stays `None`), or why it is not numeric.
fn numeric_column(column: &Column) -> Result<Vec<Option<f64>>, String> {
    let dtype = column.dtype();
    if !(dtype.is_primitive_numeric() || dtype.is_bool()) {
        return Err(format!("not a number column (type {dtype})"));
    }
    let cast = column
        .cast(&DataType::Float64)
        .map_err(|e| format!("cannot read as numbers: {e}"))?;
    let values = cast.f64().map_err(|e| e.to_string())?;
    Ok(values.iter().collect())
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact copies of small integers and halves
mod tests {
    use super::*;

    fn write(path: &Path, df: &mut DataFrame) {
        let file = File::create(path).unwrap();
        ParquetWriter::new(file).finish(df).unwrap();
    }

    #[test]
    fn features_are_every_column_but_the_target_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.parquet");
        let mut df = df!(
            "a" => [1.5f64, 2.5, 3.5],
            "label" => [0i64, 1, 1],
            "flag" => [true, false, true],
        )
        .unwrap();
        write(&path, &mut df);
        let t = ParquetTables.read_parquet(&path, "label").unwrap();
        assert_eq!(t.n_features, 2);
        assert_eq!(t.features, [1.5, 1.0, 2.5, 0.0, 3.5, 1.0]);
        assert_eq!(t.targets, [0.0, 1.0, 1.0]);
    }

    #[test]
    fn malformed_files_name_file_row_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let msg = |df: &mut DataFrame, target: &str| {
            let path = dir.path().join("m.parquet");
            write(&path, df);
            ParquetTables
                .read_parquet(&path, target)
                .unwrap_err()
                .to_string()
        };
        let mut strings =
            df!("a" => [1.0f64, 2.0], "label" => [0i64, 1], "s" => ["x", "y"]).unwrap();
        let e = msg(&mut strings, "label");
        assert!(
            e.contains("m.parquet") && e.contains('s') && e.contains("not a number"),
            "{e}"
        );
        let mut nulls = df!("a" => [Some(1.0f64), None], "label" => [0i64, 1]).unwrap();
        let e = msg(&mut nulls, "label");
        assert!(e.contains("row 2") && e.contains("null"), "{e}");
        let mut ok = df!("a" => [1.0f64], "label" => [0i64]).unwrap();
        assert!(msg(&mut ok, "target").contains("no target column `target`"));
        let path = dir.path().join("not.parquet");
        std::fs::write(&path, "not parquet").unwrap();
        let e = ParquetTables
            .read_parquet(&path, "y")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a readable Parquet file"), "{e}");
    }
}
