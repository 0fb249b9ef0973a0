//! Running one run in isolation: a panic inside it becomes a `failed` record with its message,
//! without the default panic output, and the sweep goes on.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;
use std::time::Instant;

use optbench_results::RunOutcome;
use optbench_spec::plan::RunSpec;

use crate::assemble::{RunBuilder, RunError};
use crate::train::train;

thread_local! {
    static IN_RUN: Cell<bool> = const { Cell::new(false) };
    static PANIC_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs (once per process) a panic hook that keeps quiet about panics inside runs and
/// stores their message and location for the `failed` record; other panics go to the previous
/// hook.
pub(super) fn install_quiet_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_RUN.with(Cell::get) {
                let payload = info.payload();
                let msg = payload
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                    .unwrap_or("panic with a non-string payload");
                let loc = info
                    .location()
                    .map(|l| format!(" (at {}:{}:{})", l.file(), l.line(), l.column()))
                    .unwrap_or_default();
                PANIC_MESSAGE.with(|m| *m.borrow_mut() = Some(format!("panic: {msg}{loc}")));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs one spec, catching panics. `None` when the run was abandoned (stop flag).
pub(super) fn run_one(
    spec: &RunSpec,
    builder: &dyn RunBuilder,
    stop: &dyn Fn() -> bool,
) -> Option<RunOutcome> {
    let start = Instant::now();
    IN_RUN.with(|f| f.set(true));
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut parts = builder.build(spec)?;
        train(spec, &mut parts, stop)
    }));
    IN_RUN.with(|f| f.set(false));
    let failed = |msg: String| RunOutcome::failed(&spec.run_id, msg, start.elapsed().as_secs_f64());
    match result {
        Ok(Ok(outcome)) => Some(outcome),
        Ok(Err(RunError::Stopped)) => None,
        Ok(Err(e)) => Some(failed(e.to_string())),
        Err(payload) => {
            let message = PANIC_MESSAGE
                .with(|m| m.borrow_mut().take())
                .or_else(|| {
                    payload
                        .downcast_ref::<&str>()
                        .map(|s| format!("panic: {s}"))
                })
                .or_else(|| {
                    payload
                        .downcast_ref::<String>()
                        .map(|s| format!("panic: {s}"))
                })
                .unwrap_or_else(|| "panic".to_string());
            Some(failed(message))
        }
    }
}
