//! Dense networks on data with hand-written backward passes: linear, logistic and softmax
//! regression are networks without hidden layers; `mlp` adds hidden layers.
//!
//! Parameters are one flat `f32` vector laid out as torch's `parameters()` of a stack of
//! `torch.nn.Linear` layers: for each layer its weight (out × in, row-major), then its bias.
//! Forward and backward run on preallocated buffers; the matrix products are [`crate::gemm`]'s
//! (allocation-free once warm, bit-identical on every CPU), and a mini-batch is multiplied
//! straight out of the training set through its row indices.

use rand::Rng;

use crate::config::Activation;
use crate::data::Split;
use crate::gemm::{Mat, PackBuffers, gemm};
use crate::problem::{EvalCounts, Problem, TestMetrics};
use crate::seeds;

/// The loss on the network's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Head {
    /// One output ŷ; mean over the batch of (y − ŷ)².
    Mse,
    /// One logit z; binary cross-entropy max(z, 0) − z·y + ln(1 + e^(−|z|)), stable for any z.
    Bce,
    /// k logits; cross-entropy logsumexp(z) − z_y with the max subtracted first.
    SoftmaxCe,
}

#[derive(Clone, Copy, Debug)]
struct Layer {
    n_in: usize,
    n_out: usize,
    /// Offset of the weight (n_out × n_in) in the parameter vector; the bias follows it.
    w: usize,
}

impl Layer {
    fn b(&self) -> usize {
        self.w + self.n_in * self.n_out
    }
    fn end(&self) -> usize {
        self.b() + self.n_out
    }
}

/// Preallocated buffers for batches of up to `cap` examples.
#[derive(Clone, Debug, Default)]
struct Workspace {
    cap: usize,
    /// Targets of the batch.
    y: Vec<f32>,
    /// Pre-activations, per layer (cap × n_out).
    z: Vec<Vec<f32>>,
    /// Activations of hidden layers (cap × n_out).
    a: Vec<Vec<f32>>,
    /// ∂loss/∂z, per layer.
    dz: Vec<Vec<f32>>,
    pack: PackBuffers,
}

/// Examples per chunk when evaluating (forward only).
const EVAL_CHUNK: usize = 256;

/// A network on one run's data split.
pub(crate) struct Network {
    layers: Vec<Layer>,
    act: Activation,
    head: Head,
    dim: usize,
    split: Split,
    eval_n: usize,
    init: Vec<f32>,
    ws: Workspace,
    counts: EvalCounts,
}

const SQRT_1_2: f32 = std::f32::consts::FRAC_1_SQRT_2;
/// 1/√(2π).
const INV_SQRT_2PI: f32 = 0.398_942_3;

fn activate(act: Activation, z: &[f32], a: &mut [f32]) {
    match act {
        Activation::Relu => a.iter_mut().zip(z).for_each(|(a, &z)| *a = z.max(0.0)),
        Activation::Tanh => a.iter_mut().zip(z).for_each(|(a, &z)| *a = z.tanh()),
        Activation::Sigmoid => a.iter_mut().zip(z).for_each(|(a, &z)| *a = sigmoid(z)),
        Activation::Gelu => a
            .iter_mut()
            .zip(z)
            .for_each(|(a, &z)| *a = 0.5 * z * (1.0 + libm::erff(z * SQRT_1_2))),
    }
}

/// dz *= act'(z), given z and a = act(z).
fn activate_backward(act: Activation, z: &[f32], a: &[f32], dz: &mut [f32]) {
    match act {
        Activation::Relu => dz.iter_mut().zip(z).for_each(|(d, &z)| {
            if z <= 0.0 {
                *d = 0.0;
            }
        }),
        Activation::Tanh => dz.iter_mut().zip(a).for_each(|(d, &a)| *d *= 1.0 - a * a),
        Activation::Sigmoid => dz.iter_mut().zip(a).for_each(|(d, &a)| *d *= a * (1.0 - a)),
        Activation::Gelu => dz.iter_mut().zip(z).for_each(|(d, &z)| {
            let cdf = 0.5 * (1.0 + libm::erff(z * SQRT_1_2));
            let pdf = INV_SQRT_2PI * (-0.5 * z * z).exp();
            *d *= cdf + z * pdf;
        }),
    }
}

fn sigmoid(z: f32) -> f32 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Sum over the batch of the loss, number of correct predictions (classifiers), and, when `dz`
/// is given, ∂(mean loss)/∂output written into it.
fn head_loss(head: Head, out: &[f32], k: usize, y: &[f32], dz: Option<&mut [f32]>) -> (f64, usize) {
    let bsz = y.len();
    let scale = 1.0 / bsz as f32;
    let mut loss = 0.0f64;
    let mut correct = 0usize;
    match head {
        Head::Mse => {
            for (&o, &t) in out.iter().zip(y) {
                let r = f64::from(o) - f64::from(t);
                loss += r * r;
            }
            if let Some(dz) = dz {
                for ((d, &o), &t) in dz.iter_mut().zip(out).zip(y) {
                    *d = 2.0 * (o - t) * scale;
                }
            }
        }
        Head::Bce => {
            for (&z, &t) in out.iter().zip(y) {
                let (z64, t64) = (f64::from(z), f64::from(t));
                loss += z64.max(0.0) - z64 * t64 + (-z64.abs()).exp().ln_1p();
                correct += usize::from((z > 0.0) == (t > 0.5));
            }
            if let Some(dz) = dz {
                for ((d, &z), &t) in dz.iter_mut().zip(out).zip(y) {
                    *d = (sigmoid(z) - t) * scale;
                }
            }
        }
        Head::SoftmaxCe => {
            let mut dz = dz;
            for (i, (row, &t)) in out.chunks_exact(k).zip(y).enumerate() {
                let label = t as usize;
                let (arg, max) =
                    row.iter()
                        .enumerate()
                        .fold((0, f32::NEG_INFINITY), |(bi, bv), (j, &v)| {
                            if v > bv { (j, v) } else { (bi, bv) }
                        });
                correct += usize::from(arg == label);
                let sum: f32 = row.iter().map(|&v| (v - max).exp()).sum();
                loss += f64::from(max) + f64::from(sum).ln() - f64::from(row[label]);
                if let Some(dz) = dz.as_deref_mut() {
                    let inv = scale / sum;
                    let drow = &mut dz[i * k..(i + 1) * k];
                    for (d, &v) in drow.iter_mut().zip(row) {
                        *d = (v - max).exp() * inv;
                    }
                    drow[label] -= scale;
                }
            }
        }
    }
    (loss, correct)
}

impl Network {
    /// A network with the given hidden sizes on `split`; `eval_train_examples` (0 = all) is the
    /// size of the fixed training subset for `train_loss`.
    pub(crate) fn new(
        split: Split,
        hidden: &[usize],
        act: Activation,
        head: Head,
        eval_train_examples: usize,
        seed: u64,
    ) -> Self {
        let n_out = match head {
            Head::Mse | Head::Bce => 1,
            Head::SoftmaxCe => split.n_classes.unwrap_or(2),
        };
        let mut sizes = vec![split.n_features];
        sizes.extend_from_slice(hidden);
        sizes.push(n_out);
        let mut layers = Vec::with_capacity(sizes.len() - 1);
        let mut off = 0;
        for w in sizes.windows(2) {
            let l = Layer {
                n_in: w[0],
                n_out: w[1],
                w: off,
            };
            off = l.end();
            layers.push(l);
        }
        // torch.nn.Linear.reset_parameters: weight and bias ~ U(−1/√fan_in, 1/√fan_in).
        let mut rng = seeds::rng(seed, seeds::STREAM_INIT);
        let mut init = Vec::with_capacity(off);
        for l in &layers {
            let bound = 1.0 / (l.n_in as f32).sqrt();
            init.extend((0..l.n_in * l.n_out + l.n_out).map(|_| rng.random_range(-bound..bound)));
        }
        let n_train = split.train_len();
        let eval_n = if eval_train_examples == 0 {
            n_train
        } else {
            eval_train_examples.min(n_train)
        };
        Network {
            layers,
            act,
            head,
            dim: off,
            split,
            eval_n,
            init,
            ws: Workspace::default(),
            counts: EvalCounts::default(),
        }
    }

    fn reserve(&mut self, bsz: usize) {
        let ws = &mut self.ws;
        if bsz <= ws.cap {
            return;
        }
        ws.cap = bsz;
        ws.y.resize(bsz, 0.0);
        ws.z = self
            .layers
            .iter()
            .map(|l| vec![0.0; bsz * l.n_out])
            .collect();
        ws.dz = ws.z.clone();
        ws.a = self.layers[..self.layers.len() - 1]
            .iter()
            .map(|l| vec![0.0; bsz * l.n_out])
            .collect();
    }

    /// Forward pass of the `bsz` examples `x` (rows of the first layer's input).
    fn forward(
        layers: &[Layer],
        act: Activation,
        params: &[f32],
        x: Mat,
        bsz: usize,
        ws: &mut Workspace,
    ) {
        for (li, l) in layers.iter().enumerate() {
            let inp = if li == 0 {
                x
            } else {
                Mat::rows(&ws.a[li - 1], l.n_in)
            };
            let z = &mut ws.z[li][..bsz * l.n_out];
            let bias = &params[l.b()..l.end()];
            for row in z.chunks_exact_mut(l.n_out) {
                row.copy_from_slice(bias);
            }
            // z = bias + input · Wᵀ, W stored n_out × n_in.
            let w = Mat::transposed(&params[l.w..l.b()], l.n_in);
            gemm(bsz, l.n_out, l.n_in, inp, w, z, true, &mut ws.pack);
            if li + 1 < layers.len() {
                activate(act, z, &mut ws.a[li][..bsz * l.n_out]);
            }
        }
    }

    /// Mean loss and accuracy over contiguous examples (`x` row-major, `y`), forward only.
    fn evaluate(&mut self, params: &[f32], test: bool) -> (f64, f64) {
        let n = if test {
            self.split.y_test.len()
        } else {
            self.eval_n
        };
        if n == 0 {
            return (f64::NAN, f64::NAN);
        }
        self.reserve(EVAL_CHUNK.min(n));
        let chunk = self.ws.cap;
        let d = self.split.n_features;
        let k = self.layers.last().map_or(1, |l| l.n_out);
        let (xs, ys) = if test {
            (&self.split.x_test, &self.split.y_test)
        } else {
            (&self.split.x_train, &self.split.y_train)
        };
        let (mut loss, mut correct) = (0.0, 0);
        let mut start = 0;
        while start < n {
            let bsz = chunk.min(n - start);
            let x = Mat::rows(&xs[start * d..(start + bsz) * d], d);
            let y = &ys[start..start + bsz];
            Self::forward(&self.layers, self.act, params, x, bsz, &mut self.ws);
            let out = &self.ws.z[self.layers.len() - 1][..bsz * k];
            let (l, c) = head_loss(self.head, out, k, y, None);
            loss += l;
            correct += c;
            start += bsz;
        }
        (loss / n as f64, correct as f64 / n as f64)
    }
}

impl Problem for Network {
    fn dim(&self) -> usize {
        self.dim
    }

    fn train_len(&self) -> usize {
        self.split.train_len()
    }

    fn initial_params(&self) -> Vec<f32> {
        self.init.clone()
    }

    fn loss_grad(&mut self, params: &[f32], batch: &[usize], grad: &mut [f32]) -> f64 {
        let bsz = batch.len();
        if bsz == 0 {
            grad.fill(0.0);
            return 0.0;
        }
        self.counts.loss_evals += 1;
        self.counts.grad_evals += 1;
        self.counts.examples_seen += bsz as u64;
        self.reserve(bsz);
        let d = self.split.n_features;
        let ws = &mut self.ws;
        for (y, &i) in ws.y.iter_mut().zip(batch) {
            *y = self.split.y_train[i];
        }
        // The batch is read straight out of the training set through its indices.
        let x = Mat::gathered(&self.split.x_train, d, batch);
        let layers = &self.layers;
        let nl = layers.len();
        Self::forward(layers, self.act, params, x, bsz, ws);
        let k = layers[nl - 1].n_out;
        let (loss, _) = head_loss(
            self.head,
            &ws.z[nl - 1][..bsz * k],
            k,
            &ws.y[..bsz],
            Some(&mut ws.dz[nl - 1][..bsz * k]),
        );
        // Backward.
        for li in (0..nl).rev() {
            let l = layers[li];
            let (below, here) = ws.dz.split_at_mut(li);
            let dz = &here[0][..bsz * l.n_out];
            let inp = if li == 0 {
                x
            } else {
                Mat::rows(&ws.a[li - 1], l.n_in)
            };
            // ∂W = dzᵀ · input (n_out × n_in).
            let dz_t = Mat::transposed(dz, l.n_out);
            gemm(
                l.n_out,
                l.n_in,
                bsz,
                dz_t,
                inp,
                &mut grad[l.w..l.b()],
                false,
                &mut ws.pack,
            );
            // ∂b = column sums of dz.
            let gb = &mut grad[l.b()..l.end()];
            gb.fill(0.0);
            for row in dz.chunks_exact(l.n_out) {
                gb.iter_mut().zip(row).for_each(|(g, &v)| *g += v);
            }
            if li > 0 {
                // ∂input = dz · W, then through the activation.
                let prev = &mut below[li - 1][..bsz * l.n_in];
                let w = Mat::rows(&params[l.w..l.b()], l.n_in);
                gemm(
                    bsz,
                    l.n_in,
                    l.n_out,
                    Mat::rows(dz, l.n_out),
                    w,
                    prev,
                    false,
                    &mut ws.pack,
                );
                activate_backward(
                    self.act,
                    &ws.z[li - 1][..bsz * l.n_in],
                    &ws.a[li - 1][..bsz * l.n_in],
                    prev,
                );
            }
        }
        loss / bsz as f64
    }

    fn train_loss(&mut self, params: &[f32]) -> f64 {
        self.evaluate(params, false).0
    }

    fn test_metrics(&mut self, params: &[f32]) -> TestMetrics {
        if self.split.y_test.is_empty() {
            return TestMetrics::default();
        }
        let (loss, acc) = self.evaluate(params, true);
        TestMetrics {
            loss: Some(loss),
            accuracy: (self.head != Head::Mse).then_some(acc),
        }
    }

    fn eval_counts(&self) -> EvalCounts {
        self.counts
    }

    fn is_classifier(&self) -> bool {
        self.head != Head::Mse
    }

    fn test_len(&self) -> usize {
        self.split.y_test.len()
    }

    fn eval_train_len(&self) -> usize {
        self.eval_n
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: determinism, exact copies
mod tests {
    use proptest::prelude::*;
    use rand::SeedableRng;

    use super::*;

    /// Independent f64 reference: mean loss of the batch, one example at a time.
    fn reference_loss(net: &Network, params: &[f64], batch: &[usize]) -> f64 {
        let d = net.split.n_features;
        let mut total = 0.0;
        for &i in batch {
            let mut a: Vec<f64> = net.split.x_train[i * d..(i + 1) * d]
                .iter()
                .map(|&v| f64::from(v))
                .collect();
            for (li, l) in net.layers.iter().enumerate() {
                let mut z = vec![0.0; l.n_out];
                for (o, zo) in z.iter_mut().enumerate() {
                    *zo = params[l.b() + o]
                        + (0..l.n_in)
                            .map(|j| params[l.w + o * l.n_in + j] * a[j])
                            .sum::<f64>();
                }
                if li + 1 < net.layers.len() {
                    for v in &mut z {
                        *v = match net.act {
                            Activation::Relu => v.max(0.0),
                            Activation::Tanh => v.tanh(),
                            Activation::Sigmoid => 1.0 / (1.0 + (-*v).exp()),
                            Activation::Gelu => 0.5 * *v * (1.0 + libm::erf(*v / 2f64.sqrt())),
                        };
                    }
                }
                a = z;
            }
            let y = f64::from(net.split.y_train[i]);
            total += match net.head {
                Head::Mse => (y - a[0]).powi(2),
                Head::Bce => {
                    let p = 1.0 / (1.0 + (-a[0]).exp());
                    -(y * p.ln() + (1.0 - y) * (1.0 - p).ln())
                }
                Head::SoftmaxCe => {
                    let m = a.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let lse = m + a.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
                    lse - a[y as usize]
                }
            };
        }
        total / batch.len() as f64
    }

    fn net(
        d: usize,
        hidden: &[usize],
        act: Activation,
        head: Head,
        n: usize,
        seed: u64,
    ) -> Network {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let k = 3;
        let x: Vec<f32> = (0..n * d).map(|_| rng.random_range(-2.0..2.0)).collect();
        let y: Vec<f32> = (0..n)
            .map(|_| match head {
                Head::Mse => rng.random_range(-3.0..3.0),
                Head::Bce => f32::from(rng.random_bool(0.5)),
                Head::SoftmaxCe => rng.random_range(0..k) as f32,
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
        Network::new(split, hidden, act, head, 0, seed)
    }

    fn heads() -> impl Strategy<Value = Head> {
        prop_oneof![Just(Head::Mse), Just(Head::Bce), Just(Head::SoftmaxCe)]
    }

    fn acts() -> impl Strategy<Value = Activation> {
        prop_oneof![
            Just(Activation::Relu),
            Just(Activation::Tanh),
            Just(Activation::Sigmoid),
            Just(Activation::Gelu)
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
            let mut nw = net(d, &hidden, act, head, 7, seed);
            let params = nw.initial_params();
            // Scale parameters up so that activations leave their linear region.
            let params: Vec<f32> = params.iter().map(|p| 2.0 * p).collect();
            let mut grad = vec![0.0; nw.dim()];
            let loss = nw.loss_grad(&params, &batch, &mut grad);
            let p64: Vec<f64> = params.iter().map(|&v| f64::from(v)).collect();
            let ref_loss = reference_loss(&nw, &p64, &batch);
            prop_assert!((loss - ref_loss).abs() <= 1e-5 * (1.0 + ref_loss.abs()), "{loss} vs {ref_loss}");
            let h = 1e-6;
            for i in 0..nw.dim() {
                let mut p = p64.clone();
                p[i] += h;
                let up = reference_loss(&nw, &p, &batch);
                p[i] -= 2.0 * h;
                let down = reference_loss(&nw, &p, &batch);
                let fd = (up - down) / (2.0 * h);
                let g = f64::from(grad[i]);
                prop_assert!((g - fd).abs() <= 2e-3 * (1.0 + fd.abs()), "param {i}: {g} vs fd {fd}");
            }
        }
    }

    #[test]
    fn stable_for_huge_logits() {
        for head in [Head::Bce, Head::SoftmaxCe] {
            let mut nw = net(2, &[], Activation::Relu, head, 4, 1);
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
        let nw = net(9, &[4], Activation::Relu, Head::SoftmaxCe, 5, 3);
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
        let mut nw = net(3, &[5], Activation::Tanh, Head::SoftmaxCe, 600, 2);
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
