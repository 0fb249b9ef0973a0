//! Axes: a key's value expanded into its variants (lists, `logspace`, `linspace`, mappings).

use serde_json::{Map, Value, json};

use super::{LIST_VALUED_KEYS, MAX_RUNS};
use crate::keys::suggest;

/// Expands one key's value into its variants (see the module docs).
pub fn expand_value(v: &Value, list_valued: bool) -> Result<Vec<Value>, String> {
    match v {
        Value::Object(m) if m.contains_key("logspace") || m.contains_key("linspace") => space(m),
        Value::Object(m) => {
            let mut out = vec![Map::new()];
            for (k, child) in m {
                let vals = expand_value(child, LIST_VALUED_KEYS.contains(&k.as_str()))
                    .map_err(|e| format!("`{k}`: {e}"))?;
                if out.len().saturating_mul(vals.len()) > MAX_RUNS {
                    return Err(format!("more than {MAX_RUNS} variants"));
                }
                out = out
                    .into_iter()
                    .flat_map(|m| {
                        vals.iter().map(move |x| {
                            let mut m = m.clone();
                            m.insert(k.clone(), x.clone());
                            m
                        })
                    })
                    .collect();
            }
            Ok(out.into_iter().map(Value::Object).collect())
        }
        Value::Array(items) if list_valued => {
            let lists = items.iter().filter(|x| x.is_array()).count();
            if lists == 0 {
                Ok(vec![v.clone()])
            } else if lists == items.len() {
                Ok(items.clone())
            } else {
                Err("mixes lists and single values; write a list of lists for several variants (e.g. `[[32], [64, 64]]`) or one list for one value (e.g. `[64, 64]`)".into())
            }
        }
        Value::Array(items) => {
            if items.is_empty() {
                return Err("is an empty list; an axis needs at least one value".into());
            }
            let mut out = Vec::new();
            for item in items {
                match item {
                    Value::Object(_) => out.extend(expand_value(item, false)?),
                    _ => out.push(item.clone()),
                }
            }
            Ok(out)
        }
        _ => Ok(vec![v.clone()]),
    }
}

/// Rounds to 12 significant digits (exact ends are set by the caller).
fn round12(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{x:.11e}").parse().unwrap_or(x)
}

fn number(x: f64, integral: bool) -> Value {
    if integral && x.fract() == 0.0 && x.abs() < 9.0e15 {
        #[allow(clippy::cast_possible_truncation)]
        return json!(x as i64);
    }
    json!(x)
}

fn space(m: &Map<String, Value>) -> Result<Vec<Value>, String> {
    let kind = if m.contains_key("logspace") {
        "logspace"
    } else {
        "linspace"
    };
    let example = format!("`{{{kind}: [1.0e-4, 1.0e-1], num: 4}}`");
    for k in m.keys() {
        if k != kind && k != "num" {
            return Err(format!(
                "`{kind}` takes only `{kind}: [start, end]` and `num`, found `{k}`{}; e.g. {example}",
                suggest(k, ["num", kind])
            ));
        }
    }
    let ends = m[kind]
        .as_array()
        .filter(|a| a.len() == 2 && a.iter().all(Value::is_number))
        .ok_or_else(|| format!("`{kind}` must be two numbers [start, end], e.g. {example}"))?;
    let (a, b) = (
        ends[0].as_f64().unwrap_or(f64::NAN),
        ends[1].as_f64().unwrap_or(f64::NAN),
    );
    let num = match m.get("num") {
        Some(Value::Number(n)) => n.as_u64().filter(|&n| (1..=100_000).contains(&n)),
        None => None,
        Some(_) => None,
    }
    .ok_or_else(|| {
        format!("`{kind}` needs `num`, the number of values (an integer ≥ 1), e.g. {example}")
    })?;
    if num == 1 {
        #[allow(clippy::float_cmp)]
        if a != b {
            return Err(format!(
                "`num: 1` gives one value, but start {a} and end {b} differ; use num ≥ 2 or a single value"
            ));
        }
    }
    let integral = kind == "linspace" && ends.iter().all(|e| e.is_i64() || e.is_u64());
    if kind == "logspace" && (a <= 0.0 || b <= 0.0) {
        return Err(format!(
            "`logspace` ends are the values themselves (not exponents) and must be > 0, found [{a}, {b}]; e.g. {example}"
        ));
    }
    let n = num as usize;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let x = if i == 0 {
            a
        } else if i + 1 == n {
            b
        } else {
            #[allow(clippy::cast_precision_loss)]
            let t = i as f64 / (n - 1) as f64;
            if kind == "logspace" {
                // `pow` and `log10` from the libm crate: the values become learning rates and
                // ids, which must not depend on the platform's libm.
                let (la, lb) = (libm::log10(a), libm::log10(b));
                round12(libm::pow(10.0, la + t * (lb - la)))
            } else {
                round12(a + t * (b - a))
            }
        };
        out.push(number(x, integral));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Variants
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expand::fmt_number;
    use serde_json::json;

    #[test]
    fn logspace_and_linspace_include_both_ends_exactly() {
        let v = expand_value(&json!({"logspace": [1.0e-4, 1.0e-1], "num": 4}), false).unwrap();
        let xs: Vec<f64> = v.iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!(xs.len(), 4);
        assert_eq!(xs[0].to_bits(), 1.0e-4_f64.to_bits());
        assert_eq!(xs[3].to_bits(), 1.0e-1_f64.to_bits());
        assert!((xs[1] - 1e-3).abs() < 1e-15 && (xs[2] - 1e-2).abs() < 1e-15);
        assert_eq!(fmt_number(xs[2]), "0.01");
        let v = expand_value(&json!({"linspace": [0.0, 0.9], "num": 4}), false).unwrap();
        let xs: Vec<f64> = v.iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!(xs[3].to_bits(), 0.9_f64.to_bits());
        assert_eq!(fmt_number(xs[1]), "0.3");
        // Integer ends give integers.
        let v = expand_value(&json!({"linspace": [0, 100], "num": 3}), false).unwrap();
        assert_eq!(v, vec![json!(0), json!(50), json!(100)]);
    }

    #[test]
    fn bad_spaces_are_errors() {
        for bad in [
            json!({"logspace": [0.0, 1.0], "num": 3}),
            json!({"logspace": [1.0e-3], "num": 3}),
            json!({"logspace": [1.0e-3, 1.0]}),
            json!({"logspace": [1.0e-3, 1.0], "num": 0}),
            json!({"logspace": [1.0e-3, 1.0], "nm": 3}),
            json!({"linspace": [1, 2], "num": 1}),
        ] {
            assert!(expand_value(&bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn lists_are_axes_except_for_list_valued_keys() {
        assert_eq!(expand_value(&json!([1, 2, 3]), false).unwrap().len(), 3);
        assert_eq!(
            expand_value(&json!([32, 64]), true).unwrap(),
            vec![json!([32, 64])]
        );
        assert_eq!(
            expand_value(&json!([[32], [64, 64]]), true).unwrap().len(),
            2
        );
        assert!(expand_value(&json!([[32], 64]), true).is_err());
        assert!(expand_value(&json!([]), false).is_err());
        assert_eq!(expand_value(&json!([]), true).unwrap(), vec![json!([])]);
        // Mappings expand inside; lists of mappings are axes of them.
        let d = expand_value(&json!({"name": "iris", "test_fraction": [0.2, 0.5]}), false).unwrap();
        assert_eq!(d.len(), 2);
        let s = expand_value(
            &json!([{"name": "constant"}, {"name": "cosine", "warmup_steps": [0, 10]}]),
            false,
        )
        .unwrap();
        assert_eq!(s.len(), 3);
    }
}
