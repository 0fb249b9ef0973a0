//! Gradient clipping, as `torch.nn.utils.clip_grad_norm_` and `torch.nn.utils.clip_grad_value_`.
//!
//! Both functions work in place on one flat `f32` gradient buffer and never allocate.

/// Clips the global 2-norm of `grads` to `max_norm`, as `torch.nn.utils.clip_grad_norm_`
/// (`norm_type = 2`, `error_if_nonfinite = False`), and returns the total norm *before*
/// clipping.
///
/// ```text
/// total_norm = sqrt(Σ g_i²)                       accumulated in f64, then rounded to f32
/// clip_coef  = max_norm / (total_norm + 1e-6)     in f32, as torch: reciprocal(total_norm + 1e-6) * max_norm
/// g_i       ← g_i · min(clip_coef, 1)             always multiplied, as torch does
/// ```
///
/// The norm is accumulated in `f64` (torch reduces `float` tensors with its own blocked
/// summation; both agree to within a few float32 ulps, see the fixtures test). The returned norm
/// is that f64 value. Like torch, nothing is checked: a non-finite norm makes the coefficient
/// 0 or NaN and propagates into the gradients, and `max_norm` is expected to be positive.
pub fn clip_grad_norm(grads: &mut [f32], max_norm: f64) -> f64 {
    let total_norm = grads
        .iter()
        .map(|&g| f64::from(g) * f64::from(g))
        .sum::<f64>()
        .sqrt();
    // torch: `clip_coef = max_norm / (total_norm + 1e-6)` on a 0-d float32 tensor, where the
    // reflected division is `total_norm.reciprocal() * max_norm`, then `clamp(max=1.0)`.
    #[allow(clippy::cast_possible_truncation)]
    let denom = total_norm as f32 + 1e-6_f32;
    #[allow(clippy::cast_possible_truncation)]
    let coef = (1.0_f32 / denom) * (max_norm as f32);
    // `f32::min` would swallow a NaN coefficient; torch's clamp propagates it.
    let coef = if coef > 1.0 { 1.0 } else { coef };
    for g in grads.iter_mut() {
        *g *= coef;
    }
    total_norm
}

/// Clamps every gradient element to `[-clip_value, clip_value]`, as
/// `torch.nn.utils.clip_grad_value_` (`g_i ← clamp(g_i, -c, c)` with `c` rounded to f32).
///
/// NaN elements stay NaN, as with torch's `clamp`. `clip_value` is expected to be
/// non-negative (torch does not check it either).
pub fn clip_grad_value(grads: &mut [f32], clip_value: f64) {
    #[allow(clippy::cast_possible_truncation)]
    let c = clip_value as f32;
    for g in grads.iter_mut() {
        // torch applies clamp_min(-c) then clamp_max(c).
        if *g < -c {
            *g = -c;
        }
        if *g > c {
            *g = c;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norm_below_max_leaves_gradients_unchanged() {
        let mut g = [3.0_f32, 4.0];
        let norm = clip_grad_norm(&mut g, 10.0);
        assert!((norm - 5.0).abs() < 1e-12);
        assert_eq!(g.map(f32::to_bits), [3.0_f32, 4.0].map(f32::to_bits));
    }

    #[test]
    fn norm_above_max_is_scaled_to_max() {
        let mut g = [3.0_f32, 4.0];
        let norm = clip_grad_norm(&mut g, 1.0);
        assert!((norm - 5.0).abs() < 1e-12);
        // coef = 1 / (5 + 1e-6)
        let expected = [0.6_f64 / (1.0 + 2e-7), 0.8 / (1.0 + 2e-7)];
        for (a, b) in g.iter().zip(expected) {
            assert!((f64::from(*a) - b).abs() < 1e-7, "{a} vs {b}");
        }
        let new_norm = g.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>().sqrt();
        assert!(new_norm < 1.0 && new_norm > 1.0 - 1e-5);
    }

    #[test]
    fn zero_gradient_stays_zero() {
        let mut g = [0.0_f32; 4];
        assert!(clip_grad_norm(&mut g, 1.0).abs() < f64::MIN_POSITIVE);
        assert!(g.iter().all(|&x| x.to_bits() == 0));
    }

    #[test]
    fn infinite_gradient_propagates_like_torch() {
        let mut g = [f32::INFINITY, 1.0];
        let norm = clip_grad_norm(&mut g, 1.0);
        assert!(norm.is_infinite());
        // coef = 1/inf * 1 = 0 -> inf * 0 = NaN, 1 * 0 = 0 (torch gives the same).
        assert!(g[0].is_nan());
        assert!(g[1].abs() < f32::MIN_POSITIVE);
    }

    #[test]
    fn value_clipping_clamps_both_sides_and_keeps_nan() {
        let mut g = [-3.0_f32, -0.5, 0.0, 0.5, 3.0, f32::NAN];
        clip_grad_value(&mut g, 1.0);
        assert_eq!(
            g[..5].iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            [-1.0_f32, -0.5, 0.0, 0.5, 1.0]
                .iter()
                .map(|x| x.to_bits())
                .collect::<Vec<_>>()
        );
        assert!(g[5].is_nan());
    }
}
