//! Sweep throughput, scaling and memory, through the library (no CLI), on the experiment files
//! of experiments/bench/:
//!
//! ```text
//! cargo bench -p optbench-exec --bench sweep_bench -- overhead [JOBS]   # overhead.yaml: 1,000 × 1,000 Rosenbrock steps
//! cargo bench -p optbench-exec --bench sweep_bench -- mlp [JOBS]        # mlp_scaling.yaml: 16 MLP runs
//! cargo bench -p optbench-exec --bench sweep_bench -- rss [JOBS]        # rss_10k.yaml: 10,000 small runs
//! ```
//!
//! Each prints the time to load the plan and the wall time of `run_plan` (sweep, part files and
//! consolidation included). Run the compiled binary under `/usr/bin/time -v` for peak RSS.

use std::path::Path;
use std::time::Instant;

use optbench_exec::sweep::{SweepOptions, run_plan};
use optbench_spec::expand::load;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let what = args.first().map_or("overhead", String::as_str);
    let jobs: usize = args.get(1).and_then(|j| j.parse().ok()).unwrap_or(2);
    let file = match what {
        "overhead" => "overhead.yaml",
        "mlp" => "mlp_scaling.yaml",
        "rss" => "rss_10k.yaml",
        _ => {
            eprintln!("usage: sweep_bench [overhead|mlp|rss] [JOBS]");
            return;
        }
    };
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../experiments/bench")
        .join(file);
    let t0 = Instant::now();
    let plan = match load(&path, &[]) {
        Ok(l) => l.plan,
        Err(e) => {
            eprintln!("{e}");
            return;
        }
    };
    let loaded = t0.elapsed().as_secs_f64();
    let out = std::env::temp_dir().join(format!("optbench-bench-{what}-{jobs}"));
    let mut opts = SweepOptions::new(&out, path.parent().unwrap_or(Path::new(".")));
    opts.jobs = Some(jobs);
    opts.force = true;
    opts.progress = false;
    let t1 = Instant::now();
    match run_plan(&plan, &opts) {
        Ok(s) => println!(
            "{what}: {} runs, jobs {jobs}: plan {loaded:.3} s, sweep {:.3} s (ok {}, diverged {}, failed {}) -> {}",
            plan.len(),
            t1.elapsed().as_secs_f64(),
            s.ok,
            s.diverged,
            s.failed,
            out.display()
        ),
        Err(e) => eprintln!("sweep failed: {e}"),
    }
}
