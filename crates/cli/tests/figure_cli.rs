//! `--format` and `--profile` through the binary: `run`, `plot` and `report` write only the
//! formats asked for, with the profile figure and its tables; an unknown format is refused.

mod results_fixture;

use optbench_analysis::plot::synthetic::{Synthetic, write_synthetic};
use results_fixture::{describe, optbench};
use std::path::Path;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn extensions(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            p.extension().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn plot_and_report_take_formats_and_profiles() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_synthetic(
        dir,
        &Synthetic {
            runs: 24,
            records: 11,
            seeds: 2,
            lrs: 2,
        },
    )
    .unwrap();
    // Every run reaches a loss of 1e9 at its first record.
    let o = optbench(
        &[
            "plot",
            s(dir),
            "--format",
            "pdf",
            "--profile",
            "train_loss=1e9",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", describe(&o));
    let plots = dir.join("plots");
    assert_eq!(extensions(&plots), ["pdf"]);
    assert!(plots.join("profile_train_loss.pdf").is_file());

    std::fs::remove_dir_all(&plots).unwrap();
    let o = optbench(
        &[
            "report",
            s(dir),
            "--no-html",
            "--format",
            "svg",
            "--profile",
            "train_loss=1e9",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", describe(&o));
    assert_eq!(extensions(&plots), ["svg"]);
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("## Steps to train_loss ≤"), "{md}");
    assert!(md.contains("plots/profile_train_loss.svg"), "{md}");

    let o = optbench(&["plot", s(dir), "--format", "png,eps"], &[]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("eps"),
        "{}",
        describe(&o)
    );
}

/// A sweep small enough for a test: two problems, two optimizers, two seeds, 40 steps.
const TINY: &str = "name: tiny
seeds: 2
problems:
  - name: rosenbrock
  - name: quadratic
train:
  steps: 40
  batch_size: full
  eval_every: 10
optimizers:
  - {name: sgd, lr: 0.001}
  - {name: adam, lr: 0.01}
";

/// The figure files of a folder by stem: the extensions each stem was written in.
fn stems(plots: &Path) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut by: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for e in std::fs::read_dir(plots).unwrap() {
        let p = e.unwrap().path();
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        let ext = p.extension().unwrap().to_string_lossy().into_owned();
        by.entry(stem).or_default().push(ext);
    }
    for v in by.values_mut() {
        v.sort();
    }
    by
}

/// `run --format png,svg,pdf --profile` draws every figure, the profile's included, in the
/// three formats, each a file of its kind (PNG signature with 300 dpi, an SVG document, a
/// complete PDF with an embedded TrueType font), and the report shows the profile's table;
/// `run --format svg` writes SVG only.
#[test]
fn run_writes_the_formats_and_profiles_asked_for() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = tmp.path().join("tiny.yaml");
    std::fs::write(&exp, TINY).unwrap();
    let out = tmp.path().join("all");
    let o = optbench(
        &[
            "run",
            s(&exp),
            "--out",
            s(&out),
            "--jobs",
            "1",
            "--format",
            "png,svg,pdf",
            "--profile",
            "train_loss=1e9",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", describe(&o));
    let plots = out.join("plots");
    let by = stems(&plots);
    for stem in [
        "convergence_rosenbrock",
        "best_quadratic",
        "profile_train_loss",
    ] {
        assert!(by.contains_key(stem), "no {stem} in {by:?}");
    }
    for (stem, exts) in &by {
        assert_eq!(exts, &["pdf", "png", "svg"], "{stem}");
        let bytes = |ext: &str| std::fs::read(plots.join(format!("{stem}.{ext}"))).unwrap();
        let png = bytes("png");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{stem}.png");
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let info = decoder.read_info().unwrap();
        let dpi = info.info().pixel_dims.expect("pHYs chunk");
        assert_eq!(
            dpi.xppu, 11811,
            "{stem}.png: 300 dpi is 11811 pixels per metre"
        );
        let svg = String::from_utf8(bytes("svg")).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "svg", "{stem}.svg");
        let pdf = bytes("pdf");
        assert!(pdf.starts_with(b"%PDF-"), "{stem}.pdf");
        let tail = String::from_utf8_lossy(&pdf[pdf.len().saturating_sub(32)..]).into_owned();
        assert!(
            tail.trim_end().ends_with("%%EOF"),
            "{stem}.pdf ends {tail:?}"
        );
        let text = String::from_utf8_lossy(&pdf);
        assert!(
            text.contains("/FontFile2"),
            "{stem}.pdf embeds no TrueType font"
        );
    }
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## Steps to train_loss ≤"), "{md}");
    assert!(md.contains("plots/profile_train_loss.png"), "{md}");
    let tex = std::fs::read_to_string(out.join("report.tex")).unwrap();
    assert!(
        tex.contains("\\includegraphics{plots/profile_train_loss.pdf}"),
        "{tex}"
    );
    assert!(out.join("report.html").is_file());

    let only_svg = tmp.path().join("svg");
    let o = optbench(
        &[
            "run",
            s(&exp),
            "--out",
            s(&only_svg),
            "--jobs",
            "1",
            "--format",
            "svg",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", describe(&o));
    assert_eq!(extensions(&only_svg.join("plots")), ["svg"]);
}
