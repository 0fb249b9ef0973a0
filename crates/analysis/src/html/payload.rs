//! The JSON data embedded in `report.html` (its format is documented in [`super`]).

use std::collections::HashMap;

use plotters::style::RGBColor;
use serde::Serialize;

use crate::plot::data::{self, Metric, Run, Series, Status, XAxis};
use crate::plot::figure::Figure;
use crate::plot::style::{LineStyle, Palette};
use crate::plot::{Context, batch_label, convergence};

use super::series::{self, Curves, Grids, round_sig};

/// Everything the page's script draws.
#[derive(Serialize)]
pub struct Payload {
    pub title: String,
    pub optimizers: Vec<Optimizer>,
    /// Metric choices: column name, axis label, log scale by default.
    pub metrics: Vec<MetricInfo>,
    /// x choices: key and axis label.
    pub xs: Vec<(&'static str, &'static str)>,
    pub grids: Vec<Vec<u64>>,
    pub problems: Vec<Problem>,
    pub lr: Vec<FigureData>,
}

#[derive(Serialize)]
pub struct Optimizer {
    pub name: String,
    pub color: String,
}

#[derive(Serialize)]
pub struct MetricInfo {
    pub key: &'static str,
    pub label: &'static str,
    pub log: bool,
}

/// One problem variant: a convergence chart.
#[derive(Serialize)]
pub struct Problem {
    pub title: String,
    pub slug: String,
    pub configs: Vec<ConfigData>,
}

/// One configuration (cell): a line and its band.
#[derive(Serialize)]
pub struct ConfigData {
    pub label: String,
    /// `cell_id` in `runs.parquet`.
    pub cell: String,
    /// Index into `optimizers`.
    pub opt: usize,
    pub color: String,
    /// Dash and gap in CSS pixels; absent for a solid line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dash: Option<Vec<f64>>,
    pub seeds: usize,
    /// Diverged seeds (absent if none): such a line does not set the y range.
    #[serde(skip_serializing_if = "is_zero")]
    pub div: usize,
    /// Whether it is its optimizer setting's best configuration (the report's table row).
    pub best: bool,
    #[serde(flatten)]
    pub curves: Curves,
}

/// A static figure's data drawn interactively (the learning-rate sensitivity).
#[derive(Serialize)]
pub struct FigureData {
    pub title: String,
    pub caption: String,
    pub panels: Vec<PanelData>,
}

#[derive(Serialize)]
pub struct PanelData {
    pub x_label: String,
    pub y_label: String,
    pub x_log: bool,
    pub y_log: bool,
    pub lines: Vec<LineData>,
}

#[derive(Serialize)]
pub struct LineData {
    pub label: String,
    pub color: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dash: Option<Vec<f64>>,
    pub x: Vec<f64>,
    pub m: Vec<f64>,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
    /// x of each diverged run (drawn as × at the top edge).
    pub diverged: Vec<f64>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// `#rrggbb`.
pub fn css_color(c: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// The figures' dash pattern (pixels at 300 dpi) at screen scale.
fn css_dash(style: &LineStyle) -> Option<Vec<f64>> {
    (!style.dash.is_empty()).then(|| {
        style
            .dash
            .iter()
            .map(|&d| (f64::from(d) / 3.0).round())
            .collect()
    })
}

/// Builds the payload from the runs and metrics of a results folder.
pub fn build(
    title: String,
    runs: &[Run],
    metrics: &HashMap<String, Series>,
    ctx: &Context,
    lr_figures: &[Figure],
) -> Payload {
    let palette: &Palette = ctx.palette;
    let optimizers: Vec<Optimizer> = palette
        .names()
        .iter()
        .map(|n| Optimizer {
            name: n.clone(),
            color: css_color(palette.color(n)),
        })
        .collect();
    let mut grids = Grids::default();
    let problems = ctx
        .groups
        .iter()
        .map(|g| {
            let configs: Vec<&data::Config> = g.configs.iter().collect();
            let styles = convergence::styles(ctx, &configs);
            let several = g.batch_sizes().len() > 1;
            let full = several.then(|| convergence::train_size(ctx, g)).flatten();
            let best = data::best_per_optimizer(g, runs, ctx.opts.select_by);
            let configs = g
                .configs
                .iter()
                .zip(&styles)
                .enumerate()
                .filter_map(|(ci, (c, st))| {
                    let curves = series::curves(c, runs, metrics, &mut grids)?;
                    let batch = several.then(|| batch_label(c.batch_size, full));
                    Some(ConfigData {
                        label: convergence::legend_label(ctx, c, batch),
                        cell: c.cell_id.clone(),
                        opt: palette
                            .names()
                            .iter()
                            .position(|n| *n == c.optimizer)
                            .unwrap_or(0),
                        color: css_color(st.color),
                        dash: css_dash(st),
                        seeds: c
                            .runs
                            .iter()
                            .filter(|&&i| runs[i].status != Status::Failed)
                            .count(),
                        div: c.count(runs, Status::Diverged),
                        best: best.contains(&ci),
                        curves,
                    })
                })
                .collect();
            Problem {
                title: g.title.clone(),
                slug: g.slug.clone(),
                configs,
            }
        })
        .collect();
    let metrics_info = series::METRICS
        .iter()
        .map(|&m: &Metric| MetricInfo {
            key: m.column(),
            label: m.axis_label(),
            log: m.log_scale(),
        })
        .collect();
    let xs = [XAxis::Step, XAxis::Epoch, XAxis::Examples, XAxis::Time]
        .into_iter()
        .map(|x| (series::x_key(x), x.axis_label()))
        .collect();
    Payload {
        title,
        optimizers,
        metrics: metrics_info,
        xs,
        grids: grids.lists,
        problems,
        lr: lr_figures.iter().map(figure_data).collect(),
    }
}

/// A figure's panels and lines as data, with each line's label from the legend entry of the same
/// style.
pub fn figure_data(fig: &Figure) -> FigureData {
    let r = |v: f64| round_sig(v, series::MEAN_DIGITS);
    let panels = fig
        .panels
        .iter()
        .map(|p| PanelData {
            x_label: p.x_label.clone(),
            y_label: p.y_label.clone(),
            x_log: p.x_log,
            y_log: p.y_log,
            lines: p
                .lines
                .iter()
                .map(|l| LineData {
                    label: fig
                        .legend
                        .iter()
                        .find(|e| e.style == l.style)
                        .map_or_else(String::new, |e| e.label.clone()),
                    color: css_color(l.style.color),
                    dash: css_dash(&l.style),
                    x: l.points.iter().map(|p| r(p.0)).collect(),
                    m: l.points.iter().map(|p| r(p.1)).collect(),
                    lo: l.band.iter().map(|b| r(b.1)).collect(),
                    hi: l.band.iter().map(|b| r(b.2)).collect(),
                    diverged: l.diverged_at.iter().map(|&x| r(x)).collect(),
                })
                .collect(),
        })
        .collect();
    FigureData {
        title: fig.title.clone(),
        caption: fig.caption.clone(),
        panels,
    }
}
