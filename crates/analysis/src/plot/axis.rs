//! Axis ranges and ticks. Ranges come from the lines marked `in_range` (runs that did not
//! diverge), padded by 4 %; other lines are clipped at the panel's edge, so a diverging run
//! leaves through the top instead of flattening the other lines. Log axes work in log10
//! coordinates with `10ⁿ` tick labels; non-positive values are dropped from log axes.

use super::figure::Panel;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

/// A value in axis coordinates: log10 on a log axis; `None` if it cannot be drawn.
pub fn tx(v: f64, log: bool) -> Option<f64> {
    if !v.is_finite() {
        return None;
    }
    if log {
        (v > 0.0).then(|| v.log10())
    } else {
        Some(v)
    }
}

/// Axis range in transformed coordinates, with 4 % padding; a degenerate range is widened.
fn range(values: impl Iterator<Item = f64>, fixed: Option<(f64, f64)>, log: bool) -> (f64, f64) {
    let (mut lo, mut hi) = match fixed.and_then(|(a, b)| Some((tx(a, log)?, tx(b, log)?))) {
        Some(r) => return r,
        None => values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        }),
    };
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        let d = if log { 0.5 } else { lo.abs().max(1.0) * 0.05 };
        lo -= d;
        hi += d;
    }
    let pad = (hi - lo) * 0.04;
    (lo - pad, hi + pad)
}

/// The (x, y) ranges of a panel in axis coordinates.
pub fn panel_ranges(p: &Panel) -> ((f64, f64), (f64, f64)) {
    let use_all = !p.lines.iter().any(|l| l.in_range && !l.faint);
    let chosen = || {
        p.lines
            .iter()
            .filter(move |l| !l.faint && (use_all || l.in_range))
    };
    let xs = chosen()
        .flat_map(|l| {
            l.points
                .iter()
                .map(|q| q.0)
                .chain(l.band.iter().map(|b| b.0))
                .chain(l.diverged_at.iter().copied())
        })
        .chain(p.contours.iter().flat_map(|s| [s[0].0, s[1].0]))
        .filter_map(|v| tx(v, p.x_log));
    // Only points drawable on the x axis decide the y range (a step-0 point on a log x axis
    // is not drawn, so it must not stretch the y axis).
    let x_ok = |x: f64| tx(x, p.x_log).is_some();
    let ys = chosen()
        .flat_map(|l| {
            l.points
                .iter()
                .filter(|q| x_ok(q.0))
                .map(|q| q.1)
                .chain(l.band.iter().filter(|b| x_ok(b.0)).flat_map(|b| [b.1, b.2]))
        })
        .chain(p.contours.iter().flat_map(|s| [s[0].1, s[1].1]))
        .filter_map(|v| tx(v, p.y_log))
        .chain(faint_extent(p));
    (range(xs, p.x_range, p.x_log), range(ys, p.y_range, p.y_log))
}

/// The 5th and 95th percentiles of the faint (raw) lines' y values in axis coordinates, so
/// that the raw noise under a smoothed line is mostly in view without its rare extremes
/// setting the range.
fn faint_extent(p: &Panel) -> Vec<f64> {
    let mut ys: Vec<f64> = p
        .lines
        .iter()
        .filter(|l| l.faint && l.in_range)
        .flat_map(|l| {
            l.points
                .iter()
                .filter(|q| tx(q.0, p.x_log).is_some())
                .filter_map(|q| tx(q.1, p.y_log))
        })
        .collect();
    if ys.is_empty() {
        return Vec::new();
    }
    ys.sort_by(f64::total_cmp);
    let at = |q: f64| ys[((ys.len() - 1) as f64 * q).round() as usize];
    vec![at(0.05), at(0.95)]
}

/// Tick positions (transformed coordinates) for a range: on log axes whole decades when two or
/// more fit (thinned to at most 7), else 1, 2 and 5 times the powers of ten, else 1–2–5 steps; on linear axes
/// 1–2–5 steps aiming at about 5 ticks. Returns (major, minor).
pub fn ticks((lo, hi): (f64, f64), log: bool) -> (Vec<f64>, Vec<f64>) {
    if log && hi - lo >= 1.5 && hi.floor() - lo.ceil() >= 1.0 {
        let (a, b) = (lo.ceil() as i64, hi.floor() as i64);
        let step = ((b - a) / 6 + 1).max(1);
        let major: Vec<f64> = (a..=b)
            .filter(|e| (e - a) % step == 0)
            .map(|e| e as f64)
            .collect();
        let minor = if step == 1 {
            (lo.floor() as i64..=b)
                .flat_map(|e| (2..10).map(move |m| e as f64 + f64::from(m).log10()))
                .filter(|v| (lo..=hi).contains(v))
                .collect()
        } else {
            (a..=b).map(|e| e as f64).collect()
        };
        return (major, minor);
    }
    if log {
        // Under two labelled decades: 1, 2 and 5 times each power of ten, if that gives three
        // ticks or more.
        let major: Vec<f64> = (lo.floor() as i64..=hi.ceil() as i64)
            .flat_map(|e| [1.0f64, 2.0, 5.0].map(|m| e as f64 + m.log10()))
            .filter(|v| (lo..=hi).contains(v))
            .collect();
        if major.len() >= 3 {
            let minor = (lo.floor() as i64..=hi.ceil() as i64)
                .flat_map(|e| (1..10).map(move |m| e as f64 + f64::from(m).log10()))
                .filter(|v| (lo..=hi).contains(v))
                .collect();
            return (major, minor);
        }
    }
    let (vlo, vhi) = if log {
        (10f64.powf(lo), 10f64.powf(hi))
    } else {
        (lo, hi)
    };
    let span = (vhi - vlo).abs().max(1e-300);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|st| span / st <= 6.0)
        .unwrap_or(10.0 * mag);
    let first = (vlo / step).ceil() as i64;
    let last = (vhi / step).floor() as i64;
    let values: Vec<f64> = (first..=last).map(|k| k as f64 * step).collect();
    let major: Vec<f64> = if log {
        values
            .into_iter()
            .filter(|v| *v > 0.0)
            .map(f64::log10)
            .collect()
    } else {
        values
    };
    let minor_step = step / 5.0;
    let mut minor = Vec::new();
    let (mf, ml) = (
        (vlo / minor_step).ceil() as i64,
        (vhi / minor_step).floor() as i64,
    );
    if ml - mf < 200 {
        for k in mf..=ml {
            let v = k as f64 * minor_step;
            if log {
                if v > 0.0 {
                    minor.push(v.log10());
                }
            } else {
                minor.push(v);
            }
        }
    }
    (major, minor)
}

/// A linear axis over transformed coordinates with the given major and minor ticks.
#[derive(Clone)]
pub struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub major: Vec<f64>,
    pub minor: Vec<f64>,
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        let t = if self.hi > self.lo {
            (v - self.lo) / (self.hi - self.lo)
        } else {
            0.5
        };
        limit.0 + ((f64::from(limit.1 - limit.0)) * t).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.major.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.lo..self.hi
    }
}
