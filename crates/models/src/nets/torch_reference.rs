//! The layers and networks against PyTorch: fixtures written by `scripts/gen_reference.py`
//! (`scripts/reference_models.py` documents them) in `crates/models/tests/data/`. Tolerances:
//! per element `|ours − torch| ≤ tol · (|torch| + 0.01 · max|torch|)`, with
//! `tol = max(1e-5, 10 · drift)` for losses and outputs and `max(1e-4, 10 · drift)` for
//! gradients, where `drift` is PyTorch's own float32-versus-float64 difference in that measure.

use std::collections::HashMap;
use std::path::PathBuf;

use safetensors::SafeTensors;
use serde_json::Value;

use crate::config::Activation;
use crate::layers::activation::ActivationLayer;
use crate::layers::avg_pool2d::AvgPool2d;
use crate::layers::batch_norm2d::BatchNorm2d;
use crate::layers::conv2d::Conv2d;
use crate::layers::dropout::Dropout;
use crate::layers::flatten::Flatten;
use crate::layers::global_avg_pool::GlobalAvgPool;
use crate::layers::layer_norm::LayerNorm;
use crate::layers::linear::Linear;
use crate::layers::loss::Loss;
use crate::layers::max_pool2d::{MaxPool2d, PadValue};
use crate::layers::shortcut::PadShortcut;
use crate::layers::window::Padding;
use crate::layers::{Dims, Layer, Mode, Pass, Workspace};

pub(super) fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// A fixture: its JSON and its tensors (f32, or i64 labels as f32).
pub(super) struct Fixture {
    pub(super) json: Value,
    tensors: HashMap<String, Vec<f32>>,
}

pub(super) fn fixture(name: &str) -> Fixture {
    let dir = data_dir();
    let text = std::fs::read_to_string(dir.join(format!("{name}.json"))).expect("fixture json");
    let json: Value = serde_json::from_str(&text).expect("fixture parses");
    let bytes = std::fs::read(dir.join(format!("{name}.safetensors"))).unwrap_or_default();
    let mut tensors = HashMap::new();
    if !bytes.is_empty() {
        let st = SafeTensors::deserialize(&bytes).expect("safetensors");
        for (n, view) in st.tensors() {
            let d = view.data();
            let v: Vec<f32> = match view.dtype() {
                safetensors::Dtype::F32 => d
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect(),
                safetensors::Dtype::I64 => d
                    .chunks_exact(8)
                    .map(|b| i64::from_le_bytes(b.try_into().unwrap()) as f32)
                    .collect(),
                other => panic!("{n}: {other:?}"),
            };
            tensors.insert(n, v);
        }
    }
    Fixture { json, tensors }
}

impl Fixture {
    pub(super) fn get(&self, name: &str) -> &[f32] {
        self.tensors
            .get(name)
            .unwrap_or_else(|| panic!("fixture tensor {name}"))
    }
}

/// `u(salt, i)` of scripts/reference_models.py: splitmix64, top 24 bits, in [-1, 1).
pub(super) fn uniform(salt: u64, n: usize) -> impl Iterator<Item = f64> {
    (0..n as u64).map(move |i| {
        let mut z = (salt << 32)
            .wrapping_add(i)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 40) as f64 / f64::from(1u32 << 23) - 1.0
    })
}

pub(super) fn generated(salt: u64, n: usize, offset: f64, scale: f64) -> Vec<f32> {
    uniform(salt, n)
        .map(|u| (offset + scale * u) as f32)
        .collect()
}

/// Checks `ours` against `torch` with the module's measure; `what` names the tensor.
pub(super) fn assert_close(what: &str, ours: &[f32], torch: &[f32], base: f64, drift: f64) {
    assert_eq!(ours.len(), torch.len(), "{what}: length");
    let tol = base.max(10.0 * drift);
    let max = torch.iter().fold(0.0f64, |m, &v| m.max(f64::from(v).abs()));
    for (i, (&a, &b)) in ours.iter().zip(torch).enumerate() {
        let (a, b) = (f64::from(a), f64::from(b));
        assert!(
            (a - b).abs() <= tol * (b.abs() + 0.01 * max) || (a - b).abs() < 1e-30,
            "{what}[{i}]: optbench {a}, torch {b} (tolerance {tol:.1e})"
        );
    }
}

pub(super) fn drift_of(case: &Value, key: &str) -> f64 {
    case["drift"][key].as_f64().unwrap_or(0.0)
}

/// NCHW → NHWC (or unchanged for tensors of rank < 4).
fn to_nhwc(x: &[f32], shape: &[usize]) -> Vec<f32> {
    if shape.len() != 4 {
        return x.to_vec();
    }
    let (c, hw) = (shape[1], shape[2] * shape[3]);
    let mut out = vec![0.0; x.len()];
    for (n, image) in x.chunks_exact(c * hw).enumerate() {
        for (ch, plane) in image.chunks_exact(hw).enumerate() {
            for (p, &v) in plane.iter().enumerate() {
                out[n * c * hw + p * c + ch] = v;
            }
        }
    }
    out
}

/// NHWC → NCHW for a batch of `dims`.
fn to_nchw(x: &[f32], dims: Dims) -> Vec<f32> {
    let (c, hw) = (dims.channels, dims.positions());
    let mut out = vec![0.0; x.len()];
    for (n, image) in x.chunks_exact(c * hw).enumerate() {
        for (p, pixel) in image.chunks_exact(c).enumerate() {
            for (ch, &v) in pixel.iter().enumerate() {
                out[n * c * hw + ch * hw + p] = v;
            }
        }
    }
    out
}

pub(super) fn usize_of(v: &Value) -> usize {
    v.as_u64().expect("integer") as usize
}

fn padding(v: &Value) -> Padding {
    let p: Vec<usize> = v.as_array().unwrap().iter().map(usize_of).collect();
    Padding {
        top: p[0],
        bottom: p[1],
        left: p[2],
        right: p[3],
    }
}

/// optbench's layer for a fixture's description, on inputs of `dims`.
fn layer_for(desc: &Value, dims: Dims, seed: u64) -> Box<dyn Layer> {
    let n = |k: &str| usize_of(&desc[k]);
    match desc["type"].as_str().unwrap() {
        "linear" => Box::new(Linear::new(dims, n("out")).unwrap()),
        "conv2d" => Box::new(
            Conv2d::new(
                dims,
                n("out"),
                n("kernel"),
                n("stride"),
                padding(&desc["padding"]),
                desc["bias"].as_bool().unwrap(),
            )
            .unwrap(),
        ),
        "max_pool2d" => {
            let value = if desc["pad_value"] == "zero" {
                PadValue::Zero
            } else {
                PadValue::NegInfinity
            };
            Box::new(
                MaxPool2d::new(
                    dims,
                    n("kernel"),
                    n("stride"),
                    padding(&desc["padding"]),
                    value,
                )
                .unwrap(),
            )
        }
        "avg_pool2d" => Box::new(
            AvgPool2d::new(dims, n("kernel"), n("stride"), padding(&desc["padding"])).unwrap(),
        ),
        "global_avg_pool" => Box::new(GlobalAvgPool::new(dims).unwrap()),
        "flatten" => Box::new(Flatten::new(dims)),
        "activation" => {
            let act = Activation::from_name(desc["activation"].as_str().unwrap()).unwrap();
            Box::new(ActivationLayer::new(dims, act))
        }
        "batch_norm2d" => Box::new(BatchNorm2d::new(dims).unwrap()),
        "layer_norm" => Box::new(LayerNorm::new(dims).unwrap()),
        "dropout" => Box::new(Dropout::new(dims, desc["p"].as_f64().unwrap(), seed).unwrap()),
        "shortcut_a" => Box::new(PadShortcut::new(dims, n("out"), n("stride")).unwrap()),
        other => panic!("unknown layer type {other}"),
    }
}

fn dims_of(shape: &[usize]) -> (usize, Dims) {
    match shape {
        [n, c, h, w] => (*n, Dims::image(*c, *h, *w)),
        [n, t, d] => (
            *n,
            Dims {
                height: 1,
                width: *t,
                channels: *d,
            },
        ),
        [n, f] => (*n, Dims::vector(*f)),
        _ => panic!("shape {shape:?}"),
    }
}

#[test]
fn every_layer_matches_pytorch() {
    let fx = fixture("layers");
    let cases = fx.json["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let shape: Vec<usize> = case["input_shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(usize_of)
            .collect();
        let (batch, dims) = dims_of(&shape);
        let mode = if case["mode"] == "train" {
            Mode::Train
        } else {
            Mode::Eval
        };
        let mut layer = layer_for(&case["layer"], dims, 0);
        let x = to_nhwc(fx.get(&format!("{id}/input")), &shape);
        let out_dims = layer.output_dims();
        let kind = case["layer"]["type"].as_str().unwrap();
        let out_shape_4d = shape.len() == 4 && !matches!(kind, "flatten" | "global_avg_pool");
        let torch_out = fx.get(&format!("{id}/output"));
        let r_torch = fx.get(&format!("{id}/upstream"));
        let out_nchw_shape = [batch, out_dims.channels, out_dims.height, out_dims.width];
        let r = if out_shape_4d {
            to_nhwc(r_torch, &out_nchw_shape)
        } else {
            r_torch.to_vec()
        };
        let names = names_of(case, "params");
        let buffer_names = names_of(case, "buffers");
        let params = concatenated(&fx, &format!("{id}/param"), &names);
        let mut buffers = concatenated(&fx, &format!("{id}/buffer"), &buffer_names);
        let specs: Vec<String> = layer.params().iter().map(|t| t.name.to_string()).collect();
        // The module's own names (a padding wrapper prefixes them with `inner.`).
        let local: Vec<&str> = names
            .iter()
            .map(|n| n.rsplit('.').next().unwrap())
            .collect();
        assert_eq!(specs, local, "{id}: parameter names");

        let mut ws = Workspace {
            scratch: vec![0.0; layer.scratch_len(batch)],
            ..Workspace::default()
        };
        layer.reserve(batch);
        let mut pass = Pass {
            batch,
            mode,
            ws: &mut ws,
        };
        if case["layer"]["type"] == "dropout" {
            check_dropout(&fx, case, dims, &x, &r, &mut pass);
            continue;
        }
        let mut y = vec![f32::NAN; batch * out_dims.len()];
        layer.forward(&x, &mut y, &params, &mut buffers, &mut pass);
        let mut dx = vec![f32::NAN; x.len()];
        let mut dp = vec![f32::NAN; params.len()];
        layer.backward(&x, &y, &r, Some(&mut dx), &params, &mut dp, &mut pass);
        let y_cmp = if out_shape_4d {
            to_nchw(&y, out_dims)
        } else {
            y.clone()
        };
        assert_close(
            &format!("{id}: output"),
            &y_cmp,
            torch_out,
            1e-5,
            drift_of(case, "output"),
        );
        let dx_cmp = if shape.len() == 4 {
            to_nchw(&dx, dims)
        } else {
            dx
        };
        assert_close(
            &format!("{id}: ∂input"),
            &dx_cmp,
            fx.get(&format!("{id}/grad_input")),
            1e-4,
            drift_of(case, "grad_input"),
        );
        check_concatenated(&fx, case, "grad", &names, &dp, 1e-4);
        check_concatenated(&fx, case, "buffer_after", &buffer_names, &buffers, 1e-5);
    }
}

/// The names a layer case lists under `list` ("params" or "buffers").
fn names_of(case: &Value, list: &str) -> Vec<String> {
    case[list]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

/// The fixture tensors `{prefix}/{name}`, one after the other in the order of `names`.
fn concatenated(fx: &Fixture, prefix: &str, names: &[String]) -> Vec<f32> {
    names
        .iter()
        .flat_map(|name| fx.get(&format!("{prefix}/{name}")).iter().copied())
        .collect()
}

/// `ours`, the tensors of `names` one after the other, against the fixture's `{id}/{kind}/{name}`.
fn check_concatenated(
    fx: &Fixture,
    case: &Value,
    kind: &str,
    names: &[String],
    ours: &[f32],
    base: f64,
) {
    let id = case["id"].as_str().unwrap();
    let mut off = 0;
    for name in names {
        let torch = fx.get(&format!("{id}/{kind}/{name}"));
        assert_close(
            &format!("{id}: {kind} {name}"),
            &ours[off..off + torch.len()],
            torch,
            base,
            drift_of(case, &format!("{kind}/{name}")),
        );
        off += torch.len();
    }
}

/// Dropout draws its own mask, so the case replays PyTorch's: kept where torch's output is not 0.
fn check_dropout(fx: &Fixture, case: &Value, dims: Dims, x: &[f32], r: &[f32], pass: &mut Pass) {
    let id = case["id"].as_str().unwrap();
    let torch_out = fx.get(&format!("{id}/output"));
    let keep: Vec<bool> = torch_out.iter().map(|&v| v != 0.0).collect();
    let mut d = Dropout::new(dims, case["layer"]["p"].as_f64().unwrap(), 0).unwrap();
    d.set_mask(&keep);
    let mut y = vec![f32::NAN; x.len()];
    d.apply_mask(x, &mut y);
    let mut dx = vec![f32::NAN; x.len()];
    d.backward(x, &y, r, Some(&mut dx), &[], &mut [], pass);
    assert_close(&format!("{id}: output"), &y, torch_out, 1e-6, 0.0);
    assert_close(
        &format!("{id}: ∂input"),
        &dx,
        fx.get(&format!("{id}/grad_input")),
        1e-6,
        0.0,
    );
}

/// The network of a fixture case and its generated weights (checked against the PyTorch
/// module's names and shapes).
fn net_for(id: &str, weights: &Value, input: Dims) -> (super::Built, Vec<f32>) {
    let built = match id {
        "2c2d" => {
            super::cnn::build(input, &super::cnn::Preset::TwoC2D.spec(), 10, None, 0).unwrap()
        }
        "3c3d" => {
            super::cnn::build(input, &super::cnn::Preset::ThreeC3D.spec(), 10, None, 0).unwrap()
        }
        "resnet8" => super::resnet::build(input, 8, super::resnet::Shortcut::A, 10, 0).unwrap(),
        other => panic!("{other}"),
    };
    let layout = built.graph.param_layout();
    let weights = weights.as_array().unwrap();
    assert_eq!(
        layout.len(),
        weights.len(),
        "{id}: number of parameter tensors"
    );
    let mut params = vec![0.0; built.graph.n_params()];
    for (t, w) in layout.iter().zip(weights) {
        assert_eq!(t.name, w["name"].as_str().unwrap(), "{id}: parameter order");
        let shape: Vec<usize> = w["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(usize_of)
            .collect();
        assert_eq!(t.shape, shape, "{id}: {}", t.name);
        let v = generated(
            w["salt"].as_u64().unwrap(),
            t.len(),
            w["offset"].as_f64().unwrap(),
            w["scale"].as_f64().unwrap(),
        );
        params[t.range()].copy_from_slice(&v);
    }
    (built, params)
}

#[test]
fn networks_match_pytorch() {
    let fx = fixture("nets");
    for case in fx.json["cases"].as_array().unwrap() {
        let id = case["id"].as_str().unwrap();
        let shape: Vec<usize> = case["input_shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(usize_of)
            .collect();
        let (batch, dims) = dims_of(&shape);
        let (built, params) = net_for(id, &case["weights"], dims);
        let mut graph = built.graph;
        let mut buffers = graph.init_buffers();
        let x = to_nhwc(fx.get(&format!("{id}/input")), &shape);
        let labels = fx.get(&format!("{id}/labels"));
        let logits = graph
            .forward(&params, &mut buffers, &x, batch, Mode::Train)
            .to_vec();
        assert_close(
            &format!("{id}: logits"),
            &logits,
            fx.get(&format!("{id}/output")),
            1e-5,
            drift_of(case, "output"),
        );
        let (out, dout) = graph.output_and_grad(batch);
        let (loss, _) = Loss::SoftmaxCe.evaluate(out, 10, labels, Some(dout));
        let loss = loss / batch as f64;
        let want = case["loss"].as_f64().unwrap();
        let tol = 1e-5f64.max(10.0 * drift_of(case, "loss"));
        assert!(
            (loss - want).abs() <= tol * want.abs(),
            "{id}: loss {loss} vs torch {want}"
        );
        let mut grad = vec![f32::NAN; params.len()];
        graph.backward(&params, &mut grad, &x, batch, Mode::Train);
        for (t, g) in graph
            .param_layout()
            .iter()
            .zip(case["grads"].as_array().unwrap())
        {
            let stride = usize_of(&g["stride"]);
            let ours: Vec<f32> = grad[t.range()].iter().step_by(stride).copied().collect();
            let key = format!("grad/{}", t.name);
            assert_close(
                &format!("{id}: ∂{}", t.name),
                &ours,
                fx.get(&format!("{id}/{key}")),
                1e-4,
                drift_of(case, &key),
            );
            let norm = grad[t.range()]
                .iter()
                .map(|&v| f64::from(v).powi(2))
                .sum::<f64>()
                .sqrt();
            let (n32, n64) = (g["norm"].as_f64().unwrap(), g["norm64"].as_f64().unwrap());
            let tol = 1e-4f64.max(10.0 * (n32 - n64).abs() / n64);
            assert!(
                (norm - n32).abs() <= tol * n32,
                "{id}: ‖∂{}‖ {norm} vs torch {n32}",
                t.name
            );
        }
        for t in graph.buffer_layout() {
            let key = format!("buffer_after/{}", t.name);
            assert_close(
                &format!("{id}: {}", t.name),
                &buffers[t.range()],
                fx.get(&format!("{id}/{key}")),
                1e-5,
                drift_of(case, &key),
            );
        }
    }
}

#[test]
fn twenty_training_steps_match_pytorch() {
    use crate::data::Split;
    use crate::network::Network;

    let text = std::fs::read_to_string(data_dir().join("e2e.json")).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    for case in json["cases"].as_array().unwrap() {
        let shape: Vec<usize> = case["input_shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(usize_of)
            .collect();
        let (n, batch) = (usize_of(&case["examples"]), usize_of(&case["batch"]));
        let dims = Dims::image(shape[0], shape[1], shape[2]);
        let (built, mut params) = net_for(case["net"].as_str().unwrap(), &case["weights"], dims);
        let x = generated(
            case["data_salt"].as_u64().unwrap(),
            n * dims.len(),
            0.0,
            1.0,
        );
        let y: Vec<f32> = case["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let split = Split {
            n_features: dims.len(),
            n_classes: Some(10),
            x_train: x,
            y_train: y,
            x_test: Vec::new(),
            y_test: Vec::new(),
            image_shape: Some(crate::ImageShape {
                channels: shape[0],
                height: shape[1],
                width: shape[2],
            }),
            pad: Vec::new(),
        };
        let network = Network::new(split, built.graph, Loss::SoftmaxCe, 0, params.clone());
        let optimizer = case["optimizer"].as_str().unwrap();
        steps_match_pytorch(case, network, &mut params, optimizer, n, batch);
    }
}

/// Trains `network` from `params` with the case's `optimizer` and `hparams`, on the batches
/// `(batch·t + j) mod n` of step `t`, and checks each step's loss against the case's `losses`
/// (tolerance 1e-5 relative, or ten times PyTorch's own f32-versus-f64 drift when larger).
pub(super) fn steps_match_pytorch(
    case: &Value,
    mut network: crate::network::Network,
    params: &mut [f32],
    optimizer: &str,
    n: usize,
    batch: usize,
) {
    use crate::problem::Problem;
    use optbench_optim::OptimizerConfig;

    let id = case["id"].as_str().unwrap();
    let hparams = case["hparams"].as_object().unwrap();
    let lr = hparams["lr"].as_f64().unwrap();
    let opt = OptimizerConfig::from_json(optimizer, hparams).unwrap();
    let mut opt = opt.build(params.len()).unwrap();
    let mut grad = vec![0.0; params.len()];
    let losses = case["losses"].as_array().unwrap();
    let drift = case["drift"].as_array().unwrap();
    for (t, (want, d)) in losses.iter().zip(drift).enumerate() {
        let idx: Vec<usize> = (0..batch).map(|j| (batch * t + j) % n).collect();
        let loss = network.loss_grad(params, &idx, &mut grad);
        let want = want.as_f64().unwrap();
        let tol = 1e-5f64.max(10.0 * d.as_f64().unwrap());
        assert!(
            (loss - want).abs() <= tol * want.abs(),
            "{id}, step {t}: loss {loss} vs torch {want} (tolerance {tol:.1e})"
        );
        opt.step(params, &grad, lr).unwrap();
    }
}
