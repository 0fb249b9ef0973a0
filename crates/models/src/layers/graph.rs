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

use super::{Dims, Layer, LayerError, Mode, Pass, Workspace, residual};

/// A tensor of the graph: 0 is the network's input.
pub type TensorId = usize;

enum Op {
    Layer(Box<dyn Layer>),
    Add,
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

/// Adds nodes in execution (and parameter) order.
pub struct GraphBuilder {
    dims: Vec<Dims>,
    nodes: Vec<Node>,
    n_params: usize,
    n_buffers: usize,
}

impl GraphBuilder {
    /// A graph on inputs of shape `input`.
    pub fn new(input: Dims) -> Self {
        GraphBuilder {
            dims: vec![input],
            nodes: Vec::new(),
            n_params: 0,
            n_buffers: 0,
        }
    }

    /// The network's input tensor.
    pub fn input(&self) -> TensorId {
        0
    }

    /// The shape of one example of tensor `t`.
    pub fn dims(&self, t: TensorId) -> Dims {
        self.dims[t]
    }

    /// Adds `layer` (module path `path`) reading tensor `input`; returns its output tensor.
    pub fn layer(
        &mut self,
        path: impl Into<String>,
        layer: impl Layer + 'static,
        input: TensorId,
    ) -> Result<TensorId, LayerError> {
        self.add_layer(path.into(), Box::new(layer), input, None)
    }

    /// Adds `layer` reading tensor `input` with the parameters of the node that computed
    /// `owner` (which must have the same parameter shapes): tied weights.
    pub fn layer_sharing(
        &mut self,
        path: impl Into<String>,
        layer: impl Layer + 'static,
        input: TensorId,
        owner: TensorId,
    ) -> Result<TensorId, LayerError> {
        let node = self
            .nodes
            .iter()
            .find(|n| n.output == owner && !n.shares_params)
            .ok_or_else(|| {
                LayerError::new(
                    layer.kind(),
                    "shares the parameters of a node that has none",
                )
            })?;
        let Op::Layer(owner_layer) = &node.op else {
            return Err(LayerError::new(
                layer.kind(),
                "cannot share an addition's parameters",
            ));
        };
        let shapes = |l: &dyn Layer| l.params().into_iter().map(|t| t.shape).collect::<Vec<_>>();
        if shapes(owner_layer.as_ref()) != shapes(&layer) {
            return Err(LayerError::new(
                layer.kind(),
                format!(
                    "cannot share the parameters of {} ({:?}): shapes {:?}",
                    node.path,
                    shapes(owner_layer.as_ref()),
                    shapes(&layer)
                ),
            ));
        }
        let range = node.params.clone();
        self.add_layer(path.into(), Box::new(layer), input, Some(range))
    }

    fn add_layer(
        &mut self,
        path: String,
        layer: Box<dyn Layer>,
        input: TensorId,
        shared: Option<Range<usize>>,
    ) -> Result<TensorId, LayerError> {
        if layer.input_dims() != self.dims[input] {
            return Err(LayerError::new(
                layer.kind(),
                format!(
                    "expects inputs of shape {}, the tensor it reads is {}",
                    layer.input_dims(),
                    self.dims[input]
                ),
            ));
        }
        let n_params: usize = layer.params().iter().map(|t| t.len()).sum();
        let n_buffers: usize = layer.buffers().iter().map(|t| t.len()).sum();
        let output = self.dims.len();
        self.dims.push(layer.output_dims());
        let shares_params = shared.is_some();
        let params = shared.unwrap_or(self.n_params..self.n_params + n_params);
        self.nodes.push(Node {
            path,
            op: Op::Layer(layer),
            inputs: vec![input],
            output,
            params,
            buffers: self.n_buffers..self.n_buffers + n_buffers,
            accumulate: vec![false],
            shares_params,
            accumulate_params: false,
        });
        if !shares_params {
            self.n_params += n_params;
        }
        self.n_buffers += n_buffers;
        Ok(output)
    }

    /// Adds the residual addition `a + b` (same shapes); returns its output tensor.
    pub fn add(&mut self, a: TensorId, b: TensorId) -> Result<TensorId, LayerError> {
        if self.dims[a] != self.dims[b] {
            return Err(LayerError::new(
                "add",
                format!("cannot add {} and {}", self.dims[a], self.dims[b]),
            ));
        }
        let output = self.dims.len();
        self.dims.push(self.dims[a]);
        self.nodes.push(Node {
            path: String::new(),
            op: Op::Add,
            inputs: vec![a, b],
            output,
            params: self.n_params..self.n_params,
            buffers: self.n_buffers..self.n_buffers,
            accumulate: vec![false, false],
            shares_params: false,
            accumulate_params: false,
        });
        Ok(output)
    }

    /// The graph computing tensor `output` (the last node's).
    pub fn finish(mut self, output: TensorId) -> Result<Graph, LayerError> {
        if self.nodes.last().map(|n| n.output) != Some(output) {
            return Err(LayerError::new(
                "graph",
                "the output must be the last node's",
            ));
        }
        // In backward order, the first node to reach a tensor writes its gradient, later ones add.
        let mut written = vec![false; self.dims.len()];
        for node in self.nodes.iter_mut().rev() {
            for (k, &t) in node.inputs.iter().enumerate() {
                node.accumulate[k] = written[t];
                written[t] = true;
            }
        }
        let needs_tmp = self.nodes.iter().any(|n| n.accumulate.iter().any(|&a| a));
        // The same for shared parameters: the first node in backward order writes the gradient.
        let mut params_written: Vec<usize> = Vec::new();
        let mut param_tmp = 0;
        for node in self.nodes.iter_mut().rev() {
            if node.params.is_empty() {
                continue;
            }
            node.accumulate_params = params_written.contains(&node.params.start);
            if node.accumulate_params {
                param_tmp = param_tmp.max(node.params.len());
            }
            params_written.push(node.params.start);
        }
        Ok(Graph {
            dims: self.dims,
            nodes: self.nodes,
            output,
            n_params: self.n_params,
            n_buffers: self.n_buffers,
            needs_tmp,
            cap: 0,
            offsets: Vec::new(),
            acts: Vec::new(),
            grads: Vec::new(),
            tmp: Vec::new(),
            param_tmp: vec![0.0; param_tmp],
            ws: Workspace::default(),
        })
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
                    Op::Add => "add",
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
                Op::Add => residual::add(read(node.inputs[0]), read(node.inputs[1]), y),
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
                Op::Add => {
                    for (&i, &acc) in node.inputs.iter().zip(&node.accumulate) {
                        if i != 0 {
                            residual::add_backward(dy, &mut glo[offsets[i]..][..dy.len()], acc);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::check;
    use crate::layers::linear::Linear;
    use rand::SeedableRng;

    /// A residual block `y = W2·(W1·x) + W1·x` on the graph against finite differences of the
    /// same computation in f64.
    #[test]
    fn residual_gradient_accumulates() {
        let d = Dims::vector(3);
        let mut b = GraphBuilder::new(d);
        let h = b.layer("a", Linear::new(d, 3).unwrap(), b.input()).unwrap();
        let g = b.layer("b", Linear::new(d, 3).unwrap(), h).unwrap();
        let s = b.add(g, h).unwrap();
        let out = b.layer("c", Linear::new(d, 2).unwrap(), s).unwrap();
        let mut graph = b.finish(out).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let params = graph.init_params(&mut rng);
        let x = check::random(2 * 3, 1.0, &mut rng);
        let r = check::random(2 * 2, 1.0, &mut rng);
        graph.forward(&params, &mut [], &x, 2, Mode::Train);
        graph.output_and_grad(2).1.copy_from_slice(&r);
        let mut grad = vec![f32::NAN; params.len()];
        graph.backward(&params, &mut grad, &x, 2, Mode::Train);
        let lin = |p: &[f64], off: usize, n_in: usize, n_out: usize, v: &[f64]| -> Vec<f64> {
            (0..n_out)
                .map(|o| {
                    p[off + n_in * n_out + o]
                        + (0..n_in).map(|i| p[off + o * n_in + i] * v[i]).sum::<f64>()
                })
                .collect()
        };
        let loss = |p: &[f64]| -> f64 {
            let mut total = 0.0;
            for (n, xe) in x.chunks(3).enumerate() {
                let xe: Vec<f64> = xe.iter().map(|&v| f64::from(v)).collect();
                let h = lin(p, 0, 3, 3, &xe);
                let g = lin(p, 12, 3, 3, &h);
                let s: Vec<f64> = g.iter().zip(&h).map(|(a, b)| a + b).collect();
                let y = lin(p, 24, 3, 2, &s);
                total += y
                    .iter()
                    .zip(&r[n * 2..])
                    .map(|(y, &r)| y * f64::from(r))
                    .sum::<f64>();
            }
            total
        };
        let p64: Vec<f64> = params.iter().map(|&v| f64::from(v)).collect();
        for i in 0..p64.len() {
            let mut q = p64.clone();
            q[i] += 1e-6;
            let up = loss(&q);
            q[i] -= 2e-6;
            let fd = (up - loss(&q)) / 2e-6;
            assert!(
                (f64::from(grad[i]) - fd).abs() < 1e-4 * (1.0 + fd.abs()),
                "{i}: {} vs {fd}",
                grad[i]
            );
        }
        let names: Vec<_> = graph.param_layout().into_iter().map(|t| t.name).collect();
        assert_eq!(
            names,
            [
                "a.weight", "a.bias", "b.weight", "b.bias", "c.weight", "c.bias"
            ]
        );
    }

    /// Tied weights `y = C·(W·(W·x))` with one `W`: its gradient is the sum of both uses, against
    /// finite differences in f64; it is listed once, under the first name.
    #[test]
    fn shared_parameter_gradient_accumulates() {
        let d = Dims::vector(3);
        let mut b = GraphBuilder::new(d);
        let h = b
            .layer("a", Linear::without_bias(d, 3).unwrap(), b.input())
            .unwrap();
        let g = b
            .layer_sharing("b", Linear::without_bias(d, 3).unwrap(), h, h)
            .unwrap();
        let out = b.layer("c", Linear::new(d, 2).unwrap(), g).unwrap();
        assert!(
            b.layer_sharing("x", Linear::new(Dims::vector(2), 2).unwrap(), out, h)
                .is_err()
        );
        let mut graph = b.finish(out).unwrap();
        assert_eq!(graph.n_params(), 9 + 6 + 2);
        let names: Vec<_> = graph.param_layout().into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["a.weight", "c.weight", "c.bias"]);
        let aliases = graph.param_aliases();
        assert_eq!(
            (aliases[0].name.as_str(), aliases[0].offset),
            ("b.weight", 0)
        );
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let params = graph.init_params(&mut rng);
        let x = check::random(2 * 3, 1.0, &mut rng);
        let r = check::random(2 * 2, 1.0, &mut rng);
        graph.forward(&params, &mut [], &x, 2, Mode::Train);
        graph.output_and_grad(2).1.copy_from_slice(&r);
        let mut grad = vec![f32::NAN; params.len()];
        graph.backward(&params, &mut grad, &x, 2, Mode::Train);
        let mat = |p: &[f64], v: &[f64], rows: usize| -> Vec<f64> {
            (0..rows)
                .map(|o| (0..v.len()).map(|i| p[o * v.len() + i] * v[i]).sum())
                .collect()
        };
        let loss = |p: &[f64]| -> f64 {
            x.chunks(3)
                .zip(r.chunks(2))
                .map(|(xe, re)| {
                    let xe: Vec<f64> = xe.iter().map(|&v| f64::from(v)).collect();
                    let h = mat(p, &mat(p, &xe, 3), 3);
                    let y = mat(&p[9..], &h, 2);
                    (0..2)
                        .map(|o| (y[o] + p[15 + o]) * f64::from(re[o]))
                        .sum::<f64>()
                })
                .sum()
        };
        let p64: Vec<f64> = params.iter().map(|&v| f64::from(v)).collect();
        for i in 0..p64.len() {
            let mut q = p64.clone();
            q[i] += 1e-6;
            let up = loss(&q);
            q[i] -= 2e-6;
            let fd = (up - loss(&q)) / 2e-6;
            assert!(
                (f64::from(grad[i]) - fd).abs() < 1e-4 * (1.0 + fd.abs()),
                "{i}: {} vs {fd}",
                grad[i]
            );
        }
    }

    #[test]
    fn shapes_must_fit() {
        let mut b = GraphBuilder::new(Dims::vector(3));
        assert!(
            b.layer("x", Linear::new(Dims::vector(4), 2).unwrap(), 0)
                .is_err()
        );
        let h = b
            .layer("x", Linear::new(Dims::vector(3), 2).unwrap(), 0)
            .unwrap();
        assert!(b.add(h, 0).is_err());
    }
}
