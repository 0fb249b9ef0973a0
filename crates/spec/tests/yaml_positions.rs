//! Every key and item of every shipped experiment file gets a position, and the text at that
//! position is its own: a key's name (possibly quoted), an item's value (after `- `).

mod own_text;

use std::path::{Path, PathBuf};

use optbench_spec::yaml::{self, KeyPath, Position};

use own_text::{own_text_failures, paths, starts_with_item, starts_with_key, text_at};

fn experiment_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../experiments");
    let mut files = Vec::new();
    for dir in [root.clone(), root.join("bench")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_key_and_item_of_the_shipped_experiments_points_at_its_own_text() {
    let files = experiment_files();
    let in_bench = files
        .iter()
        .filter(|f| f.parent().unwrap().ends_with("bench"));
    assert!(files.len() >= 9 && in_bench.count() >= 4, "{files:?}");
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let doc = yaml::parse(&text).unwrap_or_else(|e| panic!("{}: {e:?}", file.display()));
        let failures = own_text_failures(&text, &doc);
        assert!(
            failures.is_empty(),
            "{}:\n{}",
            file.display(),
            failures.join("\n")
        );
        let mut all = Vec::new();
        paths(&doc.value, &KeyPath::root(), &mut all);
        checked += all.len();
    }
    assert!(checked > 200, "only {checked} keys and items");
}

#[test]
fn the_checker_rejects_wrong_positions() {
    let text = "a:\n  b: 1\n  c: [x, 'y z']\n";
    let doc = yaml::parse(text).unwrap();
    assert!(own_text_failures(text, &doc).is_empty());
    let at = |line, column| Position { line, column };
    let item = |line, column, v: &str| starts_with_item(text_at(text, at(line, column)), &v.into());
    assert!(starts_with_key(text_at(text, at(2, 3)), "b"));
    assert!(!starts_with_key(text_at(text, at(2, 4)), "b"));
    assert!(!starts_with_key(text_at(text, at(3, 3)), "b"));
    assert!(item(3, 7, "x"));
    assert!(item(3, 10, "y z"));
    assert!(!item(3, 11, "y z"));
    assert!(!item(3, 7, "y z"));
    assert!(!item(3, 6, "x"));
}
