//! Building one run's problem from its configuration, data and seed.

use std::path::Path;
use std::sync::Arc;

use crate::analytic::Analytic;
use crate::config::{LossKind, ProblemConfig, ProblemKind, WeightsInit};
use crate::data::{Dataset, Split};
use crate::error::ModelError;
use crate::layers::Dims;
use crate::layers::loss::Loss as Head;
use crate::nets;
use crate::nets::Built;
use crate::network::Network;
use crate::problem::Problem;
use crate::weights;

/// Builds the problem for one run: for problems on data, the seeded train/test split,
/// standardization with training statistics and the seeded initialization; for analytic ones,
/// the seeded instance (rotation of `quadratic`, random start points) and the noise stream.
///
/// `data` is the loaded dataset ([`crate::load_dataset`]); it is only read, so one `Arc` can be
/// shared by all runs. The same `seed` gives the same split, initial point and noise.
///
/// ```
/// use optbench_models::{build_problem, ProblemConfig, Problem};
/// let cfg = ProblemConfig::from_json("rosenbrock", &serde_json::Map::new()).unwrap();
/// let mut p = build_problem(&cfg, None, 0).unwrap();
/// let x = p.initial_params();
/// assert_eq!(x, [-1.2, 1.0]);
/// let mut g = vec![0.0; 2];
/// let f = p.loss_grad(&x, &[0], &mut g);
/// assert!((f - 24.2).abs() < 1e-4);
/// assert!(p.train_loss(&[1.0, 1.0]).abs() < 1e-12);
/// ```
pub fn build_problem(
    config: &ProblemConfig,
    data: Option<Arc<Dataset>>,
    seed: u64,
) -> Result<Box<dyn Problem>, ModelError> {
    build_problem_in(config, data, seed, Path::new("."))
}

/// As [`build_problem`], with the relative paths of the problem (a weights file,
/// `init: {file: ...}`) resolved against `base_dir`, the experiment file's folder. A weights file
/// that does not fit the network is a [`ModelError::Weights`] naming the tensor.
pub fn build_problem_in(
    config: &ProblemConfig,
    data: Option<Arc<Dataset>>,
    seed: u64,
    base_dir: &Path,
) -> Result<Box<dyn Problem>, ModelError> {
    if config.kind.is_analytic() {
        return Ok(Box::new(Analytic::new(config, seed)));
    }
    let name = config.name();
    let incompatible = |message: String| ModelError::Incompatible {
        problem: name.to_string(),
        message,
    };
    let (Some(ds), Some(data)) = (config.dataset(), data) else {
        return Err(ModelError::MissingKey {
            owner: name.to_string(),
            key: "dataset".into(),
        });
    };
    if config.kind == ProblemKind::Transformer {
        let network = crate::sequences::build_language_model(config, ds, &data, seed)?;
        return Ok(Box::new(with_initial_weights(network, config, base_dir)?));
    }
    if data.tokens().is_some() {
        return Err(incompatible(format!(
            "dataset `{}` is token sequences, for the `transformer` problem",
            ds.name()
        )));
    }
    // The dense problems train on the stored examples as they are; the convolutional networks
    // augment their training batches (data::augment).
    let dense = matches!(
        config.kind,
        ProblemKind::LinearRegression
            | ProblemKind::LogisticRegression
            | ProblemKind::SoftmaxRegression
            | ProblemKind::Mlp
    );
    if dense && !ds.augment().is_empty() {
        return Err(ModelError::OutOfRange {
            owner: ds.name().into(),
            key: "augment".into(),
            message: format!(
                "is applied by the convolutional networks; `{name}` does not augment its batches"
            ),
        });
    }
    if data.len() < 2 {
        return Err(incompatible(format!(
            "dataset `{}` has {} example(s); at least 2 are needed",
            data.name(),
            data.len()
        )));
    }
    let classes = data.n_classes();
    let needs_classes = |what: &str| {
        incompatible(format!(
            "{what} needs class labels, but dataset `{}` has real-valued targets \
             (set `task: classification` on the dataset if they are labels)",
            data.name()
        ))
    };
    let (head, hidden): (Head, &[usize]) = match config.kind {
        ProblemKind::LinearRegression => (Head::Mse, &[]),
        ProblemKind::LogisticRegression => {
            if let Some(t) = data
                .targets()
                .iter()
                .find(|&&t| t.abs() > 0.0 && (t - 1.0).abs() > 0.0)
            {
                return Err(incompatible(format!(
                    "logistic regression needs targets 0 or 1, dataset `{}` has {t} \
                     (use softmax_regression for more classes)",
                    data.name()
                )));
            }
            (Head::Bce, &[])
        }
        ProblemKind::SoftmaxRegression => {
            classes.ok_or_else(|| needs_classes("softmax regression"))?;
            (Head::SoftmaxCe, &[])
        }
        ProblemKind::Mlp => {
            let head = match (config.loss, classes) {
                (LossKind::Mse, _) | (LossKind::Auto, None) => Head::Mse,
                (LossKind::CrossEntropy | LossKind::Auto, Some(_)) => Head::SoftmaxCe,
                (LossKind::CrossEntropy, None) => return Err(needs_classes("cross_entropy")),
            };
            (head, &config.hidden)
        }
        ProblemKind::Cnn | ProblemKind::Resnet => {
            classes.ok_or_else(|| needs_classes(name))?;
            (Head::SoftmaxCe, &config.hidden)
        }
        _ => unreachable!("analytic problems are handled above"),
    };
    let split = Split::new(&data, ds.test_fraction, ds.standardize, seed);
    let k = match head {
        Head::Mse | Head::Bce => 1,
        Head::SoftmaxCe => split.n_classes.unwrap_or(2),
    };
    let built = build_network(config, &split, hidden, k, seed, data.name())?;
    let network = Network::new(
        split,
        built.graph,
        head,
        config.eval_train_examples,
        built.init,
    )
    .with_augmentation(ds.augment.clone(), seed);
    Ok(Box::new(with_initial_weights(network, config, base_dir)?))
}

/// `network` starting from the weights file of `init: {file: ...}` (relative to `base_dir`),
/// or as built.
fn with_initial_weights(
    network: Network,
    config: &ProblemConfig,
    base_dir: &Path,
) -> Result<Network, ModelError> {
    Ok(match config.weights_init() {
        WeightsInit::File(file) => {
            let path = if file.is_absolute() {
                file.clone()
            } else {
                base_dir.join(file)
            };
            let [params, aliases, buffers] = network.layouts();
            let loaded = weights::load_with_aliases(&path, &params, &aliases, &buffers)?;
            network.with_weights(loaded)
        }
        WeightsInit::Default | WeightsInit::Deepobs => network,
    })
}

/// The layers of a problem on data, with `k` outputs.
fn build_network(
    config: &ProblemConfig,
    split: &Split,
    hidden: &[usize],
    k: usize,
    seed: u64,
    data_name: &str,
) -> Result<Built, ModelError> {
    let name = config.name();
    if matches!(config.kind, ProblemKind::Cnn | ProblemKind::Resnet) {
        let shape = split.image_shape.ok_or_else(|| ModelError::Incompatible {
            problem: name.to_string(),
            message: format!(
                "needs images, but dataset `{data_name}` has no image shape \
                 (key `dataset`: use an image dataset such as idx or cifar10)"
            ),
        })?;
        let input = Dims::image(shape.channels, shape.height, shape.width);
        let net = &config.net;
        let keyed = |(key, e): (String, crate::layers::LayerError)| nets::key_error(name, &key, e);
        return if config.kind == ProblemKind::Resnet {
            nets::resnet::build(input, net.depth, net.shortcut, k, seed).map_err(keyed)
        } else {
            let spec = match net.preset {
                Some(preset) => preset.spec(),
                None => nets::cnn::CnnSpec {
                    blocks: net.conv.clone(),
                    global_pool: net.global_pool,
                    hidden: hidden.to_vec(),
                    activation: config.activation,
                    dropout: net.dropout,
                },
            };
            let deepobs = (net.weights == WeightsInit::Deepobs)
                .then_some(net.preset)
                .flatten();
            nets::cnn::build(input, &spec, k, deepobs, seed).map_err(keyed)
        };
    }
    nets::mlp::build(split.n_features, hidden, config.activation, k, seed)
        .map_err(|e| nets::key_error(name, "hidden", e))
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: determinism, exact copies
mod tests {
    use std::path::Path;

    use serde_json::{Value, json};

    use super::*;
    use crate::load_dataset;

    fn make(name: &str, keys: Value, seed: u64) -> Result<Box<dyn Problem>, ModelError> {
        let cfg = ProblemConfig::from_json(name, keys.as_object().unwrap())?;
        let data = cfg
            .dataset()
            .map(|d| load_dataset(d, seed, Path::new(".")))
            .transpose()?;
        build_problem(&cfg, data, seed)
    }

    /// Linear regression's minimizer equals the normal equations' solution (f64): the full-batch
    /// gradient vanishes there and the loss equals the least-squares residual.
    #[test]
    fn linear_regression_matches_normal_equations() {
        let keys = json!({"dataset": {"name": "synthetic_regression", "samples": 400, "features": 4, "noise": 0.5}});
        let cfg = ProblemConfig::from_json("linear_regression", keys.as_object().unwrap()).unwrap();
        let ds = cfg.dataset().unwrap();
        let data = load_dataset(ds, 3, Path::new(".")).unwrap();
        let split = Split::new(&data, ds.test_fraction, ds.standardize, 3);
        let d = 4;
        let n = split.train_len();
        let mut xtx = vec![vec![0.0f64; d + 1]; d + 1];
        let mut xty = vec![0.0f64; d + 1];
        for (row, &y) in split.x_train.chunks(d).zip(&split.y_train) {
            let v: Vec<f64> = row.iter().map(|&x| f64::from(x)).chain([1.0]).collect();
            for p in 0..=d {
                xty[p] += v[p] * f64::from(y);
                for q in 0..=d {
                    xtx[p][q] += v[p] * v[q];
                }
            }
        }
        let beta = crate::testutil::solve(xtx, xty);
        let rss: f64 = split
            .x_train
            .chunks(d)
            .zip(&split.y_train)
            .map(|(row, &y)| {
                let pred: f64 = row
                    .iter()
                    .zip(&beta)
                    .map(|(&x, b)| f64::from(x) * b)
                    .sum::<f64>()
                    + beta[d];
                (f64::from(y) - pred).powi(2)
            })
            .sum();
        let mut p = build_problem(&cfg, Some(data), 3).unwrap();
        assert_eq!(p.dim(), d + 1);
        let theta: Vec<f32> = beta.iter().map(|&b| b as f32).collect();
        let all: Vec<usize> = (0..n).collect();
        let mut g = vec![0.0; d + 1];
        let loss = p.loss_grad(&theta, &all, &mut g);
        assert!(
            (loss - rss / n as f64).abs() < 1e-5 * loss,
            "{loss} vs {}",
            rss / n as f64
        );
        let gnorm = g.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!(
            gnorm < 1e-4,
            "gradient at the normal-equations solution: {gnorm}"
        );
        // Gradient descent from the initial point converges to the same solution.
        let mut x = p.initial_params();
        for _ in 0..500 {
            p.loss_grad(&x, &all, &mut g);
            x.iter_mut().zip(&g).for_each(|(x, g)| *x -= 0.2 * g);
        }
        for (a, b) in x.iter().zip(&beta) {
            assert!((f64::from(*a) - b).abs() < 1e-3, "{a} vs {b}");
        }
    }

    #[test]
    fn incompatible_data_is_an_error() {
        let e = make("logistic_regression", json!({"dataset": "iris"}), 0)
            .err()
            .unwrap();
        assert!(matches!(e, ModelError::Incompatible { .. }), "{e}");
        let e = make("softmax_regression", json!({"dataset": "diabetes"}), 0)
            .err()
            .unwrap();
        assert!(e.to_string().contains("task: classification"), "{e}");
        let e = make(
            "mlp",
            json!({"dataset": "diabetes", "loss": "cross_entropy"}),
            0,
        )
        .err()
        .unwrap();
        assert!(matches!(e, ModelError::Incompatible { .. }), "{e}");
        let cfg = ProblemConfig::from_json("mlp", json!({"dataset": "iris"}).as_object().unwrap())
            .unwrap();
        assert!(matches!(
            build_problem(&cfg, None, 0),
            Err(ModelError::MissingKey { .. })
        ));
    }

    #[test]
    fn classifier_flags_and_sizes() {
        let p = make("mlp", json!({"dataset": "diabetes"}), 0).unwrap();
        assert!(!p.is_classifier());
        assert_eq!((p.train_len(), p.test_len()), (354, 88));
        let p = make(
            "mlp",
            json!({"dataset": "iris", "hidden": [5], "eval_train_examples": 50}),
            0,
        )
        .unwrap();
        assert!(p.is_classifier());
        assert_eq!(p.dim(), 4 * 5 + 5 + 5 * 3 + 3);
        assert_eq!(p.eval_train_len(), 50);
        let p = make(
            "logistic_regression",
            json!({"dataset": {"name": "synthetic_classification", "samples": 100}}),
            0,
        )
        .unwrap();
        assert!(p.is_classifier());
        assert_eq!(p.dim(), 11);
    }

    #[test]
    fn same_seed_same_run_other_seed_other_run() {
        let keys = json!({"dataset": {"name": "wine_quality"}, "hidden": [8]});
        let mut a = make("mlp", keys.clone(), 5).unwrap();
        let mut b = make("mlp", keys.clone(), 5).unwrap();
        let mut c = make("mlp", keys, 6).unwrap();
        let (xa, xc) = (a.initial_params(), c.initial_params());
        assert_eq!(xa, b.initial_params());
        assert_ne!(xa, xc);
        assert_eq!(a.train_loss(&xa).to_bits(), b.train_loss(&xa).to_bits());
        // Another seed also draws another split.
        assert_ne!(a.test_metrics(&xa).loss, c.test_metrics(&xa).loss);
    }

    #[test]
    fn every_problem_trains_a_little() {
        let data_keys = json!({"name": "synthetic_classification", "samples": 300, "features": 5, "classes": 2});
        for name in crate::PROBLEM_NAMES {
            let keys = match *name {
                "linear_regression" => {
                    json!({"dataset": {"name": "synthetic_regression", "samples": 300}})
                }
                "logistic_regression" | "softmax_regression" => json!({"dataset": data_keys}),
                "mlp" => json!({"dataset": data_keys, "hidden": [8], "activation": "tanh"}),
                "rastrigin" => json!({"init": [0.1, -0.1]}),
                "cnn" | "resnet" => continue, // image_networks_train_a_little
                "transformer" => continue,    // tests/transformer.rs
                _ => json!({}),
            };
            let mut p = make(name, keys, 1).unwrap();
            let mut x = p.initial_params();
            let before = p.train_loss(&x);
            let mut g = vec![0.0; p.dim()];
            let batch: Vec<usize> = (0..p.train_len()).collect();
            let lr = if *name == "rosenbrock" || *name == "beale" {
                1e-3
            } else {
                1e-2
            };
            for _ in 0..50 {
                p.loss_grad(&x, &batch, &mut g);
                x.iter_mut().zip(&g).for_each(|(x, g)| *x -= lr * g);
            }
            let after = p.train_loss(&x);
            assert!(after < before, "{name}: {before} -> {after}");
        }
    }

    /// Two classes of 3×8×8 images (a bright top or bottom half, plus noise).
    fn images(channels: usize) -> Arc<Dataset> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let (n, hw) = (64, 8);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..n {
            let label = i % 2;
            for _ in 0..channels {
                for r in 0..hw {
                    for _ in 0..hw {
                        let bright = (r < hw / 2) == (label == 0);
                        x.push(f32::from(u8::from(bright)) + rng.random_range(-0.5..0.5));
                    }
                }
            }
            y.push(label as f32);
        }
        let shape = crate::ImageShape {
            channels,
            height: hw,
            width: hw,
        };
        let d = Dataset::new("images", x, channels * hw * hw, y, Some(2)).unwrap();
        Arc::new(d.with_image_shape(shape).unwrap())
    }

    fn image_problem(
        name: &str,
        keys: Value,
        channels: usize,
    ) -> Result<Box<dyn Problem>, ModelError> {
        let mut keys = keys.as_object().unwrap().clone();
        keys.insert("dataset".into(), json!("iris"));
        let cfg = ProblemConfig::from_json(name, &keys)?;
        build_problem(&cfg, Some(images(channels)), 0)
    }

    #[test]
    fn image_networks_train_a_little() {
        let cnn = json!({"conv": [{"channels": 4, "kernel": 3, "norm": "batch", "pool": "max"},
                                  {"channels": 6, "kernel": 3, "padding": "valid", "pool": {"type": "avg", "kernel": 2}}],
                         "hidden": [8], "dropout": 0.1});
        for (name, keys, channels) in [
            ("cnn", cnn, 3),
            (
                "cnn",
                json!({"conv": [{"channels": 3, "stride": 2}], "global_pool": "avg"}),
                1,
            ),
            ("resnet", json!({"depth": 8}), 3),
            ("resnet", json!({"depth": 8, "shortcut": "B"}), 1),
        ] {
            let mut p = image_problem(name, keys, channels).unwrap();
            let mut x = p.initial_params();
            let before = p.train_loss(&x);
            let mut g = vec![0.0; p.dim()];
            let mut batches = crate::Batcher::new(p.train_len(), crate::BatchSize::Examples(16), 0);
            for _ in 0..30 {
                p.loss_grad(&x, batches.next_batch(), &mut g);
                x.iter_mut().zip(&g).for_each(|(x, g)| *x -= 0.05 * g);
            }
            let after = p.train_loss(&x);
            assert!(after < before, "{name}: {before} -> {after}");
            assert!(p.test_metrics(&x).accuracy.is_some());
        }
    }

    #[test]
    fn bad_image_networks_are_errors_naming_the_key() {
        let e = make(
            "cnn",
            json!({"dataset": "iris", "conv": [{"channels": 2}]}),
            0,
        )
        .err()
        .unwrap();
        assert!(e.to_string().contains("needs images"), "{e}");
        let e = image_problem(
            "cnn",
            json!({"conv": [{"channels": 2, "kernel": 9, "padding": "valid"}]}),
            1,
        )
        .err()
        .unwrap();
        assert_eq!(e.key(), Some("conv[0]"), "{e}");
        assert!(
            e.to_string().contains("larger than its padded input"),
            "{e}"
        );
        let e = image_problem("cnn", json!({"conv": [{"channels": 0}]}), 1)
            .err()
            .unwrap();
        assert_eq!(e.key(), Some("conv[0].channels"), "{e}");
        let e = image_problem("cnn", json!({"preset": "2c2d", "hidden": [3]}), 1)
            .err()
            .unwrap();
        assert_eq!(e.key(), Some("hidden"), "{e}");
        let e = image_problem("resnet", json!({"depth": 10}), 1)
            .err()
            .unwrap();
        assert_eq!(e.key(), Some("depth"), "{e}");
        // 2c2d on 8×8 images: the second pooling leaves 2×2, fine; a 2×2 image is too small.
        assert!(image_problem("cnn", json!({"preset": "2c2d"}), 1).is_ok());
    }

    #[test]
    fn weights_round_trip_through_safetensors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        let p = image_problem("resnet", json!({"depth": 8}), 3).unwrap();
        let mut params = p.initial_params();
        params[0] = 0.125;
        p.save_weights(&params, &path).unwrap();
        let loaded = image_problem(
            "resnet",
            json!({"depth": 8, "init": {"file": path.to_str().unwrap()}}),
            3,
        )
        .unwrap();
        assert_eq!(loaded.initial_params(), params);
        assert_eq!(p.param_layout(), loaded.param_layout());
        let e = image_problem(
            "resnet",
            json!({"depth": 14, "init": {"file": path.to_str().unwrap()}}),
            3,
        )
        .err()
        .unwrap();
        assert!(e.to_string().contains("is missing (expected shape"), "{e}");
        let e = image_problem(
            "resnet",
            json!({"depth": 8, "init": {"file": path.to_str().unwrap()}}),
            1,
        )
        .err()
        .unwrap();
        assert!(
            e.to_string()
                .contains("`conv1.weight` has shape [16, 3, 3, 3], expected [16, 1, 3, 3]"),
            "{e}"
        );
    }

    /// `augment` goes into training batches only, seeded: the same seed gives the same
    /// gradients, and they differ from the unaugmented ones; evaluation is not augmented.
    #[test]
    fn training_batches_are_augmented() {
        let data = |augment: bool| {
            let mut d = json!({"name": "synthetic_images", "samples": 64, "channels": 3,
                               "height": 8, "width": 8, "classes": 4});
            if augment {
                d["augment"] = json!([{"random_crop": 2}, "hflip"]);
            }
            json!({"dataset": d, "conv": [{"channels": 4, "pool": "max"}]})
        };
        let grad = |keys: Value| {
            let mut p = make("cnn", keys, 3).unwrap();
            let x = p.initial_params();
            let mut g = vec![0.0; p.dim()];
            p.loss_grad(&x, &[0, 1, 2, 3], &mut g);
            (g, p.train_loss(&x))
        };
        let (plain, loss_plain) = grad(data(false));
        let (a, loss_a) = grad(data(true));
        let (b, _) = grad(data(true));
        assert_eq!(a, b, "seeded");
        assert_ne!(a, plain, "augmented");
        assert_eq!(
            loss_a.to_bits(),
            loss_plain.to_bits(),
            "evaluation is not augmented"
        );
    }
}
