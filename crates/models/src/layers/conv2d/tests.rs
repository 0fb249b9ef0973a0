//! Conv2d against a direct f64 convolution, by finite differences, and across groups.

use super::*;
use crate::layers::check;

/// Direct f64 convolution in PyTorch's terms (weight `out × in × k × k`).
pub(crate) fn reference(conv: &Conv2d, x: &[f64], p: &[f64]) -> Vec<f64> {
    let (c_in, h, w) = (conv.input.channels, conv.input.height, conv.input.width);
    let (kk, out) = (conv.window.kernel, conv.out_channels);
    let pad = conv.window.padding;
    let mut y = Vec::new();
    for image in x.chunks(conv.input.len()) {
        for oh in 0..conv.out_h {
            for ow in 0..conv.out_w {
                for o in 0..out {
                    let mut s = if conv.bias {
                        p[out * c_in * kk * kk + o]
                    } else {
                        0.0
                    };
                    for c in 0..c_in {
                        for i in 0..kk {
                            for j in 0..kk {
                                let ih = (oh * conv.window.stride + i) as isize - pad.top as isize;
                                let iw = (ow * conv.window.stride + j) as isize - pad.left as isize;
                                if ih < 0 || iw < 0 || ih >= h as isize || iw >= w as isize {
                                    continue;
                                }
                                let xv = image[((ih as usize) * w + iw as usize) * c_in + c];
                                s += p[((o * c_in + c) * kk + i) * kk + j] * xv;
                            }
                        }
                    }
                    y.push(s);
                }
            }
        }
    }
    y
}

#[test]
fn gradient_matches_finite_differences() {
    let asymmetric = Padding {
        top: 0,
        bottom: 1,
        left: 1,
        right: 0,
    };
    // With few input channels ∂x goes through col2im; with many (in ≥ NARROW), at stride 1, it
    // is the flipped kernel's product: each geometry once each way.
    let (mut cases, mut modes) = (Vec::new(), std::collections::HashSet::new());
    for channels in [2, 16] {
        cases.extend([
            (
                Dims::image(channels, 5, 4),
                3,
                3,
                1,
                Padding::symmetric(1),
                true,
            ),
            (
                Dims::image(channels, 6, 6),
                2,
                3,
                2,
                Padding::same(6, 6, 3, 2),
                false,
            ),
            (
                Dims::image(channels - 1, 7, 5),
                4,
                5,
                1,
                Padding::same(7, 5, 5, 1),
                true,
            ),
            (
                Dims::image(channels, 4, 4),
                2,
                1,
                1,
                Padding::default(),
                true,
            ),
            // Padding above kernel − 1: ∂x through col2im at stride 1 too.
            (
                Dims::image(channels * 2, 4, 4),
                3,
                2,
                1,
                Padding::symmetric(2),
                true,
            ),
            (
                Dims::image(channels, 5, 5),
                3,
                1,
                2,
                Padding::default(),
                false,
            ),
            (Dims::image(channels, 5, 6), 3, 2, 2, asymmetric, true),
        ]);
    }
    for (input, out, kernel, stride, padding, bias) in cases {
        let conv = Conv2d::new(input, out, kernel, stride, padding, bias).unwrap();
        modes.insert(conv.padded_grad().is_some());
        let r = conv.clone();
        check::layer_against_reference(conv, 3, 1.0, move |x, p, _| reference(&r, x, p));
    }
    for mode in [false, true] {
        assert!(modes.contains(&mode), "∂x by the flipped kernel: {mode}");
    }
}

#[test]
fn groups_do_not_change_the_result() {
    // A batch larger than one group: the same bits as image by image.
    let input = Dims::image(8, 32, 32);
    let mut conv = Conv2d::new(input, 8, 3, 1, Padding::symmetric(1), true).unwrap();
    let per_group = conv.group(1000);
    assert!(per_group < 40, "{per_group}");
    let batch = per_group * 2 + 3;
    let mut rng = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1);
    let x = check::random(batch * input.len(), 1.0, &mut rng);
    let p = check::random(8 * 8 * 9 + 8, 0.3, &mut rng);
    let r = check::random(batch * conv.output_dims().len(), 1.0, &mut rng);
    let (y, dx, dp) = check::run(
        &mut conv,
        &x,
        &p,
        &mut [],
        &r,
        batch,
        super::super::Mode::Train,
    );
    let one = conv.output_dims().len();
    for n in [0, batch - 1] {
        let (y1, dx1, _) = check::run(
            &mut conv,
            &x[n * input.len()..(n + 1) * input.len()],
            &p,
            &mut [],
            &r[n * one..(n + 1) * one],
            1,
            super::super::Mode::Train,
        );
        assert_eq!(y1, y[n * one..(n + 1) * one]);
        assert_eq!(dx1, dx[n * input.len()..(n + 1) * input.len()]);
    }
    assert!(dp.iter().all(|v| v.is_finite()));
}

#[test]
fn bad_shapes_are_errors() {
    let e = Conv2d::new(Dims::image(1, 4, 4), 2, 5, 1, Padding::default(), true).unwrap_err();
    assert!(e.message.contains("larger"), "{e}");
    assert!(Conv2d::new(Dims::image(0, 4, 4), 2, 3, 1, Padding::default(), true).is_err());
    assert!(Conv2d::new(Dims::image(1, 4, 4), 0, 3, 1, Padding::default(), true).is_err());
    assert!(Conv2d::new(Dims::image(1, 4, 4), 1, 3, 0, Padding::default(), true).is_err());
}
