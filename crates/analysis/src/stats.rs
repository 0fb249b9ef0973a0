//! The statistics behind `optbench compare` and `optbench history`: the one-sided Wilcoxon
//! signed-rank test, Benjamini–Hochberg adjusted p-values, the median and quantiles.
//!
//! Everything here is checked against SciPy 1.17 to 1e-12 (`tests/data/stats_reference.json`,
//! written once by `scripts/scipy_reference.py`; no test runs Python).
//!
//! # Wilcoxon signed-rank test (Wilcoxon 1945, "Individual comparisons by ranking methods")
//!
//! For paired differences `d_i`, zeros are dropped (Wilcoxon's own rule, SciPy's
//! `zero_method='wilcox'`); the `n` remaining `|d_i|` get average ranks `R_i` (ties share the mean
//! of their ranks); the statistic is `T⁺ = Σ_{d_i > 0} R_i`. Under the null hypothesis (the `d_i`
//! are symmetric about 0) every sign pattern is equally likely. The alternatives are one-sided:
//! [`Alternative::Greater`] (the `d_i` tend to be positive; `p = P(T⁺ ≥ t)`) and
//! [`Alternative::Less`] (`p = P(T⁺ ≤ t)`).
//!
//! Methods, and the SciPy call each one reproduces
//! (`scipy.stats.wilcoxon(d, zero_method='wilcox', alternative=..., ...)`):
//!
//! - [`WilcoxonMethod::Exact`]: the exact distribution of `T⁺` over all `2ⁿ` sign patterns of the
//!   observed ranks (computed by dynamic programming over doubled ranks, which are integers even
//!   with ties). Without ties this is the classical exact null distribution, identical to SciPy's
//!   `method='exact'`; with ties it is the exact conditional (permutation) distribution, identical
//!   to SciPy's exhaustive `method=PermutationMethod()` (SciPy's `method='exact'` instead rounds a
//!   tied statistic and uses the tie-free table; we do not reproduce that approximation).
//! - [`WilcoxonMethod::Asymptotic`]: the normal approximation `z = (T⁺ − μ − c)/σ` with
//!   `μ = n(n+1)/4`, `σ² = n(n+1)(2n+1)/24 − Σ(t³ − t)/48` (tie correction over groups of `t`
//!   equal `|d_i|`) and continuity correction `c = ±½` towards the null when `correction` is set;
//!   identical to SciPy's `method='asymptotic'` (called `'approx'` before SciPy 1.13) with the same
//!   `correction`.
//! - [`WilcoxonMethod::Auto`]: SciPy's `method='auto'`: with more than 50 differences (zeros
//!   included) the normal approximation; otherwise the exact distribution when there are neither
//!   ties nor zeros; otherwise, for at most 13 differences, the exact conditional distribution
//!   (SciPy's exhaustive permutation test), and the normal approximation above that.
//!
//! One deliberate difference: when every difference is zero (`n = 0`) SciPy's normal
//! approximation returns NaN; here `p = 1` (no evidence of a shift), whatever the method.
//!
//! # Benjamini–Hochberg (Benjamini & Hochberg 1995, JRSS B 57(1):289–300)
//!
//! For `m` p-values sorted ascending, `p̃_(i) = min_{j ≥ i} min(1, p_(j) · m / j)`; rejecting
//! `p̃ ≤ q` controls the false discovery rate at `q` for independent or positively dependent
//! tests. Identical to `scipy.stats.false_discovery_control(p, method='bh')`.

use std::cmp::Ordering;

use thiserror::Error;

/// Invalid input to a statistic.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StatsError {
    /// A difference that is NaN or infinite.
    #[error("difference {index} is not finite ({value})")]
    NonFinite { index: usize, value: f64 },
    /// A p-value outside [0, 1] or NaN.
    #[error("p-value {index} is {value}, outside [0, 1]")]
    PValueOutOfRange { index: usize, value: f64 },
    /// The exact distribution was requested for too many differences.
    #[error("the exact Wilcoxon distribution is limited to {max} non-zero differences, got {n}")]
    ExactTooLarge { n: usize, max: usize },
}

/// The one-sided alternative hypothesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alternative {
    /// The differences tend to be positive (SciPy's `alternative='greater'`).
    Greater,
    /// The differences tend to be negative (SciPy's `alternative='less'`).
    Less,
}

/// How the p-value is computed (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WilcoxonMethod {
    /// SciPy's `method='auto'` rule; `correction` applies when it falls back to the normal
    /// approximation.
    Auto { correction: bool },
    /// The exact (conditional, with ties) distribution of `T⁺`.
    Exact,
    /// The normal approximation with tie correction and optional continuity correction.
    Asymptotic { correction: bool },
}

/// Which computation produced a p-value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MethodUsed {
    /// Exact distribution over the `2ⁿ` sign patterns.
    Exact,
    /// Normal approximation.
    Asymptotic,
}

/// The result of [`wilcoxon_signed_rank`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Wilcoxon {
    /// `T⁺`, the sum of the ranks of the positive differences (SciPy's `statistic` for a
    /// one-sided test).
    pub statistic: f64,
    /// The one-sided p-value.
    pub p_value: f64,
    /// Number of non-zero differences.
    pub n: usize,
    /// How the p-value was computed.
    pub method: MethodUsed,
}

/// Largest `n` for which [`WilcoxonMethod::Exact`] is accepted (cost `O(n³)`).
pub const EXACT_MAX_N: usize = 1000;

/// One-sided Wilcoxon signed-rank test of the paired differences `d` (see the module docs).
pub fn wilcoxon_signed_rank(
    d: &[f64],
    alternative: Alternative,
    method: WilcoxonMethod,
) -> Result<Wilcoxon, StatsError> {
    if let Some((index, &value)) = d.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(StatsError::NonFinite { index, value });
    }
    let nonzero: Vec<f64> = d.iter().copied().filter(|v| *v != 0.0).collect();
    let n = nonzero.len();
    let has_zeros = n < d.len();
    let ranks = Ranks::new(&nonzero);

    let (use_exact, correction) = match method {
        WilcoxonMethod::Exact => (true, false),
        WilcoxonMethod::Asymptotic { correction } => (false, correction),
        WilcoxonMethod::Auto { correction } => {
            let exact = if d.len() > 50 {
                false
            } else if !ranks.has_ties && !has_zeros {
                true
            } else {
                d.len() <= 13
            };
            (exact, correction)
        }
    };
    let statistic = ranks.doubled_plus as f64 / 2.0;
    if n == 0 {
        return Ok(Wilcoxon {
            statistic,
            p_value: 1.0,
            n,
            method: if use_exact {
                MethodUsed::Exact
            } else {
                MethodUsed::Asymptotic
            },
        });
    }
    if use_exact {
        if n > EXACT_MAX_N {
            return Err(StatsError::ExactTooLarge {
                n,
                max: EXACT_MAX_N,
            });
        }
        let pmf = doubled_rank_pmf(&ranks.doubled);
        let t = ranks.doubled_plus as usize;
        let p: f64 = match alternative {
            Alternative::Greater => pmf[t..].iter().sum(),
            Alternative::Less => pmf[..=t].iter().sum(),
        };
        return Ok(Wilcoxon {
            statistic,
            p_value: p.clamp(0.0, 1.0),
            n,
            method: MethodUsed::Exact,
        });
    }
    let nf = n as f64;
    let mean = nf * (nf + 1.0) * 0.25;
    let var24 = nf * (nf + 1.0) * (2.0 * nf + 1.0);
    let se = ((var24 - ranks.tie_sum / 2.0) / 24.0).sqrt();
    let mut z = (statistic - mean) / se;
    let sign = match alternative {
        Alternative::Greater => 1.0,
        Alternative::Less => -1.0,
    };
    if correction {
        z -= sign * 0.5 / se;
    }
    let p = match alternative {
        Alternative::Greater => ndtr(-z),
        Alternative::Less => ndtr(z),
    };
    Ok(Wilcoxon {
        statistic,
        p_value: p,
        n,
        method: MethodUsed::Asymptotic,
    })
}

/// Average ranks of `|d|` (all non-zero), doubled so that they are integers.
struct Ranks {
    /// `2 R_i` per difference, in input order.
    doubled: Vec<u64>,
    /// `2 T⁺`.
    doubled_plus: u64,
    /// Whether two `|d_i|` are equal.
    has_ties: bool,
    /// `Σ (t³ − t)` over groups of `t` equal `|d_i|`.
    tie_sum: f64,
}

impl Ranks {
    fn new(d: &[f64]) -> Self {
        let abs: Vec<f64> = d.iter().map(|v| v.abs()).collect();
        let mut order: Vec<usize> = (0..d.len()).collect();
        order.sort_by(|&a, &b| abs[a].total_cmp(&abs[b]));
        let mut doubled = vec![0u64; d.len()];
        let (mut has_ties, mut tie_sum) = (false, 0.0);
        let mut i = 0;
        while i < order.len() {
            let mut j = i + 1;
            while j < order.len() && abs[order[j]].total_cmp(&abs[order[i]]) == Ordering::Equal {
                j += 1;
            }
            let t = (j - i) as u64;
            // Ranks i+1 ..= j (1-based) average to (i + 1 + j) / 2.
            let r2 = (i + 1 + j) as u64;
            for &k in &order[i..j] {
                doubled[k] = r2;
            }
            if t > 1 {
                has_ties = true;
                let tf = t as f64;
                tie_sum += tf * tf * tf - tf;
            }
            i = j;
        }
        let doubled_plus = d
            .iter()
            .zip(&doubled)
            .filter(|(v, _)| **v > 0.0)
            .map(|(_, r)| r)
            .sum();
        Self {
            doubled,
            doubled_plus,
            has_ties,
            tie_sum,
        }
    }
}

/// Probability mass of `2T⁺ = Σ s_i r_i` over independent fair signs `s_i ∈ {0, 1}`, for the
/// doubled ranks `r_i`: index `k` holds `P(2T⁺ = k)`. Built one rank at a time with
/// `P'(k) = ½P(k) + ½P(k − r)`, as SciPy's `_get_wilcoxon_distr`.
fn doubled_rank_pmf(doubled: &[u64]) -> Vec<f64> {
    let total: u64 = doubled.iter().sum();
    let mut pmf = vec![0.0f64; total as usize + 1];
    pmf[0] = 1.0;
    let mut top = 0usize;
    for &r in doubled {
        let r = r as usize;
        for k in (0..=top + r).rev() {
            let keep = if k <= top { 0.5 * pmf[k] } else { 0.0 };
            let shift = if k >= r && k - r <= top {
                0.5 * pmf[k - r]
            } else {
                0.0
            };
            pmf[k] = keep + shift;
        }
        top += r;
    }
    pmf
}

/// Standard normal CDF `Φ(x)`, computed as Cephes/SciPy `ndtr` does: `½ + ½ erf(x/√2)` near 0,
/// `½ erfc(|x|/√2)` (or one minus it) in the tails, so small tail probabilities keep full
/// relative precision.
pub fn ndtr(x: f64) -> f64 {
    let t = x * std::f64::consts::FRAC_1_SQRT_2;
    let z = t.abs();
    if z < std::f64::consts::FRAC_1_SQRT_2 {
        0.5 + 0.5 * libm::erf(t)
    } else {
        let y = 0.5 * libm::erfc(z);
        if t > 0.0 { 1.0 - y } else { y }
    }
}

/// Benjamini–Hochberg adjusted p-values, in the order of `p` (see the module docs).
pub fn benjamini_hochberg(p: &[f64]) -> Result<Vec<f64>, StatsError> {
    if let Some((index, &value)) = p
        .iter()
        .enumerate()
        .find(|(_, v)| !(0.0..=1.0).contains(*v))
    {
        return Err(StatsError::PValueOutOfRange { index, value });
    }
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut adjusted = vec![0.0; m];
    let mut running = f64::INFINITY;
    for (pos, &k) in order.iter().enumerate().rev() {
        let scaled = p[k] * (m as f64 / (pos + 1) as f64);
        running = running.min(scaled);
        adjusted[k] = running.clamp(0.0, 1.0);
    }
    Ok(adjusted)
}

/// The median (mean of the two middle values for an even count); `None` for an empty slice or
/// one holding NaN.
pub fn median(x: &[f64]) -> Option<f64> {
    if x.is_empty() || x.iter().any(|v| v.is_nan()) {
        return None;
    }
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    Some(if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    })
}

/// The `p`-quantile (`0 ≤ p ≤ 1`) by linear interpolation between order statistics: with the
/// values sorted, `x_(h)` at the fractional rank `h = (n − 1)·p` (0-based). This is Hyndman &
/// Fan's definition 7, the default of `numpy.quantile`, R's `quantile` and
/// `torch.quantile`. `None` for an empty slice, one holding NaN, or `p` outside `[0, 1]`.
pub fn quantile(x: &[f64], p: f64) -> Option<f64> {
    if x.is_empty() || x.iter().any(|v| v.is_nan()) || !(0.0..=1.0).contains(&p) {
        return None;
    }
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    let h = (s.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(s.len() - 1);
    let frac = h - lo as f64;
    Some(if frac == 0.0 {
        s[lo]
    } else {
        s[lo] + frac * (s[hi] - s[lo])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn hand_computed_exact() {
        // n = 3, all positive: T+ = 6 is the largest of 8 equally likely sign patterns.
        let w = wilcoxon_signed_rank(
            &[0.1, 0.2, 0.3],
            Alternative::Greater,
            WilcoxonMethod::Exact,
        )
        .unwrap();
        assert!(close(w.statistic, 6.0, 0.0));
        assert!(close(w.p_value, 0.125, 1e-15));
        // Less: P(T+ <= 6) = 1.
        let w = wilcoxon_signed_rank(&[0.1, 0.2, 0.3], Alternative::Less, WilcoxonMethod::Exact)
            .unwrap();
        assert!(close(w.p_value, 1.0, 1e-15));
        // d = [1, -2, 3]: ranks 1, 2, 3; T+ = 4. Subsets of {1,2,3} with sum >= 4: {1,3}, {3,... }
        // {1,3}=4, {2,3}=5, {1,2,3}=6 -> 3/8; sum <= 4: {}, {1}, {2}, {3}, {1,2}, {1,3} -> 6/8.
        let d = [1.0, -2.0, 3.0];
        let g = wilcoxon_signed_rank(&d, Alternative::Greater, WilcoxonMethod::Exact).unwrap();
        let l = wilcoxon_signed_rank(&d, Alternative::Less, WilcoxonMethod::Exact).unwrap();
        assert!(close(g.p_value, 3.0 / 8.0, 1e-15));
        assert!(close(l.p_value, 6.0 / 8.0, 1e-15));
    }

    #[test]
    fn ties_and_zeros_exact_conditional() {
        // d = [0, 1, -1, 2]: zero dropped; |d| = 1, 1, 2 -> ranks 1.5, 1.5, 3; T+ = 1.5 + 3 = 4.5.
        // Sign patterns of {1.5, 1.5, 3}: sums 0, 1.5, 1.5, 3, 3, 4.5, 4.5, 6 -> P(T+ >= 4.5) = 3/8.
        let w = wilcoxon_signed_rank(
            &[0.0, 1.0, -1.0, 2.0],
            Alternative::Greater,
            WilcoxonMethod::Auto { correction: true },
        )
        .unwrap();
        assert!(close(w.statistic, 4.5, 0.0));
        assert_eq!(w.n, 3);
        assert_eq!(w.method, MethodUsed::Exact);
        assert!(close(w.p_value, 3.0 / 8.0, 1e-15));
    }

    #[test]
    fn all_zero_is_p_one() {
        for m in [
            WilcoxonMethod::Exact,
            WilcoxonMethod::Asymptotic { correction: true },
        ] {
            let w = wilcoxon_signed_rank(&[0.0, 0.0], Alternative::Greater, m).unwrap();
            assert!(close(w.p_value, 1.0, 0.0));
            assert_eq!(w.n, 0);
        }
        let w = wilcoxon_signed_rank(&[], Alternative::Less, WilcoxonMethod::Exact).unwrap();
        assert!(close(w.p_value, 1.0, 0.0));
    }

    #[test]
    fn asymptotic_by_hand() {
        // n = 4 all positive, no ties: T+ = 10, mu = 5, sigma^2 = 4*5*9/24 = 7.5.
        // Without correction z = 5/sqrt(7.5); with correction z = 4.5/sqrt(7.5).
        let d = [1.0, 2.0, 3.0, 4.0];
        let z0 = 5.0 / 7.5f64.sqrt();
        let z1 = 4.5 / 7.5f64.sqrt();
        let w = wilcoxon_signed_rank(
            &d,
            Alternative::Greater,
            WilcoxonMethod::Asymptotic { correction: false },
        )
        .unwrap();
        assert!(close(w.p_value, 0.5 * libm::erfc(z0 / 2f64.sqrt()), 1e-15));
        let w = wilcoxon_signed_rank(
            &d,
            Alternative::Greater,
            WilcoxonMethod::Asymptotic { correction: true },
        )
        .unwrap();
        assert!(close(w.p_value, 0.5 * libm::erfc(z1 / 2f64.sqrt()), 1e-15));
    }

    #[test]
    fn rejects_non_finite_and_bad_p() {
        assert!(matches!(
            wilcoxon_signed_rank(
                &[1.0, f64::NAN],
                Alternative::Greater,
                WilcoxonMethod::Exact
            ),
            Err(StatsError::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            benjamini_hochberg(&[0.1, 1.5]),
            Err(StatsError::PValueOutOfRange { index: 1, .. })
        ));
        assert!(benjamini_hochberg(&[f64::NAN]).is_err());
    }

    #[test]
    fn bh_by_hand() {
        // m = 4, p = [0.01, 0.04, 0.03, 0.5]: sorted 0.01, 0.03, 0.04, 0.5 -> scaled
        // 0.04, 0.06, 0.0533.., 0.5 -> running min from the top: 0.04, 0.0533.., 0.0533.., 0.5.
        let a = benjamini_hochberg(&[0.01, 0.04, 0.03, 0.5]).unwrap();
        let want = [0.04, 0.16 / 3.0, 0.16 / 3.0, 0.5];
        for (x, y) in a.iter().zip(want) {
            assert!(close(*x, y, 1e-15), "{a:?}");
        }
        assert!(benjamini_hochberg(&[]).unwrap().is_empty());
    }

    #[test]
    fn median_by_hand() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[1.0, f64::NAN]), None);
        assert!(close(median(&[3.0, 1.0, 2.0]).unwrap(), 2.0, 0.0));
        assert!(close(median(&[4.0, 1.0, 2.0, 3.0]).unwrap(), 2.5, 0.0));
    }

    #[test]
    fn quantile_by_hand() {
        // numpy.quantile([1, 2, 3, 4], [0.25, 0.5, 0.75]) = [1.75, 2.5, 3.25].
        let x = [4.0, 1.0, 3.0, 2.0];
        assert!(close(quantile(&x, 0.25).unwrap(), 1.75, 1e-15));
        assert!(close(quantile(&x, 0.5).unwrap(), 2.5, 1e-15));
        assert!(close(quantile(&x, 0.75).unwrap(), 3.25, 1e-15));
        assert!(close(quantile(&x, 0.0).unwrap(), 1.0, 0.0));
        assert!(close(quantile(&x, 1.0).unwrap(), 4.0, 0.0));
        // One value: every quantile is that value.
        assert!(close(quantile(&[7.0], 0.25).unwrap(), 7.0, 0.0));
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[1.0], 1.5), None);
        assert_eq!(quantile(&[1.0, f64::NAN], 0.5), None);
    }

    #[test]
    fn pmf_sums_to_one() {
        let pmf = doubled_rank_pmf(&(1..=20).map(|r| 2 * r).collect::<Vec<_>>());
        let s: f64 = pmf.iter().sum();
        assert!(close(s, 1.0, 1e-14));
        // Symmetric about the mean n(n+1)/2 doubled = 210.
        assert!(close(pmf[0], pmf[420], 0.0));
        assert!(close(pmf[0], 2f64.powi(-20), 0.0));
    }
}
