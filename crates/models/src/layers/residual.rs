//! Residual addition `y = a + b` (He et al. 2016, "Deep Residual Learning for Image
//! Recognition"; PyTorch's `out + shortcut(x)`), the one operation with two inputs. Backward
//! passes `∂y` to both: `∂a = ∂y`, `∂b = ∂y`. The graph ([`super::graph`]) calls these functions
//! for its `add` nodes and accumulates where an input also feeds another layer.
//!
//! A ReLU after the addition (a ResNet block's `F.relu(out + self.shortcut(x))`) may be fused
//! into it: `y = max(a + b, 0)`, `∂a = ∂b = ∂y · [y > 0]`, the same bits as the two layers
//! apart with one pass over the tensors instead of two each way.

/// `y = a + b` element-wise.
pub fn add(a: &[f32], b: &[f32], y: &mut [f32]) {
    y.iter_mut()
        .zip(a.iter().zip(b))
        .for_each(|(y, (&a, &b))| *y = a + b);
}

/// `y = max(a + b, 0)` element-wise.
pub fn add_relu(a: &[f32], b: &[f32], y: &mut [f32]) {
    y.iter_mut()
        .zip(a.iter().zip(b))
        .for_each(|(y, (&a, &b))| *y = (a + b).max(0.0));
}

/// `∂input = ∂y · [y > 0]` for one input of [`add_relu`] with output `y` (`accumulate`:
/// `∂input += ∂y · [y > 0]`).
pub fn add_relu_backward(y: &[f32], dy: &[f32], d_input: &mut [f32], accumulate: bool) {
    let masked = dy
        .iter()
        .zip(y)
        .map(|(&g, &y)| if y > 0.0 { g } else { 0.0 });
    if accumulate {
        d_input.iter_mut().zip(masked).for_each(|(d, g)| *d += g);
    } else {
        d_input.iter_mut().zip(masked).for_each(|(d, g)| *d = g);
    }
}

/// `∂input = ∂y` for one input of the addition (`accumulate`: `∂input += ∂y`).
pub fn add_backward(dy: &[f32], d_input: &mut [f32], accumulate: bool) {
    if accumulate {
        d_input.iter_mut().zip(dy).for_each(|(d, &g)| *d += g);
    } else {
        d_input.copy_from_slice(dy);
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point
mod tests {
    use super::*;

    #[test]
    fn sums_and_passes_the_gradient_to_both() {
        let mut y = [0.0; 3];
        add(&[1.0, 2.0, 3.0], &[0.5, -2.0, 1e-8], &mut y);
        assert_eq!(y, [1.5, 0.0, 3.0 + 1e-8]);
        let mut d = [1.0, 1.0, 1.0];
        add_backward(&[0.25, 0.5, 0.75], &mut d, true);
        assert_eq!(d, [1.25, 1.5, 1.75]);
        add_backward(&[0.25, 0.5, 0.75], &mut d, false);
        assert_eq!(d, [0.25, 0.5, 0.75]);
    }

    #[test]
    fn the_fused_relu_zeroes_what_is_not_positive() {
        let mut y = [9.0; 4];
        add_relu(&[1.0, 2.0, -3.0, 0.5], &[0.5, -2.0, 1.0, -0.5], &mut y);
        assert_eq!(y, [1.5, 0.0, 0.0, 0.0]);
        let mut d = [1.0; 4];
        add_relu_backward(&y, &[0.25, 0.5, 0.75, 1.0], &mut d, true);
        assert_eq!(d, [1.25, 1.0, 1.0, 1.0]);
        add_relu_backward(&y, &[0.25, 0.5, 0.75, 1.0], &mut d, false);
        assert_eq!(d, [0.25, 0.0, 0.0, 0.0]);
    }
}
