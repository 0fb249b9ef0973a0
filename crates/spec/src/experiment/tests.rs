use super::*;
use serde_json::json;

#[test]
fn shape_of_a_full_experiment() {
    let doc = json!({
        "name": "x", "seeds": 3, "seed": 7,
        "problems": ["rosenbrock", {"name": "mlp", "hidden": [[8]]}],
        "train": {"steps": 10},
        "optimizers": [{"name": "sgd", "zip": {"lr": [0.1, 0.2], "momentum": [0.0, 0.9]}}],
        "exclude": [{"problem": "mlp"}]
    });
    let e = Experiment::from_value(&doc, "file").unwrap();
    assert_eq!(e.name, "x");
    assert_eq!(e.seeds, vec![0, 1, 2]);
    assert_eq!(e.seed, 7);
    assert_eq!(e.problems[0].name, "rosenbrock");
    assert_eq!(e.problems[1].keys["hidden"], json!([[8]]));
    assert_eq!(e.optimizers[0].zip[0].len, 2);
    assert_eq!(e.optimizers[0].describe(), "optimizers[0] (sgd)");
}

#[test]
fn default_name_seed_and_seeds() {
    let doc = json!({"problems": ["booth"], "train": {"steps": 1}, "optimizers": ["adam"]});
    let e = Experiment::from_value(&doc, "stem").unwrap();
    assert_eq!(
        (e.name.as_str(), e.seed, e.seeds.clone()),
        ("stem", 0, vec![0])
    );
}

fn err(doc: Value) -> Issue {
    Experiment::from_value(&doc, "f").unwrap_err()
}

#[test]
fn shape_errors_name_the_key() {
    let base = || json!({"problems": ["booth"], "train": {"steps": 1}, "optimizers": ["adam"]});
    let mut d = base();
    d["optimizer"] = json!([]);
    let e = err(d);
    assert_eq!(e.path.to_string(), "optimizer");
    assert!(
        e.message.contains("did you mean `optimizers`"),
        "{}",
        e.message
    );

    let mut d = base();
    d["optimizers"] = json!([{"name": "sgd", "zip": {"lr": [1, 2], "momentum": [0.9]}}]);
    let e = err(d);
    assert!(e.message.contains("same length"), "{}", e.message);
    assert!(
        e.path.to_string().starts_with("optimizers[0].zip."),
        "{}",
        e.path
    );

    let mut d = base();
    d["seeds"] = json!(0);
    assert_eq!(err(d).path.to_string(), "seeds");

    let mut d = base();
    d["seeds"] = json!([1, 1]);
    assert_eq!(err(d).path.to_string(), "seeds[1]");

    let mut d = base();
    d["name"] = json!("a/b");
    assert_eq!(err(d).path.to_string(), "name");

    let mut d = base();
    d["optimizers"] = json!([{"lr": 0.1}]);
    assert!(err(d).message.contains("no `name`"));

    let mut d = base();
    d["optimizers"] = json!([{"name": "sgd", "lr": 0.1, "zip": {"lr": [0.1]}}]);
    assert!(err(d).message.contains("both in `zip`"));

    let d = base();
    let mut m = d.as_object().unwrap().clone();
    m.remove("train");
    assert!(err(Value::Object(m)).message.contains("`train` is missing"));

    assert!(err(Value::Null).message.contains("empty"));
    assert!(err(json!([1, 2])).message.contains("must be a mapping"));
}
