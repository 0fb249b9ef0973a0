//! Noise and step size: the mini-batch loss of `sgd` at each batch size of the grid (gradient
//! descent, SGD and mini-batch SGD side by side) against examples seen, so that the runs share
//! an x that means the same work (log x when their lengths differ by more than 10×), and the
//! update norm ‖θₜ − θₜ₋₁‖₂ of each optimizer's best configuration (log y). Both are noisy
//! per-step quantities: each line is the moving average ([`super::smooth`]) over its faint raw
//! mean.

use super::Context;
use super::convergence::{caption, common_x, legend_label, metric_panel, styles};
use super::data::{self, Config, Metric, Status, XAxis};
use super::figure::{Figure, LegendEntry, Panel};
use super::group::batch_text;

/// One figure per problem variant: a batch-loss panel when the grid has two or more batch
/// sizes, and an update-norm panel.
pub fn figures(ctx: &Context) -> Vec<Figure> {
    let mut out = Vec::new();
    for g in ctx.groups {
        let sizes = g.batch_sizes();
        let mut panels: Vec<Panel> = Vec::new();
        let mut legend: Vec<LegendEntry> = Vec::new();
        let mut all: Vec<&Config> = Vec::new();
        // Panel 1: sgd's best configuration at each batch size.
        if sizes.len() >= 2 {
            let sgd: Vec<&Config> = sizes
                .iter()
                .filter_map(|&bs| {
                    let at_bs: Vec<usize> = g
                        .configs
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| {
                            c.optimizer == "sgd" && c.batch_size.total_cmp(&bs).is_eq()
                        })
                        .map(|(i, _)| i)
                        .collect();
                    // Plain SGD (no momentum) where the grid has it: the noise of the gradient
                    // itself, not of a running average of gradients.
                    let plain: Vec<usize> = at_bs
                        .iter()
                        .copied()
                        .filter(|&i| without_momentum(ctx, &g.configs[i]))
                        .collect();
                    let sub = if plain.is_empty() { at_bs } else { plain };
                    sub.into_iter()
                        .min_by(|&a, &b| {
                            let by = ctx.opts.select_by;
                            data::compare_scores(
                                data::config_score(&g.configs[a], ctx.runs, by),
                                data::config_score(&g.configs[b], ctx.runs, by),
                                by.higher_is_better(),
                            )
                        })
                        .map(|i| &g.configs[i])
                })
                .collect();
            if sgd.len() >= 2 && ctx.has_metric(&sgd, Metric::BatchLoss) {
                let st = styles(ctx, &sgd);
                // Examples seen: the same work for every batch size (a step is not).
                let requested = match ctx.opts.x {
                    XAxis::Step | XAxis::Epoch => XAxis::Examples,
                    other => other,
                };
                let (x, x_log) = common_x(ctx, &sgd, requested);
                let mut p = metric_panel(ctx, &sgd, &st, Metric::BatchLoss, x);
                p.x_log = x_log;
                p.title = "sgd: gradient noise by batch size".into();
                for (c, s) in sgd.iter().zip(&st) {
                    legend.push(LegendEntry {
                        style: *s,
                        label: legend_label(ctx, c, Some(batch_text(c))),
                    });
                }
                panels.push(p);
                all.extend(&sgd);
            }
        }
        // Panel 2: update norm of each optimizer's best configuration.
        let best: Vec<&Config> = data::best_per_optimizer(g, ctx.runs, ctx.opts.select_by)
            .into_iter()
            .map(|i| &g.configs[i])
            .collect();
        if ctx.has_metric(&best, Metric::UpdateNorm) {
            // A configuration already in the first panel keeps its style and legend entry.
            let mut combined: Vec<&Config> = all.clone();
            combined.extend(
                best.iter()
                    .filter(|c| !all.iter().any(|a| a.cell_id == c.cell_id)),
            );
            let st_all = styles(ctx, &combined);
            let st: Vec<_> = best
                .iter()
                .map(|c| {
                    st_all[combined
                        .iter()
                        .position(|a| a.cell_id == c.cell_id)
                        .unwrap_or(0)]
                })
                .collect();
            let (x, x_log) = common_x(ctx, &best, ctx.opts.x);
            let mut p = metric_panel(ctx, &best, &st, Metric::UpdateNorm, x);
            p.x_log = x_log;
            p.title = "Step size: best configuration per optimizer".into();
            for (c, s) in best.iter().zip(&st) {
                if !all.iter().any(|a| a.cell_id == c.cell_id) {
                    let batch = (sizes.len() > 1).then(|| batch_text(c));
                    let label = legend_label(ctx, c, batch);
                    legend.push(LegendEntry { style: *s, label });
                }
            }
            panels.push(p);
            all.extend(&best);
        }
        if panels.is_empty() {
            continue;
        }
        let diverged = all.iter().any(|c| c.count(ctx.runs, Status::Diverged) > 0);
        let mut caption = caption(&all, &panels, true);
        if diverged {
            caption.pop();
            caption.push_str("; diverged runs leave the range.");
        }
        out.push(Figure {
            stem: format!("noise_{}", g.slug),
            title: format!("{}: noise and step size", g.title),
            panels,
            legend,
            caption,
        });
    }
    out
}

/// Whether a configuration's `momentum` hyperparameter is absent or 0.
fn without_momentum(ctx: &Context, c: &Config) -> bool {
    ctx.runs[c.runs[0]]
        .hparams
        .iter()
        .find(|(k, _)| k == "momentum")
        .is_none_or(|(_, v)| v.parse::<f64>().is_ok_and(|m| m == 0.0))
}
