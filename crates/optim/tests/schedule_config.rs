//! Learning-rate schedules: parsing, canonical JSON, closed forms and errors (the values are
//! checked against torch in `torch_reference.rs`).

use optbench_optim::OptimError;
use optbench_optim::schedule::{SCHEDULE_NAMES, SCHEDULES, ScheduleConfig};
use serde_json::Value;
use serde_json::json;

fn cfg(v: Value) -> ScheduleConfig {
    ScheduleConfig::from_json(&v).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1e-300)
}

#[test]
fn constant_is_constant() {
    let c = cfg(json!({"name": "constant"}));
    assert!(close(c.lr_at(0.1, 0, 10), 0.1));
    assert!(close(c.lr_at(0.1, 1_000_000, 10), 0.1));
    assert_eq!(c, ScheduleConfig::default());
    assert_eq!(cfg(json!("constant")), c);
}

#[test]
fn step_decays_every_step_size_updates() {
    let c = cfg(json!({"name": "step", "step_size": 3}));
    // default gamma 0.1 (torch's StepLR default)
    let lrs: Vec<f64> = (0..7).map(|t| c.lr_at(1.0, t, 100)).collect();
    let want = [1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.01];
    for (a, b) in lrs.iter().zip(want) {
        assert!(close(*a, b), "{lrs:?}");
    }
}

#[test]
fn multistep_counts_passed_milestones() {
    let c = cfg(json!({"name": "multistep", "milestones": [2, 5], "gamma": 0.5}));
    let want = [1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25];
    for (t, b) in want.iter().enumerate() {
        assert!(close(c.lr_at(1.0, t as u64, 100), *b), "step {t}");
    }
}

#[test]
fn exponential_and_cosine_formulas() {
    let e = cfg(json!({"name": "exponential", "gamma": 0.9}));
    assert!(close(e.lr_at(2.0, 3, 10), 2.0 * 0.729));
    let c = cfg(json!({"name": "cosine", "eta_min": 0.1}));
    // t_max defaults to total_steps = 10: at t = 5 the lr is halfway.
    assert!(close(c.lr_at(1.1, 0, 10), 1.1));
    assert!(close(c.lr_at(1.1, 5, 10), 0.6));
    assert!((c.lr_at(1.1, 10, 10) - 0.1).abs() < 1e-15);
    let c2 = cfg(json!({"name": "cosine", "T_max": 4}));
    assert!(close(c2.lr_at(1.0, 2, 1000), 0.5));
}

#[test]
fn warmup_multiplies_main_schedule() {
    let c = cfg(
        json!({"name": "exponential", "gamma": 0.5, "warmup_steps": 4,
                       "warmup_start_factor": 0.2}),
    );
    // factor 0.2, 0.4, 0.6, 0.8, 1, 1, ...
    let want = [0.2, 0.4 * 0.5, 0.6 * 0.25, 0.8 * 0.125, 0.0625, 0.03125];
    for (t, b) in want.iter().enumerate() {
        assert!(close(c.lr_at(1.0, t as u64, 100), *b), "step {t}");
    }
    let d = cfg(json!({"name": "cosine", "warmup_steps": 100}));
    assert!(close(d.warmup_factor(0), 1.0 / 3.0));
    assert!(close(d.warmup_factor(100), 1.0));
}

#[test]
fn to_json_round_trips_with_defaults() {
    for v in [
        json!({"name": "cosine", "warmup_steps": 100}),
        json!({"name": "step", "step_size": 10}),
        json!({"name": "multistep", "milestones": [1, 4], "gamma": 0.3}),
        json!({"name": "exponential", "gamma": 0.99, "warmup_start_factor": 0.5, "warmup_steps": 3}),
        json!({"name": "constant"}),
    ] {
        let c = cfg(v);
        let j = c.to_json();
        assert_eq!(ScheduleConfig::from_json(&j).unwrap(), c, "{j}");
    }
    let j = cfg(json!({"name": "cosine"})).to_json();
    assert_eq!(
        j,
        json!({"name": "cosine", "t_max": null, "eta_min": 0.0, "warmup_steps": 0,
               "warmup_start_factor": 1.0 / 3.0})
    );
}

/// Every schedule's canonical JSON has exactly its table's keys, and the defaults it fills
/// in are the table's, with the same number types (run ids hash this JSON).
#[test]
fn canonical_json_has_the_table_keys_and_defaults() {
    let required = json!({"step_size": 5, "milestones": [3, 9], "gamma": 0.5});
    for info in SCHEDULES {
        let mut v = json!({"name": info.name});
        for h in info.keys.iter().filter(|h| h.is_required()) {
            v[h.name] = required[h.name].clone();
        }
        let j = cfg(v.clone()).to_json();
        let mut keys: Vec<&str> = info.keys.iter().map(|h| h.name).collect();
        keys.push("name");
        keys.sort_unstable();
        assert_eq!(j.as_object().unwrap().keys().collect::<Vec<_>>(), keys);
        for h in info.keys.iter().filter(|h| !h.is_required()) {
            assert_eq!(
                Some(j[h.name].clone()),
                h.default.to_json(),
                "{} {}",
                info.name,
                h.name
            );
            assert!(h.kind.accepts(&j[h.name]), "{} {}", info.name, h.name);
        }
    }
    assert_eq!(
        SCHEDULE_NAMES,
        ["constant", "step", "multistep", "exponential", "cosine"]
    );
    assert_eq!(ScheduleConfig::keys("nope"), None);
}

#[test]
fn errors_are_typed_and_name_the_key() {
    let e = ScheduleConfig::from_json(&json!({"name": "step", "gama": 0.5})).unwrap_err();
    assert!(
        matches!(&e, OptimError::UnknownKey { key, valid, .. }
            if key == "gama" && valid == "name, step_size, gamma, warmup_steps, warmup_start_factor"),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("valid keys: name, step_size, gamma"),
        "{e}"
    );
    let e = ScheduleConfig::from_json(&json!({"name": "step"})).unwrap_err();
    assert!(
        matches!(
            e,
            OptimError::MissingKey {
                key: "step_size",
                ..
            }
        ),
        "{e:?}"
    );
    let e = ScheduleConfig::from_json(&json!({"name": "cosine", "t_max": "x"})).unwrap_err();
    assert!(
        matches!(&e, OptimError::WrongType { key, .. } if key == "t_max"),
        "{e:?}"
    );
    let e = ScheduleConfig::from_json(&json!({"name": "multistep", "milestones": [1, -2]}))
        .unwrap_err();
    assert!(
        matches!(&e, OptimError::WrongType { key, .. } if key == "milestones"),
        "{e:?}"
    );
    // Integral floats are counts, and `null` is cosine's computed default.
    let c = cfg(json!({"name": "step", "step_size": 100.0, "warmup_steps": 3.0}));
    assert_eq!(c.to_json()["step_size"], json!(100));
    assert_eq!(
        cfg(json!({"name": "cosine", "t_max": null})),
        cfg(json!("cosine"))
    );
}

fn err(v: Value) -> String {
    ScheduleConfig::from_json(&v).unwrap_err().to_string()
}

#[test]
fn rejects_bad_input_naming_the_key() {
    assert!(err(json!({"name": "cosinus"})).contains("cosinus"));
    assert!(err(json!({"name": "cosine", "gamma": 0.5})).contains("gamma"));
    assert!(err(json!({"name": "step", "step_size": 0})).contains("step_size"));
    assert!(err(json!({"name": "step"})).contains("step_size"));
    assert!(err(json!({"name": "step", "step_size": 2.5})).contains("step_size"));
    assert!(err(json!({"name": "exponential"})).contains("gamma"));
    assert!(err(json!({"name": "exponential", "gamma": 0.0})).contains("gamma"));
    assert!(err(json!({"name": "exponential", "gamma": -1})).contains("gamma"));
    assert!(err(json!({"name": "exponential", "gamma": "x"})).contains("gamma"));
    assert!(err(json!({"name": "multistep", "milestones": [5, 2]})).contains("milestones"));
    assert!(err(json!({"name": "multistep", "milestones": [2, 2]})).contains("milestones"));
    assert!(err(json!({"name": "multistep", "milestones": 3})).contains("milestones"));
    assert!(err(json!({"name": "cosine", "eta_min": -0.1})).contains("eta_min"));
    assert!(err(json!({"name": "cosine", "t_max": 0})).contains("t_max"));
    assert!(err(json!({"name": "cosine", "t_max": 5, "T_max": 5})).contains("twice"));
    assert!(
        err(json!({"name": "cosine", "warmup_start_factor": 0.0})).contains("warmup_start_factor")
    );
    assert!(
        err(json!({"name": "cosine", "warmup_start_factor": 1.5})).contains("warmup_start_factor")
    );
    assert!(err(json!({"name": "cosine", "warmup_steps": -3})).contains("warmup_steps"));
    assert!(err(json!({"name": "cosine", "warmup": 3})).contains("warmup"));
    assert!(err(json!({"gamma": 0.1})).contains("name"));
    assert!(err(json!(3)).contains("schedule"));
}
