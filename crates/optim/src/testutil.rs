//! Helpers for the unit tests of the update rules.

use crate::{Optimizer, UpdateRule};

/// Runs one step per gradient from `p0` with learning rate `lr`; returns the parameters.
pub(crate) fn run<R: UpdateRule>(rule: R, p0: &[f32], grads: &[&[f32]], lr: f64) -> Vec<f32> {
    let mut opt = Optimizer::new(rule, p0.len());
    let mut p = p0.to_vec();
    for g in grads {
        opt.step(&mut p, g, lr).expect("lengths match");
    }
    p
}

/// Element-wise `|got - want| <= rel * max(|want|, 1e-3)`.
pub(crate) fn assert_close(got: &[f32], want: &[f64], rel: f64) {
    assert_eq!(got.len(), want.len());
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let err = (f64::from(g) - w).abs();
        assert!(
            err <= rel * w.abs().max(1e-3),
            "element {i}: got {g}, want {w} (error {err:e})"
        );
    }
}

/// Deterministic values in [-scale, scale) (xorshift), for tests without an RNG dependency.
pub(crate) fn values(n: usize, seed: u64, scale: f32) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (((x >> 40) as f32) / ((1u64 << 23) as f32) - 1.0) * scale
        })
        .collect()
}

/// The `InvalidHyperparameter` name of a validation error.
pub(crate) fn invalid_name(e: crate::OptimError) -> &'static str {
    match e {
        crate::OptimError::InvalidHyperparameter { name, .. } => name,
        other => panic!("expected InvalidHyperparameter, got {other:?}"),
    }
}
