//! Batch normalisation per channel, PyTorch's `nn.BatchNorm2d(C)` (`eps=1e-5, momentum=0.1,
//! affine=True, track_running_stats=True`; Ioffe & Szegedy 2015). Over the `M = N·H·W` values
//! of each channel:
//!
//! - training: `μ = Σx / M`, `σ² = Σ(x − μ)² / M` (biased), `x̂ = (x − μ) / √(σ² + eps)`,
//!   `y = γ x̂ + β`; the running statistics move by `momentum`:
//!   `running_mean ← (1 − m)·running_mean + m·μ`, `running_var ← (1 − m)·running_var + m·σ²·M/(M − 1)`
//!   (the UNBIASED variance; with `M = 1` the biased one, where PyTorch refuses to train);
//! - evaluation: `y = γ (x − running_mean) / √(running_var + eps) + β`.
//!
//! Parameters `weight` (γ, init 1) and `bias` (β, init 0); buffers `running_mean` (init 0) and
//! `running_var` (init 1), which belong to the run's state and are never seen by the optimizer.
//! Statistics are accumulated in f64. Training backward:
//! `∂β = Σ∂y`, `∂γ = Σ∂y·x̂`, `∂x = γ/√(σ² + eps) · (∂y − ∂β/M − x̂·∂γ/M)`;
//! evaluation backward: `∂x = ∂y·γ/√(running_var + eps)`.
//!
//! A ReLU after the normalisation (`F.relu(self.bn1(...))`) may be fused into it
//! ([`BatchNorm2d::with_relu`]): `y = max(γ x̂ + β, 0)`, and backward uses `∂y · [y > 0]` in
//! place of `∂y`: the same bits as the two layers apart, with one pass over the tensor instead
//! of two each way.

use rand_chacha::ChaCha8Rng;

use super::{Dims, Layer, LayerError, Mode, Pass, TensorSpec};
use crate::cpu::on_path;

/// PyTorch's default `eps`.
pub const EPS: f64 = 1e-5;
/// PyTorch's default `momentum`.
pub const MOMENTUM: f64 = 0.1;

/// `nn.BatchNorm2d` on channels-last tensors (any `H × W`, so also `BatchNorm1d` on vectors).
#[derive(Clone, Debug)]
pub struct BatchNorm2d {
    dims: Dims,
    eps: f64,
    momentum: f64,
    /// Mean and 1/√(var + eps) per channel used by the last forward.
    mean: Vec<f32>,
    inv_std: Vec<f32>,
    /// f64 accumulators per channel.
    acc: Vec<f64>,
    acc2: Vec<f64>,
    /// Whether a ReLU is fused after the normalisation.
    relu: bool,
}

impl BatchNorm2d {
    /// Batch normalisation of the channels of `dims`, PyTorch's defaults.
    pub fn new(dims: Dims) -> Result<Self, LayerError> {
        if dims.is_empty() {
            return Err(LayerError::new(
                "BatchNorm2d",
                format!("cannot normalise {dims}"),
            ));
        }
        let c = dims.channels;
        Ok(BatchNorm2d {
            dims,
            eps: EPS,
            momentum: MOMENTUM,
            mean: vec![0.0; c],
            inv_std: vec![0.0; c],
            acc: vec![0.0; c],
            acc2: vec![0.0; c],
            relu: false,
        })
    }

    /// The same normalisation followed by a ReLU, in one layer (PyTorch's `bn` then `F.relu`;
    /// its parameters and buffers are the `BatchNorm2d`'s).
    pub fn with_relu(self) -> Self {
        BatchNorm2d { relu: true, ..self }
    }

    /// Per-channel statistics of the batch (training) into `mean`/`inv_std`, updating the
    /// running statistics in `buffers`.
    fn batch_statistics(&mut self, x: &[f32], buffers: &mut [f32]) {
        let c = self.dims.channels;
        let m = x.len() / c;
        self.acc.fill(0.0);
        channel_sums(x, &mut self.acc);
        let inv_m = 1.0 / m as f64;
        self.acc.iter_mut().for_each(|s| *s *= inv_m);
        self.acc2.fill(0.0);
        channel_squared_deviations(x, &self.acc, &mut self.acc2);
        let (running_mean, running_var) = buffers.split_at_mut(c);
        let unbias = if m > 1 {
            m as f64 / (m as f64 - 1.0)
        } else {
            1.0
        };
        let mom = self.momentum;
        for ch in 0..c {
            let (mu, var) = (self.acc[ch], self.acc2[ch] * inv_m);
            self.mean[ch] = mu as f32;
            self.inv_std[ch] = (1.0 / (var + self.eps).sqrt()) as f32;
            running_mean[ch] = ((1.0 - mom) * f64::from(running_mean[ch]) + mom * mu) as f32;
            running_var[ch] =
                ((1.0 - mom) * f64::from(running_var[ch]) + mom * var * unbias) as f32;
        }
    }
}

impl Layer for BatchNorm2d {
    fn kind(&self) -> &'static str {
        "BatchNorm2d"
    }

    fn input_dims(&self) -> Dims {
        self.dims
    }

    fn output_dims(&self) -> Dims {
        self.dims
    }

    fn params(&self) -> Vec<TensorSpec> {
        let c = self.dims.channels;
        vec![
            TensorSpec::new("weight", &[c]),
            TensorSpec::new("bias", &[c]),
        ]
    }

    fn buffers(&self) -> Vec<TensorSpec> {
        let c = self.dims.channels;
        vec![
            TensorSpec::new("running_mean", &[c]),
            TensorSpec::new("running_var", &[c]),
        ]
    }

    fn init_params(&self, params: &mut [f32], _rng: &mut ChaCha8Rng) {
        let (gamma, beta) = params.split_at_mut(self.dims.channels);
        gamma.fill(1.0);
        beta.fill(0.0);
    }

    fn init_buffers(&self, buffers: &mut [f32]) {
        let (mean, var) = buffers.split_at_mut(self.dims.channels);
        mean.fill(0.0);
        var.fill(1.0);
    }

    fn forward(
        &mut self,
        x: &[f32],
        y: &mut [f32],
        p: &[f32],
        buffers: &mut [f32],
        pass: &mut Pass,
    ) {
        let c = self.dims.channels;
        let n = pass.batch * self.dims.len();
        let x = &x[..n];
        match pass.mode {
            Mode::Train => self.batch_statistics(x, buffers),
            Mode::Eval => {
                let (mean, var) = buffers.split_at(c);
                self.mean.copy_from_slice(mean);
                for (s, &v) in self.inv_std.iter_mut().zip(var) {
                    *s = (1.0 / (f64::from(v) + self.eps).sqrt()) as f32;
                }
            }
        }
        let (gamma, beta) = p.split_at(c);
        let affine = (gamma, beta);
        normalize(x, &self.mean, &self.inv_std, affine, self.relu, &mut y[..n]);
    }

    fn backward(
        &mut self,
        x: &[f32],
        y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        p: &[f32],
        grad: &mut [f32],
        pass: &mut Pass,
    ) {
        let c = self.dims.channels;
        let n = pass.batch * self.dims.len();
        let x = &x[..n];
        // ∂y, or ∂y · [y > 0] behind a fused ReLU.
        let dy = GradientIn {
            dy: &dy[..n],
            y: &y[..n],
            relu: self.relu,
        };
        // acc = Σ∂y (∂β), acc2 = Σ∂y·x̂ (∂γ).
        self.acc.fill(0.0);
        self.acc2.fill(0.0);
        let stats = Statistics {
            mean: &self.mean,
            inv_std: &self.inv_std,
        };
        gradient_sums(x, dy, stats, &mut self.acc, &mut self.acc2);
        let (g_gamma, g_beta) = grad.split_at_mut(c);
        for ch in 0..c {
            g_gamma[ch] = self.acc2[ch] as f32;
            g_beta[ch] = self.acc[ch] as f32;
        }
        let Some(dx) = dx else { return };
        let gamma = &p[..c];
        let m = (n / c) as f64;
        let train = pass.mode == Mode::Train;
        // Per channel: scale = γ/σ, and (training) the mean terms ∂β/M and ∂γ/M.
        for ch in 0..c {
            self.acc[ch] = if train { self.acc[ch] / m } else { 0.0 };
            self.acc2[ch] = if train { self.acc2[ch] / m } else { 0.0 };
        }
        let stats = Statistics {
            mean: &self.mean,
            inv_std: &self.inv_std,
        };
        let means = (&self.acc[..], &self.acc2[..]);
        input_gradient(x, dy, stats, gamma, means, &mut dx[..n]);
    }
}

// The per-element loops, compiled for the active CPU path (`crate::cpu::on_path`): each
// channel's sums run over the rows in order and every element's formula is unchanged, so the
// vector width changes no bit. Channels are the contiguous (vectorised) dimension.

/// The gradient reaching the normalisation: `dy`, masked by `y > 0` when a ReLU is fused.
#[derive(Clone, Copy)]
struct GradientIn<'a> {
    dy: &'a [f32],
    y: &'a [f32],
    relu: bool,
}

impl GradientIn<'_> {
    /// Row `r` (of `c` channels) of the gradient.
    #[inline(always)]
    fn row(&self, r: usize, c: usize) -> impl Iterator<Item = f32> + '_ {
        let (dy, y) = (&self.dy[r * c..][..c], &self.y[r * c..][..c]);
        let relu = self.relu;
        dy.iter()
            .zip(y)
            .map(move |(&g, &y)| if relu && y <= 0.0 { 0.0 } else { g })
    }
}

/// The batch's per-channel mean and 1/√(σ² + eps) used by the forward pass.
#[derive(Clone, Copy)]
struct Statistics<'a> {
    mean: &'a [f32],
    inv_std: &'a [f32],
}

impl Statistics<'_> {
    /// `x̂ = (x − μ) / σ` of one row (all channels).
    #[inline(always)]
    fn normalized<'r>(&'r self, row: &'r [f32]) -> impl Iterator<Item = f32> + 'r {
        row.iter()
            .zip(self.mean)
            .zip(self.inv_std)
            .map(|((&v, &mu), &s)| (v - mu) * s)
    }
}

on_path! {
    /// `sums[ch] += x[r][ch]` over the rows, in f64.
    fn channel_sums(x: &[f32], sums: &mut [f64]) {
        for row in x.chunks_exact(sums.len()) {
            sums.iter_mut()
                .zip(row)
                .for_each(|(s, &v)| *s += f64::from(v));
        }
    }
}

on_path! {
    /// `sums[ch] += (x[r][ch] − mean[ch])²` over the rows, in f64.
    fn channel_squared_deviations(x: &[f32], mean: &[f64], sums: &mut [f64]) {
        for row in x.chunks_exact(sums.len()) {
            for ((s, &v), &mu) in sums.iter_mut().zip(row).zip(mean) {
                let d = f64::from(v) - mu;
                *s += d * d;
            }
        }
    }
}

on_path! {
    /// `y = γ x̂ + β`.
    fn normalize(
        x: &[f32],
        mean: &[f32],
        inv_std: &[f32],
        affine: (&[f32], &[f32]),
        relu: bool,
        y: &mut [f32],
    ) {
        let stats = Statistics { mean, inv_std };
        let (gamma, beta) = affine;
        for (out, row) in y
            .chunks_exact_mut(mean.len())
            .zip(x.chunks_exact(mean.len()))
        {
            for ((o, xhat), (&g, &b)) in out
                .iter_mut()
                .zip(stats.normalized(row))
                .zip(gamma.iter().zip(beta))
            {
                let v = g * xhat + b;
                *o = if relu { v.max(0.0) } else { v };
            }
        }
    }
}

on_path! {
    /// `d_beta[ch] += ∂y`, `d_gamma[ch] += ∂y · x̂` over the rows, in f64.
    fn gradient_sums(
        x: &[f32],
        dy: GradientIn,
        stats: Statistics,
        d_beta: &mut [f64],
        d_gamma: &mut [f64],
    ) {
        let c = stats.mean.len();
        for (r, row) in x.chunks_exact(c).enumerate() {
            for (((sb, sg), g), xhat) in d_beta
                .iter_mut()
                .zip(d_gamma.iter_mut())
                .zip(dy.row(r, c))
                .zip(stats.normalized(row))
            {
                *sb += f64::from(g);
                *sg += f64::from(g) * f64::from(xhat);
            }
        }
    }
}

on_path! {
    /// `∂x = γ/σ · (∂y − mean_b − x̂ · mean_g)` with `means = (mean_b, mean_g)` (∂β/M and ∂γ/M
    /// in training, zeros in evaluation).
    fn input_gradient(
        x: &[f32],
        dy: GradientIn,
        stats: Statistics,
        gamma: &[f32],
        means: (&[f64], &[f64]),
        dx: &mut [f32],
    ) {
        let c = stats.mean.len();
        let (mean_b, mean_g) = means;
        for (r, (out, row)) in dx.chunks_exact_mut(c).zip(x.chunks_exact(c)).enumerate() {
            for (((o, g), xhat), (((&gm, &s), &mb), &mg)) in out
                .iter_mut()
                .zip(dy.row(r, c))
                .zip(stats.normalized(row))
                .zip(gamma.iter().zip(stats.inv_std).zip(mean_b).zip(mean_g))
            {
                let centred = f64::from(g) - mb - f64::from(xhat) * mg;
                *o = (f64::from(gm * s) * centred) as f32;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::check;

    /// f64 reference in either mode; `b` holds the running statistics.
    fn reference(dims: Dims, x: &[f64], p: &[f64], b: &[f64], train: bool) -> Vec<f64> {
        let c = dims.channels;
        let m = (x.len() / c) as f64;
        let mut out = vec![0.0; x.len()];
        for ch in 0..c {
            let vals: Vec<f64> = x.iter().skip(ch).step_by(c).copied().collect();
            let (mu, var) = if train {
                let mu = vals.iter().sum::<f64>() / m;
                (mu, vals.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / m)
            } else {
                (b[ch], b[c + ch])
            };
            for (i, v) in vals.iter().enumerate() {
                out[i * c + ch] = p[ch] * (v - mu) / (var + EPS).sqrt() + p[c + ch];
            }
        }
        out
    }

    #[test]
    fn gradient_matches_finite_differences_in_both_modes() {
        for dims in [Dims::image(3, 2, 3), Dims::vector(4)] {
            for (mode, train) in [(Mode::Train, true), (Mode::Eval, false)] {
                let layer = BatchNorm2d::new(dims).unwrap();
                check::layer_against_reference_in(layer, 5, 1.0, mode, move |x, p, b| {
                    reference(dims, x, p, b, train)
                });
            }
        }
    }

    #[test]
    fn running_statistics_use_the_unbiased_variance() {
        let dims = Dims::vector(1);
        let mut bn = BatchNorm2d::new(dims).unwrap();
        let mut buffers = [0.0, 1.0];
        let x = [1.0f32, 2.0, 3.0, 6.0];
        let mut y = [0.0; 4];
        let mut ws = super::super::Workspace::default();
        let mut pass = Pass {
            batch: 4,
            mode: Mode::Train,
            ws: &mut ws,
        };
        bn.forward(&x, &mut y, &[1.0, 0.0], &mut buffers, &mut pass);
        // mean 3, biased variance 3.5, unbiased 14/3.
        assert!((f64::from(buffers[0]) - 0.3).abs() < 1e-7);
        assert!((f64::from(buffers[1]) - (0.9 + 0.1 * 14.0 / 3.0)).abs() < 1e-6);
        let var: f64 = 3.5;
        assert!((f64::from(y[3]) - 3.0 / (var + EPS).sqrt()).abs() < 1e-6);
    }

    #[test]
    fn the_fused_relu_gives_the_bits_of_batch_norm_then_relu() {
        use crate::config::Activation;
        use crate::layers::activation::ActivationLayer;
        let dims = Dims::image(3, 2, 2);
        let batch = 5;
        let n = batch * dims.len();
        let x: Vec<f32> = (0..n)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) * 0.13)
            .collect();
        let dy: Vec<f32> = (0..n)
            .map(|i| ((i * 17 % 13) as f32 - 6.0) * 0.07)
            .collect();
        let p = [0.5, -1.5, 2.0, 0.25, 0.0, -0.5];
        let mut ws = super::super::Workspace::default();
        for mode in [Mode::Train, Mode::Eval] {
            let mut pass = Pass {
                batch,
                mode,
                ws: &mut ws,
            };
            // Batch norm, then ReLU, as two layers.
            let (mut bn, mut relu) = (
                BatchNorm2d::new(dims).unwrap(),
                ActivationLayer::new(dims, Activation::Relu),
            );
            let (mut z, mut y) = (vec![0.0; n], vec![0.0; n]);
            let mut buffers = [0.1, 0.2, 0.3, 1.0, 2.0, 0.5];
            bn.forward(&x, &mut z, &p, &mut buffers, &mut pass);
            relu.forward(&z, &mut y, &[], &mut [], &mut pass);
            let (mut dz, mut dx, mut grad) = (vec![0.0; n], vec![0.0; n], vec![0.0; 6]);
            relu.backward(&z, &y, &dy, Some(&mut dz), &[], &mut [], &mut pass);
            bn.backward(&x, &z, &dz, Some(&mut dx), &p, &mut grad, &mut pass);
            // The fused layer.
            let mut fused = BatchNorm2d::new(dims).unwrap().with_relu();
            let mut fused_buffers = [0.1, 0.2, 0.3, 1.0, 2.0, 0.5];
            let (mut fy, mut fdx, mut fgrad) = (vec![0.0; n], vec![0.0; n], vec![0.0; 6]);
            fused.forward(&x, &mut fy, &p, &mut fused_buffers, &mut pass);
            fused.backward(&x, &fy, &dy, Some(&mut fdx), &p, &mut fgrad, &mut pass);
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert!(y.contains(&0.0) && y.iter().any(|&v| v > 0.0));
            assert_eq!(bits(&fy), bits(&y), "{mode:?} output");
            assert_eq!(bits(&fdx), bits(&dx), "{mode:?} input gradient");
            assert_eq!(bits(&fgrad), bits(&grad), "{mode:?} parameter gradient");
            assert_eq!(
                bits(&fused_buffers),
                bits(&buffers),
                "{mode:?} running statistics"
            );
        }
    }
}
