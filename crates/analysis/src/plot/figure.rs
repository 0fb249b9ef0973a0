//! A figure as data ([`Figure`], [`Panel`], [`Line`]) and its layout in pixels.
//!
//! Layout: a title row, a grid of panels (one column for `--size column`, up to three for
//! `page`), then the legend in as many columns as fit the width, then the caption. The legend
//! never overlaps data. Sizes are at [`style::DPI`] (300 dpi): a column figure is 3.25 in
//! (975 px) wide, a page figure 6.75 in (2025 px), so a figure drops into a two-column paper
//! unscaled (`\includegraphics` at its natural size) with 8–9 pt text.

use super::style::{self, FONT, LineStyle};
use plotters::prelude::*;

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
    /// Drawn thin and translucent, without markers, under the other lines: the raw values
    /// under a smoothed line.
    pub faint: bool,
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
            faint: false,
        }
    }
}

/// Width of one column of a two-column paper (inches).
pub const COLUMN_IN: f64 = 3.25;
/// Width of the text of a page (inches).
pub const PAGE_IN: f64 = 6.75;

/// Figure width in pixels at 300 dpi: 975 (3.25 in) for a column, 2025 (6.75 in) for a page.
pub fn width_px(page: bool) -> u32 {
    let inches = if page { PAGE_IN } else { COLUMN_IN };
    (inches * style::DPI).round() as u32
}

pub(crate) const TITLE_H: u32 = 60;
/// Height of each further line of a long title.
pub(crate) const TITLE_LINE_H: u32 = 46;
pub(crate) const CAPTION_H: u32 = 42;
pub(crate) const LEGEND_ROW_H: u32 = 44;
pub(crate) const SAMPLE_W: u32 = 110;
/// Widest square panel (trajectories on a page are not drawn 7 in wide).
pub(crate) const SQUARE_MAX_W: u32 = 1100;

/// The caption broken into lines that fit the width.
pub(crate) fn caption_lines(fig: &Figure, page: bool) -> Vec<String> {
    wrap(
        &fig.caption,
        style::tick_px(),
        width_px(page).saturating_sub(60),
    )
}

/// The title broken into lines that fit the width.
pub(crate) fn title_lines(fig: &Figure, page: bool) -> Vec<String> {
    wrap(
        &fig.title,
        style::title_px(),
        width_px(page).saturating_sub(40),
    )
}

/// Height of the title rows.
pub(crate) fn title_height(fig: &Figure, page: bool) -> u32 {
    TITLE_H + (title_lines(fig, page).len().max(1) as u32 - 1) * TITLE_LINE_H
}

/// `text` broken at spaces into lines at most `max` pixels wide in the bundled font of size
/// `size` (a single word wider than that keeps its own line).
fn wrap(text: &str, size: f64, max: u32) -> Vec<String> {
    if text.is_empty() {
        return Vec::new();
    }
    let font = (FONT, size).into_font();
    let fits = |s: &str| font.box_size(s).map(|(w, _)| w <= max).unwrap_or(true);
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in text.split(' ') {
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
pub(crate) fn grid(fig: &Figure, page: bool) -> (usize, usize, u32) {
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
pub(crate) fn legend_grid(label_widths: &[u32], width: u32) -> (usize, usize, u32) {
    if label_widths.is_empty() {
        return (0, 0, 0);
    }
    let col_w = label_widths.iter().max().copied().unwrap_or(0) + SAMPLE_W + 50;
    let cols = ((width.saturating_sub(40)) / col_w).clamp(1, 6) as usize;
    let cols = cols.min(label_widths.len());
    let rows = label_widths.len().div_ceil(cols);
    (rows, cols, col_w)
}

/// One line of the legend: its row and column, the entry it belongs to, its text, and whether
/// it is the entry's first line (which carries the line sample).
pub(crate) struct LegendSlot {
    pub row: usize,
    pub col: usize,
    pub entry: usize,
    pub text: String,
    pub first: bool,
}

/// The legend laid out for a figure width: entries in as many columns as fit; in one column,
/// a label wider than the figure is broken at spaces onto further rows. Returns the slots, the
/// number of rows and the column width.
pub(crate) fn legend_layout(fig: &Figure, width: u32) -> (Vec<LegendSlot>, usize, u32) {
    let widths = label_widths(fig);
    let (rows, cols, col_w) = legend_grid(&widths, width);
    let room = width.saturating_sub(SAMPLE_W + 40);
    if cols > 1 || col_w <= width.saturating_sub(20) {
        let slots = fig
            .legend
            .iter()
            .enumerate()
            .map(|(i, e)| LegendSlot {
                row: i % rows.max(1),
                col: i / rows.max(1),
                entry: i,
                text: e.label.clone(),
                first: true,
            })
            .collect();
        return (slots, rows, col_w);
    }
    let mut slots = Vec::new();
    for (i, e) in fig.legend.iter().enumerate() {
        for (k, text) in wrap(&e.label, style::text_px(), room)
            .into_iter()
            .enumerate()
        {
            slots.push(LegendSlot {
                row: slots.len(),
                col: 0,
                entry: i,
                text,
                first: k == 0,
            });
        }
    }
    let n = slots.len();
    (slots, n, width.saturating_sub(20))
}

/// Height of the legend (0 without entries).
pub(crate) fn legend_height(fig: &Figure, width: u32) -> u32 {
    let (_, rows, _) = legend_layout(fig, width);
    if rows > 0 {
        rows as u32 * LEGEND_ROW_H + 20
    } else {
        0
    }
}

/// Total pixel size of a figure (width, height).
pub fn figure_size(fig: &Figure, page: bool) -> (u32, u32) {
    let (rows, _, h) = grid(fig, page);
    let legend_h = legend_height(fig, width_px(page));
    let caption_h = caption_lines(fig, page).len() as u32 * CAPTION_H;
    (
        width_px(page),
        title_height(fig, page) + rows as u32 * h + legend_h + caption_h + 10,
    )
}

/// Rendered widths of the legend labels, in pixels.
pub(crate) fn label_widths(fig: &Figure) -> Vec<u32> {
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
