//! A network on data as a [`Problem`]: a [`Graph`] of layers, a loss head, the run's data split
//! and the state that is not trained (batch-norm running statistics).
//!
//! A training step (`loss_grad`) assembles the batch from the training split through its
//! indices (images transposed from the dataset's C×H×W to the layers' channels-last layout),
//! runs the graph in training mode, the loss, and the backward pass. Evaluation (`train_loss`,
//! `test_metrics`) runs in evaluation mode over contiguous chunks of examples, read in place
//! when no transposition is needed. Nothing is allocated after the first step and the first
//! evaluation. A language model's examples are token sequences ([`Sequences`]): staged with
//! one target per position (or the last), the losses and accuracies then per target.

use std::path::Path;

use rand_chacha::ChaCha8Rng;

use crate::data::Split;
use crate::data::augment::{Augmentation, augment_batch};
use crate::error::ModelError;
use crate::layers::graph::{Graph, NamedTensor};
use crate::layers::loss::Loss;
use crate::layers::{Dims, Mode};
use crate::problem::{EvalCounts, Problem, TestMetrics, TrainMetrics};
use crate::seeds;
use crate::sequences::Sequences;
use crate::weights;

/// Examples per chunk when evaluating vector inputs (forward only).
const EVAL_CHUNK: usize = 256;
/// Examples per chunk when evaluating images (their activations are larger).
const EVAL_CHUNK_IMAGES: usize = 32;

/// A network on one run's data split.
pub(crate) struct Network {
    graph: Graph,
    loss: Loss,
    split: Split,
    eval_n: usize,
    eval_chunk: usize,
    init: Vec<f32>,
    /// Running statistics and other untrained state, `graph.buffer_layout()`.
    buffers: Vec<f32>,
    /// The assembled batch: inputs (layers' layout) and targets.
    x_batch: Vec<f32>,
    y_batch: Vec<f32>,
    counts: EvalCounts,
    /// Training forward passes so far (PyTorch's `num_batches_tracked`).
    train_steps: u64,
    /// Augmentation of training batches (images), its random stream, and the raw and
    /// augmented batch in the dataset's C×H×W layout.
    augment: Vec<Augmentation>,
    augment_rng: ChaCha8Rng,
    raw_batch: Vec<f32>,
    augmented: Vec<f32>,
    /// A language model's token sequences (examples and next-token targets).
    sequences: Option<Sequences>,
}

impl Network {
    /// A network computing `graph` then `loss` on `split`, starting from `init`;
    /// `eval_train_examples` (0 = all) is the size of the fixed training subset for `train_loss`.
    pub(crate) fn new(
        split: Split,
        graph: Graph,
        loss: Loss,
        eval_train_examples: usize,
        init: Vec<f32>,
    ) -> Self {
        let n_train = split.train_len();
        let eval_n = if eval_train_examples == 0 {
            n_train
        } else {
            eval_train_examples.min(n_train)
        };
        let eval_chunk = if graph.input_dims().positions() == 1 {
            EVAL_CHUNK
        } else {
            EVAL_CHUNK_IMAGES
        };
        let buffers = graph.init_buffers();
        Network {
            graph,
            loss,
            split,
            eval_n,
            eval_chunk,
            init,
            buffers,
            x_batch: Vec::new(),
            y_batch: Vec::new(),
            counts: EvalCounts::default(),
            train_steps: 0,
            augment: Vec::new(),
            augment_rng: seeds::rng(0, seeds::STREAM_AUGMENT),
            raw_batch: Vec::new(),
            augmented: Vec::new(),
            sequences: None,
        }
    }

    /// The examples are token sequences (a language model): staged by `sequences`.
    pub(crate) fn with_sequences(mut self, sequences: Sequences) -> Self {
        if let Some(n) = sequences.eval_train_len() {
            self.eval_n = n;
        }
        self.sequences = Some(sequences);
        self
    }

    /// Input values and targets of `bsz` token sequences (`None` for other examples).
    fn sequence_sizes(&self, bsz: usize) -> Option<(usize, usize)> {
        let seq = self.sequences.as_ref()?;
        Some((bsz * seq.tokens(), bsz * seq.labels_per_example()))
    }

    /// Grows the batch buffers to `inputs` and `labels` values.
    fn grow_batch(&mut self, inputs: usize, labels: usize) {
        if self.x_batch.len() < inputs {
            self.x_batch.resize(inputs, 0.0);
        }
        if self.y_batch.len() < labels {
            self.y_batch.resize(labels, 0.0);
        }
    }

    /// Stages the training examples `batch` (inputs and targets); returns the number of targets.
    fn stage_train(&mut self, batch: &[usize]) -> usize {
        let bsz = batch.len();
        if let Some((inputs, labels)) = self.sequence_sizes(bsz) {
            self.grow_batch(inputs, labels);
            let seq = self.sequences.as_mut().expect("sequences");
            let (x, y) = (&mut self.x_batch[..inputs], &mut self.y_batch[..labels]);
            seq.stage_train(&self.split, batch, x, y);
            return labels;
        }
        if self.augment.is_empty() {
            self.stage(false, batch.iter().copied());
        } else {
            self.stage_augmented(batch);
        }
        self.grow_batch(0, bsz);
        for (y, &i) in self.y_batch.iter_mut().zip(batch) {
            *y = self.split.y_train[i];
        }
        bsz
    }

    /// Stages evaluation examples `range` when they cannot be read in place; returns the number
    /// of targets and whether the inputs and targets are in the batch buffers.
    fn stage_eval(&mut self, test: bool, range: std::ops::Range<usize>) -> (usize, bool) {
        let bsz = range.len();
        if let Some((inputs, labels)) = self.sequence_sizes(bsz) {
            self.grow_batch(inputs, labels);
            let seq = self.sequences.as_ref().expect("sequences");
            let (x, y) = (&mut self.x_batch[..inputs], &mut self.y_batch[..labels]);
            seq.stage_eval(&self.split, test, range, x, y);
            return (labels, true);
        }
        if self.needs_transpose() {
            self.stage(test, range);
        }
        (bsz, false)
    }

    /// Training batches go through `augment` (images only; [`crate::augment::augment_batch`],
    /// padding with the split's standardized black), drawn from the run's augmentation stream.
    pub(crate) fn with_augmentation(mut self, augment: Vec<Augmentation>, seed: u64) -> Self {
        if self.split.image_shape.is_some() {
            self.augment = augment;
            self.augment_rng = seeds::rng(seed, seeds::STREAM_AUGMENT);
        }
        self
    }

    /// Stages training examples `rows` through the augmentation (C×H×W in, layers' layout out).
    fn stage_augmented(&mut self, rows: &[usize]) {
        let shape = self.split.image_shape.expect("augmentation needs images");
        let len = shape.n_values();
        let n = rows.len() * len;
        if self.raw_batch.len() < n {
            self.raw_batch.resize(n, 0.0);
            self.augmented.resize(n, 0.0);
            self.x_batch.resize(n, 0.0);
        }
        for (dst, &i) in self.raw_batch.chunks_exact_mut(len).zip(rows) {
            dst.copy_from_slice(&self.split.x_train[i * len..(i + 1) * len]);
        }
        augment_batch(
            &self.augment,
            shape,
            &self.split.pad,
            &self.raw_batch[..n],
            &mut self.augmented[..n],
            &mut self.augment_rng,
        );
        let dims = self.graph.input_dims();
        for (src, dst) in self.augmented[..n]
            .chunks_exact(len)
            .zip(self.x_batch.chunks_exact_mut(len))
        {
            chw_to_hwc(src, dims, dst);
        }
    }

    /// Starts from weights loaded from a file: the parameters and the buffers found there.
    pub(crate) fn with_weights(mut self, loaded: weights::Loaded) -> Self {
        self.init = loaded.params;
        for (tensor, values) in loaded.buffers {
            self.buffers[tensor.range()].copy_from_slice(&values);
        }
        self
    }

    /// The parameter, parameter alias (tied weights) and buffer layouts, for loading a weights
    /// file.
    pub(crate) fn layouts(&self) -> [Vec<NamedTensor>; 3] {
        [
            self.graph.param_layout(),
            self.graph.param_aliases(),
            self.graph.buffer_layout(),
        ]
    }

    /// Whether examples must be transposed from C×H×W to channels-last.
    fn needs_transpose(&self) -> bool {
        let d = self.graph.input_dims();
        d.positions() > 1 && d.channels > 1
    }

    /// Copies examples `rows` of `xs` (the dataset's layout) into the batch buffer, in the
    /// layers' layout.
    fn stage(&mut self, xs_test: bool, rows: impl ExactSizeIterator<Item = usize>) {
        let dims = self.graph.input_dims();
        let len = dims.len();
        let n = rows.len();
        if self.x_batch.len() < n * len {
            self.x_batch.resize(n * len, 0.0);
        }
        let xs = if xs_test {
            &self.split.x_test
        } else {
            &self.split.x_train
        };
        let transpose = self.needs_transpose();
        for (dst, i) in self.x_batch.chunks_exact_mut(len).zip(rows) {
            let src = &xs[i * len..(i + 1) * len];
            if transpose {
                chw_to_hwc(src, dims, dst);
            } else {
                dst.copy_from_slice(src);
            }
        }
    }

    /// Mean loss and accuracy over contiguous examples, forward only, in evaluation mode.
    fn evaluate(&mut self, params: &[f32], test: bool) -> (f64, f64) {
        let n = if test { self.test_len() } else { self.eval_n };
        if n == 0 {
            return (f64::NAN, f64::NAN);
        }
        // As large as the training batches already are (a fixed rule, so the sums' order is too).
        let chunk = self.graph.capacity().max(self.eval_chunk.min(n));
        self.graph.reserve(chunk);
        let len = self.graph.input_dims().len();
        // Classes per target (a language model has one target per output position).
        let k = self.graph.output_dims().channels;
        let (mut loss, mut correct, mut targets) = (0.0, 0, 0);
        let mut start = 0;
        while start < n {
            let bsz = chunk.min(n - start);
            let (labels, staged) = self.stage_eval(test, start..start + bsz);
            let xs = if staged || self.needs_transpose() {
                &self.x_batch
            } else if test {
                &self.split.x_test[start * len..]
            } else {
                &self.split.x_train[start * len..]
            };
            let out = self
                .graph
                .forward(params, &mut self.buffers, xs, bsz, Mode::Eval);
            let ys = if staged {
                &self.y_batch[..labels]
            } else if test {
                &self.split.y_test[start..start + bsz]
            } else {
                &self.split.y_train[start..start + bsz]
            };
            let (l, c) = self.loss.evaluate(out, k, ys, None);
            loss += l;
            correct += c;
            targets += labels;
            start += bsz;
        }
        (loss / targets as f64, correct as f64 / targets as f64)
    }
}

/// `dst[(h·W + w)·C + c] = src[(c·H + h)·W + w]` for one example.
pub(crate) fn chw_to_hwc(src: &[f32], dims: Dims, dst: &mut [f32]) {
    let (c, p) = (dims.channels, dims.positions());
    for (ch, plane) in src.chunks_exact(p).enumerate() {
        for (pos, &v) in plane.iter().enumerate() {
            dst[pos * c + ch] = v;
        }
    }
}

impl Problem for Network {
    fn dim(&self) -> usize {
        self.graph.n_params()
    }

    fn train_len(&self) -> usize {
        match &self.sequences {
            Some(seq) => seq.train_len(&self.split),
            None => self.split.train_len(),
        }
    }

    fn initial_params(&self) -> Vec<f32> {
        self.init.clone()
    }

    fn loss_grad(&mut self, params: &[f32], batch: &[usize], grad: &mut [f32]) -> f64 {
        let bsz = batch.len();
        if bsz == 0 {
            grad.fill(0.0);
            return 0.0;
        }
        self.counts.loss_evals += 1;
        self.counts.grad_evals += 1;
        self.counts.examples_seen += bsz as u64;
        self.train_steps += 1;
        let labels = self.stage_train(batch);
        let k = self.graph.output_dims().channels;
        self.graph
            .forward(params, &mut self.buffers, &self.x_batch, bsz, Mode::Train);
        let (out, dout) = self.graph.output_and_grad(bsz);
        let (loss, _) = self
            .loss
            .evaluate(out, k, &self.y_batch[..labels], Some(dout));
        self.graph
            .backward(params, grad, &self.x_batch, bsz, Mode::Train);
        loss / labels as f64
    }

    fn train_loss(&mut self, params: &[f32]) -> f64 {
        self.evaluate(params, false).0
    }

    fn train_metrics(&mut self, params: &[f32]) -> TrainMetrics {
        let (loss, acc) = self.evaluate(params, false);
        TrainMetrics {
            loss,
            accuracy: self.loss.is_classifier().then_some(acc),
        }
    }

    fn test_metrics(&mut self, params: &[f32]) -> TestMetrics {
        if self.test_len() == 0 {
            return TestMetrics::default();
        }
        let (loss, acc) = self.evaluate(params, true);
        TestMetrics {
            loss: Some(loss),
            accuracy: self.loss.is_classifier().then_some(acc),
        }
    }

    fn eval_counts(&self) -> EvalCounts {
        self.counts
    }

    fn is_classifier(&self) -> bool {
        self.loss.is_classifier()
    }

    fn test_len(&self) -> usize {
        match &self.sequences {
            Some(seq) => seq.test_len(&self.split),
            None => self.split.y_test.len(),
        }
    }

    fn eval_train_len(&self) -> usize {
        self.eval_n
    }

    fn param_layout(&self) -> Vec<NamedTensor> {
        self.graph.param_layout()
    }

    fn save_weights(&self, params: &[f32], path: &Path) -> Result<(), ModelError> {
        // Tied parameters under each of their names, as PyTorch's `state_dict()`.
        let mut layout = self.graph.param_layout();
        layout.extend(self.graph.param_aliases());
        let buffers = self.graph.buffer_layout();
        weights::save(
            path,
            &layout,
            params,
            &buffers,
            &self.buffers,
            self.train_steps,
        )
    }
}
