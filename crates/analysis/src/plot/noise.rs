//! Noise and step size: the mini-batch loss per step of `sgd` at each batch size of the grid
//! (gradient descent, SGD and mini-batch SGD side by side), and the update norm
//! ‖θₜ − θₜ₋₁‖₂ per step of each optimizer's best configuration (log y).

use super::convergence::{legend_label, metric_panel, seeds_text, styles, train_size};
use super::data::{self, Config, Metric, Status, XAxis};
use super::render::{Figure, LegendEntry, Panel};
use super::{Context, batch_label};

/// One figure per problem variant: a batch-loss panel when the grid has two or more batch
/// sizes, and an update-norm panel.
pub fn figures(ctx: &Context) -> Vec<Figure> {
    let mut out = Vec::new();
    for g in ctx.groups {
        let sizes = g.batch_sizes();
        let full = train_size(ctx, g);
        let mut panels: Vec<Panel> = Vec::new();
        let mut legend: Vec<LegendEntry> = Vec::new();
        let mut all: Vec<&Config> = Vec::new();
        // Panel 1: sgd's best configuration at each batch size.
        if sizes.len() >= 2 {
            let sgd: Vec<&Config> = sizes
                .iter()
                .filter_map(|&bs| {
                    let sub: Vec<usize> = g
                        .configs
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| {
                            c.optimizer == "sgd" && c.batch_size.total_cmp(&bs).is_eq()
                        })
                        .map(|(i, _)| i)
                        .collect();
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
                // Per epoch, so full-batch and per-example runs share the x range.
                let x = if sgd.iter().all(|c| ctx.has_metric(&[c], Metric::BatchLoss)) {
                    XAxis::Epoch
                } else {
                    ctx.opts.x
                };
                let mut p = metric_panel(ctx, &sgd, &st, Metric::BatchLoss, x);
                p.title = "sgd: gradient noise by batch size".into();
                for (c, s) in sgd.iter().zip(&st) {
                    legend.push(LegendEntry {
                        style: *s,
                        label: legend_label(ctx, c, Some(batch_label(c.batch_size, full))),
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
            let mut p = metric_panel(ctx, &best, &st, Metric::UpdateNorm, ctx.opts.x);
            p.title = "Step size: best configuration per optimizer".into();
            let batch = (sizes.len() > 1).then_some(full);
            for (c, s) in best.iter().zip(&st) {
                if !all.iter().any(|a| a.cell_id == c.cell_id) {
                    let label = legend_label(ctx, c, batch.map(|f| batch_label(c.batch_size, f)));
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
        out.push(Figure {
            stem: format!("noise_{}", g.slug),
            title: format!("{}: noise and step size", g.title),
            panels,
            legend,
            caption: format!(
                "Lines: mean over seeds (n = {}); bands: min–max over seeds{}.",
                seeds_text(&all),
                if diverged {
                    "; diverged runs leave the range"
                } else {
                    ""
                }
            ),
        });
    }
    out
}
