//! `manifest.json`: the provenance of a sweep.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use optbench_spec::plan::Plan;

use super::{SweepOptions, SweepSummary};

/// The rustc that built this binary (set by build.rs), if known.
pub const RUSTC_VERSION: Option<&str> = option_env!("OPTBENCH_RUSTC_VERSION");

pub(super) fn manifest_json(
    plan: &Plan,
    opts: &SweepOptions,
    jobs: usize,
    s: &SweepSummary,
    started: SystemTime,
    ended: SystemTime,
) -> serde_json::Value {
    json!({
        "optbench_version": env!("CARGO_PKG_VERSION"),
        "git_commit": git_commit(&opts.base_dir),
        "rustc": RUSTC_VERSION,
        "cpu": cpu_model(),
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "threads": jobs,
        "start_time": rfc3339(started),
        "end_time": rfc3339(ended),
        "wall_time_s": s.wall_time_s,
        "experiment": plan.experiment,
        "plan_runs": plan.len(),
        "shard": opts.shard.map(|s| json!({"index": s.index, "count": s.count})),
        "selected_runs": s.selected_runs,
        "resumed_runs": s.resumed,
        "ran_runs": s.ran,
        "helped_other_shards_runs": s.helped,
        "runs_done_by_other_shards": s.helped_by_others,
        "missing_runs": s.missing,
        "interrupted": s.interrupted,
        "interrupted_by": match (s.interrupted, s.signal) {
            (_, Some(signal)) => Some(super::interrupt::signal_name(signal)),
            (true, None) => Some("stop flag".to_string()),
            (false, None) => None,
        },
        "grace_period_s": opts.grace.as_secs_f64(),
        "abandoned_runs": s.abandoned,
        "status_counts": {"ok": s.ok, "diverged": s.diverged, "failed": s.failed},
        "runs_file": s.runs_file.file_name().map(|f| f.to_string_lossy().into_owned()),
        "metrics_file": s.metrics_file.file_name().map(|f| f.to_string_lossy().into_owned()),
    })
}

/// `git rev-parse HEAD` in the executable's folder (a cargo build inside the repository), else
/// in `base_dir`, else the build-time `OPTBENCH_GIT_COMMIT`; None when none is known.
fn git_commit(base_dir: &Path) -> Option<String> {
    let exe_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf));
    let dirs = exe_dir.into_iter().chain([base_dir.to_path_buf()]);
    for dir in dirs {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(&dir)
            .args(["rev-parse", "HEAD"])
            .stderr(std::process::Stdio::null())
            .output();
        if let Ok(out) = out {
            let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if out.status.success() && s.len() >= 7 {
                return Some(s);
            }
        }
    }
    option_env!("OPTBENCH_GIT_COMMIT").map(str::to_string)
}

/// The CPU model from /proc/cpuinfo (`model name`), if available.
fn cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

/// `t` as RFC 3339 in UTC with second precision, e.g. `2026-11-25T14:23:31Z`.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc3339(t), "2000-02-29T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_616_611);
        assert_eq!(rfc3339(t), "2026-11-25T14:23:31Z");
    }
}
