//! The CIFAR ResNets of He, Zhang, Ren & Sun 2016 ("Deep Residual Learning for Image
//! Recognition", §4.2): a 3×3 convolution with 16 filters, then three stages of `n` basic
//! blocks with 16, 32 and 64 filters (the first block of stages 2 and 3 halves the resolution
//! with stride 2), global average pooling and a linear layer: `6n + 2` weighted layers,
//! `depth ∈ {8, 14, 20, 32, 56}` (n = 1, 2, 3, 5, 9). A basic block is
//! `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`, convolutions 3×3 without bias, batch
//! norm after each. Where a block changes the shape, the shortcut is
//! - option A (the paper's choice for CIFAR): the identity subsampled by 2 and zero-padded with
//!   the extra channels, no parameters ([`crate::layers::shortcut::PadShortcut`]);
//! - option B: a 1×1 convolution with stride 2 (no bias) and batch norm.
//!
//! The equivalent PyTorch module (parameters in this order; initialisation PyTorch's defaults):
//!
//! ```python
//! class BasicBlock(nn.Module):
//!     def __init__(self, cin, planes, stride, option):
//!         super().__init__()
//!         self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
//!         self.bn1 = nn.BatchNorm2d(planes)
//!         self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
//!         self.bn2 = nn.BatchNorm2d(planes)
//!         self.shortcut = nn.Sequential()
//!         if stride != 1 or cin != planes:
//!             if option == "A":
//!                 p = (planes - cin) // 2
//!                 self.shortcut = LambdaLayer(lambda x: F.pad(x[:, :, ::stride, ::stride],
//!                                                             (0, 0, 0, 0, p, planes - cin - p)))
//!             else:
//!                 self.shortcut = nn.Sequential(nn.Conv2d(cin, planes, 1, stride, bias=False),
//!                                               nn.BatchNorm2d(planes))
//!
//!     def forward(self, x):
//!         out = F.relu(self.bn1(self.conv1(x)))
//!         out = self.bn2(self.conv2(out))
//!         return F.relu(out + self.shortcut(x))
//!
//! class ResNet(nn.Module):
//!     def __init__(self, depth, in_channels=3, num_classes=10, option="A"):
//!         super().__init__()
//!         n = (depth - 2) // 6
//!         self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
//!         self.bn1 = nn.BatchNorm2d(16)
//!         cin, stages = 16, []
//!         for i, planes in enumerate([16, 32, 64]):
//!             blocks = []
//!             for j in range(n):
//!                 blocks.append(BasicBlock(cin, planes, 2 if i > 0 and j == 0 else 1, option))
//!                 cin = planes
//!             setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
//!         self.linear = nn.Linear(64, num_classes)
//!
//!     def forward(self, x):
//!         out = F.relu(self.bn1(self.conv1(x)))
//!         out = self.layer3(self.layer2(self.layer1(out)))
//!         out = F.adaptive_avg_pool2d(out, 1).flatten(1)
//!         return self.linear(out)
//! ```

use super::Built;
use super::cnn::KeyedError;
use crate::layers::batch_norm2d::BatchNorm2d;
use crate::layers::conv2d::Conv2d;
use crate::layers::global_avg_pool::GlobalAvgPool;
use crate::layers::graph::{GraphBuilder, TensorId};
use crate::layers::linear::Linear;
use crate::layers::shortcut::PadShortcut;
use crate::layers::window::Padding;
use crate::layers::{Dims, LayerError};
use crate::seeds;

/// The depths of He et al.'s CIFAR table.
pub const DEPTHS: [usize; 5] = [8, 14, 20, 32, 56];

/// The shortcut where a block changes shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shortcut {
    /// Subsample and zero-pad (parameter-free).
    A,
    /// 1×1 convolution with stride and batch norm.
    B,
}

/// conv (3×3 or 1×1, no bias) then batch norm, under `path`; with `relu`, a ReLU fused into
/// the batch norm ([`BatchNorm2d::with_relu`]).
fn conv_bn(
    b: &mut GraphBuilder,
    (conv_path, bn_path): (&str, &str),
    t: TensorId,
    (planes, kernel, stride): (usize, usize, usize),
    relu: bool,
) -> Result<TensorId, LayerError> {
    let pad = Padding::symmetric(kernel / 2);
    let conv = Conv2d::new(b.dims(t), planes, kernel, stride, pad, false)?;
    let t = b.layer(conv_path, conv, t)?;
    let bn = BatchNorm2d::new(b.dims(t))?;
    b.layer(bn_path, if relu { bn.with_relu() } else { bn }, t)
}

/// One basic block at `path` (e.g. `layer2.0`).
fn block(
    b: &mut GraphBuilder,
    path: &str,
    x: TensorId,
    planes: usize,
    stride: usize,
    shortcut: Shortcut,
) -> Result<TensorId, LayerError> {
    let p = |s: &str| format!("{path}.{s}");
    let h = conv_bn(b, (&p("conv1"), &p("bn1")), x, (planes, 3, stride), true)?;
    let h = conv_bn(b, (&p("conv2"), &p("bn2")), h, (planes, 3, 1), false)?;
    let cin = b.dims(x).channels;
    let s = if stride == 1 && cin == planes {
        x
    } else {
        match shortcut {
            Shortcut::A => b.layer(
                p("shortcut"),
                PadShortcut::new(b.dims(x), planes, stride)?,
                x,
            )?,
            Shortcut::B => conv_bn(
                b,
                (&p("shortcut.0"), &p("shortcut.1")),
                x,
                (planes, 1, stride),
                false,
            )?,
        }
    };
    b.add_relu(h, s)
}

/// ResNet-`depth` on images of shape `input` with `k` classes, PyTorch's default init.
pub(crate) fn build(
    input: Dims,
    depth: usize,
    shortcut: Shortcut,
    k: usize,
    seed: u64,
) -> Result<Built, KeyedError> {
    let keyed = |key: &'static str| move |e: LayerError| (key.to_string(), e);
    if !DEPTHS.contains(&depth) {
        return Err((
            "depth".into(),
            LayerError::new(
                "ResNet",
                format!("depth must be one of {DEPTHS:?}, found {depth}"),
            ),
        ));
    }
    let n = (depth - 2) / 6;
    let mut b = GraphBuilder::new(input);
    let body = |b: &mut GraphBuilder| -> Result<TensorId, LayerError> {
        let mut t = conv_bn(b, ("conv1", "bn1"), b.input(), (16, 3, 1), true)?;
        for (i, planes) in [16, 32, 64].into_iter().enumerate() {
            for j in 0..n {
                let stride = if i > 0 && j == 0 { 2 } else { 1 };
                t = block(
                    b,
                    &format!("layer{}.{j}", i + 1),
                    t,
                    planes,
                    stride,
                    shortcut,
                )?;
            }
        }
        let pool = GlobalAvgPool::new(b.dims(t))?;
        b.layer("avgpool", pool, t)
    };
    let t = body(&mut b).map_err(keyed("dataset"))?;
    let head = Linear::new(b.dims(t), k).map_err(keyed("dataset"))?;
    let t = b.layer("linear", head, t).map_err(keyed("dataset"))?;
    let graph = b.finish(t).map_err(keyed("depth"))?;
    let init = graph.init_params(&mut seeds::rng(seed, seeds::STREAM_INIT));
    Ok(Built { graph, init })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_names_and_counts_follow_the_pytorch_module() {
        let built = build(Dims::image(3, 32, 32), 20, Shortcut::A, 10, 0).unwrap();
        let layout = built.graph.param_layout();
        // ResNet-20 (option A): 0.27 M parameters, as in He et al.'s Table 6.
        assert_eq!(built.graph.n_params(), 269_722);
        let names: Vec<_> = layout.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(
            &names[..6],
            [
                "conv1.weight",
                "bn1.weight",
                "bn1.bias",
                "layer1.0.conv1.weight",
                "layer1.0.bn1.weight",
                "layer1.0.bn1.bias"
            ]
        );
        assert_eq!(names.last(), Some(&"linear.bias"));
        let b = build(Dims::image(3, 32, 32), 8, Shortcut::B, 10, 0).unwrap();
        let names: Vec<_> = b.graph.param_layout().into_iter().map(|t| t.name).collect();
        assert!(names.contains(&"layer2.0.shortcut.0.weight".to_string()));
        assert!(names.contains(&"layer3.0.shortcut.1.bias".to_string()));
        // Batch norms: the stem, two per block, one per projection shortcut: 1 + 6 + 2.
        assert_eq!(b.graph.buffer_layout().len(), 2 * 9);
        assert!(build(Dims::image(3, 32, 32), 10, Shortcut::A, 10, 0).is_err());
    }
}
