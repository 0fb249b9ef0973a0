//! Who runs which run: the claim files and running-shard markers in `parts/`.
//!
//! Every run is claimed before it starts, whether the sweep is sharded or not: its claim
//! `parts/.claim.<run_id>` is published with a rename that refuses an existing name (or a hard
//! link: atomic on local file systems and NFS), so of several processes on one results folder
//! exactly one gets it. The claim records its holder ([`ClaimInfo`]: host, pid, start time) and
//! is removed once the part file is written, or when the holder gives the run up (interrupted,
//! or writing failed). A process that finds a run claimed leaves it and comes back to it once
//! it has nothing else to do ([`super::schedule`]); a claim whose holder is gone is taken over:
//! at once on the same host when the holder's pid is dead ([`optbench_results::process`]);
//! elsewhere (another node of a cluster, or a host without `/proc`) once the claim is older than
//! twice the longest run this process knows of plus a second, the rule the shard helpers use.
//!
//! Taking over is a rename of the stale claim to a temporary name followed by a check that what
//! was moved is the claim that was judged stale (each claim has a unique token); a claim made in
//! between is put back. Two processes can still both run a run only if a holder is judged dead
//! wrongly (a node that stopped answering for longer than the timeout), and even then results
//! stay right: runs are deterministic and part files are replaced atomically.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use optbench_results::process::{Liveness, ProcessId};
use optbench_results::{AtomicFile, PARTS_DIR, ResultsError};
use optbench_spec::shard::Shard;
use serde::{Deserialize, Serialize};

use super::manifest::rfc3339;

/// The marker a shard keeps in `parts/` while it runs: `.running.shard-I-of-N`.
pub fn running_marker(out: &Path, shard: Shard) -> PathBuf {
    out.join(PARTS_DIR)
        .join(format!(".running.{}", shard.tag()))
}

/// The claim file of a run: `parts/.claim.<run_id>`.
pub(super) fn claim_path(out: &Path, run_id: &str) -> PathBuf {
    out.join(PARTS_DIR).join(format!(".claim.{run_id}"))
}

/// What a claim file holds (JSON).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct ClaimInfo {
    /// The process running the run.
    #[serde(flatten)]
    pub(super) holder: ProcessId,
    /// When the claim was made, RFC 3339 (for people reading the file).
    pub(super) started: String,
    /// When the claim was made, ms since the Unix epoch.
    pub(super) started_unix_ms: u64,
    /// Unique per claim: tells a claim from a later one of the same process.
    pub(super) token: String,
}

impl ClaimInfo {
    fn new() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let now = SystemTime::now();
        let holder = ProcessId::current().clone();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        ClaimInfo {
            token: format!("{}-{}-{n}", holder.pid, unix_ms(now)),
            holder,
            started: rfc3339(now),
            started_unix_ms: unix_ms(now),
        }
    }

    /// Milliseconds since the claim was made by the holder's clock (0 if in the future).
    pub(super) fn age_ms(&self) -> u64 {
        unix_ms(SystemTime::now()).saturating_sub(self.started_unix_ms)
    }
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The state of a run's claim.
#[derive(Debug)]
pub(super) enum Claim {
    /// This process holds it now.
    Ours,
    /// Another claim holds it: its text (compared when taking over) and what it says (None if
    /// it cannot be read as a claim, e.g. one written by an older optbench).
    Held {
        text: String,
        info: Option<ClaimInfo>,
    },
}

impl Claim {
    /// Whether the holder of a held claim is known to be gone (same host, dead pid).
    pub(super) fn holder_is_dead(&self) -> bool {
        match self {
            Claim::Held {
                info: Some(info), ..
            } => info.holder.liveness() == Liveness::Dead,
            _ => false,
        }
    }
}

/// Claims `run_id` for this process.
pub(super) fn try_claim(out: &Path, run_id: &str) -> Result<Claim, ResultsError> {
    let path = claim_path(out, run_id);
    // A claim released between our attempt and our read is tried again (a few times: a run
    // is not claimed and released faster than that).
    for _ in 0..8 {
        let info = ClaimInfo::new();
        let text = serde_json::to_string(&info).unwrap_or_default() + "\n";
        let mut file = AtomicFile::create(&path)?;
        file.write_all(text.as_bytes())
            .map_err(|source| ResultsError::Io {
                path: path.clone(),
                source,
            })?;
        if file.publish_new_unsynced()? {
            return Ok(Claim::Ours);
        }
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let info = serde_json::from_str(&text).ok();
                return Ok(Claim::Held { text, info });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(ResultsError::Io { path, source }),
        }
    }
    Ok(Claim::Held {
        text: String::new(),
        info: None,
    })
}

/// Removes this process's claim on `run_id` (after writing its part file, or when giving the
/// run up); a claim that is not ours (taken over) is left alone.
pub(super) fn release(out: &Path, run_id: &str) {
    let path = claim_path(out, run_id);
    let ours = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str::<ClaimInfo>(&t).ok())
        .is_some_and(|info| info.holder == *ProcessId::current());
    if ours {
        let _ = std::fs::remove_file(&path);
    }
}

/// Removes the claim on `run_id` if it is still the one whose text is `seen` (judged stale by
/// the caller). True if it is gone.
pub(super) fn remove_stale(out: &Path, run_id: &str, seen: &str) -> Result<bool, ResultsError> {
    let path = claim_path(out, run_id);
    let tomb = AtomicFile::create(&path)?;
    let tomb_path = tomb.temp_path().to_path_buf();
    // The temporary file only reserves a unique name: the claim is renamed over it.
    let io = |source| ResultsError::Io {
        path: path.clone(),
        source,
    };
    match std::fs::rename(&path, &tomb_path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(true),
        Err(e) => return Err(io(e)),
    }
    let moved = std::fs::read_to_string(&tomb_path).unwrap_or_default();
    if moved == seen {
        drop(tomb); // deletes the moved claim
        return Ok(true);
    }
    // A claim made after the stale one was read: put it back unless yet another one exists.
    let _ = std::fs::hard_link(&tomb_path, &path);
    drop(tomb);
    Ok(false)
}

/// Removes the claims in `out/parts` whose holder is known to be dead (left by a process that
/// was killed); returns how many.
pub(super) fn remove_dead_claims(out: &Path) -> Result<usize, ResultsError> {
    let dir = out.join(PARTS_DIR);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(0);
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(run_id) = name.to_str().and_then(|n| n.strip_prefix(".claim.")) else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(entry.path()) else {
            continue;
        };
        let dead = serde_json::from_str::<ClaimInfo>(&text)
            .is_ok_and(|info| info.holder.liveness() == Liveness::Dead);
        if dead && remove_stale(out, run_id, &text)? {
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(PARTS_DIR)).unwrap();
        dir
    }

    fn files(out: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(out.join(PARTS_DIR))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// A claim as a dead process of this host would have left it.
    fn dead_claim(out: &Path, run_id: &str) -> String {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let mut info = ClaimInfo::new();
        info.holder.pid = pid;
        info.token = "dead".into();
        let text = serde_json::to_string(&info).unwrap() + "\n";
        std::fs::write(claim_path(out, run_id), &text).unwrap();
        text
    }

    #[test]
    fn one_claim_per_run_released_by_its_holder() {
        let dir = parts_dir();
        let out = dir.path();
        assert!(matches!(try_claim(out, "a").unwrap(), Claim::Ours));
        let held = try_claim(out, "a").unwrap();
        let Claim::Held {
            info: Some(info), ..
        } = &held
        else {
            panic!("{held:?}")
        };
        assert_eq!(info.holder, *ProcessId::current());
        assert!(!held.holder_is_dead());
        assert_eq!(files(out), [".claim.a"]);
        release(out, "a");
        assert!(files(out).is_empty());
        assert!(matches!(try_claim(out, "a").unwrap(), Claim::Ours));
    }

    #[test]
    fn a_dead_holders_claim_is_taken_over_a_newer_one_is_not() {
        if ProcessId::current().start_ticks.is_none() {
            eprintln!("no /proc here: dead holders cannot be told, nothing to check");
            return;
        }
        let dir = parts_dir();
        let out = dir.path();
        let seen = dead_claim(out, "a");
        let claim = try_claim(out, "a").unwrap();
        assert!(claim.holder_is_dead(), "{claim:?}");
        // Someone else took it over and claimed it again after we read it: leave theirs.
        let theirs = r#"{"host":"x","pid_ns":null,"pid":1,"start_ticks":null,"started":"","started_unix_ms":0,"token":"t"}"#;
        std::fs::write(claim_path(out, "a"), theirs).unwrap();
        assert!(!remove_stale(out, "a", &seen).unwrap());
        assert_eq!(
            std::fs::read_to_string(claim_path(out, "a")).unwrap(),
            theirs
        );
        // The stale one itself goes.
        let seen = dead_claim(out, "a");
        assert!(remove_stale(out, "a", &seen).unwrap());
        assert!(files(out).is_empty(), "{:?}", files(out));
        // At the start of a sweep, dead claims go and live ones stay.
        dead_claim(out, "b");
        assert!(matches!(try_claim(out, "c").unwrap(), Claim::Ours));
        assert_eq!(remove_dead_claims(out).unwrap(), 1);
        assert_eq!(files(out), [".claim.c"]);
    }
}
