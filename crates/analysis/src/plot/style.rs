//! Figure sizes, the bundled font, colours, dash patterns, markers and tick labels.
//!
//! Sizes: figures are laid out in pixels at 300 dpi; a `column` figure is 3.25 in (975 px)
//! wide, a `page` figure 6.75 in (2025 px). PNGs carry 300 dpi, SVGs use the same numbers as user
//! units and PDFs are converted at 300 units per inch, so every format has the paper size: body
//! text and tick labels are 8 pt (33 px at 300 dpi), titles 9 pt.
//!
//! Colours follow the Okabe–Ito palette (safe for colour-blind readers) and are assigned to
//! optimizer *names* in a fixed order ([`OPTIMIZER_ORDER`], then unknown names alphabetically),
//! so `adam` has the same colour in every figure of a results folder. Each optimizer also gets
//! its own marker shape and the configurations of one optimizer differ by dash pattern and shade,
//! so figures read in grayscale. [`Palette::styles`] gives every line of a figure its own
//! (colour, dash, marker): the 9th optimizer takes the 1st one's colour with the 2nd one's marker,
//! and the configurations of one optimizer go through the five dash patterns, then the same
//! five again one shade darker, one lighter, and so on (35 distinct styles per optimizer). The
//! dash patterns (solid, dashed, dotted, dash-dot, densely dotted) stay apart in a legend sample
//! with the marker drawn over its middle (a long dash did not: `sgd momentum=0` and
//! `sgd momentum=0.9` looked the same in the quickstart's noise legend).

use plotters::style::{FontStyle, RGBColor};
use std::sync::OnceLock;

/// DejaVu Sans (Bitstream Vera licence, see `assets/DejaVuSans-LICENSE.txt`), compiled in so
/// text renders on machines without system fonts and without fontconfig.
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Font family name the bundled font is registered under (also what SVG text asks for).
pub const FONT: &str = "sans-serif";

/// The family name inside the bundled font file (what PDFs embed and SVG viewers may match).
pub const FONT_NAME: &str = "DejaVu Sans";

/// The bundled font file's bytes.
pub fn font_bytes() -> &'static [u8] {
    DEJAVU_SANS
}

/// Registers the bundled font with plotters once; `false` if the font bytes were rejected.
pub fn register_font() -> bool {
    static DONE: OnceLock<bool> = OnceLock::new();
    *DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU_SANS).is_ok()
    })
}

/// Dots per inch of PNG output.
pub const DPI: f64 = 300.0;

/// Points to pixels at [`DPI`].
pub fn pt(points: f64) -> f64 {
    points / 72.0 * DPI
}

/// plotters' font sizes are 1.24 em (its SVG `font-size` and its glyph layout are the size
/// divided by 1.24), so a font of `n` pt is asked for at `1.24 · n` pt.
pub const PLOTTERS_EM: f64 = 1.24;

/// Body text size as plotters takes it (8 pt em).
pub fn text_px() -> f64 {
    pt(8.0) * PLOTTERS_EM
}

/// Tick label and caption size as plotters takes it (8 pt em).
pub fn tick_px() -> f64 {
    pt(8.0) * PLOTTERS_EM
}

/// Title size as plotters takes it (9 pt em).
pub fn title_px() -> f64 {
    pt(9.0) * PLOTTERS_EM
}

/// Okabe–Ito colours (black last: it is used for the 8th optimizer).
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(180, 160, 0),   // dark yellow (Okabe–Ito yellow darkened for white paper)
    RGBColor(0, 0, 0),       // black
];

/// Optimizers in the order they get colours; names not listed follow alphabetically.
pub const OPTIMIZER_ORDER: [&str; 14] = [
    "sgd", "adagrad", "adadelta", "rmsprop", "adam", "adamw", "nadam", "radam", "adamax", "lion",
    "amsgrad", "lamb", "lars", "rprop",
];

/// Marker shapes, one per optimizer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
    Cross,
    Plus,
    InvTriangle,
    Star,
}

const MARKERS: [Marker; 8] = [
    Marker::Circle,
    Marker::Square,
    Marker::Triangle,
    Marker::Diamond,
    Marker::Cross,
    Marker::Plus,
    Marker::InvTriangle,
    Marker::Star,
];

/// A dash pattern: lengths in pixels (at 300 dpi) of drawn and skipped pieces in turn, starting
/// with a drawn one and repeating (an even number of lengths); empty = solid.
pub type Dash = &'static [u32];

/// Dash patterns, one per configuration of an optimizer: solid, dashed, dotted, dash-dot and
/// densely dotted. Their legend samples differ pairwise in at least 66 pixels (a dash-dot-dot
/// came within 56 of the dash-dot; the long dash `[48, 14]` used before within 6 of solid).
pub const DASHES: [Dash; 5] = [&[], &[28, 14], &[6, 10], &[28, 10, 6, 10], &[3, 6]];

/// How one line is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LineStyle {
    pub color: RGBColor,
    /// Dash pattern (see [`Dash`]; empty = solid).
    pub dash: Dash,
    pub marker: Marker,
}

/// Assigns colours and markers to optimizer names in a stable order.
#[derive(Clone, Debug)]
pub struct Palette {
    names: Vec<String>,
}

impl Palette {
    /// A palette for these optimizer names (duplicates and order do not matter).
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut names: Vec<String> = names.into_iter().map(str::to_owned).collect();
        names.sort_by(|a, b| {
            let rank = |n: &str| {
                OPTIMIZER_ORDER
                    .iter()
                    .position(|o| *o == n)
                    .unwrap_or(usize::MAX)
            };
            rank(a).cmp(&rank(b)).then_with(|| a.cmp(b))
        });
        names.dedup();
        Palette { names }
    }

    /// Optimizer names in palette order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    fn index(&self, optimizer: &str) -> usize {
        self.names.iter().position(|n| n == optimizer).unwrap_or(0)
    }

    /// The base colour of an optimizer.
    pub fn color(&self, optimizer: &str) -> RGBColor {
        PALETTE[self.index(optimizer) % PALETTE.len()]
    }

    /// Style of the `variant`-th configuration of `optimizer` in a figure: the optimizer's colour
    /// (darker or lighter for later variants), its marker, and the variant's dash pattern.
    /// Optimizers past the 8th reuse the colours with the markers shifted by one per round, so
    /// no two of the first 64 share both.
    pub fn style(&self, optimizer: &str, variant: usize) -> LineStyle {
        let i = self.index(optimizer);
        let base = PALETTE[i % PALETTE.len()];
        let marker = MARKERS[(i + i / PALETTE.len()) % MARKERS.len()];
        // Shade: 0, -30 %, +40 %, -50 %, +60 %, -70 %, +80 % towards black / white in turn
        // (always towards white for black, which cannot get darker); 7 shades × 5 dashes.
        let k = variant / DASHES.len();
        let color = if k == 0 {
            base
        } else {
            let amount = (0.3 + 0.1 * (k as f64 - 1.0)).min(0.8);
            let dark = base.0.max(base.1).max(base.2) < 60;
            if k % 2 == 1 && !dark {
                mix(base, RGBColor(0, 0, 0), amount)
            } else {
                mix(base, RGBColor(255, 255, 255), amount)
            }
        };
        LineStyle {
            color,
            dash: DASHES[variant % DASHES.len()],
            marker,
        }
    }

    /// The styles of the lines of one figure, given each line's optimizer: the `k`-th line of an
    /// optimizer gets its `k`-th [`style`](Self::style), so lines of different optimizers differ
    /// in colour or marker and lines of one optimizer in dash or shade.
    pub fn styles<'a>(&self, optimizers: impl IntoIterator<Item = &'a str>) -> Vec<LineStyle> {
        let mut seen: Vec<(&str, usize)> = Vec::new();
        optimizers
            .into_iter()
            .map(|o| {
                let k = match seen.iter_mut().find(|(n, _)| *n == o) {
                    Some((_, n)) => {
                        *n += 1;
                        *n - 1
                    }
                    None => {
                        seen.push((o, 1));
                        0
                    }
                };
                self.style(o, k)
            })
            .collect()
    }
}

/// Linear blend of two colours: `a + t (b − a)`.
pub fn mix(a: RGBColor, b: RGBColor, t: f64) -> RGBColor {
    let f = |x: u8, y: u8| {
        (f64::from(x) + t * (f64::from(y) - f64::from(x)))
            .round()
            .clamp(0.0, 255.0) as u8
    };
    RGBColor(f(a.0, b.0), f(a.1, b.1), f(a.2, b.2))
}

/// Superscript digits for `10⁻³`-style labels.
fn superscript(n: i64) -> String {
    const SUP: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let mut s = String::new();
    if n < 0 {
        s.push('⁻');
    }
    for c in n.unsigned_abs().to_string().chars() {
        s.push(SUP[c.to_digit(10).unwrap_or(0) as usize]);
    }
    s
}

/// Tick label of a value `v` on an axis; on a log axis `v` is log10 of the value.
pub fn tick_label(v: f64, log: bool) -> String {
    if log {
        let r = v.round();
        if (v - r).abs() < 1e-9 {
            let e = r as i64;
            return format!("10{}", superscript(e));
        }
        return short_number(10f64.powf(v));
    }
    short_number(v)
}

/// A compact number: at most 3 significant digits, scientific outside [1e-3, 1e5).
pub fn short_number(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v.is_finite() {
            "0".into()
        } else {
            format!("{v}")
        };
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        let e = a.log10().floor();
        let m = v / 10f64.powf(e);
        let ms = format!("{m:.2}");
        let ms = ms.trim_end_matches('0').trim_end_matches('.');
        return format!("{ms}e{}", e as i64);
    }
    let digits = (2 - a.log10().floor() as i64).clamp(0, 6) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn font_registers() {
        assert!(register_font());
    }

    /// Text is 8 pt (titles 9 pt) at the figure's printed size: plotters writes a font-size of
    /// size / 1.24 user units, and 300 user units are an inch (72 pt).
    #[test]
    fn text_is_8_to_9_points() {
        let points = |size: f64| size / PLOTTERS_EM / DPI * 72.0;
        assert!((points(text_px()) - 8.0).abs() < 1e-9);
        assert!((points(tick_px()) - 8.0).abs() < 1e-9);
        assert!((points(title_px()) - 9.0).abs() < 1e-9);
    }

    #[test]
    fn palette_is_stable_and_ordered() {
        let p = Palette::new(["adam", "zeta", "sgd", "adam"]);
        assert_eq!(p.names(), ["sgd", "adam", "zeta"]);
        assert_eq!(p.color("sgd"), PALETTE[0]);
        assert_eq!(p.color("adam"), PALETTE[1]);
        let q = Palette::new(["sgd", "zeta", "adam"]);
        assert_eq!(q.color("zeta"), p.color("zeta"));
        assert_ne!(p.style("adam", 0).dash, p.style("adam", 1).dash);
        assert_ne!(p.style("adam", 0).marker, p.style("sgd", 0).marker);
    }

    /// Every line of a figure gets its own (colour, dash, marker): nine optimizers (the 9th
    /// took the 1st one's colour and marker) with up to 35 configurations each.
    #[test]
    fn styles_in_one_figure_are_distinct() {
        let names: Vec<&str> = OPTIMIZER_ORDER[..9].to_vec();
        let p = Palette::new(names.iter().copied());
        let lines: Vec<&str> = names
            .iter()
            .flat_map(|n| std::iter::repeat_n(*n, 35))
            .collect();
        let styles = p.styles(lines.iter().copied());
        for (a, sa) in styles.iter().enumerate() {
            for (b, sb) in styles.iter().enumerate().skip(a + 1) {
                assert_ne!(sa, sb, "lines {a} ({}) and {b} ({})", lines[a], lines[b]);
            }
        }
    }

    #[test]
    fn tick_labels() {
        assert_eq!(tick_label(-3.0, true), "10⁻³");
        assert_eq!(tick_label(0.0, true), "10⁰");
        assert_eq!(tick_label(2.0, true), "10²");
        assert_eq!(short_number(0.5), "0.5");
        assert_eq!(short_number(1234.0), "1234");
        assert_eq!(short_number(2.0e-5), "2e-5");
        assert_eq!(short_number(0.125), "0.125");
    }
}
