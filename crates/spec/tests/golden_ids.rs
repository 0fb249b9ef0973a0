//! The ids and data seeds of every run of the shipped experiments, pinned.
//!
//! Run ids key resume, shard merges and `compare`'s pairing; data seeds fix every random stream
//! of a run. Neither may change when a dependency is updated or the code is reorganised. The
//! files in `tests/data/golden/` hold `run_id cell_id seed data_seed` per run, in plan order;
//! they were written by the code that produced the committed CI baseline. A deliberate change of
//! meaning bumps the id version and rewrites them with `OPTBENCH_BLESS=1 cargo test -p
//! optbench-spec --test golden_ids`, in a commit that says why.

use std::fmt::Write as _;
use std::path::Path;

use optbench_spec::expand::load;

fn table(experiment: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let loaded = load(&root.join("experiments").join(experiment), &[]).unwrap();
    let mut out = String::new();
    for r in loaded.plan.runs() {
        let _ = writeln!(out, "{} {} {} {}", r.run_id, r.cell_id, r.seed, r.data_seed);
    }
    out
}

fn check(experiment: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/golden")
        .join(experiment.replace(".yaml", ".ids"));
    let got = table(experiment);
    if std::env::var_os("OPTBENCH_BLESS").is_some() {
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap();
    assert!(!want.is_empty());
    for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
        assert_eq!(
            g, w,
            "{experiment}: run {i} (run_id cell_id seed data_seed)"
        );
    }
    assert_eq!(
        got.lines().count(),
        want.lines().count(),
        "{experiment}: number of runs"
    );
}

#[test]
fn quickstart_ids_are_pinned() {
    check("quickstart.yaml");
}

#[test]
fn ci_ids_are_pinned() {
    check("ci.yaml");
}
