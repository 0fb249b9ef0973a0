//! Crash-safe files: every file a sweep publishes (part files, `manifest.json`, the consolidated
//! Parquet files, `experiment.yaml`) is written to a temporary file in the same folder, flushed
//! to disk (`fsync`), renamed over its name, and the folder is flushed too. After `kill -9`, a
//! full disk, a node crash or a power loss a reader sees the old file, the new complete file or
//! no file, never a partial or empty one.
//!
//! The temporary file comes from the `tempfile` crate (created exclusively with a random name,
//! deleted when dropped, so a failed write leaves nothing behind, and published with its
//! `persist`). Its name says who wrote it:
//!
//! ```text
//! .<name>.tmp.<pid>_<start ticks>_<pid namespace>_<host>.<random>
//! ```
//!
//! so that [`remove_stale_temps`] can remove the temporary files of writers that died (killed
//! while writing) without touching those of a process still writing into the same folder: on
//! this host a temporary file is stale when its writer is gone ([`crate::process`]); a file of
//! another host when it has not been modified for [`FOREIGN_TEMP_AGE`]. Names of the form
//! `.<name>.tmp-<pid>-<thread>` (optbench 0.1 before this module) are removed when that pid is
//! not running here.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tempfile::NamedTempFile;

use crate::error::{ResultsError, io_err};
use crate::process::{Liveness, ProcessId};

/// A temporary file of another host (or of a host that cannot tell whether its writer runs) is
/// stale after this long without a modification.
pub const FOREIGN_TEMP_AGE: Duration = Duration::from_secs(3600);

/// A file being written: call [`AtomicFile::commit`] to publish it; dropped without a commit,
/// the temporary file is deleted and `path` is untouched.
pub struct AtomicFile {
    path: PathBuf,
    tmp: NamedTempFile,
}

impl AtomicFile {
    /// Starts writing `path`: creates the temporary file in its folder.
    pub fn create(path: &Path) -> Result<Self, ResultsError> {
        let dir = parent(path);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let me = ProcessId::current();
        let prefix = format!(
            ".{name}.tmp.{}_{}_{}_{}.",
            me.pid,
            me.start_ticks.map(|t| t.to_string()).unwrap_or_default(),
            me.pid_ns.map(|n| n.to_string()).unwrap_or_default(),
            me.host
        );
        let tmp = tempfile::Builder::new()
            .prefix(&prefix)
            .rand_bytes(6)
            .tempfile_in(dir)
            .map_err(io_err(path))?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            tmp,
        })
    }

    /// The file it will become.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The temporary file (deleted when this is dropped without a commit).
    pub fn temp_path(&self) -> &Path {
        self.tmp.path()
    }

    /// Flushes the file to disk, renames it over its name (replacing an existing file) and
    /// flushes the folder.
    pub fn commit(self) -> Result<(), ResultsError> {
        self.tmp.as_file().sync_all().map_err(io_err(&self.path))?;
        self.tmp
            .persist(&self.path)
            .map_err(|e| io_err(&self.path)(e.error))?;
        sync_dir(parent(&self.path))
    }

    /// Like [`AtomicFile::commit`], but publishes the file only if no file has its name (atomic:
    /// of several processes doing this at once exactly one succeeds). False if the name was
    /// taken; the temporary file is then deleted.
    pub fn commit_new(self) -> Result<bool, ResultsError> {
        self.tmp.as_file().sync_all().map_err(io_err(&self.path))?;
        let dir = parent(&self.path).to_path_buf();
        let published = self.publish_new_unsynced()?;
        if published {
            sync_dir(&dir)?;
        }
        Ok(published)
    }

    /// Publishes the file under its name only if no file has that name (as
    /// [`AtomicFile::commit_new`]), without flushing anything to disk: for lock files such as
    /// claims, which a crash may lose. False if the name was taken.
    pub fn publish_new_unsynced(self) -> Result<bool, ResultsError> {
        match self.tmp.persist_noclobber(&self.path) {
            Ok(_) => Ok(true),
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(io_err(&self.path)(e.error)),
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tmp.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tmp.flush()
    }
}

fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Flushes a folder's entries (a rename into it) to disk. Platforms and file systems that
/// cannot open or flush a folder are not an error.
pub fn sync_dir(dir: &Path) -> Result<(), ResultsError> {
    let synced = File::open(dir).and_then(|d| d.sync_all());
    match synced {
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::InvalidInput
                    | io::ErrorKind::Unsupported
                    | io::ErrorKind::PermissionDenied
            ) =>
        {
            Ok(())
        }
        other => other.map_err(io_err(dir)),
    }
}

/// Writes `bytes` to `path` atomically and durably (see the module docs).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ResultsError> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes).map_err(io_err(path))?;
    file.commit()
}

/// Who wrote a temporary file, from its name; None if `name` is not a temporary file's.
fn temp_writer(name: &str) -> Option<ProcessId> {
    let rest = name.strip_prefix('.')?;
    if let Some(at) = rest.rfind(".tmp-") {
        // The old form `.<name>.tmp-<pid>-<thread>`.
        let mut ids = rest[at + 5..].split('-');
        let pid = ids.next()?.parse().ok()?;
        ids.next()?.parse::<u64>().ok()?;
        let me = ProcessId::current();
        return Some(ProcessId {
            host: me.host.clone(),
            pid_ns: me.pid_ns,
            pid,
            start_ticks: None,
        });
    }
    let mut fields = rest.rsplitn(3, '.');
    let _random = fields.next()?;
    let tag = fields.next()?;
    fields.next()?.strip_suffix(".tmp")?;
    let mut tag = tag.splitn(4, '_');
    let pid = tag.next()?.parse().ok()?;
    let start_ticks = tag.next()?.parse().ok();
    let pid_ns = tag.next()?.parse().ok();
    let host = tag.next()?.to_string();
    Some(ProcessId {
        host,
        pid_ns,
        pid,
        start_ticks,
    })
}

/// Removes the temporary files in `dir` whose writer is gone (see the module docs); returns how
/// many it removed. A missing folder has none.
pub fn remove_stale_temps(dir: &Path) -> Result<usize, ResultsError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_err(dir)(e)),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(writer) = name.to_str().and_then(temp_writer) else {
            continue;
        };
        let stale = match writer.liveness() {
            Liveness::Dead => true,
            Liveness::Alive => false,
            Liveness::Unknown => entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > FOREIGN_TEMP_AGE),
        };
        if stale {
            let path = entry.path();
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&path)(e)),
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn a_commit_replaces_the_file_and_a_dropped_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.parquet");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let mut f = AtomicFile::create(&path).unwrap();
        f.write_all(b"three").unwrap();
        assert_eq!(names(dir.path()).len(), 2, "{:?}", names(dir.path()));
        drop(f);
        assert_eq!(names(dir.path()), ["runs.parquet"]);
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
    }

    #[test]
    fn publish_new_refuses_an_existing_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".claim.x");
        let mut a = AtomicFile::create(&path).unwrap();
        a.write_all(b"a").unwrap();
        let mut b = AtomicFile::create(&path).unwrap();
        b.write_all(b"b").unwrap();
        assert!(a.publish_new_unsynced().unwrap());
        assert!(!b.publish_new_unsynced().unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"a");
        assert_eq!(names(dir.path()), [".claim.x"]);
    }

    #[test]
    fn temporary_names_say_who_writes_them() {
        let dir = tempfile::tempdir().unwrap();
        let f = AtomicFile::create(&dir.path().join("abc.part")).unwrap();
        let name = f.tmp.path().file_name().unwrap().to_str().unwrap();
        assert_eq!(temp_writer(name).as_ref(), Some(ProcessId::current()));
        assert_eq!(temp_writer("abc.part"), None);
        assert_eq!(temp_writer(".claim.abc"), None);
        assert_eq!(temp_writer(".running.shard-0-of-2"), None);
        assert_eq!(temp_writer("runs.shard-0-of-2.parquet"), None);
        assert_eq!(temp_writer(".abc.part.tmp-12-3").map(|p| p.pid), Some(12));
    }

    #[test]
    fn stale_temporary_files_are_removed_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let me = ProcessId::current();
        if me.start_ticks.is_none() {
            eprintln!("no /proc here: cannot tell dead writers, nothing to check");
            return;
        }
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let live = AtomicFile::create(&dir.path().join("b.part")).unwrap();
        let stale = [
            format!(
                ".a.part.tmp.{dead}_1_{}_{}.AbC123",
                me.pid_ns.unwrap_or(0),
                me.host
            ),
            format!(".runs.parquet.tmp-{dead}-7"),
        ];
        let foreign = format!(".c.part.tmp.{dead}_1_1_{}-elsewhere.XyZ987", me.host);
        for n in stale.iter().chain([&foreign]) {
            std::fs::write(dir.path().join(n), b"").unwrap();
        }
        std::fs::write(dir.path().join("a.part"), b"kept").unwrap();
        assert_eq!(remove_stale_temps(dir.path()).unwrap(), 2);
        let left = names(dir.path());
        assert_eq!(left.len(), 3, "{left:?}");
        assert!(left.contains(&foreign) && left.contains(&"a.part".to_string()));
        drop(live);
        assert_eq!(remove_stale_temps(&dir.path().join("missing")).unwrap(), 0);
    }
}
