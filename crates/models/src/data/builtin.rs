//! Real datasets shipped inside linfa-datasets (compiled into the binary, no network needed).

use super::Dataset;

fn to_f32<'a>(it: impl Iterator<Item = &'a f64>) -> Vec<f32> {
    it.map(|&v| v as f32).collect()
}

/// Fisher's iris: 150 examples, 4 features, 3 classes.
pub(super) fn iris() -> Dataset {
    let d = linfa_datasets::iris();
    let x = d.records();
    let y: Vec<f32> = d.targets().iter().map(|&t| t as f32).collect();
    Dataset::new("iris", to_f32(x.iter()), x.ncols(), y, Some(3)).expect("iris is consistent")
}

/// Diabetes (Efron et al. 2004): 441 examples as linfa-datasets ships them, 10 features, a real-valued disease progression.
pub(super) fn diabetes() -> Dataset {
    let d = linfa_datasets::diabetes();
    let x = d.records();
    let y = to_f32(d.targets().iter());
    Dataset::new("diabetes", to_f32(x.iter()), x.ncols(), y, None).expect("diabetes is consistent")
}

/// Red wine quality (Cortez et al. 2009): 1599 examples, 11 features, quality score 3–8, as a
/// real value or as a class label (then 9 classes, 0–2 empty).
pub(super) fn wine_quality(classification: bool) -> Dataset {
    let d = linfa_datasets::winequality();
    let x = d.records();
    let y: Vec<f32> = d.targets().iter().map(|&t| t as f32).collect();
    let k = classification.then(|| y.iter().fold(0.0f32, |m, &t| m.max(t)) as usize + 1);
    Dataset::new("wine_quality", to_f32(x.iter()), x.ncols(), y, k)
        .expect("wine quality is consistent")
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: determinism, exact copies
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let i = iris();
        assert_eq!((i.len(), i.n_features(), i.n_classes()), (150, 4, Some(3)));
        let d = diabetes();
        assert_eq!((d.len(), d.n_features(), d.n_classes()), (441, 10, None));
        let w = wine_quality(false);
        assert_eq!((w.len(), w.n_features()), (1599, 11));
        assert!(w.targets().iter().all(|&t| (3.0..=8.0).contains(&t)));
        assert_eq!(wine_quality(true).n_classes(), Some(9));
    }
}
