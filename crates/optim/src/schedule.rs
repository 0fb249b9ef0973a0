//! Learning-rate schedules, in closed form in the step number, matching
//! `torch.optim.lr_scheduler`.
//!
//! A schedule maps the index of a parameter update (`step`, 0 for the first update) to the
//! learning rate of that update. With torch, this is the learning rate an optimizer sees when the
//! scheduler's `step()` is called once after every `optimizer.step()`: update `k` runs with the
//! scheduler's `last_epoch == k`.
//!
//! | `name`        | torch counterpart                   | learning rate of update `t`                                    |
//! |---------------|-------------------------------------|----------------------------------------------------------------|
//! | `constant`    | none (no scheduler)                 | `base_lr`                                                      |
//! | `step`        | `StepLR(step_size, gamma=0.1)`      | `base_lr · gamma^⌊t / step_size⌋`                              |
//! | `multistep`   | `MultiStepLR(milestones, gamma=0.1)`| `base_lr · gamma^#{m ∈ milestones : m ≤ t}`                    |
//! | `exponential` | `ExponentialLR(gamma)`              | `base_lr · gamma^t`                                            |
//! | `cosine`      | `CosineAnnealingLR(T_max, eta_min=0)` | `eta_min + (base_lr − eta_min) · (1 + cos(π t / T_max)) / 2` |
//!
//! `cosine`'s `t_max` defaults to the run's number of updates; beyond `t_max` the formula
//! continues (the learning rate rises again), exactly as torch's closed form does.
//!
//! **Warm-up.** `warmup_steps: W` (default 0, no warm-up) and `warmup_start_factor: s` (default
//! 1/3, torch's `LinearLR` default; allowed `0 < s ≤ 1`) add torch's
//! `LinearLR(start_factor=s, end_factor=1, total_iters=W)`, composed **multiplicatively**, as
//! `torch.optim.lr_scheduler.ChainedScheduler([LinearLR(...), main])` does:
//!
//! ```text
//! lr(t) = main(t) · (s + (1 − s) · min(t, W) / W)
//! ```
//!
//! The main schedule is *not* shifted by the warm-up: `step_size`, `milestones` and `t_max`
//! count updates from the start of the run. For `step`, `multistep`, `exponential` and `cosine`
//! with `eta_min = 0` this is exactly what torch's `ChainedScheduler` computes; for `cosine`
//! with `eta_min > 0`, torch's chained (recursive) form depends on the path and is not a
//! product, and optbench uses the product above (the fixtures check it against the product of
//! torch's `LinearLR` factor and `CosineAnnealingLR` learning rate).
//!
//! YAML: `schedule: {name: cosine, warmup_steps: 100}` or `schedule: {name: step, step_size:
//! 1000, gamma: 0.5}`. Keys of another schedule, unknown keys, wrong types and out-of-range
//! values are errors naming the key.

use serde_json::{Map, Value};

use crate::OptimError;
use crate::hparam::{Hparam, HparamDefault, Kind, check_keys};

/// torch's `LinearLR` default `start_factor`.
pub const DEFAULT_WARMUP_START_FACTOR: f64 = 1.0 / 3.0;

/// torch's default `gamma` of `StepLR` and `MultiStepLR`.
pub const DEFAULT_STEP_GAMMA: f64 = 0.1;

/// One schedule's registry entry: name, torch counterpart, formula and keys.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScheduleInfo {
    /// YAML name (`cosine`).
    pub name: &'static str,
    /// The `torch.optim.lr_scheduler` class it matches (empty for `constant`).
    pub torch: &'static str,
    /// The learning rate of update `t`.
    pub summary: &'static str,
    /// Every key besides `name`, with kinds, defaults and docs (the warm-up keys last).
    pub keys: &'static [Hparam],
}

const fn key(name: &'static str, kind: Kind, default: HparamDefault, doc: &'static str) -> Hparam {
    Hparam {
        name,
        kind,
        default,
        doc,
    }
}

const WARMUP_STEPS: Hparam = key(
    "warmup_steps",
    Kind::Count,
    HparamDefault::Count(0),
    "updates of linear warm-up, chained multiplicatively (0: none)",
);
const WARMUP_START_FACTOR: Hparam = key(
    "warmup_start_factor",
    Kind::Float,
    HparamDefault::Float(DEFAULT_WARMUP_START_FACTOR),
    "warm-up factor of the first update, in (0, 1] (LinearLR's start_factor)",
);
const STEP_GAMMA: Hparam = key(
    "gamma",
    Kind::Float,
    HparamDefault::Float(DEFAULT_STEP_GAMMA),
    "multiplicative decay factor",
);

/// Every schedule, in the order of the table in the module docs.
pub const SCHEDULES: &[ScheduleInfo] = &[
    ScheduleInfo {
        name: "constant",
        torch: "",
        summary: "base_lr",
        keys: &[WARMUP_STEPS, WARMUP_START_FACTOR],
    },
    ScheduleInfo {
        name: "step",
        torch: "StepLR",
        summary: "base_lr · gamma^⌊t / step_size⌋",
        keys: &[
            key(
                "step_size",
                Kind::Count,
                HparamDefault::Required,
                "updates between two decays (>= 1)",
            ),
            STEP_GAMMA,
            WARMUP_STEPS,
            WARMUP_START_FACTOR,
        ],
    },
    ScheduleInfo {
        name: "multistep",
        torch: "MultiStepLR",
        summary: "base_lr · gamma^(number of milestones <= t)",
        keys: &[
            key(
                "milestones",
                Kind::Counts,
                HparamDefault::Required,
                "update numbers at which the learning rate decays, strictly increasing",
            ),
            STEP_GAMMA,
            WARMUP_STEPS,
            WARMUP_START_FACTOR,
        ],
    },
    ScheduleInfo {
        name: "exponential",
        torch: "ExponentialLR",
        summary: "base_lr · gamma^t",
        keys: &[
            key(
                "gamma",
                Kind::Float,
                HparamDefault::Required,
                "decay factor per update",
            ),
            WARMUP_STEPS,
            WARMUP_START_FACTOR,
        ],
    },
    ScheduleInfo {
        name: "cosine",
        torch: "CosineAnnealingLR",
        summary: "eta_min + (base_lr − eta_min) · (1 + cos(π t / t_max)) / 2",
        keys: &[
            key(
                "t_max",
                Kind::OptionalCount,
                HparamDefault::Computed("the run's number of updates"),
                "updates of the half cosine period (alias T_max)",
            ),
            key(
                "eta_min",
                Kind::Float,
                HparamDefault::Float(0.0),
                "learning rate at t_max",
            ),
            WARMUP_STEPS,
            WARMUP_START_FACTOR,
        ],
    },
];

const fn schedule_names() -> [&'static str; SCHEDULES.len()] {
    let mut names = [""; SCHEDULES.len()];
    let mut i = 0;
    while i < SCHEDULES.len() {
        names[i] = SCHEDULES[i].name;
        i += 1;
    }
    names
}

/// Schedule names accepted in `name`, in the order of [`SCHEDULES`].
pub const SCHEDULE_NAMES: &[&str] = &schedule_names();

/// The main schedule (without warm-up).
#[derive(Clone, Debug, PartialEq)]
pub enum Schedule {
    /// `base_lr` at every update.
    Constant,
    /// `StepLR`: `base_lr · gamma^⌊t / step_size⌋`; `step_size ≥ 1` required, `gamma` 0.1.
    Step { step_size: u64, gamma: f64 },
    /// `MultiStepLR`: `base_lr · gamma^(number of milestones ≤ t)`; milestones strictly
    /// increasing (required), `gamma` 0.1.
    MultiStep { milestones: Vec<u64>, gamma: f64 },
    /// `ExponentialLR`: `base_lr · gamma^t`; `gamma` required.
    Exponential { gamma: f64 },
    /// `CosineAnnealingLR`: `eta_min + (base_lr − eta_min)(1 + cos(π t / t_max)) / 2`;
    /// `t_max` defaults to the run's number of updates (`None`), `eta_min` 0.
    Cosine { t_max: Option<u64>, eta_min: f64 },
}

impl Schedule {
    /// The YAML name.
    pub fn name(&self) -> &'static str {
        match self {
            Schedule::Constant => "constant",
            Schedule::Step { .. } => "step",
            Schedule::MultiStep { .. } => "multistep",
            Schedule::Exponential { .. } => "exponential",
            Schedule::Cosine { .. } => "cosine",
        }
    }
}

/// A learning-rate schedule with an optional linear warm-up (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleConfig {
    /// The main schedule.
    pub schedule: Schedule,
    /// Updates over which the warm-up factor rises linearly to 1 (0: no warm-up).
    pub warmup_steps: u64,
    /// Warm-up factor of the first update, `0 < s ≤ 1` (torch's `LinearLR.start_factor`).
    pub warmup_start_factor: f64,
}

impl Default for ScheduleConfig {
    /// A constant learning rate without warm-up.
    fn default() -> Self {
        Self {
            schedule: Schedule::Constant,
            warmup_steps: 0,
            warmup_start_factor: DEFAULT_WARMUP_START_FACTOR,
        }
    }
}

fn range_error(
    name: &'static str,
    value: impl std::fmt::Display,
    allowed: &'static str,
) -> OptimError {
    OptimError::InvalidHyperparameter {
        optimizer: "schedule",
        name,
        value: value.to_string(),
        allowed,
    }
}

fn wrong_type(key: &'static str, expected: &'static str, got: &Value) -> OptimError {
    OptimError::WrongType {
        context: "schedule".to_string(),
        key: key.to_string(),
        expected,
        got: got.to_string(),
    }
}

/// A count as [`Kind::Count`] accepts it (integral floats included).
fn as_count(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|x| *x >= 0.0 && x.fract() == 0.0 && *x < 9.0e15)
            .map(|x| {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let n = x as u64;
                n
            })
    })
}

/// The values of a schedule's keys after [`check_keys`]: the given value, or the default from
/// the schedule's table.
struct Keys<'a> {
    info: &'static ScheduleInfo,
    given: &'a Map<String, Value>,
}

impl Keys<'_> {
    /// The given value (`None` if absent), and the key's schema.
    fn get(&self, key: &'static str) -> Result<(Option<&Value>, &'static Hparam), OptimError> {
        let missing = || OptimError::MissingKey {
            context: format!("schedule `{}`", self.info.name),
            key,
        };
        let h = self.info.keys.iter().find(|h| h.name == key);
        let h = h.ok_or_else(missing)?;
        match (self.given.get(key), h.default) {
            (None, HparamDefault::Required) => Err(missing()),
            (v, _) => Ok((v, h)),
        }
    }

    fn float(&self, key: &'static str) -> Result<f64, OptimError> {
        match self.get(key)? {
            (Some(v), h) => v
                .as_f64()
                .ok_or_else(|| wrong_type(key, h.kind.describe(), v)),
            (None, h) => match h.default {
                HparamDefault::Float(x) => Ok(x),
                _ => Err(wrong_type(key, h.kind.describe(), &Value::Null)),
            },
        }
    }

    fn count(&self, key: &'static str) -> Result<u64, OptimError> {
        match self.get(key)? {
            (Some(v), h) => as_count(v).ok_or_else(|| wrong_type(key, h.kind.describe(), v)),
            (None, h) => match h.default {
                HparamDefault::Count(n) => Ok(n),
                _ => Err(wrong_type(key, h.kind.describe(), &Value::Null)),
            },
        }
    }

    /// A count, or `None` for `null` or an absent key with a computed default.
    fn optional_count(&self, key: &'static str) -> Result<Option<u64>, OptimError> {
        match self.get(key)? {
            (None | Some(Value::Null), _) => Ok(None),
            (Some(v), h) => as_count(v)
                .map(Some)
                .ok_or_else(|| wrong_type(key, h.kind.describe(), v)),
        }
    }

    fn counts(&self, key: &'static str) -> Result<Vec<u64>, OptimError> {
        let (v, h) = self.get(key)?;
        let items = v.and_then(Value::as_array);
        let counts = items.map(|items| items.iter().map(as_count).collect::<Option<Vec<_>>>());
        counts
            .flatten()
            .ok_or_else(|| wrong_type(key, h.kind.describe(), v.unwrap_or(&Value::Null)))
    }
}

/// `T_max` (torch's spelling) renamed to `t_max`; both given is an error.
fn with_canonical_keys(map: &Map<String, Value>) -> Result<Map<String, Value>, OptimError> {
    let mut map = map.clone();
    if let Some(v) = map.remove("T_max") {
        if map.contains_key("t_max") {
            return Err(range_error(
                "t_max",
                "given twice (`t_max` and `T_max`)",
                "given once, as `t_max` or its alias `T_max`",
            ));
        }
        map.insert("t_max".into(), v);
    }
    Ok(map)
}

impl ScheduleConfig {
    /// The registry entry of the schedule called `name`.
    pub fn info(name: &str) -> Option<&'static ScheduleInfo> {
        SCHEDULES.iter().find(|s| s.name == name)
    }

    /// The keys of the schedule called `name` (besides `name`): kinds, defaults, docs.
    pub fn keys(name: &str) -> Option<&'static [Hparam]> {
        Self::info(name).map(|s| s.keys)
    }

    /// From the YAML/JSON value of `schedule:`: a mapping with `name` (one of
    /// [`SCHEDULE_NAMES`]) plus that schedule's keys (torch's names `step_size`, `gamma`,
    /// `milestones`, `t_max` (alias `T_max`), `eta_min`) and `warmup_steps`,
    /// `warmup_start_factor`; a bare string is shorthand for `{name: <string>}`.
    ///
    /// Keys are checked against the schedule's table in [`SCHEDULES`] ([`check_keys`]: unknown
    /// key, wrong type, missing required key, each naming the key); missing keys take the
    /// table's defaults (torch's). The result is validated ([`Self::validate`]).
    pub fn from_json(value: &Value) -> Result<Self, OptimError> {
        let empty = Map::new();
        let (name, map) = match value {
            Value::String(s) => (s.as_str(), &empty),
            Value::Object(map) => match map.get("name") {
                Some(Value::String(s)) => (s.as_str(), map),
                Some(other) => return Err(wrong_type("name", "a string", other)),
                None => {
                    return Err(OptimError::MissingKey {
                        context: "schedule".into(),
                        key: "name",
                    });
                }
            },
            other => return Err(wrong_type("schedule", "a mapping with `name`", other)),
        };
        let Some(info) = Self::info(name) else {
            return Err(OptimError::UnknownName {
                kind: "schedule",
                name: name.to_string(),
                valid: SCHEDULE_NAMES.join(", "),
            });
        };
        let given = with_canonical_keys(map)?;
        check_keys(&format!("schedule `{name}`"), info.keys, &["name"], &given)?;
        let keys = Keys {
            info,
            given: &given,
        };
        let schedule = match name {
            "step" => Schedule::Step {
                step_size: keys.count("step_size")?,
                gamma: keys.float("gamma")?,
            },
            "multistep" => Schedule::MultiStep {
                milestones: keys.counts("milestones")?,
                gamma: keys.float("gamma")?,
            },
            "exponential" => Schedule::Exponential {
                gamma: keys.float("gamma")?,
            },
            "cosine" => Schedule::Cosine {
                t_max: keys.optional_count("t_max")?,
                eta_min: keys.float("eta_min")?,
            },
            _ => Schedule::Constant,
        };
        let config = Self {
            schedule,
            warmup_steps: keys.count("warmup_steps")?,
            warmup_start_factor: keys.float("warmup_start_factor")?,
        };
        config.validate()?;
        Ok(config)
    }

    /// Canonical JSON: `name`, every key of that schedule with defaults filled in (`t_max: null`
    /// means "the run's number of updates"), `warmup_steps` and `warmup_start_factor`; keys
    /// sorted.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), self.schedule.name().into());
        match &self.schedule {
            Schedule::Constant => {}
            Schedule::Step { step_size, gamma } => {
                m.insert("step_size".into(), (*step_size).into());
                m.insert("gamma".into(), (*gamma).into());
            }
            Schedule::MultiStep { milestones, gamma } => {
                m.insert("milestones".into(), milestones.clone().into());
                m.insert("gamma".into(), (*gamma).into());
            }
            Schedule::Exponential { gamma } => {
                m.insert("gamma".into(), (*gamma).into());
            }
            Schedule::Cosine { t_max, eta_min } => {
                m.insert("t_max".into(), t_max.map_or(Value::Null, Value::from));
                m.insert("eta_min".into(), (*eta_min).into());
            }
        }
        m.insert("warmup_steps".into(), self.warmup_steps.into());
        m.insert(
            "warmup_start_factor".into(),
            self.warmup_start_factor.into(),
        );
        Value::Object(m)
    }

    /// Range checks, with errors naming the key: `gamma` finite and `> 0`, `step_size ≥ 1`,
    /// `milestones` strictly increasing, `t_max ≥ 1`, `eta_min` finite and `≥ 0`,
    /// `0 < warmup_start_factor ≤ 1` (torch's `LinearLR` range).
    pub fn validate(&self) -> Result<(), OptimError> {
        let check_gamma = |gamma: f64| {
            if gamma.is_finite() && gamma > 0.0 {
                Ok(())
            } else {
                Err(range_error("gamma", gamma, "finite and > 0"))
            }
        };
        match &self.schedule {
            Schedule::Constant => {}
            Schedule::Step { step_size, gamma } => {
                if *step_size == 0 {
                    return Err(range_error("step_size", step_size, ">= 1"));
                }
                check_gamma(*gamma)?;
            }
            Schedule::MultiStep { milestones, gamma } => {
                if milestones.windows(2).any(|w| w[0] >= w[1]) {
                    return Err(range_error(
                        "milestones",
                        format!("{milestones:?}"),
                        "strictly increasing",
                    ));
                }
                check_gamma(*gamma)?;
            }
            Schedule::Exponential { gamma } => check_gamma(*gamma)?,
            Schedule::Cosine { t_max, eta_min } => {
                if *t_max == Some(0) {
                    return Err(range_error("t_max", 0, ">= 1"));
                }
                if !(eta_min.is_finite() && *eta_min >= 0.0) {
                    return Err(range_error("eta_min", eta_min, "finite and >= 0"));
                }
            }
        }
        let s = self.warmup_start_factor;
        if !(s > 0.0 && s <= 1.0) {
            return Err(range_error("warmup_start_factor", s, "in (0, 1]"));
        }
        Ok(())
    }

    /// The warm-up factor of update `step`: `s + (1 − s) · min(step, W) / W` (1 without
    /// warm-up), torch's `LinearLR` closed form with `end_factor = 1`.
    pub fn warmup_factor(&self, step: u64) -> f64 {
        if self.warmup_steps == 0 {
            return 1.0;
        }
        let s = self.warmup_start_factor;
        #[allow(clippy::cast_precision_loss)]
        let frac = step.min(self.warmup_steps) as f64 / self.warmup_steps as f64;
        s + (1.0 - s) * frac
    }

    /// Learning rate of update number `step` (0 for the first update) in a run of
    /// `total_steps` updates, from `base_lr`: the main schedule's closed form (see the module
    /// docs) times [`Self::warmup_factor`]. `cosine`'s `t_max` defaults to `total_steps`
    /// (at least 1).
    #[allow(clippy::cast_precision_loss)]
    pub fn lr_at(&self, base_lr: f64, step: u64, total_steps: u64) -> f64 {
        let main = match &self.schedule {
            Schedule::Constant => base_lr,
            Schedule::Step { step_size, gamma } => {
                base_lr * libm::pow(*gamma, (step / (*step_size).max(1)) as f64)
            }
            Schedule::MultiStep { milestones, gamma } => {
                // bisect_right(milestones, step): milestones are sorted.
                let passed = milestones.partition_point(|&m| m <= step);
                base_lr * libm::pow(*gamma, passed as f64)
            }
            Schedule::Exponential { gamma } => base_lr * libm::pow(*gamma, step as f64),
            Schedule::Cosine { t_max, eta_min } => {
                let t_max = t_max.unwrap_or(total_steps).max(1);
                eta_min
                    + (base_lr - eta_min)
                        * (1.0 + libm::cos(std::f64::consts::PI * step as f64 / t_max as f64))
                        / 2.0
            }
        };
        if self.warmup_steps == 0 {
            main
        } else {
            main * self.warmup_factor(step)
        }
    }
}
