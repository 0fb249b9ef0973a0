//! `text`: a language model over a UTF-8 text file the user names, as nanoGPT's
//! `shakespeare_char` and `get_batch` do it.
//!
//! **Tokens.** `tokens: byte` (vocabulary 256, any file) or `tokens: char` (the file must be
//! UTF-8; the vocabulary is its distinct characters in code-point order, as nanoGPT's
//! `sorted(set(text))`, saved with the results so that token ids can be read back).
//!
//! **Split.** Contiguous: the first `1 − test_fraction` of the tokens (default 90%) train, the
//! rest test.
//!
//! **Batches** ([`TextWindows`]). A training example is a window of `context + 1` tokens at an
//! offset drawn uniformly from the run's window stream: the first `context` are the input, the
//! last `context` the next-token targets. An "epoch" is `train_tokens / context` windows (every
//! token seen once on average). Losses are measured on fixed windows: the test set's
//! non-overlapping windows (offsets 0, context, 2·context, …), and for `train_loss` up to
//! `eval_train_examples` of the training text's, spread evenly over it.

use std::path::Path;
use std::sync::Arc;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::dataset::{Dataset, Tokens};
use crate::error::ModelError;
use crate::seeds;

/// The token stream of `path`: its bytes, or its characters (the file must be UTF-8).
pub(crate) fn load(path: &Path, chars: bool) -> Result<Dataset, ModelError> {
    let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if bytes.is_empty() {
        return Err(ModelError::malformed(path, None, None, "the text is empty"));
    }
    let tokens = if chars {
        let text = std::str::from_utf8(&bytes).map_err(|e| {
            ModelError::malformed(
                path,
                None,
                None,
                format!(
                    "is not UTF-8 (invalid byte at offset {}), as `tokens: char` needs; use \
                     `tokens: byte`",
                    e.valid_up_to()
                ),
            )
        })?;
        let mut vocab: Vec<char> = text.chars().collect();
        vocab.sort_unstable();
        vocab.dedup();
        let stream = text
            .chars()
            .map(|c| vocab.binary_search(&c).expect("in the vocabulary") as u32)
            .collect();
        Tokens {
            vocab_size: vocab.len(),
            symbols: vocab.iter().map(char::to_string).collect(),
            stream,
        }
    } else {
        Tokens {
            vocab_size: 256,
            symbols: Vec::new(),
            stream: bytes.iter().map(|&b| u32::from(b)).collect(),
        }
    };
    Ok(Dataset::text(path.display().to_string(), tokens))
}

/// Training and evaluation windows of one run over a text's token stream.
pub(crate) struct TextWindows {
    data: Arc<Dataset>,
    /// Tokens `0..train` train, `train..` test.
    train: usize,
    context: usize,
    rng: ChaCha8Rng,
    /// Offsets of the fixed windows `train_loss` is measured on.
    eval_train: Vec<usize>,
    /// Number of the test set's non-overlapping windows.
    test_windows: usize,
}

impl TextWindows {
    /// Windows of `context + 1` tokens of `data`'s stream, the last `test_fraction` of it for
    /// testing; `eval_train_examples` (0 = all) non-overlapping training windows for
    /// `train_loss`; training windows drawn from `seed`. An error names `context` when either
    /// part of the text is shorter than a window.
    pub(crate) fn new(
        data: Arc<Dataset>,
        test_fraction: f64,
        context: usize,
        eval_train_examples: usize,
        seed: u64,
    ) -> Result<Self, String> {
        let n = data.tokens().map_or(0, |t| t.stream.len());
        let test = ((n as f64) * test_fraction).round() as usize;
        let train = n - test.min(n);
        let window = context + 1;
        if train < window || test < window {
            return Err(format!(
                "windows of context + 1 = {window} tokens do not fit in the text's {train} \
                 training and {test} test tokens (of {n}); use a shorter context or a longer text"
            ));
        }
        let all = (train - 1) / context;
        let k = if eval_train_examples == 0 {
            all
        } else {
            eval_train_examples.min(all)
        };
        let eval_train = (0..k).map(|i| i * all / k * context).collect();
        Ok(TextWindows {
            data,
            train,
            context,
            rng: seeds::rng(seed, seeds::STREAM_WINDOWS),
            eval_train,
            test_windows: (test - 1) / context,
        })
    }

    fn stream(&self) -> &[u32] {
        &self.data.tokens().expect("a text dataset").stream
    }

    /// Windows per epoch: `train_tokens / context`.
    pub(crate) fn train_len(&self) -> usize {
        (self.train / self.context).max(1)
    }

    /// Number of test windows.
    pub(crate) fn test_len(&self) -> usize {
        self.test_windows
    }

    /// Number of training windows `train_loss` is measured on.
    pub(crate) fn eval_train_len(&self) -> usize {
        self.eval_train.len()
    }

    /// Writes `count` random training windows: inputs into `x`, targets into `y`
    /// (`count · context` values each).
    pub(crate) fn stage_train(&mut self, count: usize, x: &mut [f32], y: &mut [f32]) {
        let last_offset = self.train - self.context - 1;
        for i in 0..count {
            let offset = self.rng.random_range(0..=last_offset);
            self.write(offset, i, x, y);
        }
    }

    /// Writes evaluation windows `range` (of the test set, or of the fixed training windows).
    pub(crate) fn stage_eval(
        &self,
        test: bool,
        range: std::ops::Range<usize>,
        x: &mut [f32],
        y: &mut [f32],
    ) {
        for (i, w) in range.enumerate() {
            let offset = if test {
                self.train + w * self.context
            } else {
                self.eval_train[w]
            };
            self.write(offset, i, x, y);
        }
    }

    fn write(&self, offset: usize, slot: usize, x: &mut [f32], y: &mut [f32]) {
        let c = self.context;
        let window = &self.stream()[offset..offset + c + 1];
        let (xs, ys) = (
            &mut x[slot * c..(slot + 1) * c],
            &mut y[slot * c..(slot + 1) * c],
        );
        for (k, (xv, yv)) in xs.iter_mut().zip(ys.iter_mut()).enumerate() {
            *xv = window[k] as f32;
            *yv = window[k + 1] as f32;
        }
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // token ids are exact
mod tests {
    use super::*;

    fn text_file(content: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.txt");
        std::fs::write(&path, content).unwrap();
        (dir, path)
    }

    #[test]
    fn bytes_and_characters() {
        let (_d, path) = text_file("héllo".as_bytes());
        let bytes = load(&path, false).unwrap();
        let t = bytes.tokens().unwrap();
        assert_eq!((t.vocab_size, t.stream.len()), (256, 6));
        let chars = load(&path, true).unwrap();
        let t = chars.tokens().unwrap();
        assert_eq!(t.symbols, ["h", "l", "o", "é"]);
        assert_eq!(t.stream, [0, 3, 1, 1, 2]);
        let (_d, bad) = text_file(&[b'a', 0xff, b'b']);
        let e = load(&bad, true).unwrap_err();
        assert!(e.to_string().contains("not UTF-8"), "{e}");
        assert!(load(&bad, false).is_ok());
    }

    #[test]
    fn windows_are_consecutive_tokens_and_fixed_for_evaluation() {
        let text: Vec<u8> = (0..100u8).collect();
        let (_d, path) = text_file(&text);
        let data = Arc::new(load(&path, false).unwrap());
        let mut w = TextWindows::new(Arc::clone(&data), 0.1, 8, 5, 3).unwrap();
        assert_eq!(
            (w.train_len(), w.test_len(), w.eval_train_len()),
            (11, 1, 5)
        );
        let (mut x, mut y) = (vec![0.0; 16], vec![0.0; 16]);
        w.stage_train(2, &mut x, &mut y);
        for (xs, ys) in x.chunks(8).zip(y.chunks(8)) {
            assert!(xs[0] + 8.0 < 90.0, "inside the training text");
            for k in 0..8 {
                assert_eq!(xs[k], xs[0] + k as f32);
                assert_eq!(ys[k], xs[k] + 1.0);
            }
        }
        w.stage_eval(true, 0..1, &mut x, &mut y);
        assert_eq!((x[0], y[7]), (90.0, 98.0));
        w.stage_eval(false, 0..5, &mut [0.0; 40], &mut [0.0; 40]);
        assert_eq!(w.eval_train, [0, 16, 32, 48, 64]);
        let e = TextWindows::new(data, 0.1, 12, 0, 0).err().unwrap();
        assert!(e.contains("do not fit"), "{e}");
    }
}
