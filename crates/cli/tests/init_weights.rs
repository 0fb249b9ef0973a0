//! `optbench init`: each cell's initial weights per seed as safetensors, named and shaped as the
//! PyTorch module of docs/networks.md, and `init: {file: ...}` from such a file reproduces the
//! run it came from.

use std::path::Path;
use std::process::Command;

use optbench_results as results;
use polars::prelude::*;
use safetensors::{Dtype, SafeTensors};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_optbench"))
}

/// A small CNN with batch norm and dropout on the built-in digits (1×8×8, 10 classes).
const NET: &str = "
  - name: cnn
    dataset: digits
    conv: [{channels: 4, kernel: 3, padding: same, norm: batch, pool: max}]
    hidden: [16]
    dropout: 0.25
";

/// The module of docs/networks.md for `NET`, written out by hand:
/// conv1 = Conv2d(1, 4, 3, padding=1); bn1 = BatchNorm2d(4); pool 2×2 → 4×4×4 = 64 features;
/// dense1 = Linear(64, 16); dense2 = Linear(16, 10). Its `state_dict()`: names, shapes, dtypes.
fn torch_state_dict() -> Vec<(&'static str, Vec<usize>, Dtype)> {
    vec![
        ("conv1.weight", vec![4, 1, 3, 3], Dtype::F32),
        ("conv1.bias", vec![4], Dtype::F32),
        ("bn1.weight", vec![4], Dtype::F32),
        ("bn1.bias", vec![4], Dtype::F32),
        ("bn1.running_mean", vec![4], Dtype::F32),
        ("bn1.running_var", vec![4], Dtype::F32),
        ("bn1.num_batches_tracked", vec![], Dtype::I64),
        ("dense1.weight", vec![16, 64], Dtype::F32),
        ("dense1.bias", vec![16], Dtype::F32),
        ("dense2.weight", vec![10, 16], Dtype::F32),
        ("dense2.bias", vec![10], Dtype::F32),
    ]
}

fn experiment(init: &str) -> String {
    format!(
        "name: init-test\nseeds: 1\nproblems:{NET}{init}\ntrain: {{steps: 6, batch_size: 32, \
         eval_every: 2}}\noptimizers:\n  - {{name: adam, lr: 0.01}}\n"
    )
}

fn ok(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{cmd:?}: {err}");
    err
}

/// The losses and accuracies of every recorded row, as bits, in step order.
fn trajectory(dir: &Path) -> Vec<(u64, Vec<Option<u64>>)> {
    let df = results::read_parquet(&dir.join("metrics.parquet")).unwrap();
    let df = df.sort([results::STEP], Default::default()).unwrap();
    let steps: Vec<u64> = df
        .column(results::STEP)
        .unwrap()
        .cast(&DataType::UInt64)
        .unwrap()
        .u64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let cols = ["train_loss", "batch_loss", "test_loss", "test_accuracy"];
    (0..df.height())
        .map(|i| {
            let values = cols
                .iter()
                .map(|c| {
                    df.column(c)
                        .unwrap()
                        .f64()
                        .unwrap()
                        .get(i)
                        .map(f64::to_bits)
                })
                .collect();
            (steps[i], values)
        })
        .collect()
}

/// (cell_id, seed, file) of each line of index.tsv.
fn index(dir: &Path) -> Vec<(String, u64, String)> {
    let text = std::fs::read_to_string(dir.join("index.tsv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("cell_id\tseed\tdata_seed\tfile\tproblem\tlabel")
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 6, "{l}");
            (f[0].to_string(), f[1].parse().unwrap(), f[3].to_string())
        })
        .collect()
}

#[test]
fn init_writes_torch_named_weights_that_reproduce_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = tmp.path().join("exp.yaml");
    std::fs::write(&exp, experiment("")).unwrap();
    let weights = tmp.path().join("w");
    ok(bin().arg("init").arg(&exp).arg("--out").arg(&weights));
    let files = index(&weights);
    assert_eq!(files.len(), 1);
    let (cell, seed, file) = &files[0];
    assert_eq!(
        (*seed, file.as_str()),
        (0, format!("{cell}/seed0.safetensors").as_str())
    );

    // The file is the module's state_dict: every tensor, named and shaped as in PyTorch.
    let bytes = std::fs::read(weights.join(file)).unwrap();
    let st = SafeTensors::deserialize(&bytes).unwrap();
    let mut names = st.names();
    names.sort_unstable();
    let mut want = torch_state_dict();
    want.sort_by_key(|t| t.0);
    assert_eq!(names, want.iter().map(|t| t.0).collect::<Vec<_>>());
    for (name, shape, dtype) in &want {
        let t = st.tensor(name).unwrap();
        assert_eq!((t.shape(), t.dtype()), (shape.as_slice(), *dtype), "{name}");
    }
    // PyTorch's initial buffers: running mean 0, running variance 1, no batches tracked.
    let f32s = |name: &str| -> Vec<f32> {
        st.tensor(name)
            .unwrap()
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect()
    };
    assert_eq!(f32s("bn1.running_mean"), [0.0; 4]);
    assert_eq!(f32s("bn1.running_var"), [1.0; 4]);
    assert_eq!(st.tensor("bn1.num_batches_tracked").unwrap().data(), [0; 8]);
    // PyTorch's default init: BatchNorm weight 1, bias 0; Conv2d weights within ±1/√fan_in.
    assert_eq!(f32s("bn1.weight"), [1.0; 4]);
    assert_eq!(f32s("bn1.bias"), [0.0; 4]);
    assert!(f32s("conv1.weight").iter().all(|w| w.abs() <= 1.0 / 3.0));
    assert!(f32s("conv1.weight").iter().any(|w| *w != 0.0));

    // A run from the file follows the original run exactly: the same first loss and every
    // recorded loss after it (same split, batches and dropout masks).
    let original = tmp.path().join("original");
    ok(bin()
        .arg("run")
        .arg(&exp)
        .args(["--no-plots", "--jobs", "1", "--out"])
        .arg(&original));
    let exp_file = tmp.path().join("from_file.yaml");
    let init = format!("    init: {{file: w/{file}}}\n");
    std::fs::write(&exp_file, experiment(&init)).unwrap();
    let from_file = tmp.path().join("from_file");
    ok(bin()
        .arg("run")
        .arg(&exp_file)
        .args(["--no-plots", "--jobs", "1", "--out"])
        .arg(&from_file));
    let (a, b) = (trajectory(&original), trajectory(&from_file));
    assert_eq!(a.len(), 4, "steps 0, 2, 4, 6: {a:?}");
    assert_eq!(a[0].0, 0);
    assert!(a[0].1[0].is_some(), "the first train loss is recorded");
    assert_eq!(a[0], b[0], "first loss");
    assert_eq!(a, b, "every recorded loss");

    // Per seed: seed 1 starts elsewhere; seed 0's weights do not depend on the number of seeds.
    let two = tmp.path().join("two");
    ok(bin()
        .arg("init")
        .arg(&exp)
        .args(["--set", "seeds=2", "--out"])
        .arg(&two));
    let files2 = index(&two);
    assert_eq!(files2.len(), 2);
    let read = |dir: &Path, f: &str| std::fs::read(dir.join(f)).unwrap();
    assert!(read(&two, &files2[0].2) == bytes, "seed 0 differs");
    assert!(read(&two, &files2[1].2) != bytes, "seed 1 is seed 0");
}

#[test]
fn init_of_an_analytic_experiment_is_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = tmp.path().join("a.yaml");
    std::fs::write(
        &exp,
        "name: a\nproblems: [rosenbrock]\ntrain: {steps: 1}\noptimizers: [sgd]\n",
    )
    .unwrap();
    let o = bin()
        .arg("init")
        .arg(&exp)
        .arg("--out")
        .arg(tmp.path().join("w"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no problem of this experiment has weights"),
        "{err}"
    );
}
