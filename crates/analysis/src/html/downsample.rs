//! Which recorded points of a long series go into `report.html`.
//!
//! A series of `n` recorded steps keeps all of them while `n ≤ max`. A longer one keeps about
//! `max` of them: half evenly spaced in index (for linear x axes) and half geometrically spaced
//! in index (so a log-x view still resolves the first steps, where losses fall fastest), always
//! with the first and the last point. Points are *selected*, never averaged: every point drawn
//! and every value shown on hover is a value recorded in `metrics.parquet` (or its mean over
//! seeds at that step). The choice depends on `n` alone, so configurations that recorded the
//! same steps keep the same steps, and the page stores that step list once.
//!
//! Written here rather than taken from a crate: the maintained downsampling crates (LTTB and
//! min–max bucketing) pick points by the shape of one line, which would give every
//! configuration and seed its own x values and defeat the shared step lists.

/// Points kept per configuration and metric when a run recorded more.
pub const MAX_POINTS: usize = 160;

/// Indices (ascending, distinct, first `0` and last `n − 1`) of the points kept out of `n`.
pub fn select(n: usize, max: usize) -> Vec<usize> {
    if n <= max.max(2) {
        return (0..n).collect();
    }
    let last = n - 1;
    let half = (max / 2).max(2);
    let mut keep: Vec<usize> = Vec::with_capacity(max + 2);
    // Evenly spaced in index.
    for j in 0..half {
        keep.push(((j as f64) * (last as f64) / ((half - 1) as f64)).round() as usize);
    }
    // Geometrically spaced in index, from 1 to n − 1.
    let top = libm::log(last as f64);
    for j in 0..half {
        let t = (j as f64) / ((half - 1) as f64);
        keep.push(libm::round(libm::exp(t * top)) as usize);
    }
    keep.push(0);
    keep.push(last);
    keep.retain(|&k| k <= last);
    keep.sort_unstable();
    keep.dedup();
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_series_are_kept_whole() {
        assert_eq!(select(0, 10), Vec::<usize>::new());
        assert_eq!(select(1, 10), vec![0]);
        assert_eq!(select(10, 10), (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn long_series_keep_ends_early_points_and_at_most_max() {
        for n in [41, 100, 1_001, 100_000] {
            let k = select(n, 40);
            assert!(k.len() <= 42, "{n}: {} points", k.len());
            assert!(k.len() >= 20, "{n}: {} points", k.len());
            assert_eq!(k[0], 0);
            assert_eq!(*k.last().unwrap(), n - 1);
            assert!(k.windows(2).all(|w| w[0] < w[1]));
            // The geometric half resolves the start: indices 1 and 2 are kept.
            assert!(k.contains(&1), "{n}");
        }
        // The even half (20 points) covers the whole range: no gap wider than n / 19.
        let k = select(100_000, 40);
        let widest = k.windows(2).map(|w| w[1] - w[0]).max().unwrap();
        assert!(widest <= 99_999 / 19 + 1, "widest gap {widest}");
    }
}
