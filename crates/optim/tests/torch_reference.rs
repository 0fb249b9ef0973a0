//! Every optimizer, schedule and clipping function against PyTorch fixtures.
//!
//! The fixtures in `tests/data/` are written by `scripts/gen_reference.py` (torch 2.15.0, see
//! `scripts/requirements-reference.txt`; the format is documented at the top of the script).
//! They hold exact float32 values; this test needs neither Python nor torch.
//!
//! Optimizers: each case is built with `OptimizerConfig::from_json(name, &hparams)?.build(n)`
//! (so keys the case leaves out take optbench's defaults, which must be torch's), stepped with
//! the recorded learning rate and gradient of every update, and compared element-wise after
//! **every** update with
//!
//! ```text
//! err = |ours − torch| / max(|torch|, path)                must be ≤ PARAM_TOL
//! path = Σ_{j ≤ k} |torch_j − torch_{j−1}|   (how far the element has moved in torch's trajectory)
//! ```
//!
//! i.e. relative to the parameter, or, for an element that crossed or approached zero, relative to
//! the sum of the updates it received (each update carries its own float32 roundings, so this is
//! the scale of the rounding error; a formula error shows up as a relative error of the update).
//!
//! Why not bit-exact: torch 2.15's CPU `sqrt` on float32 (MKL VML) is not correctly rounded: on
//! this machine about 17% of results are 1 ulp away from the correctly rounded square root that
//! Rust's `f32::sqrt` returns (deterministic, independent of length and alignment). Optimizers
//! without a square root (SGD, Adamax, Lion) are compared bit for bit; the others differ by those
//! ulps, propagated through 20 updates.
//! Failures name the case, the update, the element, both values and the worst error.

use std::path::PathBuf;

use optbench_optim::{OptimizerConfig, ScheduleConfig, clip_grad_norm, clip_grad_value};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Relative tolerance on parameters after every update (float32: 2^-23 ≈ 1.2e-7 per rounding).
const PARAM_TOL: f64 = 1e-6;
/// Optimizers whose torch update has no square root: compared bit for bit.
const BIT_EXACT: &[&str] = &["sgd", "adamax", "lion"];
/// Relative tolerance of schedules (closed form in f64 vs torch's recursive f64 form).
const SCHED_TOL: f64 = 1e-12;
/// Relative tolerance of gradient clipping (norm accumulated in f64 vs torch's f32 reduction).
const CLIP_TOL: f64 = 1e-6;

fn data_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

fn read_json<T: DeserializeOwned>(rel: &str) -> T {
    let path = data_path(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("cannot parse fixture {}: {e}", path.display()))
}

/// Decodes an f32 blob: standard base64 of little-endian binary32 values.
fn f32_blob(s: &str) -> Vec<f32> {
    fn sextet(c: u8) -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("invalid base64 character {:?}", c as char),
        }
    }
    let s = s.trim_end_matches('=').as_bytes();
    let mut bytes = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= sextet(c) << (18 - 6 * i);
        }
        let out = acc.to_be_bytes();
        bytes.extend_from_slice(&out[1..chunk.len()]);
    }
    assert_eq!(
        bytes.len() % 4,
        0,
        "blob is not a whole number of f32 values"
    );
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[derive(Deserialize)]
struct Inputs {
    n: usize,
    steps: usize,
    params0: String,
    grads: Vec<String>,
}

#[derive(Deserialize)]
struct OptimFile {
    optimizer: String,
    torch_version: String,
    torch_defaults: Map<String, Value>,
    cases: Vec<OptimCase>,
}

#[derive(Deserialize)]
struct OptimCase {
    id: String,
    hparams: Map<String, Value>,
    lrs: Vec<f64>,
    params: Vec<String>,
}

/// The worst element of a comparison.
#[derive(Clone, Copy, Debug, Default)]
struct Worst {
    err: f64,
    step: usize,
    index: usize,
    ours: f32,
    torch: f32,
}

impl Worst {
    /// Compares element-wise; `floor(i)` is the smallest denominator of element `i`.
    fn update(&mut self, step: usize, ours: &[f32], torch: &[f32], floor: impl Fn(usize) -> f64) {
        for (index, (&o, &t)) in ours.iter().zip(torch).enumerate() {
            let err = if o.to_bits() == t.to_bits() {
                0.0
            } else {
                let d = (f64::from(o) - f64::from(t)).abs();
                // NaN (a diverged element on one side only) counts as infinitely wrong
                if d.is_nan() {
                    f64::INFINITY
                } else {
                    d / f64::from(t).abs().max(floor(index)).max(f64::MIN_POSITIVE)
                }
            };
            if err > self.err {
                *self = Worst {
                    err,
                    step,
                    index,
                    ours: o,
                    torch: t,
                };
            }
        }
    }
}

/// Runs every case of `tests/data/optim/<name>.json`; returns the worst error of the file.
fn check_optimizer(name: &str) {
    let inputs: Inputs = read_json("optim/inputs.json");
    let file: OptimFile = read_json(&format!("optim/{name}.json"));
    assert_eq!(file.optimizer, name);
    let params0 = f32_blob(&inputs.params0);
    let grads: Vec<Vec<f32>> = inputs.grads.iter().map(|g| f32_blob(g)).collect();
    assert_eq!(params0.len(), inputs.n);
    assert_eq!(grads.len(), inputs.steps);
    assert!(inputs.n >= 1000 && inputs.steps >= 20);
    assert!(!file.cases.is_empty());

    let mut failures = Vec::new();
    let mut file_worst = Worst::default();
    for case in &file.cases {
        assert_eq!(case.lrs.len(), inputs.steps, "{}", case.id);
        assert_eq!(case.params.len(), inputs.steps, "{}", case.id);
        let config = OptimizerConfig::from_json(name, &case.hparams)
            .unwrap_or_else(|e| panic!("{}: from_json({:?}) failed: {e}", case.id, case.hparams));
        let mut opt = config
            .build(inputs.n)
            .unwrap_or_else(|e| panic!("{}: build failed: {e}", case.id));
        let mut params = params0.clone();
        let mut worst = Worst::default();
        let mut prev = params0.clone();
        let mut path = vec![0.0_f64; inputs.n];
        let mut bit_equal = true;
        for (k, (g, &lr)) in grads.iter().zip(&case.lrs).enumerate() {
            opt.step(&mut params, g, lr)
                .unwrap_or_else(|e| panic!("{}: step {k} failed: {e}", case.id));
            let expected = f32_blob(&case.params[k]);
            for ((s, &e), &p) in path.iter_mut().zip(&expected).zip(&prev) {
                *s += (f64::from(e) - f64::from(p)).abs();
            }
            bit_equal &= params
                .iter()
                .zip(&expected)
                .all(|(a, b)| a.to_bits() == b.to_bits());
            worst.update(k, &params, &expected, |i| path[i]);
            prev = expected;
        }
        if BIT_EXACT.contains(&name) && !bit_equal {
            failures.push(format!(
                "{}: not bit-identical to torch (worst error {:.3e} at update {}, element {}: \
                 ours {:e}, torch {:e})",
                case.id, worst.err, worst.step, worst.index, worst.ours, worst.torch
            ));
        }
        eprintln!(
            "{:<45} worst err {:.3e} (update {}, element {})",
            case.id, worst.err, worst.step, worst.index
        );
        if worst.err > PARAM_TOL {
            failures.push(format!(
                "{}: worst error {:.3e} > {PARAM_TOL:e} at update {} (0-based), element {}: \
                 ours {:e}, torch {:e}",
                case.id, worst.err, worst.step, worst.index, worst.ours, worst.torch
            ));
        }
        if worst.err > file_worst.err {
            file_worst = worst;
        }
    }
    eprintln!(
        "{name}: {} cases against torch {}, worst err {:.3e}",
        file.cases.len(),
        file.torch_version,
        file_worst.err
    );
    assert!(
        failures.is_empty(),
        "{name} differs from torch {}:\n{}",
        file.torch_version,
        failures.join("\n")
    );
}

macro_rules! optimizer_tests {
    ($($test:ident => $name:literal),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                check_optimizer($name);
            }
        )*
    };
}

optimizer_tests! {
    sgd_matches_torch => "sgd",
    adagrad_matches_torch => "adagrad",
    adadelta_matches_torch => "adadelta",
    rmsprop_matches_torch => "rmsprop",
    adam_matches_torch => "adam",
    adamw_matches_torch => "adamw",
    nadam_matches_torch => "nadam",
    radam_matches_torch => "radam",
    adamax_matches_torch => "adamax",
    lion_matches_reference => "lion",
}

/// Every optimizer has a fixture, and the fixtures cover every hyperparameter optbench
/// exposes with a non-default value somewhere.
#[test]
fn fixtures_cover_every_optimizer_and_option() {
    for &name in OptimizerConfig::NAMES {
        let file: OptimFile = read_json(&format!("optim/{name}.json"));
        let defaults = OptimizerConfig::default_for(name)
            .unwrap_or_else(|| panic!("no default_for({name})"))
            .to_json();
        for (key, default) in &defaults {
            let varied = file
                .cases
                .iter()
                .any(|c| c.hparams.get(key).is_some_and(|v| v != default));
            assert!(
                varied,
                "{name}: no fixture case sets `{key}` to a non-default value"
            );
        }
        assert!(
            file.cases
                .iter()
                .any(|c| c.lrs.windows(2).any(|w| w[0].to_bits() != w[1].to_bits())),
            "{name}: no case with a per-step learning rate"
        );
    }
}

/// optbench's defaults are torch's (for lion: lucidrains/lion-pytorch's), key by key.
#[test]
fn defaults_match_torch() {
    for &name in OptimizerConfig::NAMES {
        let file: OptimFile = read_json(&format!("optim/{name}.json"));
        let ours = OptimizerConfig::default_for(name)
            .unwrap_or_else(|| panic!("no default_for({name})"))
            .to_json();
        for (key, theirs) in &file.torch_defaults {
            let mine = ours
                .get(key)
                .unwrap_or_else(|| panic!("{name}: optbench has no hyperparameter `{key}`"));
            let same = match (mine, theirs) {
                (Value::Bool(a), Value::Bool(b)) => a == b,
                (Value::Array(a), Value::Array(b)) => {
                    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_number(x, y))
                }
                _ => same_number(mine, theirs),
            };
            assert!(
                same,
                "{name}: default `{key}` is {mine}, torch's is {theirs}"
            );
        }
        assert_eq!(
            ours.len(),
            file.torch_defaults.len(),
            "{name}: optbench exposes {:?}, torch fixture {:?}",
            ours.keys().collect::<Vec<_>>(),
            file.torch_defaults.keys().collect::<Vec<_>>()
        );
    }
}

fn same_number(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.to_bits() == y.to_bits() || (x - y).abs() <= 1e-15 * y.abs(),
        _ => false,
    }
}

#[derive(Deserialize)]
struct SchedFile {
    base_lr: f64,
    steps: u64,
    cases: Vec<SchedCase>,
}

#[derive(Deserialize)]
struct SchedCase {
    id: String,
    config: Value,
    torch: String,
    lrs: Vec<f64>,
}

#[test]
fn schedules_match_torch() {
    let file: SchedFile = read_json("schedules.json");
    assert!(file.cases.len() >= 10);
    let mut failures = Vec::new();
    let mut kinds = std::collections::BTreeSet::new();
    for case in &file.cases {
        let config =
            ScheduleConfig::from_json(&case.config).unwrap_or_else(|e| panic!("{}: {e}", case.id));
        kinds.insert((config.schedule.name(), config.warmup_steps > 0));
        assert_eq!(case.lrs.len() as u64, file.steps);
        let mut worst = (0.0_f64, 0_usize, 0.0, 0.0);
        for (k, &want) in case.lrs.iter().enumerate() {
            let got = config.lr_at(file.base_lr, k as u64, file.steps);
            let err = (got - want).abs() / want.abs().max(1e-15);
            if err > worst.0 {
                worst = (err, k, got, want);
            }
        }
        if worst.0 > SCHED_TOL {
            failures.push(format!(
                "{} ({}): worst error {:.3e} at update {}: ours {:e}, torch {:e}",
                case.id, case.torch, worst.0, worst.1, worst.2, worst.3
            ));
        }
    }
    // every schedule, with and without warm-up
    assert_eq!(kinds.len(), 10, "{kinds:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[derive(Deserialize)]
struct ClipFile {
    grads: String,
    norm_cases: Vec<NormCase>,
    value_cases: Vec<ValueCase>,
}

#[derive(Deserialize)]
struct NormCase {
    max_norm: f64,
    total_norm: f64,
    clipped: String,
}

#[derive(Deserialize)]
struct ValueCase {
    clip_value: f64,
    clipped: String,
}

#[test]
fn clip_grad_norm_matches_torch() {
    let file: ClipFile = read_json("clip.json");
    let grads = f32_blob(&file.grads);
    let (mut below, mut above) = (0, 0);
    for case in &file.norm_cases {
        let mut g = grads.clone();
        let norm = clip_grad_norm(&mut g, case.max_norm);
        let err = (norm - case.total_norm).abs() / case.total_norm;
        assert!(
            err <= CLIP_TOL,
            "max_norm {}: total norm {norm} vs torch {}",
            case.max_norm,
            case.total_norm
        );
        if case.max_norm > norm {
            below += 1;
        } else {
            above += 1;
        }
        let mut worst = Worst::default();
        worst.update(0, &g, &f32_blob(&case.clipped), |_| f64::MIN_POSITIVE);
        assert!(
            worst.err <= CLIP_TOL,
            "max_norm {}: element {} ours {:e} torch {:e} (err {:.3e})",
            case.max_norm,
            worst.index,
            worst.ours,
            worst.torch,
            worst.err
        );
    }
    assert!(below >= 1 && above >= 1, "cases below and above max_norm");
}

#[test]
fn clip_grad_value_matches_torch_exactly() {
    let file: ClipFile = read_json("clip.json");
    let grads = f32_blob(&file.grads);
    for case in &file.value_cases {
        let mut g = grads.clone();
        clip_grad_value(&mut g, case.clip_value);
        let want = f32_blob(&case.clipped);
        for (i, (a, b)) in g.iter().zip(&want).enumerate() {
            assert_eq!(
                a.to_bits(),
                b.to_bits(),
                "clip_value {}: element {i}: ours {a:e}, torch {b:e}",
                case.clip_value
            );
        }
    }
}

#[test]
fn blob_decoder_round_trips_known_values() {
    // base64 of little-endian [1.0f32, -2.5f32]: 00 00 80 3f 00 00 20 c0
    let v = f32_blob("AACAPwAAIMA=");
    assert_eq!(v.len(), 2);
    assert_eq!(v[0].to_bits(), 1.0_f32.to_bits());
    assert_eq!(v[1].to_bits(), (-2.5_f32).to_bits());
}
