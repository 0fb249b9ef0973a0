//! One run's view of a dataset: the seeded train/test split and the standardization with the
//! training split's statistics.

use rand::seq::SliceRandom;

use super::{Dataset, ImageShape};
use crate::seeds;

/// One run's view of the data: the seeded train/test split, features standardized with the
/// training statistics (per feature for tabular data, per channel for images, as
/// `torchvision.transforms.Normalize(mean, std)` with the training set's channel statistics);
/// targets unchanged.
#[derive(Clone, Debug)]
pub(crate) struct Split {
    pub n_features: usize,
    pub n_classes: Option<usize>,
    pub x_train: Vec<f32>,
    pub y_train: Vec<f32>,
    pub x_test: Vec<f32>,
    pub y_test: Vec<f32>,
    /// The shape of each example when the data are images.
    #[allow(dead_code, reason = "read by the convolutional networks, in progress")]
    pub image_shape: Option<ImageShape>,
    /// Per channel of images, the value a raw 0 (black) pixel has after standardization: the
    /// padding of `random_crop` ([`super::augment::augment_batch`]'s `pad`). Empty for tabular
    /// data.
    #[allow(dead_code, reason = "read by the convolutional networks, in progress")]
    pub pad: Vec<f32>,
}

impl Split {
    /// Splits `data`: a seeded permutation of its examples; the first `round(n · test_fraction)`
    /// (at least 1 when `test_fraction > 0`, and leaving at least 1 for training) are the test
    /// set. When `data` has an [official test split](Dataset::official_test), that is the test
    /// set (in its file order), every example of `data` is for training (in the seeded order),
    /// and `test_fraction` is not used (configurations reject it).
    pub fn new(data: &Dataset, test_fraction: f64, standardize: bool, seed: u64) -> Self {
        let n = data.len();
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut seeds::rng(seed, seeds::STREAM_SPLIT));
        let ((mut x_train, y_train), (mut x_test, y_test)) = match data.official_test() {
            Some(test) => (
                gather(data, &order),
                (test.features().to_vec(), test.targets().to_vec()),
            ),
            None => {
                let mut n_test = (n as f64 * test_fraction).round() as usize;
                if test_fraction > 0.0 && n_test == 0 {
                    n_test = 1;
                }
                n_test = n_test.min(n.saturating_sub(1));
                let (test_idx, train_idx) = order.split_at(n_test);
                (gather(data, train_idx), gather(data, test_idx))
            }
        };
        let d = data.n_features();
        let mut pad = vec![0.0f32; data.image_shape().map_or(0, |s| s.channels)];
        if standardize && !y_train.is_empty() {
            let (mean, inv_std) = match data.image_shape() {
                None => column_stats(&x_train, d),
                Some(shape) => channel_stats(&x_train, shape),
            };
            let standardized = |v: f32, i: usize| ((f64::from(v) - mean[i]) * inv_std[i]) as f32;
            for x in [&mut x_train, &mut x_test] {
                for row in x.chunks_exact_mut(d) {
                    for (i, v) in row.iter_mut().enumerate() {
                        *v = standardized(*v, i);
                    }
                }
            }
            let plane = data.image_shape().map_or(0, |s| s.plane());
            for (c, p) in pad.iter_mut().enumerate() {
                *p = standardized(0.0, c * plane);
            }
        }
        Split {
            n_features: d,
            n_classes: data.n_classes(),
            image_shape: data.image_shape(),
            pad,
            x_train,
            y_train,
            x_test,
            y_test,
        }
    }

    pub fn train_len(&self) -> usize {
        self.y_train.len()
    }
}

/// The features (row-major) and targets of the examples `idx` of `data`, in that order.
fn gather(data: &Dataset, idx: &[usize]) -> (Vec<f32>, Vec<f32>) {
    let mut x = Vec::with_capacity(idx.len() * data.n_features());
    let mut y = Vec::with_capacity(idx.len());
    for &i in idx {
        x.extend_from_slice(data.row(i));
        y.push(data.targets()[i]);
    }
    (x, y)
}

/// Column means and 1/std (population std, in f64; 1 for constant columns).
fn column_stats(x: &[f32], d: usize) -> (Vec<f64>, Vec<f64>) {
    let n = (x.len() / d) as f64;
    let mut mean = vec![0.0f64; d];
    for row in x.chunks_exact(d) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += f64::from(*v);
        }
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = vec![0.0f64; d];
    for row in x.chunks_exact(d) {
        for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
            let c = f64::from(*v) - m;
            *s += c * c;
        }
    }
    let inv_std = var.iter().map(|s| inv_std(*s, n)).collect();
    (mean, inv_std)
}

/// 1 / the population std from a sum of squared deviations over `n` values; 1 when the values
/// are constant.
fn inv_std(sum_sq: f64, n: f64) -> f64 {
    let sd = (sum_sq / n).sqrt();
    if sd > 1e-12 { 1.0 / sd } else { 1.0 }
}

/// Per-channel means and 1/std (population std over every value of the channel in every image,
/// in f64; 1 for a constant channel), each repeated for the H·W features of its channel so that
/// they apply as [`column_stats`]' do.
fn channel_stats(x: &[f32], shape: ImageShape) -> (Vec<f64>, Vec<f64>) {
    let (c, plane) = (shape.channels, shape.plane());
    let n = (x.len() / c) as f64;
    let mut mean = vec![0.0f64; c];
    for (i, values) in x.chunks_exact(plane).enumerate() {
        mean[i % c] += values.iter().map(|&v| f64::from(v)).sum::<f64>();
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = vec![0.0f64; c];
    for (i, values) in x.chunks_exact(plane).enumerate() {
        let m = mean[i % c];
        var[i % c] += values
            .iter()
            .map(|&v| (f64::from(v) - m) * (f64::from(v) - m))
            .sum::<f64>();
    }
    let repeat = |per_channel: Vec<f64>| -> Vec<f64> {
        per_channel
            .into_iter()
            .flat_map(|v| std::iter::repeat_n(v, plane))
            .collect()
    };
    let inv = var.iter().map(|s| inv_std(*s, n)).collect();
    (repeat(mean), repeat(inv))
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: determinism, exact copies
mod tests {
    use super::*;

    fn toy(n: usize) -> Dataset {
        let x: Vec<f32> = (0..n * 2).map(|i| i as f32).collect();
        let y: Vec<f32> = (0..n).map(|i| (i % 2) as f32).collect();
        Dataset::new("toy", x, 2, y, Some(2)).unwrap()
    }

    #[test]
    fn split_sizes_and_seeding() {
        let d = toy(10);
        let s = Split::new(&d, 0.2, false, 1);
        assert_eq!((s.train_len(), s.y_test.len()), (8, 2));
        let s2 = Split::new(&d, 0.2, false, 1);
        assert_eq!(s.x_test, s2.x_test);
        let s3 = Split::new(&d, 0.2, false, 2);
        assert_ne!(s.x_train, s3.x_train);
        // Rows stay together with their targets.
        for (row, y) in s.x_train.chunks(2).zip(&s.y_train) {
            assert_eq!(((row[0] / 2.0) as usize % 2) as f32, *y);
        }
        assert_eq!(Split::new(&d, 0.0, false, 1).y_test.len(), 0);
        assert_eq!(Split::new(&toy(3), 0.01, false, 1).y_test.len(), 1);
    }

    #[test]
    fn standardization_uses_training_statistics() {
        let s = Split::new(&toy(50), 0.2, true, 3);
        let (mean, inv_std) = column_stats(&s.x_train, 2);
        for (m, is) in mean.iter().zip(&inv_std) {
            assert!(m.abs() < 1e-5, "{m}");
            assert!((is - 1.0).abs() < 1e-4, "{is}");
        }
        // Test features use the same transformation: not exactly zero-mean.
        let (tm, _) = column_stats(&s.x_test, 2);
        assert!(tm[0].abs() > 1e-6);
    }

    #[test]
    fn images_are_standardized_per_channel() {
        // Two channels of 2×2: channel 0 holds 0..4 shifted by the example, channel 1 is 10×.
        let shape = ImageShape {
            channels: 2,
            height: 2,
            width: 2,
        };
        let n = 20;
        let x: Vec<f32> = (0..n)
            .flat_map(|i| {
                let c0: Vec<f32> = (0..4).map(|p| (i + p) as f32).collect();
                let c1: Vec<f32> = c0.iter().map(|v| 10.0 * v + 5.0).collect();
                c0.into_iter().chain(c1)
            })
            .collect();
        let y = vec![0.0; n];
        let data = Dataset::new("img", x, 8, y, Some(2))
            .unwrap()
            .with_image_shape(shape)
            .unwrap();
        let s = Split::new(&data, 0.25, true, 0);
        assert_eq!(s.image_shape, Some(shape));
        // Oracle: the statistics of each channel over all its training values, computed here
        // from the definition.
        for c in 0..2 {
            let values: Vec<f64> = s
                .x_train
                .chunks(4)
                .skip(c)
                .step_by(2)
                .flatten()
                .map(|&v| f64::from(v))
                .collect();
            let m = values.iter().sum::<f64>() / values.len() as f64;
            let var = values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / values.len() as f64;
            assert!(m.abs() < 1e-6, "channel {c}: mean {m}");
            assert!((var - 1.0).abs() < 1e-5, "channel {c}: variance {var}");
        }
        // Per channel, not per feature: the four pixels of a channel keep their differences.
        let first = &s.x_train[..4];
        assert!(first[1] > first[0] && first[3] > first[2], "{first:?}");
    }

    #[test]
    fn an_official_test_split_is_the_test_set() {
        let shape = ImageShape {
            channels: 1,
            height: 1,
            width: 2,
        };
        let train = toy(10).with_image_shape(shape).unwrap();
        let test = Dataset::new(
            "t",
            vec![100.0, 101.0, 102.0, 103.0],
            2,
            vec![1.0, 0.0],
            Some(2),
        )
        .unwrap()
        .with_image_shape(shape)
        .unwrap();
        let data = train.with_official_test(test).unwrap();
        let s = Split::new(&data, 0.0, false, 4);
        assert_eq!((s.train_len(), s.y_test.len()), (10, 2));
        assert_eq!(s.x_test, [100.0, 101.0, 102.0, 103.0]);
        assert_eq!(s.y_test, [1.0, 0.0]);
        // Training examples in the seed's order, all of them.
        let mut firsts: Vec<f32> = s.x_train.chunks(2).map(|r| r[0]).collect();
        assert_ne!(firsts, (0..10).map(|i| 2.0 * i as f32).collect::<Vec<_>>());
        firsts.sort_by(f32::total_cmp);
        assert_eq!(firsts, (0..10).map(|i| 2.0 * i as f32).collect::<Vec<_>>());
        // Standardized with the training statistics only: one channel of values 0..20, mean
        // 9.5, population variance (20² − 1)/12.
        let s = Split::new(&data, 0.0, true, 4);
        let (m, sd) = (9.5f64, ((400.0f64 - 1.0) / 12.0).sqrt());
        assert!((f64::from(s.x_test[0]) - (100.0 - m) / sd).abs() < 1e-5);
        assert!(
            (f64::from(s.pad[0]) - (0.0 - m) / sd).abs() < 1e-6,
            "{:?}",
            s.pad
        );
    }

    /// Regression pin of the split's random stream (see tests/random_streams.rs): the test
    /// examples that seeds 0 and 1 hold out of 10, as the code drew them when this was written.
    #[test]
    fn the_split_permutation_is_pinned() {
        for (seed, want) in [(0, [9usize, 1, 8]), (1, [7, 1, 6])] {
            let s = Split::new(&toy(10), 0.3, false, seed);
            let held_out: Vec<usize> = s.x_test.chunks(2).map(|r| r[0] as usize / 2).collect();
            assert_eq!(held_out, want, "seed {seed}");
        }
    }
}
