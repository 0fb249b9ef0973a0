//! `libm`'s `expf` and `erff` (FreeBSD's `e_expf.c` and `s_erff.c`, as ported by the `libm`
//! crate 0.2), evaluated [`LANES`] values at a time, **bit for bit the same** as
//! `libm::expf` / `libm::erff`.
//!
//! Why by hand: the scalar calls were 40 % of a transformer training step (GELU's `erf` and
//! `exp` on every hidden unit, the attention and loss softmaxes), and no maintained crate gives
//! vectorised functions with libm's bits (sleef, `std::simd` math and torch's vectorised `erf`
//! are other approximations, so recorded losses would change). The port keeps every IEEE
//! operation of libm in the same order (no fused multiply-add, no reassociation) and replaces
//! its branches by computing every branch and selecting per lane, which LLVM turns into vector
//! blends; so the bits do not depend on the vector width or the CPU path either. Lanes outside
//! the branch-free ranges (`expf`: |x| ≥ 87.34, where libm's result over- or underflows through
//! a multi-step `scalbnf`, and NaN; `erff`: ±∞ and NaN) are recomputed with the scalar call.
//! The tests compare against libm on a sweep of all f32 bit patterns and every branch boundary.

// The coefficients are libm's decimal literals verbatim, so they round to the same f32.
#![allow(clippy::excessive_precision)]

/// Values per call.
pub(crate) const LANES: usize = 16;

const LN2_HI: f32 = 6.9314575195e-01; // 0x3f317200
const LN2_LO: f32 = 1.4286067653e-06; // 0x35bfbe8e
const INV_LN2: f32 = 1.4426950216e+00; // 0x3fb8aa3b
const P1: f32 = 1.6666625440e-1; // 0xaaaa8f.0p-26
const P2: f32 = -2.7667332906e-3; // -0xb55215.0p-32

/// Bits of |x| from which libm's `expf` leaves the branch-free path (|x| ≥ 87.336548).
const EXPF_SPECIAL: u32 = 0x42ae_ac50;

/// `libm::expf(x)` for |x| < 87.336548 (bits of |x| below [`EXPF_SPECIAL`]), without branches.
#[inline(always)]
fn expf_core(x: f32) -> f32 {
    let bits = x.to_bits();
    let hx = bits & 0x7fff_ffff;
    let negative = bits >> 31 != 0;
    let half = if negative { -0.5 } else { 0.5 };
    // libm: k = (INV_LN2·x + ±½) truncated to an integer if |x| > 1.5 ln 2, ±1 if
    // |x| > ½ ln 2, else 0 (then hi = x and lo = 0, which the formulas below give exactly for
    // k = 0). k is kept as a float (the same integer; no float-to-int conversion, which LLVM
    // does not vectorise), clamped to the normal exponents (which changes no lane kept).
    let k_far = (INV_LN2 * x + half).trunc();
    let k_near = if negative { -1.0 } else { 1.0 };
    let kf = if hx > 0x3f85_1592 {
        k_far
    } else if hx > 0x3eb1_7218 {
        k_near
    } else {
        0.0
    };
    let kf = kf.clamp(-126.0, 127.0);
    let hi = x - kf * LN2_HI;
    let lo = kf * LN2_LO;
    let r = hi - lo;
    let rr = r * r;
    let c = r - rr * (P1 + rr * P2);
    let y = 1.0 + (r * c / (2.0 - c) - lo + hi);
    // scalbnf(y, k) with k in the normal range is one exact product by 2^k, whose exponent
    // field k + 127 is read off the bits of 1.5·2^23 + k + 127 (an exact sum).
    let biased = (kf + (127.0 + 12_582_912.0))
        .to_bits()
        .wrapping_sub(0x4b40_0000);
    let scaled = y * f32::from_bits(biased << 23);
    // |x| ≤ 2^-14: libm returns 1 + x.
    if hx > 0x3900_0000 { scaled } else { 1.0 + x }
}

/// `libm::expf` of each lane.
#[inline(always)]
pub(crate) fn expf(x: &[f32; LANES]) -> [f32; LANES] {
    let mut y = [0.0f32; LANES];
    let mut special = false;
    for (y, &x) in y.iter_mut().zip(x) {
        *y = expf_core(x);
        special |= x.to_bits() & 0x7fff_ffff >= EXPF_SPECIAL;
    }
    if special {
        for (y, &x) in y.iter_mut().zip(x) {
            if x.to_bits() & 0x7fff_ffff >= EXPF_SPECIAL {
                *y = libm::expf(x);
            }
        }
    }
    y
}

/// `v[i] ← libm::expf(v[i] − shift)` for every element, [`LANES`] at a time (the rest scalar).
#[inline(always)]
pub(crate) fn exp_minus_in_place(v: &mut [f32], shift: f32) {
    let mut chunks = v.chunks_exact_mut(LANES);
    for chunk in &mut chunks {
        let mut x = [0.0f32; LANES];
        for (x, &v) in x.iter_mut().zip(chunk.iter()) {
            *x = v - shift;
        }
        chunk.copy_from_slice(&expf(&x));
    }
    let rest = chunks.into_remainder();
    if !rest.is_empty() {
        // A partial chunk padded with `shift` (exp(0), discarded), not element by element.
        let mut x = [0.0f32; LANES];
        for (x, &v) in x.iter_mut().zip(rest.iter()) {
            *x = v - shift;
        }
        let y = expf(&x);
        rest.copy_from_slice(&y[..rest.len()]);
    }
}

/// `Σ libm::expf(v[i] − shift)`, summed in the order of i from 0 in f32.
#[inline(always)]
pub(crate) fn sum_exp_minus(v: &[f32], shift: f32) -> f32 {
    let mut sum = 0.0f32;
    let mut chunks = v.chunks_exact(LANES);
    for chunk in &mut chunks {
        let mut x = [0.0f32; LANES];
        for (x, &v) in x.iter_mut().zip(chunk.iter()) {
            *x = v - shift;
        }
        for e in expf(&x) {
            sum += e;
        }
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut x = [0.0f32; LANES];
        for (x, &v) in x.iter_mut().zip(rest) {
            *x = v - shift;
        }
        for &e in &expf(&x)[..rest.len()] {
            sum += e;
        }
    }
    sum
}

const ERX: f32 = 8.4506291151e-01;
const EFX8: f32 = 1.0270333290e+00;
const PP: [f32; 5] = [
    1.2837916613e-01,
    -3.2504209876e-01,
    -2.8481749818e-02,
    -5.7702702470e-03,
    -2.3763017452e-05,
];
const QQ: [f32; 5] = [
    3.9791721106e-01,
    6.5022252500e-02,
    5.0813062117e-03,
    1.3249473704e-04,
    -3.9602282413e-06,
];
const PA: [f32; 7] = [
    -2.3621185683e-03,
    4.1485610604e-01,
    -3.7220788002e-01,
    3.1834661961e-01,
    -1.1089469492e-01,
    3.5478305072e-02,
    -2.1663755178e-03,
];
const QA: [f32; 6] = [
    1.0642088205e-01,
    5.4039794207e-01,
    7.1828655899e-02,
    1.2617121637e-01,
    1.3637083583e-02,
    1.1984500103e-02,
];
const RA: [f32; 8] = [
    -9.8649440333e-03,
    -6.9385856390e-01,
    -1.0558626175e+01,
    -6.2375331879e+01,
    -1.6239666748e+02,
    -1.8460508728e+02,
    -8.1287437439e+01,
    -9.8143291473e+00,
];
const SA: [f32; 8] = [
    1.9651271820e+01,
    1.3765776062e+02,
    4.3456588745e+02,
    6.4538726807e+02,
    4.2900814819e+02,
    1.0863500214e+02,
    6.5702495575e+00,
    -6.0424413532e-02,
];
const RB: [f32; 7] = [
    -9.8649431020e-03,
    -7.9928326607e-01,
    -1.7757955551e+01,
    -1.6063638306e+02,
    -6.3756646729e+02,
    -1.0250950928e+03,
    -4.8351919556e+02,
];
const SB: [f32; 7] = [
    3.0338060379e+01,
    3.2579251099e+02,
    1.5367296143e+03,
    3.1998581543e+03,
    2.5530502930e+03,
    4.7452853394e+02,
    -2.2440952301e+01,
];

/// [`RB`] and [`SB`] with a zero innermost coefficient, as long as [`RA`] and [`SA`].
const RB_PADDED: [f32; 8] = [RB[0], RB[1], RB[2], RB[3], RB[4], RB[5], RB[6], 0.0];
const SB_PADDED: [f32; 8] = [SB[0], SB[1], SB[2], SB[3], SB[4], SB[5], SB[6], 0.0];

/// `c[0] + s·(c[1] + s·(… + s·c[n−1]))`, libm's nesting.
#[inline(always)]
fn horner<const N: usize>(s: f32, c: &[f32; N]) -> f32 {
    let mut acc = c[N - 1];
    for &ci in c[..N - 1].iter().rev() {
        acc = ci + s * acc;
    }
    acc
}

/// `1 + s·(c[0] + s·(c[1] + … ))`, libm's denominators.
#[inline(always)]
fn one_plus<const N: usize>(s: f32, c: &[f32; N]) -> f32 {
    1.0 + s * horner(s, c)
}

/// `libm::erff(x)` for finite |x| < 0.84375 (bits of |x| below [`ERFF_WIDE`]), without
/// branches: `x + x·R(x²)/S(x²)` (below 2^-28: `0.125·(8x + EFX8·x)`).
#[inline(always)]
fn erff_small(x: f32) -> f32 {
    let ix = x.to_bits() & 0x7fff_ffff;
    let z = x * x;
    let small = x + x * (horner(z, &PP) / one_plus(z, &QQ));
    let tiny = 0.125 * (8.0 * x + EFX8 * x);
    if ix >= 0x3180_0000 { small } else { tiny }
}

/// Bits of |x| from which libm's `erff` leaves the polynomial of [`erff_small`] (0.84375).
const ERFF_WIDE: u32 = 0x3f58_0000;

/// `libm::erff(x)` for finite |x| ≥ 0.84375, without branches.
#[inline(always)]
fn erff_wide(x: f32) -> f32 {
    let ix = x.to_bits() & 0x7fff_ffff;
    let negative = x.to_bits() >> 31 != 0;
    // 0.84375 ≤ |x| < 1.25: erfc = 1 − ERX − P(s)/Q(s), s = |x| − 1.
    let a = x.abs();
    let s = a - 1.0;
    let erfc_near = 1.0 - ERX - horner(s, &PA) / one_plus(s, &QA);
    // 1.25 ≤ |x| < 6: erfc = exp(−z² − 0.5625)·exp((z − a)(z + a) + R/S)/a, z = a rounded to
    // 12 bits, R and S in s = 1/a² with the coefficients of [1.25, 1/0.35) or [1/0.35, 6).
    let s = 1.0 / (a * a);
    // One Horner evaluation on coefficients selected per lane; RB and SB have one term fewer
    // and get a leading 0 (the innermost step 0 + s·0 … gives their last coefficient exactly).
    let near = ix < 0x4036_db6d;
    // (Loops, not `std::array::from_fn`, which LLVM left as a call.)
    let (mut r_coef, mut s_coef) = ([0.0f32; 8], [0.0f32; 8]);
    for i in 0..8 {
        r_coef[i] = if near { RA[i] } else { RB_PADDED[i] };
        s_coef[i] = if near { SA[i] } else { SB_PADDED[i] };
    }
    let ratio = horner(s, &r_coef) / one_plus(s, &s_coef);
    let zr = f32::from_bits(a.to_bits() & 0xffff_e000);
    let erfc_far = expf_core(-zr * zr - 0.5625) * expf_core((zr - a) * (zr + a) + ratio) / a;
    let erfc = if ix < 0x3fa0_0000 {
        erfc_near
    } else {
        erfc_far
    };
    let big = if ix < 0x40c0_0000 {
        1.0 - erfc
    } else {
        1.0 - f32::from_bits(0x0380_0000)
    };
    if negative { -big } else { big }
}

/// `libm::erff(x)` for finite x, without branches (every branch on every lane; the tests
/// compare it and [`erff_into`] with libm).
#[cfg(test)]
#[inline(always)]
fn erff_core(x: f32) -> f32 {
    let (small, wide) = (erff_small(x), erff_wide(x));
    if x.to_bits() & 0x7fff_ffff >= ERFF_WIDE {
        wide
    } else {
        small
    }
}

/// `libm::erff` of each lane.
#[cfg(test)]
#[inline(always)]
pub(crate) fn erff(x: &[f32; LANES]) -> [f32; LANES] {
    let mut y = [0.0f32; LANES];
    let mut special = false;
    for (y, &x) in y.iter_mut().zip(x) {
        *y = erff_core(x);
        special |= !x.is_finite();
    }
    if special {
        for (y, &x) in y.iter_mut().zip(x) {
            if !x.is_finite() {
                *y = libm::erff(x);
            }
        }
    }
    y
}

/// Values per block of [`erff_into`] (their indices fit a stack array).
const ERFF_BLOCK: usize = 256;

/// `y[i] ← libm::erff(x[i])` for every element of `x`, bit for bit: the polynomial of
/// [`erff_small`] on every value, [`LANES`] at a time, then libm's other branches (two `expf`
/// and three divisions) only on the values at or above 0.84375 in magnitude, gathered
/// [`LANES`] at a time. A GELU's inputs are mostly small, so this does about a third of the
/// work of [`erff`], which evaluates every branch on every lane.
#[inline(always)]
pub(crate) fn erff_into(x: &[f32], y: &mut [f32]) {
    let y = &mut y[..x.len()];
    for (x, y) in x.chunks(ERFF_BLOCK).zip(y.chunks_mut(ERFF_BLOCK)) {
        let mut chunks = x.chunks_exact(LANES).zip(y.chunks_exact_mut(LANES));
        for (x, y) in &mut chunks {
            for (y, &x) in y.iter_mut().zip(x) {
                *y = erff_small(x);
            }
        }
        let done = x.len() / LANES * LANES;
        for (y, &x) in y[done..].iter_mut().zip(&x[done..]) {
            *y = erff_small(x);
        }
        // The indices of the other values (NaN and ±∞ among them), without branches.
        let mut wide = [0u16; ERFF_BLOCK];
        let mut n_wide = 0;
        for (i, &x) in x.iter().enumerate() {
            wide[n_wide] = i as u16;
            n_wide += usize::from(x.to_bits() & 0x7fff_ffff >= ERFF_WIDE);
        }
        for idx in wide[..n_wide].chunks(LANES) {
            // Padded with 1 (a value of the same branches; its result is discarded).
            let mut v = [1.0f32; LANES];
            for (v, &i) in v.iter_mut().zip(idx) {
                *v = x[usize::from(i)];
            }
            let mut e = [0.0f32; LANES];
            let mut special = false;
            for (e, &v) in e.iter_mut().zip(&v) {
                *e = erff_wide(v);
                special |= !v.is_finite();
            }
            if special {
                for (e, &v) in e.iter_mut().zip(&v) {
                    if !v.is_finite() {
                        *e = libm::erff(v);
                    }
                }
            }
            for (&i, &e) in idx.iter().zip(&e) {
                y[usize::from(i)] = e;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::{CpuPath, on_path};

    on_path! {
        fn both(x: &[f32; LANES], e: &mut [f32; LANES], f: &mut [f32; LANES]) {
            *e = expf(x);
            *f = erff(x);
        }
    }

    on_path! {
        fn erff_slice(x: &[f32], y: &mut [f32]) {
            erff_into(x, y);
        }
    }

    /// Every value against libm, on every CPU path, 16 at a time.
    fn check(values: &[f32]) {
        for path in CpuPath::supported() {
            crate::cpu::run_on(path, || {
                for chunk in values.chunks(LANES) {
                    let mut x = [0.0f32; LANES];
                    x[..chunk.len()].copy_from_slice(chunk);
                    let (mut e, mut f) = ([0.0; LANES], [0.0; LANES]);
                    both(&x, &mut e, &mut f);
                    for i in 0..LANES {
                        let (want_e, want_f) = (libm::expf(x[i]), libm::erff(x[i]));
                        assert!(
                            e[i].to_bits() == want_e.to_bits(),
                            "{path}: expf({:e} = {:#x}) = {:e}, libm {want_e:e}",
                            x[i],
                            x[i].to_bits(),
                            e[i]
                        );
                        assert!(
                            f[i].to_bits() == want_f.to_bits(),
                            "{path}: erff({:e} = {:#x}) = {:e}, libm {want_f:e}",
                            x[i],
                            x[i].to_bits(),
                            f[i]
                        );
                    }
                }
                // The same values through the gathering slice form, in one call.
                let mut y = vec![0.0f32; values.len()];
                erff_slice(values, &mut y);
                for (&x, &y) in values.iter().zip(&y) {
                    let want = libm::erff(x);
                    assert!(
                        y.to_bits() == want.to_bits(),
                        "{path}: erff_into({x:e} = {:#x}) = {y:e}, libm {want:e}",
                        x.to_bits()
                    );
                }
            });
        }
    }

    #[test]
    fn equal_to_libm_on_a_sweep_of_all_bit_patterns() {
        // Every 4099th pattern (about a million values, both signs, NaNs and infinities).
        let values: Vec<f32> = (0..=u32::MAX / 4099)
            .map(|i| f32::from_bits(i * 4099))
            .collect();
        check(&values);
    }

    #[test]
    fn equal_to_libm_around_every_branch_boundary() {
        let boundaries = [
            0x3900_0000u32,
            0x3eb1_7218,
            0x3f85_1592,
            EXPF_SPECIAL,
            0x42b1_7218,
            0x42cf_f1b5,
            0x3180_0000,
            0x3f58_0000,
            0x3fa0_0000,
            0x4036_db6d,
            0x40c0_0000,
            0x7f80_0000,
            0,
        ];
        let mut values = Vec::new();
        for b in boundaries {
            for d in 0..64u32 {
                for bits in [b.wrapping_add(d), b.wrapping_sub(d)] {
                    values.push(f32::from_bits(bits));
                    values.push(-f32::from_bits(bits));
                }
            }
        }
        check(&values);
    }

    #[test]
    fn equal_to_libm_on_the_values_networks_see() {
        // A fine grid over [−20, 20] (GELU inputs and softmax logits minus their maximum).
        let values: Vec<f32> = (-400_000..=400_000).map(|i| i as f32 * 5e-5).collect();
        check(&values);
    }
}
