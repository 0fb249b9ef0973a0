use super::*;
use crate::layers::check;
use crate::layers::linear::Linear;
use rand::SeedableRng;

/// A residual block `y = W2·(W1·x) + W1·x` on the graph against finite differences of the
/// same computation in f64.
#[test]
fn residual_gradient_accumulates() {
    let d = Dims::vector(3);
    let mut b = GraphBuilder::new(d);
    let h = b.layer("a", Linear::new(d, 3).unwrap(), b.input()).unwrap();
    let g = b.layer("b", Linear::new(d, 3).unwrap(), h).unwrap();
    let s = b.add(g, h).unwrap();
    let out = b.layer("c", Linear::new(d, 2).unwrap(), s).unwrap();
    let mut graph = b.finish(out).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let params = graph.init_params(&mut rng);
    let x = check::random(2 * 3, 1.0, &mut rng);
    let r = check::random(2 * 2, 1.0, &mut rng);
    graph.forward(&params, &mut [], &x, 2, Mode::Train);
    graph.output_and_grad(2).1.copy_from_slice(&r);
    let mut grad = vec![f32::NAN; params.len()];
    graph.backward(&params, &mut grad, &x, 2, Mode::Train);
    let lin = |p: &[f64], off: usize, n_in: usize, n_out: usize, v: &[f64]| -> Vec<f64> {
        (0..n_out)
            .map(|o| {
                p[off + n_in * n_out + o]
                    + (0..n_in).map(|i| p[off + o * n_in + i] * v[i]).sum::<f64>()
            })
            .collect()
    };
    let loss = |p: &[f64]| -> f64 {
        let mut total = 0.0;
        for (n, xe) in x.chunks(3).enumerate() {
            let xe: Vec<f64> = xe.iter().map(|&v| f64::from(v)).collect();
            let h = lin(p, 0, 3, 3, &xe);
            let g = lin(p, 12, 3, 3, &h);
            let s: Vec<f64> = g.iter().zip(&h).map(|(a, b)| a + b).collect();
            let y = lin(p, 24, 3, 2, &s);
            total += y
                .iter()
                .zip(&r[n * 2..])
                .map(|(y, &r)| y * f64::from(r))
                .sum::<f64>();
        }
        total
    };
    let p64: Vec<f64> = params.iter().map(|&v| f64::from(v)).collect();
    for i in 0..p64.len() {
        let mut q = p64.clone();
        q[i] += 1e-6;
        let up = loss(&q);
        q[i] -= 2e-6;
        let fd = (up - loss(&q)) / 2e-6;
        assert!(
            (f64::from(grad[i]) - fd).abs() < 1e-4 * (1.0 + fd.abs()),
            "{i}: {} vs {fd}",
            grad[i]
        );
    }
    let names: Vec<_> = graph.param_layout().into_iter().map(|t| t.name).collect();
    assert_eq!(
        names,
        [
            "a.weight", "a.bias", "b.weight", "b.bias", "c.weight", "c.bias"
        ]
    );
}

/// Tied weights `y = C·(W·(W·x))` with one `W`: its gradient is the sum of both uses, against
/// finite differences in f64; it is listed once, under the first name.
#[test]
fn shared_parameter_gradient_accumulates() {
    let d = Dims::vector(3);
    let mut b = GraphBuilder::new(d);
    let h = b
        .layer("a", Linear::without_bias(d, 3).unwrap(), b.input())
        .unwrap();
    let g = b
        .layer_sharing("b", Linear::without_bias(d, 3).unwrap(), h, h)
        .unwrap();
    let out = b.layer("c", Linear::new(d, 2).unwrap(), g).unwrap();
    assert!(
        b.layer_sharing("x", Linear::new(Dims::vector(2), 2).unwrap(), out, h)
            .is_err()
    );
    let mut graph = b.finish(out).unwrap();
    assert_eq!(graph.n_params(), 9 + 6 + 2);
    let names: Vec<_> = graph.param_layout().into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["a.weight", "c.weight", "c.bias"]);
    let aliases = graph.param_aliases();
    assert_eq!(
        (aliases[0].name.as_str(), aliases[0].offset),
        ("b.weight", 0)
    );
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let params = graph.init_params(&mut rng);
    let x = check::random(2 * 3, 1.0, &mut rng);
    let r = check::random(2 * 2, 1.0, &mut rng);
    graph.forward(&params, &mut [], &x, 2, Mode::Train);
    graph.output_and_grad(2).1.copy_from_slice(&r);
    let mut grad = vec![f32::NAN; params.len()];
    graph.backward(&params, &mut grad, &x, 2, Mode::Train);
    let mat = |p: &[f64], v: &[f64], rows: usize| -> Vec<f64> {
        (0..rows)
            .map(|o| (0..v.len()).map(|i| p[o * v.len() + i] * v[i]).sum())
            .collect()
    };
    let loss = |p: &[f64]| -> f64 {
        x.chunks(3)
            .zip(r.chunks(2))
            .map(|(xe, re)| {
                let xe: Vec<f64> = xe.iter().map(|&v| f64::from(v)).collect();
                let h = mat(p, &mat(p, &xe, 3), 3);
                let y = mat(&p[9..], &h, 2);
                (0..2)
                    .map(|o| (y[o] + p[15 + o]) * f64::from(re[o]))
                    .sum::<f64>()
            })
            .sum()
    };
    let p64: Vec<f64> = params.iter().map(|&v| f64::from(v)).collect();
    for i in 0..p64.len() {
        let mut q = p64.clone();
        q[i] += 1e-6;
        let up = loss(&q);
        q[i] -= 2e-6;
        let fd = (up - loss(&q)) / 2e-6;
        assert!(
            (f64::from(grad[i]) - fd).abs() < 1e-4 * (1.0 + fd.abs()),
            "{i}: {} vs {fd}",
            grad[i]
        );
    }
}

#[test]
fn shapes_must_fit() {
    let mut b = GraphBuilder::new(Dims::vector(3));
    assert!(
        b.layer("x", Linear::new(Dims::vector(4), 2).unwrap(), 0)
            .is_err()
    );
    let h = b
        .layer("x", Linear::new(Dims::vector(3), 2).unwrap(), 0)
        .unwrap();
    assert!(b.add(h, 0).is_err());
}
