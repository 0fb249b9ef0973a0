//! Splitting a plan across machines: `--shard I/N`.
//!
//! A [`Shard`] `I/N` (0-based, `I < N`) owns the runs whose bucket is `I`, where a run of cell
//! `c` with seed `s` is in bucket
//!
//! ```text
//! bucket(c, s, N) = (h(c) mod N + s mod N) mod N,   h(c) = first 8 bytes (little-endian) of blake3(cell_id)
//! ```
//!
//! Why this and not a hash of the run id alone:
//! - **Balanced by construction.** Within a cell, consecutive seeds go to consecutive shards, so
//!   with `k` seeds every shard gets `⌊k/N⌋` or `⌈k/N⌉` runs of every cell. Runs of one cell cost
//!   about the same (same problem, optimizer, budget), so the shards' work differs by at most one
//!   run per cell, whatever the cells cost; `h(c)` spreads the cells' "extra" runs (when `N` does
//!   not divide `k`) over the shards. A hash of `run_id` alone (the jump consistent hash used
//!   before) is only balanced on average: 160 runs over 2 shards split 77/83, 16 runs 6/10, and
//!   over 4 shards 3/6/2/5 (this scheme: 80/80, 8/8, 4/4/4/4); and since the runs of different
//!   cells cost different amounts, cost was unbalanced beyond the counts. The slowest shard sets
//!   the sweep's wall time.
//! - **Stable when the plan grows.** The bucket depends on the run's own cell id and seed only:
//!   adding seeds, optimizers, problems or grid values never moves an existing run to another
//!   shard (a shard that resumes after the experiment grew keeps its finished runs).
//! - **Changing `N` reshuffles.** Going from `N` to `N + 1` shards moves most runs (the jump hash
//!   moved only `1/(N + 1)` of them). Nothing depends on that: the part files are named by run
//!   id, not by shard, so a re-split sweep still resumes every finished run; only the
//!   `*.shard-I-of-N.*` files are per split, and `optbench merge` refuses a folder with shard
//!   manifests of two different `N` (remove the old split's shard files first).
//! - **Seed values, not positions.** `s` is the seed's value (`seeds: 40` gives 0..=39). Seeds
//!   listed by hand that are all congruent modulo `N` (say `[0, 10, 20]` with `N = 10`) put a
//!   whole cell on one shard; the cells are then spread by `h(c)` only, which is still balanced
//!   on average but no longer exactly.
//!
//! Defaults from the environment ([`Shard::from_env`]):
//! - Slurm job arrays: `SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_COUNT`, and `SLURM_ARRAY_TASK_MIN`
//!   / `SLURM_ARRAY_TASK_STEP` when present, so `--array=1-8` or `--array=0-14:2` work too
//!   (index = (ID − MIN) / STEP);
//! - Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX`, with the count given on the command line
//!   (Kubernetes does not export `completions`).
//!
//! Each shard writes its own files, tagged with [`Shard::tag`] (`shard-I-of-N`), so shards running
//! side by side in one results folder never write the same file.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::plan::RunSpec;

/// Why a shard specification or the environment does not name a valid shard.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ShardError {
    /// The text is not of the form `I/N`.
    #[error("shard `{0}` is not of the form I/N (for example 0/4: the first of four shards)")]
    Syntax(String),
    /// `I` or `N` is not a non-negative integer.
    #[error("shard `{text}`: `{part}` is not a non-negative integer")]
    NotANumber { text: String, part: String },
    /// `N` is zero.
    #[error("shard `{0}`: the shard count N must be at least 1")]
    ZeroCount(String),
    /// `I >= N`.
    #[error("shard index {index} is out of range for {count} shards (indices are 0-based: 0..={max})", max = count - 1)]
    IndexOutOfRange { index: u64, count: u64 },
    /// An environment variable holds something that is not a non-negative integer.
    #[error("environment variable {var}=`{value}` is not a non-negative integer")]
    BadEnv { var: &'static str, value: String },
    /// `JOB_COMPLETION_INDEX` is set but no shard count was given.
    #[error(
        "JOB_COMPLETION_INDEX={index} is set but the shard count is unknown: pass --shard {index}/N \
         with N the Job's completions"
    )]
    MissingCount { index: u64 },
    /// The count given on the command line differs from the Slurm array's size.
    #[error("shard count {given} differs from SLURM_ARRAY_TASK_COUNT={slurm}")]
    CountMismatch { given: u64, slurm: u64 },
    /// A Slurm array task id below `SLURM_ARRAY_TASK_MIN`, or not on the array's step.
    #[error(
        "SLURM_ARRAY_TASK_ID={id} is not on the array (min {min}, step {step}); use --array=0-<N-1>"
    )]
    BadSlurmArray { id: u64, min: u64, step: u64 },
}

/// One of `count` disjoint parts of a plan: index `index` (0-based) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    /// 0-based shard index, `index < count`.
    pub index: u64,
    /// Number of shards, at least 1.
    pub count: u64,
}

impl Shard {
    /// A shard, checking `count >= 1` and `index < count`.
    pub fn new(index: u64, count: u64) -> Result<Self, ShardError> {
        if count == 0 {
            return Err(ShardError::ZeroCount(format!("{index}/{count}")));
        }
        if index >= count {
            return Err(ShardError::IndexOutOfRange { index, count });
        }
        Ok(Self { index, count })
    }

    /// Parses `I/N` (spaces around the numbers are allowed), e.g. `0/4` .. `3/4`.
    pub fn parse(text: &str) -> Result<Self, ShardError> {
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| ShardError::Syntax(text.to_owned()))?;
        let number = |part: &str| -> Result<u64, ShardError> {
            let part = part.trim();
            if part.is_empty() {
                return Err(ShardError::Syntax(text.to_owned()));
            }
            part.parse::<u64>().map_err(|_| ShardError::NotANumber {
                text: text.to_owned(),
                part: part.to_owned(),
            })
        };
        let (index, count) = (number(i)?, number(n)?);
        if count == 0 {
            return Err(ShardError::ZeroCount(text.to_owned()));
        }
        Self::new(index, count)
    }

    /// The shard from the scheduler's environment, or `None` when no scheduler variable is set.
    ///
    /// `count` is the shard count from the command line, if any: required with Kubernetes'
    /// `JOB_COMPLETION_INDEX`; with Slurm it must equal `SLURM_ARRAY_TASK_COUNT` when given.
    /// Slurm's variables take precedence over Kubernetes' when both are set.
    pub fn from_env(count: Option<u64>) -> Result<Option<Self>, ShardError> {
        Self::from_vars(|name| std::env::var(name).ok(), count)
    }

    /// [`Shard::from_env`] over any variable lookup (for tests and embedding).
    pub fn from_vars(
        lookup: impl Fn(&str) -> Option<String>,
        count: Option<u64>,
    ) -> Result<Option<Self>, ShardError> {
        let var = |name: &'static str| -> Result<Option<u64>, ShardError> {
            match lookup(name) {
                None => Ok(None),
                Some(v) if v.trim().is_empty() => Ok(None),
                Some(v) => v
                    .trim()
                    .parse::<u64>()
                    .map(Some)
                    .map_err(|_| ShardError::BadEnv {
                        var: name,
                        value: v,
                    }),
            }
        };
        if let Some(id) = var("SLURM_ARRAY_TASK_ID")? {
            let min = var("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let step = var("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
            if id < min || (id - min) % step != 0 {
                return Err(ShardError::BadSlurmArray { id, min, step });
            }
            let index = (id - min) / step;
            let n = match (var("SLURM_ARRAY_TASK_COUNT")?, count) {
                (Some(slurm), Some(given)) if slurm != given => {
                    return Err(ShardError::CountMismatch { given, slurm });
                }
                (Some(slurm), _) => slurm,
                (None, Some(given)) => given,
                (None, None) => return Err(ShardError::MissingCount { index }),
            };
            return Self::new(index, n).map(Some);
        }
        if let Some(index) = var("JOB_COMPLETION_INDEX")? {
            let n = count.ok_or(ShardError::MissingCount { index })?;
            return Self::new(index, n).map(Some);
        }
        Ok(None)
    }

    /// The shard (bucket in `0..count`) that the run of cell `cell_id` with seed `seed` belongs
    /// to when the plan is split `count` ways: `(h(cell_id) mod count + seed mod count) mod
    /// count` with `h` the first 8 bytes (little-endian) of `blake3(cell_id)` (see the module
    /// documentation); `count` 0 is treated as 1.
    pub fn bucket_of(cell_id: &str, seed: u64, count: u64) -> u64 {
        let n = count.max(1);
        (cell_hash(cell_id) % n + seed % n) % n
    }

    /// Whether this shard runs `spec` (by its cell id and seed).
    pub fn contains(&self, spec: &RunSpec) -> bool {
        self.contains_run(&spec.cell_id, spec.seed)
    }

    /// Whether this shard runs the run of cell `cell_id` with seed `seed`.
    pub fn contains_run(&self, cell_id: &str, seed: u64) -> bool {
        Self::bucket_of(cell_id, seed, self.count) == self.index
    }

    /// The tag shard files carry, `shard-I-of-N` (e.g. `runs.shard-0-of-4.parquet`).
    pub fn tag(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }

    /// Parses a tag written by [`Shard::tag`] (`shard-I-of-N`); `None` if it is not one.
    pub fn parse_tag(tag: &str) -> Option<Self> {
        let rest = tag.strip_prefix("shard-")?;
        let (i, n) = rest.split_once("-of-")?;
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(i) || !all_digits(n) {
            return None;
        }
        Self::new(i.parse().ok()?, n.parse().ok()?).ok()
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ShardError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// `h(cell_id)`: the first 8 bytes of `blake3(cell_id)` as a little-endian integer.
fn cell_hash(cell_id: &str) -> u64 {
    let digest = blake3::hash(cell_id.as_bytes());
    let mut key_bytes = [0u8; 8];
    key_bytes.copy_from_slice(&digest.as_bytes()[..8]);
    u64::from_le_bytes(key_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn ids(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| blake3::hash(format!("cell {i}").as_bytes()).to_hex()[..16].to_string())
            .collect()
    }

    #[test]
    fn parse_valid() {
        assert_eq!(Shard::parse("0/4").unwrap(), Shard { index: 0, count: 4 });
        assert_eq!(
            Shard::parse(" 3 / 4 ").unwrap(),
            Shard { index: 3, count: 4 }
        );
        assert_eq!(Shard::parse("0/1").unwrap(), Shard { index: 0, count: 1 });
        assert_eq!("2/3".parse::<Shard>().unwrap().to_string(), "2/3");
    }

    #[test]
    fn parse_errors_are_typed() {
        assert!(matches!(Shard::parse("3"), Err(ShardError::Syntax(_))));
        assert!(matches!(Shard::parse("/4"), Err(ShardError::Syntax(_))));
        assert!(matches!(Shard::parse("1/"), Err(ShardError::Syntax(_))));
        assert!(matches!(
            Shard::parse("a/4"),
            Err(ShardError::NotANumber { .. })
        ));
        assert!(matches!(
            Shard::parse("-1/4"),
            Err(ShardError::NotANumber { .. })
        ));
        assert!(matches!(
            Shard::parse("1/2/3"),
            Err(ShardError::NotANumber { .. })
        ));
        assert!(matches!(Shard::parse("0/0"), Err(ShardError::ZeroCount(_))));
        assert_eq!(
            Shard::parse("4/4"),
            Err(ShardError::IndexOutOfRange { index: 4, count: 4 })
        );
        let msg = Shard::parse("4/4").unwrap_err().to_string();
        assert!(msg.contains("0..=3"), "{msg}");
    }

    #[test]
    fn every_run_in_exactly_one_shard() {
        let cells = ids(300);
        for n in [1u64, 2, 3, 7, 16] {
            for c in &cells {
                for seed in [0u64, 1, 2, 5, 41, u64::MAX] {
                    let owners = (0..n)
                        .filter(|&i| Shard::new(i, n).unwrap().contains_run(c, seed))
                        .count();
                    assert_eq!(owners, 1, "{c} seed {seed} in {owners} of {n} shards");
                }
            }
        }
    }

    #[test]
    fn consecutive_seeds_of_a_cell_go_round_robin() {
        for c in ids(50) {
            for n in [2u64, 3, 4, 7] {
                let first = Shard::bucket_of(&c, 0, n);
                for seed in 0..3 * n {
                    assert_eq!(Shard::bucket_of(&c, seed, n), (first + seed) % n);
                }
            }
        }
    }

    #[test]
    fn every_cell_split_evenly() {
        // k seeds of one cell over n shards: each shard gets floor(k/n) or ceil(k/n) runs.
        for c in ids(200) {
            for (k, n) in [(40u64, 2u64), (4, 4), (5, 4), (3, 8), (100, 7), (1, 3)] {
                let mut counts = vec![0u64; n as usize];
                for seed in 0..k {
                    counts[Shard::bucket_of(&c, seed, n) as usize] += 1;
                }
                let (lo, hi) = (k / n, k.div_ceil(n));
                assert!(
                    counts.iter().all(|&x| x == lo || x == hi),
                    "{k} seeds over {n}: {counts:?}"
                );
            }
        }
    }

    #[test]
    fn whole_plan_balanced() {
        // 160 runs (4 cells x 40 seeds) over 2 shards: exactly 80/80 (the jump hash of the run
        // ids gave 77/83 on the MLP benchmark plan). 4 cells x 4 seeds over 4 shards: 4 each.
        let cells = ids(4);
        for (seeds, n, want) in [(40u64, 2u64, 80u64), (4, 4, 4), (40, 4, 40)] {
            let mut counts = vec![0u64; n as usize];
            for c in &cells {
                for seed in 0..seeds {
                    counts[Shard::bucket_of(c, seed, n) as usize] += 1;
                }
            }
            assert!(counts.iter().all(|&x| x == want), "{counts:?}");
        }
        // One seed per cell: the cells alone are spread by h(cell); 40,000 cells over 8
        // shards, expected 5,000 each, binomial sd ~ 66; allow +-5 sd, and chi-square with 7
        // degrees of freedom below 24.3 (p = 0.001).
        let mut counts = [0u64; 8];
        for c in &ids(40_000) {
            counts[Shard::bucket_of(c, 0, 8) as usize] += 1;
        }
        for (i, c) in counts.iter().enumerate() {
            assert!(
                (4_670..=5_330).contains(c),
                "shard {i}: {c} runs ({counts:?})"
            );
        }
        let chi2: f64 = counts
            .iter()
            .map(|&c| (c as f64 - 5000.0).powi(2) / 5000.0)
            .sum();
        assert!(chi2 < 24.3, "chi2 = {chi2} ({counts:?})");
    }

    #[test]
    fn stable_when_seeds_and_cells_are_added() {
        // The bucket is a function of (cell id, seed, N) alone: computing it in another order,
        // or with more seeds and cells around, gives the same shard.
        let cells = ids(500);
        let before: HashMap<(&str, u64), u64> = cells
            .iter()
            .take(300)
            .flat_map(|c| (0..5u64).map(move |s| ((c.as_str(), s), Shard::bucket_of(c, s, 4))))
            .collect();
        for c in cells.iter().rev() {
            for s in (0..10u64).rev() {
                if let Some(&b) = before.get(&(c.as_str(), s)) {
                    assert_eq!(b, Shard::bucket_of(c, s, 4));
                }
            }
        }
    }

    #[test]
    fn pinned_assignment() {
        // Pins the formula so that a change of algorithm (which would silently reshuffle the
        // shards of a sweep in progress) fails here. blake3("") = af1349b9f5f9a1a6... (the
        // BLAKE3 paper's test vector), so h("") = 0xa6a1f9f5b94913af = 12007152915317330863;
        // by hand: 12007152915317330863 mod 10 = 3, mod 7 = 1, mod 2 = 1.
        assert_eq!(cell_hash(""), 0xa6a1_f9f5_b949_13af);
        assert_eq!(Shard::bucket_of("", 0, 10), 3);
        assert_eq!(Shard::bucket_of("", 8, 10), 1); // (3 + 8) mod 10
        assert_eq!(Shard::bucket_of("", 5, 7), 6); // (1 + 5) mod 7
        assert_eq!(Shard::bucket_of("", 0, 2), 1);
        assert_eq!(Shard::bucket_of("", 1, 2), 0);
        // No overflow for the largest seed: (1 + (2^64 - 1) mod 7) mod 7 = (1 + 1) mod 7.
        assert_eq!(Shard::bucket_of("", u64::MAX, 7), 2);
        assert_eq!(Shard::bucket_of("anything", 12, 1), 0);
        assert_eq!(Shard::bucket_of("anything", 12, 0), 0);
    }

    #[test]
    fn tags_round_trip() {
        let s = Shard::new(2, 8).unwrap();
        assert_eq!(s.tag(), "shard-2-of-8");
        assert_eq!(Shard::parse_tag("shard-2-of-8"), Some(s));
        assert_eq!(Shard::parse_tag("shard-8-of-8"), None);
        assert_eq!(Shard::parse_tag("shard-+1-of-8"), None);
        assert_eq!(Shard::parse_tag("part-1"), None);
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn from_env_slurm() {
        let s = Shard::from_vars(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "3"),
                ("SLURM_ARRAY_TASK_COUNT", "8"),
            ]),
            None,
        );
        assert_eq!(s, Ok(Some(Shard { index: 3, count: 8 })));
        // --array=1-8: ids 1..=8 map to 0..=7.
        let s = Shard::from_vars(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "8"),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_COUNT", "8"),
            ]),
            None,
        );
        assert_eq!(s, Ok(Some(Shard { index: 7, count: 8 })));
        // --array=0-6:2 -> 0,2,4,6.
        let s = Shard::from_vars(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "4"),
                ("SLURM_ARRAY_TASK_STEP", "2"),
                ("SLURM_ARRAY_TASK_COUNT", "4"),
            ]),
            Some(4),
        );
        assert_eq!(s, Ok(Some(Shard { index: 2, count: 4 })));
        let s = Shard::from_vars(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "1"),
                ("SLURM_ARRAY_TASK_COUNT", "8"),
            ]),
            Some(4),
        );
        assert_eq!(s, Err(ShardError::CountMismatch { given: 4, slurm: 8 }));
        let s = Shard::from_vars(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "x"),
                ("SLURM_ARRAY_TASK_COUNT", "8"),
            ]),
            None,
        );
        assert!(matches!(
            s,
            Err(ShardError::BadEnv {
                var: "SLURM_ARRAY_TASK_ID",
                ..
            })
        ));
    }

    #[test]
    fn from_env_kubernetes_and_none() {
        let e = env(&[("JOB_COMPLETION_INDEX", "5")]);
        assert_eq!(
            Shard::from_vars(&e, Some(6)),
            Ok(Some(Shard { index: 5, count: 6 }))
        );
        assert_eq!(
            Shard::from_vars(&e, None),
            Err(ShardError::MissingCount { index: 5 })
        );
        assert_eq!(
            Shard::from_vars(&e, Some(5)),
            Err(ShardError::IndexOutOfRange { index: 5, count: 5 })
        );
        assert_eq!(Shard::from_vars(env(&[]), Some(4)), Ok(None));
        assert_eq!(Shard::from_vars(env(&[]), None), Ok(None));
    }
}
