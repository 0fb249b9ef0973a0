//! CSV files with a header row and a target column; every cell numeric.

use std::path::Path;

use crate::error::ModelError;

/// Reads `path`: returns (features row-major, number of features, targets). Rows are numbered
/// as lines of the file (the header is row 1).
pub(super) fn load(path: &Path, target: &str) -> Result<(Vec<f32>, usize, Vec<f32>), ModelError> {
    let file = std::fs::File::open(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read(path, std::io::BufReader::new(file), target)
}

/// Reads CSV text from `input` as [`load`] reads a file; `path` names it in errors.
pub(super) fn read(
    path: &Path,
    input: impl std::io::Read,
    target: &str,
) -> Result<(Vec<f32>, usize, Vec<f32>), ModelError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let csv_err = |e: csv::Error| {
        let row = e.position().map(|p| p.line());
        let msg = match e.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!("expected {expected_len} cells as in the header, found {len}"),
            csv::ErrorKind::Io(io) => io.to_string(),
            csv::ErrorKind::Utf8 { .. } => "invalid UTF-8".into(),
            _ => e.to_string(),
        };
        ModelError::malformed(path, row, None, msg)
    };
    let headers = reader.headers().map_err(csv_err)?.clone();
    if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
        return Err(ModelError::malformed(
            path,
            Some(1),
            None,
            "empty file: no header row",
        ));
    }
    let t = headers.iter().position(|h| h == target).ok_or_else(|| {
        ModelError::malformed(
            path,
            Some(1),
            Some(target.to_string()),
            format!(
                "no target column `{target}` (columns: {})",
                headers.iter().collect::<Vec<_>>().join(", ")
            ),
        )
    })?;
    let d = headers.len() - 1;
    if d == 0 {
        return Err(ModelError::malformed(
            path,
            Some(1),
            None,
            "no feature columns",
        ));
    }
    let mut x = Vec::new();
    let mut y = Vec::new();
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(csv_err)? {
        let line = record.position().map_or(0, |p| p.line());
        for (j, cell) in record.iter().enumerate() {
            let v: f32 = cell
                .parse()
                .ok()
                .filter(|v: &f32| v.is_finite())
                .ok_or_else(|| {
                    ModelError::malformed(
                        path,
                        Some(line),
                        Some(headers[j].to_string()),
                        if cell.is_empty() {
                            "empty cell".to_string()
                        } else {
                            format!("not a finite number: `{cell}`")
                        },
                    )
                })?;
            if j == t {
                y.push(v);
            } else {
                x.push(v);
            }
        }
    }
    if y.is_empty() {
        return Err(ModelError::malformed(path, None, None, "no data rows"));
    }
    Ok((x, d, y))
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: determinism, exact copies
mod tests {
    use super::*;

    fn write(content: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.csv");
        std::fs::write(&p, content).unwrap();
        (dir, p)
    }

    #[test]
    fn reads_features_and_target() {
        let (_d, p) = write("a,target,b\n1,0,2\n3, 1 ,4.5\n");
        let (x, d, y) = load(&p, "target").unwrap();
        assert_eq!(d, 2);
        assert_eq!(x, [1.0, 2.0, 3.0, 4.5]);
        assert_eq!(y, [0.0, 1.0]);
    }

    #[test]
    fn malformed_files_name_row_and_column() {
        let (_d, p) = write("a,target\n1,0\n2,x\n");
        let e = load(&p, "target").unwrap_err();
        assert!(
            matches!(&e, ModelError::Malformed { row: Some(3), column: Some(c), .. } if c == "target"),
            "{e}"
        );
        let (_d, p) = write("a,b\n1,0\n");
        let e = load(&p, "target").unwrap_err();
        assert!(e.to_string().contains("no target column `target`"), "{e}");
        let (_d, p) = write("a,target\n1,0\n2\n");
        let e = load(&p, "target").unwrap_err();
        assert!(
            matches!(e, ModelError::Malformed { row: Some(3), .. }),
            "{e}"
        );
        let (_d, p) = write("");
        assert!(load(&p, "target").is_err());
        let (_d, p) = write("a,target\n");
        assert!(
            load(&p, "target")
                .unwrap_err()
                .to_string()
                .contains("no data rows")
        );
        let (_d, p) = write("a,target\n1,\n");
        assert!(
            load(&p, "target")
                .unwrap_err()
                .to_string()
                .contains("empty cell")
        );
        let e = load(Path::new("/nonexistent/d.csv"), "target").unwrap_err();
        assert!(matches!(e, ModelError::Io { .. }));
    }
}
