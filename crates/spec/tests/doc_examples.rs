//! Every experiment shown in README.md and under docs/ expands and validates, so the
//! documentation cannot show a file that `optbench validate` rejects.
//!
//! A ```yaml block with `problems:` is an experiment; a block without `train` or `optimizers`
//! (a fragment showing problems) is completed with `train: {steps: 1}` and `optimizers: [sgd]`.
//! A block whose first line is `# needs your data` shows files the reader must download, and is
//! only parsed as YAML.

use std::path::{Path, PathBuf};

use optbench_spec::expand::load_str;
use optbench_spec::yaml;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The ```yaml blocks of a Markdown file, with the line each starts on.
fn yaml_blocks(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        match &mut current {
            None if line.trim_start() == "```yaml" => current = Some((i + 2, String::new())),
            Some((start, body)) if line.trim_start().starts_with("```") => {
                out.push((*start, std::mem::take(body)));
                current = None;
            }
            Some((_, body)) => {
                body.push_str(line);
                body.push('\n');
            }
            None => {}
        }
    }
    out
}

fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    files.sort();
    files
}

#[test]
fn every_experiment_in_the_docs_validates() {
    let mut checked = 0;
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        for (line, block) in yaml_blocks(&text) {
            let at = format!("{}:{line}", file.display());
            if let Err(e) = yaml::parse(&block) {
                panic!("{at}: not valid YAML: {}", e.message);
            }
            if block.starts_with("# needs your data") || !block.contains("problems:") {
                continue;
            }
            let mut doc = block.clone();
            if !block.contains("\ntrain:") && !block.starts_with("train:") {
                doc.push_str("train: {steps: 1}\n");
            }
            if !block.contains("optimizers:") {
                doc.push_str("optimizers: [sgd]\n");
            }
            // Data paths resolve against the repository, where the docs' example files live.
            let named = root().join("docs").join("example.yaml");
            if let Err(e) = load_str(&doc, &named, &[]) {
                panic!("{at}: this experiment does not validate: {e}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 3, "only {checked} experiments found in the docs");
}
