//! Seeded augmentation of training images: random crops of the zero-padded image and horizontal
//! flips, the CIFAR recipe of He et al. 2016 ("Deep Residual Learning for Image Recognition",
//! §4.2: "4 pixels are padded on each side, and a 32×32 crop is randomly sampled from the padded
//! image or its horizontal flip"), in PyTorch
//! `transforms.Compose([RandomCrop(32, padding=4), RandomHorizontalFlip()])`.
//!
//! The functions work on a gathered batch (`src` images → `dst` images, C×H×W row-major one
//! after the other) with a caller-provided random generator, and never allocate, so a training
//! step can call them. They are written here rather than taken from a crate because the image
//! crates (`image`, `imageproc`) work on single 8-bit images with their own random draws; a
//! step needs f32 batches, the run's seeded stream and no allocation.
//!
//! Random draws come from [`RngCore::next_u32`] only (a ChaCha8 word per draw), mapped to a range
//! by a widening multiply, so no change in `rand`'s range sampling can change an augmented
//! batch. Per image, the draws are made in the order of the list: `random_crop` draws the row
//! offset then the column offset (each uniform in `0..=2·padding`), `hflip` draws one word (flip
//! when its top bit is 1, probability 1/2).

use rand::RngCore;
use serde_json::{Value, json};

use super::ImageShape;

/// Largest `random_crop` padding accepted in configurations.
pub const MAX_CROP_PADDING: usize = 64;

/// One augmentation of training images, as written in a dataset's `augment` list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Augmentation {
    /// `random_crop: P`: pad each side with `padding` pixels of value zero (in the raw image, see
    /// [`augment_batch`]'s `pad`), then crop an H×W window at a uniformly random offset, as
    /// `torchvision.transforms.RandomCrop((H, W), padding=P)`.
    RandomCrop {
        /// Pixels added on each side before cropping.
        padding: usize,
    },
    /// `hflip`: mirror the image left–right with probability 1/2, as
    /// `torchvision.transforms.RandomHorizontalFlip()`.
    HorizontalFlip,
}

impl Augmentation {
    /// The names written in YAML.
    pub const NAMES: &'static [&'static str] = &["random_crop", "hflip"];

    /// The YAML name.
    pub fn name(self) -> &'static str {
        match self {
            Augmentation::RandomCrop { .. } => "random_crop",
            Augmentation::HorizontalFlip => "hflip",
        }
    }
}

impl Augmentation {
    /// Parses a dataset's `augment` value: a list of `hflip` and `{random_crop: P}` items (YAML
    /// `[random_crop: 4, hflip]`), each at most once, `P` in 1..=[`MAX_CROP_PADDING`]. The error
    /// is a message to follow the key's name.
    pub(crate) fn list_from_json(v: &Value) -> Result<Vec<Augmentation>, String> {
        let items = v
            .as_array()
            .ok_or_else(|| format!("must be a list such as [random_crop: 4, hflip], found {v}"))?;
        let mut out: Vec<Augmentation> = Vec::new();
        for item in items {
            let (name, arg) = match item {
                Value::String(s) => (s.as_str(), None),
                Value::Object(m) if m.len() == 1 => {
                    let (k, a) = m.iter().next().expect("one entry");
                    (k.as_str(), Some(a))
                }
                _ => {
                    return Err(format!(
                        "items are `hflip` or `random_crop: P`, found {item}"
                    ));
                }
            };
            let a = match (name, arg) {
                ("hflip", None) => Augmentation::HorizontalFlip,
                ("random_crop", Some(p)) => Augmentation::RandomCrop {
                    padding: p
                        .as_u64()
                        .and_then(|p| usize::try_from(p).ok())
                        .filter(|p| (1..=MAX_CROP_PADDING).contains(p))
                        .ok_or_else(|| {
                            format!(
                                "random_crop's padding must be an integer in \
                                 1..={MAX_CROP_PADDING}, found {p}"
                            )
                        })?,
                },
                ("random_crop", None) => {
                    return Err(
                        "random_crop needs its padding in pixels, e.g. `random_crop: 4`".into(),
                    );
                }
                ("hflip", Some(_)) => return Err("hflip takes no value: write `hflip`".into()),
                _ => {
                    return Err(format!(
                        "has no augmentation `{name}`; valid: random_crop: P, hflip"
                    ));
                }
            };
            if out.iter().any(|b| b.name() == a.name()) {
                return Err(format!("lists `{}` twice", a.name()));
            }
            out.push(a);
        }
        Ok(out)
    }

    /// The list as written in YAML (`[{"random_crop": 4}, "hflip"]`), for canonical JSON.
    pub(crate) fn list_to_json(list: &[Augmentation]) -> Value {
        Value::Array(
            list.iter()
                .map(|a| match a {
                    Augmentation::RandomCrop { padding } => json!({ "random_crop": padding }),
                    Augmentation::HorizontalFlip => json!("hflip"),
                })
                .collect(),
        )
    }
}

/// One image's random parameters, in the order of the list.
#[derive(Clone, Copy)]
enum Drawn {
    Crop {
        padding: usize,
        dy: usize,
        dx: usize,
    },
    Flip(bool),
}

/// Uniform integer in `0..n` from one 32-bit word (widening multiply, Lemire 2019, without the
/// rejection step: the bias is below n / 2³², immaterial for offsets of a few pixels).
fn below(rng: &mut impl RngCore, n: usize) -> usize {
    ((u64::from(rng.next_u32()) * n as u64) >> 32) as usize
}

/// Applies `augmentations` (in list order, as `transforms.Compose`) to each image of `src`,
/// writing `dst`, with each image's random parameters drawn from `rng`.
///
/// `pad[c]` is the value a padded pixel of channel `c` takes: the standardized value of a raw 0
/// when the images are standardized (so padding is black in the raw image, as torchvision pads
/// before `Normalize`); an empty `pad` pads with 0. An empty list copies `src`.
///
/// # Panics
///
/// If `src` and `dst` differ in length, their length is not a multiple of
/// `shape.n_values()`, `pad` is neither empty nor one value per channel, or the list has more than
/// 4 entries: these are the caller's bugs, not user input.
pub fn augment_batch(
    augmentations: &[Augmentation],
    shape: ImageShape,
    pad: &[f32],
    src: &[f32],
    dst: &mut [f32],
    rng: &mut impl RngCore,
) {
    let size = shape.n_values();
    assert!(
        src.len() == dst.len() && size > 0 && src.len() % size == 0,
        "augment_batch: src {} and dst {} values, images of {size}",
        src.len(),
        dst.len()
    );
    assert!(
        pad.is_empty() || pad.len() == shape.channels,
        "augment_batch: {} pad values for {} channels",
        pad.len(),
        shape.channels
    );
    assert!(
        augmentations.len() <= 4,
        "augment_batch: at most 4 augmentations"
    );
    let mut drawn = [Drawn::Flip(false); 4];
    for (image, out) in src.chunks_exact(size).zip(dst.chunks_exact_mut(size)) {
        for (d, a) in drawn.iter_mut().zip(augmentations) {
            *d = match *a {
                Augmentation::RandomCrop { padding } => {
                    let dy = below(rng, 2 * padding + 1);
                    let dx = below(rng, 2 * padding + 1);
                    Drawn::Crop { padding, dy, dx }
                }
                Augmentation::HorizontalFlip => Drawn::Flip(rng.next_u32() >> 31 == 1),
            };
        }
        transform_image(&drawn[..augmentations.len()], shape, pad, image, out);
    }
}

/// `random_crop: padding` alone (see [`augment_batch`]).
pub fn random_crop(
    padding: usize,
    shape: ImageShape,
    pad: &[f32],
    src: &[f32],
    dst: &mut [f32],
    rng: &mut impl RngCore,
) {
    augment_batch(
        &[Augmentation::RandomCrop { padding }],
        shape,
        pad,
        src,
        dst,
        rng,
    );
}

/// `hflip` alone (see [`augment_batch`]).
pub fn hflip(shape: ImageShape, src: &[f32], dst: &mut [f32], rng: &mut impl RngCore) {
    augment_batch(&[Augmentation::HorizontalFlip], shape, &[], src, dst, rng);
}

/// Writes one transformed image: each output pixel maps back through the list, last
/// transformation first, to a source pixel or to the padding.
fn transform_image(drawn: &[Drawn], shape: ImageShape, pad: &[f32], src: &[f32], dst: &mut [f32]) {
    let (h, w) = (shape.height as isize, shape.width as isize);
    let plane = shape.plane();
    for (c, out) in dst.chunks_exact_mut(plane).enumerate() {
        let image = &src[c * plane..(c + 1) * plane];
        let fill = pad.get(c).copied().unwrap_or(0.0);
        for y in 0..h {
            for x in 0..w {
                let (mut sy, mut sx, mut inside) = (y, x, true);
                for d in drawn.iter().rev() {
                    match *d {
                        Drawn::Flip(true) => sx = w - 1 - sx,
                        Drawn::Flip(false) => {}
                        Drawn::Crop { padding, dy, dx } => {
                            sy += dy as isize - padding as isize;
                            sx += dx as isize - padding as isize;
                            inside &= (0..h).contains(&sy) && (0..w).contains(&sx);
                        }
                    }
                    if !inside {
                        break;
                    }
                }
                out[(y * w + x) as usize] = if inside {
                    image[(sy * w + sx) as usize]
                } else {
                    fill
                };
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: augmentation copies values
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    const SHAPE: ImageShape = ImageShape {
        channels: 2,
        height: 5,
        width: 4,
    };

    fn batch(n: usize) -> Vec<f32> {
        (0..n * SHAPE.n_values()).map(|i| i as f32 + 0.5).collect()
    }

    /// The recipe written out as torchvision does it: materialize the zero-padded image, cut the
    /// window at (top, left), then mirror the rows of the window.
    fn pad_crop_flip(image: &[f32], p: usize, top: usize, left: usize, flip: bool) -> Vec<f32> {
        let (h, w) = (SHAPE.height, SHAPE.width);
        let (ph, pw) = (h + 2 * p, w + 2 * p);
        let pad = [-1.5f32, 2.25];
        let mut out = Vec::new();
        for c in 0..SHAPE.channels {
            let mut padded = vec![pad[c]; ph * pw];
            for y in 0..h {
                for x in 0..w {
                    padded[(y + p) * pw + x + p] = image[(c * h + y) * w + x];
                }
            }
            for y in 0..h {
                let row: Vec<f32> = (0..w).map(|x| padded[(y + top) * pw + x + left]).collect();
                if flip {
                    out.extend(row.iter().rev());
                } else {
                    out.extend(row);
                }
            }
        }
        out
    }

    /// The documented draws: offsets ⌊word·(2p+1)/2³²⌋, flip on the top bit.
    fn offset(rng: &mut ChaCha8Rng, p: usize) -> usize {
        ((u64::from(rng.next_u32()) * (2 * p as u64 + 1)) >> 32) as usize
    }

    #[test]
    fn crop_then_flip_is_torchvision_pad_crop_flip() {
        let (n, p) = (40, 2);
        let src = batch(n);
        let mut dst = vec![0.0; src.len()];
        let list = [
            Augmentation::RandomCrop { padding: p },
            Augmentation::HorizontalFlip,
        ];
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut replay = rng.clone();
        augment_batch(&list, SHAPE, &[-1.5, 2.25], &src, &mut dst, &mut rng);
        let (mut flips, mut offsets) = (0, [0usize; 5]);
        for (image, out) in src
            .chunks(SHAPE.n_values())
            .zip(dst.chunks(SHAPE.n_values()))
        {
            let (top, left) = (offset(&mut replay, p), offset(&mut replay, p));
            let flip = replay.next_u32() >> 31 == 1;
            assert_eq!(out, pad_crop_flip(image, p, top, left, flip));
            flips += usize::from(flip);
            offsets[top] += 1;
        }
        // Every offset and both flip outcomes occur in 40 images.
        assert!((8..=32).contains(&flips), "{flips}");
        assert!(offsets.iter().all(|&k| k > 0), "{offsets:?}");
    }

    #[test]
    fn flip_then_crop_composes_in_list_order() {
        let src = batch(10);
        let mut dst = vec![0.0; src.len()];
        let list = [
            Augmentation::HorizontalFlip,
            Augmentation::RandomCrop { padding: 1 },
        ];
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut replay = rng.clone();
        augment_batch(&list, SHAPE, &[-1.5, 2.25], &src, &mut dst, &mut rng);
        for (image, out) in src
            .chunks(SHAPE.n_values())
            .zip(dst.chunks(SHAPE.n_values()))
        {
            let flip = replay.next_u32() >> 31 == 1;
            let (top, left) = (offset(&mut replay, 1), offset(&mut replay, 1));
            // Flipping first and cropping at `left` is cropping the mirrored padded image,
            // i.e. cropping the original at 2p − left, then mirroring.
            let want = pad_crop_flip(image, 1, top, if flip { 2 - left } else { left }, flip);
            assert_eq!(out, want);
        }
    }

    #[test]
    fn single_augmentations_and_the_empty_list() {
        let src = batch(3);
        let mut dst = vec![0.0; src.len()];
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        augment_batch(&[], SHAPE, &[], &src, &mut dst, &mut rng);
        assert_eq!(dst, src);
        let mut replay = rng.clone();
        hflip(SHAPE, &src, &mut dst, &mut rng);
        for (image, out) in src
            .chunks(SHAPE.n_values())
            .zip(dst.chunks(SHAPE.n_values()))
        {
            let flip = replay.next_u32() >> 31 == 1;
            let want: Vec<f32> = image
                .chunks(SHAPE.width)
                .flat_map(|row| {
                    let mut r = row.to_vec();
                    if flip {
                        r.reverse();
                    }
                    r
                })
                .collect();
            assert_eq!(out, want);
        }
        let mut replay = rng.clone();
        random_crop(3, SHAPE, &[], &src, &mut dst, &mut rng);
        let (top, left) = (offset(&mut replay, 3), offset(&mut replay, 3));
        let want = pad_crop_flip(&src[..SHAPE.n_values()], 3, top, left, false);
        // Padding with an empty `pad` is 0.
        let want: Vec<f32> = want
            .iter()
            .map(|&v| if v == -1.5 || v == 2.25 { 0.0 } else { v })
            .collect();
        assert_eq!(&dst[..SHAPE.n_values()], &want[..]);
    }

    #[test]
    fn lists_parse_from_yaml_values() {
        let ok = Augmentation::list_from_json(&json!([{"random_crop": 4}, "hflip"])).unwrap();
        assert_eq!(
            ok,
            [
                Augmentation::RandomCrop { padding: 4 },
                Augmentation::HorizontalFlip
            ]
        );
        assert_eq!(
            Augmentation::list_to_json(&ok),
            json!([{"random_crop": 4}, "hflip"])
        );
        for (bad, says) in [
            (json!("hflip"), "must be a list"),
            (json!(["hflp"]), "no augmentation `hflp`"),
            (json!(["random_crop"]), "needs its padding"),
            (json!([{"random_crop": 0}]), "1..=64"),
            (json!([{"random_crop": 2.5}]), "1..=64"),
            (json!(["hflip", "hflip"]), "twice"),
            (json!([{"hflip": true}]), "takes no value"),
            (json!([1]), "items are"),
        ] {
            let e = Augmentation::list_from_json(&bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
