//! `optbench validate`: check an experiment file and print the size of its plan.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use optbench_spec::expand;
use optbench_spec::plan::Plan;

use crate::args::ValidateArgs;
use crate::exit::{CliError, ExitCode};

/// Checks the file, prints warnings to stderr and the plan's size to stdout.
pub fn validate(args: &ValidateArgs) -> Result<ExitCode, CliError> {
    let loaded = expand::load(&args.experiment, &args.set)?;
    for w in &loaded.warnings {
        eprintln!("optbench: warning: {w}");
    }
    print!("{}", summary(&args.experiment, &loaded.plan, args.verbose));
    Ok(ExitCode::Ok)
}

/// `validate`'s report: counts of cells and runs per problem and optimizer, and the total.
pub fn summary(file: &Path, plan: &Plan, verbose: bool) -> String {
    let mut out = String::new();
    let seeds = plan.seeds.len();
    let mut by: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    let mut cells: Vec<(&str, &str, &str)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for r in &plan.runs {
        let e = by
            .entry((problem_label(&r.problem), r.optimizer.name.clone()))
            .or_default();
        e.1 += 1;
        if seen.insert(r.cell_id.as_str()) {
            e.0 += 1;
            cells.push((
                r.cell_id.as_str(),
                r.problem.name.as_str(),
                r.label.as_str(),
            ));
        }
    }
    let n_cells: usize = by.values().map(|v| v.0).sum();
    let _ = writeln!(
        out,
        "{}: experiment `{}` is valid: {} cells × {} seed{} = {} runs",
        file.display(),
        plan.experiment,
        n_cells,
        seeds,
        if seeds == 1 { "" } else { "s" },
        plan.runs.len()
    );
    let w0 = by.keys().map(|k| k.0.len()).max().unwrap_or(0).max(7);
    let w1 = by.keys().map(|k| k.1.len()).max().unwrap_or(0).max(9);
    let _ = writeln!(
        out,
        "{:<w0$}  {:<w1$}  {:>6}  {:>6}",
        "problem", "optimizer", "cells", "runs"
    );
    for ((p, o), (c, r)) in &by {
        let _ = writeln!(out, "{p:<w0$}  {o:<w1$}  {c:>6}  {r:>6}");
    }
    let _ = writeln!(
        out,
        "{:<w0$}  {:<w1$}  {:>6}  {:>6}",
        "total",
        "",
        n_cells,
        plan.runs.len()
    );
    if verbose {
        let _ = writeln!(out);
        for (id, p, label) in cells {
            let _ = writeln!(out, "{id}  {p:<w0$}  {label}");
        }
    }
    out
}

/// `mlp (iris)` for problems on data, the name otherwise.
fn problem_label(p: &optbench_spec::plan::ProblemSpec) -> String {
    match p.dataset_name() {
        Some(d) => format!("{} ({d})", p.name),
        None => p.name.clone(),
    }
}
