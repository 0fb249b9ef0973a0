//! Networks built from [`crate::layers`]: each builder returns the [`Graph`] of a PyTorch module
//! (parameters in its `named_parameters()` order) and its default initialisation.

pub(crate) mod cnn;
pub(crate) mod mlp;
pub(crate) mod resnet;
#[cfg(test)]
mod torch_reference;
pub(crate) mod transformer;
#[cfg(test)]
mod transformer_reference;

use crate::layers::LayerError;
use crate::layers::graph::Graph;

/// A built network: the graph and its initial parameters.
pub(crate) struct Built {
    pub graph: Graph,
    pub init: Vec<f32>,
}

/// A layer error as a configuration error of `problem`'s `key`.
pub(crate) fn key_error(problem: &str, key: &str, e: LayerError) -> crate::ModelError {
    crate::ModelError::OutOfRange {
        owner: problem.to_string(),
        key: key.to_string(),
        message: format!("is not possible here: {e}"),
    }
}
