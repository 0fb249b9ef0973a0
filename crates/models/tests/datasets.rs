//! Datasets through the public API, as the runner uses them: configuration (keys, errors),
//! loading tiny files written here in each reader's format, and the split that a problem sees.
#![allow(clippy::float_cmp)] // exact equality is the point: values copied from files

use std::io::Write;
use std::path::{Path, PathBuf};

use optbench_models::{
    Augmentation, DatasetConfig, ImageShape, ModelError, ProblemConfig, build_problem, load_dataset,
};
use serde_json::{Value, json};

fn config(v: Value) -> Result<DatasetConfig, ModelError> {
    DatasetConfig::from_json(&v)
}

/// IDX bytes of u8 values (magic 0x0803 for rank 3, …).
fn idx_u8(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8], gz: bool) -> PathBuf {
    let p = dir.join(name);
    let mut f = std::fs::File::create(&p).unwrap();
    if gz {
        let mut e = flate2::write::GzEncoder::new(f, flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap();
    } else {
        f.write_all(bytes).unwrap();
    }
    p
}

/// An MNIST-like folder: 6 training images of 2×3 (value 10·k + pixel), labels k mod 3, and 2
/// test images (values 200 + pixel) with labels 3 and 0, so the test split has a class the
/// training split lacks.
fn mnist_like(dir: &Path, gz: bool) {
    let ext = if gz { ".gz" } else { "" };
    let train: Vec<u8> = (0..6u8)
        .flat_map(|k| (0..6u8).map(move |p| 10 * k + p))
        .collect();
    write(
        dir,
        &format!("train-images{ext}"),
        &idx_u8(&[6, 2, 3], &train),
        gz,
    );
    write(
        dir,
        &format!("train-labels{ext}"),
        &idx_u8(&[6], &[0, 1, 2, 0, 1, 2]),
        gz,
    );
    let test: Vec<u8> = (0..2u8)
        .flat_map(|k| (0..6u8).map(move |p| 200 + 10 * k + p))
        .collect();
    write(
        dir,
        &format!("t10k-images{ext}"),
        &idx_u8(&[2, 2, 3], &test),
        gz,
    );
    write(
        dir,
        &format!("t10k-labels{ext}"),
        &idx_u8(&[2], &[3, 0]),
        gz,
    );
}

fn idx_keys(gz: bool) -> Value {
    let ext = if gz { ".gz" } else { "" };
    json!({
        "name": "idx",
        "path": format!("train-images{ext}"),
        "labels": format!("train-labels{ext}"),
        "test_path": format!("t10k-images{ext}"),
        "test_labels": format!("t10k-labels{ext}"),
    })
}

#[test]
fn idx_with_official_test_split_raw_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    for gz in [false, true] {
        mnist_like(dir.path(), gz);
        let cfg = config(idx_keys(gz)).unwrap();
        assert!(cfg.has_official_test());
        assert_eq!(cfg.test_fraction(), 0.0);
        let d = load_dataset(&cfg, 0, dir.path()).unwrap();
        let shape = ImageShape {
            channels: 1,
            height: 2,
            width: 3,
        };
        assert_eq!(
            (d.len(), d.n_features(), d.image_shape()),
            (6, 6, Some(shape))
        );
        // Classes counted over both splits: the test split's label 3 makes 4.
        assert_eq!(d.n_classes(), Some(4));
        let t = d.official_test().unwrap();
        assert_eq!(
            (t.len(), t.image_shape(), t.targets()),
            (2, Some(shape), &[3.0, 0.0][..])
        );
        assert_eq!(t.row(1), &[210.0, 211.0, 212.0, 213.0, 214.0, 215.0]);
        // A problem on it trains on all 6 and tests on the 2.
        let keys = json!({"dataset": idx_keys(gz), "hidden": [4]});
        let p = ProblemConfig::from_json("mlp", keys.as_object().unwrap()).unwrap();
        let problem = build_problem(&p, Some(d), 0).unwrap();
        assert_eq!((problem.train_len(), problem.test_len()), (6, 2));
    }
    // Without test files: the seeded fraction, as before.
    let mut keys = idx_keys(false);
    keys.as_object_mut().unwrap().remove("test_path");
    keys.as_object_mut().unwrap().remove("test_labels");
    let cfg = config(keys).unwrap();
    assert!(!cfg.has_official_test());
    assert_eq!(cfg.test_fraction(), 0.2);
    assert!(
        load_dataset(&cfg, 0, dir.path())
            .unwrap()
            .official_test()
            .is_none()
    );
}

#[test]
fn idx_errors_name_the_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    mnist_like(dir.path(), false);
    // Test images of another size than the training images.
    write(
        dir.path(),
        "t10k-images",
        &idx_u8(&[2, 3, 2], &[0; 12]),
        false,
    );
    let e = load_dataset(&config(idx_keys(false)).unwrap(), 0, dir.path()).unwrap_err();
    assert!(
        matches!(&e, ModelError::Malformed { path, .. } if path.ends_with("t10k-images")),
        "{e}"
    );
    assert!(
        e.to_string().contains("3×2") && e.to_string().contains("2×3"),
        "{e}"
    );
    // Truncated test labels: the labels file, and where it ends.
    mnist_like(dir.path(), false);
    write(dir.path(), "t10k-labels", &idx_u8(&[2], &[3]), false);
    let e = load_dataset(&config(idx_keys(false)).unwrap(), 0, dir.path()).unwrap_err();
    assert!(
        matches!(&e, ModelError::Malformed { path, row: Some(2), .. } if path.ends_with("t10k-labels")),
        "{e}"
    );
    // One of the pair alone.
    let mut keys = idx_keys(false);
    keys.as_object_mut().unwrap().remove("test_labels");
    let e = config(keys).unwrap_err();
    assert!(
        matches!(&e, ModelError::MissingKey { key, .. } if key == "test_labels"),
        "{e}"
    );
    // test_fraction with an official test split.
    let mut keys = idx_keys(false);
    keys["test_fraction"] = json!(0.1);
    let e = config(keys).unwrap_err();
    assert_eq!(e.key(), Some("test_fraction"), "{e}");
    assert!(e.to_string().contains("official test split"), "{e}");
    // Augmentation of an IDX file that holds no images (rank 2: examples × features).
    write(dir.path(), "tab", &idx_u8(&[6, 4], &[0; 24]), false);
    let cfg = config(
        json!({"name": "idx", "path": "tab", "labels": "train-labels",
                            "augment": ["hflip"]}),
    )
    .unwrap();
    let e = load_dataset(&cfg, 0, dir.path()).unwrap_err();
    assert_eq!(e.key(), Some("augment"), "{e}");
}

/// A CIFAR-10 binary folder with `per_file` records per training file and 2 test records.
fn cifar_like(dir: &Path, per_file: usize) {
    let record = |label: u8, fill: u8| {
        let mut r = vec![label];
        r.extend((0..3072).map(|i| fill.wrapping_add((i / 1024) as u8)));
        r
    };
    for b in 1..=5 {
        let bytes: Vec<u8> = (0..per_file)
            .flat_map(|i| record(((b + i) % 10) as u8, (10 * b + i) as u8))
            .collect();
        std::fs::write(dir.join(format!("data_batch_{b}.bin")), bytes).unwrap();
    }
    let test: Vec<u8> = [record(9, 100), record(0, 101)].concat();
    std::fs::write(dir.join("test_batch.bin"), test).unwrap();
}

#[test]
fn cifar10_from_a_folder_with_its_test_split() {
    let dir = tempfile::tempdir().unwrap();
    cifar_like(dir.path(), 2);
    let cfg = config(json!({"name": "cifar10", "path": dir.path().to_str().unwrap()})).unwrap();
    assert!(cfg.has_official_test());
    let d = load_dataset(&cfg, 0, Path::new(".")).unwrap();
    let rgb = ImageShape {
        channels: 3,
        height: 32,
        width: 32,
    };
    assert_eq!(
        (d.len(), d.image_shape(), d.n_classes()),
        (10, Some(rgb), Some(10))
    );
    // Example 3 is data_batch_2.bin's second record: fill 21, green plane +1, label 3.
    assert_eq!(
        (d.row(3)[0], d.row(3)[1024], d.targets()[3]),
        (21.0, 22.0, 3.0)
    );
    assert_eq!(d.official_test().unwrap().targets(), &[9.0, 0.0]);
    // test_fraction does not apply; the message says why.
    let e = config(json!({"name": "cifar10", "path": "x", "test_fraction": 0.1})).unwrap_err();
    assert_eq!(e.key(), Some("test_fraction"));
    assert!(e.to_string().contains("test_batch.bin"), "{e}");
    // A missing batch file is named.
    std::fs::remove_file(dir.path().join("data_batch_4.bin")).unwrap();
    let e = load_dataset(&cfg, 0, Path::new(".")).unwrap_err();
    assert!(e.to_string().contains("data_batch_4.bin"), "{e}");
}

#[test]
fn image_keys_on_tabular_data_are_errors_naming_the_key() {
    let e = config(json!({"name": "iris", "augment": ["hflip"]})).unwrap_err();
    assert!(
        matches!(&e, ModelError::OutOfRange { key, .. } if key == "augment"),
        "{e}"
    );
    assert!(e.to_string().contains("tabular"), "{e}");
    let e = config(json!({"name": "digits", "augment": ["hflp"]})).unwrap_err();
    assert!(e.to_string().contains("no augmentation `hflp`"), "{e}");
    let e = config(json!({"name": "synthetic_images", "channels": 0})).unwrap_err();
    assert_eq!(e.key(), Some("channels"));
    let e = config(
        json!({"name": "synthetic_images", "samples": 100_000_000, "height": 100,
                         "width": 100}),
    )
    .unwrap_err();
    assert_eq!(e.key(), Some("samples"));
    // The dense problems do not augment: say so rather than ignore the key.
    let keys = json!({"dataset": {"name": "digits", "augment": [{"random_crop": 2}]}});
    let p = ProblemConfig::from_json("mlp", keys.as_object().unwrap()).unwrap();
    let d = load_dataset(p.dataset().unwrap(), 0, Path::new(".")).unwrap();
    let e = build_problem(&p, Some(d), 0).err().unwrap();
    assert_eq!(e.key(), Some("augment"), "{e}");
}

#[test]
fn image_datasets_configure_and_round_trip() {
    let cfg = config(json!({"name": "digits", "augment": [{"random_crop": 2}, "hflip"]})).unwrap();
    assert_eq!(
        cfg.augment(),
        [
            Augmentation::RandomCrop { padding: 2 },
            Augmentation::HorizontalFlip
        ]
    );
    let j = cfg.to_json();
    assert_eq!(j["augment"], json!([{"random_crop": 2}, "hflip"]));
    assert_eq!(config(Value::Object(j)).unwrap(), cfg);
    // Augmentation does not change the loaded data.
    assert_eq!(
        cfg.load_key(0),
        config(json!("digits")).unwrap().load_key(0)
    );

    let keys = json!({"name": "synthetic_images", "samples": 30, "channels": 3, "height": 4,
                      "width": 5, "classes": 3});
    let cfg = config(keys).unwrap();
    assert!(cfg.depends_on_seed());
    assert_eq!(config(Value::Object(cfg.to_json())).unwrap(), cfg);
    let d = load_dataset(&cfg, 1, Path::new(".")).unwrap();
    let shape = ImageShape {
        channels: 3,
        height: 4,
        width: 5,
    };
    assert_eq!(
        (d.len(), d.image_shape(), d.n_classes()),
        (30, Some(shape), Some(3))
    );
}

/// Keys added for images stay out of the canonical JSON of configurations that do not set them,
/// so the run ids of existing experiments (hashed from it) do not change.
#[test]
fn canonical_json_of_existing_configurations_is_unchanged() {
    let cfg = config(json!({"name": "idx", "path": "a", "labels": "b"})).unwrap();
    let json = cfg.to_json();
    let mut keys: Vec<&str> = json.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "labels",
            "name",
            "path",
            "samples",
            "standardize",
            "test_fraction"
        ]
    );
    let iris = Value::Object(config(json!("iris")).unwrap().to_json());
    assert_eq!(
        iris,
        json!({"name": "iris", "test_fraction": 0.2, "standardize": true})
    );
}

#[test]
fn digits_split_like_any_dataset() {
    let keys = json!({"dataset": "digits", "hidden": [8]});
    let p = ProblemConfig::from_json("mlp", keys.as_object().unwrap()).unwrap();
    let d = load_dataset(p.dataset().unwrap(), 0, Path::new(".")).unwrap();
    let problem = build_problem(&p, Some(d), 0).unwrap();
    // round(1797 · 0.2) = 359 test examples.
    assert_eq!((problem.train_len(), problem.test_len()), (1438, 359));
    assert!(problem.is_classifier());
}
