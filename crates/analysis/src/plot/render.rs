//! Drawing a [`Figure`] with plotters on any backend (figures are drawn once, as SVG; see
//! [`super::output`]). Series are mapped to pixels and clipped to their panel's plotting
//! rectangle ([`super::clip`]) before they are drawn; faint lines (raw values under a smoothed
//! line) go first, then bands, then lines and markers.

use super::axis::{Axis, panel_ranges, ticks, tx};
use super::clip::{Rect, clip_polygon, clip_polyline};
use super::figure::{
    CAPTION_H, Figure, LEGEND_ROW_H, Line, Panel, SAMPLE_W, SQUARE_MAX_W, TITLE_H, TITLE_LINE_H,
    caption_lines, grid, legend_height, legend_layout, title_height, title_lines, width_px,
};
use super::style::{self, FONT, LineStyle, Marker};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Stroke width of a series line in pixels.
pub const LINE_W: u32 = 4;
/// Stroke width of a faint (raw) line in pixels.
pub const FAINT_W: u32 = 2;
/// Opacity of a faint line.
pub const FAINT_ALPHA: f64 = 0.35;
/// Marker radius in pixels.
const MARKER_R: i32 = 9;

/// Where things were drawn: the plotting rectangle of every panel and the legend's box, in
/// pixels of the figure.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Layout {
    pub panels: Vec<Rect>,
    pub legend: Option<Rect>,
}

type DrawResult = Result<(), String>;

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

fn shape(style: &LineStyle, width: u32, alpha: f64) -> ShapeStyle {
    ShapeStyle {
        color: style.color.mix(alpha),
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
    let r = MARKER_R;
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

/// Draws a polyline in pixel coordinates, solid or dashed (the style's pattern of drawn and
/// skipped lengths). The pattern continues across vertices.
fn draw_polyline<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    pts: &[(i32, i32)],
    style: &LineStyle,
    st: ShapeStyle,
) -> DrawResult {
    if pts.len() < 2 {
        return Ok(());
    }
    let pattern = style.dash;
    if pattern.is_empty() {
        return area.draw(&PathElement::new(pts.to_vec(), st)).map_err(err);
    }
    // Piece `k` of the pattern is drawn when `k` is even.
    let mut k = 0usize;
    let mut left = f64::from(pattern[0]);
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
            if k % 2 == 0 {
                current.push(p);
                flush(&mut current)?;
            } else {
                current.clear();
                current.push(p);
            }
            k = (k + 1) % pattern.len();
            left = f64::from(pattern[k]);
        }
        left -= len - t;
        if k % 2 == 0 {
            current.push(b);
        } else {
            current.clear();
            current.push(b);
        }
    }
    if k % 2 == 0 {
        flush(&mut current)?;
    }
    Ok(())
}

/// Axis coordinates to pixels of the figure (not rounded), from the corners of the plotting
/// area as plotters maps them.
struct PixelMap {
    x: (f64, f64),
    y: (f64, f64),
    rect: Rect,
}

impl PixelMap {
    fn at(&self, x: f64, y: f64) -> (f64, f64) {
        let r = &self.rect;
        let fx = (x - self.x.0) / (self.x.1 - self.x.0);
        let fy = (y - self.y.0) / (self.y.1 - self.y.0);
        (
            r.left + fx * (r.right - r.left),
            r.bottom + fy * (r.top - r.bottom),
        )
    }

    /// A data point in pixels, if it can be drawn on these axes.
    fn point(&self, p: &Panel, x: f64, y: f64) -> Option<(f64, f64)> {
        Some(self.at(tx(x, p.x_log)?, tx(y, p.y_log)?))
    }
}

fn round(q: (f64, f64)) -> (i32, i32) {
    (q.0.round() as i32, q.1.round() as i32)
}

/// Draws one panel; returns its plotting rectangle in pixels of the figure.
fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Panel,
    page: bool,
) -> Result<Rect, String> {
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
    let decades = |lo: f64, hi: f64| hi - lo >= 1.5 && hi.floor() - lo.ceil() >= 1.0;
    let xf = label(xlog, decades(x0, x1));
    let yf = label(ylog, decades(y0, y1));
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
    let (left, bottom) = chart.backend_coord(&(x0, y0));
    let (right, top) = chart.backend_coord(&(x1, y1));
    let map = PixelMap {
        x: (x0, x1),
        y: (y0, y1),
        rect: Rect {
            left: f64::from(left),
            top: f64::from(top),
            right: f64::from(right),
            bottom: f64::from(bottom),
        },
    };
    let plot_area = chart.plotting_area().strip_coord_spec();
    draw_series(&plot_area, p, &map)?;
    Ok(map.rect)
}

/// Contours, faint lines, bands, lines and markers of a panel, clipped to its rectangle.
fn draw_series<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    p: &Panel,
    map: &PixelMap,
) -> DrawResult {
    let origin = area.get_base_pixel();
    let local = |q: (f64, f64)| {
        let (x, y) = round(q);
        (x - origin.0, y - origin.1)
    };
    // Half a stroke (plus rounding) inside the edge, so a line's width stays inside too.
    let line_rect = map.rect.inset(f64::from(LINE_W) / 2.0 + 0.5);
    let gray = ShapeStyle {
        color: RGBColor(175, 175, 175).to_rgba(),
        filled: false,
        stroke_width: 2,
    };
    for s in &p.contours {
        let pts = [map.point(p, s[0].0, s[0].1), map.point(p, s[1].0, s[1].1)];
        for piece in clip_polyline(&pts, &line_rect) {
            let v: Vec<(i32, i32)> = piece.into_iter().map(local).collect();
            area.draw(&PathElement::new(v, gray)).map_err(err)?;
        }
    }
    for l in p.lines.iter().filter(|l| l.faint) {
        let pts: Vec<_> = l.points.iter().map(|&(x, y)| map.point(p, x, y)).collect();
        let st = shape(&l.style, FAINT_W, FAINT_ALPHA);
        let solid = LineStyle {
            dash: &[],
            ..l.style
        };
        for piece in clip_polyline(&pts, &line_rect) {
            let v: Vec<(i32, i32)> = piece.into_iter().map(local).collect();
            draw_polyline(area, &v, &solid, st)?;
        }
    }
    // Bands under the lines.
    for l in p.lines.iter().filter(|l| !l.faint && l.band.len() >= 2) {
        let edge = |x: f64, y: f64| map.point(p, x, if p.y_log { y.max(1e-300) } else { y });
        let up = l.band.iter().filter_map(|b| edge(b.0, b.2));
        let down = l.band.iter().rev().filter_map(|b| edge(b.0, b.1));
        let poly: Vec<(f64, f64)> = up.chain(down).collect();
        let clipped = clip_polygon(&poly, &map.rect);
        if clipped.len() >= 3 {
            let v: Vec<(i32, i32)> = clipped.into_iter().map(local).collect();
            area.draw(&Polygon::new(v, l.style.color.mix(0.16).filled()))
                .map_err(err)?;
        }
    }
    let marker_rect = map.rect.inset(f64::from(MARKER_R) + 4.0);
    for (li, l) in p.lines.iter().enumerate().filter(|(_, l)| !l.faint) {
        let pts: Vec<_> = l.points.iter().map(|&(x, y)| map.point(p, x, y)).collect();
        for piece in clip_polyline(&pts, &line_rect) {
            let v: Vec<(i32, i32)> = piece.into_iter().map(local).collect();
            draw_polyline(area, &v, &l.style, shape(&l.style, LINE_W, 1.0))?;
        }
        draw_line_markers(area, l, li, &pts, &marker_rect, &local)?;
        for &x in &l.diverged_at {
            if let Some(xt) = tx(x, p.x_log) {
                let (px, _) = map.at(xt.clamp(map.x.0, map.x.1), map.y.1);
                let c = local((px, map.rect.top + f64::from(MARKER_R) + 6.0));
                let st = LineStyle {
                    marker: Marker::Cross,
                    ..l.style
                };
                draw_marker(area, c, &st, false)?;
            }
        }
    }
    for &(x, y) in &p.targets {
        if let Some(q) = map.point(p, x, y).filter(|q| marker_rect.contains(*q)) {
            let st = LineStyle {
                color: RGBColor(0, 0, 0),
                dash: &[],
                marker: Marker::Plus,
            };
            draw_marker(area, local(q), &st, false)?;
        }
    }
    Ok(())
}

/// Markers of a line: at every point, at its start and end (trajectories), or at about six
/// evenly spaced points (offset per line so that markers of different lines do not stack).
/// Only markers whose whole shape lies inside the panel are drawn.
fn draw_line_markers<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    l: &Line,
    index: usize,
    pts: &[Option<(f64, f64)>],
    inside: &Rect,
    local: &dyn Fn((f64, f64)) -> (i32, i32),
) -> DrawResult {
    let drawable: Vec<(f64, f64)> = pts.iter().flatten().copied().collect();
    if drawable.is_empty() {
        return Ok(());
    }
    let mut chosen: Vec<((f64, f64), bool)> = Vec::new();
    if l.mark_all || drawable.len() <= 2 {
        chosen.extend(drawable.iter().map(|&q| (q, false)));
    } else if l.mark_start {
        chosen.push((drawable[0], true));
        chosen.push((drawable[drawable.len() - 1], false));
    } else {
        let n = 6usize;
        let offset = (index * 3) % 7;
        for k in 0..n {
            let i = ((k as f64 + 0.15 + offset as f64 / 10.0) / n as f64
                * (drawable.len() - 1) as f64) as usize;
            chosen.push((drawable[i.min(drawable.len() - 1)], false));
        }
    }
    for (q, open) in chosen {
        if inside.contains(q) {
            draw_marker(area, local(q), &l.style, open)?;
        }
    }
    Ok(())
}

fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, fig: &Figure) -> DrawResult {
    let (w, _) = area.dim_in_pixel();
    let (slots, rows, col_w) = legend_layout(fig, w);
    if rows == 0 {
        return Ok(());
    }
    let cols = slots.iter().map(|s| s.col + 1).max().unwrap_or(1) as u32;
    let text = (FONT, style::text_px()).into_font();
    let left = (w.saturating_sub(cols * col_w) / 2).max(10) as i32;
    for s in &slots {
        let e = &fig.legend[s.entry];
        let x = left + s.col as i32 * col_w as i32;
        let y = 10 + s.row as i32 * LEGEND_ROW_H as i32 + LEGEND_ROW_H as i32 / 2;
        if s.first {
            let st = shape(&e.style, LINE_W, 1.0);
            draw_polyline(area, &[(x, y), (x + SAMPLE_W as i32 - 10, y)], &e.style, st)?;
            draw_marker(area, (x + (SAMPLE_W as i32 - 10) / 2, y), &e.style, false)?;
        }
        area.draw(&Text::new(
            s.text.clone(),
            (x + SAMPLE_W as i32 + 4, y),
            TextStyle::from(text.clone()).pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(err)?;
    }
    Ok(())
}

/// Draws a figure on a backend of size [`super::figure::figure_size`]; returns where its
/// panels and legend are.
pub fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    fig: &Figure,
    page: bool,
) -> Result<Layout, String> {
    let mut layout = Layout::default();
    root.fill(&WHITE).map_err(err)?;
    let (rows, cols, panel_h) = grid(fig, page);
    let (title_area, rest) = root.split_vertically(title_height(fig, page));
    for (k, line) in title_lines(fig, page).into_iter().enumerate() {
        title_area
            .draw(&Text::new(
                line,
                (
                    width_px(page) as i32 / 2,
                    TITLE_H as i32 / 2 + 4 + k as i32 * TITLE_LINE_H as i32,
                ),
                TextStyle::from((FONT, style::title_px()).into_font())
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            ))
            .map_err(err)?;
    }
    let (panels, rest) = rest.split_vertically(rows as u32 * panel_h);
    let cells = panels.split_evenly((rows, cols));
    for (p, a) in fig.panels.iter().zip(cells.iter()) {
        layout.panels.push(draw_panel(a, p, page)?);
    }
    let legend_h = legend_height(fig, width_px(page));
    let (legend, caption) = rest.split_vertically(legend_h);
    draw_legend(&legend, fig)?;
    if legend_h > 0 {
        let (x, y) = legend.get_pixel_range();
        layout.legend = Some(Rect {
            left: f64::from(x.start),
            top: f64::from(y.start),
            right: f64::from(x.end),
            bottom: f64::from(y.end),
        });
    }
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
    root.present().map_err(err)?;
    Ok(layout)
}
