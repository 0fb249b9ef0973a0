//! IDX files (the MNIST / Fashion-MNIST format), raw or gzip-compressed.
//!
//! Format: two zero bytes, a type byte (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32,
//! 0x0E f64), the number of dimensions, each dimension as a big-endian u32, then the values in
//! big-endian row-major order. The first dimension counts examples; an images file's other
//! dimensions are flattened into features; a labels file has one dimension.

use std::io::Read;
use std::path::Path;

use super::Dataset;
use crate::error::ModelError;

/// Reads a whole file, decompressing it when it starts with the gzip magic bytes.
fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, ModelError> {
    let raw = std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| ModelError::malformed(path, None, None, format!("bad gzip data: {e}")))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

struct Idx {
    dims: Vec<usize>,
    values: Vec<f32>,
}

fn parse(path: &Path, bytes: &[u8], limit: usize) -> Result<Idx, ModelError> {
    let bad = |msg: String| ModelError::malformed(path, None, None, msg);
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(bad("not an IDX file (bad magic number)".into()));
    }
    let size = match bytes[2] {
        0x08 | 0x09 => 1,
        0x0B => 2,
        0x0C | 0x0D => 4,
        0x0E => 8,
        t => return Err(bad(format!("unknown IDX data type 0x{t:02X}"))),
    };
    let ndims = usize::from(bytes[3]);
    if ndims == 0 {
        return Err(bad("IDX file with 0 dimensions".into()));
    }
    let header = 4 + 4 * ndims;
    if bytes.len() < header {
        return Err(bad("truncated IDX header".into()));
    }
    let mut dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    if limit > 0 && limit < dims[0] {
        dims[0] = limit;
    }
    let per_example = dims[1..].iter().product::<usize>().max(1) * size;
    let have = (bytes.len() - header) / per_example.max(1);
    if have < dims[0] {
        return Err(ModelError::malformed(
            path,
            Some(have as u64 + 1),
            None,
            format!(
                "truncated: the header promises {} examples, the data ends in example {}",
                dims[0],
                have + 1
            ),
        ));
    }
    let data = &bytes[header..header + dims[0] * per_example];
    let values: Vec<f32> = match bytes[2] {
        0x08 => data.iter().map(|&b| f32::from(b)).collect(),
        0x09 => data.iter().map(|&b| f32::from(b as i8)).collect(),
        0x0B => data
            .chunks_exact(2)
            .map(|c| f32::from(i16::from_be_bytes([c[0], c[1]])))
            .collect(),
        0x0C => data
            .chunks_exact(4)
            .map(|c| i32::from_be_bytes([c[0], c[1], c[2], c[3]]) as f32)
            .collect(),
        0x0D => data
            .chunks_exact(4)
            .map(|c| f32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        _ => data
            .chunks_exact(8)
            .map(|c| f64::from_be_bytes(c.try_into().expect("8 bytes")) as f32)
            .collect(),
    };
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        let per = per_example / size;
        return Err(ModelError::malformed(
            path,
            Some((i / per) as u64 + 1),
            Some(((i % per) + 1).to_string()),
            "value is not finite",
        ));
    }
    Ok(Idx { dims, values })
}

/// Loads an images file and a labels file; `limit > 0` keeps the first `limit` examples.
pub(super) fn load(images: &Path, labels: &Path, limit: usize) -> Result<Dataset, ModelError> {
    let x = parse(images, &read_maybe_gz(images)?, limit)?;
    let y = parse(labels, &read_maybe_gz(labels)?, limit)?;
    if y.dims.len() != 1 {
        return Err(ModelError::malformed(
            labels,
            None,
            None,
            format!("a labels file has 1 dimension, found {}", y.dims.len()),
        ));
    }
    if x.dims[0] != y.dims[0] {
        return Err(ModelError::malformed(
            labels,
            None,
            None,
            format!(
                "{} labels for {} images in {}",
                y.dims[0],
                x.dims[0],
                images.display()
            ),
        ));
    }
    if let Some(i) = y.values.iter().position(|&t| t < 0.0 || t.fract() != 0.0) {
        return Err(ModelError::malformed(
            labels,
            Some(i as u64 + 1),
            None,
            format!(
                "a class label must be an integer ≥ 0, found {}",
                y.values[i]
            ),
        ));
    }
    let k = y.values.iter().fold(0.0f32, |m, &t| m.max(t)) as usize + 1;
    let d = x.dims[1..].iter().product::<usize>().max(1);
    Dataset::new(
        images.display().to_string(),
        x.values,
        d,
        y.values,
        Some(k.max(2)),
    )
    .ok_or_else(|| ModelError::malformed(images, None, None, "inconsistent IDX data"))
}

/// Encodes u8 data as IDX (for tests and tools).
#[cfg(test)]
pub(crate) fn encode_u8(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: determinism, exact copies
mod tests {
    use std::io::Write;

    use super::*;

    fn write(dir: &Path, name: &str, bytes: &[u8], gz: bool) -> std::path::PathBuf {
        let p = dir.join(name);
        let mut f = std::fs::File::create(&p).unwrap();
        if gz {
            let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
            e.write_all(bytes).unwrap();
            e.finish().unwrap();
        } else {
            f.write_all(bytes).unwrap();
        }
        p
    }

    #[test]
    fn reads_raw_and_gz() {
        let dir = tempfile::tempdir().unwrap();
        let pixels: Vec<u8> = (0..3 * 2 * 2).map(|i| i as u8).collect();
        for gz in [false, true] {
            let x = write(dir.path(), "x", &encode_u8(&[3, 2, 2], &pixels), gz);
            let y = write(dir.path(), "y", &encode_u8(&[3], &[1, 0, 4]), gz);
            let d = load(&x, &y, 0).unwrap();
            assert_eq!((d.len(), d.n_features(), d.n_classes()), (3, 4, Some(5)));
            assert_eq!(d.row(2), &[8.0, 9.0, 10.0, 11.0]);
            assert_eq!(d.targets(), &[1.0, 0.0, 4.0]);
            assert_eq!(load(&x, &y, 2).unwrap().len(), 2);
        }
    }

    #[test]
    fn malformed_files_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let y = write(dir.path(), "y", &encode_u8(&[3], &[1, 0, 4]), false);
        // Truncated: 3 images promised, data for 2 and a half.
        let x = write(
            dir.path(),
            "x",
            &encode_u8(&[3, 2], &[0, 1, 2, 3, 4]),
            false,
        );
        let e = load(&x, &y, 0).unwrap_err();
        assert!(
            matches!(e, ModelError::Malformed { row: Some(3), .. }),
            "{e}"
        );
        assert!(e.to_string().contains("truncated"), "{e}");
        // Bad magic.
        let x = write(dir.path(), "bad", b"hello world", false);
        let e = load(&x, &y, 0).unwrap_err();
        assert!(
            e.to_string().contains("bad") && e.to_string().contains("magic"),
            "{e}"
        );
        // Missing file.
        let e = load(&dir.path().join("nope"), &y, 0).unwrap_err();
        assert!(matches!(e, ModelError::Io { .. }), "{e}");
        // Label count mismatch.
        let x = write(dir.path(), "x2", &encode_u8(&[2, 1], &[0, 1]), false);
        assert!(load(&x, &y, 0).is_err());
        // Corrupt gzip.
        let x = write(dir.path(), "x3", &[0x1f, 0x8b, 0, 1, 2], false);
        assert!(load(&x, &y, 0).unwrap_err().to_string().contains("gzip"));
    }
}
