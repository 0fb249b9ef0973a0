//! Bad input to the deep-learning workloads, through the binary: `validate` and `run` exit with
//! 2 and one line naming the file, the entry and the key at fault, and nothing runs (no results
//! folder is created).

use std::path::Path;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_optbench"))
}

fn experiment(problem: &str) -> String {
    format!("name: bad\nproblems:\n{problem}train: {{steps: 2}}\noptimizers: [sgd]\n")
}

/// `validate` and `run` on `file`: exit 2, one line with every `want`, nothing written.
fn rejected(dir: &Path, file: &str, want: &[&str]) {
    let path = dir.join(file);
    for sub in ["validate", "run"] {
        let out = dir.join(format!("out-{file}-{sub}"));
        let mut cmd = bin();
        cmd.arg(sub).arg(&path);
        if sub == "run" {
            cmd.arg("--out").arg(&out);
        }
        let o = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{sub} {file}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{sub} {file}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        for w in std::iter::once(&file).chain(want) {
            assert!(err.contains(w), "{sub} {file}: `{w}` missing from: {err}");
        }
        assert!(!out.exists(), "{sub} {file}: wrote {}", out.display());
        assert!(o.stdout.is_empty(), "{sub} {file}: {:?}", o.stdout);
    }
}

#[test]
fn a_network_that_needs_images_on_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        experiment("  - name: cnn\n    dataset: iris\n    conv: [{channels: 4, kernel: 3}]\n");
    std::fs::write(dir.path().join("cnn_iris.yaml"), text).unwrap();
    // The position is the `dataset` line.
    rejected(
        dir.path(),
        "cnn_iris.yaml",
        &[
            ":4:5:",
            "problems[0] (cnn)",
            "`dataset`",
            "needs images",
            "iris",
        ],
    );
    let text =
        experiment("  - name: resnet\n    dataset: {name: wine_quality, task: classification}\n");
    std::fs::write(dir.path().join("resnet_wine.yaml"), text).unwrap();
    rejected(
        dir.path(),
        "resnet_wine.yaml",
        &["problems[0] (resnet)", "`dataset`", "no image shape"],
    );
}

#[test]
fn a_kernel_larger_than_its_input() {
    let dir = tempfile::tempdir().unwrap();
    // digits are 8×8; a valid 9×9 convolution does not fit. The position is the block's.
    let text = experiment(
        "  - name: cnn\n    dataset: digits\n    conv:\n      - {channels: 4, kernel: 3}\n      - {channels: 4, kernel: 9, padding: valid}\n",
    );
    std::fs::write(dir.path().join("kernel.yaml"), text).unwrap();
    rejected(
        dir.path(),
        "kernel.yaml",
        &[":7:9:", "problems[0] (cnn)", "conv[1]", "kernel 9×9", "8×8"],
    );
    // A pooling window larger than what is left of the image.
    let text = experiment(
        "  - name: cnn\n    dataset: digits\n    conv: [{channels: 4, kernel: 3, pool: {type: max, kernel: 9, stride: 1}}]\n",
    );
    std::fs::write(dir.path().join("pool.yaml"), text).unwrap();
    rejected(
        dir.path(),
        "pool.yaml",
        &["problems[0] (cnn)", "conv[0].pool"],
    );
}

#[test]
fn zero_channels() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        experiment("  - name: cnn\n    dataset: digits\n    conv: [{channels: 0, kernel: 3}]\n");
    std::fs::write(dir.path().join("zero.yaml"), text).unwrap();
    rejected(
        dir.path(),
        "zero.yaml",
        &["problems[0] (cnn)", "conv[0].channels", "found 0"],
    );
    let text =
        experiment("  - name: cnn\n    dataset: digits\n    conv: [{channels: 4, kernel: 0}]\n");
    std::fs::write(dir.path().join("kernel_zero.yaml"), text).unwrap();
    rejected(dir.path(), "kernel_zero.yaml", &["conv[0].kernel"]);
}

#[test]
fn a_weights_file_of_the_wrong_shape() {
    let dir = tempfile::tempdir().unwrap();
    // Weights of a 4-channel network, written by `optbench init`, into an 8-channel one.
    let net = |channels: usize, init: &str| {
        experiment(&format!(
            "  - name: cnn\n    dataset: digits\n    conv: [{{channels: {channels}, kernel: 3}}]\n{init}"
        ))
    };
    std::fs::write(dir.path().join("four.yaml"), net(4, "")).unwrap();
    let o = bin()
        .arg("init")
        .arg(dir.path().join("four.yaml"))
        .arg("--out")
        .arg(dir.path().join("w"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let index = std::fs::read_to_string(dir.path().join("w/index.tsv")).unwrap();
    let file = index.lines().nth(1).unwrap().split('\t').nth(3).unwrap();
    let init = format!("    init: {{file: w/{file}}}\n");
    std::fs::write(dir.path().join("eight.yaml"), net(8, &init)).unwrap();
    rejected(
        dir.path(),
        "eight.yaml",
        &[
            ":6:5:",
            "problems[0] (cnn)",
            "`init`",
            "`conv1.weight` has shape [4, 1, 3, 3], expected [8, 1, 3, 3]",
        ],
    );
    // A file that is not there.
    std::fs::write(
        dir.path().join("missing.yaml"),
        net(4, "    init: {file: nowhere.safetensors}\n"),
    )
    .unwrap();
    rejected(
        dir.path(),
        "missing.yaml",
        &["`init`", "nowhere.safetensors"],
    );
}

#[test]
fn a_cifar_folder_with_a_missing_batch_file() {
    let dir = tempfile::tempdir().unwrap();
    let cifar = dir.path().join("cifar-10-batches-bin");
    std::fs::create_dir(&cifar).unwrap();
    // Two records (label, 3×32×32 bytes) in batch 1; batch 2 is missing.
    let mut record = vec![3u8];
    record.extend(std::iter::repeat_n(7u8, 3 * 32 * 32));
    std::fs::write(cifar.join("data_batch_1.bin"), record.repeat(2)).unwrap();
    for f in [
        "data_batch_3.bin",
        "data_batch_4.bin",
        "data_batch_5.bin",
        "test_batch.bin",
    ] {
        std::fs::write(cifar.join(f), &record).unwrap();
    }
    let text = experiment(
        "  - name: resnet\n    dataset: {name: cifar10, path: cifar-10-batches-bin}\n    depth: 8\n",
    );
    std::fs::write(dir.path().join("cifar.yaml"), text).unwrap();
    rejected(
        dir.path(),
        "cifar.yaml",
        &[
            "problems[0] (resnet)",
            "dataset.path",
            "data_batch_2.bin",
            "missing",
        ],
    );
}
