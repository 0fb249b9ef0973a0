//! Typed errors of the optimizer crate.

/// Why a configuration was rejected or a step could not be taken.
///
/// Every message is one sentence that names the offending key or value and, for names, lists
/// the valid ones. The closest valid name ("did you mean") is suggested by the experiment-file
/// front end (optbench-spec), which checks names and keys for every kind of thing before this
/// crate sees them, so there is one such suggestion in the workspace.
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
    /// An unknown name of a thing (`optimizer`, `schedule`, ...); `valid` lists the valid names.
    #[error("unknown {kind} `{name}`; valid names: {valid}")]
    UnknownName {
        kind: &'static str,
        name: String,
        valid: String,
    },
    /// A key that the thing described by `context` does not have; `valid` lists its keys.
    #[error("unknown key `{key}` in {context}; valid keys: {valid}")]
    UnknownKey {
        context: String,
        key: String,
        valid: String,
    },
    /// A key whose value has the wrong JSON/YAML type.
    #[error("{context}: `{key}` must be {expected}, got {got}")]
    WrongType {
        context: String,
        key: String,
        expected: &'static str,
        got: String,
    },
    /// A required key is missing.
    #[error("{context}: missing required key `{key}`")]
    MissingKey { context: String, key: &'static str },
    /// A step was asked to run on a CPU path ([`crate::CpuPath`]) this CPU does not have.
    #[error("this CPU cannot run the {path} kernels")]
    CpuPathUnavailable { path: &'static str },
    /// Saved optimizer state that does not fit this optimizer.
    #[error("invalid {optimizer} state: {reason}")]
    InvalidState {
        optimizer: &'static str,
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_name_message_lists_the_valid_names() {
        let e = OptimError::UnknownName {
            kind: "optimizer",
            name: "adamm".into(),
            valid: "sgd, adam, adamw".into(),
        };
        let msg = e.to_string();
        assert!(msg.contains("unknown optimizer `adamm`"), "{msg}");
        assert!(msg.contains("sgd, adam, adamw"), "{msg}");
    }

    #[test]
    fn unknown_key_message_lists_the_valid_keys() {
        let e = OptimError::UnknownKey {
            context: "optimizer `sgd`".into(),
            key: "completely_different".into(),
            valid: "lr, momentum".into(),
        };
        let msg = e.to_string();
        assert!(msg.contains("valid keys: lr, momentum"), "{msg}");
    }
}
