//! Which process wrote a file, and whether it is still running: the owner recorded in claim
//! files and in the names of temporary files, so that a later sweep can tell a file being
//! written right now from one left behind by a process that died.
//!
//! A process is its host name, its pid and, on Linux, its start time (field 22 of
//! `/proc/<pid>/stat`, clock ticks since boot), so that a pid reused by an unrelated process is
//! not mistaken for the writer. Liveness can only be checked on the same host and where
//! `/proc` exists (Linux); elsewhere it is [`Liveness::Unknown`] and callers fall back to a
//! timeout. Written by hand: `/proc` is read as text (no `unsafe`, no `kill(pid, 0)`), and the
//! crates that report processes (`sysinfo`) are far larger than these few lines.

use std::path::Path;
use std::sync::OnceLock;

/// A process on some host.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProcessId {
    /// The host name (`/proc/sys/kernel/hostname`, else `$HOSTNAME`, else `unknown`).
    pub host: String,
    /// The pid namespace (the inode of `/proc/self/ns/pid`, Linux only): containers that share
    /// a host name but not their pids (`docker --network host`) are different hosts here.
    pub pid_ns: Option<u64>,
    /// The process id.
    pub pid: u32,
    /// When the process started, in clock ticks since boot (Linux only).
    pub start_ticks: Option<u64>,
}

/// Whether a [`ProcessId`] is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liveness {
    /// Running on this host.
    Alive,
    /// Not running on this host (no such pid, or the pid now belongs to a later process).
    Dead,
    /// On another host, or this host cannot tell (no `/proc`).
    Unknown,
}

impl ProcessId {
    /// This process.
    pub fn current() -> &'static ProcessId {
        static CURRENT: OnceLock<ProcessId> = OnceLock::new();
        CURRENT.get_or_init(|| {
            let pid = std::process::id();
            ProcessId {
                host: host_name(),
                pid_ns: pid_namespace(),
                pid,
                start_ticks: start_ticks(pid),
            }
        })
    }

    /// Whether this process is still running, as far as this host can tell.
    pub fn liveness(&self) -> Liveness {
        let me = ProcessId::current();
        if self.host != me.host || self.pid_ns != me.pid_ns || me.start_ticks.is_none() {
            return Liveness::Unknown;
        }
        if self.pid == me.pid {
            return if self.start_ticks == me.start_ticks {
                Liveness::Alive
            } else {
                Liveness::Dead
            };
        }
        match proc_stat(self.pid) {
            // No such process, or a zombie (exited, not yet reaped by its parent).
            None | Some(('Z', _)) => Liveness::Dead,
            Some((_, now)) if self.start_ticks.is_some_and(|then| then != now) => Liveness::Dead,
            _ => Liveness::Alive,
        }
    }
}

/// The host name, reduced to `[A-Za-z0-9-]` (other characters become `-`) so that it can be
/// part of a file name.
fn host_name() -> String {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let name: String = raw
        .trim()
        .chars()
        .take(64)
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    if name.is_empty() {
        "unknown".into()
    } else {
        name
    }
}

/// The inode of this process's pid namespace (`/proc/self/ns/pid` links to `pid:[<inode>]`).
fn pid_namespace() -> Option<u64> {
    let link = std::fs::read_link("/proc/self/ns/pid").ok()?;
    let text = link.to_str()?;
    text.strip_prefix("pid:[")?.strip_suffix(']')?.parse().ok()
}

/// Field 22 (`starttime`) of `/proc/<pid>/stat`; None without such a process or without `/proc`.
fn start_ticks(pid: u32) -> Option<u64> {
    proc_stat(pid).map(|(_, start)| start)
}

/// Fields 3 (`state`) and 22 (`starttime`) of `/proc/<pid>/stat`.
fn proc_stat(pid: u32) -> Option<(char, u64)> {
    let stat =
        std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces: count from the last
    // `)`, which is followed by field 3.
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?.chars().next()?;
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_an_exited_child_is_dead() {
        let me = ProcessId::current();
        assert_eq!(me.pid, std::process::id());
        assert!(!me.host.is_empty());
        if me.start_ticks.is_none() {
            eprintln!("no /proc here: liveness is unknown, nothing to check");
            return;
        }
        assert_eq!(me.liveness(), Liveness::Alive);
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        let child_id = ProcessId {
            host: me.host.clone(),
            pid_ns: me.pid_ns,
            pid,
            start_ticks: start_ticks(pid),
        };
        child.wait().unwrap();
        assert_eq!(child_id.liveness(), Liveness::Dead);
        // The same pid with another start time is a later process: the writer is gone.
        let reused = ProcessId {
            start_ticks: me.start_ticks.map(|t| t + 1),
            ..me.clone()
        };
        assert_eq!(reused.liveness(), Liveness::Dead);
        let elsewhere = ProcessId {
            host: format!("{}-other", me.host),
            ..me.clone()
        };
        assert_eq!(elsewhere.liveness(), Liveness::Unknown);
        let other_container = ProcessId {
            pid_ns: Some(me.pid_ns.unwrap_or(0) + 1),
            ..me.clone()
        };
        assert_eq!(other_container.liveness(), Liveness::Unknown);
    }
}
