//! Independent ChaCha8 streams derived from one run seed, one per purpose, so that changing how
//! much randomness one part draws never shifts another (same seed → same split, same init,
//! same batches, whatever the optimizer).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub(crate) const STREAM_DATA: u64 = 1;
pub(crate) const STREAM_SPLIT: u64 = 2;
pub(crate) const STREAM_INIT: u64 = 3;
pub(crate) const STREAM_BATCHES: u64 = 4;
pub(crate) const STREAM_NOISE: u64 = 5;
pub(crate) const STREAM_PROBLEM: u64 = 6;
/// The augmentation of training batches (`data::augment`), drawn by the networks that augment.
pub(crate) const STREAM_AUGMENT: u64 = 7;
/// The masks of dropout layers (one seed per layer, `derive`).
pub(crate) const STREAM_DROPOUT: u64 = 8;
/// The offsets of a language model's training windows in a text (`data::text`).
pub(crate) const STREAM_WINDOWS: u64 = 9;

/// The ChaCha8 generator for `seed` and `stream`.
pub(crate) fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

/// A seed for part `index` of `stream` (e.g. the mask stream of the `index`-th dropout layer).
pub(crate) fn derive(seed: u64, stream: u64, index: u64) -> u64 {
    use rand::RngCore;
    rng(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15), stream).next_u64()
}
