//! Performance-profile figures (`--profile METRIC=TARGET`, see [`crate::profile`]): per metric,
//! one Dolan–Moré profile panel per target (fraction of problems on which a setting's cost is
//! within a factor τ of the fastest, against τ on a log axis) and one COCO-style runtime ECDF
//! panel over all of that metric's (problem, target) pairs (fraction solved against the budget,
//! log axis). One line per optimizer setting, in its optimizer's colour and marker.

use super::Context;
use super::data::XAxis;
use super::figure::{Figure, LegendEntry, Line, Panel};
use super::style::LineStyle;
use crate::compare::{Direction, Target};
use crate::profile::{self, Costs};

/// The cost's name in axis labels: `steps`, `examples`, `epochs`, `seconds`.
pub fn cost_name(x: XAxis) -> &'static str {
    match x {
        XAxis::Step => "steps",
        XAxis::Examples => "examples",
        XAxis::Epoch => "epochs",
        XAxis::Time => "seconds",
    }
}

/// `train_loss ≤ 0.05`.
pub fn target_text(t: &Target) -> String {
    let op = match t.direction {
        Direction::LowerIsBetter => "≤",
        Direction::HigherIsBetter => "≥",
    };
    format!("{} {op} {}", t.metric, t.value)
}

/// A step function through `(x_k, k-th fraction)`: flat from `start` to the first value, a jump
/// at each value, flat to `end`.
fn steps(sorted: &[f64], total: usize, start: f64, end: f64) -> Vec<(f64, f64)> {
    let total = total.max(1) as f64;
    let mut pts = vec![(start, 0.0)];
    let mut count = 0usize;
    for &v in sorted {
        let y0 = count as f64 / total;
        count += 1;
        let v = v.max(start);
        pts.push((v, y0));
        pts.push((v, count as f64 / total));
    }
    pts.push((end, count as f64 / total));
    pts
}

/// One line per setting, styled by optimizer (dash per setting of the same optimizer).
fn styles(ctx: &Context, names: &[String]) -> Vec<LineStyle> {
    ctx.palette.styles(
        names
            .iter()
            .map(|n| n.split_whitespace().next().unwrap_or_default()),
    )
}

fn profile_panel(c: &Costs, styles: &[LineStyle]) -> Panel {
    let prof = c.profile();
    let max = prof.iter().flatten().copied().fold(1.0f64, f64::max);
    let end = (max * 2.0).max(2.0);
    let mut p = Panel {
        title: format!("Profile: {}", target_text(&c.target)),
        x_label: format!("τ: {} relative to the fastest", cost_name(c.x)),
        y_label: "Fraction of problems".into(),
        x_log: true,
        x_range: Some((1.0, end)),
        y_range: Some((-0.03, 1.03)),
        ..Panel::default()
    };
    for (ratios, st) in prof.iter().zip(styles) {
        let mut line = Line::new(*st);
        line.points = steps(ratios, c.problems.len(), 1.0, end);
        p.lines.push(line);
    }
    p
}

fn ecdf_panel(costs: &[Costs], styles: &[LineStyle]) -> Panel {
    let (per_setting, pairs) = profile::ecdf(costs);
    let x = costs[0].x;
    let all = per_setting.iter().flatten().copied();
    let lo = all.clone().fold(f64::INFINITY, f64::min);
    let hi = all.fold(0.0f64, f64::max);
    let floor = profile::cost_floor(x);
    let (start, end) = if lo.is_finite() {
        ((lo / 2.0).max(floor), (hi * 2.0).max(lo * 4.0))
    } else {
        (floor, floor * 10.0)
    };
    let mut p = Panel {
        title: format!(
            "ECDF: {} target{} × {} problems",
            costs.len(),
            if costs.len() == 1 { "" } else { "s" },
            costs[0].problems.len()
        ),
        x_label: format!("Budget ({})", cost_name(x)),
        y_label: "Fraction of pairs".into(),
        x_log: true,
        x_range: Some((start, end)),
        y_range: Some((-0.03, 1.03)),
        ..Panel::default()
    };
    for (v, st) in per_setting.iter().zip(styles) {
        let mut line = Line::new(*st);
        line.points = steps(v, pairs, start, end);
        p.lines.push(line);
    }
    p
}

/// One figure per metric among the targets: a profile per target and the ECDF.
pub fn figures(ctx: &Context, targets: &[Target]) -> Vec<Figure> {
    let mut metrics: Vec<&str> = Vec::new();
    for t in targets {
        if !metrics.contains(&t.metric.as_str()) {
            metrics.push(&t.metric);
        }
    }
    let mut out = Vec::new();
    for m in metrics {
        let costs: Vec<Costs> = targets
            .iter()
            .filter(|t| t.metric == m)
            .map(|t| profile::costs(ctx.groups, ctx.runs, ctx.metrics, t, ctx.opts.x))
            .collect();
        let Some(first) = costs.first() else {
            continue;
        };
        if first.settings.is_empty() || first.problems.is_empty() {
            continue;
        }
        let st = styles(ctx, &first.settings);
        let mut panels: Vec<Panel> = costs.iter().map(|c| profile_panel(c, &st)).collect();
        panels.push(ecdf_panel(&costs, &st));
        let legend = first
            .settings
            .iter()
            .zip(&st)
            .map(|(n, s)| LegendEntry {
                style: *s,
                label: n.clone(),
            })
            .collect();
        out.push(Figure {
            stem: format!("profile_{m}"),
            title: format!(
                "{} to target over {} problems",
                capitalized(cost_name(ctx.opts.x)),
                first.problems.len()
            ),
            panels,
            legend,
            caption: format!(
                "Each optimizer setting at its best learning rate per problem (median {} over \
                 seeds). Profile: fraction of problems solved within τ times the fastest \
                 setting's {}. ECDF: fraction of (problem, target) pairs solved within the budget.",
                cost_name(ctx.opts.x),
                cost_name(ctx.opts.x)
            ),
        });
    }
    out
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}
