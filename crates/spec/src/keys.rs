//! The one check of names and keys: for every kind of thing an experiment file configures
//! (top-level keys, problems, datasets, optimizers, schedules, `train`, `exclude`, spaces), an
//! unknown name is an error with the closest valid name and the full list.
//!
//! The schemas come from the crates that own them (optbench-optim's hyperparameter and schedule
//! tables, optbench-models' problem and dataset key tables, this crate's `train` keys); this
//! module only compares, so every message reads the same and there is one "did you mean".

/// The closest of `valid` to `name`, as `" (did you mean `x`?)"`, or nothing when none is close
/// (Damerau–Levenshtein distance at most a third of the name's length, and at least 2, ignoring
/// case).
pub fn suggest<'a>(name: &str, valid: impl IntoIterator<Item = &'a str>) -> String {
    let lower = name.to_lowercase();
    let limit = (lower.chars().count() / 3).max(2);
    valid
        .into_iter()
        .map(|v| (strsim::damerau_levenshtein(&lower, &v.to_lowercase()), v))
        .filter(|&(d, v)| d <= limit && v != name)
        .min_by_key(|&(d, _)| d)
        .map(|(_, v)| format!(" (did you mean `{v}`?)"))
        .unwrap_or_default()
}

/// What a set of names is, for messages: `key`/`keys`, `hyperparameter`/`hyperparameters`...
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kind {
    /// One of them (`problem`).
    pub one: &'static str,
    /// Several (`problems`).
    pub many: &'static str,
}

impl Kind {
    /// Keys of a mapping.
    pub const KEY: Kind = Kind {
        one: "key",
        many: "keys",
    };
    /// Keys at the top of an experiment file.
    pub const TOP_LEVEL_KEY: Kind = Kind {
        one: "top-level key",
        many: "keys",
    };
    /// Optimizer hyperparameters.
    pub const HYPERPARAMETER: Kind = Kind {
        one: "hyperparameter",
        many: "hyperparameters",
    };
    /// Problem names.
    pub const PROBLEM: Kind = Kind {
        one: "problem",
        many: "problems",
    };
    /// Dataset names.
    pub const DATASET: Kind = Kind {
        one: "dataset",
        many: "datasets",
    };
    /// Optimizer names.
    pub const OPTIMIZER: Kind = Kind {
        one: "optimizer",
        many: "optimizers",
    };
    /// Schedule names.
    pub const SCHEDULE: Kind = Kind {
        one: "schedule",
        many: "schedules",
    };
}

/// `name` is one of `valid`, or the message that says it is not:
/// ``unknown hyperparameter `beta1` (did you mean `betas`?); valid hyperparameters: lr, betas``.
pub fn check_name(kind: Kind, name: &str, valid: &[&str]) -> Result<(), String> {
    if valid.contains(&name) {
        return Ok(());
    }
    Err(format!(
        "unknown {} `{name}`{}; valid {}: {}",
        kind.one,
        suggest(name, valid.iter().copied()),
        kind.many,
        valid.join(", ")
    ))
}

/// The first of `keys` that is not in `valid`, with its message (see [`check_name`]).
pub fn check_keys<'k>(
    kind: Kind,
    keys: impl IntoIterator<Item = &'k String>,
    valid: &[&str],
) -> Result<(), (String, String)> {
    for k in keys {
        check_name(kind, k, valid).map_err(|m| (k.clone(), m))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested_far_ones_are_not() {
        assert_eq!(
            suggest("beta1", ["betas", "lr"]),
            " (did you mean `betas`?)"
        );
        assert_eq!(suggest("Adamm", ["adam", "sgd"]), " (did you mean `adam`?)");
        assert_eq!(suggest("completely_different", ["lr", "momentum"]), "");
        // The name itself is never suggested.
        assert_eq!(suggest("lr", ["lr"]), "");
    }

    #[test]
    fn messages_name_the_kind_and_list_the_valid_names() {
        let e = check_name(Kind::HYPERPARAMETER, "beta1", &["lr", "betas"]).unwrap_err();
        assert_eq!(
            e,
            "unknown hyperparameter `beta1` (did you mean `betas`?); valid hyperparameters: lr, betas"
        );
        assert!(check_name(Kind::PROBLEM, "booth", &["booth"]).is_ok());
        let keys = ["lr".to_string(), "mommentum".to_string()];
        let (k, m) = check_keys(Kind::KEY, &keys, &["lr", "momentum"]).unwrap_err();
        assert_eq!(k, "mommentum");
        assert!(m.contains("did you mean `momentum`"), "{m}");
    }
}
