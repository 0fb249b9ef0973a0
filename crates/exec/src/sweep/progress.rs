//! Progress on stderr: a bar on a terminal, plain lines otherwise.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub(super) enum Progress {
    None,
    Bar(indicatif::ProgressBar),
    Lines {
        start: Instant,
        total: usize,
        state: Mutex<(Instant, usize)>,
    },
}

impl Progress {
    pub(super) fn new(enabled: bool, done: usize, total: usize) -> Self {
        if !enabled || total == 0 {
            return Progress::None;
        }
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(total as u64);
            let style = indicatif::ProgressStyle::with_template(
                "{elapsed_precise} [{wide_bar}] {pos}/{len} runs, ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_position(done as u64);
            bar.reset_eta();
            Progress::Bar(bar)
        } else {
            let now = Instant::now();
            Progress::Lines {
                start: now,
                total,
                state: Mutex::new((now, done)),
            }
        }
    }

    /// `done` runs are finished (counting resumed ones).
    pub(super) fn update(&self, done: usize, started_from: usize) {
        match self {
            Progress::None => {}
            Progress::Bar(bar) => bar.set_position(done as u64),
            Progress::Lines {
                start,
                total,
                state,
            } => {
                let Ok(mut st) = state.lock() else { return };
                let step = (*total / 20).max(1);
                let crossed = done / step > st.1 / step;
                let now = Instant::now();
                if crossed || now.duration_since(st.0) >= Duration::from_secs(10) || done == *total
                {
                    let elapsed = start.elapsed().as_secs_f64();
                    let new = done.saturating_sub(started_from);
                    #[allow(clippy::cast_precision_loss)]
                    let eta = if new > 0 {
                        elapsed / new as f64 * (total - done) as f64
                    } else {
                        f64::NAN
                    };
                    #[allow(clippy::cast_precision_loss)]
                    let pct = 100.0 * done as f64 / *total as f64;
                    eprintln!(
                        "optbench: {done}/{total} runs ({pct:.0}%), {elapsed:.1} s elapsed, ETA {}",
                        if eta.is_finite() {
                            format!("{eta:.0} s")
                        } else {
                            "?".into()
                        }
                    );
                    *st = (now, done);
                }
            }
        }
    }

    pub(super) fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish();
        }
    }

    /// A line of text above the bar (or on its own without one).
    pub(super) fn message(&self, msg: &str) {
        match self {
            Progress::Bar(bar) => bar.println(msg),
            _ => eprintln!("{msg}"),
        }
    }
}
