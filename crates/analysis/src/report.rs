//! `optbench report DIR`: Markdown and LaTeX (booktabs) tables from `runs.parquet`.
//!
//! One table per problem variant, one row per optimizer setting (the label without its `lr=`
//! part, so `sgd` and `sgd momentum=0.9` are separate rows, each tuned over its learning rates
//! and batch sizes): its selected configuration (the best mean `select_by` value over the seeds
//! that finished ok; configurations with diverged or failed seeds rank after those without),
//! then over that configuration's ok seeds the final train loss, final test loss and final test
//! accuracy as mean ± sample standard deviation (n − 1), the number of diverged runs among *all*
//! the setting's runs on the problem (`k/N`), the mean wall time per run of the selected
//! configuration, and the rank (1 = best, same order as the selection). The
//! best value of each numeric column is bold. Numbers have three significant digits.

use crate::compare::Target;
use crate::plot::data::{self, DataError, ProblemGroup, Run, SelectBy, Status, Summary, XAxis};
use crate::plot::figure::Figure;
use crate::plot::style::{Palette, short_number};
use crate::plot::{self, FigureSize, Format, Formats, PlotError, PlotOptions};
use crate::profile::{self, Costs};
use crate::profile_table;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Why a report could not be written; names the file.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Plot(#[from] PlotError),
    #[error("{path} holds no runs to report")]
    NoRuns { path: PathBuf },
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The files written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportFiles {
    pub markdown: PathBuf,
    pub latex: PathBuf,
}

/// One optimizer's row.
#[derive(Clone, Debug)]
pub struct Row {
    pub rank: usize,
    pub optimizer: String,
    /// Label of the selected configuration (with its batch size when the problem has several).
    pub config: String,
    /// Seeds of the selected configuration that finished ok / all its seeds.
    pub ok_seeds: usize,
    pub seeds: usize,
    pub train_loss: Option<Summary>,
    pub test_loss: Option<Summary>,
    pub test_accuracy: Option<Summary>,
    /// Diverged runs among all the optimizer's runs on this problem, and their number.
    pub diverged: usize,
    pub runs: usize,
    pub wall_time_s: Option<Summary>,
}

/// A table: a problem variant and its rows, by rank.
#[derive(Clone, Debug)]
pub struct Table {
    pub problem: String,
    pub rows: Vec<Row>,
}

/// Builds the tables from the runs of a results folder.
pub fn tables(runs: &[Run], select_by: SelectBy) -> Vec<Table> {
    let palette = Palette::new(runs.iter().map(|r| r.optimizer.as_str()));
    let groups = data::group_runs(runs, &palette);
    groups.iter().map(|g| table(g, runs, select_by)).collect()
}

fn table(g: &ProblemGroup, runs: &[Run], by: SelectBy) -> Table {
    let several_batches = g.batch_sizes().len() > 1;
    let mut best = data::best_per_optimizer(g, runs, by);
    best.sort_by(|&a, &b| {
        data::compare_scores(
            data::config_score(&g.configs[a], runs, by),
            data::config_score(&g.configs[b], runs, by),
            by.higher_is_better(),
        )
    });
    let rows = best
        .iter()
        .enumerate()
        .map(|(k, &ci)| {
            let c = &g.configs[ci];
            let ok: Vec<&Run> = c
                .runs
                .iter()
                .map(|&i| &runs[i])
                .filter(|r| r.status == Status::Ok)
                .collect();
            let all: Vec<&Run> = g
                .configs
                .iter()
                .filter(|d| d.family == c.family)
                .flat_map(|d| d.runs.iter().map(|&i| &runs[i]))
                .collect();
            let mut config = c.label.clone();
            if several_batches && c.batch_size.is_finite() && !c.label.contains("bs=") {
                let _ = write!(config, ", batch {}", c.batch_size as u64);
            }
            Row {
                rank: k + 1,
                optimizer: g.families[c.family].clone(),
                config,
                ok_seeds: ok.len(),
                seeds: c.runs.len(),
                train_loss: data::summarize(ok.iter().map(|r| r.final_train_loss)),
                test_loss: data::summarize(ok.iter().map(|r| r.final_test_loss)),
                test_accuracy: data::summarize(ok.iter().map(|r| r.final_test_accuracy)),
                diverged: all.iter().filter(|r| r.status == Status::Diverged).count(),
                runs: all.len(),
                wall_time_s: data::summarize(c.runs.iter().map(|&i| runs[i].wall_time_s)),
            }
        })
        .collect();
    Table {
        problem: g.title.clone(),
        rows,
    }
}

/// Index of the row with the best mean in a column (lowest, or highest if `max`).
fn best_row(rows: &[Row], get: fn(&Row) -> Option<Summary>, max: bool) -> Option<usize> {
    rows.iter()
        .enumerate()
        .filter_map(|(i, r)| get(r).map(|s| (i, s.mean)))
        .min_by(|a, b| {
            if max {
                b.1.total_cmp(&a.1)
            } else {
                a.1.total_cmp(&b.1)
            }
        })
        .map(|(i, _)| i)
}

type Getter = fn(&Row) -> Option<Summary>;
const COLUMNS: [(&str, Getter, bool, bool); 4] = [
    ("Train loss", |r| r.train_loss, false, true),
    ("Test loss", |r| r.test_loss, false, true),
    ("Test acc.", |r| r.test_accuracy, true, true),
    ("Wall time (s)", |r| r.wall_time_s, false, false),
];

fn cell(s: Option<Summary>, with_std: bool, pm: &str) -> String {
    match s {
        None => "–".into(),
        Some(s) if with_std => format!("{}{pm}{}", short_number(s.mean), short_number(s.std)),
        Some(s) => short_number(s.mean),
    }
}

/// Markdown text of the tables.
pub fn markdown(tables: &[Table], by: SelectBy) -> String {
    let mut out = String::from("# Results\n\n");
    let _ = writeln!(
        out,
        "Per problem and optimizer: the configuration with the best mean {} over its seeds (configurations with diverged seeds rank last); final values as mean ± std over the seeds that finished; diverged runs counted over all of the optimizer's configurations; best value per column in bold.\n",
        by.describe()
    );
    for t in tables {
        let _ = writeln!(out, "## {}\n", t.problem);
        let _ = writeln!(
            out,
            "| Rank | Optimizer | Configuration | Seeds ok | Train loss | Test loss | Test acc. | Diverged | Wall time (s) |"
        );
        let _ = writeln!(out, "|---:|---|---|---:|---:|---:|---:|---:|---:|");
        let bests: Vec<Option<usize>> = COLUMNS
            .iter()
            .map(|(_, g, max, _)| best_row(&t.rows, *g, *max))
            .collect();
        for (i, r) in t.rows.iter().enumerate() {
            let cols: Vec<String> = COLUMNS
                .iter()
                .zip(&bests)
                .map(|((_, g, _, std), b)| {
                    let c = cell(g(r), *std, " ± ");
                    if *b == Some(i) { format!("**{c}**") } else { c }
                })
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {}/{} | {} | {} | {} | {}/{} | {} |",
                r.rank,
                r.optimizer,
                r.config.replace('|', "\\|"),
                r.ok_seeds,
                r.seeds,
                cols[0],
                cols[1],
                cols[2],
                r.diverged,
                r.runs,
                cols[3]
            );
        }
        out.push('\n');
    }
    out
}

/// `s` with LaTeX's special characters escaped (and `–` as `--`).
pub fn tex_escape(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                o.push('\\');
                o.push(c);
            }
            '~' => o.push_str("\\textasciitilde{}"),
            '^' => o.push_str("\\textasciicircum{}"),
            '–' => o.push_str("--"),
            _ => o.push(c),
        }
    }
    o
}

/// LaTeX text of the tables (needs `\usepackage{booktabs}`).
pub fn latex(tables: &[Table], by: SelectBy) -> String {
    let mut out = String::from("% Generated by optbench report; needs \\usepackage{booktabs}.\n");
    for t in tables {
        let bests: Vec<Option<usize>> = COLUMNS
            .iter()
            .map(|(_, g, max, _)| best_row(&t.rows, *g, *max))
            .collect();
        let _ = writeln!(out, "\\begin{{table}}[t]\n\\centering\n\\small");
        let _ = writeln!(
            out,
            "\\caption{{{}: best configuration per optimizer by mean {}; mean $\\pm$ std over seeds; best in bold.}}",
            tex_escape(&t.problem),
            by.describe()
        );
        let _ = writeln!(out, "\\begin{{tabular}}{{rllrrrrrr}}\n\\toprule");
        let _ = writeln!(
            out,
            "Rank & Optimizer & Configuration & Seeds ok & Train loss & Test loss & Test acc. & Diverged & Wall time (s) \\\\\n\\midrule"
        );
        for (i, r) in t.rows.iter().enumerate() {
            let cols: Vec<String> = COLUMNS
                .iter()
                .zip(&bests)
                .map(|((_, g, _, std), b)| {
                    let c = tex_escape(&cell(g(r), *std, " ± ")).replace(" ± ", " $\\pm$ ");
                    if *b == Some(i) {
                        format!("\\textbf{{{c}}}")
                    } else {
                        c
                    }
                })
                .collect();
            let _ = writeln!(
                out,
                "{} & {} & {} & {}/{} & {} & {} & {} & {}/{} & {} \\\\",
                r.rank,
                tex_escape(&r.optimizer),
                tex_escape(&r.config),
                r.ok_seeds,
                r.seeds,
                cols[0],
                cols[1],
                cols[2],
                r.diverged,
                r.runs,
                cols[3]
            );
        }
        let _ = writeln!(out, "\\bottomrule\n\\end{{tabular}}\n\\end{{table}}\n");
    }
    out
}

/// What a report holds besides the per-problem tables.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReportOptions {
    /// Final value that picks each optimizer setting's configuration.
    pub select_by: SelectBy,
    /// `--profile` targets: a speed-to-target table for each, and the profile figures.
    pub profiles: Vec<Target>,
    /// The cost of reaching a target: steps, examples, epochs or seconds (`--x`).
    pub x: XAxis,
    /// Formats of the profile figures (`plots/profile_<metric>.*`); report.md shows the PNG (or
    /// SVG), report.tex includes the PDF.
    pub formats: Formats,
    /// Figure width.
    pub size: FigureSize,
}

/// Writes `report.md` and `report.tex` into `dir`, selecting by final train loss.
pub fn write_report(dir: &Path) -> Result<ReportFiles, ReportError> {
    write_report_with(dir, &ReportOptions::default())
}

/// Writes `report.md` and `report.tex` into `dir` (and the profile figures under `dir/plots/`).
pub fn write_report_with(dir: &Path, opts: &ReportOptions) -> Result<ReportFiles, ReportError> {
    let runs = data::read_runs(dir)?;
    if runs.is_empty() {
        return Err(ReportError::NoRuns {
            path: dir.join(optbench_results::OutputNames::new(None).runs),
        });
    }
    let t = tables(&runs, opts.select_by);
    let mut md = markdown(&t, opts.select_by);
    let mut tex = latex(&t, opts.select_by);
    if !opts.profiles.is_empty() {
        let (costs, figures) = profiles(dir, opts)?;
        md.push_str(&profile_table::markdown(&costs));
        tex.push_str(&profile_table::latex(&costs, tex_escape));
        for f in &figures {
            let stem = &f.stem;
            if opts.formats.contains(Format::Png) {
                let _ = writeln!(md, "![{}](plots/{stem}.png)\n", f.title);
            } else if opts.formats.contains(Format::Svg) {
                let _ = writeln!(md, "![{}](plots/{stem}.svg)\n", f.title);
            }
            if opts.formats.contains(Format::Pdf) {
                let _ = writeln!(
                    tex,
                    "\\begin{{figure}}[t]\n\\centering\n\\includegraphics{{plots/{stem}.pdf}}\n\\caption{{{}}}\n\\end{{figure}}\n",
                    tex_escape(&f.title)
                );
            }
        }
    }
    let files = ReportFiles {
        markdown: dir.join("report.md"),
        latex: dir.join("report.tex"),
    };
    for (path, text) in [(&files.markdown, md), (&files.latex, tex)] {
        std::fs::write(path, text).map_err(|source| ReportError::Io {
            path: path.clone(),
            source,
        })?;
    }
    Ok(files)
}

/// The costs of every profile target, and the profile figures, written under `dir/plots/`.
fn profiles(dir: &Path, opts: &ReportOptions) -> Result<(Vec<Costs>, Vec<Figure>), ReportError> {
    let popts = PlotOptions {
        x: opts.x,
        select_by: opts.select_by,
        size: opts.size,
        formats: opts.formats.clone(),
        profiles: opts.profiles.clone(),
        ..PlotOptions::default()
    };
    let loaded = plot::load(dir)?;
    let costs = opts
        .profiles
        .iter()
        .map(|t| profile::costs(&loaded.groups, &loaded.runs, &loaded.metrics, t, opts.x))
        .collect();
    let figures = plot::profile::figures(&loaded.context(&popts), &opts.profiles);
    if !opts.formats.list().is_empty() {
        plot::write_figures(&dir.join("plots"), &figures, &popts)?;
    }
    Ok((costs, figures))
}
