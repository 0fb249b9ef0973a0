//! The static figures of `plots/` embedded in `report.html` as `data:` URIs (base64), so the
//! page stays one self-contained file. Each figure is embedded once: its PNG if there is one
//! (smaller than the SVG for figures with many lines, and drawn the same everywhere), else its
//! SVG. Files are taken in name order; a folder without `plots/` embeds nothing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use super::HtmlError;
use super::tables::escape;

/// The figure files to embed: one per stem, PNG preferred, sorted by stem.
pub fn files(plots: &Path) -> Result<Vec<PathBuf>, HtmlError> {
    let entries = match std::fs::read_dir(plots) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(HtmlError::Read {
                path: plots.to_owned(),
                source,
            });
        }
    };
    let mut all: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "png" || x == "svg"))
        .collect();
    all.sort();
    let mut out: Vec<PathBuf> = Vec::new();
    for p in all {
        let png = p.with_extension("png");
        if p.extension().is_some_and(|x| x == "svg") && png.exists() {
            continue;
        }
        out.push(p);
    }
    Ok(out)
}

/// `<figure>` elements with the files inlined.
pub fn html(files: &[PathBuf]) -> Result<String, HtmlError> {
    let mut out = String::new();
    for path in files {
        let bytes = std::fs::read(path).map_err(|source| HtmlError::Read {
            path: path.clone(),
            source,
        })?;
        let mime = if path.extension().is_some_and(|x| x == "png") {
            "image/png"
        } else {
            "image/svg+xml"
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let _ = write!(
            out,
            "<figure><img loading=\"lazy\" alt=\"{n}\" src=\"data:{mime};base64,{}\"><figcaption>plots/{n}</figcaption></figure>",
            base64::engine::general_purpose::STANDARD.encode(&bytes),
            n = escape(&name),
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_is_preferred_and_missing_folder_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert!(files(&dir.path().join("plots")).unwrap().is_empty());
        for name in ["b.png", "b.svg", "a.svg", "notes.txt"] {
            std::fs::write(dir.path().join(name), b"<svg/>").unwrap();
        }
        let f = files(dir.path()).unwrap();
        let names: Vec<_> = f
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["a.svg", "b.png"]);
        let html = html(&f[..1]).unwrap();
        assert!(
            html.contains("data:image/svg+xml;base64,PHN2Zy8+"),
            "{html}"
        );
    }
}
