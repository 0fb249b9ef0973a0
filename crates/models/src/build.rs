//! Building one run's problem from its configuration, data and seed.

use std::sync::Arc;

use crate::analytic::Analytic;
use crate::config::{LossKind, ProblemConfig, ProblemKind};
use crate::data::{Dataset, Split};
use crate::error::ModelError;
use crate::layers::loss::Loss as Head;
use crate::nets;
use crate::network::Network;
use crate::problem::Problem;

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
        _ => unreachable!("analytic problems are handled above"),
    };
    let split = Split::new(&data, ds.test_fraction, ds.standardize, seed);
    let k = match head {
        Head::Mse | Head::Bce => 1,
        Head::SoftmaxCe => split.n_classes.unwrap_or(2),
    };
    let built = nets::mlp::build(split.n_features, hidden, config.activation, k, seed)
        .map_err(|e| nets::key_error(name, "hidden", e))?;
    Ok(Box::new(Network::new(
        split,
        built.graph,
        head,
        config.eval_train_examples,
        built.init,
    )))
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
}
