//! The losses on a network's output (its "head"), each the mean over the batch as PyTorch's
//! `reduction='mean'`:
//!
//! - [`Loss::Mse`]: one output ŷ, `(y − ŷ)²` (`nn.MSELoss`);
//! - [`Loss::Bce`]: one logit z, binary cross-entropy `max(z, 0) − z·y + ln(1 + e^(−|z|))`,
//!   stable for any z (`nn.BCEWithLogitsLoss`);
//! - [`Loss::SoftmaxCe`]: k logits, `logsumexp(z) − z_y` with the maximum subtracted first
//!   (`nn.CrossEntropyLoss`).
//!
//! The loss is summed in f64; the gradient `∂(mean loss)/∂output` is written in f32. `exp`, `ln`
//! and `ln_1p` come from the `libm` crate, so the recorded losses are the same bits on every
//! platform (std's versions call the platform's libm).

use super::activation::sigmoid;
use super::libm_lanes;
use crate::cpu::on_path;

/// The loss on the network's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Mean squared error on one output.
    Mse,
    /// Binary cross-entropy on one logit.
    Bce,
    /// Softmax cross-entropy on k logits.
    SoftmaxCe,
}

impl Loss {
    /// Whether the loss is a classifier's (accuracy is defined).
    pub fn is_classifier(self) -> bool {
        self != Loss::Mse
    }

    /// Sum over the batch of the loss and the number of correct predictions (classifiers), for
    /// outputs `out` (`y.len()` rows of `k`) and targets `y`; when `dz` is given,
    /// `∂(mean loss)/∂output` is written into it.
    pub fn evaluate(
        self,
        out: &[f32],
        k: usize,
        y: &[f32],
        dz: Option<&mut [f32]>,
    ) -> (f64, usize) {
        let bsz = y.len();
        let scale = 1.0 / bsz as f32;
        let mut loss = 0.0f64;
        let mut correct = 0usize;
        match self {
            Loss::Mse => {
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
            Loss::Bce => {
                for (&z, &t) in out.iter().zip(y) {
                    let (z64, t64) = (f64::from(z), f64::from(t));
                    loss += z64.max(0.0) - z64 * t64 + libm::log1p(libm::exp(-z64.abs()));
                    correct += usize::from((z > 0.0) == (t > 0.5));
                }
                if let Some(dz) = dz {
                    for ((d, &z), &t) in dz.iter_mut().zip(out).zip(y) {
                        *d = (sigmoid(z) - t) * scale;
                    }
                }
            }
            Loss::SoftmaxCe => {
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
                    let drow = dz.as_deref_mut().map(|dz| &mut dz[i * k..(i + 1) * k]);
                    let sum = softmax_numerators(row, max, drow);
                    loss += f64::from(max) + libm::log(f64::from(sum)) - f64::from(row[label]);
                    if let Some(dz) = dz.as_deref_mut() {
                        let inv = scale / sum;
                        let drow = &mut dz[i * k..(i + 1) * k];
                        drow.iter_mut().for_each(|d| *d *= inv);
                        drow[label] -= scale;
                    }
                }
            }
        }
        (loss, correct)
    }
}

/// `Σ_j exp(row[j] − max)` summed in order (and the terms into `terms` when given), libm's
/// `expf` bits [`libm_lanes::LANES`] at a time.
fn softmax_numerators(row: &[f32], max: f32, terms: Option<&mut [f32]>) -> f32 {
    let mut sum = 0.0f32;
    match terms {
        Some(terms) => {
            terms.copy_from_slice(row);
            exp_minus_on_path(terms, max);
            terms.iter().for_each(|&e| sum += e);
        }
        None => sum_exp_minus_on_path(row, max, &mut sum),
    }
    sum
}

on_path! {
    fn exp_minus_on_path(v: &mut [f32], shift: f32) {
        libm_lanes::exp_minus_in_place(v, shift);
    }
}

on_path! {
    fn sum_exp_minus_on_path(v: &[f32], shift: f32, sum: &mut f32) {
        *sum = libm_lanes::sum_exp_minus(v, shift);
    }
}
