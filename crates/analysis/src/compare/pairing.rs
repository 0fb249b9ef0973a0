//! Pairing the runs of the two sides by `(cell_id, seed)`: the same resolved run with the same
//! data and initialisation, so every comparison is paired.

use std::collections::HashMap;

use super::read::{Side, list_missing};

/// The paired runs, by cell in the baseline's order: `(baseline row, candidate row)`.
pub(crate) struct Pairs<'a> {
    /// Cells in the order of their first baseline run.
    pub(crate) cell_order: Vec<&'a str>,
    /// The pairs of each cell.
    pub(crate) cell_pairs: HashMap<&'a str, Vec<(usize, usize)>>,
}

/// Pairs the runs of `b` and `c`, or says why the folders are not comparable: duplicated runs,
/// runs on one side only.
pub(crate) fn pair_runs<'a>(b: &'a Side, c: &'a Side) -> Result<Pairs<'a>, Vec<String>> {
    let mut reasons = Vec::new();
    let mut c_index: HashMap<(&str, u64), usize> = HashMap::with_capacity(c.seed.len());
    let mut dup = Vec::new();
    for i in 0..c.seed.len() {
        if c_index.insert(c.key(i), i).is_some() {
            dup.push(c.describe(i));
        }
    }
    if !dup.is_empty() {
        reasons.push(list_missing("duplicated runs in the candidate", &dup));
    }
    let mut b_seen: HashMap<(&str, u64), usize> = HashMap::with_capacity(b.seed.len());
    let mut dup = Vec::new();
    let mut missing = Vec::new();
    let mut cell_order: Vec<&str> = Vec::new();
    let mut cell_pairs: HashMap<&str, Vec<(usize, usize)>> = HashMap::new();
    for i in 0..b.seed.len() {
        if b_seen.insert(b.key(i), i).is_some() {
            dup.push(b.describe(i));
            continue;
        }
        match c_index.get(&b.key(i)) {
            None => missing.push(b.describe(i)),
            Some(&j) => {
                let cell = b.cell_id[i].as_str();
                cell_pairs
                    .entry(cell)
                    .or_insert_with(|| {
                        cell_order.push(cell);
                        Vec::new()
                    })
                    .push((i, j));
            }
        }
    }
    if !dup.is_empty() {
        reasons.push(list_missing("duplicated runs in the baseline", &dup));
    }
    if !missing.is_empty() {
        reasons.push(list_missing(
            "baseline runs have no candidate run with the same cell and seed",
            &missing,
        ));
    }
    let extra: Vec<String> = (0..c.seed.len())
        .filter(|&j| !b_seen.contains_key(&c.key(j)))
        .map(|j| c.describe(j))
        .collect();
    if !extra.is_empty() {
        reasons.push(list_missing(
            "candidate runs are not in the baseline",
            &extra,
        ));
    }
    if reasons.is_empty() {
        return Ok(Pairs {
            cell_order,
            cell_pairs,
        });
    }
    if !missing.is_empty() || !extra.is_empty() {
        reasons.push(
            "the two folders were not run from the same plan (experiment file, --set \
             overrides or seeds differ), or a sweep is incomplete"
                .into(),
        );
    }
    Err(reasons)
}
