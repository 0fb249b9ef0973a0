//! Hyperparameter schemas and the range checks shared by every optimizer config.

use crate::OptimError;

/// The JSON/YAML type of a hyperparameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A number (integers are accepted and read as floats).
    Float,
    /// `true` or `false`.
    Bool,
    /// Two numbers, `[beta1, beta2]` (torch's `betas` tuple).
    Betas,
}

impl Kind {
    /// How the type is described in error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Float => "a number",
            Kind::Bool => "a boolean",
            Kind::Betas => "a list of two numbers [beta1, beta2]",
        }
    }

    /// Whether `value` has this type.
    pub fn accepts(self, value: &serde_json::Value) -> bool {
        match self {
            Kind::Float => value.is_number(),
            Kind::Bool => value.is_boolean(),
            Kind::Betas => value
                .as_array()
                .is_some_and(|a| a.len() == 2 && a.iter().all(serde_json::Value::is_number)),
        }
    }
}

/// One hyperparameter of an optimizer: torch's keyword name, its type and a one-line meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hparam {
    pub name: &'static str,
    pub kind: Kind,
    pub doc: &'static str,
}

impl Hparam {
    pub(crate) const fn new(name: &'static str, kind: Kind, doc: &'static str) -> Self {
        Self { name, kind, doc }
    }
}

/// The hyperparameters several optimizers share, with the same meaning in each.
pub(crate) const LR: Hparam = Hparam::new("lr", Kind::Float, "learning rate");
pub(crate) const MAXIMIZE: Hparam = Hparam::new("maximize", Kind::Bool, "maximise the objective");
pub(crate) const EPS_DENOMINATOR: Hparam =
    Hparam::new("eps", Kind::Float, "term added to the denominator");
pub(crate) const WEIGHT_DECAY_L2: Hparam = Hparam::new(
    "weight_decay",
    Kind::Float,
    "L2 penalty added to the gradient",
);
pub(crate) const BETAS_MOMENTS: Hparam = Hparam::new(
    "betas",
    Kind::Betas,
    "decay rates of the first and second moments",
);

/// Range checks that build [`OptimError::InvalidHyperparameter`] naming optimizer, parameter,
/// value and allowed range. NaN fails every check.
pub(crate) struct Check(pub(crate) &'static str);

impl Check {
    fn err(&self, name: &'static str, value: f64, allowed: &'static str) -> OptimError {
        OptimError::InvalidHyperparameter {
            optimizer: self.0,
            name,
            value: format!("{value}"),
            allowed,
        }
    }

    /// `0 <= value < inf`.
    pub(crate) fn non_negative(&self, name: &'static str, value: f64) -> Result<(), OptimError> {
        if value >= 0.0 && value.is_finite() {
            Ok(())
        } else {
            Err(self.err(name, value, ">= 0 and finite"))
        }
    }

    /// `0 < value < inf`.
    pub(crate) fn positive(&self, name: &'static str, value: f64) -> Result<(), OptimError> {
        if value > 0.0 && value.is_finite() {
            Ok(())
        } else {
            Err(self.err(name, value, "> 0 and finite"))
        }
    }

    /// Any finite value.
    pub(crate) fn finite(&self, name: &'static str, value: f64) -> Result<(), OptimError> {
        if value.is_finite() {
            Ok(())
        } else {
            Err(self.err(name, value, "finite"))
        }
    }

    /// `0 <= value <= 1`.
    pub(crate) fn unit_closed(&self, name: &'static str, value: f64) -> Result<(), OptimError> {
        if (0.0..=1.0).contains(&value) {
            Ok(())
        } else {
            Err(self.err(name, value, "in [0, 1]"))
        }
    }

    /// Both betas in `[0, 1)`, named `betas[0]` and `betas[1]`.
    pub(crate) fn betas(&self, betas: [f64; 2]) -> Result<(), OptimError> {
        for (name, b) in [("betas[0]", betas[0]), ("betas[1]", betas[1])] {
            if !(0.0..1.0).contains(&b) {
                return Err(self.err(name, b, "in [0, 1)"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_accept_their_types_only() {
        assert!(Kind::Float.accepts(&json!(1)));
        assert!(Kind::Float.accepts(&json!(1e-3)));
        assert!(!Kind::Float.accepts(&json!("0.1")));
        assert!(Kind::Bool.accepts(&json!(true)));
        assert!(!Kind::Bool.accepts(&json!(1)));
        assert!(Kind::Betas.accepts(&json!([0.9, 0.999])));
        assert!(!Kind::Betas.accepts(&json!([0.9])));
        assert!(!Kind::Betas.accepts(&json!([0.9, "x"])));
        assert!(!Kind::Betas.accepts(&json!(0.9)));
    }

    #[test]
    fn checks_reject_nan_and_name_the_range() {
        let c = Check("adam");
        assert!(c.non_negative("lr", 0.0).is_ok());
        assert!(c.non_negative("lr", f64::NAN).is_err());
        assert!(c.non_negative("lr", f64::INFINITY).is_err());
        assert!(c.positive("eps", 0.0).is_err());
        assert!(c.unit_closed("rho", 1.0).is_ok());
        assert!(c.unit_closed("rho", 1.0 + 1e-12).is_err());
        assert!(c.finite("dampening", -0.5).is_ok());
        let e = c.betas([0.9, 1.0]).unwrap_err();
        assert_eq!(
            e,
            OptimError::InvalidHyperparameter {
                optimizer: "adam",
                name: "betas[1]",
                value: "1".into(),
                allowed: "in [0, 1)",
            }
        );
    }
}
