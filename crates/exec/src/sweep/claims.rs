//! Who runs which run: the claim files and running-shard markers in `parts/`, and the order in
//! which a worker takes runs (its own first, then the unfinished runs of other running shards).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use optbench_results::{PARTS_DIR, part_path};
use optbench_spec::plan::Plan;
use optbench_spec::shard::Shard;

/// The marker a shard keeps in `parts/` while it runs: `.running.shard-I-of-N`.
pub fn running_marker(out: &Path, shard: Shard) -> PathBuf {
    out.join(PARTS_DIR)
        .join(format!(".running.{}", shard.tag()))
}

/// The claim file of a run: `parts/.claim.<run_id>`.
pub(super) fn claim_path(out: &Path, run_id: &str) -> PathBuf {
    out.join(PARTS_DIR).join(format!(".claim.{run_id}"))
}

/// Claims `run_id`; false if another process claimed it first.
pub(super) fn claim(out: &Path, run_id: &str) -> bool {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(claim_path(out, run_id))
        .is_ok()
}

/// The next run for each worker, shared by the workers of one sweep.
///
/// Unsharded, the runs are taken in plan order. A shard claims each of its runs before running
/// it (so helpers leave it alone) and skips runs a helper finished or claimed first; those it
/// waits for at the end, running them itself if the helper does not deliver within twice its
/// longest run plus a second. Then it helps the other running shards, from the end of their
/// lists.
pub(super) struct Scheduler<'a> {
    plan: &'a Plan,
    out: &'a Path,
    sharded: bool,
    /// This shard's unfinished runs (plan indices), in order.
    todo: &'a [usize],
    /// Other shards' runs, last first, with their owner.
    others: &'a [(usize, Shard)],
    next: AtomicUsize,
    next_other: AtomicUsize,
    /// Own runs a helper had claimed when this shard reached them.
    deferred: Mutex<Vec<usize>>,
    /// The longest own run so far (ms).
    pub(super) longest_ms: AtomicU64,
    /// Own runs another shard ran first.
    pub(super) done_elsewhere: AtomicUsize,
}

impl<'a> Scheduler<'a> {
    pub(super) fn new(
        plan: &'a Plan,
        out: &'a Path,
        sharded: bool,
        todo: &'a [usize],
        others: &'a [(usize, Shard)],
    ) -> Self {
        Scheduler {
            plan,
            out,
            sharded,
            todo,
            others,
            next: AtomicUsize::new(0),
            next_other: AtomicUsize::new(0),
            deferred: Mutex::new(Vec::new()),
            longest_ms: AtomicU64::new(0),
            done_elsewhere: AtomicUsize::new(0),
        }
    }

    /// The next run, `(plan index, own)`, or None when there is nothing left (or `stop()`).
    /// `on_done_elsewhere` is called for each own run found finished by another shard.
    pub(super) fn next(
        &self,
        stop: &dyn Fn() -> bool,
        on_done_elsewhere: &dyn Fn(),
    ) -> Option<(usize, bool)> {
        let done_elsewhere = || {
            self.done_elsewhere.fetch_add(1, Ordering::Relaxed);
            on_done_elsewhere();
        };
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if let Some(&run) = self.todo.get(i) {
                if !self.sharded {
                    return Some((run, true));
                }
                let id = self.plan.run_id(run);
                if part_path(self.out, &id).exists() {
                    done_elsewhere();
                    continue;
                }
                if claim(self.out, &id) {
                    return Some((run, true));
                }
                if let Ok(mut d) = self.deferred.lock() {
                    d.push(run);
                    continue;
                }
                return Some((run, true));
            }
            let waiting = self.deferred.lock().ok().and_then(|mut d| d.pop());
            if let Some(run) = waiting {
                match self.wait_for_helper(run, stop, &done_elsewhere) {
                    Wait::Delivered => continue,
                    Wait::Stopped => return None,
                    Wait::RunHere => return Some((run, true)),
                }
            }
            let j = self.next_other.fetch_add(1, Ordering::Relaxed);
            let &(run, owner) = self.others.get(j)?;
            let id = self.plan.run_id(run);
            if running_marker(self.out, owner).exists()
                && !part_path(self.out, &id).exists()
                && claim(self.out, &id)
            {
                return Some((run, false));
            }
        }
    }

    /// Waits for the helper that claimed own run `run` to write its part file.
    fn wait_for_helper(&self, run: usize, stop: &dyn Fn() -> bool, delivered: &dyn Fn()) -> Wait {
        let id = self.plan.run_id(run);
        let limit = Duration::from_millis(2 * self.longest_ms.load(Ordering::Relaxed) + 1000);
        let since = Instant::now();
        loop {
            if part_path(self.out, &id).exists() {
                delivered();
                return Wait::Delivered;
            }
            if stop() {
                return Wait::Stopped;
            }
            // The helper gave up (no claim) or is late: run it here.
            if !claim_path(self.out, &id).exists() || since.elapsed() > limit {
                return Wait::RunHere;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// How waiting for a helper ended.
enum Wait {
    Delivered,
    Stopped,
    RunHere,
}
