//! Analytic test functions: closed-form loss and gradient, known minima.
//!
//! Values and gradients are computed in `f64` from the `f32` parameters. With `noise: σ > 0`
//! every gradient evaluation adds σ·ε, ε ~ N(0, I) drawn from the run's seed (the stochastic
//! setting of the noisy-quadratic literature, e.g. Zhang et al. 2019, "Which algorithmic choices
//! matter at which batch sizes?"); the returned loss stays noise-free. `pow`, `sin` and `cos` come
//! from the `libm` crate, so recorded values are the same bits on every platform.

use rand::Rng;
use rand::distr::Distribution;
use rand_chacha::ChaCha8Rng;

use crate::normal::StandardNormal;

use crate::config::{ProblemConfig, ProblemKind};
use crate::problem::{EvalCounts, Problem, TestMetrics};
use crate::seeds;

/// Which function; the formulas are in the doc comments of the variants.
#[derive(Clone, Debug)]
pub(crate) enum Func {
    /// f(x, y) = (1 − x)² + 100 (y − x²)²; minimum 0 at (1, 1). Start (−1.2, 1)
    /// (Moré, Garbow & Hillstrom 1981).
    Rosenbrock,
    /// f(x, y) = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²; minimum 0 at
    /// (3, 0.5). Start (1, 1).
    Beale,
    /// f(x, y) = (x + 2y − 7)² + (2x + y − 5)²; minimum 0 at (1, 3). Start (0, 0).
    Booth,
    /// f(x, y) = (x² + y − 11)² + (x + y² − 7)²; four minima of value 0: (3, 2),
    /// (−2.805118, 3.131312), (−3.779310, −3.283186), (3.584428, −1.848126). Start (0, 0).
    Himmelblau,
    /// f(x) = 10 d + Σᵢ (xᵢ² − 10 cos(2π xᵢ)); global minimum 0 at x = 0, many local minima.
    /// Start: uniform in [−5.12, 5.12]^d from the seed.
    Rastrigin,
    /// f(x) = ½ xᵀ H x with H = Q diag(λ) Qᵀ, λᵢ = κ^(−i/(d−1)) (log-spaced in [1/κ, 1]), Q a
    /// Haar-random rotation from the seed; minimum 0 at x = 0; L = 1, μ = 1/κ. Start: N(0, I)
    /// from the seed.
    Quadratic {
        /// H, row-major d × d.
        h: Vec<f64>,
    },
}

/// An analytic problem instance.
pub(crate) struct Analytic {
    func: Func,
    dim: usize,
    init: Vec<f32>,
    noise: f64,
    rng: ChaCha8Rng,
    counts: EvalCounts,
    x64: Vec<f64>,
    grad64: Vec<f64>,
}

/// Haar-random orthogonal d × d matrix: Gram–Schmidt on Gaussian columns (equivalent to the QR
/// decomposition with a positive diagonal of R).
fn random_rotation(d: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<f64>> {
    let mut q: Vec<Vec<f64>> = Vec::with_capacity(d);
    while q.len() < d {
        let mut v: Vec<f64> = (0..d).map(|_| StandardNormal.sample(rng)).collect();
        for _ in 0..2 {
            for u in &q {
                let p: f64 = u.iter().zip(&v).map(|(a, b)| a * b).sum();
                v.iter_mut().zip(u).for_each(|(x, a)| *x -= p * a);
            }
        }
        let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if n > 1e-8 {
            v.iter_mut().for_each(|x| *x /= n);
            q.push(v);
        }
    }
    q
}

impl Analytic {
    pub(crate) fn new(cfg: &ProblemConfig, seed: u64) -> Self {
        let mut init_rng = seeds::rng(seed, seeds::STREAM_INIT);
        let (func, dim, default_init): (Func, usize, Vec<f64>) = match cfg.kind {
            ProblemKind::Rosenbrock => (Func::Rosenbrock, 2, vec![-1.2, 1.0]),
            ProblemKind::Beale => (Func::Beale, 2, vec![1.0, 1.0]),
            ProblemKind::Booth => (Func::Booth, 2, vec![0.0, 0.0]),
            ProblemKind::Himmelblau => (Func::Himmelblau, 2, vec![0.0, 0.0]),
            ProblemKind::Rastrigin => (
                Func::Rastrigin,
                cfg.dim,
                (0..cfg.dim)
                    .map(|_| init_rng.random_range(-5.12..=5.12))
                    .collect(),
            ),
            ProblemKind::Quadratic => {
                let d = cfg.dim;
                let mut prng = seeds::rng(seed, seeds::STREAM_PROBLEM);
                let q = random_rotation(d, &mut prng);
                let lambda: Vec<f64> = (0..d)
                    .map(|i| {
                        if d == 1 {
                            1.0
                        } else {
                            libm::pow(cfg.condition, -(i as f64) / (d as f64 - 1.0))
                        }
                    })
                    .collect();
                // H = Σₖ λₖ qₖ qₖᵀ (q rows are the eigenvectors).
                let mut h = vec![0.0; d * d];
                for (qk, lk) in q.iter().zip(&lambda) {
                    for i in 0..d {
                        let s = lk * qk[i];
                        for j in 0..d {
                            h[i * d + j] += s * qk[j];
                        }
                    }
                }
                let x0 = (0..d)
                    .map(|_| StandardNormal.sample(&mut init_rng))
                    .collect();
                (Func::Quadratic { h }, d, x0)
            }
            _ => unreachable!("not an analytic problem"),
        };
        let init = cfg.init.clone().unwrap_or(default_init);
        Analytic {
            func,
            dim,
            init: init.iter().map(|&v| v as f32).collect(),
            noise: cfg.noise,
            rng: seeds::rng(seed, seeds::STREAM_NOISE),
            counts: EvalCounts::default(),
            x64: vec![0.0; dim],
            grad64: vec![0.0; dim],
        }
    }

    /// f(x) and, if `grad` is given, ∇f(x), in f64.
    pub(crate) fn eval(func: &Func, x: &[f64], grad: Option<&mut [f64]>) -> f64 {
        use std::f64::consts::PI;
        match func {
            Func::Rosenbrock => {
                let (a, b) = (1.0 - x[0], x[1] - x[0] * x[0]);
                if let Some(g) = grad {
                    g[0] = -2.0 * a - 400.0 * x[0] * b;
                    g[1] = 200.0 * b;
                }
                a * a + 100.0 * b * b
            }
            Func::Beale => {
                let (u, v) = (x[0], x[1]);
                let t1 = 1.5 - u + u * v;
                let t2 = 2.25 - u + u * v * v;
                let t3 = 2.625 - u + u * v * v * v;
                if let Some(g) = grad {
                    g[0] = 2.0 * (t1 * (v - 1.0) + t2 * (v * v - 1.0) + t3 * (v * v * v - 1.0));
                    g[1] = 2.0 * (t1 * u + t2 * 2.0 * u * v + t3 * 3.0 * u * v * v);
                }
                t1 * t1 + t2 * t2 + t3 * t3
            }
            Func::Booth => {
                let a = x[0] + 2.0 * x[1] - 7.0;
                let b = 2.0 * x[0] + x[1] - 5.0;
                if let Some(g) = grad {
                    g[0] = 2.0 * a + 4.0 * b;
                    g[1] = 4.0 * a + 2.0 * b;
                }
                a * a + b * b
            }
            Func::Himmelblau => {
                let a = x[0] * x[0] + x[1] - 11.0;
                let b = x[0] + x[1] * x[1] - 7.0;
                if let Some(g) = grad {
                    g[0] = 4.0 * x[0] * a + 2.0 * b;
                    g[1] = 2.0 * a + 4.0 * x[1] * b;
                }
                a * a + b * b
            }
            Func::Rastrigin => {
                if let Some(g) = grad {
                    for (gi, xi) in g.iter_mut().zip(x) {
                        *gi = 2.0 * xi + 20.0 * PI * libm::sin(2.0 * PI * xi);
                    }
                }
                x.iter()
                    .map(|xi| xi * xi - 10.0 * libm::cos(2.0 * PI * xi) + 10.0)
                    .sum()
            }
            Func::Quadratic { h } => {
                let d = x.len();
                let mut f = 0.0;
                let mut g = grad;
                for i in 0..d {
                    let hx: f64 = h[i * d..(i + 1) * d]
                        .iter()
                        .zip(x)
                        .map(|(a, b)| a * b)
                        .sum();
                    f += 0.5 * x[i] * hx;
                    if let Some(g) = g.as_deref_mut() {
                        g[i] = hx;
                    }
                }
                f
            }
        }
    }

    fn value(&self, params: &[f32]) -> f64 {
        let x: Vec<f64> = params.iter().map(|&v| f64::from(v)).collect();
        Self::eval(&self.func, &x, None)
    }
}

impl Problem for Analytic {
    fn dim(&self) -> usize {
        self.dim
    }

    fn train_len(&self) -> usize {
        1
    }

    fn initial_params(&self) -> Vec<f32> {
        self.init.clone()
    }

    fn loss_grad(&mut self, params: &[f32], _batch: &[usize], grad: &mut [f32]) -> f64 {
        self.counts.loss_evals += 1;
        self.counts.grad_evals += 1;
        self.counts.examples_seen += 1;
        self.x64
            .iter_mut()
            .zip(params)
            .for_each(|(a, &b)| *a = f64::from(b));
        let f = Self::eval(&self.func, &self.x64, Some(&mut self.grad64));
        for (o, &v) in grad.iter_mut().zip(&self.grad64) {
            *o = v as f32;
        }
        if self.noise > 0.0 {
            for o in grad.iter_mut() {
                let e: f64 = StandardNormal.sample(&mut self.rng);
                *o = (f64::from(*o) + self.noise * e) as f32;
            }
        }
        f
    }

    fn train_loss(&mut self, params: &[f32]) -> f64 {
        self.value(params)
    }

    fn test_metrics(&mut self, _params: &[f32]) -> TestMetrics {
        TestMetrics::default()
    }

    fn eval_counts(&self) -> EvalCounts {
        self.counts
    }

    fn minimum(&self) -> Option<f64> {
        Some(0.0)
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: determinism, exact copies
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn build(name: &str, keys: serde_json::Value, seed: u64) -> Analytic {
        let cfg = ProblemConfig::from_json(name, keys.as_object().unwrap()).unwrap();
        Analytic::new(&cfg, seed)
    }

    fn funcs() -> Vec<(Func, usize)> {
        let q = build("quadratic", json!({"dim": 4, "condition": 50.0}), 1).func;
        vec![
            (Func::Rosenbrock, 2),
            (Func::Beale, 2),
            (Func::Booth, 2),
            (Func::Himmelblau, 2),
            (Func::Rastrigin, 3),
            (q, 4),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn gradients_match_central_differences(x in proptest::collection::vec(-3.0f64..3.0, 4)) {
            for (f, d) in funcs() {
                let x = &x[..d];
                let mut g = vec![0.0; d];
                Analytic::eval(&f, x, Some(&mut g));
                for i in 0..d {
                    let h = 1e-6;
                    let mut p = x.to_vec();
                    p[i] += h;
                    let up = Analytic::eval(&f, &p, None);
                    p[i] -= 2.0 * h;
                    let down = Analytic::eval(&f, &p, None);
                    let fd = (up - down) / (2.0 * h);
                    prop_assert!((g[i] - fd).abs() <= 1e-5 * (1.0 + fd.abs()), "{f:?} {i}: {} vs {fd}", g[i]);
                }
            }
        }
    }

    #[test]
    fn known_minima_are_zero_and_stationary() {
        let cases: Vec<(Func, Vec<Vec<f64>>)> = vec![
            (Func::Rosenbrock, vec![vec![1.0, 1.0]]),
            (Func::Beale, vec![vec![3.0, 0.5]]),
            (Func::Booth, vec![vec![1.0, 3.0]]),
            (
                Func::Himmelblau,
                vec![
                    vec![3.0, 2.0],
                    vec![-2.805118, 3.131312],
                    vec![-3.779310, -3.283186],
                    vec![3.584428, -1.848126],
                ],
            ),
            (Func::Rastrigin, vec![vec![0.0; 5]]),
        ];
        for (f, minima) in cases {
            for m in minima {
                let mut g = vec![0.0; m.len()];
                let v = Analytic::eval(&f, &m, Some(&mut g));
                assert!(v.abs() < 1e-9, "{f:?} {m:?}: {v}");
                assert!(g.iter().all(|g| g.abs() < 1e-4), "{f:?} {m:?}: {g:?}");
            }
        }
    }

    #[test]
    fn quadratic_has_the_requested_spectrum() {
        let kappa = 1000.0_f64;
        let p = build("quadratic", json!({"dim": 6, "condition": kappa}), 7);
        let Func::Quadratic { h } = &p.func else {
            panic!("not a quadratic")
        };
        // Symmetric, and the Rayleigh quotient of random vectors lies in [1/κ, 1].
        for i in 0..6 {
            for j in 0..6 {
                assert!((h[i * 6 + j] - h[j * 6 + i]).abs() < 1e-12);
            }
        }
        // Trace = Σ λᵢ = Σ κ^(−i/5).
        let trace: f64 = (0..6).map(|i| h[i * 6 + i]).sum();
        let want: f64 = (0..6).map(|i| kappa.powf(-(i as f64) / 5.0)).sum();
        assert!((trace - want).abs() < 1e-9, "{trace} vs {want}");
        // Power iteration: the largest eigenvalue is 1.
        let mut v = vec![1.0; 6];
        for _ in 0..500 {
            let mut w = vec![0.0; 6];
            Analytic::eval(&p.func, &v, Some(&mut w));
            let n = w.iter().map(|x| x * x).sum::<f64>().sqrt();
            v = w.iter().map(|x| x / n).collect();
        }
        let mut hv = vec![0.0; 6];
        Analytic::eval(&p.func, &v, Some(&mut hv));
        let top: f64 = v.iter().zip(&hv).map(|(a, b)| a * b).sum();
        assert!((top - 1.0).abs() < 1e-6, "{top}");
        // Rotated: not diagonal.
        assert!(h[1].abs() > 1e-3);
        // A different seed rotates differently.
        let q = build("quadratic", json!({"dim": 6, "condition": kappa}), 8);
        let Func::Quadratic { h: h2 } = &q.func else {
            panic!("not a quadratic")
        };
        assert!((h[1] - h2[1]).abs() > 1e-6);
    }

    #[test]
    fn init_default_override_and_seeding() {
        assert_eq!(
            build("rosenbrock", json!({}), 3).initial_params(),
            [-1.2, 1.0]
        );
        assert_eq!(
            build("beale", json!({"init": [2.0, -1.0]}), 3).initial_params(),
            [2.0, -1.0]
        );
        let a = build("rastrigin", json!({"dim": 5}), 3).initial_params();
        assert_eq!(a.len(), 5);
        assert!(a.iter().all(|v| v.abs() <= 5.12));
        assert_eq!(a, build("rastrigin", json!({"dim": 5}), 3).initial_params());
        assert_ne!(a, build("rastrigin", json!({"dim": 5}), 4).initial_params());
    }

    #[test]
    fn noise_is_seeded_gaussian_and_loss_is_clean() {
        let mut clean = build("booth", json!({}), 1);
        let mut noisy = build("booth", json!({"noise": 0.5}), 1);
        let x = [0.5f32, 0.5];
        let (mut g0, mut g1) = ([0.0f32; 2], [0.0f32; 2]);
        let f0 = clean.loss_grad(&x, &[0], &mut g0);
        let n = 4000;
        let (mut sum, mut sq) = (0.0f64, 0.0f64);
        for _ in 0..n {
            let f1 = noisy.loss_grad(&x, &[0], &mut g1);
            assert!((f0 - f1).abs() < 1e-12);
            let e = f64::from(g1[0] - g0[0]);
            sum += e;
            sq += e * e;
        }
        let mean = sum / n as f64;
        let sd = (sq / n as f64 - mean * mean).sqrt();
        assert!(mean.abs() < 0.05, "{mean}");
        assert!((sd - 0.5).abs() < 0.05, "{sd}");
        let mut again = build("booth", json!({"noise": 0.5}), 1);
        let mut g2 = [0.0f32; 2];
        let mut first = build("booth", json!({"noise": 0.5}), 1);
        first.loss_grad(&x, &[0], &mut g1);
        again.loss_grad(&x, &[0], &mut g2);
        assert_eq!(g1, g2);
        assert_eq!(noisy.eval_counts().grad_evals, n);
    }
}
