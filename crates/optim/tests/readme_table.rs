//! The README's optimizer table says what the registry says: every optimizer in the list's
//! order, its torch class, and every hyperparameter with its default, in schema order. The
//! defaults are written once, in each optimizer's `optimizer_config!`; this test keeps the
//! README's copy honest (torch's own defaults are pinned by `torch_reference.rs`).

use optbench_optim::config::OPTIMIZERS;
use optbench_optim::hparam::HparamDefault;

const README: &str = include_str!("../../../README.md");
const HEADER: &str = "| YAML name | torch | hyperparameters (defaults) | paper |";

/// The table's rows, as cells without the outer pipes.
fn rows() -> Vec<Vec<String>> {
    let start = README
        .find(HEADER)
        .expect("README has the optimizer table header");
    README[start..]
        .lines()
        .skip(2) // header and separator
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

/// Splits `a=1, b=[0.9, 0.99], c=false` at the commas outside brackets.
fn items(cell: &str) -> Vec<(String, String)> {
    let (mut out, mut depth, mut current) = (Vec::new(), 0, String::new());
    for ch in cell.chars() {
        match ch {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ => {}
        }
        if ch == ',' && depth == 0 {
            out.push(current.trim().to_string());
            current.clear();
        } else {
            current.push(ch);
        }
    }
    out.push(current.trim().to_string());
    out.iter()
        .map(|item| {
            let (k, v) = item
                .split_once('=')
                .unwrap_or_else(|| panic!("`{item}` is not key=value"));
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn number(text: &str) -> f64 {
    text.parse()
        .unwrap_or_else(|_| panic!("`{text}` is not a number"))
}

/// Whether the README's text of a default is the schema's value.
fn same(default: HparamDefault, text: &str) -> bool {
    match default {
        HparamDefault::Float(x) => number(text).to_bits() == x.to_bits(),
        HparamDefault::Bool(b) => text == if b { "true" } else { "false" },
        HparamDefault::Betas([b1, b2]) => {
            let inner = text.trim_start_matches('[').trim_end_matches(']');
            let parts: Vec<f64> = inner.split(',').map(|x| number(x.trim())).collect();
            parts.len() == 2
                && parts[0].to_bits() == b1.to_bits()
                && parts[1].to_bits() == b2.to_bits()
        }
        other => panic!("optimizer hyperparameters have no {other:?} defaults"),
    }
}

#[test]
fn readme_optimizer_table_matches_the_registry() {
    let rows = rows();
    let names: Vec<&str> = rows.iter().map(|r| r[0].trim_matches('`')).collect();
    let registry: Vec<&str> = OPTIMIZERS.iter().map(|o| o.name).collect();
    assert_eq!(names, registry, "README rows vs the optimizers! list");
    for (row, info) in rows.iter().zip(OPTIMIZERS) {
        assert_eq!(row.len(), 4, "{row:?}");
        let torch = if info.torch.is_empty() {
            "—".to_string()
        } else {
            format!("`{}`", info.torch)
        };
        assert_eq!(row[1], torch, "{}: torch class", info.name);
        let given = items(&row[2]);
        let keys: Vec<&str> = given.iter().map(|(k, _)| k.as_str()).collect();
        let schema: Vec<&str> = info.hparams.iter().map(|h| h.name).collect();
        assert_eq!(
            keys, schema,
            "{}: hyperparameters in schema order",
            info.name
        );
        for ((key, text), h) in given.iter().zip(info.hparams) {
            assert!(
                same(h.default, text),
                "{}: README says {key}={text}, the registry says {:?}",
                info.name,
                h.default
            );
        }
    }
}

#[test]
fn the_parser_reads_what_the_table_writes() {
    let got = items("lr=1e-3, betas=[0.9, 0.999], nesterov=false");
    assert_eq!(got.len(), 3);
    assert!(same(HparamDefault::Float(0.001), &got[0].1));
    assert!(same(HparamDefault::Betas([0.9, 0.999]), &got[1].1));
    assert!(!same(HparamDefault::Betas([0.9, 0.99]), &got[1].1));
    assert!(same(HparamDefault::Bool(false), &got[2].1));
    assert!(!same(HparamDefault::Float(0.01), "1e-3"));
}
