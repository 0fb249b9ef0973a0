//! Every CPU path of the kernels (x86-64 baseline, AVX2+FMA, AVX-512) gives the same bits, for
//! every option set of every optimizer: each case of the torch fixtures (`tests/data/optim/`,
//! which set every hyperparameter of every optimizer to a non-default value somewhere) runs its
//! 20 updates on 1,000 elements (not a multiple of any vector width, so the remainder loops run
//! too) on each path, and parameters and state must equal the baseline's bit for bit after
//! every update.
//!
//! A path this CPU does not have is skipped with a note on stderr (`cargo test -- --nocapture`
//! shows it). Set `OPTBENCH_REQUIRE_CPU_PATHS=avx2+fma,avx512` (or `all`) on a machine known to
//! have them to make a skip a failure.

use optbench_optim::{CpuPath, DynOptimizer, OptimError, OptimizerConfig};
use serde::Deserialize;
use serde_json::{Map, Value};

#[derive(Deserialize)]
struct Case {
    id: String,
    hparams: Map<String, Value>,
    lrs: Vec<f64>,
}

#[derive(Deserialize)]
struct File {
    cases: Vec<Case>,
}

fn fixture<T: for<'de> Deserialize<'de>>(name: &str) -> T {
    let path = format!(
        "{}/tests/data/optim/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Deterministic values in [-scale, scale) with some exact zeros (xorshift).
fn values(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if i % 37 == 0 {
                0.0
            } else {
                (((x >> 40) as f32) / ((1u64 << 23) as f32) - 1.0) * scale
            }
        })
        .collect()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// The paths this CPU has; the others are reported (or fail, if required).
fn runnable_paths() -> Vec<CpuPath> {
    let required = std::env::var("OPTBENCH_REQUIRE_CPU_PATHS").unwrap_or_default();
    let mut paths = Vec::new();
    for path in CpuPath::ALL {
        if path.is_supported() {
            paths.push(path);
            continue;
        }
        let must = required == "all" || required.split(',').any(|r| r.trim() == path.name());
        assert!(
            !must,
            "OPTBENCH_REQUIRE_CPU_PATHS={required} but this CPU has no {path}"
        );
        eprintln!("NOTE: this CPU has no {path}: its kernels were not run (not compared)");
    }
    paths
}

/// One case on one path: the parameters and the saved state after every update.
fn trajectory(path: CpuPath, name: &str, case: &Case, steps: usize) -> Vec<(Vec<u32>, Value)> {
    let n = 1000;
    let config = OptimizerConfig::from_json(name, &case.hparams).expect("fixture case parses");
    let mut opt = config.build(n).expect("fixture case is valid");
    let mut params = values(n, 1, 3.0);
    (0..steps)
        .map(|k| {
            // gradients over eight orders of magnitude, so that eps and the remainders matter
            let scale = 10f32.powi(k as i32 % 8 - 6);
            let grads = values(n, 100 + k as u64, scale);
            let lr = case.lrs[k % case.lrs.len()];
            opt.step_on(path, &mut params, &grads, lr)
                .unwrap_or_else(|e| panic!("{}: {e}", case.id));
            (bits(&params), opt.save_state())
        })
        .collect()
}

#[test]
fn every_path_gives_the_baseline_bits_for_every_optimizer_and_option() {
    let paths = runnable_paths();
    let mut compared = 0;
    for &name in OptimizerConfig::NAMES {
        let file: File = fixture(name);
        for case in &file.cases {
            let baseline = trajectory(CpuPath::Baseline, name, case, 20);
            for &path in &paths[1..] {
                let other = trajectory(path, name, case, 20);
                for (k, (b, o)) in baseline.iter().zip(&other).enumerate() {
                    assert!(
                        b.0 == o.0,
                        "{}: {path} params differ at update {k}",
                        case.id
                    );
                    assert!(
                        b.1 == o.1,
                        "{}: {path} state differs at update {k}",
                        case.id
                    );
                }
                compared += 1;
            }
        }
    }
    eprintln!(
        "compared {compared} (case, path) pairs with the baseline on: {}",
        paths
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
}

#[test]
fn production_steps_run_the_detected_path() {
    let detected = CpuPath::detected();
    assert!(detected.is_supported());
    let file: File = fixture("adam");
    let case = &file.cases[0];
    let config = OptimizerConfig::from_json("adam", &case.hparams).unwrap();
    let (mut a, mut b) = (config.build(1000).unwrap(), config.build(1000).unwrap());
    let (mut pa, mut pb) = (values(1000, 1, 3.0), values(1000, 1, 3.0));
    let g = values(1000, 7, 1e-3);
    a.step(&mut pa, &g, 0.01).unwrap();
    b.step_on(detected, &mut pb, &g, 0.01).unwrap();
    assert_eq!(bits(&pa), bits(&pb));
}

#[test]
fn a_path_the_cpu_lacks_is_an_error_not_a_silent_fallback() {
    for path in CpuPath::ALL {
        let mut opt: Box<dyn DynOptimizer> = OptimizerConfig::default_for("sgd")
            .unwrap()
            .build(4)
            .unwrap();
        let mut p = [1.0f32; 4];
        let result = opt.step_on(path, &mut p, &[0.5; 4], 0.1);
        if path.is_supported() {
            assert!(result.is_ok());
        } else {
            assert_eq!(
                result,
                Err(OptimError::CpuPathUnavailable { path: path.name() })
            );
            assert_eq!(opt.steps_taken(), 0);
        }
    }
}
