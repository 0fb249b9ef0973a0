//! Convergence figures: a metric against steps (or epochs, examples, time), one line per
//! configuration with the mean over seeds and a min–max band.

use super::data::{self, Config, Metric, ProblemGroup, Status, XAxis};
use super::figure::{Figure, LegendEntry, Line, Panel};
use super::style::LineStyle;
use super::{Context, batch_label, group, smooth};

/// The panels of a convergence-like figure: `--metric`, or train loss, test loss and test
/// accuracy where any run recorded them.
pub fn panel_metrics(ctx: &Context, configs: &[&Config]) -> Vec<Metric> {
    if !ctx.opts.metrics.is_empty() {
        return ctx.opts.metrics.clone();
    }
    [Metric::TrainLoss, Metric::TestLoss, Metric::TestAccuracy]
        .into_iter()
        .filter(|&m| ctx.has_metric(configs, m))
        .collect()
}

/// Training-set size estimated from `examples_seen / epoch` of the group's runs (used to call
/// the full batch "full").
pub fn train_size(ctx: &Context, group: &ProblemGroup) -> Option<f64> {
    for c in &group.configs {
        for &i in &c.runs {
            if let Some(s) = ctx.metrics.get(&ctx.runs[i].run_id) {
                for k in (0..s.step.len()).rev() {
                    if s.epoch[k].is_finite() && s.epoch[k] > 0.0 && s.examples_seen[k].is_finite()
                    {
                        return Some((s.examples_seen[k] / s.epoch[k]).round());
                    }
                }
            }
        }
    }
    None
}

/// Style per configuration: the optimizer's colour and marker, a dash per configuration of
/// the same optimizer in this figure.
pub fn styles(ctx: &Context, configs: &[&Config]) -> Vec<LineStyle> {
    ctx.palette
        .styles(configs.iter().map(|c| c.optimizer.as_str()))
}

/// Legend text of a configuration: its label, the batch size if asked, and how many seeds
/// diverged or failed.
pub fn legend_label(ctx: &Context, c: &Config, batch: Option<String>) -> String {
    let mut s = c.label.clone();
    if let Some(b) = batch.filter(|_| !names_batch(&c.label)) {
        s.push_str(&format!(" bs={b}"));
    }
    let n = c.runs.len();
    let div = c.count(ctx.runs, Status::Diverged);
    let fail = c.count(ctx.runs, Status::Failed);
    if div > 0 {
        s.push_str(&format!(" ({div}/{n} diverged)"));
    }
    if fail > 0 {
        s.push_str(&format!(" ({fail}/{n} failed)"));
    }
    s
}

/// Whether a label already names the batch size (a `bs=` token, as the spec writes it when the
/// grid varies the batch size).
pub fn names_batch(label: &str) -> bool {
    label.split_whitespace().any(|t| t.starts_with("bs="))
}

/// The x axis of a panel of `configs`: `requested`, except that step counts are replaced by
/// examples seen when the configurations differ in batch size (a step of batch 1 and one of
/// the full batch are not the same amount of work; an example is). The axis is logarithmic when
/// `--logx` asks for it, or when the runs' x extents differ by more than 10×, so that each run
/// spans a visible part of it.
pub fn common_x(ctx: &Context, configs: &[&Config], requested: XAxis) -> (XAxis, bool) {
    let mut sizes: Vec<u64> = configs.iter().map(|c| c.batch_size.to_bits()).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let x = if sizes.len() > 1 && requested == XAxis::Step {
        XAxis::Examples
    } else {
        requested
    };
    let ends: Vec<f64> = configs
        .iter()
        .flat_map(|c| c.runs.iter())
        .filter_map(|&i| ctx.metrics.get(&ctx.runs[i].run_id))
        .filter_map(|s| {
            x.values(s)
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .reduce(f64::max)
        })
        .filter(|v| *v > 0.0)
        .collect();
    let lo = ends.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = ends.iter().copied().fold(0.0, f64::max);
    (
        x,
        ctx.opts.x_log || (sizes.len() > 1 && lo.is_finite() && hi > 10.0 * lo),
    )
}

/// The caption of a figure of these panels: what lines and bands are, and how noisy metrics
/// are smoothed.
pub fn caption(configs: &[&Config], panels: &[Panel], noisy: bool) -> String {
    let bands = panels
        .iter()
        .any(|p| p.lines.iter().any(|l| !l.band.is_empty()));
    let mut s = format!("Lines: mean over seeds (n = {})", seeds_text(configs));
    if bands {
        s.push_str("; bands: min–max over seeds");
    }
    if noisy {
        s.push_str(
            "; per-step metrics: faint raw mean under its moving average (EMA, span 10 % of the points)",
        );
    }
    s.push('.');
    s
}

/// One panel: `metric` against `--x`, a line per configuration.
pub fn metric_panel(
    ctx: &Context,
    configs: &[&Config],
    styles: &[LineStyle],
    metric: Metric,
    x: XAxis,
) -> Panel {
    let mut panel = Panel {
        x_label: x.axis_label().into(),
        y_label: metric.axis_label().into(),
        y_log: metric.log_scale(),
        ..Panel::default()
    };
    for (c, st) in configs.iter().zip(styles) {
        let agg = data::aggregate(c, ctx.runs, ctx.metrics, metric, x);
        let in_range = c.count(ctx.runs, Status::Ok) == c.runs.len();
        let mean: Vec<(f64, f64)> = agg.iter().map(|(x, s)| (*x, s.mean)).collect();
        if mean.is_empty() {
            continue;
        }
        let mut line = Line::new(*st);
        line.in_range = in_range;
        if metric.is_noisy() {
            // The raw mean, faint, under its moving average (no band: the raw line shows the
            // spread).
            let mut raw = Line::new(*st);
            raw.in_range = in_range;
            raw.faint = true;
            line.points = smooth::smooth_points(&mean, panel.y_log);
            raw.points = mean;
            panel.lines.push(raw);
        } else {
            line.points = mean;
            line.band = agg.iter().map(|(x, s)| (*x, s.min, s.max)).collect();
        }
        panel.lines.push(line);
    }
    panel
}

/// Seeds per configuration, for captions: `3` or `2–3`.
pub fn seeds_text(configs: &[&Config]) -> String {
    let lo = configs.iter().map(|c| c.runs.len()).min().unwrap_or(0);
    let hi = configs.iter().map(|c| c.runs.len()).max().unwrap_or(0);
    if lo == hi {
        format!("{lo}")
    } else {
        format!("{lo}–{hi}")
    }
}

/// A figure with one panel per metric and a legend entry per configuration.
pub fn metrics_figure(
    ctx: &Context,
    stem: String,
    title: String,
    configs: &[&Config],
    batch_in_legend: Option<Option<f64>>,
) -> Option<Figure> {
    let metrics = panel_metrics(ctx, configs);
    let styles = styles(ctx, configs);
    let (x, x_log) = common_x(ctx, configs, ctx.opts.x);
    let panels: Vec<Panel> = metrics
        .iter()
        .map(|&m| Panel {
            x_log,
            ..metric_panel(ctx, configs, &styles, m, x)
        })
        .filter(|p| !p.lines.is_empty())
        .collect();
    if panels.is_empty() {
        return None;
    }
    let legend = configs
        .iter()
        .zip(&styles)
        .map(|(c, st)| LegendEntry {
            style: *st,
            label: legend_label(ctx, c, batch_in_legend.map(|_| group::batch_text(c))),
        })
        .collect();
    let caption = caption(configs, &panels, metrics.iter().any(|m| m.is_noisy()));
    Some(Figure {
        stem,
        title,
        panels,
        legend,
        caption,
    })
}

/// Convergence figures of every problem variant (and batch size).
pub fn figures(ctx: &Context) -> Vec<Figure> {
    let mut out = Vec::new();
    for g in ctx.groups {
        let sizes = g.batch_sizes();
        let full = train_size(ctx, g);
        for &bs in &sizes {
            let configs: Vec<&Config> = g
                .configs
                .iter()
                .filter(|c| c.batch_size.total_cmp(&bs).is_eq())
                .collect();
            let (stem, title) = if sizes.len() > 1 {
                (
                    format!("convergence_{}_bs{}", g.slug, bs as u64),
                    format!("{}, batch size {}", g.title, batch_label(bs, full)),
                )
            } else {
                (format!("convergence_{}", g.slug), g.title.clone())
            };
            out.extend(metrics_figure(ctx, stem, title, &configs, None));
        }
    }
    out
}
