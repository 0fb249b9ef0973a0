//! A figure as data ([`Figure`], [`Panel`], [`Line`]) and its rendering with plotters to any
//! backend (SVG and PNG share this code).
//!
//! Layout: a title row, a grid of panels (one column for `--size column`, up to three for
//! `page`), then the legend in as many columns as fit the width, then a caption line. The legend
//! never overlaps data. Axis ranges come from the lines marked `in_range` (runs that did not
//! diverge), padded by 4 %; every other point is clamped to the range, so a diverging run runs
//! off the top edge instead of flattening the other lines. Log axes are drawn in log10
//! coordinates with `10ⁿ` tick labels; non-positive values are dropped from log axes.

use super::style::{self, FONT, LineStyle, Marker};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A figure: panels side by side or stacked, a shared legend and a caption.
#[derive(Clone, Debug, Default)]
pub struct Figure {
    /// File name stem under `plots/`.
    pub stem: String,
    pub title: String,
    pub panels: Vec<Panel>,
    pub legend: Vec<LegendEntry>,
    /// One line under the legend, e.g. what the bands mean.
    pub caption: String,
}

/// One legend entry: a line sample and its label.
#[derive(Clone, Debug)]
pub struct LegendEntry {
    pub style: LineStyle,
    pub label: String,
}

/// One chart.
#[derive(Clone, Debug, Default)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_log: bool,
    pub y_log: bool,
    /// Square plotting area (trajectories).
    pub square: bool,
    pub lines: Vec<Line>,
    /// Gray contour segments (trajectories), in data coordinates.
    pub contours: Vec<[(f64, f64); 2]>,
    /// Points marked with a black `+` (known minima).
    pub targets: Vec<(f64, f64)>,
    /// Fixed ranges (raw values) instead of the automatic ones.
    pub x_range: Option<(f64, f64)>,
    pub y_range: Option<(f64, f64)>,
}

/// A line, its band, and markers.
#[derive(Clone, Debug)]
pub struct Line {
    pub style: LineStyle,
    pub points: Vec<(f64, f64)>,
    /// (x, low, high) of the shaded band.
    pub band: Vec<(f64, f64, f64)>,
    /// Whether this line decides the axis ranges (false for diverged runs).
    pub in_range: bool,
    /// x positions of diverged runs, drawn as × at the top edge.
    pub diverged_at: Vec<f64>,
    /// Markers at every point instead of a few evenly spaced ones (sparse data such as lr
    /// sweeps); trajectories mark the start with an open circle instead.
    pub mark_all: bool,
    pub mark_start: bool,
}

impl Line {
    pub fn new(style: LineStyle) -> Self {
        Line {
            style,
            points: Vec::new(),
            band: Vec::new(),
            in_range: true,
            diverged_at: Vec::new(),
            mark_all: false,
            mark_start: false,
        }
    }
}

/// Figure width in pixels: 1050 (3.5 in) for a column, 2100 (7 in) for a page, at 300 dpi.
pub fn width_px(page: bool) -> u32 {
    if page { 2100 } else { 1050 }
}

const TITLE_H: u32 = 60;
const CAPTION_H: u32 = 50;
const LEGEND_ROW_H: u32 = 46;
const SAMPLE_W: u32 = 110;
/// Widest square panel (trajectories on a page are not drawn 7 in wide).
const SQUARE_MAX_W: u32 = 1100;

/// The caption broken into lines that fit the width.
fn caption_lines(fig: &Figure, page: bool) -> Vec<String> {
    if fig.caption.is_empty() {
        return Vec::new();
    }
    let font = (FONT, style::tick_px()).into_font();
    let max = width_px(page).saturating_sub(60);
    let fits = |s: &str| font.box_size(s).map(|(w, _)| w <= max).unwrap_or(true);
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in fig.caption.split(' ') {
        let trial = if cur.is_empty() {
            word.to_string()
        } else {
            format!("{cur} {word}")
        };
        if fits(&trial) || cur.is_empty() {
            cur = trial;
        } else {
            lines.push(std::mem::take(&mut cur));
            cur = word.to_string();
        }
    }
    lines.push(cur);
    lines
}

/// Panel grid (rows, columns) and panel height.
fn grid(fig: &Figure, page: bool) -> (usize, usize, u32) {
    let n = fig.panels.len().max(1);
    let cols = if page { n.min(3) } else { 1 };
    let rows = n.div_ceil(cols);
    let w = width_px(page) / cols as u32;
    let square = fig.panels.iter().any(|p| p.square);
    let h = if square {
        // Plot area square: the y labels and margins take 196 px across, the x labels and
        // margins 120 px down.
        w.min(SQUARE_MAX_W).saturating_sub(196) + 120
    } else if page && cols > 1 {
        (f64::from(w) * 0.85) as u32
    } else {
        (f64::from(w) * 0.68) as u32
    };
    (rows, cols, h)
}

/// Legend columns and rows for the given label widths.
fn legend_grid(label_widths: &[u32], width: u32) -> (usize, usize, u32) {
    if label_widths.is_empty() {
        return (0, 0, 0);
    }
    let col_w = label_widths.iter().max().copied().unwrap_or(0) + SAMPLE_W + 50;
    let cols = ((width.saturating_sub(40)) / col_w).clamp(1, 6) as usize;
    let cols = cols.min(label_widths.len());
    let rows = label_widths.len().div_ceil(cols);
    (rows, cols, col_w)
}

/// Total pixel size of a figure (width, height).
pub fn figure_size(fig: &Figure, page: bool) -> (u32, u32) {
    let (rows, _, h) = grid(fig, page);
    let widths = label_widths(fig);
    let (lrows, _, _) = legend_grid(&widths, width_px(page));
    let legend_h = if lrows > 0 {
        lrows as u32 * LEGEND_ROW_H + 20
    } else {
        0
    };
    let caption_h = caption_lines(fig, page).len() as u32 * CAPTION_H;
    (
        width_px(page),
        TITLE_H + rows as u32 * h + legend_h + caption_h + 10,
    )
}

/// Rendered widths of the legend labels, in pixels.
fn label_widths(fig: &Figure) -> Vec<u32> {
    let font = (FONT, style::text_px()).into_font();
    fig.legend
        .iter()
        .map(|e| {
            font.box_size(&e.label)
                .map(|(w, _)| w)
                .unwrap_or((e.label.chars().count() as f64 * style::text_px() * 0.6) as u32)
        })
        .collect()
}

fn tx(v: f64, log: bool) -> Option<f64> {
    if !v.is_finite() {
        return None;
    }
    if log {
        (v > 0.0).then(|| v.log10())
    } else {
        Some(v)
    }
}

/// Axis range in transformed coordinates, with 4 % padding; a degenerate range is widened.
fn range(values: impl Iterator<Item = f64>, fixed: Option<(f64, f64)>, log: bool) -> (f64, f64) {
    let (mut lo, mut hi) = match fixed.and_then(|(a, b)| Some((tx(a, log)?, tx(b, log)?))) {
        Some(r) => return r,
        None => values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        }),
    };
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        let d = if log { 0.5 } else { lo.abs().max(1.0) * 0.05 };
        lo -= d;
        hi += d;
    }
    let pad = (hi - lo) * 0.04;
    (lo - pad, hi + pad)
}

fn panel_ranges(p: &Panel) -> ((f64, f64), (f64, f64)) {
    let use_all = !p.lines.iter().any(|l| l.in_range);
    let chosen = || p.lines.iter().filter(move |l| use_all || l.in_range);
    let xs = chosen()
        .flat_map(|l| {
            l.points
                .iter()
                .map(|q| q.0)
                .chain(l.band.iter().map(|b| b.0))
                .chain(l.diverged_at.iter().copied())
        })
        .chain(p.contours.iter().flat_map(|s| [s[0].0, s[1].0]))
        .filter_map(|v| tx(v, p.x_log));
    let ys = chosen()
        .flat_map(|l| {
            l.points
                .iter()
                .map(|q| q.1)
                .chain(l.band.iter().flat_map(|b| [b.1, b.2]))
        })
        .chain(p.contours.iter().flat_map(|s| [s[0].1, s[1].1]))
        .filter_map(|v| tx(v, p.y_log));
    (range(xs, p.x_range, p.x_log), range(ys, p.y_range, p.y_log))
}

/// Tick positions (transformed coordinates) for a range: on log axes whole decades when the
/// range spans 1.5 decades or more (thinned to at most 7), else 1–2–5 steps; on linear axes
/// 1–2–5 steps aiming at about 5 ticks. Returns (major, minor).
pub fn ticks((lo, hi): (f64, f64), log: bool) -> (Vec<f64>, Vec<f64>) {
    if log && hi - lo >= 1.5 {
        let (a, b) = (lo.ceil() as i64, hi.floor() as i64);
        let step = ((b - a) / 6 + 1).max(1);
        let major: Vec<f64> = (a..=b)
            .filter(|e| (e - a) % step == 0)
            .map(|e| e as f64)
            .collect();
        let minor = if step == 1 {
            (lo.floor() as i64..=b)
                .flat_map(|e| (2..10).map(move |m| e as f64 + f64::from(m).log10()))
                .filter(|v| (lo..=hi).contains(v))
                .collect()
        } else {
            (a..=b).map(|e| e as f64).collect()
        };
        return (major, minor);
    }
    let (vlo, vhi) = if log {
        (10f64.powf(lo), 10f64.powf(hi))
    } else {
        (lo, hi)
    };
    let span = (vhi - vlo).abs().max(1e-300);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|st| span / st <= 6.0)
        .unwrap_or(10.0 * mag);
    let first = (vlo / step).ceil() as i64;
    let last = (vhi / step).floor() as i64;
    let values: Vec<f64> = (first..=last).map(|k| k as f64 * step).collect();
    let major: Vec<f64> = if log {
        values
            .into_iter()
            .filter(|v| *v > 0.0)
            .map(f64::log10)
            .collect()
    } else {
        values
    };
    let minor_step = step / 5.0;
    let mut minor = Vec::new();
    let (mf, ml) = (
        (vlo / minor_step).ceil() as i64,
        (vhi / minor_step).floor() as i64,
    );
    if ml - mf < 200 {
        for k in mf..=ml {
            let v = k as f64 * minor_step;
            if log {
                if v > 0.0 {
                    minor.push(v.log10());
                }
            } else {
                minor.push(v);
            }
        }
    }
    (major, minor)
}

/// A linear axis over transformed coordinates with the given major and minor ticks.
#[derive(Clone)]
struct Axis {
    lo: f64,
    hi: f64,
    major: Vec<f64>,
    minor: Vec<f64>,
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let t = if self.hi > self.lo {
            (v - self.lo) / (self.hi - self.lo)
        } else {
            0.5
        };
        limit.0 + ((f64::from(limit.1 - limit.0)) * t).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.major.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}

type DrawResult = Result<(), String>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

fn shape(style: &LineStyle, width: u32) -> ShapeStyle {
    ShapeStyle {
        color: style.color.to_rgba(),
        filled: false,
        stroke_width: width,
    }
}

fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    c: (i32, i32),
    style: &LineStyle,
    open: bool,
) -> DrawResult {
    let r = 9;
    let s = ShapeStyle {
        color: style.color.to_rgba(),
        filled: !open,
        stroke_width: 3,
    };
    let outline = ShapeStyle { filled: false, ..s };
    let poly = |pts: Vec<(i32, i32)>| -> DrawResult {
        let pts: Vec<(i32, i32)> = pts.into_iter().map(|(x, y)| (c.0 + x, c.1 + y)).collect();
        if open {
            let mut closed = pts.clone();
            closed.push(pts[0]);
            area.draw(&PathElement::new(closed, outline)).map_err(err)
        } else {
            area.draw(&Polygon::new(pts, s)).map_err(err)
        }
    };
    match style.marker {
        Marker::Circle => area.draw(&Circle::new(c, r, s)).map_err(err),
        Marker::Square => poly(vec![
            (-r + 2, -r + 2),
            (r - 2, -r + 2),
            (r - 2, r - 2),
            (-r + 2, r - 2),
        ]),
        Marker::Triangle => poly(vec![(0, -r - 2), (r, r - 3), (-r, r - 3)]),
        Marker::InvTriangle => poly(vec![(0, r + 2), (r, -r + 3), (-r, -r + 3)]),
        Marker::Diamond => poly(vec![(0, -r - 2), (r, 0), (0, r + 2), (-r, 0)]),
        Marker::Star => poly(vec![
            (0, -r - 3),
            (3, -3),
            (r + 2, -3),
            (5, 3),
            (8, r + 1),
            (0, 6),
            (-8, r + 1),
            (-5, 3),
            (-r - 2, -3),
            (-3, -3),
        ]),
        Marker::Cross => {
            let st = ShapeStyle {
                stroke_width: 4,
                ..outline
            };
            area.draw(&PathElement::new(
                vec![(c.0 - r, c.1 - r), (c.0 + r, c.1 + r)],
                st,
            ))
            .map_err(err)?;
            area.draw(&PathElement::new(
                vec![(c.0 - r, c.1 + r), (c.0 + r, c.1 - r)],
                st,
            ))
            .map_err(err)
        }
        Marker::Plus => {
            let st = ShapeStyle {
                stroke_width: 4,
                ..outline
            };
            area.draw(&PathElement::new(vec![(c.0 - r, c.1), (c.0 + r, c.1)], st))
                .map_err(err)?;
            area.draw(&PathElement::new(vec![(c.0, c.1 - r), (c.0, c.1 + r)], st))
                .map_err(err)
        }
    }
}

/// Draws a polyline in pixel coordinates, solid or dashed. Dashes continue across vertices.
fn draw_polyline<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    pts: &[(i32, i32)],
    style: &LineStyle,
) -> DrawResult {
    if pts.len() < 2 {
        return Ok(());
    }
    let st = shape(style, 4);
    let Some((dash, gap)) = style.dash else {
        return area.draw(&PathElement::new(pts.to_vec(), st)).map_err(err);
    };
    let (dash, gap) = (f64::from(dash), f64::from(gap));
    let mut on = true;
    let mut left = dash;
    let mut current: Vec<(f64, f64)> = vec![(f64::from(pts[0].0), f64::from(pts[0].1))];
    let flush = |seg: &mut Vec<(f64, f64)>| -> DrawResult {
        if seg.len() >= 2 {
            let v: Vec<(i32, i32)> = seg
                .iter()
                .map(|p| (p.0.round() as i32, p.1.round() as i32))
                .collect();
            area.draw(&PathElement::new(v, st)).map_err(err)?;
        }
        seg.clear();
        Ok(())
    };
    for w in pts.windows(2) {
        let (a, b) = (
            (f64::from(w[0].0), f64::from(w[0].1)),
            (f64::from(w[1].0), f64::from(w[1].1)),
        );
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let mut t = 0.0;
        while len - t > left {
            t += left;
            let p = (a.0 + (b.0 - a.0) * t / len, a.1 + (b.1 - a.1) * t / len);
            if on {
                current.push(p);
                flush(&mut current)?;
                left = gap;
            } else {
                current.push(p);
                left = dash;
            }
            on = !on;
        }
        left -= len - t;
        if on {
            current.push(b);
        } else {
            current.clear();
            current.push(b);
        }
    }
    if on {
        flush(&mut current)?;
    }
    Ok(())
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Panel,
    page: bool,
) -> DrawResult {
    let ((x0, x1), (y0, y1)) = panel_ranges(p);
    let tick = (FONT, style::tick_px()).into_font();
    let text = (FONT, style::text_px()).into_font();
    let title = (FONT, style::text_px()).into_font();
    let (aw, _) = area.dim_in_pixel();
    let area = if p.square && aw > SQUARE_MAX_W {
        let dx = (aw - SQUARE_MAX_W) / 2;
        area.margin(0, 0, dx, aw - SQUARE_MAX_W - dx)
    } else {
        area.clone()
    };
    let mut builder = ChartBuilder::on(&area);
    builder
        .margin_top(10)
        .margin_right(if page { 40 } else { 36 })
        .margin_left(10)
        .x_label_area_size(110)
        .y_label_area_size(150);
    if !p.title.is_empty() {
        builder.caption(&p.title, title);
    }
    let (xlog, ylog) = (p.x_log, p.y_log);
    let (xmaj, xmin) = ticks((x0, x1), xlog);
    let (ymaj, ymin) = ticks((y0, y1), ylog);
    let mut chart = builder
        .build_cartesian_2d(
            Axis {
                lo: x0,
                hi: x1,
                major: xmaj,
                minor: xmin,
            },
            Axis {
                lo: y0,
                hi: y1,
                major: ymaj,
                minor: ymin,
            },
        )
        .map_err(err)?;
    // Whole decades are labelled 10ⁿ; 1–2–5 ticks (short log ranges) as plain numbers.
    let label = |log: bool, decades: bool| {
        move |v: &f64| {
            if log && !decades {
                style::short_number(10f64.powf(*v))
            } else {
                style::tick_label(*v, log)
            }
        }
    };
    let xf = label(xlog, x1 - x0 >= 1.5);
    let yf = label(ylog, y1 - y0 >= 1.5);
    chart
        .configure_mesh()
        .x_desc(p.x_label.as_str())
        .y_desc(p.y_label.as_str())
        .x_label_formatter(&xf)
        .y_label_formatter(&yf)
        .label_style(tick.clone())
        .axis_desc_style(text.clone())
        .bold_line_style(RGBColor(222, 222, 222).stroke_width(2))
        .light_line_style(RGBColor(244, 244, 244).stroke_width(1))
        .axis_style(BLACK.stroke_width(2))
        .set_all_tick_mark_size(8)
        .draw()
        .map_err(err)?;
    let clamp = |x: f64, y: f64| -> Option<(f64, f64)> {
        let x = tx(x, xlog)?;
        let y = tx(y, ylog)?;
        Some((x.clamp(x0, x1), y.clamp(y0, y1)))
    };
    // Contours.
    let gray = ShapeStyle {
        color: RGBColor(175, 175, 175).to_rgba(),
        filled: false,
        stroke_width: 2,
    };
    if !p.contours.is_empty() {
        chart
            .draw_series(p.contours.iter().filter_map(|s| {
                let a = clamp(s[0].0, s[0].1)?;
                let b = clamp(s[1].0, s[1].1)?;
                Some(PathElement::new(vec![a, b], gray))
            }))
            .map_err(err)?;
    }
    // Bands first, so lines stay on top.
    for l in &p.lines {
        if l.band.len() < 2 {
            continue;
        }
        let up: Vec<(f64, f64)> = l.band.iter().filter_map(|b| clamp(b.0, b.2)).collect();
        let down: Vec<(f64, f64)> = l
            .band
            .iter()
            .rev()
            .filter_map(|b| clamp(b.0, b.1.max(if ylog { 1e-300 } else { f64::NEG_INFINITY })))
            .collect();
        if up.len() < 2 || down.len() < 2 {
            continue;
        }
        let poly: Vec<(f64, f64)> = up.into_iter().chain(down).collect();
        chart
            .draw_series(std::iter::once(Polygon::new(
                poly,
                l.style.color.mix(0.16).filled(),
            )))
            .map_err(err)?;
    }
    let plot_area = chart.plotting_area().strip_coord_spec();
    let to_px = |q: (f64, f64)| chart.backend_coord(&q);
    let origin = plot_area.get_base_pixel();
    let local = |c: (i32, i32)| (c.0 - origin.0, c.1 - origin.1);
    for (li, l) in p.lines.iter().enumerate() {
        let pts: Vec<(f64, f64)> = l.points.iter().filter_map(|&(x, y)| clamp(x, y)).collect();
        let px: Vec<(i32, i32)> = pts.iter().map(|&q| local(to_px(q))).collect();
        draw_polyline(&plot_area, &px, &l.style)?;
        // Markers: all points, or ~6 evenly spaced ones (offset per style so they do not stack).
        if l.mark_all || px.len() <= 2 {
            for &c in &px {
                draw_marker(&plot_area, c, &l.style, false)?;
            }
        } else if l.mark_start {
            draw_marker(&plot_area, px[0], &l.style, true)?;
            draw_marker(&plot_area, px[px.len() - 1], &l.style, false)?;
        } else {
            let n = 6usize;
            let offset = (li * 3) % 7;
            for k in 0..n {
                let i = ((k as f64 + 0.15 + offset as f64 / 10.0) / n as f64
                    * (px.len() - 1) as f64) as usize;
                draw_marker(&plot_area, px[i.min(px.len() - 1)], &l.style, false)?;
            }
        }
        for &x in &l.diverged_at {
            if let Some(xt) = tx(x, xlog) {
                let c = local(to_px((xt.clamp(x0, x1), y1)));
                let st = LineStyle {
                    marker: Marker::Cross,
                    ..l.style
                };
                draw_marker(&plot_area, (c.0, c.1 + 12), &st, false)?;
            }
        }
    }
    for &(x, y) in &p.targets {
        if let Some(q) = clamp(x, y) {
            let st = LineStyle {
                color: RGBColor(0, 0, 0),
                dash: None,
                marker: Marker::Plus,
            };
            draw_marker(&plot_area, local(to_px(q)), &st, false)?;
        }
    }
    Ok(())
}

fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    fig: &Figure,
    widths: &[u32],
) -> DrawResult {
    let (w, _) = area.dim_in_pixel();
    let (rows, cols, col_w) = legend_grid(widths, w);
    if rows == 0 {
        return Ok(());
    }
    let text = (FONT, style::text_px()).into_font();
    let total = cols as u32 * col_w;
    let left = (w.saturating_sub(total) / 2) as i32;
    for (i, e) in fig.legend.iter().enumerate() {
        let (r, c) = (i % rows, i / rows);
        let x = left + c as i32 * col_w as i32;
        let y = 10 + r as i32 * LEGEND_ROW_H as i32 + LEGEND_ROW_H as i32 / 2;
        draw_polyline(area, &[(x, y), (x + SAMPLE_W as i32 - 10, y)], &e.style)?;
        draw_marker(area, (x + (SAMPLE_W as i32 - 10) / 2, y), &e.style, false)?;
        area.draw(&Text::new(
            e.label.clone(),
            (x + SAMPLE_W as i32 + 4, y),
            TextStyle::from(text.clone()).pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// Draws a figure on a backend of size [`figure_size`].
pub fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    fig: &Figure,
    page: bool,
) -> DrawResult {
    root.fill(&WHITE).map_err(err)?;
    let widths = label_widths(fig);
    let (rows, cols, panel_h) = grid(fig, page);
    let (title_area, rest) = root.split_vertically(TITLE_H);
    title_area
        .draw(&Text::new(
            fig.title.clone(),
            (width_px(page) as i32 / 2, TITLE_H as i32 / 2 + 4),
            TextStyle::from((FONT, style::title_px()).into_font())
                .pos(Pos::new(HPos::Center, VPos::Center)),
        ))
        .map_err(err)?;
    let (panels, rest) = rest.split_vertically(rows as u32 * panel_h);
    let cells = panels.split_evenly((rows, cols));
    for (p, a) in fig.panels.iter().zip(cells.iter()) {
        draw_panel(a, p, page)?;
    }
    let (lrows, _, _) = legend_grid(&widths, width_px(page));
    let legend_h = if lrows > 0 {
        lrows as u32 * LEGEND_ROW_H + 20
    } else {
        0
    };
    let (legend, caption) = rest.split_vertically(legend_h);
    draw_legend(&legend, fig, &widths)?;
    for (k, line) in caption_lines(fig, page).into_iter().enumerate() {
        caption
            .draw(&Text::new(
                line,
                (
                    width_px(page) as i32 / 2,
                    CAPTION_H as i32 / 2 + k as i32 * CAPTION_H as i32,
                ),
                (FONT, style::tick_px())
                    .into_font()
                    .color(&RGBColor(60, 60, 60))
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            ))
            .map_err(err)?;
    }
    root.present().map_err(err)
}
