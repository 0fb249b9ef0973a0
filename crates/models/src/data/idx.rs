//! IDX files (the MNIST / Fashion-MNIST format), raw or gzip-compressed.
//!
//! Format: two zero bytes, a type byte (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32,
//! 0x0E f64), the number of dimensions, each dimension as a big-endian u32, then the values in
//! big-endian row-major order. The first dimension counts examples; an images file's other
//! dimensions are flattened into features (row-major, so a rank-3 file's examples are 1×H×W
//! images); a labels file has one dimension.

use std::io::Read;
use std::path::Path;

use super::{Dataset, ImageShape};
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
/// `test`, the official test split's images and labels files, is read whole. A rank-3 images
/// file (examples × rows × columns, as MNIST's) gives images of 1×rows×columns; other ranks
/// give tabular data (the dimensions after the first flattened into features).
pub(super) fn load(
    images: &Path,
    labels: &Path,
    test: Option<(&Path, &Path)>,
    limit: usize,
) -> Result<Dataset, ModelError> {
    let (x, y) = read_pair(images, labels, limit)?;
    let test = test
        .map(|(test_images, test_labels)| -> Result<_, ModelError> {
            let (tx, ty) = read_pair(test_images, test_labels, 0)?;
            if tx.dims[1..] != x.dims[1..] {
                return Err(ModelError::malformed(
                    test_images,
                    None,
                    None,
                    format!(
                        "examples of {}, but the training images ({}) have {}",
                        dims_text(&tx.dims[1..]),
                        images.display(),
                        dims_text(&x.dims[1..]),
                    ),
                ));
            }
            Ok((test_images, tx, ty))
        })
        .transpose()?;
    let max_label = |y: &[f32]| y.iter().fold(0.0f32, |m, &t| m.max(t));
    let top = test
        .as_ref()
        .map_or(max_label(&y), |(_, _, ty)| max_label(ty).max(max_label(&y)));
    let k = (top as usize + 1).max(2);
    let shape = (x.dims.len() == 3).then(|| ImageShape {
        channels: 1,
        height: x.dims[1],
        width: x.dims[2],
    });
    let build = |path: &Path, idx: Idx, y: Vec<f32>| -> Result<Dataset, ModelError> {
        let d = idx.dims[1..].iter().product::<usize>().max(1);
        let data = Dataset::new(path.display().to_string(), idx.values, d, y, Some(k))
            .ok_or_else(|| ModelError::malformed(path, None, None, "inconsistent IDX data"))?;
        match shape {
            Some(s) => data
                .with_image_shape(s)
                .ok_or_else(|| ModelError::malformed(path, None, None, "inconsistent IDX shape")),
            None => Ok(data),
        }
    };
    let train = build(images, x, y)?;
    match test {
        None => Ok(train),
        Some((path, tx, ty)) => {
            let test = build(path, tx, ty)?;
            train.with_official_test(test).ok_or_else(|| {
                ModelError::malformed(path, None, None, "does not fit the training files")
            })
        }
    }
}

fn dims_text(dims: &[usize]) -> String {
    dims.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("×")
}

/// Reads an images file and its labels file: the images and the labels (integers ≥ 0).
fn read_pair(images: &Path, labels: &Path, limit: usize) -> Result<(Idx, Vec<f32>), ModelError> {
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
    Ok((x, y.values))
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
            let d = load(&x, &y, None, 0).unwrap();
            assert_eq!((d.len(), d.n_features(), d.n_classes()), (3, 4, Some(5)));
            assert_eq!(d.row(2), &[8.0, 9.0, 10.0, 11.0]);
            assert_eq!(d.targets(), &[1.0, 0.0, 4.0]);
            assert_eq!(load(&x, &y, None, 2).unwrap().len(), 2);
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
        let e = load(&x, &y, None, 0).unwrap_err();
        assert!(
            matches!(e, ModelError::Malformed { row: Some(3), .. }),
            "{e}"
        );
        assert!(e.to_string().contains("truncated"), "{e}");
        // Bad magic.
        let x = write(dir.path(), "bad", b"hello world", false);
        let e = load(&x, &y, None, 0).unwrap_err();
        assert!(
            e.to_string().contains("bad") && e.to_string().contains("magic"),
            "{e}"
        );
        // Missing file.
        let e = load(&dir.path().join("nope"), &y, None, 0).unwrap_err();
        assert!(matches!(e, ModelError::Io { .. }), "{e}");
        // Label count mismatch.
        let x = write(dir.path(), "x2", &encode_u8(&[2, 1], &[0, 1]), false);
        assert!(load(&x, &y, None, 0).is_err());
        // Corrupt gzip.
        let x = write(dir.path(), "x3", &[0x1f, 0x8b, 0, 1, 2], false);
        assert!(
            load(&x, &y, None, 0)
                .unwrap_err()
                .to_string()
                .contains("gzip")
        );
    }
}
