//! Trajectories of two-parameter problems: each optimizer's path (`x0, x1` of the first seed of
//! its best configuration) over contour lines of the objective.
//!
//! The objective comes from optbench-models (`build_problem` + `train_loss`, the noise-free
//! function value) with the run's problem parameters and `data_seed` (the seeded rotation of
//! `quadratic`). Contours are 14 levels evenly spaced in log10(f − f_min + δ) over a 120 × 120
//! grid, traced by marching squares. Known minimizers are marked with a black +.

use super::Context;
use super::data::{self, Config, ProblemGroup, Status};
use super::figure::{Figure, LegendEntry, Line, Panel};
use optbench_models::{ProblemConfig, build_problem};
use serde_json::{Map, Value};

/// Known minimizers of the two-dimensional test functions.
fn minimizers(problem: &str) -> Vec<(f64, f64)> {
    match problem {
        "rosenbrock" => vec![(1.0, 1.0)],
        "beale" => vec![(3.0, 0.5)],
        "booth" => vec![(1.0, 3.0)],
        "himmelblau" => vec![
            (3.0, 2.0),
            (-2.805118, 3.131312),
            (-3.779310, -3.283186),
            (3.584428, -1.848126),
        ],
        "rastrigin" | "quadratic" => vec![(0.0, 0.0)],
        _ => Vec::new(),
    }
}

/// The objective at a point, if the problem can be rebuilt from its parameters.
fn objective(group: &ProblemGroup, data_seed: u64) -> Option<impl FnMut(f64, f64) -> f64> {
    let mut keys = Map::new();
    for (k, v) in &group.params {
        if matches!(k.as_str(), "dim" | "condition") {
            if let Ok(x) = v.parse::<f64>() {
                let val = if k == "dim" {
                    Value::from(x as u64)
                } else {
                    Value::from(x)
                };
                keys.insert(k.clone(), val);
            }
        }
    }
    let cfg = ProblemConfig::from_json(&group.problem, &keys).ok()?;
    let mut p = build_problem(&cfg, None, data_seed).ok()?;
    (p.dim() == 2).then_some(move |x: f64, y: f64| p.train_loss(&[x as f32, y as f32]))
}

/// Marching squares: segments where the grid function crosses `level`.
fn march(xs: &[f64], ys: &[f64], g: &[f64], level: f64, out: &mut Vec<[(f64, f64); 2]>) {
    let nx = xs.len();
    let at = |i: usize, j: usize| g[j * nx + i];
    let lerp = |a: (f64, f64), b: (f64, f64), va: f64, vb: f64| {
        let t = if (vb - va).abs() < 1e-300 {
            0.5
        } else {
            (level - va) / (vb - va)
        };
        (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))
    };
    for j in 0..ys.len() - 1 {
        for i in 0..nx - 1 {
            let c = [
                (xs[i], ys[j]),
                (xs[i + 1], ys[j]),
                (xs[i + 1], ys[j + 1]),
                (xs[i], ys[j + 1]),
            ];
            let v = [at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1)];
            if v.iter().any(|x| !x.is_finite()) {
                continue;
            }
            let mut pts = Vec::with_capacity(4);
            for e in 0..4 {
                let (a, b) = (e, (e + 1) % 4);
                if (v[a] < level) != (v[b] < level) {
                    pts.push(lerp(c[a], c[b], v[a], v[b]));
                }
            }
            if pts.len() == 2 {
                out.push([pts[0], pts[1]]);
            } else if pts.len() == 4 {
                out.push([pts[0], pts[1]]);
                out.push([pts[2], pts[3]]);
            }
        }
    }
}

fn contours(
    f: &mut dyn FnMut(f64, f64) -> f64,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> Vec<[(f64, f64); 2]> {
    const N: usize = 120;
    let xs: Vec<f64> = (0..N)
        .map(|i| x0 + (x1 - x0) * i as f64 / (N - 1) as f64)
        .collect();
    let ys: Vec<f64> = (0..N)
        .map(|j| y0 + (y1 - y0) * j as f64 / (N - 1) as f64)
        .collect();
    let raw: Vec<f64> = ys
        .iter()
        .flat_map(|&y| xs.iter().map(move |&x| (x, y)))
        .map(|(x, y)| f(x, y))
        .collect();
    let finite = || raw.iter().copied().filter(|v| v.is_finite());
    let lo = finite().fold(f64::INFINITY, f64::min);
    let hi = finite().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() || hi <= lo {
        return Vec::new();
    }
    let delta = (hi - lo) * 1e-5 + 1e-12;
    let g: Vec<f64> = raw.iter().map(|v| (v - lo + delta).log10()).collect();
    let (glo, ghi) = ((delta).log10(), (hi - lo + delta).log10());
    let mut out = Vec::new();
    for k in 1..=14 {
        let level = glo + (ghi - glo) * k as f64 / 15.0;
        march(&xs, &ys, &g, level, &mut out);
    }
    out
}

/// One figure per two-parameter problem variant with recorded `x0, x1`.
pub fn figures(ctx: &Context) -> Vec<Figure> {
    let mut out = Vec::new();
    for g in ctx.groups {
        let best = data::best_per_optimizer(g, ctx.runs, ctx.opts.select_by);
        let configs: Vec<&Config> = best.iter().map(|&i| &g.configs[i]).collect();
        let styles = super::convergence::styles(ctx, &configs);
        let mut lines = Vec::new();
        let mut legend = Vec::new();
        let mut seed_used = None;
        for (c, st) in configs.iter().zip(&styles) {
            // First seed with a recorded path.
            let Some((run, path)) = c.runs.iter().find_map(|&i| {
                let s = ctx.metrics.get(&ctx.runs[i].run_id)?;
                let path: Vec<(f64, f64)> =
                    s.x0.iter()
                        .zip(&s.x1)
                        .filter(|(a, b)| a.is_finite() && b.is_finite())
                        .map(|(&a, &b)| (a, b))
                        .collect();
                (path.len() >= 2).then_some((&ctx.runs[i], path))
            }) else {
                continue;
            };
            seed_used.get_or_insert(run.data_seed);
            let mut line = Line::new(*st);
            line.mark_start = true;
            line.in_range = run.status == Status::Ok;
            line.points = path;
            lines.push(line);
            let mut label = c.label.clone();
            if run.status == Status::Diverged {
                label.push_str(" (diverged)");
            }
            legend.push(LegendEntry { style: *st, label });
        }
        if lines.is_empty() {
            continue;
        }
        // Range: the finished paths (all paths if none finished), padded by 10 %.
        let pick = |l: &&Line| l.in_range || !lines.iter().any(|m| m.in_range);
        let bounds = |f: fn(&(f64, f64)) -> f64| {
            let v = lines
                .iter()
                .filter(pick)
                .flat_map(|l| l.points.iter().map(f));
            let (lo, hi) = v.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                (a.min(x), b.max(x))
            });
            let pad = ((hi - lo) * 0.1).max(0.1);
            (lo - pad, hi + pad)
        };
        let xr = bounds(|p| p.0);
        let yr = bounds(|p| p.1);
        let segs = objective(g, seed_used.flatten().unwrap_or(0))
            .map(|mut f| contours(&mut f, xr, yr))
            .unwrap_or_default();
        let targets = minimizers(&g.problem)
            .into_iter()
            .filter(|&(x, y)| (xr.0..=xr.1).contains(&x) && (yr.0..=yr.1).contains(&y))
            .collect();
        let caption = if segs.is_empty() {
            "Paths of the first seed; open circle: start; + : minimizer.".to_string()
        } else {
            "Paths of the first seed; open circle: start; gray: contours of f (log levels); + : minimizer.".to_string()
        };
        out.push(Figure {
            stem: format!("trajectory_{}", g.slug),
            title: format!("{}: optimizer paths (best configuration each)", g.title),
            panels: vec![Panel {
                x_label: "x₀".into(),
                y_label: "x₁".into(),
                square: true,
                lines,
                contours: segs,
                targets,
                x_range: Some(xr),
                y_range: Some(yr),
                ..Panel::default()
            }],
            legend,
            caption,
        });
    }
    out
}
