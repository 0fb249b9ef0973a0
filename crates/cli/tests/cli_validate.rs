//! The front end end to end: bad experiment files rejected by the binary with exit code 2 and a
//! message naming the file and the culprit, grid expansion counts, ids, `validate` and `list`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use optbench_spec::expand::{load, load_str};
use optbench_spec::plan::{BatchSize, Plan};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_optbench"))
}

fn bad_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bad")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn plan(text: &str) -> Plan {
    match load_str(text, Path::new("t.yaml"), &[]) {
        Ok(l) => l.plan,
        Err(e) => panic!("{e}"),
    }
}

fn plan_err(text: &str) -> String {
    load_str(text, Path::new("t.yaml"), &[])
        .map(|_| ())
        .unwrap_err()
        .to_string()
}

fn cells(p: &Plan) -> usize {
    p.runs().map(|r| r.cell_id).collect::<BTreeSet<_>>().len()
}

/// Each bad file: exit code 2 from `validate` and from `run`, one message naming the file and
/// the culprit, nothing written, no panic.
#[test]
fn bad_files_are_rejected_with_exit_2_and_a_named_culprit() {
    // (file, extra args, substrings the message must contain)
    let cases: &[(&str, &[&str], &[&str])] = &[
        (
            "unknown_optimizer.yaml",
            &[],
            &["optimizers[1]", "adamm", "did you mean `adam`"],
        ),
        (
            "misspelled_key.yaml",
            &[],
            &[":8:5:", "optimizers[1] (adam)", "beta1", "betas"],
        ),
        (
            "wrong_type.yaml",
            &[],
            &[":6:5:", "optimizers[0] (sgd)", "lr"],
        ),
        (
            "negative_lr.yaml",
            &[],
            &["optimizers[0] (sgd)", "lr", "-0.01"],
        ),
        ("beta_one.yaml", &[], &["optimizers[0] (adam)", "betas"]),
        ("eps_zero.yaml", &[], &["optimizers[0] (rmsprop)", "eps"]),
        (
            "zip_mismatch.yaml",
            &[],
            &["optimizers[0] (sgd)", "zip", "same length"],
        ),
        (
            "batch_zero.yaml",
            &[],
            &[":7:3:", "train", "batch_size", "0"],
        ),
        (
            "batch_too_large.yaml",
            &[],
            &["train", "batch size 500", "80 examples"],
        ),
        (
            "missing_data_file.yaml",
            &[],
            &["problems[0] (linear_regression)", "no_such_file.csv"],
        ),
        ("empty.yaml", &[], &["empty"]),
        ("not_yaml.yaml", &[], &["not valid YAML"]),
        ("not_text.yaml", &[], &["not a text file"]),
        ("top_level_list.yaml", &[], &["must be a mapping"]),
        (
            "unknown_problem.yaml",
            &[],
            &[
                ":3:5:",
                "problems[0]",
                "rosenbrok",
                "did you mean `rosenbrock`",
            ],
        ),
        (
            "unknown_dataset.yaml",
            &[],
            &["problems[0] (mlp)", "irsi", "iris"],
        ),
        (
            "bad_logspace.yaml",
            &[],
            &[":6:5:", "optimizers[0] (sgd)", "logspace"],
        ),
        (
            "unknown_train_key.yaml",
            &[],
            &[":4:3:", "train", "epoch", "did you mean `epochs`"],
        ),
        ("all_excluded.yaml", &[], &["exclude", "nothing to run"]),
        ("bad_schedule.yaml", &[], &["schedule", "cosin"]),
        (
            "good.yaml",
            &["--set", "optimizers.3.lr=0.1"],
            &["--set optimizers.3.lr=0.1", "out of range"],
        ),
        (
            "good.yaml",
            &["--set", "optimizers.0.lr=-1"],
            &["--set optimizers.0.lr=-1", "lr"],
        ),
        (
            "good.yaml",
            &["--set", "train.steps"],
            &["--set train.steps", "key=value"],
        ),
        (
            "good.yaml",
            &["--set", "train.steps=[1"],
            &["--set train.steps=[1", "not valid YAML"],
        ),
        ("no_such_file.yaml", &[], &["cannot read", "no such file"]),
    ];
    let tmp = tempfile::tempdir().unwrap();
    for (i, (file, extra, want)) in cases.iter().enumerate() {
        let path = bad_dir().join(file);
        for sub in ["validate", "run"] {
            let out_dir = tmp.path().join(format!("out{i}-{sub}"));
            let mut cmd = bin();
            cmd.arg(sub).arg(&path).args(*extra);
            if sub == "run" {
                cmd.arg("--out").arg(&out_dir).arg("--no-plots");
            }
            let o = cmd.output().unwrap();
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{sub} {file} {extra:?}: {err}");
            assert!(
                err.contains(file),
                "{sub} {file}: message does not name the file: {err}"
            );
            for w in *want {
                assert!(
                    err.contains(w),
                    "{sub} {file} {extra:?}: `{w}` missing from: {err}"
                );
            }
            assert!(!err.contains("panicked"), "{err}");
            assert!(!err.contains("RUST_BACKTRACE"), "{err}");
            assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
            assert!(
                !out_dir.exists(),
                "{sub} {file}: wrote {}",
                out_dir.display()
            );
            assert!(o.stdout.is_empty(), "{sub} {file}: stdout {:?}", o.stdout);
        }
    }
}

#[test]
fn every_shipped_experiment_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            // Files on the user's own data (MNIST, CIFAR-10) are only parsed: the data is not
            // in the repository.
            let text = std::fs::read_to_string(&path).unwrap();
            if text.starts_with("# needs your data") {
                optbench_spec::yaml::parse(&text)
                    .unwrap_or_else(|e| panic!("{}: {}", path.display(), e.message));
                continue;
            }
            let loaded = load(&path, &[]).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                loaded.warnings.is_empty(),
                "{}: {:?}",
                path.display(),
                loaded.warnings
            );
            assert!(!loaded.plan.is_empty());
            n += 1;
        }
    }
    assert!(
        n >= 4,
        "expected quickstart, analytic, linear and mlp; found {n}"
    );
}

#[test]
fn quickstart_has_the_classic_comparison() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments/quickstart.yaml");
    let p = load(&path, &[]).unwrap().plan;
    assert!(p.seeds.len() >= 3);
    let has = |problem: &str, opt: &str, bs: BatchSize, momentum: bool| {
        p.runs().any(|r| {
            r.problem.name() == problem
                && r.optimizer.name() == opt
                && r.train.batch_size == bs
                && (r
                    .optimizer
                    .hparams
                    .get("momentum")
                    .and_then(|m| m.as_f64())
                    .unwrap_or(0.0)
                    > 0.0)
                    == momentum
        })
    };
    for bs in [
        BatchSize::Full,
        BatchSize::Examples(1),
        BatchSize::Examples(32),
    ] {
        assert!(has("cnn", "sgd", bs, false), "{bs:?}");
    }
    assert!(has("cnn", "sgd", BatchSize::Examples(32), true));
    for o in ["adagrad", "adadelta", "rmsprop", "adam"] {
        assert!(has("cnn", o, BatchSize::Examples(32), false), "{o}");
        assert!(has("rosenbrock", o, BatchSize::Full, false), "{o}");
    }
    assert!(
        !p.runs()
            .any(|r| r.problem.name() == "rosenbrock" && r.train.batch_size != BatchSize::Full)
    );
}

const BASE: &str = "problems: [rosenbrock]\ntrain: {steps: 10}\n";

#[test]
fn grid_counts() {
    // 3 lrs × 2 momenta, 2 seeds.
    let p = plan(&format!(
        "{BASE}seeds: 2\noptimizers:\n  - {{name: sgd, lr: [0.1, 0.01, 0.001], momentum: [0.0, 0.9]}}\n"
    ));
    assert_eq!((cells(&p), p.len()), (6, 12));
    // zip pairs: 3 pairs, crossed with 2 lrs.
    let p = plan(&format!(
        "{BASE}optimizers:\n  - {{name: sgd, lr: [0.1, 0.01], zip: {{momentum: [0.0, 0.9, 0.9], nesterov: [false, false, true]}}}}\n"
    ));
    assert_eq!(cells(&p), 6);
    // problems × train × optimizers, with an exclude.
    let p = plan(
        "seeds: [3, 5, 7]\nproblems: [rosenbrock, {name: quadratic, dim: [2, 4]}]\ntrain: {steps: [10, 20]}\noptimizers: [sgd, adam]\nexclude:\n  - {problem: quadratic, optimizer: adam, train.steps: 20}\n",
    );
    assert_eq!(cells(&p), 3 * 2 * 2 - 2);
    assert_eq!(p.len(), cells(&p) * 3);
    assert_eq!(p.seeds, vec![3, 5, 7]);
    // hidden as a list of lists is an axis; a flat list is one value.
    let mlp = "problems:\n  - {name: mlp, dataset: {name: synthetic_classification, samples: 50}, hidden: HIDDEN}\ntrain: {steps: 2}\noptimizers: [sgd]\n";
    assert_eq!(cells(&plan(&mlp.replace("HIDDEN", "[[4], [8, 8], []]"))), 3);
    assert_eq!(cells(&plan(&mlp.replace("HIDDEN", "[8, 8]"))), 1);
    // logspace gives num values including both ends.
    let p = plan(&format!(
        "{BASE}optimizers:\n  - {{name: sgd, lr: {{logspace: [1.0e-4, 1.0], num: 5}}}}\n"
    ));
    let lrs: BTreeSet<u64> = p.runs().map(|r| r.optimizer.lr().to_bits()).collect();
    assert_eq!(lrs.len(), 5);
    assert!(lrs.contains(&1.0e-4_f64.to_bits()) && lrs.contains(&1.0_f64.to_bits()));
}

#[test]
fn exclude_matching_nothing_is_a_warning() {
    let l = load_str(
        &format!("{BASE}optimizers: [sgd]\nexclude:\n  - {{optimizer: adam}}\n"),
        Path::new("t.yaml"),
        &[],
    )
    .unwrap();
    assert_eq!(l.warnings.len(), 1);
    assert!(l.warnings[0].contains("exclude[0]") && l.warnings[0].contains("matches no cell"));
    // An unknown exclude key is an error.
    let e = plan_err(&format!(
        "{BASE}optimizers: [sgd]\nexclude:\n  - {{optimiser: adam}}\n"
    ));
    assert!(
        e.contains("optimiser") && e.contains("did you mean `optimizer`"),
        "{e}"
    );
}

#[test]
fn ids_are_canonical() {
    let a = plan(
        "name: a\nseeds: 2\nproblems: [{name: rosenbrock}]\ntrain: {steps: 10, eval_every: 5}\noptimizers:\n  - {name: sgd, lr: 0.01, momentum: 0.9}\n",
    );
    // Reordered keys, a default written out, another experiment name: the same ids.
    let b = plan(
        "optimizers:\n  - {momentum: 0.9, lr: 1.0e-2, name: sgd, nesterov: false}\ntrain: {eval_every: 5, steps: 10}\nproblems: [rosenbrock]\nseeds: [0, 1]\nname: b\n",
    );
    let ids = |p: &Plan| p.runs().map(|r| r.run_id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&a), ids(&b));
    assert_eq!(a.run(0).cell_id, a.run(1).cell_id);
    assert_ne!(a.run(0).run_id, a.run(1).run_id);
    assert_eq!(a.run(0).run_id.len(), 16);
    // The experiment seed changes ids and data seeds.
    let c = plan(
        "seed: 1\nseeds: 2\nproblems: [rosenbrock]\ntrain: {steps: 10, eval_every: 5}\noptimizers:\n  - {name: sgd, lr: 0.01, momentum: 0.9}\n",
    );
    assert_ne!(ids(&a), ids(&c));
    assert_ne!(a.run(0).data_seed, c.run(0).data_seed);
}

#[test]
fn every_optimizer_and_batch_size_sees_the_same_data_seed() {
    let p = plan(
        "seeds: 2\nproblems:\n  - {name: mlp, dataset: {name: synthetic_classification, samples: 60}, hidden: [[4], [8]]}\ntrain: {epochs: 1, batch_size: [full, 1, 8]}\noptimizers: [sgd, adam, {name: rmsprop, lr: [0.1, 0.01]}]\n",
    );
    let mut by: BTreeMap<(String, u64), BTreeSet<u64>> = BTreeMap::new();
    for r in p.runs() {
        let key = (serde_json::to_string(&r.problem.params).unwrap(), r.seed);
        by.entry(key).or_default().insert(r.data_seed);
    }
    assert_eq!(by.len(), 2 * 2, "two problem variants × two seeds");
    assert!(by.values().all(|s| s.len() == 1), "{by:?}");
    let all: BTreeSet<u64> = by.values().flatten().copied().collect();
    assert_eq!(all.len(), 4, "distinct per problem variant and seed");
}

#[test]
fn labels_show_what_varies() {
    let p = plan(
        "problems:\n  - {name: mlp, dataset: {name: synthetic_classification, samples: 100}}\ntrain: {epochs: 1, batch_size: [full, 32]}\noptimizers:\n  - {name: adam, lr: [0.001, 0.01]}\n  - {name: sgd, lr: 0.1, momentum: 0.9}\n",
    );
    let labels: BTreeSet<String> = p.runs().map(|r| r.label).collect();
    for want in [
        "adam lr=0.001 bs=full",
        "adam lr=0.01 bs=32",
        "sgd lr=0.1 momentum=0.9 bs=32",
    ] {
        assert!(labels.contains(want), "{want} not in {labels:?}");
    }
}

#[test]
fn positions_point_at_the_key() {
    let e = plan_err(
        "problems: [rosenbrock]\ntrain: {steps: 10}\noptimizers:\n  - name: adam\n    lr: 0.001\n    beta1: 0.9\n",
    );
    assert!(e.starts_with("t.yaml:6:5: optimizers[0] (adam): "), "{e}");
    let e = plan_err(
        "problems: [rosenbrock]\ntrain: {steps: 10, batch_size: full}\noptimizers:\n  - {name: sgd, lr: -1}\n",
    );
    assert!(e.starts_with("t.yaml:4:17: optimizers[0] (sgd): "), "{e}");
    // The resolved YAML carries the overrides.
    let l = load_str(
        "problems: [rosenbrock]\ntrain: {steps: 10}\noptimizers: [sgd]\n",
        Path::new("t.yaml"),
        &["train.steps=7".into(), "name=renamed".into()],
    )
    .unwrap();
    assert_eq!(l.plan.experiment, "renamed");
    assert!(
        l.plan.resolved_yaml.contains("steps: 7"),
        "{}",
        l.plan.resolved_yaml
    );
    assert!(matches!(
        l.plan.run(0).train.budget,
        optbench_spec::plan::Budget::Steps(7)
    ));
}

/// Random YAML-ish text never panics the loader.
#[test]
fn random_input_never_panics() {
    let pieces = [
        "name: x\n",
        "problems:",
        " [rosenbrock]\n",
        "\n  - name: mlp\n",
        "    hidden: [[1], 2]\n",
        "train: {steps: 3}\n",
        "train:\n  epochs: -1\n",
        "optimizers:",
        " [sgd, adam]\n",
        "\n  - {name: sgd, lr: {logspace: [1, 0], num: 2}}\n",
        "exclude: [{a.b: 1}]\n",
        "seeds: [1, 1]\n",
        "  zip: {lr: []}\n",
        "{",
        "}",
        "[",
        "]",
        ": ",
        "- ",
        "'",
        "\"",
        "#",
        "\t",
        "&a ",
        "*a ",
        "!!str ",
        "? ",
        "|\n",
        "1e-3",
        ".nan",
        "~",
        "\u{0}",
        "é",
        "    ",
        "\n",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..3000 {
        let mut text = String::new();
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let n = (state % 12) as usize + 1;
        for _ in 0..n {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            text.push_str(pieces[(state % pieces.len() as u64) as usize]);
        }
        let r = std::panic::catch_unwind(|| {
            let _ = load_str(&text, Path::new("fuzz.yaml"), &["a.b=1".to_string()]);
        });
        assert!(r.is_ok(), "panicked on {text:?}");
    }
}

#[test]
fn validate_prints_counts_and_list_prints_defaults() {
    let path = bad_dir().join("good.yaml");
    let o = bin()
        .arg("validate")
        .arg(&path)
        .args(["--set", "seeds=3", "-v"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("1 cells × 3 seeds = 3 runs"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("rosenbrock") && l.contains("sgd")),
        "{out}"
    );
    assert!(out.lines().any(|l| l.starts_with("total")), "{out}");
    // Ids are stable across processes.
    let again = bin()
        .arg("validate")
        .arg(&path)
        .args(["--set", "seeds=3", "-v"])
        .output()
        .unwrap();
    assert_eq!(o.stdout, again.stdout);

    let o = bin().args(["list", "optimizers"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    for name in [
        "sgd", "adagrad", "adadelta", "rmsprop", "adam", "momentum", "betas", "eps",
    ] {
        assert!(out.contains(name), "{name} missing from list: {out}");
    }
    let o = bin().args(["list", "problems"]).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    for name in [
        "rosenbrock",
        "quadratic",
        "condition",
        "mlp",
        "hidden",
        "activation",
    ] {
        assert!(out.contains(name), "{name} missing: {out}");
    }
    let o = bin().args(["list", "datasets"]).output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    for name in [
        "iris",
        "synthetic_classification",
        "test_fraction",
        "csv",
        "required",
    ] {
        assert!(out.contains(name), "{name} missing: {out}");
    }
    // A bad subcommand argument is bad input too.
    let o = bin().args(["list", "optimisers"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn train_eval_train_examples_reaches_problems_that_do_not_set_it() {
    let text = "problems:\n  - {name: mlp, dataset: {name: synthetic_classification, samples: 60}}\n  - {name: mlp, dataset: {name: synthetic_classification, samples: 60}, eval_train_examples: 7}\n  - rosenbrock\ntrain: {steps: 2, eval_train_examples: EVAL}\noptimizers: [sgd]\n";
    let with = plan(&text.replace("EVAL", "30"));
    let without = plan(&text.replace(", eval_train_examples: EVAL", ""));
    let evals: Vec<Option<u64>> = with
        .runs()
        .map(|r| {
            r.problem
                .params
                .get("eval_train_examples")
                .and_then(|v| v.as_u64())
        })
        .collect();
    assert_eq!(evals, vec![Some(30), Some(7), None]);
    assert_eq!(with.run(0).train.eval_train_examples, Some(30));
    // How the loss is evaluated does not change the data.
    assert_eq!(with.run(0).data_seed, without.run(0).data_seed);
    assert_ne!(with.run(0).run_id, without.run(0).run_id);
}

/// `run` without `--out` writes results/<name>/ under the current folder, with figures and the
/// report; `--set name=...` renames the folder.
#[test]
fn run_writes_results_name_under_the_current_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let exp = bad_dir().join("good.yaml");
    let o = bin()
        .current_dir(tmp.path())
        .arg("run")
        .arg(&exp)
        .args(["--jobs", "1", "--set", "name=renamed", "--set", "seeds=2"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = tmp.path().join("results/renamed");
    for f in [
        "runs.parquet",
        "metrics.parquet",
        "experiment.yaml",
        "report.md",
        "report.html",
        "plots",
    ] {
        assert!(out.join(f).exists(), "{f} missing in {}", out.display());
    }
    let resolved = std::fs::read_to_string(out.join("experiment.yaml")).unwrap();
    assert!(resolved.contains("name: renamed"), "{resolved}");
    // The resolved experiment validates and gives the same plan (same run ids).
    let a = load(&exp, &["name=renamed".into(), "seeds=2".into()])
        .unwrap()
        .plan;
    let b = load(&out.join("experiment.yaml"), &[]).unwrap().plan;
    assert_eq!(
        a.runs().map(|r| r.run_id).collect::<Vec<_>>(),
        b.runs().map(|r| r.run_id).collect::<Vec<_>>()
    );
    // A bad --shard is bad input.
    let o = bin()
        .current_dir(tmp.path())
        .arg("run")
        .arg(&exp)
        .args(["--shard", "3/2", "--no-plots"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--shard"), "{}", stderr(&o));
}
