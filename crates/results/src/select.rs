//! Reading some columns of a results file (`metrics.parquet` is large; `compare --target` and
//! the speed metrics need three of its columns).

use std::fs::File;
use std::path::Path;

use polars::prelude::*;

use crate::ResultsError;

/// Reads the columns of `names` that the Parquet file at `path` has, in the file's order; the
/// caller reports the missing ones. `Io` with [`std::io::ErrorKind::NotFound`] when the file
/// does not exist.
pub fn read_parquet_columns(path: &Path, names: &[&str]) -> Result<DataFrame, ResultsError> {
    let file = File::open(path).map_err(|source| ResultsError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let pl = |source| ResultsError::Polars {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = ParquetReader::new(file);
    let schema = reader.schema().map_err(pl)?;
    let wanted: Vec<String> = schema
        .iter_names()
        .filter(|n| names.contains(&n.as_str()))
        .map(|n| n.to_string())
        .collect();
    reader.with_columns(Some(wanted)).finish().map_err(pl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_columns_it_has() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.parquet");
        let mut df = DataFrame::new(
            2,
            vec![
                Column::new("a".into(), [1u64, 2]),
                Column::new("b".into(), [0.5, 1.5]),
                Column::new("c".into(), ["x", "y"]),
            ],
        )
        .unwrap();
        ParquetWriter::new(File::create(&path).unwrap())
            .finish(&mut df)
            .unwrap();
        let got = read_parquet_columns(&path, &["c", "a", "zz"]).unwrap();
        let names: Vec<&str> = got.get_column_names().iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["a", "c"]);
        assert_eq!(got.height(), 2);
        let missing = read_parquet_columns(&dir.path().join("none.parquet"), &["a"]);
        assert!(matches!(
            missing,
            Err(ResultsError::Io { ref source, .. }) if source.kind() == std::io::ErrorKind::NotFound
        ));
    }
}
