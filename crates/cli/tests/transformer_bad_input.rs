//! Bad transformer and token-data keys through the binary: `validate` and `run` exit with code
//! 2 and one line naming the file, the entry and the key, without a panic or any output folder.

use std::path::Path;
use std::process::Command;

/// A one-problem experiment around the problem keys `problem` (YAML flow mapping entries).
fn experiment(dir: &Path, name: &str, problem: &str) -> std::path::PathBuf {
    let text = format!(
        "name: {name}\nproblems:\n  - {{name: transformer, {problem}}}\ntrain: {{steps: 1}}\noptimizers: [adamw]\n"
    );
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn bad_transformer_keys_exit_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("short.txt"),
        "a short text of forty characters, or so.",
    )
    .unwrap();
    std::fs::write(dir.path().join("latin1.txt"), [b'a', 0xe9, b'b', b'c']).unwrap();
    // (file stem, problem keys, what the message must name)
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "heads",
            "dataset: {name: modular_arithmetic, p: 7}, d_model: 30, heads: 4",
            &["problems[0] (transformer)", "heads", "d_model"],
        ),
        (
            "context",
            "dataset: {name: text, path: short.txt}, context: 64",
            &["problems[0] (transformer)", "context"],
        ),
        (
            "not_prime",
            "dataset: {name: modular_arithmetic, p: 9, op: /}",
            &[
                "problems[0] (transformer)",
                "`modular_arithmetic.p`",
                "prime",
            ],
        ),
        (
            "fraction_one",
            "dataset: {name: modular_arithmetic, train_fraction: 1.0}",
            &["problems[0] (transformer)", "train_fraction"],
        ),
        (
            "fraction_zero",
            "dataset: {name: modular_arithmetic, train_fraction: 0}",
            &["problems[0] (transformer)", "train_fraction"],
        ),
        (
            "not_utf8",
            "dataset: {name: text, path: latin1.txt, tokens: char}",
            &["problems[0] (transformer)", "latin1.txt", "UTF-8"],
        ),
    ];
    for (name, problem, want) in cases {
        let path = experiment(dir.path(), name, problem);
        for sub in ["validate", "run"] {
            let out_dir = dir.path().join(format!("out-{name}-{sub}"));
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_optbench"));
            cmd.arg(sub).arg(&path);
            if sub == "run" {
                cmd.arg("--out").arg(&out_dir).arg("--no-plots");
            }
            let o = cmd.output().unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{sub} {name}: {err}");
            assert!(err.contains(&format!("{name}.yaml")), "{sub} {name}: {err}");
            for w in *want {
                assert!(err.contains(w), "{sub} {name}: `{w}` missing from: {err}");
            }
            assert!(!err.contains("panicked"), "{err}");
            assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
            assert!(
                !out_dir.exists(),
                "{sub} {name}: wrote {}",
                out_dir.display()
            );
        }
    }
}
