//! Synthetic data generated from the seed with ndarray-rand (ChaCha8 stream `STREAM_DATA`).

use crate::normal::StandardNormal;
use ndarray::{Array1, Array2};
use ndarray_rand::RandomExt;

use super::Dataset;
use crate::seeds;

/// `samples` examples x ~ N(0, I_features), y = x·w + b + noise·ε with w ~ N(0, I), b ~ N(0, 1),
/// ε ~ N(0, 1).
pub(super) fn regression(samples: usize, features: usize, noise: f64, seed: u64) -> Dataset {
    let mut rng = seeds::rng(seed, seeds::STREAM_DATA);
    let w: Array1<f64> = Array1::random_using(features, StandardNormal, &mut rng);
    let b: f64 = Array1::<f64>::random_using(1, StandardNormal, &mut rng)[0];
    let x: Array2<f64> = Array2::random_using((samples, features), StandardNormal, &mut rng);
    let eps: Array1<f64> = Array1::random_using(samples, StandardNormal, &mut rng);
    let y = x.dot(&w) + b + eps * noise;
    Dataset::new(
        "synthetic_regression",
        x.iter().map(|&v| v as f32).collect(),
        features,
        y.iter().map(|&v| v as f32).collect(),
        None,
    )
    .expect("generated data is consistent")
}

/// `samples` examples x ~ N(0, I_features) with label argmax_k (x·W + noise·E)_k, W ~ N(0, I),
/// E ~ N(0, I): linearly separable when `noise` is 0, increasingly overlapping as it grows.
pub(super) fn classification(
    samples: usize,
    features: usize,
    classes: usize,
    noise: f64,
    seed: u64,
) -> Dataset {
    let mut rng = seeds::rng(seed, seeds::STREAM_DATA);
    let w: Array2<f64> = Array2::random_using((features, classes), StandardNormal, &mut rng);
    let x: Array2<f64> = Array2::random_using((samples, features), StandardNormal, &mut rng);
    let e: Array2<f64> = Array2::random_using((samples, classes), StandardNormal, &mut rng);
    let scores = x.dot(&w) + e * noise;
    let y = scores
        .rows()
        .into_iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .fold((0usize, f64::NEG_INFINITY), |(bi, bv), (i, &v)| {
                    if v > bv { (i, v) } else { (bi, bv) }
                })
                .0 as f32
        })
        .collect();
    Dataset::new(
        "synthetic_classification",
        x.iter().map(|&v| v as f32).collect(),
        features,
        y,
        Some(classes),
    )
    .expect("generated data is consistent")
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: determinism, exact copies
mod tests {
    use super::*;

    #[test]
    fn regression_is_seeded_and_linear() {
        let a = regression(200, 3, 0.0, 5);
        assert_eq!(a, regression(200, 3, 0.0, 5));
        assert_ne!(a.features(), regression(200, 3, 0.0, 6).features());
        // Noise-free targets are exactly linear: solve for w, b from 4 rows and check the rest.
        // Differences of rows remove b; check that the residual variance of a least-squares fit
        // is ~0 via the normal equations in f64.
        let n = a.len();
        let mut xtx = [[0.0f64; 4]; 4];
        let mut xty = [0.0f64; 4];
        for i in 0..n {
            let r = a.row(i);
            let v = [f64::from(r[0]), f64::from(r[1]), f64::from(r[2]), 1.0];
            for p in 0..4 {
                xty[p] += v[p] * f64::from(a.targets()[i]);
                for q in 0..4 {
                    xtx[p][q] += v[p] * v[q];
                }
            }
        }
        let beta = crate::testutil::solve(xtx.iter().map(|r| r.to_vec()).collect(), xty.to_vec());
        let max_res = (0..n)
            .map(|i| {
                let r = a.row(i);
                let pred = (0..3).map(|j| beta[j] * f64::from(r[j])).sum::<f64>() + beta[3];
                (pred - f64::from(a.targets()[i])).abs()
            })
            .fold(0.0, f64::max);
        assert!(max_res < 1e-4, "{max_res}");
    }

    #[test]
    fn classification_labels_cover_classes() {
        let c = classification(500, 4, 3, 0.1, 1);
        assert_eq!(c.n_classes(), Some(3));
        for k in 0..3 {
            assert!(
                c.targets().iter().any(|&t| t as usize == k),
                "class {k} missing"
            );
        }
        assert_eq!(c, classification(500, 4, 3, 0.1, 1));
    }
}
