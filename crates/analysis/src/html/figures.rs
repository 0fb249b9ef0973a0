//! The static figures of `plots/` embedded in `report.html` as `data:` URIs (base64), so the
//! page stays one self-contained file. Each figure is embedded once, as the smaller of its PNG
//! and SVG files (SVG for most figures, PNG where thousands of points make the SVG larger).
//! The smallest figures are embedded up to [`FIGURE_BUDGET`] bytes in all; the rest are listed as
//! links to their files, so a sweep with many large figures keeps the page small. A folder
//! without `plots/` embeds nothing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use super::HtmlError;
use super::tables::escape;

/// Bytes of figure files embedded at most (before base64, which adds a third).
pub const FIGURE_BUDGET: u64 = 1_500_000;

/// The figure files: one per stem, the smaller of PNG and SVG, sorted by stem.
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
    let size = |p: &Path| std::fs::metadata(p).map_or(u64::MAX, |m| m.len());
    let mut out: Vec<PathBuf> = Vec::new();
    for p in all {
        let twin = p.with_extension(if p.extension().is_some_and(|x| x == "png") {
            "svg"
        } else {
            "png"
        });
        // Of a PNG/SVG pair keep the smaller (the PNG on a tie); a lone file is kept.
        let keep = !twin.exists()
            || size(&p) < size(&twin)
            || (size(&p) == size(&twin) && p.extension().is_some_and(|x| x == "png"));
        if keep {
            out.push(p);
        }
    }
    Ok(out)
}

/// `<figure>` elements with the files inlined, in the given order, then a list of links to the
/// files left out (relative to the page: `plots/NAME`). The files embedded are the smallest ones
/// whose sizes add up to at most `budget` bytes, so a few large figures (convergence figures of
/// many lines, which the interactive charts show anyway) do not push out the others.
pub fn html(files: &[PathBuf], budget: u64) -> Result<String, HtmlError> {
    let sizes: Vec<u64> = files
        .iter()
        .map(|p| std::fs::metadata(p).map_or(u64::MAX, |m| m.len()))
        .collect();
    let mut by_size: Vec<usize> = (0..files.len()).collect();
    by_size.sort_by_key(|&i| sizes[i]);
    let mut embed = vec![false; files.len()];
    let mut used = 0u64;
    for i in by_size {
        if used.saturating_add(sizes[i]) > budget {
            break;
        }
        used += sizes[i];
        embed[i] = true;
    }
    let mut out = String::new();
    let mut skipped: Vec<String> = Vec::new();
    for (path, &embedded) in files.iter().zip(&embed) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !embedded {
            skipped.push(name);
            continue;
        }
        let bytes = std::fs::read(path).map_err(|source| HtmlError::Read {
            path: path.clone(),
            source,
        })?;
        let mime = if path.extension().is_some_and(|x| x == "png") {
            "image/png"
        } else {
            "image/svg+xml"
        };
        let _ = write!(
            out,
            "<figure><img loading=\"lazy\" alt=\"{n}\" src=\"data:{mime};base64,{}\"><figcaption>plots/{n}</figcaption></figure>",
            base64::engine::general_purpose::STANDARD.encode(&bytes),
            n = escape(&name),
        );
    }
    if !skipped.is_empty() {
        let _ = write!(
            out,
            "<p class=\"note\">Not embedded, to keep this page small (open them next to it):"
        );
        for n in &skipped {
            let _ = write!(out, " <a href=\"plots/{n}\">plots/{n}</a>", n = escape(n));
        }
        out.push_str("</p>");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smaller_file_is_embedded_within_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        assert!(files(&dir.path().join("plots")).unwrap().is_empty());
        for (name, bytes) in [
            ("b.png", &b"<svg/>"[..]),
            ("b.svg", b"<svg/>"),
            ("a.svg", b"<svg/>"),
            ("c.png", b"0123456789"),
            ("c.svg", b"<svg/>"),
            ("notes.txt", b""),
        ] {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        let f = files(dir.path()).unwrap();
        let names: Vec<_> = f
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["a.svg", "b.png", "c.svg"]);
        let page = html(&f, 12).unwrap();
        assert!(
            page.contains("data:image/svg+xml;base64,PHN2Zy8+"),
            "{page}"
        );
        assert_eq!(page.matches("<img").count(), 2, "{page}");
        assert!(page.contains("<a href=\"plots/c.svg\">"), "{page}");
    }
}
