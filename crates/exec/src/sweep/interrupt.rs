//! Stopping a sweep: Ctrl-C raises a flag that the runs check; a second Ctrl-C exits at once.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

pub(super) static CTRL_C: AtomicBool = AtomicBool::new(false);

/// Installs (once per process) a Ctrl-C handler: the first press raises the stop flag, the
/// second exits with code 130. If the program has its own handler, this one is not installed.
pub(super) fn install_ctrl_c() {
    static ONCE: OnceLock<bool> = OnceLock::new();
    ONCE.get_or_init(|| {
        ctrlc::set_handler(|| {
            if CTRL_C.swap(true, Ordering::SeqCst) {
                eprintln!("optbench: interrupted again, exiting now");
                std::process::exit(130);
            }
            eprintln!(
                "optbench: interrupted; finishing: finished runs are kept (Ctrl-C again to quit now)"
            );
        })
        .is_ok()
    });
}
