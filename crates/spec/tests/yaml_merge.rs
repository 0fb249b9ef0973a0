//! Merge keys (`<<: *defaults`, YAML 1.1): entries shared between experiment entries, the keys
//! written in an entry winning over merged ones, and positions of merged keys in the anchored
//! text.

use std::collections::BTreeSet;
use std::path::Path;

use optbench_spec::expand::load_str;
use optbench_spec::yaml::{self, KeyPath, Position};
use serde_json::{Value, json};

fn path(dotted: &str) -> KeyPath {
    let mut p = KeyPath::root();
    for seg in dotted.split('.') {
        p = match seg.parse::<usize>() {
            Ok(i) => p.index(i),
            Err(_) => p.key(seg),
        };
    }
    p
}

fn at(line: usize, column: usize) -> Option<Position> {
    Some(Position { line, column })
}

const SHARED: &str = "\
name: merged
problems: [rosenbrock]
train: {steps: 10, batch_size: full}
optimizers:
  - &defaults
    name: sgd
    lr: 0.1
    momentum: 0.9
  - <<: *defaults
    lr: 0.01
  - nesterov: true
    <<: *defaults
";

#[test]
fn merged_entries_take_the_anchored_keys_and_their_own_win() {
    let doc = yaml::parse(SHARED).unwrap();
    let opts = &doc.value["optimizers"];
    assert_eq!(opts[1], json!({"name": "sgd", "lr": 0.01, "momentum": 0.9}));
    // The merge key may come after the entry's own keys: they still win.
    assert_eq!(
        opts[2],
        json!({"name": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": true})
    );
    // A key written in the entry is located there; a merged one in the anchored block.
    assert_eq!(doc.locate_exact(&path("optimizers.1.lr")), at(10, 5));
    assert_eq!(doc.locate_exact(&path("optimizers.1.momentum")), at(8, 5));
    assert_eq!(doc.locate_exact(&path("optimizers.1.name")), at(6, 5));
    assert_eq!(doc.locate_exact(&path("optimizers.2.nesterov")), at(11, 5));
    assert_eq!(doc.locate_exact(&path("optimizers.2.lr")), at(7, 5));
    // The items themselves: where their text starts, after `- `.
    assert_eq!(doc.locate_exact(&path("optimizers.1")), at(9, 5));
    assert_eq!(doc.locate_exact(&path("optimizers.0")), at(6, 5));
    // The merge key itself is not a key of the result.
    assert_eq!(doc.locate_exact(&path("optimizers.1.<<")), None);
}

#[test]
fn a_file_with_merge_keys_expands_and_the_override_wins() {
    let loaded = load_str(SHARED, Path::new("merged.yaml"), &[]).unwrap_or_else(|e| panic!("{e}"));
    let runs: BTreeSet<String> = loaded
        .plan
        .runs()
        .map(|r| {
            let h = &r.optimizer.hparams;
            format!(
                "{} lr={} momentum={} nesterov={}",
                r.optimizer.config.name(),
                h["lr"],
                h["momentum"],
                h["nesterov"]
            )
        })
        .collect();
    let want: BTreeSet<String> = [
        "sgd lr=0.1 momentum=0.9 nesterov=false",
        "sgd lr=0.01 momentum=0.9 nesterov=false",
        "sgd lr=0.1 momentum=0.9 nesterov=true",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(runs, want);
    // The resolved experiment written next to the results has the merges applied.
    assert!(
        !loaded.plan.resolved_yaml.contains("<<"),
        "{}",
        loaded.plan.resolved_yaml
    );
}

#[test]
fn an_error_in_a_merged_key_points_at_the_anchored_text() {
    // The second entry merges the momentum of an SGD entry into Adam, which has none.
    let text = SHARED.replace("    lr: 0.01\n", "    name: adam\n");
    let e = load_str(&text, Path::new("t.yaml"), &[]).unwrap_err();
    assert_eq!(e.position, at(8, 5), "{e}");
    let shown = e.to_string();
    assert!(
        shown.starts_with("t.yaml:8:5: optimizers[1] (adam): "),
        "{shown}"
    );
    assert!(shown.contains("momentum"), "{shown}");
}

#[test]
fn lists_of_merges_and_chains_follow_yaml_1_1() {
    let text = "\
base: &base {a: 1, b: 1, c: 1}
mid: &mid
  <<: *base
  b: 2
other: &other {c: 3, d: 3}
x:
  <<: [*mid, *other]
  a: 4
";
    let doc = yaml::parse(text).unwrap();
    // Own keys first, then the earlier mapping of the list; a merged block's own merge applies.
    assert_eq!(doc.value["mid"], json!({"a": 1, "b": 2, "c": 1}));
    assert_eq!(doc.value["x"], json!({"a": 4, "b": 2, "c": 1, "d": 3}));
    assert_eq!(doc.locate_exact(&path("x.a")), at(8, 3));
    assert_eq!(doc.locate_exact(&path("x.b")), at(4, 3));
    assert_eq!(doc.locate_exact(&path("x.c")), at(1, 26));
    assert_eq!(doc.locate_exact(&path("x.d")), at(5, 22));
    // In flow mappings too.
    let doc = yaml::parse("a: &a {k: 1, l: 1}\nb: {<<: *a, l: 2}\n").unwrap();
    assert_eq!(doc.value["b"], json!({"k": 1, "l": 2}));
    assert_eq!(doc.locate_exact(&path("b.k")), at(1, 8));
    assert_eq!(doc.locate_exact(&path("b.l")), at(2, 13));
}

#[test]
fn merging_something_other_than_mappings_is_an_error_at_the_merge_key() {
    for (text, found, pos) in [
        ("x:\n  <<: 3\n", "a number", at(2, 3)),
        (
            "a: &a [1]\nx: {k: 1, <<: *a}\n",
            "a list whose item 0 is a number",
            at(2, 11),
        ),
        (
            "a: &a {k: 1}\nx:\n  - <<: [*a, [2]]\n",
            "a list whose item 1 is a list",
            at(3, 5),
        ),
    ] {
        let e = yaml::parse(text).unwrap_err();
        assert!(e.message.contains(found), "{text}: {}", e.message);
        assert!(e.message.contains("merge key"), "{text}: {}", e.message);
        assert_eq!(e.position, pos, "{text}: {}", e.message);
    }
    // `<<` as a plain value or a quoted key elsewhere is just text.
    let doc = yaml::parse("a: <<\n").unwrap();
    assert_eq!(doc.value["a"], Value::from("<<"));
}
