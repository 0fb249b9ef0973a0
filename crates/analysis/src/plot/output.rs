//! Files of a figure: it is drawn once, as SVG, by plotters; the PNG is that SVG rasterized by
//! resvg and the PDF that SVG converted by svg2pdf, both with the bundled DejaVu Sans, so the
//! three files show the same figure.
//!
//! - **SVG**: user units are pixels at 300 dpi (a column figure is 975 units wide); text refers to
//!   the `sans-serif` family. Lines join and end round.
//! - **PNG**: 300 dpi (recorded in the file's `pHYs` chunk), RGB.
//! - **PDF**: one page of the figure's size at 300 units per inch, so 3.25 in (234 pt) for a
//!   column and 6.75 in (486 pt) for a page; text stays text, in a subset of DejaVu Sans
//!   embedded in the file (TrueType, `FontFile2`), so it prints the same everywhere and can be
//!   selected and searched. LaTeX: `\includegraphics{plots/best_mlp.pdf}`, no `width=` needed.

use super::PlotError;
use super::figure::{Figure, figure_size};
use super::render::{self, Layout};
use super::style;
use resvg::tiny_skia;
use resvg::usvg;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// One file format of figures.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[strum(serialize_all = "snake_case")]
pub enum Format {
    Png,
    Svg,
    Pdf,
}

impl Format {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        self.into()
    }
}

/// The formats to write (`--format png,svg,pdf`); by default all three.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Formats(Vec<Format>);

impl Default for Formats {
    fn default() -> Self {
        Formats(vec![Format::Png, Format::Svg, Format::Pdf])
    }
}

impl Formats {
    /// These formats (sorted, without repeats).
    pub fn new(formats: impl IntoIterator<Item = Format>) -> Self {
        let mut v: Vec<Format> = formats.into_iter().collect();
        v.sort();
        v.dedup();
        Formats(v)
    }

    /// The formats, in the order png, svg, pdf.
    pub fn list(&self) -> &[Format] {
        &self.0
    }

    /// Whether `f` is among them.
    pub fn contains(&self, f: Format) -> bool {
        self.0.contains(&f)
    }
}

impl std::str::FromStr for Formats {
    type Err = String;

    /// A comma-separated list: `png`, `png,pdf`, `png,svg,pdf`; `both` is `png,svg` (what
    /// `history show --format both` meant before PDF existed).
    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim() == "both" {
            return Ok(Formats::new([Format::Png, Format::Svg]));
        }
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim) {
            let f: Format = part.parse().map_err(|_| {
                format!("`{part}` is not a figure format (png, svg, pdf; a list: png,svg,pdf)")
            })?;
            out.push(f);
        }
        if out.is_empty() {
            return Err("no figure format given".into());
        }
        Ok(Formats::new(out))
    }
}

impl std::fmt::Display for Formats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.0.iter().map(|f| f.extension()).collect();
        f.write_str(&names.join(","))
    }
}

/// The figure as SVG text, and where its panels are.
pub fn svg(fig: &Figure, page: bool) -> Result<(String, Layout), String> {
    let size = figure_size(fig, page);
    let mut text = String::new();
    let layout = {
        let backend = plotters::prelude::SVGBackend::with_string(&mut text, size);
        render::draw(
            plotters::prelude::IntoDrawingArea::into_drawing_area(backend),
            fig,
            page,
        )?
    };
    // Round joins and caps for every line (inherited from the root element): a sharp turn of a
    // noisy line then stays within half a stroke of its points, as clipping assumes.
    let text = text.replacen(
        "<svg ",
        "<svg stroke-linejoin=\"round\" stroke-linecap=\"round\" ",
        1,
    );
    Ok((text, layout))
}

/// The font database with the bundled font as every generic family.
fn fontdb() -> Arc<usvg::fontdb::Database> {
    static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_data(style::font_bytes().to_vec());
        db.set_sans_serif_family(style::FONT_NAME);
        db.set_serif_family(style::FONT_NAME);
        db.set_monospace_family(style::FONT_NAME);
        Arc::new(db)
    })
    .clone()
}

/// Parses SVG text with the bundled font.
pub fn parse_svg(text: &str) -> Result<usvg::Tree, String> {
    let opts = usvg::Options {
        fontdb: fontdb(),
        font_family: style::FONT_NAME.to_string(),
        ..usvg::Options::default()
    };
    usvg::Tree::from_str(text, &opts).map_err(|e| format!("cannot read the drawn SVG: {e}"))
}

/// Rasterizes a parsed SVG at one pixel per user unit, on white.
pub fn rasterize(tree: &usvg::Tree) -> Result<tiny_skia::Pixmap, String> {
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height())
        .ok_or_else(|| format!("cannot make a {}×{} image", size.width(), size.height()))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(tree, tiny_skia::Transform::identity(), &mut pixmap.as_mut());
    Ok(pixmap)
}

/// PNG bytes of a pixmap (RGB, 300 dpi).
pub fn png_bytes(pixmap: &tiny_skia::Pixmap) -> Result<Vec<u8>, String> {
    // Opaque (drawn on white), so premultiplied RGBA is plain RGBA: drop the alpha.
    let rgb: Vec<u8> = pixmap
        .data()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, pixmap.width(), pixmap.height());
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let per_metre = (style::DPI / 0.0254).round() as u32;
    enc.set_pixel_dims(Some(png::PixelDimensions {
        xppu: per_metre,
        yppu: per_metre,
        unit: png::Unit::Meter,
    }));
    let mut w = enc.write_header().map_err(|e| e.to_string())?;
    w.write_image_data(&rgb).map_err(|e| e.to_string())?;
    w.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

/// PDF bytes of a parsed SVG: one page at 300 user units per inch, text embedded.
pub fn pdf_bytes(tree: &usvg::Tree) -> Result<Vec<u8>, String> {
    let page = svg2pdf::PageOptions {
        dpi: style::DPI as f32,
    };
    svg2pdf::to_pdf(tree, svg2pdf::ConversionOptions::default(), page)
        .map_err(|e| format!("cannot convert to PDF: {e}"))
}

/// Draws `fig` and writes `<out>/<stem>.<ext>` for each format; returns the files written.
pub fn write_figure(
    out: &Path,
    fig: &Figure,
    page: bool,
    formats: &Formats,
) -> Result<Vec<PathBuf>, PlotError> {
    let path_of = |f: Format| out.join(format!("{}.{}", fig.stem, f.extension()));
    let draw_err = |f: Format| {
        move |message: String| PlotError::Draw {
            path: path_of(f),
            message,
        }
    };
    let first = formats.list().first().copied().unwrap_or(Format::Svg);
    let (text, _) = svg(fig, page).map_err(draw_err(first))?;
    let needs_tree = formats.contains(Format::Png) || formats.contains(Format::Pdf);
    let tree = if needs_tree {
        Some(parse_svg(&text).map_err(draw_err(first))?)
    } else {
        None
    };
    let mut written = Vec::new();
    for &f in formats.list() {
        let bytes = match (f, &tree) {
            (Format::Svg, _) => Ok(text.clone().into_bytes()),
            (Format::Png, Some(t)) => rasterize(t).and_then(|p| png_bytes(&p)),
            (Format::Pdf, Some(t)) => pdf_bytes(t),
            _ => Err("no parsed SVG".to_string()),
        };
        let path = path_of(f);
        let bytes = bytes.map_err(draw_err(f))?;
        std::fs::write(&path, bytes).map_err(|source| PlotError::Io {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}
