//! The order in which workers take runs: their own runs first, each claimed before it starts
//! ([`super::claims`]); runs another process holds are left for the end and waited for; then
//! (with shards) the unfinished runs of other running shards.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use optbench_results::process::Liveness;
use optbench_results::{ResultsError, part_path, read_part};
use optbench_spec::plan::Plan;
use optbench_spec::shard::Shard;

use super::claims::{
    Claim, ClaimInfo, claim_path, release, remove_stale, running_marker, try_claim,
};

/// How often a worker waiting for another process's run looks again.
const POLL: Duration = Duration::from_millis(50);

/// The next run for each worker, shared by the workers of one sweep.
///
/// Own runs are taken in plan order, each claimed first; a run another process holds is
/// skipped and, once the own list is done, waited for: until its part file appears (the other
/// process delivered), its claim is released (the other process gave it up: this one runs it),
/// or its holder is found gone (then this one takes the claim over and runs it). Then, with
/// shards, the runs of other running shards are helped, from the end of their lists.
pub(super) struct Scheduler<'a> {
    plan: &'a Plan,
    out: &'a Path,
    /// This shard's (or the plan's) unfinished runs (plan indices), in order.
    todo: &'a [usize],
    /// Other shards' runs, last first, with their owner.
    others: &'a [(usize, Shard)],
    next: AtomicUsize,
    next_other: AtomicUsize,
    /// Own runs another process held when this one reached them.
    deferred: Mutex<Vec<usize>>,
    /// The longest run this process knows of (ms): its own, those finished before it started,
    /// those others delivered while it waited.
    pub(super) longest_ms: AtomicU64,
    /// Own runs another process ran.
    pub(super) done_elsewhere: AtomicUsize,
}

/// How waiting for a run another process holds ended.
enum Wait {
    Delivered,
    Stopped,
    RunHere,
}

impl<'a> Scheduler<'a> {
    pub(super) fn new(
        plan: &'a Plan,
        out: &'a Path,
        todo: &'a [usize],
        others: &'a [(usize, Shard)],
        longest_ms: u64,
    ) -> Self {
        Scheduler {
            plan,
            out,
            todo,
            others,
            next: AtomicUsize::new(0),
            next_other: AtomicUsize::new(0),
            deferred: Mutex::new(Vec::new()),
            longest_ms: AtomicU64::new(longest_ms),
            done_elsewhere: AtomicUsize::new(0),
        }
    }

    /// The next run, `(plan index, own)`, claimed by this process; None when there is nothing
    /// left or `stopping()`. `on_done_elsewhere` is called for each own run found finished by
    /// another process.
    pub(super) fn next(
        &self,
        stopping: &dyn Fn() -> bool,
        on_done_elsewhere: &dyn Fn(),
    ) -> Result<Option<(usize, bool)>, ResultsError> {
        let done_elsewhere = || {
            self.done_elsewhere.fetch_add(1, Ordering::Relaxed);
            on_done_elsewhere();
        };
        loop {
            if stopping() {
                return Ok(None);
            }
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if let Some(&run) = self.todo.get(i) {
                let id = self.plan.run_id(run);
                if self.finished(&id) {
                    done_elsewhere();
                    continue;
                }
                match self.claim(&id)? {
                    Some(true) => return Ok(Some((run, true))),
                    Some(false) => done_elsewhere(),
                    None => {
                        if let Ok(mut d) = self.deferred.lock() {
                            d.push(run);
                        }
                    }
                }
                continue;
            }
            let waiting = self.deferred.lock().ok().and_then(|mut d| d.pop());
            if let Some(run) = waiting {
                match self.wait_for_holder(run, stopping)? {
                    Wait::Delivered => done_elsewhere(),
                    Wait::Stopped => return Ok(None),
                    Wait::RunHere => return Ok(Some((run, true))),
                }
                continue;
            }
            let j = self.next_other.fetch_add(1, Ordering::Relaxed);
            let Some(&(run, owner)) = self.others.get(j) else {
                return Ok(None);
            };
            let id = self.plan.run_id(run);
            if running_marker(self.out, owner).exists()
                && !self.finished(&id)
                && self.claim(&id)? == Some(true)
            {
                return Ok(Some((run, false)));
            }
        }
    }

    fn finished(&self, run_id: &str) -> bool {
        part_path(self.out, run_id).exists()
    }

    /// Claims `run_id`, taking over a claim whose holder is dead: Some(true) if this process
    /// now holds it and must run it, Some(false) if it turned out finished (the claim is
    /// released again), None if another process holds it.
    fn claim(&self, run_id: &str) -> Result<Option<bool>, ResultsError> {
        let mut claim = try_claim(self.out, run_id)?;
        if let Claim::Held { text, .. } = &claim {
            if claim.holder_is_dead() && remove_stale(self.out, run_id, text)? {
                claim = try_claim(self.out, run_id)?;
            }
        }
        match claim {
            Claim::Held { .. } => Ok(None),
            // The holder may have written the part file and released the claim just before.
            Claim::Ours if self.finished(run_id) => {
                release(self.out, run_id);
                Ok(Some(false))
            }
            Claim::Ours => Ok(Some(true)),
        }
    }

    /// Waits for the process that holds own run `run` (see the type's docs).
    fn wait_for_holder(
        &self,
        run: usize,
        stopping: &dyn Fn() -> bool,
    ) -> Result<Wait, ResultsError> {
        let id = self.plan.run_id(run);
        let since = Instant::now();
        loop {
            if self.finished(&id) {
                self.learn_length(&id);
                return Ok(Wait::Delivered);
            }
            if stopping() {
                return Ok(Wait::Stopped);
            }
            match std::fs::read_to_string(claim_path(self.out, &id)) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => match self.claim(&id)? {
                    Some(true) => return Ok(Wait::RunHere),
                    Some(false) => return Ok(Wait::Delivered),
                    None => {}
                },
                Err(e) => {
                    return Err(ResultsError::Io {
                        path: claim_path(self.out, &id),
                        source: e,
                    });
                }
                Ok(text) => {
                    let info = serde_json::from_str::<ClaimInfo>(&text).ok();
                    if self.is_stale(info.as_ref(), since) && remove_stale(self.out, &id, &text)? {
                        continue;
                    }
                }
            }
            std::thread::sleep(POLL);
        }
    }

    /// Whether a claim's holder is gone: dead on this host, or elsewhere (or unreadable) and
    /// older than twice the longest run this process knows of plus a second.
    fn is_stale(&self, info: Option<&ClaimInfo>, waiting_since: Instant) -> bool {
        let waited = u64::try_from(waiting_since.elapsed().as_millis()).unwrap_or(u64::MAX);
        let age = match info {
            Some(i) => match i.holder.liveness() {
                Liveness::Dead => return true,
                Liveness::Alive => return false,
                Liveness::Unknown => i.age_ms().max(waited),
            },
            None => waited,
        };
        let limit = self
            .longest_ms
            .load(Ordering::Relaxed)
            .saturating_mul(2)
            .saturating_add(1000);
        age > limit
    }

    /// Reads how long another process's run took from its part file.
    fn learn_length(&self, run_id: &str) {
        if let Ok(outcome) = read_part(&part_path(self.out, run_id)) {
            self.record_length(
                Duration::try_from_secs_f64(outcome.wall_time_s).unwrap_or_default(),
            );
        }
    }

    /// A run took `d`.
    pub(super) fn record_length(&self, d: Duration) {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        self.longest_ms.fetch_max(ms, Ordering::Relaxed);
    }
}
