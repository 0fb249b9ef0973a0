//! Clipping in pixel coordinates: every series is cut to its panel's plotting rectangle before
//! it is drawn, so nothing a series draws (line, band, contour, marker) leaves its panel.
//!
//! Polylines are cut segment by segment with the Liang–Barsky algorithm (Liang & Barsky 1984,
//! "A new concept and method for line clipping"), bands (filled polygons) with
//! Sutherland–Hodgman (Sutherland & Hodgman 1974) against the four edges. Written here because
//! plotters does not clip what it draws to a drawing area, and both algorithms are a few lines.

/// An axis-aligned rectangle in pixels; `top < bottom` (y grows downwards).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub left: f64,
    pub top: f64,
    pub right: f64,
    pub bottom: f64,
}

impl Rect {
    /// The rectangle shrunk by `d` on every side (a line of width 2d drawn inside it stays
    /// inside this rectangle).
    pub fn inset(self, d: f64) -> Rect {
        Rect {
            left: self.left + d,
            top: self.top + d,
            right: self.right - d,
            bottom: self.bottom - d,
        }
    }

    /// Whether a point lies inside or on the edge.
    pub fn contains(&self, (x, y): (f64, f64)) -> bool {
        (self.left..=self.right).contains(&x) && (self.top..=self.bottom).contains(&y)
    }
}

/// The part of the segment a–b inside `r`, if any (Liang–Barsky).
pub fn clip_segment(a: (f64, f64), b: (f64, f64), r: &Rect) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - r.left),
        (dx, r.right - a.0),
        (-dy, a.1 - r.top),
        (dy, r.bottom - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    (t0 <= t1).then_some((
        (a.0 + t0 * dx, a.1 + t0 * dy),
        (a.0 + t1 * dx, a.1 + t1 * dy),
    ))
}

/// The pieces of a polyline inside `r`. A point that is `None` (not drawable, e.g. a
/// non-positive value on a log axis) breaks the line.
pub fn clip_polyline(points: &[Option<(f64, f64)>], r: &Rect) -> Vec<Vec<(f64, f64)>> {
    let mut pieces: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    let close = |current: &mut Vec<(f64, f64)>, pieces: &mut Vec<Vec<(f64, f64)>>| {
        if current.len() >= 2 {
            pieces.push(std::mem::take(current));
        } else {
            current.clear();
        }
    };
    for w in points.windows(2) {
        let (Some(a), Some(b)) = (w[0], w[1]) else {
            close(&mut current, &mut pieces);
            continue;
        };
        match clip_segment(a, b, r) {
            None => close(&mut current, &mut pieces),
            Some((p, q)) => {
                if current.last() != Some(&p) {
                    close(&mut current, &mut pieces);
                    current.push(p);
                }
                current.push(q);
                if q != b {
                    close(&mut current, &mut pieces);
                }
            }
        }
    }
    close(&mut current, &mut pieces);
    // A single drawable point inside the rectangle is kept as a one-point piece (markers).
    if pieces.is_empty() && points.iter().flatten().count() == 1 {
        if let Some(p) = points.iter().flatten().next().filter(|p| r.contains(**p)) {
            pieces.push(vec![*p]);
        }
    }
    pieces
}

/// A polygon cut to `r` (Sutherland–Hodgman); empty if nothing is inside.
pub fn clip_polygon(points: &[(f64, f64)], r: &Rect) -> Vec<(f64, f64)> {
    type Inside = fn(&Rect, (f64, f64)) -> bool;
    type Cross = fn(&Rect, (f64, f64), (f64, f64)) -> (f64, f64);
    let edges: [(Inside, Cross); 4] = [
        (
            |r, p| p.0 >= r.left,
            |r, a, b| {
                let t = (r.left - a.0) / (b.0 - a.0);
                (r.left, a.1 + t * (b.1 - a.1))
            },
        ),
        (
            |r, p| p.0 <= r.right,
            |r, a, b| {
                let t = (r.right - a.0) / (b.0 - a.0);
                (r.right, a.1 + t * (b.1 - a.1))
            },
        ),
        (
            |r, p| p.1 >= r.top,
            |r, a, b| {
                let t = (r.top - a.1) / (b.1 - a.1);
                (a.0 + t * (b.0 - a.0), r.top)
            },
        ),
        (
            |r, p| p.1 <= r.bottom,
            |r, a, b| {
                let t = (r.bottom - a.1) / (b.1 - a.1);
                (a.0 + t * (b.0 - a.0), r.bottom)
            },
        ),
    ];
    let mut out: Vec<(f64, f64)> = points.to_vec();
    for (inside, cross) in edges {
        if out.is_empty() {
            break;
        }
        let input = std::mem::take(&mut out);
        let mut prev = input[input.len() - 1];
        for &cur in &input {
            match (inside(r, prev), inside(r, cur)) {
                (true, true) => out.push(cur),
                (true, false) => out.push(cross(r, prev, cur)),
                (false, true) => {
                    out.push(cross(r, prev, cur));
                    out.push(cur);
                }
                (false, false) => {}
            }
            prev = cur;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const R: Rect = Rect {
        left: 0.0,
        top: 0.0,
        right: 10.0,
        bottom: 10.0,
    };

    fn close(a: (f64, f64), b: (f64, f64)) -> bool {
        (a.0 - b.0).abs() < 1e-12 && (a.1 - b.1).abs() < 1e-12
    }

    #[test]
    fn segments_are_cut_at_the_edges() {
        // Crosses the right edge at y = 5 (by hand: from (5, 0) to (15, 10)).
        let (p, q) = clip_segment((5.0, 0.0), (15.0, 10.0), &R).unwrap();
        assert!(close(p, (5.0, 0.0)) && close(q, (10.0, 5.0)), "{p:?} {q:?}");
        // Passes above the rectangle.
        assert!(clip_segment((-5.0, -1.0), (15.0, -1.0), &R).is_none());
        // Crosses it entirely: enters at x = 0, leaves at x = 10.
        let (p, q) = clip_segment((-5.0, 2.0), (15.0, 2.0), &R).unwrap();
        assert!(close(p, (0.0, 2.0)) && close(q, (10.0, 2.0)));
    }

    #[test]
    fn a_polyline_leaving_and_returning_gives_two_pieces() {
        let pts = [(1.0, 5.0), (5.0, 20.0), (9.0, 5.0)].map(Some);
        let pieces = clip_polyline(&pts, &R);
        assert_eq!(pieces.len(), 2, "{pieces:?}");
        for p in pieces.iter().flatten() {
            assert!(R.contains(*p), "{p:?}");
        }
        // A gap (None) breaks the line.
        let gap = [
            Some((1.0, 1.0)),
            Some((2.0, 2.0)),
            None,
            Some((3.0, 3.0)),
            Some((4.0, 4.0)),
        ];
        assert_eq!(clip_polyline(&gap, &R).len(), 2);
    }

    #[test]
    fn polygons_are_cut_to_the_rectangle() {
        // A square from (5, 5) to (15, 15): the quarter inside is (5, 5)–(10, 10).
        let sq = [(5.0, 5.0), (15.0, 5.0), (15.0, 15.0), (5.0, 15.0)];
        let out = clip_polygon(&sq, &R);
        assert!(!out.is_empty());
        for p in &out {
            assert!(R.contains(*p), "{p:?}");
        }
        let area: f64 = out
            .iter()
            .zip(out.iter().cycle().skip(1))
            .map(|(a, b)| a.0 * b.1 - b.0 * a.1)
            .sum::<f64>()
            / 2.0;
        assert!((area.abs() - 25.0).abs() < 1e-9, "area {area}");
        assert!(clip_polygon(&[(20.0, 20.0), (30.0, 20.0), (25.0, 30.0)], &R).is_empty());
    }
}
