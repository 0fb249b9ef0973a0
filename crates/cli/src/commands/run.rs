//! `optbench run`: expand, sweep, then figures and the report.

use std::path::{Path, PathBuf};

use optbench_analysis::{html, plot, report};
use optbench_exec::sweep::{self, SweepOptions};
use optbench_results::ParquetTables;
use optbench_spec::expand;
use optbench_spec::plan::Plan;
use optbench_spec::shard::Shard;

use crate::args::RunArgs;
use crate::exit::{CliError, ExitCode};

/// The default results folder of an experiment: `results/<name>/`.
pub fn default_out_dir(plan: &Plan) -> PathBuf {
    Path::new("results").join(&plan.experiment)
}

/// The folder relative paths of an experiment file (data, weights) resolve against: the file's.
pub(crate) fn experiment_dir(experiment: &Path) -> PathBuf {
    match experiment.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Runs (or resumes) the sweep, then draws figures and writes the report.
pub fn run(args: &RunArgs) -> Result<ExitCode, CliError> {
    let plan = expand::load_plan(&args.experiment, &args.set, &ParquetTables)?;
    let shard = match &args.shard {
        Some(s) => Some(Shard::parse(s).map_err(|e| CliError::Usage(format!("--shard: {e}")))?),
        None => Shard::from_env(None).map_err(|e| CliError::Usage(e.to_string()))?,
    };
    let out = args.out.clone().unwrap_or_else(|| default_out_dir(&plan));
    let base_dir = experiment_dir(&args.experiment);
    let mut opts = SweepOptions::new(&out, base_dir);
    opts.jobs = args.jobs.map(|j| usize::try_from(j).unwrap_or(usize::MAX));
    opts.force = args.force;
    opts.shard = shard;
    opts.help_other_shards = !args.no_shard_help;
    opts.grace = args.grace_period;
    let summary = sweep::run_plan(&plan, &opts)?;
    for (id, label, message) in &summary.failures {
        eprintln!("optbench: run {id} ({label}) failed: {message}");
    }
    eprintln!(
        "optbench: {} runs in {:.1} s ({} ok, {} diverged, {} failed; {} run here{}{}{}) in {}",
        summary.selected_runs,
        summary.wall_time_s,
        summary.ok,
        summary.diverged,
        summary.failed,
        summary.ran,
        if summary.resumed > 0 {
            format!(", {} kept from an earlier sweep", summary.resumed)
        } else {
            String::new()
        },
        if summary.helped_by_others > 0 {
            format!(", {} run by another process", summary.helped_by_others)
        } else {
            String::new()
        },
        if summary.missing > 0 {
            format!(", {} not run", summary.missing)
        } else {
            String::new()
        },
        out.display()
    );
    if summary.interrupted {
        eprintln!(
            "optbench: interrupted{}; run the same command again to finish the missing runs",
            summary
                .signal
                .map(|s| format!(" by {}", sweep::interrupt::signal_name(s)))
                .unwrap_or_default()
        );
        return Ok(ExitCode::interrupted(summary.signal));
    }
    if let Some(s) = shard {
        if summary.helped > 0 || summary.helped_by_others > 0 {
            eprintln!(
                "optbench: shard {s} ran {} run(s) of other shards after its own; other shards ran \
                 {} of its runs",
                summary.helped, summary.helped_by_others
            );
        }
        eprintln!(
            "optbench: shard {}/{} done; after every shard, `optbench merge {}` combines them",
            s.index,
            s.count,
            out.display()
        );
    } else if !args.no_plots && summary.ok + summary.diverged > 0 {
        // The report draws the profile figures it shows.
        let popts = plot::PlotOptions {
            formats: args.figures.format.clone(),
            ..plot::PlotOptions::default()
        };
        let files = plot::plot_results(&out, &popts).map_err(|e| CliError::AfterSweep {
            what: "drawing figures",
            source: Box::new(e.into()),
        })?;
        let ropts = report::ReportOptions {
            profiles: args.figures.targets(),
            formats: popts.formats.clone(),
            ..report::ReportOptions::default()
        };
        let report = report::write_report_with(&out, &ropts).map_err(|e| CliError::AfterSweep {
            what: "the report",
            source: Box::new(e.into()),
        })?;
        let page = html::write_html_report(&out).map_err(|e| CliError::AfterSweep {
            what: "the report",
            source: Box::new(e.into()),
        })?;
        eprintln!(
            "optbench: {} figure file(s) in {}, tables in {} and {}",
            files.len(),
            out.join("plots").display(),
            report.markdown.display(),
            page.display()
        );
    }
    Ok(if summary.success() {
        ExitCode::Ok
    } else {
        ExitCode::Failed
    })
}
