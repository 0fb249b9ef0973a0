//! Dropout, PyTorch's `nn.Dropout(p)` (Srivastava et al. 2014, inverted scaling): in training
//! each element is kept with probability `1 − p` and scaled by `1/(1 − p)` (rounded to f32, as
//! PyTorch's `bernoulli_(1 − p).div_(1 − p)` mask), else zeroed: `y = x · mask`. In evaluation
//! `y = x`. Backward: `∂x = ∂y · mask`. The mask is drawn from the layer's own ChaCha8 stream,
//! seeded from the run's seed, so a run is reproducible (PyTorch's generator differs, so the
//! masks do too).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Dims, Layer, LayerError, Mode, Pass};

/// `nn.Dropout(p)`.
#[derive(Clone, Debug)]
pub struct Dropout {
    dims: Dims,
    p: f32,
    rng: ChaCha8Rng,
    /// `1/(1 − p)` or 0 for every element of the last training forward.
    mask: Vec<f32>,
}

impl Dropout {
    /// Dropout with probability `p ∈ [0, 1)`, masks drawn from `seed`.
    pub fn new(dims: Dims, p: f64, seed: u64) -> Result<Self, LayerError> {
        if !(0.0..1.0).contains(&p) {
            return Err(LayerError::new(
                "Dropout",
                format!("p must be in [0, 1), found {p}"),
            ));
        }
        Ok(Dropout {
            dims,
            p: p as f32,
            rng: ChaCha8Rng::seed_from_u64(seed),
            mask: Vec::new(),
        })
    }

    /// Sets the mask (element kept or not), as a training forward would have drawn it; for
    /// comparing with another implementation's mask.
    #[cfg(test)]
    pub(crate) fn set_mask(&mut self, keep: &[bool]) {
        let scale = 1.0 / (1.0 - self.p);
        self.mask.clear();
        self.mask
            .extend(keep.iter().map(|&k| if k { scale } else { 0.0 }));
    }

    /// `y = x · mask` with the current mask.
    pub(crate) fn apply_mask(&self, x: &[f32], y: &mut [f32]) {
        y.iter_mut()
            .zip(x)
            .zip(&self.mask)
            .for_each(|((y, &x), &m)| *y = x * m);
    }
}

impl Layer for Dropout {
    fn kind(&self) -> &'static str {
        "Dropout"
    }

    fn input_dims(&self) -> Dims {
        self.dims
    }

    fn output_dims(&self) -> Dims {
        self.dims
    }

    fn reserve(&mut self, batch: usize) {
        let n = batch * self.dims.len();
        if self.mask.len() < n {
            self.mask.resize(n, 0.0);
        }
    }

    fn forward(&mut self, x: &[f32], y: &mut [f32], _: &[f32], _: &mut [f32], pass: &mut Pass) {
        let n = pass.batch * self.dims.len();
        if pass.mode == Mode::Eval || self.p == 0.0 {
            y[..n].copy_from_slice(&x[..n]);
            return;
        }
        let scale = 1.0 / (1.0 - self.p);
        for m in &mut self.mask[..n] {
            *m = if self.rng.random::<f32>() < self.p {
                0.0
            } else {
                scale
            };
        }
        self.apply_mask(&x[..n], &mut y[..n]);
    }

    fn backward(
        &mut self,
        _x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _: &[f32],
        _: &mut [f32],
        pass: &mut Pass,
    ) {
        let Some(dx) = dx else { return };
        let n = pass.batch * self.dims.len();
        if pass.mode == Mode::Eval || self.p == 0.0 {
            dx[..n].copy_from_slice(&dy[..n]);
        } else {
            self.apply_mask(&dy[..n], &mut dx[..n]);
        }
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: determinism, exact copies
mod tests {
    use super::*;
    use crate::layers::check;

    #[test]
    fn inverted_scaling_and_rate() {
        let dims = Dims::vector(10_000);
        let mut d = Dropout::new(dims, 0.3, 5).unwrap();
        let x = vec![1.0f32; 10_000];
        let r = vec![1.0f32; 10_000];
        let (y, dx, _) = check::run(&mut d, &x, &[], &mut [], &r, 1, Mode::Train);
        let kept = y.iter().filter(|&&v| v != 0.0).count();
        assert!((kept as f64 / 1e4 - 0.7).abs() < 0.02, "{kept}");
        assert!(y.iter().all(|&v| v == 0.0 || v == 1.0 / 0.7f32));
        assert_eq!(y, dx, "the gradient goes through the same mask");
        let (y, dx, _) = check::run(&mut d, &x, &[], &mut [], &r, 1, Mode::Eval);
        assert_eq!((y, dx), (x.clone(), r));
        // Seeded: the same seed draws the same mask, another seed another one.
        let (a, _, _) = check::run(
            &mut Dropout::new(dims, 0.3, 5).unwrap(),
            &x,
            &[],
            &mut [],
            &x,
            1,
            Mode::Train,
        );
        let (b, _, _) = check::run(
            &mut Dropout::new(dims, 0.3, 6).unwrap(),
            &x,
            &[],
            &mut [],
            &x,
            1,
            Mode::Train,
        );
        let (c, _, _) = check::run(
            &mut Dropout::new(dims, 0.3, 5).unwrap(),
            &x,
            &[],
            &mut [],
            &x,
            1,
            Mode::Train,
        );
        assert_eq!(a, c);
        assert_ne!(a, b);
        assert!(Dropout::new(dims, 1.0, 0).is_err());
    }
}
