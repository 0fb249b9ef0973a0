//! The last position of a sequence, PyTorch's `x[:, -1]`: `1 × T × C` → `1 × 1 × C`. A
//! language model trained on the answer token only (`target: last`, the algorithmic tasks of
//! Power et al. 2022) needs the final layer norm and the head at that position alone, and
//! both act per position, so selecting it first gives the same logits as PyTorch's
//! `head(ln_f(x))[:, -1]` for a fraction of the work. Backward: `∂x[:, -1] = ∂y`, 0 elsewhere.

use super::{Dims, Layer, Pass, copy_short};

/// `x[:, -1]` (no parameters).
#[derive(Clone, Debug)]
pub struct LastPosition {
    input: Dims,
}

impl LastPosition {
    /// The last of the `input.width` positions of a `1 × T × C` sequence.
    pub fn new(input: Dims) -> Self {
        LastPosition { input }
    }
}

impl Layer for LastPosition {
    fn kind(&self) -> &'static str {
        "LastPosition"
    }

    fn input_dims(&self) -> Dims {
        self.input
    }

    fn output_dims(&self) -> Dims {
        Dims {
            height: 1,
            width: 1,
            channels: self.input.channels,
        }
    }

    fn forward(&mut self, x: &[f32], y: &mut [f32], _: &[f32], _: &mut [f32], pass: &mut Pass) {
        let (len, c) = (self.input.len(), self.input.channels);
        for (xe, ye) in x
            .chunks_exact(len)
            .zip(y.chunks_exact_mut(c))
            .take(pass.batch)
        {
            copy_short(ye, &xe[len - c..]);
        }
    }

    fn backward(
        &mut self,
        _x: &[f32],
        _y: &[f32],
        dy: &[f32],
        dx: Option<&mut [f32]>,
        _p: &[f32],
        _grad: &mut [f32],
        pass: &mut Pass,
    ) {
        let Some(dx) = dx else { return };
        let (len, c) = (self.input.len(), self.input.channels);
        for (dxe, dye) in dx
            .chunks_exact_mut(len)
            .zip(dy.chunks_exact(c))
            .take(pass.batch)
        {
            let (rest, last) = dxe.split_at_mut(len - c);
            rest.fill(0.0);
            copy_short(last, dye);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::check;

    #[test]
    fn gradient_matches_finite_differences() {
        let dims = Dims {
            height: 1,
            width: 3,
            channels: 2,
        };
        check::layer_against_reference(LastPosition::new(dims), 2, 1.0, |x, _, _| {
            x.chunks(6).flat_map(|e| e[4..].to_vec()).collect()
        });
    }
}
