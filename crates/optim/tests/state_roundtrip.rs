//! Saving the state (through JSON text), loading it into a fresh optimizer and taking more steps
//! gives bit-identical parameters and state to never having saved.

use optbench_optim::{AdamConfig, DynOptimizer, Optimizer, OptimizerConfig, Snapshot, UpdateRule};
use serde_json::{Value, json};

fn values(n: usize, seed: u32) -> Vec<f32> {
    (0..n)
        .map(|i| ((i as f32 + 1.0) * 0.618 * seed as f32).sin() * 1.5)
        .collect()
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn save_load_step_is_bit_identical_for_every_optimizer() {
    let cases = [
        ("sgd", json!({"momentum": 0.9, "dampening": 0.1})),
        ("sgd", json!({"momentum": 0.9, "nesterov": true})),
        (
            "adagrad",
            json!({"lr_decay": 0.01, "initial_accumulator_value": 0.1}),
        ),
        ("adadelta", json!({})),
        ("rmsprop", json!({"centered": true, "momentum": 0.5})),
        ("adam", json!({"amsgrad": true})),
        ("adamw", json!({})),
        ("nadam", json!({})),
        ("radam", json!({"betas": [0.9, 0.5]})),
        ("adamax", json!({})),
        ("lion", json!({"weight_decay": 0.1})),
    ];
    let n = 203;
    for (name, hp) in cases {
        let Value::Object(map) = hp else {
            unreachable!()
        };
        let cfg = OptimizerConfig::from_json(name, &map).unwrap();
        let mut a = cfg.build(n).unwrap();
        let mut pa = values(n, 1);
        for s in 0..3 {
            a.step(&mut pa, &values(n, 10 + s), 0.01).unwrap();
        }
        // Save as text, as a checkpoint file would hold it.
        let text = serde_json::to_string(&a.save_state()).unwrap();
        let mut b: Box<dyn DynOptimizer> = cfg.build(n).unwrap();
        b.load_state(serde_json::from_str(&text).unwrap()).unwrap();
        assert_eq!(b.steps_taken(), 3);
        let mut pb = pa.clone();
        for s in 3..6 {
            let g = values(n, 10 + s);
            a.step(&mut pa, &g, 0.01).unwrap();
            b.step(&mut pb, &g, 0.01).unwrap();
            assert_eq!(bits(&pa), bits(&pb), "{name}: params differ after reload");
        }
        assert_eq!(
            a.save_state(),
            b.save_state(),
            "{name}: state differs after reload"
        );
    }
}

#[test]
fn special_values_survive_the_round_trip() {
    let rule = AdamConfig::default().build().unwrap();
    let mut opt = Optimizer::new(rule.clone(), 4);
    let mut snap = opt.snapshot();
    snap.state.exp_avg = vec![f32::NAN, -0.0, f32::INFINITY, 1.0e-45];
    let text = serde_json::to_string(&snap).unwrap();
    let back: Snapshot<<optbench_optim::Adam as UpdateRule>::State> =
        serde_json::from_str(&text).unwrap();
    assert_eq!(bits(&back.state.exp_avg), bits(&snap.state.exp_avg));
    opt.restore(back).unwrap();
}

#[test]
fn loading_a_state_of_the_wrong_size_or_kind_fails() {
    let cfg = OptimizerConfig::from_json("adam", &serde_json::Map::new()).unwrap();
    let small = cfg.build(3).unwrap();
    let mut big = cfg.build(4).unwrap();
    assert!(big.load_state(small.save_state()).is_err());
    let sgd = OptimizerConfig::from_json("sgd", &serde_json::Map::new()).unwrap();
    assert!(big.load_state(sgd.build(4).unwrap().save_state()).is_err());
    // AMSGrad needs its third buffer.
    let ams =
        OptimizerConfig::from_json("adam", json!({"amsgrad": true}).as_object().unwrap()).unwrap();
    let mut with = ams.build(4).unwrap();
    assert!(with.load_state(big.save_state()).is_err());
}
