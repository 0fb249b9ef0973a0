//! The defects of issue 13's figures, each checked on what is drawn: series stay inside their
//! panels, batch sizes are compared on a common x, noisy metrics are smoothed over a faint raw
//! line, labels name the batch size once, identical values have a spread of exactly 0, and the
//! lines of one figure look different in its legend.

use optbench_analysis::plot::axis::{panel_ranges, tx};
use optbench_analysis::plot::figure::{Figure, LegendEntry, Panel};
use optbench_analysis::plot::output::{parse_svg, rasterize, svg};
use optbench_analysis::plot::style::{LineStyle, OPTIMIZER_ORDER, Palette};
use optbench_analysis::plot::synthetic::{Synthetic, write_synthetic, write_synthetic_same_steps};
use optbench_analysis::plot::{Formats, PlotOptions, XAxis, figures};
use optbench_analysis::report::write_report;

fn folder(same_steps: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let spec = Synthetic {
        runs: 96,
        records: 41,
        seeds: 2,
        lrs: 3,
    };
    if same_steps {
        write_synthetic_same_steps(dir.path(), &spec).unwrap();
    } else {
        write_synthetic(dir.path(), &spec).unwrap();
    }
    dir
}

fn opts() -> PlotOptions {
    PlotOptions {
        formats: Formats::new([]),
        ..PlotOptions::default()
    }
}

/// Every pixel outside the panels' plotting rectangles and the legend is white, black or
/// gray (text, axes, grid): no series colour (every series colour of the palette is far from
/// gray) appears there. The synthetic folder has runs that diverge (their lines leave the top
/// of the range) and mini-batch losses of batch 1 that zigzag over a decade from one record to
/// the next (sharp turns of wide lines: miter spikes ran hundreds of pixels out of the panel).
#[test]
fn no_series_colour_outside_the_plot_rectangles() {
    let dir = folder(true);
    let figs = figures(dir.path(), &opts()).unwrap();
    assert!(figs.len() >= 10);
    for fig in &figs {
        let (text, layout) = svg(fig, false).unwrap();
        assert_eq!(layout.panels.len(), fig.panels.len());
        let pixmap = rasterize(&parse_svg(&text).unwrap()).unwrap();
        let (w, h) = (pixmap.width() as usize, pixmap.height() as usize);
        let mut outside = 0usize;
        let mut first = None;
        for y in 0..h {
            for x in 0..w {
                let (fx, fy) = (x as f64 + 0.5, y as f64 + 0.5);
                let inside = layout
                    .panels
                    .iter()
                    .chain(layout.legend.iter())
                    .any(|r| r.contains((fx, fy)));
                if inside {
                    continue;
                }
                let p = pixmap.pixel(x as u32, y as u32).unwrap();
                let (r, g, b) = (p.red(), p.green(), p.blue());
                let spread = r.max(g).max(b) - r.min(g).min(b);
                if spread > 12 {
                    outside += 1;
                    first.get_or_insert((x, y, r, g, b));
                }
            }
        }
        assert_eq!(
            outside, 0,
            "{}: {outside} coloured pixels outside the panels, first at {first:?}",
            fig.stem
        );
    }
}

fn x_extent(p: &Panel, line: &optbench_analysis::plot::figure::Line) -> f64 {
    let ((x0, x1), _) = panel_ranges(p);
    let xs: Vec<f64> = line
        .points
        .iter()
        .filter_map(|q| tx(q.0, p.x_log))
        .collect();
    let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (hi - lo) / (x1 - x0)
}

fn noise_figure(figs: &[Figure], slug: &str) -> Figure {
    figs.iter()
        .find(|f| f.stem == format!("noise_{slug}"))
        .unwrap_or_else(|| panic!("no noise_{slug}"))
        .clone()
}

/// Runs of batch 1, 32 and the full batch (800) with the same number of steps: per epoch the
/// full batch runs 800× longer, so on an epoch axis the batch-1 line was squeezed into 1/800 of
/// the panel. The panel comparing batch sizes uses examples seen (the same work for every run)
/// and a log axis, so each run's line spans a good part of it.
#[test]
fn batch_sizes_are_compared_on_a_common_x() {
    let dir = folder(true);
    let figs = figures(dir.path(), &opts()).unwrap();
    let noise = noise_figure(&figs, "logistic_regression");
    let p = &noise.panels[0];
    assert!(p.title.contains("batch size"), "{}", p.title);
    assert_eq!(p.x_label, XAxis::Examples.axis_label());
    let smoothed: Vec<_> = p.lines.iter().filter(|l| !l.faint).collect();
    assert_eq!(smoothed.len(), 3, "one line per batch size");
    for l in smoothed {
        let e = x_extent(p, l);
        assert!(
            e > 0.25,
            "a line spans only {:.1} % of the x axis",
            e * 100.0
        );
    }
    // The best-per-optimizer figure mixes batch sizes too: no step axis there.
    let best = figs
        .iter()
        .find(|f| f.stem == "best_logistic_regression")
        .unwrap();
    for p in &best.panels {
        assert_ne!(p.x_label, XAxis::Step.axis_label(), "{}", best.stem);
    }
}

/// Noisy per-step metrics (mini-batch loss, update norm) are drawn as a moving average over a
/// faint raw line, and the caption says how they are smoothed.
#[test]
fn noisy_metrics_are_smoothed_over_a_faint_raw_line() {
    let dir = folder(false);
    let figs = figures(dir.path(), &opts()).unwrap();
    let noise = noise_figure(&figs, "logistic_regression");
    assert!(noise.caption.contains("EMA"), "{}", noise.caption);
    let tv = |pts: &[(f64, f64)]| -> f64 {
        pts.windows(2)
            .map(|w| (w[1].1.ln() - w[0].1.ln()).abs())
            .sum()
    };
    let mut much_smoother = 0;
    for p in &noise.panels {
        let faint: Vec<_> = p.lines.iter().filter(|l| l.faint).collect();
        let thick: Vec<_> = p.lines.iter().filter(|l| !l.faint).collect();
        assert_eq!(faint.len(), thick.len(), "{}", p.title);
        for (raw, smooth) in faint.iter().zip(&thick) {
            assert_eq!(raw.style.color, smooth.style.color);
            assert!(raw.band.is_empty() && smooth.band.is_empty());
            // The moving average never moves more than the raw line (its total variation), and
            // it moves much less where the raw line is noisy (batch 1).
            let (t_raw, t_smooth) = (tv(&raw.points), tv(&smooth.points));
            assert!(
                t_smooth <= t_raw * 1.0001,
                "{}: {t_smooth} > {t_raw}",
                p.title
            );
            if t_smooth < 0.5 * t_raw {
                much_smoother += 1;
            }
        }
    }
    assert!(much_smoother >= 1, "no noisy line was smoothed");
}

/// How many times a label names a batch size (`bs=…`, or `batch N`).
fn batch_mentions(label: &str) -> usize {
    label.matches("bs=").count() + label.matches("batch ").count()
}

/// Legends and the report's configurations name a configuration's batch size at most once
/// (they said `bs=32, batch 32`).
#[test]
fn labels_name_the_batch_size_once() {
    let dir = folder(false);
    let figs = figures(dir.path(), &opts()).unwrap();
    let mut checked = 0;
    for f in &figs {
        for e in &f.legend {
            assert!(batch_mentions(&e.label) <= 1, "{}: {:?}", f.stem, e.label);
            checked += 1;
        }
    }
    assert!(checked > 20);
    let files = write_report(dir.path()).unwrap();
    let md = std::fs::read_to_string(files.markdown).unwrap();
    for line in md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Rank"))
    {
        for cell in line.split('|') {
            assert!(batch_mentions(cell) <= 1, "{line}");
        }
    }
    assert!(md.contains("bs=32"), "the report names batch sizes");
}

/// A figure holding only a legend entry of this style, rasterised (the label is the same for
/// every style, so two of them differ only in the line sample and its marker).
fn legend_sample(style: LineStyle) -> resvg::tiny_skia::Pixmap {
    let fig = Figure {
        legend: vec![LegendEntry {
            style,
            label: "x".into(),
        }],
        ..Figure::default()
    };
    let (text, _) = svg(&fig, false).unwrap();
    rasterize(&parse_svg(&text).unwrap()).unwrap()
}

/// Pixels whose colour differs clearly (by more than 48 in a channel) between two images.
fn differing_pixels(a: &resvg::tiny_skia::Pixmap, b: &resvg::tiny_skia::Pixmap) -> usize {
    assert_eq!((a.width(), a.height()), (b.width(), b.height()));
    a.pixels()
        .iter()
        .zip(b.pixels())
        .filter(|(p, q)| {
            let d = |x: u8, y: u8| x.abs_diff(y) > 48;
            d(p.red(), q.red()) || d(p.green(), q.green()) || d(p.blue(), q.blue())
        })
        .count()
}

/// Every two lines of one figure are told apart in its legend: their samples (a 100-pixel line
/// with the marker over its middle) differ in at least 60 pixels, a 15-pixel stretch of the
/// 4-pixel line. The quickstart's noise figure gave `sgd momentum=0 bs=1` (solid) and
/// `sgd momentum=0.9 bs=32` (dashes of 48 pixels, whose only gap the marker hid) the same
/// sample; a figure of nine optimizers gave the 1st and the 9th the same colour and marker.
#[test]
fn lines_of_one_figure_have_distinct_legend_samples() {
    let noise = [
        "sgd", "sgd", "sgd", "sgd", "adagrad", "adadelta", "rmsprop", "adam",
    ];
    let mut many: Vec<&str> = vec!["sgd"; 10];
    many.extend(&OPTIMIZER_ORDER[1..9]);
    for lines in [&noise[..], &many[..]] {
        let palette = Palette::new(lines.iter().copied());
        let styles = palette.styles(lines.iter().copied());
        let samples: Vec<_> = styles.iter().map(|s| legend_sample(*s)).collect();
        for a in 0..samples.len() {
            for b in a + 1..samples.len() {
                let n = differing_pixels(&samples[a], &samples[b]);
                assert!(
                    n >= 60,
                    "lines {a} ({}, {:?}) and {b} ({}, {:?}) differ in {n} pixels",
                    lines[a],
                    styles[a],
                    lines[b],
                    styles[b]
                );
            }
        }
    }
}
