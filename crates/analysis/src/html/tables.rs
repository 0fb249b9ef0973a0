//! The summary tables of `report.html`: the rows of `report.md` ([`crate::report::tables`]) as
//! HTML tables whose headers sort them (the page's script sorts by each cell's `data-v`, the
//! unrounded number, and marks each column's best value).

use std::fmt::Write as _;

use crate::plot::data::Summary;
use crate::plot::style::short_number;
use crate::report::Table;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            _ => o.push(c),
        }
    }
    o
}

/// A numeric cell: `mean ± std` (or the mean alone), sorted by the mean.
fn number_cell(s: Option<Summary>, with_std: bool) -> String {
    match s {
        None => "<td class=\"num\" data-v=\"\">–</td>".into(),
        Some(s) => {
            let text = if with_std {
                format!("{} ± {}", short_number(s.mean), short_number(s.std))
            } else {
                short_number(s.mean)
            };
            format!("<td class=\"num\" data-v=\"{:e}\">{text}</td>", s.mean)
        }
    }
}

/// A count cell `k/n`, sorted by `k`.
fn count_cell(k: usize, n: usize) -> String {
    format!("<td class=\"num\" data-v=\"{k}\">{k}/{n}</td>")
}

/// The tables as HTML, one `<section>` per problem.
pub fn html(tables: &[Table], select_by: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<p class=\"note\">Per problem and optimizer setting: the configuration with the best mean \
         {} over its seeds (configurations with diverged seeds rank last); final values as mean ± \
         std over the seeds that finished; diverged runs over all of the setting's \
         configurations. Click a header to sort; the best value of a column is bold.</p>",
        escape(select_by)
    );
    for t in tables {
        let _ = write!(
            out,
            "<section class=\"table\"><h3>{}</h3><table class=\"sortable\"><thead><tr>\
             <th data-sort=\"num\">Rank</th><th>Optimizer</th><th>Configuration</th>\
             <th data-sort=\"num\">Seeds ok</th><th data-sort=\"num\" data-best=\"min\">Train loss</th>\
             <th data-sort=\"num\" data-best=\"min\">Test loss</th>\
             <th data-sort=\"num\" data-best=\"max\">Test acc.</th><th data-sort=\"num\">Diverged</th>\
             <th data-sort=\"num\" data-best=\"min\">Wall time (s)</th></tr></thead><tbody>",
            escape(&t.problem)
        );
        for r in &t.rows {
            let _ = write!(
                out,
                "<tr><td class=\"num\" data-v=\"{}\">{}</td><td>{}</td><td>{}</td>{}{}{}{}{}{}</tr>",
                r.rank,
                r.rank,
                escape(&r.optimizer),
                escape(&r.config),
                count_cell(r.ok_seeds, r.seeds),
                number_cell(r.train_loss, true),
                number_cell(r.test_loss, true),
                number_cell(r.test_accuracy, true),
                count_cell(r.diverged, r.runs),
                number_cell(r.wall_time_s, false),
            );
        }
        out.push_str("</tbody></table></section>");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(escape("a<b & \"c\"'"), "a&lt;b &amp; &quot;c&quot;&#39;");
    }

    #[test]
    fn cells_carry_sortable_values() {
        let s = Summary {
            n: 3,
            mean: 0.0463,
            std: 0.0,
            min: 0.0463,
            max: 0.0463,
        };
        assert_eq!(
            number_cell(Some(s), true),
            "<td class=\"num\" data-v=\"4.63e-2\">0.0463 ± 0</td>"
        );
        assert_eq!(
            number_cell(None, true),
            "<td class=\"num\" data-v=\"\">–</td>"
        );
        assert_eq!(count_cell(2, 9), "<td class=\"num\" data-v=\"2\">2/9</td>");
    }
}
