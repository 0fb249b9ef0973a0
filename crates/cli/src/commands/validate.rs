//! `optbench validate`: check an experiment file and print the size of its plan.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use optbench_results::ParquetTables;
use optbench_spec::expand;
use optbench_spec::plan::Plan;

use crate::args::ValidateArgs;
use crate::exit::{CliError, ExitCode};

/// Checks the file, prints warnings to stderr and the plan's size to stdout.
pub fn validate(args: &ValidateArgs) -> Result<ExitCode, CliError> {
    let loaded = expand::load_with(&args.experiment, &args.set, &ParquetTables)?;
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
    let mut by: BTreeMap<(String, &str), (usize, usize)> = BTreeMap::new();
    for c in 0..plan.cell_count() {
        let cell = plan.cell(c);
        let e = by
            .entry((problem_label(&cell.problem), cell.optimizer.name()))
            .or_default();
        e.0 += 1;
        e.1 += cell.runs;
    }
    let n_cells = plan.cell_count();
    let _ = writeln!(
        out,
        "{}: experiment `{}` is valid: {} cells × {} seed{} = {} runs",
        file.display(),
        plan.experiment,
        n_cells,
        seeds,
        if seeds == 1 { "" } else { "s" },
        plan.len()
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
        plan.len()
    );
    if verbose {
        let _ = writeln!(out);
        for c in 0..n_cells {
            let cell = plan.cell(c);
            let (id, p) = (plan.cell_id(c), cell.problem.name());
            let _ = writeln!(out, "{id}  {p:<w0$}  {}", cell.label);
        }
    }
    out
}

/// `mlp (iris)` for problems on data, the name otherwise.
fn problem_label(p: &optbench_spec::plan::ProblemSpec) -> String {
    match p.dataset_name() {
        Some(d) => format!("{} ({d})", p.name()),
        None => p.name().to_string(),
    }
}
