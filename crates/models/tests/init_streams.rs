//! Regression pins of the initialisation streams: the first and last parameters every problem
//! starts from for given seeds, as f32 bits, together with a hash of the whole vector. Like
//! `random_streams.rs` (data, batch order, augmentation), these are not correctness oracles
//! (the PyTorch fixtures check the initialisation's distribution and layout); they make a
//! change of stream, of a `rand`/`rand_distr` sampling algorithm or of the order of draws fail
//! the suite instead of silently changing every result.
//!
//! The pins live in `tests/data/init_pins.txt`; a deliberate change rewrites them with
//! `OPTBENCH_BLESS=1 cargo test -p optbench-models --test init_streams`, in a commit that says
//! which results change.

use std::fmt::Write as _;
use std::path::Path;

use optbench_models::{ProblemConfig, build_problem, load_dataset};

/// (problem, keys): one of each kind of initialisation.
const CASES: &[(&str, &str)] = &[
    ("quadratic", r#"{"dim": 6}"#),
    ("rastrigin", r#"{"dim": 3}"#),
    (
        "mlp",
        r#"{"dataset": {"name": "synthetic_classification", "samples": 40, "features": 5, "classes": 3}, "hidden": [7, 4]}"#,
    ),
    (
        "softmax_regression",
        r#"{"dataset": {"name": "synthetic_classification", "samples": 40, "features": 5, "classes": 3}}"#,
    ),
    (
        "cnn",
        r#"{"dataset": {"name": "synthetic_images", "samples": 20, "channels": 1, "height": 28, "width": 28, "classes": 10}, "preset": "2c2d"}"#,
    ),
    (
        "cnn",
        r#"{"dataset": {"name": "synthetic_images", "samples": 20, "channels": 1, "height": 28, "width": 28, "classes": 10}, "preset": "2c2d", "init": "deepobs"}"#,
    ),
    (
        "resnet",
        r#"{"dataset": {"name": "synthetic_images", "samples": 20, "channels": 3, "height": 32, "width": 32, "classes": 10}, "depth": 8}"#,
    ),
];

fn pins() -> String {
    let mut out = String::new();
    for (name, keys) in CASES {
        let keys: serde_json::Value = serde_json::from_str(keys).unwrap();
        let cfg = ProblemConfig::from_json(name, keys.as_object().unwrap()).unwrap();
        let data = cfg
            .dataset()
            .map(|d| load_dataset(d, 0, Path::new(".")).unwrap());
        for seed in [0u64, 1] {
            let p = build_problem(&cfg, data.clone(), seed).unwrap();
            let x = p.initial_params();
            let bits: Vec<u32> = x.iter().map(|v| v.to_bits()).collect();
            let all: Vec<u8> = bits.iter().flat_map(|b| b.to_le_bytes()).collect();
            let head: Vec<String> = bits.iter().take(4).map(|b| format!("{b:08x}")).collect();
            let tail: Vec<String> = bits
                .iter()
                .rev()
                .take(2)
                .map(|b| format!("{b:08x}"))
                .collect();
            let _ = writeln!(
                out,
                "{name} {keys} seed {seed}: n {} head {} tail {} blake3 {}",
                x.len(),
                head.join(","),
                tail.join(","),
                &blake3::hash(&all).to_hex()[..16]
            );
        }
    }
    out
}

#[test]
fn initial_parameters_are_pinned() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/init_pins.txt");
    let got = pins();
    if std::env::var_os("OPTBENCH_BLESS").is_some() {
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap();
    for (g, w) in got.lines().zip(want.lines()) {
        assert_eq!(g, w);
    }
    assert_eq!(got.lines().count(), want.lines().count());
}
