//! Typed errors of the optimizer crate.

/// Why a configuration was rejected or a step could not be taken.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptimError {
    /// A hyperparameter is outside its allowed range (mirrors torch's `ValueError`s).
    #[error("invalid {optimizer} hyperparameter `{name}` = {value}: must be {allowed}")]
    InvalidHyperparameter {
        optimizer: &'static str,
        name: &'static str,
        value: String,
        allowed: &'static str,
    },
    /// Buffers passed to a step do not have the length the state was created with.
    #[error("buffer length mismatch: {what} has {got} elements, expected {expected}")]
    LengthMismatch {
        what: &'static str,
        got: usize,
        expected: usize,
    },
}
