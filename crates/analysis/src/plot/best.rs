//! Best-per-optimizer figures: for each optimizer, its configuration with the best mean
//! `--select-by` value over seeds, one line each.

use super::Context;
use super::convergence::{metrics_figure, train_size};
use super::data::{self, Config};
use super::figure::Figure;

/// One figure per problem variant.
pub fn figures(ctx: &Context) -> Vec<Figure> {
    let mut out = Vec::new();
    for g in ctx.groups {
        let best = data::best_per_optimizer(g, ctx.runs, ctx.opts.select_by);
        let configs: Vec<&Config> = best.iter().map(|&i| &g.configs[i]).collect();
        let batch = (g.batch_sizes().len() > 1).then(|| train_size(ctx, g));
        let title = format!(
            "{}: best configuration per optimizer (by {})",
            g.title,
            ctx.opts.select_by.describe()
        );
        out.extend(metrics_figure(
            ctx,
            format!("best_{}", g.slug),
            title,
            &configs,
            batch,
        ));
    }
    out
}
