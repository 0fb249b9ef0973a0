//! The transformer's layers and two whole models against PyTorch: fixtures written by
//! `scripts/gen_reference.py transformer` (`scripts/reference_transformer.py` documents them),
//! with the tolerances of [`super::torch_reference`]: per element
//! `|ours − torch| ≤ tol · (|torch| + 0.01 · max|torch|)`, `tol = max(1e-5, 10 · drift)` for
//! losses and outputs and `max(1e-4, 10 · drift)` for gradients.

use serde_json::Value;

use super::torch_reference::{
    assert_close, data_dir, drift_of, fixture, generated, steps_match_pytorch, uniform, usize_of,
};
use super::transformer::{Target, TransformerSpec, build};
use crate::config::Activation;
use crate::layers::activation::ActivationLayer;
use crate::layers::attention::CausalSelfAttention;
use crate::layers::embedding::Embedding;
use crate::layers::graph::Graph;
use crate::layers::last_position::LastPosition;
use crate::layers::linear::Linear;
use crate::layers::loss::Loss;
use crate::layers::position_embedding::PositionEmbedding;
use crate::layers::{Dims, Layer, Mode, Pass, Workspace};

/// optbench's layer for a fixture's description, on inputs of shape `(T, C)` per example.
fn layer_for(desc: &Value, tokens: usize, channels: usize) -> Box<dyn Layer> {
    let n = |k: &str| usize_of(&desc[k]);
    let dims = Dims {
        height: 1,
        width: tokens,
        channels,
    };
    match desc["type"].as_str().unwrap() {
        "embedding" => Box::new(Embedding::new(tokens, n("vocab"), n("dim")).unwrap()),
        "position_embedding" => Box::new(PositionEmbedding::new(dims, n("context")).unwrap()),
        "linear_no_bias" => Box::new(Linear::without_bias(dims, n("out")).unwrap()),
        "activation" => {
            let act = Activation::from_name(desc["activation"].as_str().unwrap()).unwrap();
            Box::new(ActivationLayer::new(dims, act))
        }
        "last_position" => Box::new(LastPosition::new(dims)),
        "attention" => {
            Box::new(CausalSelfAttention::new(tokens, channels / 3, n("heads")).unwrap())
        }
        other => panic!("unknown layer type {other}"),
    }
}

#[test]
fn every_transformer_layer_matches_pytorch() {
    let fx = fixture("transformer_layers");
    let cases = fx.json["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 8);
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let shape: Vec<usize> = case["input_shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(usize_of)
            .collect();
        let (batch, tokens) = (shape[0], shape[1]);
        let channels = shape.get(2).copied().unwrap_or(1);
        let mut layer = layer_for(&case["layer"], tokens, channels);
        let x = fx.get(&format!("{id}/input"));
        let mut params = Vec::new();
        let names: Vec<&str> = case["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for name in &names {
            params.extend_from_slice(fx.get(&format!("{id}/param/{name}")));
        }
        let local: Vec<&str> = layer.params().iter().map(|t| t.name).collect();
        assert_eq!(local, names, "{id}: parameter names");
        let mut ws = Workspace {
            scratch: vec![0.0; layer.scratch_len(batch)],
            ..Workspace::default()
        };
        layer.reserve(batch);
        let mut pass = Pass {
            batch,
            mode: Mode::Train,
            ws: &mut ws,
        };
        let mut y = vec![f32::NAN; batch * layer.output_dims().len()];
        layer.forward(x, &mut y, &params, &mut [], &mut pass);
        assert_close(
            &format!("{id}: output"),
            &y,
            fx.get(&format!("{id}/output")),
            1e-5,
            drift_of(case, "output"),
        );
        let r = fx.get(&format!("{id}/upstream"));
        let mut dx = vec![f32::NAN; x.len()];
        let mut dp = vec![f32::NAN; params.len()];
        layer.backward(x, &y, r, Some(&mut dx), &params, &mut dp, &mut pass);
        if case["layer"]["type"] == "embedding" {
            assert!(
                dx.iter().all(|&v| v == 0.0),
                "{id}: token ids have no gradient"
            );
        } else {
            assert_close(
                &format!("{id}: ∂input"),
                &dx,
                fx.get(&format!("{id}/grad_input")),
                1e-4,
                drift_of(case, "grad_input"),
            );
        }
        let mut off = 0;
        for name in &names {
            let g = fx.get(&format!("{id}/grad/{name}"));
            assert_close(
                &format!("{id}: ∂{name}"),
                &dp[off..off + g.len()],
                g,
                1e-4,
                drift_of(case, &format!("grad/{name}")),
            );
            off += g.len();
        }
    }
}

/// The architecture of a fixture case (its optbench keys).
fn spec_of(case: &Value) -> TransformerSpec {
    let k = &case["keys"];
    let n = |key: &str| usize_of(&k[key]);
    TransformerSpec {
        layers: n("layers"),
        d_model: n("d_model"),
        heads: n("heads"),
        d_mlp: n("d_mlp"),
        context: n("context"),
        layer_norm: k["norm"] == "pre",
        activation: Activation::from_name(k["mlp_activation"].as_str().unwrap()).unwrap(),
        tie_embeddings: k["tie_embeddings"].as_bool().unwrap(),
        init_std: None,
    }
}

fn target_of(case: &Value) -> Target {
    if case["target"] == "last" {
        Target::Last
    } else {
        Target::All
    }
}

/// The network of a case with its generated weights (names, order and shapes checked against
/// the PyTorch module's).
fn transformer_for(case: &Value) -> (Graph, Vec<f32>) {
    let (vocab, tokens) = (usize_of(&case["vocab"]), usize_of(&case["tokens"]));
    let built = build(&spec_of(case), vocab, tokens, target_of(case), 0).unwrap();
    let layout = built.graph.param_layout();
    let weights = case["weights"].as_array().unwrap();
    assert_eq!(layout.len(), weights.len(), "number of parameter tensors");
    let mut params = vec![f32::NAN; built.graph.n_params()];
    for (t, w) in layout.iter().zip(weights) {
        assert_eq!(t.name, w["name"].as_str().unwrap(), "parameter order");
        let shape: Vec<usize> = w["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(usize_of)
            .collect();
        assert_eq!(t.shape, shape, "{}", t.name);
        params[t.range()].copy_from_slice(&generated(
            w["salt"].as_u64().unwrap(),
            t.len(),
            w["offset"].as_f64().unwrap(),
            w["scale"].as_f64().unwrap(),
        ));
    }
    (built.graph, params)
}

/// Inputs (the first `T` tokens of each sequence) and targets (the next tokens, or the last).
fn inputs_and_targets(seqs: &[f32], tokens: usize, target: Target) -> (Vec<f32>, Vec<f32>) {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for s in seqs.chunks(tokens + 1) {
        x.extend_from_slice(&s[..tokens]);
        match target {
            Target::All => y.extend_from_slice(&s[1..]),
            Target::Last => y.push(s[tokens]),
        }
    }
    (x, y)
}

#[test]
fn transformers_match_pytorch() {
    let fx = fixture("transformer_nets");
    for case in fx.json["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let (vocab, tokens, batch) = (
            usize_of(&case["vocab"]),
            usize_of(&case["tokens"]),
            usize_of(&case["batch"]),
        );
        let target = target_of(case);
        let (mut graph, params) = transformer_for(case);
        let (x, y) = inputs_and_targets(fx.get(&format!("{id}/tokens")), tokens, target);
        let logits = graph
            .forward(&params, &mut [], &x, batch, Mode::Train)
            .to_vec();
        let torch_logits = fx.get(&format!("{id}/logits"));
        let torch_logits: Vec<f32> = match target {
            Target::All => torch_logits.to_vec(),
            Target::Last => torch_logits
                .chunks(tokens * vocab)
                .flat_map(|l| l[(tokens - 1) * vocab..].to_vec())
                .collect(),
        };
        assert_close(
            &format!("{id}: logits"),
            &logits,
            &torch_logits,
            1e-5,
            drift_of(case, "output"),
        );
        let (out, dout) = graph.output_and_grad(batch);
        let (loss, _) = Loss::SoftmaxCe.evaluate(out, vocab, &y, Some(dout));
        let loss = loss / y.len() as f64;
        let want = case["loss"].as_f64().unwrap();
        let tol = 1e-5f64.max(10.0 * drift_of(case, "loss"));
        assert!(
            (loss - want).abs() <= tol * want.abs(),
            "{id}: loss {loss} vs torch {want}"
        );
        let mut grad = vec![f32::NAN; params.len()];
        graph.backward(&params, &mut grad, &x, batch, Mode::Train);
        for t in graph.param_layout() {
            let key = format!("grad/{}", t.name);
            assert_close(
                &format!("{id}: ∂{}", t.name),
                &grad[t.range()],
                fx.get(&format!("{id}/{key}")),
                1e-4,
                drift_of(case, &key),
            );
        }
    }
}

#[test]
fn twenty_adamw_steps_match_pytorch() {
    use crate::data::Split;
    use crate::network::Network;
    use crate::sequences::Sequences;

    let text = std::fs::read_to_string(data_dir().join("transformer_e2e.json")).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    for case in json["cases"].as_array().unwrap() {
        let (vocab, tokens) = (usize_of(&case["vocab"]), usize_of(&case["tokens"]));
        let (n, batch) = (usize_of(&case["sequences"]), usize_of(&case["batch"]));
        let target = target_of(case);
        let (graph, mut params) = transformer_for(case);
        // token = ⌊(u + 1) / 2 · V⌋ of scripts/reference_transformer.py's `tokens_of`.
        let seqs: Vec<f32> = uniform(case["data_salt"].as_u64().unwrap(), n * (tokens + 1))
            .map(|u| ((u + 1.0) / 2.0 * vocab as f64).floor() as f32)
            .collect();
        let (x, _) = inputs_and_targets(&seqs, tokens, Target::All);
        let answers: Vec<f32> = seqs.chunks(tokens + 1).map(|s| s[tokens]).collect();
        let split = Split {
            n_features: tokens,
            n_classes: Some(vocab),
            x_train: x,
            y_train: answers,
            x_test: Vec::new(),
            y_test: Vec::new(),
            image_shape: None,
            pad: Vec::new(),
        };
        let network = Network::new(split, graph, Loss::SoftmaxCe, 0, params.clone())
            .with_sequences(Sequences::examples(tokens, target));
        steps_match_pytorch(case, network, &mut params, "adamw", n, batch);
    }
}
