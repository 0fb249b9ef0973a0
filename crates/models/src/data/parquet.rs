//! Parquet files with a target column, read with the `parquet` crate (arrow-rs) without its
//! Arrow layer: polars stays in the runner, and this reader needs no Arrow arrays.

use std::path::Path;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

use crate::error::ModelError;

fn numeric(field: &Field) -> Option<f64> {
    Some(match field {
        Field::Bool(b) => f64::from(u8::from(*b)),
        Field::Byte(v) => f64::from(*v),
        Field::Short(v) => f64::from(*v),
        Field::Int(v) => f64::from(*v),
        Field::Long(v) => *v as f64,
        Field::UByte(v) => f64::from(*v),
        Field::UShort(v) => f64::from(*v),
        Field::UInt(v) => f64::from(*v),
        Field::ULong(v) => *v as f64,
        Field::Float16(v) => f64::from(*v),
        Field::Float(v) => f64::from(*v),
        Field::Double(v) => *v,
        _ => return None,
    })
}

/// Reads `path`: returns (features row-major, number of features, targets). Rows are numbered
/// from 1 (the first data row); columns by name.
pub(super) fn load(path: &Path, target: &str) -> Result<(Vec<f32>, usize, Vec<f32>), ModelError> {
    let file = std::fs::File::open(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let bad = |row: Option<u64>, col: Option<String>, msg: String| {
        ModelError::malformed(path, row, col, msg)
    };
    let reader = SerializedFileReader::new(file)
        .map_err(|e| bad(None, None, format!("not a readable Parquet file: {e}")))?;
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let names: Vec<String> = schema
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    let t = names.iter().position(|n| n == target).ok_or_else(|| {
        bad(
            None,
            Some(target.to_string()),
            format!(
                "no target column `{target}` (columns: {})",
                names.join(", ")
            ),
        )
    })?;
    let d = names.len() - 1;
    if d == 0 {
        return Err(bad(None, None, "no feature columns".into()));
    }
    let n = usize::try_from(reader.metadata().file_metadata().num_rows()).unwrap_or(0);
    let mut x = Vec::with_capacity(n * d);
    let mut y = Vec::with_capacity(n);
    let rows = reader
        .get_row_iter(None)
        .map_err(|e| bad(None, None, format!("cannot read rows: {e}")))?;
    for (i, row) in rows.enumerate() {
        let r = i as u64 + 1;
        let row = row.map_err(|e| bad(Some(r), None, format!("cannot read row: {e}")))?;
        for (j, (name, field)) in row.get_column_iter().enumerate() {
            let v = match numeric(field) {
                Some(v) if v.is_finite() => v as f32,
                Some(v) => {
                    return Err(bad(
                        Some(r),
                        Some(name.clone()),
                        format!("value {v} is not finite"),
                    ));
                }
                None if matches!(field, Field::Null) => {
                    return Err(bad(Some(r), Some(name.clone()), "null value".into()));
                }
                None => {
                    return Err(bad(
                        Some(r),
                        Some(name.clone()),
                        format!("not a number: {field}"),
                    ));
                }
            };
            if j == t {
                y.push(v);
            } else {
                x.push(v);
            }
        }
    }
    if y.is_empty() {
        return Err(bad(None, None, "no data rows".into()));
    }
    Ok((x, d, y))
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: determinism, exact copies
mod tests {
    use std::sync::Arc;

    use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    use super::*;

    /// Writes columns a (double), label (int64) and optionally s (string).
    fn write(path: &Path, with_string: bool, nulls: bool) {
        let schema = if with_string {
            "message m { required double a; required int64 label; required binary s (UTF8); }"
        } else if nulls {
            "message m { optional double a; required int64 label; }"
        } else {
            "message m { required double a; required int64 label; }"
        };
        let schema = Arc::new(parse_message_type(schema).unwrap());
        let file = std::fs::File::create(path).unwrap();
        let mut w =
            SerializedFileWriter::new(file, schema, Arc::new(WriterProperties::builder().build()))
                .unwrap();
        let mut rg = w.next_row_group().unwrap();
        let mut col = rg.next_column().unwrap().unwrap();
        if nulls {
            col.typed::<DoubleType>()
                .write_batch(&[1.5, 2.5], Some(&[1, 0, 1]), None)
                .unwrap();
        } else {
            col.typed::<DoubleType>()
                .write_batch(&[1.5, 2.5, 3.5], None, None)
                .unwrap();
        }
        col.close().unwrap();
        let mut col = rg.next_column().unwrap().unwrap();
        col.typed::<Int64Type>()
            .write_batch(&[0, 1, 1], None, None)
            .unwrap();
        col.close().unwrap();
        if with_string {
            let mut col = rg.next_column().unwrap().unwrap();
            let v: Vec<ByteArray> = ["x", "y", "z"]
                .iter()
                .map(|s| ByteArray::from(*s))
                .collect();
            col.typed::<ByteArrayType>()
                .write_batch(&v, None, None)
                .unwrap();
            col.close().unwrap();
        }
        rg.close().unwrap();
        w.close().unwrap();
    }

    #[test]
    fn reads_numeric_columns() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.parquet");
        write(&p, false, false);
        let (x, d, y) = load(&p, "label").unwrap();
        assert_eq!((d, x, y), (1, vec![1.5, 2.5, 3.5], vec![0.0, 1.0, 1.0]));
    }

    #[test]
    fn malformed_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.parquet");
        write(&p, false, false);
        let e = load(&p, "target").unwrap_err();
        assert!(e.to_string().contains("no target column `target`"), "{e}");
        // Truncated file.
        let bytes = std::fs::read(&p).unwrap();
        let cut = dir.path().join("cut.parquet");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        assert!(matches!(
            load(&cut, "label").unwrap_err(),
            ModelError::Malformed { .. }
        ));
        // Not Parquet at all.
        let txt = dir.path().join("t.parquet");
        std::fs::write(&txt, "a,b\n1,2\n").unwrap();
        assert!(
            load(&txt, "label")
                .unwrap_err()
                .to_string()
                .contains("Parquet")
        );
        // A string column.
        let s = dir.path().join("s.parquet");
        write(&s, true, false);
        let e = load(&s, "label").unwrap_err();
        assert!(
            matches!(&e, ModelError::Malformed { row: Some(1), column: Some(c), .. } if c == "s"),
            "{e}"
        );
        // A null cell.
        let n = dir.path().join("n.parquet");
        write(&n, false, true);
        let e = load(&n, "label").unwrap_err();
        assert!(
            matches!(&e, ModelError::Malformed { row: Some(2), column: Some(c), .. } if c == "a"),
            "{e}"
        );
        assert!(matches!(
            load(&dir.path().join("missing.parquet"), "label").unwrap_err(),
            ModelError::Io { .. }
        ));
    }
}
