//! Typed errors of the optimizer crate.

/// Why a configuration was rejected or a step could not be taken.
///
/// Every message is one sentence that names the offending key or value; name errors suggest the
/// closest valid name (Damerau–Levenshtein, see [`closest`]).
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
    #[error("unknown {kind} `{name}`{}; valid names: {valid}", suggestion(.name, .valid))]
    UnknownName {
        kind: &'static str,
        name: String,
        valid: String,
    },
    /// A key that the thing described by `context` does not have; `valid` lists its keys.
    #[error("unknown key `{key}` in {context}{}; valid keys: {valid}", suggestion(.key, .valid))]
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

/// The valid name closest to `name` (case-insensitive Damerau–Levenshtein distance), if it is
/// close enough to be a plausible typo: at most 2 edits, or a third of the name's length.
pub fn closest<'a>(name: &str, valid: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let limit = (lower.chars().count() / 3).max(2);
    valid
        .into_iter()
        .map(|v| (strsim::damerau_levenshtein(&lower, &v.to_lowercase()), v))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, _)| d)
        .map(|(_, v)| v)
}

/// `" (did you mean `x`?)"` for the closest of the comma-separated `valid` names, or nothing.
fn suggestion(name: &str, valid: &str) -> String {
    closest(
        name,
        valid.split(',').map(str::trim).filter(|s| !s.is_empty()),
    )
    .filter(|&v| v != name)
    .map(|v| format!(" (did you mean `{v}`?)"))
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_finds_typos_and_rejects_far_names() {
        let names = ["sgd", "adam", "adamw", "rmsprop", "adagrad"];
        assert_eq!(closest("adamm", names), Some("adam"));
        assert_eq!(closest("RMSProp", names), Some("rmsprop"));
        assert_eq!(closest("rmsprob", names), Some("rmsprop"));
        assert_eq!(closest("sdg", names), Some("sgd"));
        assert_eq!(closest("lbfgs_newton", names), None);
    }

    #[test]
    fn unknown_name_message_suggests() {
        let e = OptimError::UnknownName {
            kind: "optimizer",
            name: "adamm".into(),
            valid: "sgd, adam, adamw".into(),
        };
        let msg = e.to_string();
        assert!(msg.contains("unknown optimizer `adamm`"), "{msg}");
        assert!(msg.contains("did you mean `adam`?"), "{msg}");
        assert!(msg.contains("sgd, adam, adamw"), "{msg}");
    }

    #[test]
    fn unknown_key_message_without_close_match_has_no_suggestion() {
        let e = OptimError::UnknownKey {
            context: "optimizer `sgd`".into(),
            key: "completely_different".into(),
            valid: "lr, momentum".into(),
        };
        let msg = e.to_string();
        assert!(!msg.contains("did you mean"), "{msg}");
        assert!(msg.contains("valid keys: lr, momentum"), "{msg}");
    }
}
