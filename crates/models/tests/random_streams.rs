//! Regression pins of the random streams: the values the synthetic generators, the batch order
//! and the augmentation draw for given seeds, as the code produced them when these tests were
//! written (f32 bits). They are not correctness oracles (the generators' own tests check what
//! the data are); they make any change of a stream fail the suite instead of silently changing
//! results: a `rand`, `rand_chacha` or `rand_distr` update that changes a sampling algorithm, a
//! new seed derivation (`seeds.rs` streams), or a change in the order of draws.
//!
//! When a change of stream is deliberate, update the pins in the same commit and say which
//! experiments' results change (every experiment on synthetic data, at least).
//! The split's permutation is pinned in `src/data/split.rs` (`the_split_permutation_is_pinned`).

use std::path::Path;

use optbench_models::{
    Augmentation, BatchSize, Batcher, DatasetConfig, ImageShape, augment::augment_batch,
    load_dataset,
};
use rand::SeedableRng;

struct Pin {
    keys: &'static str,
    seed: u64,
    features: &'static [u32],
    targets: &'static [u32],
}

const PINS: &[Pin] = &[
    Pin {
        keys: r#"{"name": "synthetic_regression", "samples": 4, "features": 3, "noise": 0.1}"#,
        seed: 0,
        features: &[
            0xbdbf05b9, 0x3f6904dd, 0xbf43a655, 0xc0324a4b, 0x3efabc29, 0xbf402453, 0xbfb493c5,
            0x3cdcc826, 0xbf0f4fe1, 0xbec8a453, 0xbf37f870, 0xbf9d6215,
        ],
        targets: &[0x3f56128b, 0xc0402ea7, 0xbfcf17c0, 0xbf8da96c],
    },
    Pin {
        keys: r#"{"name": "synthetic_regression", "samples": 4, "features": 3, "noise": 0.1}"#,
        seed: 1,
        features: &[
            0x3f8d6f5f, 0xbf18c98d, 0x3fa3caf4, 0x3f466440, 0x3fa547ce, 0xbf2834d0, 0xbe9f8e12,
            0x4006161d, 0x3d883323, 0x3fbfba9d, 0xbf58b039, 0x3fd49e98,
        ],
        targets: &[0x3f56e725, 0xc09d92c6, 0xc0f263cb, 0x3fe48177],
    },
    Pin {
        keys: r#"{"name": "synthetic_classification", "samples": 6, "features": 2, "classes": 3, "noise": 0.1}"#,
        seed: 0,
        features: &[
            0xbf43a655, 0xc0324a4b, 0x3efabc29, 0xbf402453, 0xbfb493c5, 0x3cdcc826, 0xbf0f4fe1,
            0xbec8a453, 0xbf37f870, 0xbf9d6215, 0xbdd288a1, 0x3f8d3d1f,
        ],
        targets: &[
            0x3f800000, 0x3f800000, 0x40000000, 0x3f800000, 0x3f800000, 0x40000000,
        ],
    },
    Pin {
        keys: r#"{"name": "synthetic_classification", "samples": 6, "features": 2, "classes": 3, "noise": 0.1}"#,
        seed: 7,
        features: &[
            0x3d60379b, 0x3ef48e82, 0x3f1d2254, 0x3f050790, 0xbf66b6fd, 0xc04ce11e, 0xbf897b36,
            0x3db6b5b7, 0xbd12d8c3, 0x3f1b69e6, 0x3ed9294f, 0x3f45307a,
        ],
        targets: &[
            0x40000000, 0x40000000, 0x3f800000, 0x3f800000, 0x00000000, 0x40000000,
        ],
    },
    Pin {
        keys: r#"{"name": "synthetic_images", "samples": 3, "channels": 1, "height": 2, "width": 2, "classes": 2, "noise": 0.5}"#,
        seed: 0,
        features: &[
            0x3fcb96f4, 0x3ee28e5f, 0xbe243c30, 0x3f285b9e, 0xbebf1150, 0x3f36dbc9, 0xbf8fd146,
            0xc059a2d1, 0x3fa5ab2a, 0x3faf4b3c, 0x3e1172d8, 0x3f50b51b,
        ],
        targets: &[0x00000000, 0x3f800000, 0x00000000],
    },
    Pin {
        keys: r#"{"name": "synthetic_images", "samples": 3, "channels": 1, "height": 2, "width": 2, "classes": 2, "noise": 0.5}"#,
        seed: 3,
        features: &[
            0x3fc1b0be, 0xbfe6c99e, 0x3f890cdd, 0x3f7285ac, 0x3fe24e39, 0xc010a1aa, 0xbe3a1094,
            0x39d5ad30, 0x3faccbfb, 0xbfb604ba, 0x3f3643dd, 0x3fa038a8,
        ],
        targets: &[0x00000000, 0x3f800000, 0x00000000],
    },
];

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn synthetic_datasets_are_pinned() {
    for pin in PINS {
        let cfg = DatasetConfig::from_json(&serde_json::from_str(pin.keys).unwrap()).unwrap();
        let d = load_dataset(&cfg, pin.seed, Path::new(".")).unwrap();
        let what = format!("{} seed {}", pin.keys, pin.seed);
        assert_eq!(bits(d.features()), pin.features, "features of {what}");
        assert_eq!(bits(d.targets()), pin.targets, "targets of {what}");
    }
}

#[test]
fn batch_order_is_pinned() {
    for (seed, want) in [
        (0, [vec![0, 7, 4, 3], vec![1, 5, 8, 2], vec![6, 9]]),
        (5, [vec![3, 1, 6, 7], vec![0, 2, 9, 4], vec![5, 8]]),
    ] {
        let mut b = Batcher::new(10, BatchSize::Examples(4), seed);
        let got: Vec<Vec<usize>> = (0..3).map(|_| b.next_batch().to_vec()).collect();
        assert_eq!(got, want, "seed {seed}");
    }
}

#[test]
fn augmentation_draws_are_pinned() {
    // Two 3×3 images (values 0..9 and 9..18), random_crop: 1 then hflip, pad value −1, from a
    // ChaCha8 generator seeded with 0. As drawn: the first image's window starts one column to
    // the right (a padded column enters on the right) and is flipped; the second is only flipped.
    let shape = ImageShape {
        channels: 1,
        height: 3,
        width: 3,
    };
    let src: Vec<f32> = (0..18).map(|i| i as f32).collect();
    let mut dst = vec![0.0; 18];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let list = [
        Augmentation::RandomCrop { padding: 1 },
        Augmentation::HorizontalFlip,
    ];
    augment_batch(&list, shape, &[-1.0], &src, &mut dst, &mut rng);
    let want: [f32; 18] = [
        -1.0, 2.0, 1.0, -1.0, 5.0, 4.0, -1.0, 8.0, 7.0, //
        11.0, 10.0, 9.0, 14.0, 13.0, 12.0, 17.0, 16.0, 15.0,
    ];
    assert_eq!(bits(&dst), bits(&want));
}
