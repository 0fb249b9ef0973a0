//! The problem abstraction: a loss over one flat `f32` parameter vector.

use std::path::Path;

use crate::error::ModelError;
use crate::layers::graph::NamedTensor;

/// Test-set metrics of a parameter vector; `None` where a metric does not apply.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TestMetrics {
    /// Objective on the held-out test split.
    pub loss: Option<f64>,
    /// Fraction of correctly classified test examples (classifiers only).
    pub accuracy: Option<f64>,
}

/// Training-set metrics of a parameter vector, measured on the examples of
/// [`Problem::train_loss`] in one pass.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TrainMetrics {
    /// The training objective, as [`Problem::train_loss`].
    pub loss: f64,
    /// Fraction of correctly classified examples of the same set (classifiers only).
    pub accuracy: Option<f64>,
}

/// How much work a problem has done, for fair comparisons.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EvalCounts {
    /// Loss evaluations (with or without gradient).
    pub loss_evals: u64,
    /// Gradient evaluations.
    pub grad_evals: u64,
    /// Training examples that went through a gradient evaluation.
    pub examples_seen: u64,
}

/// A differentiable objective over one flat `f32` parameter vector.
///
/// Implementations preallocate their work buffers; `loss_grad` does not allocate.
pub trait Problem: Send {
    /// Number of parameters.
    fn dim(&self) -> usize;

    /// Number of training examples; 1 for analytic problems (only `batch_size: full` applies).
    fn train_len(&self) -> usize;

    /// The initial point for this run, derived from the seed the problem was built with
    /// (or the `init` override).
    fn initial_params(&self) -> Vec<f32>;

    /// Mean loss over the training examples `batch` (indices into the training split; for
    /// analytic problems pass `&[0]`), writing its gradient into `grad` (overwritten).
    fn loss_grad(&mut self, params: &[f32], batch: &[usize], grad: &mut [f32]) -> f64;

    /// The training objective (on the fixed evaluation subset for large sets); for analytic
    /// problems the noise-free function value.
    fn train_loss(&mut self, params: &[f32]) -> f64;

    /// The training objective and, for classifiers, the accuracy on the same examples, from one
    /// evaluation pass (by default [`Problem::train_loss`] without an accuracy).
    fn train_metrics(&mut self, params: &[f32]) -> TrainMetrics {
        TrainMetrics {
            loss: self.train_loss(params),
            accuracy: None,
        }
    }

    /// Loss and accuracy on the test split.
    fn test_metrics(&mut self, params: &[f32]) -> TestMetrics;

    /// Work done so far by [`Problem::loss_grad`] (monitoring through `train_loss` and
    /// `test_metrics` is not counted).
    fn eval_counts(&self) -> EvalCounts;

    /// Whether the problem is a classifier (then [`TestMetrics::accuracy`] is set).
    fn is_classifier(&self) -> bool {
        false
    }

    /// The known minimum of the objective, for analytic problems.
    fn minimum(&self) -> Option<f64> {
        None
    }

    /// Number of test examples (0 for analytic problems or `test_fraction: 0`).
    fn test_len(&self) -> usize {
        0
    }

    /// Number of training examples `train_loss` is measured on (the fixed evaluation subset).
    fn eval_train_len(&self) -> usize {
        self.train_len()
    }

    /// The parameters as the equivalent PyTorch module's `named_parameters()`: names, shapes
    /// and offsets into the parameter vector (empty for analytic problems).
    fn param_layout(&self) -> Vec<NamedTensor> {
        Vec::new()
    }

    /// Writes `params` and the problem's buffers (batch-norm running statistics) to a
    /// safetensors file that PyTorch's `model.load_state_dict(load_file(path))` accepts
    /// ([`crate::weights`]). Analytic problems have no weights file: an error.
    fn save_weights(&self, _params: &[f32], path: &Path) -> Result<(), ModelError> {
        Err(ModelError::Weights {
            path: path.to_path_buf(),
            tensor: None,
            message: "this problem has no named weights (only networks on data do)".into(),
        })
    }
}
