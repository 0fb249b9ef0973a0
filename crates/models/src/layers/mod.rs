//! The layer library: hand-written forward and backward passes over one flat `f32` parameter
//! vector, in the style of Karpathy's llm.c (a GPT-2 trained by plain loops checked against
//! PyTorch), composed into networks by [`graph::Graph`].
//!
//! # The contract
//!
//! **Tensors.** An activation is a batch of examples, each a `height × width × channels` array
//! ([`Dims`]) stored row-major with the channels contiguous: element (n, h, w, c) of a batch is
//! at `((n · H + h) · W + w) · C + c`. This is PyTorch's `channels_last` (NHWC) for images, and
//! `(tokens, d_model)` with `height = 1, width = tokens` for sequences; a plain feature vector
//! is `1 × 1 × features`. Every layer that acts "per position" (linear, layer norm,
//! activations) treats the batch as `batch · H · W` rows of `C` values. Datasets store images
//! as C×H×W (PyTorch's NCHW); the network transposes them once when it assembles a batch, and
//! [`flatten::Flatten`] transposes back to PyTorch's (C, H, W) order, so a dense layer after it
//! has exactly the weight of the PyTorch module.
//!
//! **Parameters.** A layer owns a contiguous slice of the run's parameter vector (and the same
//! slice of the gradient): its tensors in the order and shape of the PyTorch module's
//! `named_parameters()` ([`Layer::params`], local names such as `weight`, `bias`), each stored
//! as PyTorch stores it (a `Conv2d` weight is `out × in × kh × kw`, row-major). The graph
//! gives each layer a module path (`layer1.0.conv1`), so the full names are PyTorch's
//! (`layer1.0.conv1.weight`). The optimizer sees only this vector.
//!
//! **Buffers.** State that is not trained (batch norm's running mean and variance) lives in a
//! separate `f32` vector with the same slicing ([`Layer::buffers`], PyTorch's
//! `named_buffers()`); it is part of the run's state and never touched by the optimizer.
//!
//! **Memory.** The graph allocates, once per batch capacity, one arena holding every layer's
//! output and one holding their gradients, plus a workspace shared by all layers (the matrix
//! products' packing buffers and a scratch area of [`Layer::scratch_len`] floats, e.g. a
//! convolution's padded images). A layer keeps only small private state that backward needs
//! (batch norm's per-channel statistics, max pooling's argmax, dropout's mask), sized in
//! [`Layer::reserve`]. `forward` and `backward` never allocate.
//!
//! **Passes.** `forward(x, y)` overwrites every element of `y`. `backward` receives the layer's
//! input `x`, its output `y` and `∂L/∂y`, overwrites every element of the parameter gradient
//! slice and, unless it is `None` (the network's input), of `∂L/∂x`. The graph accumulates where
//! a tensor feeds two layers (residual connections). Everything runs on the calling thread;
//! the matrix products are [`crate::gemm`]'s, so results are the same bits on every CPU.
//!
//! **Modes.** [`Mode::Train`] (the training step: batch norm normalises with the batch's
//! statistics and updates its running ones, dropout drops) and [`Mode::Eval`] (train loss and
//! test metrics: running statistics, no dropout), as PyTorch's `module.train()` / `.eval()`.
//!
//! **Initialisation.** [`Layer::init_params`] draws PyTorch's default initialisation for the
//! module (`reset_parameters()`) from the run's seeded stream; [`Layer::init_buffers`] sets the
//! buffers as PyTorch's constructor does.

use rand_chacha::ChaCha8Rng;

use crate::gemm::PackBuffers;

pub mod activation;
pub mod attention;
pub mod avg_pool2d;
pub mod batch_norm2d;
pub mod conv2d;
pub mod dropout;
pub mod embedding;
pub mod flatten;
pub mod global_avg_pool;
pub mod graph;
pub mod last_position;
pub mod layer_norm;
pub(crate) mod libm_lanes;
pub mod linear;
pub mod loss;
pub mod max_pool2d;
pub mod position_embedding;
pub mod residual;
pub mod shortcut;
pub mod window;

#[cfg(test)]
pub(crate) mod check;

/// The shape of one example's activation: `height × width × channels`, channels contiguous.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dims {
    /// Rows of an image (1 for vectors and sequences).
    pub height: usize,
    /// Columns of an image, or tokens of a sequence (1 for vectors).
    pub width: usize,
    /// Channels, features or the model width; contiguous in memory.
    pub channels: usize,
}

impl Dims {
    /// A `channels × height × width` image (arguments in PyTorch's order).
    pub const fn image(channels: usize, height: usize, width: usize) -> Self {
        Dims {
            height,
            width,
            channels,
        }
    }

    /// A feature vector of length `n`.
    pub const fn vector(n: usize) -> Self {
        Dims {
            height: 1,
            width: 1,
            channels: n,
        }
    }

    /// Values per example.
    pub const fn len(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// Whether an example holds no value.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Positions per example (`height · width`).
    pub const fn positions(&self) -> usize {
        self.height * self.width
    }
}

impl std::fmt::Display for Dims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}×{}×{}", self.channels, self.height, self.width)
    }
}

/// Training or evaluation, as PyTorch's `module.train()` and `module.eval()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Batch statistics (and running-statistics updates), dropout on.
    Train,
    /// Running statistics, dropout off.
    Eval,
}

/// A named tensor of a layer: its local name (`weight`) and PyTorch shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSpec {
    /// Local name, as in the PyTorch module (`weight`, `bias`, `running_mean`).
    pub name: &'static str,
    /// Shape, as in the PyTorch module.
    pub shape: Vec<usize>,
}

impl TensorSpec {
    /// A tensor spec.
    pub fn new(name: &'static str, shape: &[usize]) -> Self {
        TensorSpec {
            name,
            shape: shape.to_vec(),
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether it has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Memory shared by every layer of a network during one pass.
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    /// Packing buffers of the matrix products.
    pub pack: PackBuffers,
    /// Scratch floats, at least the largest [`Layer::scratch_len`] of the network.
    pub scratch: Vec<f32>,
}

/// One pass: batch size, mode and the shared workspace.
#[derive(Debug)]
pub struct Pass<'a> {
    /// Examples in the batch.
    pub batch: usize,
    /// Training or evaluation.
    pub mode: Mode,
    /// Shared memory.
    pub ws: &'a mut Workspace,
}

/// A configuration a layer cannot be built with (zero channels, a kernel larger than its
/// padded input, ...). The network builder adds the configuration key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{layer}: {message}")]
pub struct LayerError {
    /// The layer kind, e.g. `Conv2d`.
    pub layer: &'static str,
    /// What is wrong.
    pub message: String,
}

impl LayerError {
    pub(crate) fn new(layer: &'static str, message: impl Into<String>) -> Self {
        LayerError {
            layer,
            message: message.into(),
        }
    }
}

/// A layer with one input (see the module documentation for the contract).
pub trait Layer: Send {
    /// The equivalent PyTorch class, e.g. `Conv2d`.
    fn kind(&self) -> &'static str;

    /// Shape of one example of the input.
    fn input_dims(&self) -> Dims;

    /// Shape of one example of the output.
    fn output_dims(&self) -> Dims;

    /// Parameter tensors, in `named_parameters()` order.
    fn params(&self) -> Vec<TensorSpec> {
        Vec::new()
    }

    /// Buffer tensors, in `named_buffers()` order.
    fn buffers(&self) -> Vec<TensorSpec> {
        Vec::new()
    }

    /// Writes PyTorch's default initialisation of the parameters, drawn from `rng`.
    fn init_params(&self, _params: &mut [f32], _rng: &mut ChaCha8Rng) {}

    /// Writes the buffers' initial values.
    fn init_buffers(&self, _buffers: &mut [f32]) {}

    /// Shared scratch floats needed for batches of up to `batch` examples.
    fn scratch_len(&self, _batch: usize) -> usize {
        0
    }

    /// Grows private state for batches of up to `batch` examples.
    fn reserve(&mut self, _batch: usize) {}

    /// `y = layer(x)` for `pass.batch` examples.
    fn forward(
        &mut self,
        x: &[f32],
        y: &mut [f32],
        params: &[f32],
        buffers: &mut [f32],
        pass: &mut Pass,
    );

    /// Writes `∂L/∂params` into `grad` and, if asked, `∂L/∂x` into `dx`, from `dy = ∂L/∂y`,
    /// after a `forward` of the same batch in the same mode.
    #[allow(clippy::too_many_arguments)]
    fn backward(
        &mut self,
        x: &[f32],
        y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        params: &[f32],
        grad: &mut [f32],
        pass: &mut Pass,
    );
}

/// `U(−bound, bound)` for every element, in order: PyTorch's `reset_parameters()` of `Linear`
/// and `Conv2d` (weight by `kaiming_uniform_(a=√5)`, bias alike; both give `bound = 1/√fan_in`).
pub(crate) fn uniform_init(values: &mut [f32], fan_in: usize, rng: &mut ChaCha8Rng) {
    use rand::Rng;
    let bound = 1.0 / (fan_in as f32).sqrt();
    values
        .iter_mut()
        .for_each(|v| *v = rng.random_range(-bound..bound));
}

/// Column sums of a row-major `rows × cols` matrix, each summed in row order from 0 (the bias
/// gradient of linear and convolution layers).
pub(crate) fn column_sums(m: &[f32], cols: usize, out: &mut [f32]) {
    out.fill(0.0);
    for row in m.chunks_exact(cols) {
        out.iter_mut().zip(row).for_each(|(g, &v)| *g += v);
    }
}

/// `dst.copy_from_slice(src)` for the short runs of the layers' inner loops (a pixel's channels,
/// a bias row): fixed-size blocks of 16 and 4 that compile to vector moves, where
/// `copy_from_slice` of an unknown length is a call to `memmove` (measured: 17% of a ResNet-20
/// step went to those calls).
#[inline(always)]
pub(crate) fn copy_short(dst: &mut [f32], src: &[f32]) {
    assert_eq!(dst.len(), src.len(), "copy_short: lengths");
    let mut d16 = dst.chunks_exact_mut(16);
    let mut s16 = src.chunks_exact(16);
    for (d, s) in (&mut d16).zip(&mut s16) {
        let s: &[f32; 16] = s.try_into().expect("16");
        let d: &mut [f32; 16] = d.try_into().expect("16");
        *d = *s;
    }
    let mut d4 = d16.into_remainder().chunks_exact_mut(4);
    let mut s4 = s16.remainder().chunks_exact(4);
    for (d, s) in (&mut d4).zip(&mut s4) {
        let s: &[f32; 4] = s.try_into().expect("4");
        let d: &mut [f32; 4] = d.try_into().expect("4");
        *d = *s;
    }
    let (d, s) = (d4.into_remainder(), s4.remainder());
    match d.len() {
        0 => {}
        1 => d[0] = s[0],
        2 => {
            d[0] = s[0];
            d[1] = s[1];
        }
        _ => {
            d[0] = s[0];
            d[1] = s[1];
            d[2] = s[2];
        }
    }
}
