//! Mini-batch order: full batch, SGD and mini-batches reshuffled each epoch from the seed.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Batch size as written in YAML: `full` or a number of examples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BatchSize {
    /// All training examples in every step (gradient descent).
    Full,
    /// This many examples per step (1 = SGD).
    Examples(usize),
}

/// Hands out batches of training indices.
///
/// Each epoch is a fresh permutation of `0..train_len` drawn from the seed (ChaCha8, so the
/// order is the same on every platform and for every optimizer), cut into batches of the given
/// size; the last, partial batch is kept, as torch's `DataLoader(shuffle=True,
/// drop_last=False)`. A full batch is all indices in order, every step.
///
/// ```
/// use optbench_models::{BatchSize, Batcher};
/// let mut b = Batcher::new(10, BatchSize::Examples(4), 7);
/// assert_eq!(b.batches_per_epoch(), 3);
/// let mut seen: Vec<usize> = Vec::new();
/// for _ in 0..3 {
///     seen.extend_from_slice(b.next_batch());
/// }
/// assert_eq!(b.epoch(), 1.0);
/// seen.sort();
/// assert_eq!(seen, (0..10).collect::<Vec<_>>());
/// ```
#[derive(Clone, Debug)]
pub struct Batcher {
    order: Vec<usize>,
    batch: usize,
    shuffle: bool,
    rng: ChaCha8Rng,
    /// Start of the next batch in `order`.
    pos: usize,
    /// Examples handed out so far.
    served: u64,
    current: std::ops::Range<usize>,
}

impl Batcher {
    /// A batcher over `train_len` examples. `Examples(n)` with `n ≥ train_len` is a full batch
    /// (in order); `Examples(0)` is treated as 1. The runner rejects such sizes before.
    pub fn new(train_len: usize, batch: BatchSize, seed: u64) -> Self {
        let train_len = train_len.max(1);
        let (batch, shuffle) = match batch {
            BatchSize::Full => (train_len, false),
            BatchSize::Examples(n) if n >= train_len => (train_len, false),
            BatchSize::Examples(n) => (n.max(1), true),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(crate::seeds::STREAM_BATCHES);
        Batcher {
            order: (0..train_len).collect(),
            batch,
            shuffle,
            rng,
            pos: train_len,
            served: 0,
            current: 0..0,
        }
    }

    /// The next batch of indices into the training split.
    pub fn next_batch(&mut self) -> &[usize] {
        if self.pos >= self.order.len() {
            if self.shuffle {
                self.order.shuffle(&mut self.rng);
            }
            self.pos = 0;
        }
        let end = (self.pos + self.batch).min(self.order.len());
        self.current = self.pos..end;
        self.pos = end;
        self.served += (end - self.current.start) as u64;
        &self.order[self.current.clone()]
    }

    /// Epochs done so far, fractional: examples handed out / training-set size.
    pub fn epoch(&self) -> f64 {
        self.served as f64 / self.order.len() as f64
    }

    /// Batches in one epoch (the last may be partial).
    pub fn batches_per_epoch(&self) -> usize {
        self.order.len().div_ceil(self.batch)
    }

    /// Examples per (full) batch.
    pub fn batch_len(&self) -> usize {
        self.batch
    }

    /// Examples handed out so far.
    pub fn examples_served(&self) -> u64 {
        self.served
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: determinism, exact copies
mod tests {
    use super::*;

    #[test]
    fn full_batch_is_in_order_every_step() {
        let mut b = Batcher::new(5, BatchSize::Full, 1);
        for _ in 0..3 {
            assert_eq!(b.next_batch(), &[0, 1, 2, 3, 4]);
        }
        assert_eq!(b.batches_per_epoch(), 1);
        assert!((b.epoch() - 3.0).abs() < 1e-12);
    }

    #[test]
    fn last_partial_batch_is_kept_and_epochs_reshuffle() {
        let mut b = Batcher::new(7, BatchSize::Examples(3), 42);
        let sizes: Vec<usize> = (0..6).map(|_| b.next_batch().len()).collect();
        assert_eq!(sizes, [3, 3, 1, 3, 3, 1]);
        let mut b = Batcher::new(100, BatchSize::Examples(100 - 1), 42);
        let first = b.next_batch().to_vec();
        b.next_batch();
        let second = b.next_batch().to_vec();
        assert_ne!(first, second, "epochs should be reshuffled");
    }

    #[test]
    fn same_seed_same_order_other_seed_other_order() {
        let run = |seed| {
            let mut b = Batcher::new(50, BatchSize::Examples(8), seed);
            (0..20)
                .flat_map(|_| b.next_batch().to_vec())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }

    #[test]
    fn every_epoch_is_a_permutation() {
        let mut b = Batcher::new(23, BatchSize::Examples(5), 9);
        for _ in 0..4 {
            let mut seen: Vec<usize> = (0..b.batches_per_epoch())
                .flat_map(|_| b.next_batch().to_vec())
                .collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..23).collect::<Vec<_>>());
        }
    }
}
