//! Convergence figures: a metric against steps (or epochs, examples, time), one line per
//! configuration with the mean over seeds and a min–max band.

use super::data::{self, Config, Metric, ProblemGroup, Status, XAxis};
use super::render::{Figure, LegendEntry, Line, Panel};
use super::style::LineStyle;
use super::{Context, batch_label};

/// The panels of a convergence-like figure: `--metric`, or train loss, test loss and test
/// accuracy where any run recorded them.
pub fn panel_metrics(ctx: &Context, configs: &[&Config]) -> Vec<Metric> {
    match ctx.opts.metric {
        Some(m) => vec![m],
        None => [Metric::TrainLoss, Metric::TestLoss, Metric::TestAccuracy]
            .into_iter()
            .filter(|&m| ctx.has_metric(configs, m))
            .collect(),
    }
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
    let mut seen: Vec<(&str, usize)> = Vec::new();
    configs
        .iter()
        .map(|c| {
            let k = match seen.iter_mut().find(|(o, _)| *o == c.optimizer) {
                Some((_, n)) => {
                    *n += 1;
                    *n - 1
                }
                None => {
                    seen.push((&c.optimizer, 1));
                    0
                }
            };
            ctx.palette.style(&c.optimizer, k)
        })
        .collect()
}

/// Legend text of a configuration: its label, the batch size if asked, and how many seeds
/// diverged or failed.
pub fn legend_label(ctx: &Context, c: &Config, batch: Option<String>) -> String {
    let mut s = c.label.clone();
    if let Some(b) = batch.filter(|_| !c.label.contains("bs=")) {
        s.push_str(&format!(", batch {b}"));
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
        let mut line = Line::new(*st);
        line.in_range = c.count(ctx.runs, Status::Ok) == c.runs.len();
        for (x, s) in agg {
            line.points.push((x, s.mean));
            line.band.push((x, s.min, s.max));
        }
        if line.points.is_empty() {
            continue;
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
    let panels: Vec<Panel> = metrics
        .iter()
        .map(|&m| metric_panel(ctx, configs, &styles, m, ctx.opts.x))
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
            label: legend_label(
                ctx,
                c,
                batch_in_legend.map(|full| batch_label(c.batch_size, full)),
            ),
        })
        .collect();
    Some(Figure {
        stem,
        title,
        panels,
        legend,
        caption: format!(
            "Lines: mean over seeds (n = {}); bands: min–max over seeds.",
            seeds_text(configs)
        ),
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
