//! The CPU time this thread has run, for timing on a shared machine (the time a thread waits
//! for a core does not count). Used by `transformer.rs` and by `examples/cnn_cpu_time.rs`.

/// `/proc/thread-self/schedstat`'s first field (ns, kept up to date by the scheduler at each
/// tick and switch), or `None` where there is none (not Linux).
pub fn thread_cpu_time() -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(std::time::Duration::from_nanos(ns))
}
