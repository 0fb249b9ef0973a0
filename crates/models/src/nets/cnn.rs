//! Convolutional networks: blocks of convolution → [batch norm] → activation → [pooling], then
//! optionally global average pooling, flatten, dense hidden layers with the activation (and
//! dropout), and the linear head. The equivalent PyTorch module (names as in DeepOBS):
//!
//! ```python
//! class CNN(nn.Sequential):
//!     def __init__(self, in_channels, blocks, dense_in, hidden, num_classes, act=nn.ReLU):
//!         super().__init__()
//!         c = in_channels
//!         for i, b in enumerate(blocks, 1):
//!             self.add_module(f"conv{i}", nn.Conv2d(c, b.channels, b.kernel, b.stride,
//!                                                   b.padding, bias=b.bias))  # see `same` below
//!             if b.norm == "batch":
//!                 self.add_module(f"bn{i}", nn.BatchNorm2d(b.channels))
//!             self.add_module(f"act{i}", act())
//!             if b.pool:
//!                 self.add_module(f"pool{i}", nn.MaxPool2d(b.pool.kernel, b.pool.stride))
//!             c = b.channels
//!         # global_pool: avg → self.add_module("global_pool", nn.AdaptiveAvgPool2d(1))
//!         self.add_module("flatten", nn.Flatten())
//!         sizes = [dense_in] + hidden + [num_classes]
//!         for j in range(len(sizes) - 1):
//!             self.add_module(f"dense{j + 1}", nn.Linear(sizes[j], sizes[j + 1]))
//!             if j + 2 < len(sizes):
//!                 self.add_module(f"act_dense{j + 1}", act())
//!                 # dropout > 0 → self.add_module(f"dropout{j + 1}", nn.Dropout(dropout))
//! ```
//!
//! `padding: same` is TensorFlow's (asymmetric when needed, DeepOBS's `tfconv2d`), applied
//! to pooling as DeepOBS's `tfmaxpool2d` does (zeros through `F.pad`); see docs/networks.md.
//!
//! Presets (DeepOBS, `deepobs/pytorch/testproblems/testproblems_modules.py`):
//! - `2c2d` (`net_mnist_2c2d`): conv 32 5×5 same, ReLU, max pool 2/2 same; conv 64 5×5 same,
//!   ReLU, max pool 2/2 same; dense 1024, ReLU; dense to the classes. DeepOBS init: every weight
//!   truncated normal (σ = 0.05, cut at ±2σ), every bias 0.05.
//! - `3c3d` (`net_cifar10_3c3d`): conv 64 5×5 valid, ReLU, max pool 3/2 same; conv 96 3×3
//!   valid, ReLU, max pool 3/2 same; conv 128 3×3 same, ReLU, max pool 3/2 same; dense 512,
//!   ReLU; dense 256, ReLU; dense to the classes. DeepOBS init: conv weights Xavier normal,
//!   dense weights Xavier uniform, biases 0. (DeepOBS's `cifar10_3c3d` problem also adds an L2
//!   penalty of 0.002 on the weights; here use the optimizer's `weight_decay`.)

use crate::normal::StandardNormal;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::Built;
use crate::config::Activation;
use crate::layers::activation::ActivationLayer;
use crate::layers::avg_pool2d::AvgPool2d;
use crate::layers::batch_norm2d::BatchNorm2d;
use crate::layers::conv2d::Conv2d;
use crate::layers::dropout::Dropout;
use crate::layers::flatten::Flatten;
use crate::layers::global_avg_pool::GlobalAvgPool;
use crate::layers::graph::{GraphBuilder, TensorId};
use crate::layers::linear::Linear;
use crate::layers::max_pool2d::{MaxPool2d, PadValue};
use crate::layers::window::Padding;
use crate::layers::{Dims, LayerError};
use crate::seeds;

/// Padding of a convolution or pooling window, as written in YAML.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PadSpec {
    /// TensorFlow's `SAME`: `⌈in / stride⌉` outputs.
    Same,
    /// No padding.
    Valid,
    /// This many pixels on every side (PyTorch's integer padding; convolutions only).
    Pixels(usize),
}

impl PadSpec {
    fn resolve(self, input: Dims, kernel: usize, stride: usize) -> Padding {
        match self {
            PadSpec::Same => Padding::same(input.height, input.width, kernel, stride),
            PadSpec::Valid => Padding::default(),
            PadSpec::Pixels(p) => Padding::symmetric(p),
        }
    }
}

/// Max or average pooling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    /// `nn.MaxPool2d`.
    Max,
    /// `nn.AvgPool2d`.
    Avg,
}

/// A pooling window after a convolution block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSpec {
    /// Max or average.
    pub kind: PoolKind,
    /// Window size.
    pub kernel: usize,
    /// Step (default: the kernel).
    pub stride: usize,
    /// `Same` or `Valid`.
    pub padding: PadSpec,
}

/// One convolution block.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvBlock {
    /// Output channels.
    pub channels: usize,
    /// Kernel size.
    pub kernel: usize,
    /// Stride.
    pub stride: usize,
    /// Padding.
    pub padding: PadSpec,
    /// Whether the convolution has a bias.
    pub bias: bool,
    /// Batch normalisation after the convolution.
    pub batch_norm: bool,
    /// Pooling after the activation.
    pub pool: Option<PoolSpec>,
}

/// A whole convolutional network (without the input and class count).
#[derive(Clone, Debug, PartialEq)]
pub struct CnnSpec {
    /// Convolution blocks.
    pub blocks: Vec<ConvBlock>,
    /// Global average pooling before flattening.
    pub global_pool: bool,
    /// Dense hidden layer sizes.
    pub hidden: Vec<usize>,
    /// Activation of every block and hidden layer.
    pub activation: Activation,
    /// Dropout probability after each hidden dense layer's activation.
    pub dropout: f64,
}

/// DeepOBS's architectures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// `net_mnist_2c2d`.
    TwoC2D,
    /// `net_cifar10_3c3d`.
    ThreeC3D,
}

impl Preset {
    /// The YAML name.
    pub fn name(self) -> &'static str {
        match self {
            Preset::TwoC2D => "2c2d",
            Preset::ThreeC3D => "3c3d",
        }
    }

    /// Parses the YAML name.
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "2c2d" => Some(Preset::TwoC2D),
            "3c3d" => Some(Preset::ThreeC3D),
            _ => None,
        }
    }

    /// The architecture (DeepOBS, cited in the module documentation).
    pub fn spec(self) -> CnnSpec {
        let block = |channels, kernel, padding, pool_kernel| ConvBlock {
            channels,
            kernel,
            stride: 1,
            padding,
            bias: true,
            batch_norm: false,
            pool: Some(PoolSpec {
                kind: PoolKind::Max,
                kernel: pool_kernel,
                stride: 2,
                padding: PadSpec::Same,
            }),
        };
        let (blocks, hidden) = match self {
            Preset::TwoC2D => (
                vec![
                    block(32, 5, PadSpec::Same, 2),
                    block(64, 5, PadSpec::Same, 2),
                ],
                vec![1024],
            ),
            Preset::ThreeC3D => (
                vec![
                    block(64, 5, PadSpec::Valid, 3),
                    block(96, 3, PadSpec::Valid, 3),
                    block(128, 3, PadSpec::Same, 3),
                ],
                vec![512, 256],
            ),
        };
        CnnSpec {
            blocks,
            global_pool: false,
            hidden,
            activation: Activation::Relu,
            dropout: 0.0,
        }
    }
}

/// A layer error together with the configuration key it comes from.
pub(crate) type KeyedError = (String, LayerError);

fn at(key: impl Into<String>) -> impl FnOnce(LayerError) -> KeyedError {
    let key = key.into();
    move |e| (key, e)
}

/// Adds block `i` (1-based) on tensor `t`.
fn add_block(
    b: &mut GraphBuilder,
    i: usize,
    block: &ConvBlock,
    act: Activation,
    t: TensorId,
) -> Result<TensorId, KeyedError> {
    let key = format!("conv[{}]", i - 1);
    let input = b.dims(t);
    let pad = block.padding.resolve(input, block.kernel, block.stride);
    let conv = Conv2d::new(
        input,
        block.channels,
        block.kernel,
        block.stride,
        pad,
        block.bias,
    )
    .map_err(at(key.clone()))?;
    let mut t = b
        .layer(format!("conv{i}"), conv, t)
        .map_err(at(key.clone()))?;
    // A ReLU after batch norm is fused into it: the same bits, one pass fewer each way.
    let fused_relu = block.batch_norm && act == Activation::Relu;
    if block.batch_norm {
        let bn = BatchNorm2d::new(b.dims(t)).map_err(at(key.clone()))?;
        let bn = if fused_relu { bn.with_relu() } else { bn };
        t = b.layer(format!("bn{i}"), bn, t).map_err(at(key.clone()))?;
    }
    if !fused_relu {
        t = b
            .layer(format!("act{i}"), ActivationLayer::new(b.dims(t), act), t)
            .map_err(at(key.clone()))?;
    }
    if let Some(pool) = block.pool {
        let input = b.dims(t);
        let pad = pool.padding.resolve(input, pool.kernel, pool.stride);
        let key = format!("{key}.pool");
        t = match pool.kind {
            PoolKind::Max => {
                let value = if pool.padding == PadSpec::Same {
                    PadValue::Zero
                } else {
                    PadValue::NegInfinity
                };
                let layer = MaxPool2d::new(input, pool.kernel, pool.stride, pad, value)
                    .map_err(at(key.clone()))?;
                b.layer(format!("pool{i}"), layer, t)
            }
            PoolKind::Avg => {
                let layer = AvgPool2d::new(input, pool.kernel, pool.stride, pad)
                    .map_err(at(key.clone()))?;
                b.layer(format!("pool{i}"), layer, t)
            }
        }
        .map_err(at(key))?;
    }
    Ok(t)
}

/// The network `spec` on images of shape `input` with `k` outputs; parameters initialised as
/// PyTorch's defaults (`preset_init: None`) or as DeepOBS initialises the preset.
pub(crate) fn build(
    input: Dims,
    spec: &CnnSpec,
    k: usize,
    preset_init: Option<Preset>,
    seed: u64,
) -> Result<Built, KeyedError> {
    let mut b = GraphBuilder::new(input);
    let mut t = b.input();
    for (i, block) in spec.blocks.iter().enumerate() {
        t = add_block(&mut b, i + 1, block, spec.activation, t)?;
    }
    if spec.global_pool {
        let pool = GlobalAvgPool::new(b.dims(t)).map_err(at("global_pool"))?;
        t = b.layer("global_pool", pool, t).map_err(at("global_pool"))?;
    }
    t = b
        .layer("flatten", Flatten::new(b.dims(t)), t)
        .map_err(at("conv"))?;
    let mut sizes = spec.hidden.clone();
    sizes.push(k);
    for (j, &size) in sizes.iter().enumerate() {
        let key = if j < spec.hidden.len() {
            "hidden"
        } else {
            "dataset"
        };
        let dense = Linear::new(b.dims(t), size).map_err(at(key))?;
        t = b
            .layer(format!("dense{}", j + 1), dense, t)
            .map_err(at(key))?;
        if j + 1 < sizes.len() {
            let act = ActivationLayer::new(b.dims(t), spec.activation);
            t = b
                .layer(format!("act_dense{}", j + 1), act, t)
                .map_err(at(key))?;
            if spec.dropout > 0.0 {
                let drop_seed = seeds::derive(seed, seeds::STREAM_DROPOUT, j as u64);
                let drop =
                    Dropout::new(b.dims(t), spec.dropout, drop_seed).map_err(at("dropout"))?;
                t = b
                    .layer(format!("dropout{}", j + 1), drop, t)
                    .map_err(at("dropout"))?;
            }
        }
    }
    let graph = b.finish(t).map_err(at("conv"))?;
    let mut rng = seeds::rng(seed, seeds::STREAM_INIT);
    let init = match preset_init {
        None => graph.init_params(&mut rng),
        Some(preset) => deepobs_init(&graph, preset, &mut rng),
    };
    Ok(Built { graph, init })
}

/// DeepOBS's initialisation of `preset` (see the module documentation).
fn deepobs_init(
    graph: &crate::layers::graph::Graph,
    preset: Preset,
    rng: &mut ChaCha8Rng,
) -> Vec<f32> {
    let mut params = vec![0.0f32; graph.n_params()];
    for t in graph.param_layout() {
        let values = &mut params[t.range()];
        let is_weight = t.name.ends_with(".weight");
        // fan_in and fan_out as torch.nn.init computes them: dims 1 and 0 times the receptive field.
        let field: usize = t.shape.iter().skip(2).product();
        let (fan_in, fan_out) = (
            t.shape.get(1).copied().unwrap_or(1) * field,
            t.shape[0] * field,
        );
        match (preset, is_weight) {
            (Preset::TwoC2D, true) => values
                .iter_mut()
                .for_each(|v| *v = (0.05 * truncated_normal(rng)) as f32),
            (Preset::TwoC2D, false) => values.fill(0.05),
            (Preset::ThreeC3D, false) => values.fill(0.0),
            (Preset::ThreeC3D, true) if t.module == "Conv2d" => {
                let std = (2.0 / (fan_in + fan_out) as f64).sqrt();
                values.iter_mut().for_each(|v| {
                    let z: f64 = rng.sample(StandardNormal);
                    *v = (std * z) as f32;
                });
            }
            (Preset::ThreeC3D, true) => {
                let bound = (6.0 / (fan_in + fan_out) as f64).sqrt();
                values
                    .iter_mut()
                    .for_each(|v| *v = rng.random_range(-bound..bound) as f32);
            }
        }
    }
    params
}

/// A standard normal value conditioned on |z| ≤ 2 (by rejection, as scipy's `truncnorm(-2, 2)`).
fn truncated_normal(rng: &mut ChaCha8Rng) -> f64 {
    loop {
        let z: f64 = rng.sample(StandardNormal);
        if z.abs() <= 2.0 {
            return z;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DeepOBS's parameter counts (docs/networks.md) and names.
    #[test]
    fn presets_have_deepobs_shapes() {
        let mnist = build(
            Dims::image(1, 28, 28),
            &Preset::TwoC2D.spec(),
            10,
            Some(Preset::TwoC2D),
            0,
        )
        .unwrap();
        assert_eq!(mnist.graph.n_params(), 3_274_634);
        let names: Vec<_> = mnist
            .graph
            .param_layout()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(
            names,
            [
                "conv1.weight",
                "conv1.bias",
                "conv2.weight",
                "conv2.bias",
                "dense1.weight",
                "dense1.bias",
                "dense2.weight",
                "dense2.bias"
            ]
        );
        // DeepOBS init: biases 0.05, weights within 2σ = 0.1.
        assert!(
            mnist.init[800..832]
                .iter()
                .all(|&b| (b - 0.05).abs() < 1e-7)
        );
        assert!(mnist.init[..800].iter().all(|w| w.abs() <= 0.1));
        let cifar = build(
            Dims::image(3, 32, 32),
            &Preset::ThreeC3D.spec(),
            10,
            Some(Preset::ThreeC3D),
            0,
        )
        .unwrap();
        assert_eq!(cifar.graph.n_params(), 895_210);
        assert_eq!(cifar.graph.output_dims().channels, 10);
    }
}
