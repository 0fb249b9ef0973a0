//! The tables of `--profile` targets in `report.md` and `report.tex`: per target, one row per
//! optimizer setting and one column per problem, each cell the median and interquartile range
//! over seeds of the cost (steps by default) of the setting's fastest configuration on that
//! problem ([`crate::profile`]); then how many problems the setting solved (median run reached the
//! target) and on how many it was the fastest (`ρ(1)` of the performance profile).

use crate::plot::profile::{cost_name, target_text};
use crate::plot::style::short_number;
use crate::profile::{CellCost, Costs};
use std::fmt::Write as _;

fn num(x: f64) -> String {
    if x.is_infinite() {
        "∞".into()
    } else {
        short_number(x)
    }
}

/// `120 [100, 140]`, `∞` (not reached) or `–` (not run).
pub fn cell_text(c: Option<&CellCost>) -> String {
    match c {
        None => "–".into(),
        Some(c) if c.median.is_infinite() => "∞".into(),
        Some(c) => format!("{} [{}, {}]", num(c.median), num(c.q1), num(c.q3)),
    }
}

/// Per setting: problems solved (finite median) and problems where it was the fastest.
pub fn solved_and_fastest(c: &Costs) -> Vec<(usize, usize)> {
    let ratios = c.ratios();
    (0..c.settings.len())
        .map(|s| {
            let solved = ratios.iter().filter(|r| r[s].is_finite()).count();
            let fastest = ratios.iter().filter(|r| r[s] <= 1.0).count();
            (solved, fastest)
        })
        .collect()
}

/// Index of the setting with the lowest median cost on problem `p`, if any reached it.
fn fastest(c: &Costs, p: usize) -> Option<usize> {
    (0..c.settings.len())
        .filter(|&s| c.cost(p, s).is_finite())
        .min_by(|&a, &b| c.cost(p, a).total_cmp(&c.cost(p, b)))
}

fn heading(c: &Costs) -> String {
    let name = cost_name(c.x);
    let mut s = name.to_string();
    if let Some(f) = s.get_mut(0..1) {
        f.make_ascii_uppercase();
    }
    format!("{s} to {}", target_text(&c.target))
}

/// Markdown: one table per target.
pub fn markdown(costs: &[Costs]) -> String {
    let mut out = String::new();
    if costs.is_empty() {
        return out;
    }
    out.push_str("# Speed to target\n\n");
    let _ = writeln!(
        out,
        "Per problem and optimizer setting: the {} its fastest learning rate needed to reach the target, median [first quartile, third quartile] over seeds (∞: not reached by the median seed; –: not run). Solved: problems where the median seed reached the target; fastest: problems where the setting was the fastest (ρ(1) of the performance profile). Fastest per problem in bold.\n",
        cost_name(costs[0].x)
    );
    for c in costs {
        let _ = writeln!(out, "## {}\n", heading(c));
        let mut head = String::from("| Setting |");
        let mut rule = String::from("|---|");
        for p in &c.problems {
            let _ = write!(head, " {} |", p.replace('|', "\\|"));
            rule.push_str("---:|");
        }
        let _ = writeln!(out, "{head} Solved | Fastest |\n{rule}---:|---:|");
        let fastest_per: Vec<Option<usize>> =
            (0..c.problems.len()).map(|p| fastest(c, p)).collect();
        for (s, (solved, fast)) in solved_and_fastest(c).into_iter().enumerate() {
            let _ = write!(out, "| {} |", c.settings[s]);
            for (p, f) in fastest_per.iter().enumerate() {
                let t = cell_text(c.cells[p][s].as_ref());
                if *f == Some(s) {
                    let _ = write!(out, " **{t}** |");
                } else {
                    let _ = write!(out, " {t} |");
                }
            }
            let n = c.problems.len();
            let _ = writeln!(out, " {solved}/{n} | {fast}/{n} |");
        }
        out.push('\n');
    }
    out
}

/// LaTeX (booktabs): one table per target.
pub fn latex(costs: &[Costs], escape: fn(&str) -> String) -> String {
    let mut out = String::new();
    for c in costs {
        let n = c.problems.len();
        let _ = writeln!(out, "\\begin{{table}}[t]\n\\centering\n\\small");
        let _ = writeln!(
            out,
            "\\caption{{{}: median [first, third quartile] over seeds of each setting's fastest learning rate; $\\infty$: not reached; --: not run; fastest per problem in bold.}}",
            escape(&heading(c))
        );
        let _ = writeln!(out, "\\begin{{tabular}}{{l{}rr}}\n\\toprule", "r".repeat(n));
        let mut head = String::from("Setting");
        for p in &c.problems {
            let _ = write!(head, " & {}", escape(p));
        }
        let _ = writeln!(out, "{head} & Solved & Fastest \\\\\n\\midrule");
        let fastest_per: Vec<Option<usize>> = (0..n).map(|p| fastest(c, p)).collect();
        for (s, (solved, fast)) in solved_and_fastest(c).into_iter().enumerate() {
            let _ = write!(out, "{}", escape(&c.settings[s]));
            for (p, f) in fastest_per.iter().enumerate() {
                let t = escape(&cell_text(c.cells[p][s].as_ref())).replace('∞', "$\\infty$");
                if *f == Some(s) {
                    let _ = write!(out, " & \\textbf{{{t}}}");
                } else {
                    let _ = write!(out, " & {t}");
                }
            }
            let _ = writeln!(out, " & {solved}/{n} & {fast}/{n} \\\\");
        }
        let _ = writeln!(out, "\\bottomrule\n\\end{{tabular}}\n\\end{{table}}\n");
    }
    out
}
