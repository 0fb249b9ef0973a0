//! `train_metrics`: a classifier's training accuracy on the examples of `train_loss`, checked by
//! hand on four points; a regression has none.

use std::path::Path;

use optbench_models::{Problem, ProblemConfig, build_problem_in, load_dataset};
use serde_json::{Value, json};

/// Four points of one feature, all in the training split, not standardized.
const CSV: &str = "x,y\n-2,0\n-1,0\n1,1\n2,0\n";

fn problem(name: &str, dataset: Value, dir: &Path) -> Box<dyn Problem> {
    std::fs::write(dir.join("four.csv"), CSV).unwrap();
    let keys = json!({ "dataset": dataset });
    let cfg = ProblemConfig::from_json(name, keys.as_object().unwrap()).unwrap();
    let data = load_dataset(cfg.dataset().unwrap(), 0, dir).unwrap();
    build_problem_in(&cfg, Some(data), 0, dir).unwrap()
}

fn dataset(task: &str) -> Value {
    json!({"name": "csv", "path": "four.csv", "target": "y", "task": task,
           "test_fraction": 0.0, "standardize": false})
}

#[test]
fn softmax_regression_accuracy_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = problem("softmax_regression", dataset("classification"), dir.path());
    assert_eq!((p.train_len(), p.dim()), (4, 4));
    // 0.weight (2×1) = [0, 1], 0.bias = [0, 0]: logits (0, x), class 1 exactly when x > 0.
    // Right on x = −2, −1 (class 0) and 1 (class 1), wrong on x = 2 (class 0): 3 of 4.
    let params = [0.0, 1.0, 0.0, 0.0];
    let m = p.train_metrics(&params);
    assert_eq!(m.accuracy, Some(0.75));
    // Cross-entropy: −log softmax = ln(1 + e^{x}) for class 0, ln(1 + e^{−x}) for class 1.
    let ln1pexp = |z: f64| (1.0 + z.exp()).ln();
    let want = (ln1pexp(-2.0) + ln1pexp(-1.0) + ln1pexp(-1.0) + ln1pexp(2.0)) / 4.0;
    assert!((m.loss - want).abs() < 1e-6, "{} vs {want}", m.loss);
    assert_eq!(
        m.loss.to_bits(),
        p.train_loss(&params).to_bits(),
        "the same pass as train_loss"
    );
    // All on class 0 (bias 0 ↦ 1): right on three.
    assert_eq!(p.train_metrics(&[0.0, 0.0, 1.0, 0.0]).accuracy, Some(0.75));
    // Class 1 exactly when x < 0: right only on x = 2.
    assert_eq!(p.train_metrics(&[0.0, -1.0, 0.0, 0.0]).accuracy, Some(0.25));
}

#[test]
fn a_regression_has_no_train_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    let mut p = problem("linear_regression", dataset("regression"), dir.path());
    let params = p.initial_params();
    let m = p.train_metrics(&params);
    assert_eq!(m.accuracy, None);
    assert_eq!(m.loss.to_bits(), p.train_loss(&params).to_bits());
}
