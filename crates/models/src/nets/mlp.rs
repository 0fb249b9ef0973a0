//! Dense networks: linear, logistic and softmax regression (no hidden layer) and the MLP, the
//! PyTorch module
//!
//! ```python
//! torch.nn.Sequential(Linear(d, h1), Act(), Linear(h1, h2), Act(), ..., Linear(hk, k))
//! ```
//!
//! (parameters `0.weight`, `0.bias`, `2.weight`, ...), initialised as PyTorch's `Linear`:
//! `W, b ~ U(−1/√fan_in, 1/√fan_in)`, drawn layer by layer from the run's init stream.

use super::Built;
use crate::config::Activation;
use crate::layers::activation::ActivationLayer;
use crate::layers::graph::GraphBuilder;
use crate::layers::linear::Linear;
use crate::layers::{Dims, LayerError};
use crate::seeds;

/// The MLP `d → hidden… → k` with `act` after every hidden layer.
pub(crate) fn build(
    d: usize,
    hidden: &[usize],
    act: Activation,
    k: usize,
    seed: u64,
) -> Result<Built, LayerError> {
    let mut b = GraphBuilder::new(Dims::vector(d));
    let mut t = b.input();
    let mut index = 0;
    for &h in hidden {
        t = b.layer(index.to_string(), Linear::new(b.dims(t), h)?, t)?;
        t = b.layer(
            (index + 1).to_string(),
            ActivationLayer::new(b.dims(t), act),
            t,
        )?;
        index += 2;
    }
    t = b.layer(index.to_string(), Linear::new(b.dims(t), k)?, t)?;
    let graph = b.finish(t)?;
    let init = graph.init_params(&mut seeds::rng(seed, seeds::STREAM_INIT));
    Ok(Built { graph, init })
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: determinism, exact copies
mod tests {
    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::data::Split;
    use crate::layers::loss::Loss;
    use crate::network::Network;
    use crate::problem::Problem;

    struct Net {
        nw: Network,
        sizes: Vec<usize>,
        act: Activation,
        head: Loss,
        split: Split,
    }

    /// Independent f64 reference: mean loss of the batch, one example at a time.
    fn reference_loss(net: &Net, params: &[f64], batch: &[usize]) -> f64 {
        let d = net.sizes[0];
        let mut total = 0.0;
        for &i in batch {
            let mut a: Vec<f64> = net.split.x_train[i * d..(i + 1) * d]
                .iter()
                .map(|&v| f64::from(v))
                .collect();
            let mut off = 0;
            let layers = net.sizes.len() - 1;
            for (li, w) in net.sizes.windows(2).enumerate() {
                let (n_in, n_out) = (w[0], w[1]);
                let b = off + n_in * n_out;
                let mut z = vec![0.0; n_out];
                for (o, zo) in z.iter_mut().enumerate() {
                    *zo = params[b + o]
                        + (0..n_in)
                            .map(|j| params[off + o * n_in + j] * a[j])
                            .sum::<f64>();
                }
                off = b + n_out;
                if li + 1 < layers {
                    for v in &mut z {
                        *v = match net.act {
                            Activation::Relu => v.max(0.0),
                            Activation::Tanh => v.tanh(),
                            Activation::Sigmoid => 1.0 / (1.0 + (-*v).exp()),
                            Activation::Gelu => 0.5 * *v * (1.0 + libm::erf(*v / 2f64.sqrt())),
                            Activation::GeluTanh => crate::layers::activation::gelu_tanh_f64(*v),
                        };
                    }
                }
                a = z;
            }
            let y = f64::from(net.split.y_train[i]);
            total += match net.head {
                Loss::Mse => (y - a[0]).powi(2),
                Loss::Bce => {
                    let p = 1.0 / (1.0 + (-a[0]).exp());
                    -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
                }
                Loss::SoftmaxCe => {
                    let m = a.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let lse = m + a.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
                    lse - a[y as usize]
                }
            };
        }
        total / batch.len() as f64
    }

    fn net(d: usize, hidden: &[usize], act: Activation, head: Loss, n: usize, seed: u64) -> Net {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let k = 3;
        let x: Vec<f32> = (0..n * d).map(|_| rng.random_range(-2.0..2.0)).collect();
        let y: Vec<f32> = (0..n)
            .map(|_| match head {
                Loss::Mse => rng.random_range(-3.0..3.0),
                Loss::Bce => f32::from(rng.random_bool(0.5)),
                Loss::SoftmaxCe => rng.random_range(0..k) as f32,
            })
            .collect();
        let split = Split {
            n_features: d,
            n_classes: Some(k),
            x_test: x[..d].to_vec(),
            y_test: y[..1].to_vec(),
            x_train: x,
            y_train: y,
            image_shape: None,
            pad: Vec::new(),
        };
        let n_out = if head == Loss::SoftmaxCe { k } else { 1 };
        let built = build(d, hidden, act, n_out, seed).unwrap();
        let mut sizes = vec![d];
        sizes.extend_from_slice(hidden);
        sizes.push(n_out);
        Net {
            nw: Network::new(split.clone(), built.graph, head, 0, built.init),
            sizes,
            act,
            head,
            split,
        }
    }

    fn heads() -> impl Strategy<Value = Loss> {
        prop_oneof![Just(Loss::Mse), Just(Loss::Bce), Just(Loss::SoftmaxCe)]
    }

    fn acts() -> impl Strategy<Value = Activation> {
        prop_oneof![
            Just(Activation::Relu),
            Just(Activation::Tanh),
            Just(Activation::Sigmoid),
            Just(Activation::Gelu),
            Just(Activation::GeluTanh)
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Backward pass against central finite differences of the f64 reference.
        #[test]
        fn gradient_matches_finite_differences(
            d in 1usize..5,
            hidden in proptest::collection::vec(1usize..5, 0..3),
            act in acts(),
            head in heads(),
            batch in proptest::collection::vec(0usize..7, 1..6),
            seed in 0u64..1000,
        ) {
            let mut net = net(d, &hidden, act, head, 7, seed);
            let params = net.nw.initial_params();
            // Scale parameters up so that activations leave their linear region.
            let params: Vec<f32> = params.iter().map(|p| 2.0 * p).collect();
            let mut grad = vec![0.0; net.nw.dim()];
            let loss = net.nw.loss_grad(&params, &batch, &mut grad);
            let p64: Vec<f64> = params.iter().map(|&v| f64::from(v)).collect();
            let ref_loss = reference_loss(&net, &p64, &batch);
            prop_assert!((loss - ref_loss).abs() <= 1e-5 * (1.0 + ref_loss.abs()), "{loss} vs {ref_loss}");
            let h = 1e-6;
            for i in 0..net.nw.dim() {
                let mut p = p64.clone();
                p[i] += h;
                let up = reference_loss(&net, &p, &batch);
                p[i] -= 2.0 * h;
                let down = reference_loss(&net, &p, &batch);
                let fd = (up - down) / (2.0 * h);
                let g = f64::from(grad[i]);
                prop_assert!((g - fd).abs() <= 2e-3 * (1.0 + fd.abs()), "param {i}: {g} vs fd {fd}");
            }
        }
    }

    #[test]
    fn stable_for_huge_logits() {
        for head in [Loss::Bce, Loss::SoftmaxCe] {
            let mut nw = net(2, &[], Activation::Relu, head, 4, 1).nw;
            let params: Vec<f32> = nw.initial_params().iter().map(|p| p * 1e4).collect();
            let mut grad = vec![0.0; nw.dim()];
            let loss = nw.loss_grad(&params, &[0, 1, 2, 3], &mut grad);
            assert!(loss.is_finite(), "{head:?}");
            assert!(grad.iter().all(|g| g.is_finite()), "{head:?}");
            assert!(nw.train_loss(&params).is_finite());
        }
    }

    #[test]
    fn init_is_torch_linear_uniform() {
        let nw = net(9, &[4], Activation::Relu, Loss::SoftmaxCe, 5, 3).nw;
        let p = nw.initial_params();
        assert_eq!(p.len(), 9 * 4 + 4 + 4 * 3 + 3);
        let (first, second) = p.split_at(9 * 4 + 4);
        assert!(first.iter().all(|v| v.abs() < 1.0 / 3.0));
        assert!(
            first.iter().any(|v| v.abs() > 0.25),
            "spread over the interval"
        );
        assert!(second.iter().all(|v| v.abs() < 0.5));
        assert!(second.iter().any(|v| v.abs() > 1.0 / 3.0));
    }

    #[test]
    fn evaluation_matches_training_loss_on_the_same_examples() {
        let mut nw = net(3, &[5], Activation::Tanh, Loss::SoftmaxCe, 600, 2).nw;
        let p = nw.initial_params();
        let all: Vec<usize> = (0..600).collect();
        let mut g = vec![0.0; nw.dim()];
        let full = nw.loss_grad(&p, &all, &mut g);
        let eval = nw.train_loss(&p);
        assert!((full - eval).abs() < 1e-5, "{full} vs {eval}");
        let counts = nw.eval_counts();
        assert_eq!((counts.grad_evals, counts.examples_seen), (1, 600));
    }
}
