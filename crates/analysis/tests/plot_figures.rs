//! Figures from a synthetic results folder: every kind is written, decodes, has the documented
//! width, and the SVG carries the legend labels.

use optbench_analysis::plot::synthetic::{Synthetic, write_synthetic};
use optbench_analysis::plot::{FigureSize, Formats, PlotError, PlotOptions, XAxis, plot_results};
use std::collections::BTreeSet;
use std::path::Path;

fn png_size(path: &Path) -> (u32, u32) {
    let file = std::fs::File::open(path).unwrap();
    let mut reader = png::Decoder::new(std::io::BufReader::new(file))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    // Not blank: some pixels are neither white nor the same colour.
    let distinct: BTreeSet<&[u8]> = buf[..info.buffer_size()]
        .chunks(3)
        .take(2_000_000)
        .collect();
    assert!(distinct.len() > 20, "{} looks blank", path.display());
    (info.width, info.height)
}

fn svg_size(text: &str) -> (u32, u32) {
    let attr = |name: &str| -> u32 {
        let key = format!("{name}=\"");
        let start = text.find(&key).unwrap() + key.len();
        let end = start + text[start..].find('"').unwrap();
        text[start..end].parse().unwrap()
    };
    (attr("width"), attr("height"))
}

fn stems(files: &[std::path::PathBuf], ext: &str) -> BTreeSet<String> {
    files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn every_figure_kind_is_drawn_decodes_and_labels_its_lines() {
    let dir = tempfile::tempdir().unwrap();
    write_synthetic(
        dir.path(),
        &Synthetic {
            runs: 96,
            records: 21,
            seeds: 2,
            lrs: 3,
        },
    )
    .unwrap();
    let files = plot_results(dir.path(), &PlotOptions::default()).unwrap();
    let expected: BTreeSet<String> = [
        "convergence_rosenbrock",
        "convergence_logistic_regression_bs1",
        "convergence_logistic_regression_bs32",
        "convergence_logistic_regression_bs800",
        "best_rosenbrock",
        "best_logistic_regression",
        "lr_rosenbrock",
        "lr_logistic_regression_bs1",
        "lr_logistic_regression_bs32",
        "lr_logistic_regression_bs800",
        "trajectory_rosenbrock",
        "noise_rosenbrock",
        "noise_logistic_regression",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(stems(&files, "png"), expected);
    assert_eq!(stems(&files, "svg"), expected);
    assert_eq!(stems(&files, "pdf"), expected);
    for f in &files {
        assert!(f.starts_with(dir.path().join("plots")), "{}", f.display());
        if f.extension().is_some_and(|e| e == "png") {
            let (w, h) = png_size(f);
            assert_eq!(w, 975, "{}: 3.25 in at 300 dpi", f.display());
            assert!((500..4000).contains(&h), "{}: height {h}", f.display());
            let svg = std::fs::read_to_string(f.with_extension("svg")).unwrap();
            assert_eq!(
                svg_size(&svg),
                (w, h),
                "{}: PNG and SVG differ in size",
                f.display()
            );
        }
    }
    // The rosenbrock convergence figure names every configuration run on rosenbrock.
    let svg = std::fs::read_to_string(dir.path().join("plots/convergence_rosenbrock.svg")).unwrap();
    for opt in ["sgd", "adam", "rmsprop", "adagrad"] {
        for lr_factor in [10f64.powf(-1.5), 1.0, 10f64.powf(1.5)] {
            let good = match opt {
                "sgd" => 0.05,
                "adam" => 0.01,
                "rmsprop" => 0.005,
                _ => 0.1,
            };
            let lr = ((good * lr_factor) * 1e6_f64).round() / 1e6;
            let label = format!("{opt} lr={lr}");
            assert!(svg.contains(&label), "legend lacks {label}");
        }
    }
    // The largest learning rates diverge, and the legend says so.
    assert!(svg.contains("diverged"));
    let best =
        std::fs::read_to_string(dir.path().join("plots/best_logistic_regression.svg")).unwrap();
    assert!(
        best.contains("bs="),
        "best figure names batch sizes when the grid varies them"
    );
}

#[test]
fn page_size_and_single_format() {
    let dir = tempfile::tempdir().unwrap();
    write_synthetic(
        dir.path(),
        &Synthetic {
            runs: 24,
            records: 11,
            seeds: 2,
            lrs: 3,
        },
    )
    .unwrap();
    let opts = PlotOptions {
        size: FigureSize::Page,
        formats: "png".parse::<Formats>().unwrap(),
        x: XAxis::Time,
        ..PlotOptions::default()
    };
    let files = plot_results(dir.path(), &opts).unwrap();
    assert!(!files.is_empty());
    for f in &files {
        assert_eq!(f.extension().unwrap(), "png");
        assert_eq!(png_size(f).0, 2025, "{}: 6.75 in at 300 dpi", f.display());
    }
}

#[test]
fn missing_results_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = plot_results(dir.path(), &PlotOptions::default()).unwrap_err();
    assert!(matches!(err, PlotError::Data(_)));
    assert!(err.to_string().contains("runs.parquet"), "{err}");
}

/// Redraw time of a 1,000-run folder (run in release: `cargo test --release -p optbench
/// --test plot_figures -- --ignored --nocapture`).
#[test]
#[ignore = "timing; run in release"]
fn redraw_1000_runs() {
    let dir = tempfile::tempdir().unwrap();
    write_synthetic(
        dir.path(),
        &Synthetic {
            runs: 1000,
            records: 101,
            seeds: 5,
            lrs: 0,
        },
    )
    .unwrap();
    let t = std::time::Instant::now();
    let files = plot_results(dir.path(), &PlotOptions::default()).unwrap();
    let dt = t.elapsed().as_secs_f64();
    let t2 = std::time::Instant::now();
    optbench_analysis::report::write_report(dir.path()).unwrap();
    let dr = t2.elapsed().as_secs_f64();
    eprintln!(
        "1000 runs, 101 records each: {} files in {dt:.2} s; report in {dr:.3} s",
        files.len()
    );
    assert!(dt < 5.0, "redraw took {dt:.2} s");
}

/// Renders a synthetic folder into `$OPTBENCH_FIGURE_PREVIEW` (column and page size) for looking
/// at the figures: `OPTBENCH_FIGURE_PREVIEW=/tmp/preview cargo test -p optbench --test
/// plot_figures -- --ignored preview`.
#[test]
#[ignore = "writes figures for a human to look at"]
fn preview() {
    let Some(dir) = std::env::var_os("OPTBENCH_FIGURE_PREVIEW") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    write_synthetic(
        &dir,
        &Synthetic {
            runs: 240,
            records: 41,
            seeds: 3,
            lrs: 5,
        },
    )
    .unwrap();
    plot_results(
        &dir,
        &PlotOptions {
            formats: "png".parse::<Formats>().unwrap(),
            ..PlotOptions::default()
        },
    )
    .unwrap();
    let page = dir.join("page");
    write_synthetic(
        &page,
        &Synthetic {
            runs: 240,
            records: 41,
            seeds: 3,
            lrs: 5,
        },
    )
    .unwrap();
    plot_results(
        &page,
        &PlotOptions {
            formats: "png".parse::<Formats>().unwrap(),
            size: FigureSize::Page,
            ..PlotOptions::default()
        },
    )
    .unwrap();
    optbench_analysis::report::write_report(&dir).unwrap();
}

/// `--logx` puts every convergence panel's x axis on a log scale (the steps are linear without
/// it when one batch size is drawn), and `--metric` repeated draws those panels in order, the
/// training accuracy among them.
#[test]
fn logx_and_repeated_metrics() {
    use optbench_analysis::plot::axis::panel_ranges;
    use optbench_analysis::plot::{Metric, figures};
    let dir = tempfile::tempdir().unwrap();
    write_synthetic(
        dir.path(),
        &Synthetic {
            runs: 96,
            records: 11,
            seeds: 2,
            lrs: 3,
        },
    )
    .unwrap();
    let convergence = |opts: &PlotOptions| {
        let figs = figures(dir.path(), opts).unwrap();
        figs.into_iter()
            .filter(|f| f.stem.starts_with("convergence_"))
            .collect::<Vec<_>>()
    };
    let linear = convergence(&PlotOptions::default());
    let rosenbrock = linear
        .iter()
        .find(|f| f.stem == "convergence_rosenbrock")
        .unwrap();
    assert!(rosenbrock.panels.iter().all(|p| !p.x_log));

    let opts = PlotOptions {
        x_log: true,
        metrics: vec![Metric::TrainAccuracy, Metric::TestAccuracy],
        ..PlotOptions::default()
    };
    let logged = convergence(&opts);
    // Rosenbrock is no classifier: no accuracy panel, no figure; the three batch sizes of the
    // logistic regression keep theirs.
    let stems: Vec<&str> = logged.iter().map(|f| f.stem.as_str()).collect();
    assert_eq!(stems.len(), linear.len() - 1, "{stems:?}");
    assert!(!stems.contains(&"convergence_rosenbrock"));
    let lr = logged
        .iter()
        .find(|f| f.stem == "convergence_logistic_regression_bs32")
        .unwrap();
    let labels: Vec<&str> = lr.panels.iter().map(|p| p.y_label.as_str()).collect();
    assert_eq!(
        labels,
        ["Train accuracy (fraction)", "Test accuracy (fraction)"]
    );
    for p in &lr.panels {
        assert!(p.x_log && !p.y_log);
        let steps: Vec<f64> = p
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|q| q.0))
            .collect();
        let first = steps
            .iter()
            .copied()
            .filter(|&x| x > 0.0)
            .fold(f64::INFINITY, f64::min);
        let last = steps.iter().copied().fold(0.0, f64::max);
        assert!(first >= 1.0 && last >= 10.0 * first, "{first}..{last}");
        // The range is in log10 of the steps, from the first step after 0 to the last, padded
        // by 4 % (a linear range would reach `last`).
        let (lo, hi) = panel_ranges(p).0;
        let pad = (hi - lo) * 0.04 / 1.08;
        assert!((lo + pad - first.log10()).abs() < 1e-9, "{lo} {first}");
        assert!((hi - pad - last.log10()).abs() < 1e-9, "{hi} {last}");
    }
    let files = plot_results(
        dir.path(),
        &PlotOptions {
            formats: "png".parse::<Formats>().unwrap(),
            ..opts
        },
    )
    .unwrap();
    assert!(
        files
            .iter()
            .any(|f| f.ends_with("convergence_logistic_regression_bs32.png"))
    );
}
