//! Unit tests of the YAML front end: values, positions, errors.

use super::*;

fn path(s: &[&str]) -> KeyPath {
    KeyPath(
        s.iter()
            .map(|p| match p.parse::<usize>() {
                Ok(i) => Seg::Index(i),
                Err(_) => Seg::Key(p.to_string()),
            })
            .collect(),
    )
}

const DOC: &str = "\
name: demo   # a comment
seeds: 3
problems:
  - name: mlp
    dataset: {name: iris, test_fraction: 0.25}
    hidden: [[32], [64, 64]]
  - name: rosenbrock
train:
  epochs: 2
  batch_size: [full, 1]
optimizers:
- name: sgd
  lr: 1e-3
- {name: adam, lr: 0.1,
   betas: [0.9, 0.99]}
- name: rmsprop
  zip:
    lr: [0.1, 0.2]
exclude:
  - {problem: rosenbrock, train.batch_size: 1}
";

#[test]
fn values_convert_and_exponent_floats_are_floats() {
    let d = parse(DOC).unwrap();
    assert_eq!(d.value["name"], "demo");
    assert_eq!(d.value["seeds"], 3);
    assert!(d.value["optimizers"][0]["lr"].is_f64());
    assert!((d.value["optimizers"][0]["lr"].as_f64().unwrap() - 1e-3).abs() < 1e-18);
    assert_eq!(d.value["train"]["batch_size"][0], "full");
    // Quoted exponent floats (a YAML 1.1 reading) become floats too.
    let q = parse("lr: '2E-4'\nname: '1e5x'").unwrap();
    assert!(q.value["lr"].is_f64());
    assert_eq!(q.value["name"], "1e5x");
}

#[test]
fn positions_of_block_and_flow_keys() {
    let d = parse(DOC).unwrap();
    let at = |p: &[&str]| d.locate(&path(p)).map(|p| (p.line, p.column));
    assert_eq!(at(&["name"]), Some((1, 1)));
    assert_eq!(at(&["problems"]), Some((3, 1)));
    assert_eq!(at(&["problems", "0"]), Some((4, 5)));
    assert_eq!(at(&["problems", "0", "name"]), Some((4, 5)));
    assert_eq!(
        at(&["problems", "0", "dataset", "test_fraction"]),
        Some((5, 27))
    );
    assert_eq!(at(&["problems", "0", "hidden"]), Some((6, 5)));
    assert_eq!(at(&["problems", "1", "name"]), Some((7, 5)));
    assert_eq!(at(&["train", "batch_size"]), Some((10, 3)));
    assert_eq!(at(&["optimizers", "0", "lr"]), Some((13, 3)));
    assert_eq!(at(&["optimizers", "1"]), Some((14, 3)));
    assert_eq!(at(&["optimizers", "1", "lr"]), Some((14, 16)));
    assert_eq!(at(&["optimizers", "1", "betas"]), Some((15, 4)));
    assert_eq!(at(&["optimizers", "2", "zip", "lr"]), Some((18, 5)));
    assert_eq!(at(&["exclude", "0", "train.batch_size"]), Some((20, 27)));
    // A key that is not in the text falls back to its entry.
    assert_eq!(at(&["optimizers", "2", "momentum"]), Some((16, 3)));
    assert_eq!(at(&["nothing"]), None);
}

#[test]
fn syntax_errors_have_positions() {
    let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
    assert!(e.position.is_some(), "{e:?}");
    let e = parse("a: 1\na: 2\n").unwrap_err();
    assert!(e.message.contains("duplicate"), "{}", e.message);
    let e = parse("x: .nan").unwrap_err();
    assert!(e.message.contains("`x`"), "{}", e.message);
    // Errors found while converting point at their key.
    let e = parse("a:\n  - 1\n  - {b: -.inf}\n").unwrap_err();
    assert!(e.message.contains("`a[1].b`"), "{}", e.message);
    assert_eq!(e.position, Some(Position { line: 3, column: 6 }));
    let e = parse("a: 1\n[x]: 2\n").unwrap_err();
    assert!(e.message.contains("keys must be names"), "{}", e.message);
    assert_eq!(e.position, Some(Position { line: 2, column: 1 }));
}

#[test]
fn alias_limits_stay_serde_yamls() {
    // A billion laughs: nine levels of ten aliases each.
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let p = i - 1;
        text.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    let e = parse(&text).unwrap_err();
    assert!(
        e.message.contains("repetition limit exceeded"),
        "{}",
        e.message
    );
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    let e = parse(&deep).unwrap_err();
    assert!(
        e.message.contains("recursion limit exceeded"),
        "{}",
        e.message
    );
}

#[test]
fn positions_skip_anchors_and_tags_and_follow_aliases() {
    let text = "base: &b\n  lr: 1\nitems:\n  - &x {k: 1}\n  - *x\n  - !!str 5\n  - &y\n    m: 2\n";
    let d = parse(text).unwrap();
    let at = |p: &[&str]| d.locate_exact(&path(p)).map(|p| (p.line, p.column));
    assert_eq!(at(&["base", "lr"]), Some((2, 3)));
    assert_eq!(at(&["items", "0"]), Some((4, 8)));
    assert_eq!(at(&["items", "1"]), Some((5, 5)));
    // The alias's parts are where the anchored node writes them.
    assert_eq!(at(&["items", "1", "k"]), Some((4, 9)));
    assert_eq!(at(&["items", "2"]), Some((6, 11)));
    assert_eq!(at(&["items", "3"]), Some((8, 5)));
    assert_eq!(at(&["items", "3", "m"]), Some((8, 5)));
    assert_eq!(at(&["items", "3", "z"]), None);
    assert_eq!(
        d.locate(&path(&["items", "3", "z"])),
        d.locate(&path(&["items", "3"]))
    );
}

#[test]
fn keypath_display() {
    assert_eq!(
        path(&["optimizers", "2", "lr"]).to_string(),
        "optimizers[2].lr"
    );
}

#[test]
fn outline_survives_odd_text() {
    for text in [
        "- - a\n  - b\n- c",
        "a:\n- 1\n- 2\nb: |\n  text\n  more\nc: 3",
        "{a: [1, {b: 2}], c: 'x: y'}",
        "a: [1,\n  2,\n  3]\nb: 4",
        "? complex\n: value",
        "a: \"quoted # not a comment\"  # comment\nb: 1",
        "]]]{{{",
        ":",
        "-",
        "a:\n  - b: 1\n    c: 2\n  - d",
    ] {
        let _ = outline::outline(text);
        let _ = parse(text);
    }
    let d = parse("a:\n- 1\n- 2\nb: |\n  text\n  more\nc: 3").unwrap();
    assert_eq!(d.locate(&path(&["c"])).map(|p| p.line), Some(7));
    assert_eq!(d.locate(&path(&["a", "1"])).map(|p| p.line), Some(3));
    let d = parse("a:\n  - b: 1\n    c: 2\n  - d").unwrap();
    assert_eq!(
        d.locate(&path(&["a", "0", "c"]))
            .map(|p| (p.line, p.column)),
        Some((3, 5))
    );
    assert_eq!(d.locate(&path(&["a", "1"])).map(|p| p.line), Some(4));
}
