//! Token sequences as the examples of a language model (the `transformer` problem): what a
//! batch's inputs and targets are, and the problem's assembly from its token data.
//!
//! An example is `T` input tokens and their next tokens: for a text, a window of `T + 1`
//! tokens ([`TextWindows`]); for a dataset of examples (`modular_arithmetic`), the `T` tokens
//! stored as the example's features followed by its answer. With `target: all` the targets are
//! the `T` next tokens (the mean cross-entropy over every position, nats per token, and
//! next-token accuracy); with `target: last` only the last (the answer: answer accuracy).

use std::ops::Range;
use std::sync::Arc;

use crate::config::{DatasetConfig, DatasetKind, ProblemConfig};
use crate::data::text::TextWindows;
use crate::data::{Dataset, Split};
use crate::error::ModelError;
use crate::layers::loss::Loss;
use crate::nets;
use crate::nets::transformer::Target;
use crate::network::Network;

/// A language model's examples and targets.
pub(crate) struct Sequences {
    /// Input tokens per example, `T`.
    tokens: usize,
    target: Target,
    /// The windows of a text; `None`: the rows of the split.
    text: Option<TextWindows>,
}

impl Sequences {
    /// The rows of the split as examples of `tokens` input tokens, followed by their answer.
    pub(crate) fn examples(tokens: usize, target: Target) -> Self {
        Sequences {
            tokens,
            target,
            text: None,
        }
    }

    /// Input tokens per example.
    pub(crate) fn tokens(&self) -> usize {
        self.tokens
    }

    /// Targets per example: `T`, or 1 for `target: last`.
    pub(crate) fn labels_per_example(&self) -> usize {
        match self.target {
            Target::All => self.tokens,
            Target::Last => 1,
        }
    }

    /// Training examples per epoch.
    pub(crate) fn train_len(&self, split: &Split) -> usize {
        self.text
            .as_ref()
            .map_or(split.train_len(), TextWindows::train_len)
    }

    /// Test examples.
    pub(crate) fn test_len(&self, split: &Split) -> usize {
        self.text
            .as_ref()
            .map_or(split.y_test.len(), TextWindows::test_len)
    }

    /// The number of examples `train_loss` is measured on, when the windows fix it.
    pub(crate) fn eval_train_len(&self) -> Option<usize> {
        self.text.as_ref().map(TextWindows::eval_train_len)
    }

    /// Writes the training examples `batch` (indices into the split; for a text only their
    /// number counts: the windows are drawn at random) as inputs `x` and targets `y`.
    pub(crate) fn stage_train(
        &mut self,
        split: &Split,
        batch: &[usize],
        x: &mut [f32],
        y: &mut [f32],
    ) {
        match &mut self.text {
            Some(windows) => {
                windows.stage_train(batch.len(), x, y);
                self.keep_targets(batch.len(), y);
            }
            None => self.stage_rows(&split.x_train, &split.y_train, batch.iter().copied(), x, y),
        }
    }

    /// Writes evaluation examples `range` of the test set or of the training examples that
    /// `train_loss` is measured on.
    pub(crate) fn stage_eval(
        &self,
        split: &Split,
        test: bool,
        range: Range<usize>,
        x: &mut [f32],
        y: &mut [f32],
    ) {
        let count = range.len();
        match &self.text {
            Some(windows) => {
                windows.stage_eval(test, range, x, y);
                self.keep_targets(count, y);
            }
            None if test => self.stage_rows(&split.x_test, &split.y_test, range, x, y),
            None => self.stage_rows(&split.x_train, &split.y_train, range, x, y),
        }
    }

    /// For `target: last`, keeps only the last of each window's `T` targets (in place).
    fn keep_targets(&self, count: usize, y: &mut [f32]) {
        if self.target == Target::Last {
            let t = self.tokens;
            for i in 0..count {
                y[i] = y[i * t + t - 1];
            }
        }
    }

    /// Examples `rows` of a split's `xs` (T tokens each) and answers `ys`.
    fn stage_rows(
        &self,
        xs: &[f32],
        ys: &[f32],
        rows: impl Iterator<Item = usize>,
        x: &mut [f32],
        y: &mut [f32],
    ) {
        let (t, l) = (self.tokens, self.labels_per_example());
        for (slot, i) in rows.enumerate() {
            let row = &xs[i * t..(i + 1) * t];
            x[slot * t..(slot + 1) * t].copy_from_slice(row);
            let labels = &mut y[slot * l..(slot + 1) * l];
            labels[..l - 1].copy_from_slice(&row[t + 1 - l..]);
            labels[l - 1] = ys[i];
        }
    }
}

/// The `transformer` problem on its token data: the split (random for a dataset of examples,
/// contiguous for a text), the network and its examples.
pub(crate) fn build_language_model(
    config: &ProblemConfig,
    ds: &DatasetConfig,
    data: &Arc<Dataset>,
    seed: u64,
) -> Result<Network, ModelError> {
    let name = config.name();
    let tokens = data.tokens().ok_or_else(|| ModelError::Incompatible {
        problem: name.into(),
        message: format!(
            "needs token data (key `dataset`: modular_arithmetic or text), dataset `{}` has \
             none",
            data.name()
        ),
    })?;
    let t = &config.transformer;
    let is_text = ds.kind() == DatasetKind::Text;
    let target = t
        .target
        .unwrap_or(if is_text { Target::All } else { Target::Last });
    let (split, sequences) = if is_text {
        let windows = TextWindows::new(
            Arc::clone(data),
            ds.test_fraction(),
            t.context,
            config.eval_train_examples(),
            seed,
        )
        .map_err(|message| ModelError::OutOfRange {
            owner: name.into(),
            key: "context".into(),
            message,
        })?;
        let split = Split {
            n_features: t.context,
            n_classes: Some(tokens.vocab_size),
            x_train: Vec::new(),
            y_train: Vec::new(),
            x_test: Vec::new(),
            y_test: Vec::new(),
            image_shape: None,
            pad: Vec::new(),
        };
        let sequences = Sequences {
            tokens: t.context,
            target,
            text: Some(windows),
        };
        (split, sequences)
    } else {
        let split = Split::new(data, ds.test_fraction(), false, seed);
        (split, Sequences::examples(data.n_features(), target))
    };
    let built =
        nets::transformer::build(&t.spec(), tokens.vocab_size, sequences.tokens, target, seed)
            .map_err(|(key, e)| nets::key_error(name, &key, e))?;
    let network = Network::new(
        split,
        built.graph,
        Loss::SoftmaxCe,
        config.eval_train_examples(),
        built.init,
    );
    Ok(network.with_sequences(sequences))
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // token ids are exact
mod tests {
    use super::*;

    #[test]
    fn targets_are_the_next_tokens() {
        let split = Split {
            n_features: 3,
            n_classes: Some(9),
            x_train: vec![1.0, 2.0, 3.0, 5.0, 6.0, 7.0],
            y_train: vec![4.0, 8.0],
            x_test: Vec::new(),
            y_test: Vec::new(),
            image_shape: None,
            pad: Vec::new(),
        };
        let (mut x, mut y) = (vec![0.0; 6], vec![0.0; 6]);
        let mut all = Sequences {
            tokens: 3,
            target: Target::All,
            text: None,
        };
        all.stage_train(&split, &[1, 0], &mut x, &mut y);
        assert_eq!(x, [5.0, 6.0, 7.0, 1.0, 2.0, 3.0]);
        assert_eq!(y, [6.0, 7.0, 8.0, 2.0, 3.0, 4.0]);
        let last = Sequences {
            target: Target::Last,
            ..all
        };
        last.stage_eval(&split, false, 0..2, &mut x, &mut y);
        assert_eq!(&y[..2], [4.0, 8.0]);
        assert_eq!(last.labels_per_example(), 1);
    }
}
