//! CIFAR-10, binary version (Krizhevsky 2009, "Learning Multiple Layers of Features from Tiny
//! Images"; `cifar-10-binary.tar.gz` from https://www.cs.toronto.edu/~kriz/cifar.html, unpacked
//! to `cifar-10-batches-bin/`).
//!
//! Format: `data_batch_1.bin` … `data_batch_5.bin` (the 50,000 training images) and
//! `test_batch.bin` (the official 10,000 test images) are sequences of 3,073-byte records: the
//! label (0–9), then the 1,024 red, 1,024 green and 1,024 blue values of a 32×32 image, each
//! channel row by row. That is C×H×W order, so a record's bytes are the example's features as
//! they are (values 0–255).

use std::path::Path;

use super::{Dataset, ImageShape};
use crate::error::ModelError;

/// The training files, in the order their examples are numbered.
pub(crate) const TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];

/// The official test split's file.
pub(crate) const TEST_FILE: &str = "test_batch.bin";

/// A CIFAR-10 image: 3 channels (RGB) of 32×32.
pub(crate) const SHAPE: ImageShape = ImageShape {
    channels: 3,
    height: 32,
    width: 32,
};

const CLASSES: usize = 10;
const RECORD: usize = 1 + 3 * 32 * 32;

/// Loads the training files of `dir` (the first `limit` examples when `limit > 0`) with
/// `test_batch.bin` as the official test split. A missing file is a [`ModelError::Io`] naming
/// it; a file whose length is not a whole number of records, or a label above 9, is a
/// [`ModelError::Malformed`] naming the file and the record (1-based, as `row`).
pub(super) fn load(dir: &Path, limit: usize) -> Result<Dataset, ModelError> {
    if !dir.is_dir() {
        return Err(missing(
            dir,
            "no such folder: `path` names the folder of CIFAR-10's binary version (cifar-10-batches-bin)",
        ));
    }
    let mut x = Vec::new();
    let mut y = Vec::new();
    for file in TRAIN_FILES {
        if limit > 0 && y.len() >= limit {
            break;
        }
        let want = if limit > 0 {
            limit - y.len()
        } else {
            usize::MAX
        };
        read_batch(&dir.join(file), want, &mut x, &mut y)?;
    }
    let (mut tx, mut ty) = (Vec::new(), Vec::new());
    let test_path = dir.join(TEST_FILE);
    read_batch(&test_path, usize::MAX, &mut tx, &mut ty)?;
    let name = dir.display().to_string();
    let d = SHAPE.n_values();
    let inconsistent =
        |p: &Path| ModelError::malformed(p, None, None, "inconsistent CIFAR-10 data");
    let train = Dataset::new(name.clone(), x, d, y, Some(CLASSES))
        .and_then(|t| t.with_image_shape(SHAPE))
        .ok_or_else(|| inconsistent(dir))?;
    let test = Dataset::new(format!("{name} (test)"), tx, d, ty, Some(CLASSES))
        .and_then(|t| t.with_image_shape(SHAPE))
        .ok_or_else(|| inconsistent(&test_path))?;
    train
        .with_official_test(test)
        .ok_or_else(|| inconsistent(&test_path))
}

/// A missing file or folder, with a message saying what was expected.
fn missing(path: &Path, message: &str) -> ModelError {
    ModelError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, message.to_string()),
    }
}

/// Appends at most `want` records of `path` to `x` (values) and `y` (labels).
fn read_batch(
    path: &Path,
    want: usize,
    x: &mut Vec<f32>,
    y: &mut Vec<f32>,
) -> Result<(), ModelError> {
    let bytes = std::fs::read(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => missing(
            path,
            "missing CIFAR-10 batch file (the binary version has data_batch_1.bin … \
             data_batch_5.bin and test_batch.bin)",
        ),
        _ => ModelError::Io {
            path: path.to_path_buf(),
            source,
        },
    })?;
    if bytes.is_empty() || bytes.len() % RECORD != 0 {
        let whole = bytes.len() / RECORD;
        return Err(ModelError::malformed(
            path,
            Some(whole as u64 + 1),
            None,
            format!(
                "truncated: {} bytes is not a whole number of {RECORD}-byte records (label + \
                 3×32×32 values); record {} has {} bytes",
                bytes.len(),
                whole + 1,
                bytes.len() % RECORD
            ),
        ));
    }
    for (i, record) in bytes.chunks_exact(RECORD).take(want).enumerate() {
        let label = record[0];
        if usize::from(label) >= CLASSES {
            return Err(ModelError::malformed(
                path,
                Some(i as u64 + 1),
                Some("label".into()),
                format!("label {label} is not a CIFAR-10 class (0–9)"),
            ));
        }
        y.push(f32::from(label));
        x.extend(record[1..].iter().map(|&v| f32::from(v)));
    }
    Ok(())
}

/// Encodes records (label, 3072 values) as a CIFAR-10 binary batch file (for tests and tools).
#[cfg(test)]
pub(crate) fn encode(records: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(records.len() * RECORD);
    for (label, values) in records {
        assert_eq!(values.len(), RECORD - 1);
        out.push(*label);
        out.extend_from_slice(values);
    }
    out
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: the file's bytes
mod tests {
    use super::*;

    /// Image `k` of a test folder: value (k + c·7 + y + x) mod 256 at channel c, row y, column x,
    /// so that every position tells which byte it came from.
    fn image(k: usize) -> Vec<u8> {
        (0..3)
            .flat_map(|c| {
                (0..32).flat_map(move |y| (0..32).map(move |x| (k + c * 7 + y + x) % 256))
            })
            .map(|v| v as u8)
            .collect()
    }

    /// Writes a folder with `per_file` records in each training file (images 0, 1, ... in file
    /// order, label = image number mod 10) and 3 test records (images 100, 101, 102).
    fn folder(per_file: usize) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let mut k = 0;
        for file in TRAIN_FILES {
            let records: Vec<_> = (0..per_file)
                .map(|_| {
                    k += 1;
                    (((k - 1) % 10) as u8, image(k - 1))
                })
                .collect();
            std::fs::write(dir.path().join(file), encode(&records)).unwrap();
        }
        let test: Vec<_> = (100..103).map(|k| ((k % 10) as u8, image(k))).collect();
        std::fs::write(dir.path().join(TEST_FILE), encode(&test)).unwrap();
        dir
    }

    #[test]
    fn reads_the_binary_version_with_its_test_split() {
        let dir = folder(2);
        let d = load(dir.path(), 0).unwrap();
        assert_eq!(
            (d.len(), d.n_features(), d.n_classes()),
            (10, 3072, Some(10))
        );
        assert_eq!(d.image_shape(), Some(SHAPE));
        // Example 7 is the second record of data_batch_4.bin: channel 1 (green), row 2,
        // column 3 holds (7 + 7 + 2 + 3) = 19, at feature (1·32 + 2)·32 + 3.
        assert_eq!(d.row(7)[(32 + 2) * 32 + 3], 19.0);
        assert_eq!(d.targets()[7], 7.0);
        let t = d.official_test().unwrap();
        assert_eq!(
            (t.len(), t.image_shape(), t.targets()),
            (3, Some(SHAPE), &[0.0, 1.0, 2.0][..])
        );
        assert_eq!(t.row(0)[0], 100.0);
        // `samples` keeps the first training examples, across files; the test split stays whole.
        let d = load(dir.path(), 3).unwrap();
        assert_eq!((d.len(), d.targets()), (3, &[0.0, 1.0, 2.0][..]));
        assert_eq!(d.official_test().unwrap().len(), 3);
    }

    #[test]
    fn missing_and_malformed_files_are_named() {
        let dir = folder(1);
        std::fs::remove_file(dir.path().join("data_batch_3.bin")).unwrap();
        let e = load(dir.path(), 0).unwrap_err();
        assert!(
            matches!(&e, ModelError::Io { path, .. } if path.ends_with("data_batch_3.bin")),
            "{e}"
        );
        assert!(e.to_string().contains("missing CIFAR-10 batch file"), "{e}");

        let dir = folder(1);
        std::fs::remove_file(dir.path().join(TEST_FILE)).unwrap();
        let e = load(dir.path(), 0).unwrap_err();
        assert!(e.to_string().contains("test_batch.bin"), "{e}");

        let dir = folder(2);
        let p = dir.path().join("data_batch_2.bin");
        let mut bytes = std::fs::read(&p).unwrap();
        bytes.truncate(RECORD + 100);
        std::fs::write(&p, bytes).unwrap();
        let e = load(dir.path(), 0).unwrap_err();
        assert!(
            matches!(&e, ModelError::Malformed { path, row: Some(2), .. } if path.ends_with("data_batch_2.bin")),
            "{e}"
        );

        let dir = folder(2);
        let p = dir.path().join("data_batch_5.bin");
        let mut bytes = std::fs::read(&p).unwrap();
        bytes[RECORD] = 10;
        std::fs::write(&p, bytes).unwrap();
        let e = load(dir.path(), 0).unwrap_err();
        assert!(
            matches!(&e, ModelError::Malformed { row: Some(2), column: Some(c), .. } if c == "label"),
            "{e}"
        );

        let e = load(&dir.path().join("nope"), 0).unwrap_err();
        assert!(e.to_string().contains("no such folder"), "{e}");
    }
}
