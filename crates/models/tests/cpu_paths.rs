//! Whole networks give the same bits on every instruction-set path the CPU has (AVX-512,
//! AVX2+FMA, baseline x86-64): losses, gradients and evaluation metrics over a few training
//! steps, each path forced with `optbench_models::cpu::run_on`. The kernels' own tests compare
//! single products; this one covers every layer between them.

use std::path::Path;

use optbench_models::cpu::{CpuPath, run_on};
use optbench_models::{BatchSize, Batcher, ProblemConfig, build_problem_in, load_dataset};

/// The bits of three SGD steps' losses and gradients, then the train loss and test metrics,
/// of problem `name` with `keys` on synthetic `c × hw × hw` images.
fn trajectory_bits(name: &str, keys: serde_json::Value, c: usize, hw: usize) -> Vec<u64> {
    let mut keys = keys.as_object().expect("an object").clone();
    keys.insert(
        "dataset".into(),
        serde_json::json!({"name": "synthetic_images", "samples": 40, "channels": c,
                           "height": hw, "width": hw, "classes": 10, "test_fraction": 0.25}),
    );
    let cfg = ProblemConfig::from_json(name, &keys).expect("a valid problem");
    problem_bits(&cfg, Path::new("."))
}

/// As [`trajectory_bits`], for a problem whose files are under `dir`.
fn problem_bits(cfg: &ProblemConfig, dir: &Path) -> Vec<u64> {
    let data = load_dataset(cfg.dataset().expect("a dataset"), 0, dir).expect("data");
    let mut problem = build_problem_in(cfg, Some(data), 0, dir).expect("a problem");
    let mut params = problem.initial_params();
    let mut grad = vec![0.0; problem.dim()];
    let mut batches = Batcher::new(problem.train_len(), BatchSize::Examples(7), 0);
    let mut bits = Vec::new();
    for _ in 0..3 {
        let loss = problem.loss_grad(&params, batches.next_batch(), &mut grad);
        bits.push(loss.to_bits());
        bits.extend(grad.iter().map(|g| u64::from(g.to_bits())));
        for (x, g) in params.iter_mut().zip(&grad) {
            *x -= 0.05 * g;
        }
    }
    bits.push(problem.train_loss(&params).to_bits());
    let metrics = problem.test_metrics(&params);
    bits.push(metrics.loss.unwrap_or(f64::NAN).to_bits());
    bits
}

fn assert_same_bits_on_every_path(name: &str, keys: serde_json::Value, c: usize, hw: usize) {
    let want = run_on(CpuPath::Baseline, || {
        trajectory_bits(name, keys.clone(), c, hw)
    });
    for path in CpuPath::supported() {
        let got = run_on(path, || trajectory_bits(name, keys.clone(), c, hw));
        assert!(
            got == want,
            "{name} on {path}: bits differ from the baseline"
        );
    }
    // The detected path, as production runs it.
    assert!(
        trajectory_bits(name, keys, c, hw) == want,
        "{name}: detected path"
    );
}

#[test]
fn cnn_with_every_layer_kind_is_bit_identical_across_paths() {
    // Strides, paddings, both pools, batch norm, no bias, 5 to 33 channels (narrow and wide
    // products), then dense layers.
    let keys = serde_json::json!({"conv": [
        {"channels": 5, "kernel": 3, "stride": 2, "padding": 1, "pool": "avg"},
        {"channels": 7, "kernel": 1, "stride": 1, "padding": "valid", "norm": "batch"},
        {"channels": 17, "kernel": 2, "stride": 1, "padding": "same", "bias": false,
         "pool": {"type": "max", "kernel": 3, "stride": 2, "padding": "same"}},
        {"channels": 33, "kernel": 3, "stride": 1, "padding": 1}],
        "hidden": [11]});
    assert_same_bits_on_every_path("cnn", keys, 3, 15);
}

#[test]
fn resnet_is_bit_identical_across_paths() {
    for shortcut in ["A", "B"] {
        let keys = serde_json::json!({"depth": 8, "shortcut": shortcut});
        assert_same_bits_on_every_path("resnet", keys, 3, 8);
    }
}

#[test]
fn transformer_is_bit_identical_across_paths() {
    // Attention rows of 1 to 21 positions (softmax chunks and partial chunks), GELU (erf and
    // exp 16 lanes at a time) and its tanh form, layer norms, the softmax loss.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let text: String = (0..4000u32)
        .map(|i| char::from(b'a' + ((i * 7 + i / 13) % 26) as u8))
        .collect();
    std::fs::write(dir.path().join("text.txt"), text).expect("written");
    for act in ["gelu", "gelu_tanh"] {
        let keys = serde_json::json!({
            "dataset": {"name": "text", "path": "text.txt", "tokens": "char"},
            "layers": 2, "d_model": 16, "heads": 2, "context": 21, "mlp_activation": act,
            "init_std": 0.5,
        });
        let cfg = ProblemConfig::from_json("transformer", keys.as_object().expect("an object"))
            .expect("a valid problem");
        let want = run_on(CpuPath::Baseline, || problem_bits(&cfg, dir.path()));
        for path in CpuPath::supported() {
            let got = run_on(path, || problem_bits(&cfg, dir.path()));
            assert!(got == want, "transformer ({act}) on {path}: bits differ");
        }
    }
}
