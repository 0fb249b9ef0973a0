//! [`GraphBuilder`]: nodes added in execution (and parameter) order, checked as they come, then
//! [`GraphBuilder::finish`] lays out the arenas of a [`Graph`].

use std::ops::Range;

use super::{Graph, Node, Op, TensorId};
use crate::layers::{Dims, Layer, LayerError, Workspace};

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
        self.add_node(a, b, false)
    }

    /// Adds `relu(a + b)` as one node ([`crate::layers::residual::add_relu`]: the same bits as
    /// [`GraphBuilder::add`] then a ReLU layer, in one pass); returns its output tensor.
    pub fn add_relu(&mut self, a: TensorId, b: TensorId) -> Result<TensorId, LayerError> {
        self.add_node(a, b, true)
    }

    fn add_node(&mut self, a: TensorId, b: TensorId, relu: bool) -> Result<TensorId, LayerError> {
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
            op: Op::Add { relu },
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
