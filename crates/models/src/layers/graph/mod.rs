//! A network as a list of layers in execution order: each node reads one tensor (two for a
//! residual addition) and writes a new one, so skip connections are just a tensor read twice.
//!
//! ```
//! use optbench_models::layers::graph::GraphBuilder;
//! use optbench_models::layers::{Dims, Mode, linear::Linear, activation::ActivationLayer};
//! use optbench_models::Activation;
//!
//! // torch.nn.Sequential(Linear(3, 4), ReLU(), Linear(4, 2)), names "0.weight", ...
//! let mut b = GraphBuilder::new(Dims::vector(3));
//! let h = b.layer("0", Linear::new(Dims::vector(3), 4)?, b.input())?;
//! let h = b.layer("1", ActivationLayer::new(b.dims(h), Activation::Relu), h)?;
//! let out = b.layer("2", Linear::new(b.dims(h), 2)?, h)?;
//! let mut g = b.finish(out)?;
//! let names: Vec<_> = g.param_layout().into_iter().map(|t| t.name).collect();
//! assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
//! let params = vec![0.1; g.n_params()];
//! let y = g.forward(&params, &mut [], &[1.0, 2.0, 3.0], 1, Mode::Eval);
//! assert_eq!(y.len(), 2);
//! # Ok::<(), optbench_models::layers::LayerError>(())
//! ```
//!
//! **Parameters** are laid out node by node in the order the nodes were added, each node's
//! tensors in its layer's order; networks add their nodes in the order the PyTorch module
//! registers its submodules, so the flat vector is `named_parameters()` concatenated.
//!
//! **Memory.** [`Graph::reserve`] sizes one arena for every node's output and one for their
//! gradients (batch capacity × the sum of the tensor sizes), the shared [`Workspace`], and each
//! layer's private state; after that a pass allocates nothing. The network's input is not
//! copied: it is read where the caller keeps it and gets no gradient.
//!
//! **Backward** walks the nodes in reverse. Each layer overwrites the gradient of its input;
//! where a tensor feeds several nodes (the input of a residual block), the first of them in
//! backward order writes it and the others write into a scratch tensor that is then added, so
//! every gradient is a sum in a fixed order.
//!
//! **Shared parameters** (tied embeddings: a language model's head reusing the token
//! embedding's table, Press & Wolf 2017) are a node whose layer reads another node's parameter
//! slice ([`GraphBuilder::layer_sharing`]). As PyTorch's `named_parameters()`, the shared tensor
//! is listed once, under the first node's name; the later node's names are aliases
//! ([`Graph::param_aliases`]). Backward sums the gradient the same way as for tensors: the first
//! of the nodes in backward order writes it, the others write into a scratch slice that is then
//! added.

use std::ops::Range;

use rand_chacha::ChaCha8Rng;

use super::{Dims, Layer, Mode, Pass, Workspace, residual};

mod builder;
#[cfg(test)]
mod tests;

pub use builder::GraphBuilder;

/// A tensor of the graph: 0 is the network's input.
pub type TensorId = usize;

enum Op {
    Layer(Box<dyn Layer>),
    /// Residual addition, with a ReLU fused after it when `relu` is set.
    Add {
        relu: bool,
    },
}

struct Node {
    /// PyTorch module path of the node (`layer1.0.conv1`).
    path: String,
    op: Op,
    inputs: Vec<TensorId>,
    output: TensorId,
    params: Range<usize>,
    buffers: Range<usize>,
    /// Per input: whether backward adds into the input's gradient (another node wrote it).
    accumulate: Vec<bool>,
    /// Whether the parameters are another node's (listed and initialised there).
    shares_params: bool,
    /// Whether backward adds into the parameter gradient (another node wrote it).
    accumulate_params: bool,
}

/// A named tensor of the flat parameter (or buffer) vector, as PyTorch names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamedTensor {
    /// Full name, e.g. `layer1.0.conv1.weight`.
    pub name: String,
    /// PyTorch shape.
    pub shape: Vec<usize>,
    /// Offset of its first element in the flat vector.
    pub offset: usize,
    /// The PyTorch class of the module that owns it, e.g. `BatchNorm2d`.
    pub module: &'static str,
}

impl NamedTensor {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether it has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Its range in the flat vector.
    pub fn range(&self) -> Range<usize> {
        self.offset..self.offset + self.len()
    }
}

/// A network body: layers in execution order over preallocated arenas.
pub struct Graph {
    dims: Vec<Dims>,
    nodes: Vec<Node>,
    output: TensorId,
    n_params: usize,
    n_buffers: usize,
    needs_tmp: bool,
    cap: usize,
    /// Offset of each tensor (but the input) in the arenas, for `cap` examples.
    offsets: Vec<usize>,
    acts: Vec<f32>,
    grads: Vec<f32>,
    tmp: Vec<f32>,
    /// Scratch gradient of shared parameters (the largest shared slice).
    param_tmp: Vec<f32>,
    ws: Workspace,
}

impl Graph {
    /// Length of the parameter vector.
    pub fn n_params(&self) -> usize {
        self.n_params
    }

    /// Length of the buffer vector.
    pub fn n_buffers(&self) -> usize {
        self.n_buffers
    }

    /// Shape of one input example.
    pub fn input_dims(&self) -> Dims {
        self.dims[0]
    }

    /// Shape of one output example.
    pub fn output_dims(&self) -> Dims {
        self.dims[self.output]
    }

    /// PyTorch's default initialisation of every parameter, drawn from `rng` layer by layer.
    pub fn init_params(&self, rng: &mut ChaCha8Rng) -> Vec<f32> {
        let mut params = vec![0.0; self.n_params];
        for node in self.nodes.iter().filter(|n| !n.shares_params) {
            if let Op::Layer(l) = &node.op {
                l.init_params(&mut params[node.params.clone()], rng);
            }
        }
        params
    }

    /// The buffers' initial values.
    pub fn init_buffers(&self) -> Vec<f32> {
        let mut buffers = vec![0.0; self.n_buffers];
        for node in &self.nodes {
            if let Op::Layer(l) = &node.op {
                l.init_buffers(&mut buffers[node.buffers.clone()]);
            }
        }
        buffers
    }

    fn named(&self, buffers: bool, aliases: bool) -> Vec<NamedTensor> {
        let mut out = Vec::new();
        for node in self.nodes.iter().filter(|n| n.shares_params == aliases) {
            let Op::Layer(l) = &node.op else { continue };
            let (specs, mut offset) = if buffers {
                (l.buffers(), node.buffers.start)
            } else {
                (l.params(), node.params.start)
            };
            for spec in specs {
                let len = spec.len();
                let name = if node.path.is_empty() {
                    spec.name.to_string()
                } else {
                    format!("{}.{}", node.path, spec.name)
                };
                out.push(NamedTensor {
                    name,
                    shape: spec.shape,
                    offset,
                    module: l.kind(),
                });
                offset += len;
            }
        }
        out
    }

    /// The parameters as PyTorch's `named_parameters()`: names, shapes, offsets.
    pub fn param_layout(&self) -> Vec<NamedTensor> {
        self.named(false, false)
    }

    /// The other names of shared parameters (`head.weight` of a tied head), each at the offset
    /// of the tensor it shares; PyTorch's `state_dict()` lists them, `named_parameters()` not.
    pub fn param_aliases(&self) -> Vec<NamedTensor> {
        self.named(false, true)
    }

    /// The buffers as PyTorch's `named_buffers()` (f32 ones: running statistics).
    pub fn buffer_layout(&self) -> Vec<NamedTensor> {
        self.named(true, false)
    }

    /// The PyTorch classes of the layers, in order (for messages and documentation).
    pub fn describe(&self) -> Vec<(String, &'static str, Dims)> {
        self.nodes
            .iter()
            .map(|n| {
                let kind = match &n.op {
                    Op::Layer(l) => l.kind(),
                    Op::Add { relu: false } => "add",
                    Op::Add { relu: true } => "add+ReLU",
                };
                (n.path.clone(), kind, self.dims[n.output])
            })
            .collect()
    }

    /// The batch size the buffers are sized for.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Sizes every buffer for batches of up to `batch` examples (no-op if already that large).
    pub fn reserve(&mut self, batch: usize) {
        if batch <= self.cap {
            return;
        }
        self.cap = batch;
        self.offsets = vec![0; self.dims.len()];
        let mut total = 0;
        for t in 1..self.dims.len() {
            self.offsets[t] = total;
            total += batch * self.dims[t].len();
        }
        self.acts = vec![0.0; total];
        self.grads = vec![0.0; total];
        if self.needs_tmp {
            let largest = self.dims.iter().map(Dims::len).max().unwrap_or(0);
            self.tmp = vec![0.0; batch * largest];
        }
        let mut scratch = 0;
        for node in &mut self.nodes {
            if let Op::Layer(l) = &mut node.op {
                l.reserve(batch);
                scratch = scratch.max(l.scratch_len(batch));
            }
        }
        if self.ws.scratch.len() < scratch {
            self.ws.scratch = vec![0.0; scratch];
        }
    }

    /// Runs the layers on `batch` examples `x` (the input's layout) and returns the output.
    pub fn forward(
        &mut self,
        params: &[f32],
        buffers: &mut [f32],
        x: &[f32],
        batch: usize,
        mode: Mode,
    ) -> &[f32] {
        self.reserve(batch);
        let Graph {
            dims,
            nodes,
            offsets,
            acts,
            ws,
            ..
        } = self;
        let mut pass = Pass { batch, mode, ws };
        let x = &x[..batch * dims[0].len()];
        for node in nodes.iter_mut() {
            let (lo, hi) = acts.split_at_mut(offsets[node.output]);
            let y = &mut hi[..batch * dims[node.output].len()];
            let read = |t: TensorId| {
                if t == 0 {
                    x
                } else {
                    &lo[offsets[t]..offsets[t] + batch * dims[t].len()]
                }
            };
            match &mut node.op {
                Op::Layer(l) => {
                    let p = &params[node.params.clone()];
                    let b = &mut buffers[node.buffers.clone()];
                    l.forward(read(node.inputs[0]), y, p, b, &mut pass);
                }
                Op::Add { relu } => {
                    let (a, b) = (read(node.inputs[0]), read(node.inputs[1]));
                    if *relu {
                        residual::add_relu(a, b, y);
                    } else {
                        residual::add(a, b, y);
                    }
                }
            }
        }
        self.output(batch)
    }

    /// The output of the last forward pass.
    pub fn output(&self, batch: usize) -> &[f32] {
        let o = self.output;
        &self.acts[self.offsets[o]..][..batch * self.dims[o].len()]
    }

    /// The output of the last forward pass and its gradient, to be written before `backward`.
    pub fn output_and_grad(&mut self, batch: usize) -> (&[f32], &mut [f32]) {
        let o = self.output;
        let range = self.offsets[o]..self.offsets[o] + batch * self.dims[o].len();
        (&self.acts[range.clone()], &mut self.grads[range])
    }

    /// Writes `∂L/∂params` into `grad` (every element), from the output gradient set through
    /// [`Graph::output_and_grad`], after a forward pass of the same batch `x` and mode.
    pub fn backward(
        &mut self,
        params: &[f32],
        grad: &mut [f32],
        x: &[f32],
        batch: usize,
        mode: Mode,
    ) {
        let Graph {
            dims,
            nodes,
            offsets,
            acts,
            grads,
            tmp,
            param_tmp,
            ws,
            ..
        } = self;
        let mut pass = Pass { batch, mode, ws };
        let x = &x[..batch * dims[0].len()];
        let read = |t: TensorId| {
            if t == 0 {
                x
            } else {
                &acts[offsets[t]..offsets[t] + batch * dims[t].len()]
            }
        };
        for node in nodes.iter_mut().rev() {
            let o = node.output;
            let (glo, ghi) = grads.split_at_mut(offsets[o]);
            let dy = &ghi[..batch * dims[o].len()];
            match &mut node.op {
                Op::Layer(l) => {
                    let i = node.inputs[0];
                    let n_in = batch * dims[i].len();
                    let p = &params[node.params.clone()];
                    let g = if node.accumulate_params {
                        &mut param_tmp[..node.params.len()]
                    } else {
                        &mut grad[node.params.clone()]
                    };
                    let dx = if i == 0 {
                        None
                    } else if node.accumulate[0] {
                        Some(&mut tmp[..n_in])
                    } else {
                        Some(&mut glo[offsets[i]..offsets[i] + n_in])
                    };
                    l.backward(read(i), read(o), dy, dx, p, g, &mut pass);
                    if node.accumulate_params {
                        let g = &param_tmp[..node.params.len()];
                        residual::add_backward(g, &mut grad[node.params.clone()], true);
                    }
                    if i != 0 && node.accumulate[0] {
                        residual::add_backward(&tmp[..n_in], &mut glo[offsets[i]..][..n_in], true);
                    }
                }
                Op::Add { relu } => {
                    for (&i, &acc) in node.inputs.iter().zip(&node.accumulate) {
                        if i == 0 {
                            continue;
                        }
                        let d_input = &mut glo[offsets[i]..][..dy.len()];
                        if *relu {
                            residual::add_relu_backward(read(o), dy, d_input, acc);
                        } else {
                            residual::add_backward(dy, d_input, acc);
                        }
                    }
                }
            }
        }
    }
}
