//! `optbench merge`: combine the shards of a results folder.

use optbench_exec::merge::run_merge;

use crate::args::MergeArgs;
use crate::exit::{CliError, ExitCode};

/// Merges the shards of `args.dir`.
pub fn merge(args: &MergeArgs) -> Result<ExitCode, CliError> {
    let m = run_merge(&args.dir, args.data_dir.as_deref())?;
    eprintln!(
        "optbench: merged {} shard(s), {} runs, into {}",
        m.shards.len(),
        m.runs,
        args.dir.display()
    );
    Ok(ExitCode::Ok)
}
