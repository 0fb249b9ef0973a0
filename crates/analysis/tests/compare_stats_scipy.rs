//! `stats` against reference values computed once with SciPy 1.17
//! (`scripts/scipy_reference.py` → `tests/data/stats_reference.json`).

use optbench_analysis::stats::{
    Alternative, WilcoxonMethod, benjamini_hochberg, median, wilcoxon_signed_rank,
};
use serde_json::Value;

const TOL: f64 = 1e-12;

fn reference() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/stats_reference.json"
    ))
    .expect("reference file");
    serde_json::from_str(&text).expect("reference JSON")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

/// Absolute tolerance 1e-12, and relative 1e-9 for p-values far below 1e-3 (tail areas where an
/// absolute bound says nothing).
fn assert_p(name: &str, got: f64, want: f64) {
    let ok = (got - want).abs() <= TOL
        && (want >= 1e-3 || (got - want).abs() <= 1e-9 * want.abs().max(f64::MIN_POSITIVE));
    assert!(ok, "{name}: got {got:e}, SciPy {want:e}");
}

#[test]
fn wilcoxon_matches_scipy() {
    let r = reference();
    let cases = r["wilcoxon"].as_array().unwrap();
    assert!(cases.len() >= 50);
    for c in cases {
        let name = format!(
            "{} ({}, {}, correction={})",
            c["name"].as_str().unwrap(),
            c["alternative"],
            c["method"],
            c["correction"]
        );
        let d = floats(&c["d"]);
        let alt = match c["alternative"].as_str().unwrap() {
            "greater" => Alternative::Greater,
            "less" => Alternative::Less,
            other => panic!("{other}"),
        };
        let correction = c["correction"].as_bool().unwrap();
        let method = match c["method"].as_str().unwrap() {
            "exact" => WilcoxonMethod::Exact,
            "asymptotic" => WilcoxonMethod::Asymptotic { correction },
            "auto" => WilcoxonMethod::Auto { correction },
            other => panic!("{other}"),
        };
        let w = wilcoxon_signed_rank(&d, alt, method).unwrap();
        let stat = c["statistic"].as_f64().unwrap();
        assert!(
            (w.statistic - stat).abs() <= TOL,
            "{name}: statistic {} vs {stat}",
            w.statistic
        );
        assert_p(&name, w.p_value, c["pvalue"].as_f64().unwrap());
    }
}

#[test]
fn benjamini_hochberg_matches_scipy() {
    let r = reference();
    for (i, c) in r["benjamini_hochberg"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let got = benjamini_hochberg(&floats(&c["p"])).unwrap();
        let want = floats(&c["adjusted"]);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() <= TOL, "case {i}: {got:?} vs {want:?}");
        }
    }
}

#[test]
fn median_matches_numpy() {
    let r = reference();
    for c in r["median"].as_array().unwrap() {
        let got = median(&floats(&c["x"])).unwrap();
        let want = c["median"].as_f64().unwrap();
        assert!((got - want).abs() <= TOL, "{got} vs {want}");
    }
}
