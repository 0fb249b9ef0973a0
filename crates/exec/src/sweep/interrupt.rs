//! Stopping a sweep: SIGINT (Ctrl-C) and SIGTERM (Slurm's `scancel`, time limits and
//! preemption, Kubernetes' pod deletion: both send SIGTERM, then SIGKILL after a grace time).
//!
//! The first signal during a sweep records which signal it was and when: no new run starts,
//! runs in flight go on for the grace period and are abandoned at their next check once it is
//! over (see [`Interrupt`]). A second signal, or a signal while no sweep runs, exits at once
//! with `128 + signal` (130 for SIGINT, 143 for SIGTERM), as the default action would, but
//! with a message. The handler is `signal-hook`'s iterator: a thread that receives the signals
//! outside the signal handler, so it may print and exit.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// SIGINT's number.
pub const SIGINT: i32 = 2;
/// SIGTERM's number.
pub const SIGTERM: i32 = 15;

/// The name of a signal number (`SIGINT`, `SIGTERM`).
pub fn signal_name(signal: i32) -> String {
    match signal {
        SIGINT => "SIGINT".into(),
        SIGTERM => "SIGTERM".into(),
        n => format!("signal {n}"),
    }
}

/// The signal received during the current sweep (0: none).
static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// When it arrived.
static SINCE: Mutex<Option<Instant>> = Mutex::new(None);
/// Whether a sweep is running (signals otherwise exit at once).
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// The grace period of the current sweep, for the message.
static GRACE_MS: AtomicU64 = AtomicU64::new(0);

/// Installs (once per process) the handler of SIGINT and SIGTERM; false if it cannot be
/// installed (another handler owns the signals, or the platform has none).
fn install() -> bool {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    *INSTALLED.get_or_init(|| {
        #[cfg(unix)]
        {
            let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
                return false;
            };
            std::thread::Builder::new()
                .name("optbench-signals".into())
                .spawn(move || {
                    for signal in signals.forever() {
                        on_signal(signal);
                    }
                })
                .is_ok()
        }
        #[cfg(not(unix))]
        {
            false
        }
    })
}

fn on_signal(signal: i32) {
    let name = signal_name(signal);
    if !ACTIVE.load(Ordering::SeqCst) {
        eprintln!("optbench: {name}, exiting");
        std::process::exit(128 + signal);
    }
    if SIGNAL
        .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        eprintln!("optbench: {name} again, exiting now");
        std::process::exit(128 + signal);
    }
    if let Ok(mut since) = SINCE.lock() {
        *since = Some(Instant::now());
    }
    #[allow(clippy::cast_precision_loss)]
    let grace = GRACE_MS.load(Ordering::SeqCst) as f64 / 1000.0;
    eprintln!(
        "optbench: {name}: no new run starts; runs in flight have {grace} s to finish, then are \
         abandoned; finished runs are kept ({name} again quits at once)"
    );
}

/// The stop state of one sweep: the signal handler's (when installed) and the caller's flag.
pub(super) struct Interrupt {
    signals: bool,
    grace: Duration,
    flag: Option<std::sync::Arc<AtomicBool>>,
    /// When the caller's flag was first seen raised.
    flag_since: OnceLock<Instant>,
}

impl Interrupt {
    /// Starts listening: with `signals`, SIGINT and SIGTERM stop the sweep (the handler is
    /// installed once per process); `flag`, when raised, acts like a signal.
    pub(super) fn start(
        signals: bool,
        grace: Duration,
        flag: Option<std::sync::Arc<AtomicBool>>,
    ) -> Self {
        let signals = signals && install();
        if signals {
            SIGNAL.store(0, Ordering::SeqCst);
            if let Ok(mut since) = SINCE.lock() {
                *since = None;
            }
            GRACE_MS.store(
                u64::try_from(grace.as_millis()).unwrap_or(u64::MAX),
                Ordering::SeqCst,
            );
            ACTIVE.store(true, Ordering::SeqCst);
        }
        Interrupt {
            signals,
            grace,
            flag,
            flag_since: OnceLock::new(),
        }
    }

    /// The signal that stopped the sweep, if one did.
    pub(super) fn signal(&self) -> Option<i32> {
        let s = SIGNAL.load(Ordering::SeqCst);
        (self.signals && s != 0).then_some(s)
    }

    /// When the sweep was told to stop (None: it was not).
    fn since(&self) -> Option<Instant> {
        if self.signal().is_some() {
            if let Some(t) = SINCE.lock().ok().and_then(|s| *s) {
                return Some(t);
            }
        }
        if self
            .flag
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
        {
            return Some(*self.flag_since.get_or_init(Instant::now));
        }
        None
    }

    /// No new run may start.
    pub(super) fn stopping(&self) -> bool {
        self.signal().is_some()
            || self
                .flag
                .as_ref()
                .is_some_and(|f| f.load(Ordering::Relaxed))
    }

    /// Runs in flight must be abandoned: the grace period is over.
    pub(super) fn abandon(&self) -> bool {
        self.since().is_some_and(|t| t.elapsed() >= self.grace)
    }
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        if self.signals {
            ACTIVE.store(false, Ordering::SeqCst);
        }
    }
}
