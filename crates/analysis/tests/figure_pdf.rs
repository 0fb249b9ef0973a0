//! PDF figures: one page each, the paper size (3.25 in = 234 pt for a column, 6.75 in = 486 pt
//! for a page), and the bundled font embedded (a TrueType `FontFile2` stream of DejaVu Sans),
//! read back with lopdf.

use lopdf::{Document, Object};
use optbench_analysis::plot::synthetic::{Synthetic, write_synthetic};
use optbench_analysis::plot::{FigureSize, Formats, PlotOptions, plot_results};
use std::path::Path;

fn number(o: &Object) -> f64 {
    match o {
        Object::Integer(i) => *i as f64,
        Object::Real(r) => f64::from(*r),
        other => panic!("not a number: {other:?}"),
    }
}

/// (pages, width and height in points, names of embedded TrueType fonts).
fn inspect(path: &Path) -> (usize, f64, f64, Vec<String>) {
    let doc = Document::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let pages = doc.get_pages();
    let page = doc.get_object(pages[&1]).unwrap().as_dict().unwrap();
    let mb = page.get(b"MediaBox").unwrap().as_array().unwrap();
    let (w, h) = (
        number(&mb[2]) - number(&mb[0]),
        number(&mb[3]) - number(&mb[1]),
    );
    let mut fonts = Vec::new();
    for obj in doc.objects.values() {
        let Ok(d) = obj.as_dict() else { continue };
        let Ok(file) = d.get(b"FontFile2") else {
            continue;
        };
        let stream = doc
            .get_object(file.as_reference().unwrap())
            .unwrap()
            .as_stream()
            .unwrap();
        assert!(stream.content.len() > 1000, "an empty font file");
        let name = d.get(b"FontName").unwrap().as_name().unwrap();
        fonts.push(String::from_utf8_lossy(name).into_owned());
    }
    (pages.len(), w, h, fonts)
}

#[test]
fn pdfs_have_one_page_of_paper_size_and_the_font_embedded() {
    let dir = tempfile::tempdir().unwrap();
    write_synthetic(
        dir.path(),
        &Synthetic {
            runs: 48,
            records: 11,
            seeds: 2,
            lrs: 2,
        },
    )
    .unwrap();
    for (size, inches) in [(FigureSize::Column, 3.25), (FigureSize::Page, 6.75)] {
        let opts = PlotOptions {
            size,
            formats: "pdf".parse::<Formats>().unwrap(),
            ..PlotOptions::default()
        };
        let files = plot_results(dir.path(), &opts).unwrap();
        assert!(files.len() >= 10);
        for f in &files {
            assert_eq!(f.extension().unwrap(), "pdf");
            let (pages, w, h, fonts) = inspect(f);
            assert_eq!(pages, 1, "{}", f.display());
            assert!(
                (w - inches * 72.0).abs() < 0.5,
                "{}: {w} pt wide, want {} pt",
                f.display(),
                inches * 72.0
            );
            assert!((150.0..1200.0).contains(&h), "{}: {h} pt high", f.display());
            assert!(
                !fonts.is_empty() && fonts.iter().all(|n| n.contains("DejaVuSans")),
                "{}: embedded fonts {fonts:?}",
                f.display()
            );
        }
    }
}

#[test]
fn format_lists_parse() {
    let all: Formats = "png,svg,pdf".parse().unwrap();
    assert_eq!(all, Formats::default());
    let one: Formats = " pdf ".parse().unwrap();
    assert_eq!(one.to_string(), "pdf");
    assert_eq!(
        "pdf,png,pdf".parse::<Formats>().unwrap().to_string(),
        "png,pdf"
    );
    let err = "png,eps".parse::<Formats>().unwrap_err();
    assert!(err.contains("eps"), "{err}");
}
