//! `synthetic_images`: seeded class templates plus noise, for tests and benchmarks of the
//! convolutional networks without downloads.

use crate::normal::StandardNormal;
use rand::Rng;

use super::{Dataset, ImageShape};
use crate::seeds;

/// `samples` images of `shape`: class `k` has a template `T_k` with values drawn from N(0, 1);
/// example `i` has label `i mod classes` (so every class has ⌊samples/classes⌋ or one more
/// examples; the run's split shuffles them) and values `T_label + noise·ε`, ε ~ N(0, 1) per
/// value. From the seed's `STREAM_DATA` ChaCha8 stream: first the templates (class by class,
/// C×H×W order), then the noise (example by example).
///
/// With `noise` well below 1 the classes are far apart; at `noise` ≈ √(C·H·W) they overlap.
pub(super) fn generate(
    samples: usize,
    shape: ImageShape,
    classes: usize,
    noise: f64,
    seed: u64,
) -> Dataset {
    let mut rng = seeds::rng(seed, seeds::STREAM_DATA);
    let n = shape.n_values();
    let templates: Vec<f64> = (0..classes * n)
        .map(|_| rng.sample::<f64, _>(StandardNormal))
        .collect();
    let mut x = Vec::with_capacity(samples * n);
    let mut y = Vec::with_capacity(samples);
    for i in 0..samples {
        let k = i % classes;
        for t in &templates[k * n..(k + 1) * n] {
            x.push((t + noise * rng.sample::<f64, _>(StandardNormal)) as f32);
        }
        y.push(k as f32);
    }
    Dataset::new("synthetic_images", x, n, y, Some(classes))
        .and_then(|d| d.with_image_shape(shape))
        .expect("generated data is consistent")
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: determinism
mod tests {
    use super::*;

    const SHAPE: ImageShape = ImageShape {
        channels: 3,
        height: 4,
        width: 5,
    };

    #[test]
    fn templates_plus_noise_with_balanced_labels() {
        let d = generate(40, SHAPE, 4, 0.0, 3);
        assert_eq!((d.len(), d.n_features(), d.n_classes()), (40, 60, Some(4)));
        assert_eq!(d.image_shape(), Some(SHAPE));
        // Without noise, every example of a class is its template; templates differ.
        for i in 0..40 {
            assert_eq!(d.targets()[i], (i % 4) as f32);
            assert_eq!(d.row(i), d.row(i % 4));
        }
        assert_ne!(d.row(0), d.row(1));
        // With noise, examples scatter around the same templates (the stream starts with them).
        let noisy = generate(40, SHAPE, 4, 0.5, 3);
        let diff: Vec<f64> = (0..40)
            .flat_map(|i| {
                let (a, b) = (noisy.row(i), d.row(i));
                a.iter()
                    .zip(b)
                    .map(|(a, b)| f64::from(a - b))
                    .collect::<Vec<_>>()
            })
            .collect();
        let m = diff.iter().sum::<f64>() / diff.len() as f64;
        let sd = (diff.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / diff.len() as f64).sqrt();
        assert!(
            m.abs() < 0.05 && (sd - 0.5).abs() < 0.05,
            "mean {m}, sd {sd}"
        );
        assert_eq!(noisy, generate(40, SHAPE, 4, 0.5, 3));
        assert_ne!(noisy.features(), generate(40, SHAPE, 4, 0.5, 4).features());
    }
}
