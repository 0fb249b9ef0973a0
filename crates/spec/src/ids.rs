//! Run ids, cell ids and data seeds: blake3 of a canonical text that this module writes itself.
//!
//! The ids key resume, shard merges and the pairing of baseline and candidate in `compare`, so
//! the text that is hashed must never change with a dependency update. It is produced here, by
//! the project's own code, in this encoding (a subset of JSON; the same bytes `serde_json`
//! 1.0.154 wrote when optbench used it for ids, so no id changed when this module replaced it;
//! serde_json has changed its float layout before, e.g. the `+` of positive exponents when it
//! moved from Ryū to zmij):
//!
//! - **Mappings**: `{` key `:` value, `,`-separated, `}`, keys sorted by their UTF-8 bytes, no
//!   spaces.
//! - **Lists**: `[` values `,`-separated `]`.
//! - **Strings**: `"` … `"`; `"` and `\` are escaped as `\"` and `\\`; the control characters
//!   U+0008, U+0009, U+000A, U+000C and U+000D as `\b`, `\t`, `\n`, `\f` and `\r`; every other
//!   character below U+0020 as `\u00XX` with lowercase hex digits; everything else as its UTF-8
//!   bytes.
//! - **Integers** (values that were written as integers, and canonical integer keys such as
//!   `dim`): decimal, with `-` for negative values.
//! - **Floats**: the shortest decimal that reads back as the same `f64` (unique digits, the
//!   closest to the exact value), laid out as follows: with `d` the digits, `n`
//!   their count and `e` the exponent such that the value is `0.d × 10^e`:
//!   - `0 ≤ e − n` and `e ≤ 16`: the digits, `e − n` zeros, then `.0` (`100.0`, `1.0`,
//!     `1000000000000000.0`);
//!   - `0 < e ≤ 16`: the digits with a point after the `e`-th (`12.34`);
//!   - `−5 < e ≤ 0`: `0.`, `−e` zeros, the digits (`0.001`, `0.00001`);
//!   - otherwise exponent notation: `d₁` (and `.` and the rest of the digits if `n > 1`), `e`,
//!     then the exponent `e − 1` with its sign and no leading zeros (`1e-6`, `1.5e+20`);
//!   - zero is `0.0` (`-0.0` negative), a negative value is `-` then its magnitude; non-finite
//!     values never occur (the experiment file rejects them) and are written `null`.
//! - **Booleans and null**: `true`, `false`, `null`.
//!
//! The digits are defined by the value alone (the shortest that round-trip, closest, ties to
//! even: what Steele & White, Ryū and zmij produce); [`shortest_digits`] gets them from Rust's
//! own float formatting, which is exact.
//! `tests::floats_match_the_pinned_texts` pins the layout, and the golden tests in
//! `tests/golden_ids.rs` pin the ids of every run of the shipped experiments: a change to any of
//! this fails the test suite.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// Writes `v` in the canonical encoding of the module docs.
pub fn write_canonical(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                let _ = write!(out, "{u}");
            } else if let Some(i) = n.as_i64() {
                let _ = write!(out, "{i}");
            } else {
                write_float(out, n.as_f64().unwrap_or(f64::NAN));
            }
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(out, item);
            }
            out.push(']');
        }
        Value::Object(m) => write_map(out, m),
    }
}

/// A mapping with its keys sorted by their bytes (whatever order `m` iterates in).
pub fn write_map(out: &mut String, m: &Map<String, Value>) {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    out.push('{');
    for (i, k) in keys.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, k);
        out.push(':');
        write_canonical(out, &m[k]);
    }
    out.push('}');
}

/// `v` in the canonical encoding.
pub fn canonical(v: &Value) -> String {
    let mut s = String::new();
    write_canonical(&mut s, v);
    s
}

/// A string, quoted and escaped.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A float in the layout of the module docs.
pub fn write_float(out: &mut String, x: f64) {
    if !x.is_finite() {
        out.push_str("null");
        return;
    }
    if x.is_sign_negative() {
        out.push('-');
    }
    let x = x.abs();
    if x == 0.0 {
        out.push_str("0.0");
        return;
    }
    let (digits, exp) = shortest_digits(x);
    let n = i64::try_from(digits.len()).unwrap_or(i64::MAX);
    let kk = exp + 1;
    let k = kk - n;
    if (0..).contains(&k) && kk <= 16 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', usize::try_from(k).unwrap_or(0)));
        out.push_str(".0");
    } else if 0 < kk && kk <= 16 {
        let split = usize::try_from(kk).unwrap_or(0);
        out.push_str(&digits[..split]);
        out.push('.');
        out.push_str(&digits[split..]);
    } else if -5 < kk && kk <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', usize::try_from(-kk).unwrap_or(0)));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if n > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(out, "e{:+}", kk - 1);
    }
}

/// The shortest decimal digits of `x > 0` that read back as `x`, and the exponent of the first
/// digit (`x ≈ d₁.d₂… × 10^exp`); among the shortest, the one closest to `x`, ties to even.
///
/// `{:e}` gives the shortest length `n`; `{:.(n−1)e}` rounds the exact value of `x` to `n`
/// digits, ties to even. When that reads back as `x` it is the closest `n`-digit decimal and the
/// answer; otherwise (at powers of two, whose rounding interval is lopsided) `{:e}`'s own digits
/// are.
fn shortest_digits(x: f64) -> (String, i64) {
    let split = |sci: &str| -> (String, i64) {
        let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
        let digits = mantissa.chars().filter(char::is_ascii_digit).collect();
        (digits, exp.parse().unwrap_or(0))
    };
    let shortest = split(&format!("{x:e}"));
    let n = shortest.0.len();
    let rounded = format!("{x:.prec$e}", prec = n.saturating_sub(1));
    match rounded.parse::<f64>() {
        Ok(y) if y.to_bits() == x.to_bits() => split(&rounded),
        _ => shortest,
    }
}

/// The first 16 hex digits of blake3 of `text`: a run or cell id.
pub fn hash_hex(text: &str) -> String {
    let h = blake3::hash(text.as_bytes());
    let mut s = String::with_capacity(16);
    for b in &h.as_bytes()[..8] {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The first 8 bytes (little endian) of blake3 of `text`: a data seed.
pub fn hash_u64(text: &str) -> u64 {
    let h = blake3::hash(text.as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&h.as_bytes()[..8]);
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn float(x: f64) -> String {
        let mut s = String::new();
        write_float(&mut s, x);
        s
    }

    /// The layout, pinned: these are the texts ids were computed from since the first release
    /// (what serde_json 1.0 wrote), independent of any library now.
    #[test]
    #[allow(clippy::excessive_precision)] // the tie cases are exact binary values on purpose
    fn floats_match_the_pinned_texts() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (100.0, "100.0"),
            (0.1, "0.1"),
            (0.001, "0.001"),
            (1e-4, "0.0001"),
            (1e-5, "0.00001"),
            (1.5e-5, "0.000015"),
            (1e-6, "1e-6"),
            (2.5e-7, "2.5e-7"),
            (1e-8, "1e-8"),
            (0.999, "0.999"),
            (1e15, "1000000000000000.0"),
            (9.99e15, "9990000000000000.0"),
            (1e16, "1e+16"),
            (1.2345e16, "1.2345e+16"),
            (1.5e20, "1.5e+20"),
            (123456.789, "123456.789"),
            (1.0 / 3.0, "0.3333333333333333"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (0.30000000000000004, "0.30000000000000004"),
            // Exactly halfway between two shortest candidates: ties go to the even digit.
            (830_394_095_360_444.25, "830394095360444.2"),
            (81_057_001_285_330.625, "81057001285330.62"),
        ];
        for &(x, want) in cases {
            assert_eq!(float(x), want, "{x:e}");
        }
        assert_eq!(float(f64::NAN), "null");
    }

    #[test]
    fn mappings_sort_keys_and_strings_escape() {
        let v = json!({"b": 1, "a": {"d": [1, -2, 0.5], "c": null}, "é": "x\"\\\n\u{1}"});
        assert_eq!(
            canonical(&v),
            "{\"a\":{\"c\":null,\"d\":[1,-2,0.5]},\"b\":1,\"é\":\"x\\\"\\\\\\n\\u0001\"}"
        );
    }

    #[test]
    fn hashes_are_blake3_prefixes() {
        // blake3("") = af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262
        assert_eq!(hash_hex(""), "af1349b9f5f9a1a6");
        assert_eq!(
            hash_u64(""),
            u64::from_le_bytes([0xaf, 0x13, 0x49, 0xb9, 0xf5, 0xf9, 0xa1, 0xa6])
        );
    }
}
