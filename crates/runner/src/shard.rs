//! Splitting a plan across machines: `--shard I/N`.
//!
//! A [`Shard`] `I/N` (0-based, `I < N`) owns the runs whose `run_id` hashes to bucket `I` of `N`.
//! The bucket depends on the run's own id only, so adding seeds, optimizers or problems to an
//! experiment never moves an existing run to another shard, and every shard sees about `1/N` of
//! the runs whatever the plan's order.
//!
//! The bucket is Lamping & Veach's jump consistent hash ("A Fast, Minimal Memory, Consistent Hash
//! Algorithm", 2014, arXiv:1406.2294) of the first 8 bytes (little-endian) of `blake3(run_id)`.
//! Jump hash is uniform over the `N` buckets, and when `N` grows to `N + 1` only `1/(N + 1)` of the
//! runs change shard (a plain `hash % N` would move almost all of them).
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

    /// The shard (bucket in `0..count`) that `run_id` belongs to when the plan is split `count`
    /// ways; `count` 0 is treated as 1.
    pub fn bucket_of(run_id: &str, count: u64) -> u64 {
        let digest = blake3::hash(run_id.as_bytes());
        let mut key_bytes = [0u8; 8];
        key_bytes.copy_from_slice(&digest.as_bytes()[..8]);
        jump_consistent_hash(u64::from_le_bytes(key_bytes), count.max(1))
    }

    /// Whether this shard runs `run_id`.
    pub fn contains(&self, run_id: &str) -> bool {
        Self::bucket_of(run_id, self.count) == self.index
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

/// Lamping & Veach's jump consistent hash: maps `key` to a bucket in `0..buckets` (`buckets >= 1`).
///
/// The reference implementation's linear congruential step and float division, written with
/// wrapping arithmetic; it is deterministic across platforms (IEEE-754 doubles).
fn jump_consistent_hash(mut key: u64, buckets: u64) -> u64 {
    let mut b: u64 = 0;
    let mut j: u64 = 0;
    while j < buckets {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        let r = ((key >> 33) + 1) as f64;
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / r)) as u64;
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn ids(n: usize) -> Vec<String> {
        (0..n)
            .map(|i| blake3::hash(format!("run {i}").as_bytes()).to_hex()[..16].to_string())
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
        let ids = ids(2000);
        for n in [1u64, 2, 3, 7, 16] {
            for id in &ids {
                let owners = (0..n)
                    .filter(|&i| Shard::new(i, n).unwrap().contains(id))
                    .count();
                assert_eq!(owners, 1, "{id} in {owners} of {n} shards");
            }
        }
    }

    #[test]
    fn balanced() {
        // 40,000 ids over 8 shards: expected 5,000 each, binomial sd ≈ 66; allow ±5 sd.
        let ids = ids(40_000);
        let mut counts = [0u64; 8];
        for id in &ids {
            counts[Shard::bucket_of(id, 8) as usize] += 1;
        }
        for (i, c) in counts.iter().enumerate() {
            assert!(
                (4_670..=5_330).contains(c),
                "shard {i}: {c} runs ({counts:?})"
            );
        }
        // Chi-square with 7 degrees of freedom: p = 0.001 at 24.3.
        let chi2: f64 = counts
            .iter()
            .map(|&c| (c as f64 - 5000.0).powi(2) / 5000.0)
            .sum();
        assert!(chi2 < 24.3, "chi2 = {chi2} ({counts:?})");
    }

    #[test]
    fn stable_and_minimal_moves_when_count_grows() {
        let ids = ids(10_000);
        // The same id always lands in the same bucket (no dependence on the other ids).
        let before: HashMap<&str, u64> = ids
            .iter()
            .map(|i| (&i[..], Shard::bucket_of(i, 4)))
            .collect();
        for id in ids.iter().rev() {
            assert_eq!(before[&id[..]], Shard::bucket_of(id, 4));
        }
        // 4 -> 5 shards: a run either stays or moves to the new shard 4; about 1/5 move.
        let mut moved = 0;
        for id in &ids {
            let after = Shard::bucket_of(id, 5);
            if after != before[&id[..]] {
                assert_eq!(after, 4);
                moved += 1;
            }
        }
        assert!((1_800..=2_200).contains(&moved), "{moved} of 10000 moved");
    }

    #[test]
    fn pinned_assignment() {
        // Pins the hash so that a change of algorithm (which would silently reshuffle shards of a
        // sweep in progress) fails here. The reference values follow from the algorithm in the
        // paper: jump(key, 1) is always 0; the key of "" is blake3("")'s first 8 bytes.
        assert_eq!(Shard::bucket_of("anything", 1), 0);
        assert_eq!(jump_consistent_hash(0, 1), 0);
        // key 0: the LCG gives 1, (1 >> 33) + 1 = 1, j = 2^31 >= any small count.
        assert_eq!(jump_consistent_hash(0, 1000), 0);
        // blake3("") = af1349b9f5f9a1a6..., key = 0xa6a1f9f5b94913af.
        let k = u64::from_le_bytes([0xaf, 0x13, 0x49, 0xb9, 0xf5, 0xf9, 0xa1, 0xa6]);
        assert_eq!(Shard::bucket_of("", 10), jump_consistent_hash(k, 10));
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
