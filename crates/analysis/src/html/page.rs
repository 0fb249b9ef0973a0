//! Assembles `report.html`: the vendored uPlot (script and style), the page's own script and
//! style, the JSON data, the tables and the figures, all inline.
//!
//! A Content-Security-Policy meta tag forbids every network request (only inline scripts and
//! styles and `data:` images are allowed), so the page provably works offline and cannot leak.

use std::fmt::Write as _;

use super::tables::escape;

/// uPlot 1.6.32 (MIT), vendored: see `crates/analysis/assets/README.md`.
const UPLOT_JS: &str = include_str!("../../assets/uplot/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("../../assets/uplot/uPlot.min.css");
const UPLOT_LICENSE: &str = include_str!("../../assets/uplot/LICENSE");
/// The page's script and style.
const REPORT_JS: &str = include_str!("report.js");
const REPORT_CSS: &str = include_str!("report.css");

/// The parts of the page that vary.
pub struct Parts<'a> {
    pub title: &'a str,
    /// One line under the title (runs, statuses, version).
    pub meta: &'a str,
    /// JSON of [`super::payload::Payload`].
    pub json: &'a str,
    pub tables: &'a str,
    pub figures: &'a str,
    pub has_lr: bool,
}

/// JSON made safe inside a `<script>` element (`</` cannot close it).
fn script_safe(json: &str) -> String {
    json.replace("</", "<\\/")
}

/// The whole page.
pub fn render(p: &Parts) -> String {
    let title = escape(p.title);
    let mut out = String::with_capacity(
        UPLOT_JS.len() + REPORT_JS.len() + p.json.len() + p.tables.len() + p.figures.len() + 8192,
    );
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"generator\" content=\"optbench {version}\">\
         <title>optbench report: {title}</title>\n<style>{UPLOT_CSS}</style>\n<style>{REPORT_CSS}</style>\n\
         </head><body>\n<header><h1>optbench report: {title}</h1><p class=\"meta\">{meta}</p><nav>\
         <a href=\"#tables\">Tables</a><a href=\"#convergence\">Convergence</a>{lr_link}\
         {fig_link}</nav></header>\n<main>\n\
         <section id=\"tables\"><h2>Summary tables</h2>{tables}</section>\n\
         <section id=\"convergence\"><h2>Convergence</h2><p class=\"note\">Lines: mean over \
         seeds; bands: min–max over seeds. Hover a line for its values; switch optimizers and \
         configurations on and off with the boxes; long runs are shown at up to {points} \
         recorded steps.</p><div id=\"controls\"></div><div id=\"charts\"></div></section>\n{lr}{figs}\
         </main>\n<div id=\"ob-tip\" hidden></div>\n\
         <script type=\"application/json\" id=\"optbench-data\">{json}</script>\n\
         <script>/* uPlot, MIT licence:\n{UPLOT_LICENSE}*/\n{UPLOT_JS}</script>\n<script>{REPORT_JS}</script>\n\
         </body></html>\n",
        version = env!("CARGO_PKG_VERSION"),
        meta = escape(p.meta),
        lr_link = if p.has_lr {
            "<a href=\"#lr\">Learning rates</a>"
        } else {
            ""
        },
        fig_link = if p.figures.is_empty() {
            ""
        } else {
            "<a href=\"#figures\">Figures</a>"
        },
        tables = p.tables,
        points = super::downsample::MAX_POINTS,
        lr = if p.has_lr {
            "<section id=\"lr\"><h2>Learning-rate sensitivity</h2><div id=\"lr-charts\"></div></section>\n"
        } else {
            ""
        },
        figs = if p.figures.is_empty() {
            String::new()
        } else {
            format!(
                "<section id=\"figures\"><h2>Figures</h2><p class=\"note\">The static figures of \
                 <code>plots/</code> (<code>optbench plot</code>).</p><div class=\"gallery\">{}</div></section>\n",
                p.figures
            )
        },
        json = script_safe(p.json),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_cannot_close_its_script() {
        assert_eq!(script_safe(r#"{"a":"</script>"}"#), r#"{"a":"<\/script>"}"#);
        let page = render(&Parts {
            title: "x<y",
            meta: "m",
            json: r#"{"t":"</script><script>alert(1)</script>"}"#,
            tables: "",
            figures: "",
            has_lr: false,
        });
        assert_eq!(
            page.matches("</script>").count(),
            3,
            "only the page's own scripts close"
        );
        assert!(page.contains("optbench report: x&lt;y"));
        assert!(!page.contains("id=\"figures\""));
        assert!(!page.contains("src=\"http") && !page.contains("href=\"http"));
    }
}
