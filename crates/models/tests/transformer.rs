//! The `transformer` problem through the public API: it learns modular addition and a small
//! generated text, bad input is an error naming the key, and tied weights go to and from
//! safetensors under both of PyTorch's names.

use std::path::Path;

use optbench_models::{
    BatchSize, Batcher, ModelError, Problem, ProblemConfig, build_problem_in, load_dataset,
};
use optbench_optim::OptimizerConfig;
use serde_json::{Value, json};

fn problem(keys: Value, dir: &Path) -> Result<Box<dyn Problem>, ModelError> {
    let cfg = ProblemConfig::from_json("transformer", keys.as_object().unwrap())?;
    let data = load_dataset(cfg.dataset().unwrap(), 0, dir)?;
    build_problem_in(&cfg, Some(data), 0, dir)
}

/// Trains `steps` AdamW steps (lr 3e-3) on batches of `batch`; returns the parameters.
fn train(p: &mut dyn Problem, steps: usize, batch: usize, weight_decay: f64) -> Vec<f32> {
    let hp = json!({"lr": 3e-3, "weight_decay": weight_decay});
    let opt = OptimizerConfig::from_json("adamw", hp.as_object().unwrap()).unwrap();
    let mut opt = opt.build(p.dim()).unwrap();
    let mut params = p.initial_params();
    let mut grad = vec![0.0; p.dim()];
    let mut batches = Batcher::new(p.train_len(), BatchSize::Examples(batch), 0);
    for _ in 0..steps {
        let loss = p.loss_grad(&params, batches.next_batch(), &mut grad);
        assert!(loss.is_finite());
        opt.step(&mut params, &grad, 3e-3).unwrap();
    }
    params
}

/// A generated text: words of a small alphabet in a seeded order, so that the next character
/// is often predictable (within words) and sometimes not (word boundaries).
fn generated_text(dir: &Path) -> std::path::PathBuf {
    let words = ["the ", "cat ", "sat ", "on ", "a ", "mat. "];
    let mut state = 12345u64;
    let mut text = String::new();
    while text.len() < 6000 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        text.push_str(words[(state >> 33) as usize % words.len()]);
    }
    let path = dir.join("text.txt");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn learns_modular_addition_on_the_training_pairs() {
    let dir = tempfile::tempdir().unwrap();
    let keys = json!({"dataset": {"name": "modular_arithmetic", "p": 11, "train_fraction": 0.5},
                      "layers": 1, "d_model": 32, "heads": 4, "context": 4});
    let mut p = problem(keys, dir.path()).unwrap();
    assert_eq!((p.train_len(), p.test_len()), (60, 61));
    assert!(p.is_classifier());
    let before = p.train_loss(&p.initial_params());
    let params = train(p.as_mut(), 300, 32, 0.0);
    let after = p.train_loss(&params);
    assert!(after < 0.2 * before, "train loss {before} -> {after}");
    let test = p.test_metrics(&params);
    assert!(test.loss.unwrap().is_finite() && test.accuracy.is_some());
}

#[test]
fn learns_a_small_generated_text() {
    let dir = tempfile::tempdir().unwrap();
    generated_text(dir.path());
    let keys = json!({"dataset": {"name": "text", "path": "text.txt", "tokens": "char"},
                      "layers": 2, "d_model": 32, "heads": 2, "context": 16,
                      "tie_embeddings": true, "init_std": 0.02, "eval_train_examples": 64});
    let mut p = problem(keys, dir.path()).unwrap();
    // 5,400 training characters in windows of 16: 337 windows per epoch, 64 for train_loss;
    // 600 test characters in 37 non-overlapping windows.
    assert_eq!(
        (p.train_len(), p.eval_train_len(), p.test_len()),
        (337, 64, 37)
    );
    let vocab = 11.0f64; // " .acehmnost": the characters of the six words
    let start = p.test_metrics(&p.initial_params());
    assert!((start.loss.unwrap() - vocab.ln()).abs() < 0.5, "{start:?}");
    let params = train(p.as_mut(), 400, 16, 0.0);
    let end = p.test_metrics(&params);
    // Within words the next character is determined: well below a uniform guess.
    assert!(end.loss.unwrap() < 1.0, "{end:?}");
    assert!(end.accuracy.unwrap() > 0.6, "{end:?}");
}

#[test]
fn bad_input_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    generated_text(dir.path());
    std::fs::write(dir.path().join("latin1.txt"), [b'a', 0xe9, b'b', b'c']).unwrap();
    let modular = json!({"name": "modular_arithmetic", "p": 7});
    let cases = [
        (
            json!({"dataset": modular, "d_model": 30, "heads": 4}),
            "heads",
        ),
        (
            json!({"dataset": {"name": "text", "path": "text.txt"}, "context": 700}),
            "context",
        ),
        (
            json!({"dataset": {"name": "modular_arithmetic", "p": 9, "op": "/"}}),
            "p",
        ),
        (
            json!({"dataset": {"name": "modular_arithmetic", "train_fraction": 1.0}}),
            "train_fraction",
        ),
        (
            json!({"dataset": {"name": "modular_arithmetic", "train_fraction": 0}}),
            "train_fraction",
        ),
        (json!({"dataset": modular, "context": 3}), "context"),
        (
            json!({"dataset": modular, "mlp_activation": "tanh"}),
            "mlp_activation",
        ),
        (json!({"dataset": modular, "target": "first"}), "target"),
    ];
    for (keys, key) in cases {
        let e = problem(keys.clone(), dir.path()).err().unwrap();
        assert_eq!(e.key(), Some(key), "{keys}: {e}");
    }
    let e = problem(
        json!({"dataset": {"name": "text", "path": "latin1.txt", "tokens": "char"}}),
        dir.path(),
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("is not UTF-8"), "{e}");
    assert!(e.to_string().contains("latin1.txt"), "{e}");
    let e = problem(json!({"dataset": "iris"}), dir.path())
        .err()
        .unwrap();
    assert!(e.to_string().contains("needs token data"), "{e}");
    let cfg =
        ProblemConfig::from_json("mlp", json!({"dataset": modular}).as_object().unwrap()).unwrap();
    let data = load_dataset(cfg.dataset().unwrap(), 0, dir.path()).unwrap();
    let e = optbench_models::build_problem(&cfg, Some(data), 0)
        .err()
        .unwrap();
    assert!(e.to_string().contains("for the `transformer`"), "{e}");
}

#[test]
fn tied_weights_go_to_safetensors_under_both_names() {
    use safetensors::SafeTensors;
    let dir = tempfile::tempdir().unwrap();
    let keys = |init: Option<&str>| {
        let mut k = json!({"dataset": {"name": "modular_arithmetic", "p": 5}, "layers": 1,
                           "d_model": 8, "heads": 2, "context": 4, "tie_embeddings": true});
        if let Some(f) = init {
            k["init"] = json!({ "file": f });
        }
        k
    };
    let p = problem(keys(None), dir.path()).unwrap();
    let mut params = p.initial_params();
    params[3] = 0.375;
    let path = dir.path().join("w.safetensors");
    p.save_weights(&params, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let (a, b) = (
        file.tensor("tok_emb.weight").unwrap(),
        file.tensor("head.weight").unwrap(),
    );
    assert_eq!((a.shape(), a.data()), (b.shape(), b.data()));
    let loaded = problem(keys(Some("w.safetensors")), dir.path()).unwrap();
    assert_eq!(loaded.initial_params(), params);

    // A file with only one of the names (safetensors' `save_model` keeps one) loads as well.
    let layout = p.param_layout();
    let mut only_head = Vec::new();
    for t in &layout {
        let name = if t.name == "tok_emb.weight" {
            "head.weight"
        } else {
            t.name.as_str()
        };
        let bytes: Vec<u8> = params[t.range()]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        only_head.push((name.to_string(), t.shape.clone(), bytes));
    }
    let write = |tensors: &[(String, Vec<usize>, Vec<u8>)], file: &str| {
        let views: Vec<_> = tensors
            .iter()
            .map(|(n, s, b)| {
                let view =
                    safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b);
                (n.clone(), view.unwrap())
            })
            .collect();
        safetensors::serialize_to_file(views, None, &dir.path().join(file)).unwrap();
    };
    write(&only_head, "head.safetensors");
    let loaded = problem(keys(Some("head.safetensors")), dir.path()).unwrap();
    assert_eq!(loaded.initial_params(), params);
    // Both names with different values: an error naming the tensor.
    let mut both = only_head.clone();
    let mut other = both[0].clone();
    other.0 = "tok_emb.weight".into();
    other.2[0] ^= 1;
    both.push(other);
    write(&both, "both.safetensors");
    let e = problem(keys(Some("both.safetensors")), dir.path())
        .err()
        .unwrap();
    assert!(e.to_string().contains("different values"), "{e}");
}
