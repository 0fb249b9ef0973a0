//! `optbench init`: each cell's initial weights per seed, as safetensors files a PyTorch module
//! loads with `model.load_state_dict(safetensors.torch.load_file(path))`.
//!
//! The problem of every run is built exactly as `run` builds it ([`StandardBuilder::problem`]:
//! the same dataset, split and seeded initialisation), and its initial parameters are written
//! with the names and shapes of the equivalent PyTorch module's `named_parameters()` (plus the
//! batch-norm buffers, as `state_dict()` has them; `optbench_models::weights`). Layout:
//!
//! - `DIR/<cell_id>/seed<S>.safetensors`: the weights run `(cell, S)` starts from. Cells that
//!   differ only in optimizer or training loop start from the same weights; their files are hard
//!   links of one file (copies where the file system has no hard links).
//! - `DIR/index.tsv`: one line per file: `cell_id`, `seed`, `data_seed`, `file`, `problem` and
//!   the cell's `label`, tab-separated, with a header.
//!
//! `init: {file: DIR/<cell_id>/seed<S>.safetensors}` on the same problem starts a run from the
//! same point, with the same split and batches (a network's `init` is not part of the data seed),
//! so it reproduces the original run. Analytic problems have no weights (their start point is
//! the `init` key) and are skipped.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use optbench_exec::assemble::StandardBuilder;
use optbench_results::ParquetTables;
use optbench_spec::{expand, ids};
use serde_json::Value;

use crate::args::InitArgs;
use crate::commands::run::experiment_dir;
use crate::exit::{CliError, ExitCode};

/// Writes the weight files and the index; prints a summary to stderr.
pub fn init(args: &InitArgs) -> Result<ExitCode, CliError> {
    let plan = expand::load_plan(&args.experiment, &args.set, &ParquetTables)?;
    let builder = StandardBuilder::new(&experiment_dir(&args.experiment));
    // The first file written for each (problem variant, data seed): the others link to it.
    let mut written: HashMap<String, PathBuf> = HashMap::new();
    let mut index = String::from("cell_id\tseed\tdata_seed\tfile\tproblem\tlabel\n");
    let (mut files, mut skipped) = (0usize, 0usize);
    for spec in plan.runs() {
        if spec.problem.config.dataset().is_none() {
            skipped += 1;
            continue;
        }
        let rel = Path::new(&spec.cell_id).join(format!("seed{}.safetensors", spec.seed));
        let path = args.out.join(&rel);
        let dir = args.out.join(&spec.cell_id);
        std::fs::create_dir_all(&dir).map_err(|source| CliError::Write {
            path: dir.clone(),
            source,
        })?;
        let mut params = spec.problem.params.clone();
        params.remove("eval_train_examples");
        let key = format!(
            "{}:{}",
            spec.data_seed,
            ids::canonical(&Value::Object(params))
        );
        match written.get(&key) {
            Some(first) => link_or_copy(first, &path)?,
            None => {
                let problem = builder.problem(&spec).map_err(|e| CliError::Init {
                    what: format!("cell {} ({}), seed {}", spec.cell_id, spec.label, spec.seed),
                    message: e.to_string(),
                })?;
                problem
                    .save_weights(&problem.initial_params(), &path)
                    .map_err(|e| CliError::Write {
                        path: path.clone(),
                        source: std::io::Error::other(e.to_string()),
                    })?;
                written.insert(key, path.clone());
            }
        }
        files += 1;
        let _ = writeln!(
            index,
            "{}\t{}\t{}\t{}\t{}\t{}",
            spec.cell_id,
            spec.seed,
            spec.data_seed,
            rel.display(),
            spec.problem.name(),
            spec.label
        );
    }
    if files == 0 {
        return Err(CliError::Usage(format!(
            "{}: no problem of this experiment has weights (only problems on data do; an \
             analytic problem starts from its `init` key)",
            args.experiment.display()
        )));
    }
    let index_path = args.out.join("index.tsv");
    std::fs::write(&index_path, index).map_err(|source| CliError::Write {
        path: index_path.clone(),
        source,
    })?;
    eprintln!(
        "optbench: {files} weight file(s) ({} distinct) for {} seed(s) in {}; index in {}{}",
        written.len(),
        plan.seeds.len(),
        args.out.display(),
        index_path.display(),
        if skipped > 0 {
            format!("; {skipped} run(s) of analytic problems have no weights")
        } else {
            String::new()
        }
    );
    Ok(ExitCode::Ok)
}

/// `to` as a hard link of `from`, or a copy where hard links are not possible.
fn link_or_copy(from: &Path, to: &Path) -> Result<(), CliError> {
    if to.exists() {
        std::fs::remove_file(to).map_err(|source| CliError::Write {
            path: to.to_path_buf(),
            source,
        })?;
    }
    if std::fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|source| CliError::Write {
            path: to.to_path_buf(),
            source,
        })
}
