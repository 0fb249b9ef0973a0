//! Smoothing of noisy per-step quantities (mini-batch loss, gradient and update norms) by an
//! exponential moving average, as TensorBoard and W&B draw them.
//!
//! With the span `N` (the "window", in recorded points), `α = 2 / (N + 1)` (pandas'
//! `ewm(span=N)`), and the average is bias-corrected so that it starts at the first value
//! instead of at 0 (pandas' `adjust=True`, Adam's bias correction):
//!
//! ```text
//! m₀ = 0,   mₖ = (1 − α) mₖ₋₁ + α yₖ,   sₖ = mₖ / (1 − (1 − α)^(k+1))
//! ```
//!
//! Figures use a span of 10 % of a line's points ([`span_for`], at least 3 points), so a line
//! of 100 records is averaged over about 10 of them whatever `eval_every` was. On a log axis the
//! average is taken of log10 y (a geometric mean), so that rare large values do not lift the
//! whole line. Points that cannot be drawn (NaN, or ≤ 0 on a log axis) are skipped and leave the
//! average unchanged.

/// The span of a line of `n` points: 10 % of them, at least 3.
pub fn span_for(n: usize) -> f64 {
    (n as f64 * 0.1).max(3.0)
}

/// Bias-corrected exponential moving average of `ys` with span `span` (see the module docs).
/// Non-finite values give NaN at their position and do not enter the average.
pub fn ema(ys: &[f64], span: f64) -> Vec<f64> {
    let alpha = 2.0 / (span + 1.0);
    let mut m = 0.0;
    let mut weight = 0.0;
    ys.iter()
        .map(|&y| {
            if !y.is_finite() {
                return f64::NAN;
            }
            m = (1.0 - alpha) * m + alpha * y;
            weight = (1.0 - alpha) * weight + alpha;
            m / weight
        })
        .collect()
}

/// [`ema`] of the y values of `(x, y)` points, taken of log10 y when `log` (non-positive values
/// skipped); returns the smoothed points.
pub fn smooth_points(points: &[(f64, f64)], log: bool) -> Vec<(f64, f64)> {
    let kept: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|&(x, y)| x.is_finite() && y.is_finite() && (!log || y > 0.0))
        .collect();
    let ys: Vec<f64> = kept
        .iter()
        .map(|&(_, y)| if log { libm::log10(y) } else { y })
        .collect();
    let s = ema(&ys, span_for(kept.len()));
    kept.iter()
        .zip(s)
        .map(|(&(x, _), v)| (x, if log { libm::pow(10.0, v) } else { v }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Span 3: α = 0.5. By hand: m = 0.5, 1.25, 1.625 (y = 1, 2, 2) with weights 0.5, 0.75,
    /// 0.875, so s = 1, 5/3, 13/7.
    #[test]
    fn ema_by_hand() {
        let s = ema(&[1.0, 2.0, 2.0], 3.0);
        let want = [1.0, 5.0 / 3.0, 13.0 / 7.0];
        for (a, b) in s.iter().zip(want) {
            assert!((a - b).abs() < 1e-15, "{s:?}");
        }
        // A constant stays constant; a NaN is skipped.
        let c = ema(&[4.0, f64::NAN, 4.0, 4.0], 10.0);
        assert!(c[1].is_nan());
        for v in [c[0], c[2], c[3]] {
            assert!((v - 4.0).abs() < 1e-15);
        }
    }

    #[test]
    fn smoothing_reduces_noise_and_keeps_x() {
        let pts: Vec<(f64, f64)> = (0..200)
            .map(|i| (f64::from(i), if i % 2 == 0 { 10.0 } else { 0.1 }))
            .collect();
        let s = smooth_points(&pts, true);
        assert_eq!(s.len(), 200);
        assert!(
            s.iter()
                .zip(&pts)
                .all(|(a, b)| a.0.to_bits() == b.0.to_bits())
        );
        // Geometric mean of 10 and 0.1 is 1: late values stay near it.
        for &(_, y) in &s[100..] {
            assert!((0.5..2.0).contains(&y), "{y}");
        }
        assert!((span_for(100) - 10.0).abs() < 1e-12);
        assert!((span_for(20) - 3.0).abs() < 1e-12);
    }
}
