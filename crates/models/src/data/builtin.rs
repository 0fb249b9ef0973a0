//! Real datasets shipped inside this crate: gzip-compressed CSV files in `crates/models/data/`,
//! compiled into the binary (no network, no file at run time) and read with `flate2` and `csv`.
//!
//! `crates/models/data/README.md` gives each file's source, citation and licence;
//! `scripts/gen_builtin_datasets.py` regenerates them byte for byte. Every value is the text
//! its source publishes, parsed to the nearest `f32`.

use std::path::Path;

use flate2::read::GzDecoder;

use super::{Dataset, ImageShape};
use crate::error::ModelError;

/// One shipped file: its name (for messages), its bytes and its target column.
struct Builtin {
    file: &'static str,
    bytes: &'static [u8],
    target: &'static str,
}

const IRIS: Builtin = Builtin {
    file: "iris.csv.gz",
    bytes: include_bytes!("../../data/iris.csv.gz"),
    target: "species",
};

const WINE_QUALITY_RED: Builtin = Builtin {
    file: "winequality-red.csv.gz",
    bytes: include_bytes!("../../data/winequality-red.csv.gz"),
    target: "quality",
};

const DIABETES: Builtin = Builtin {
    file: "diabetes.csv.gz",
    bytes: include_bytes!("../../data/diabetes.csv.gz"),
    target: "progression",
};

const DIGITS: Builtin = Builtin {
    file: "digits.csv.gz",
    bytes: include_bytes!("../../data/digits.csv.gz"),
    target: "digit",
};

/// The shape of a `digits` image: one channel of 8×8.
pub(crate) const DIGITS_SHAPE: ImageShape = ImageShape {
    channels: 1,
    height: 8,
    width: 8,
};

/// Parses one shipped file into a dataset named `name`.
fn load(name: &str, b: &Builtin, n_classes: Option<usize>) -> Result<Dataset, ModelError> {
    let path = Path::new(b.file);
    let (x, d, y) = super::csv::read(path, GzDecoder::new(b.bytes), b.target)?;
    Dataset::new(name, x, d, y, n_classes)
        .ok_or_else(|| ModelError::malformed(path, None, None, "inconsistent built-in table"))
}

/// Fisher's iris as the UCI repository distributes it: 150 examples, 4 features (sepal and petal
/// length and width, cm), 3 classes of 50.
pub(super) fn iris() -> Result<Dataset, ModelError> {
    load("iris", &IRIS, Some(3))
}

/// The diabetes data of Efron et al. (2004), unscaled as published (scikit-learn's
/// `load_diabetes(scaled=False)`): 442 patients, 10 features (age, sex, body-mass index, blood
/// pressure, six blood serum measurements), target a real-valued disease progression one year
/// later.
pub(super) fn diabetes() -> Result<Dataset, ModelError> {
    load("diabetes", &DIABETES, None)
}

/// Red wine quality (Cortez et al. 2009): 1599 examples, 11 physico-chemical features, quality
/// score 3–8 as a real value or, when `classification`, as a class label (then 9 classes, 0–2
/// empty).
pub(super) fn wine_quality(classification: bool) -> Result<Dataset, ModelError> {
    load(
        "wine_quality",
        &WINE_QUALITY_RED,
        classification.then_some(9),
    )
}

/// The 1,797 handwritten digits that scikit-learn bundles (UCI "Optical Recognition of
/// Handwritten Digits"): 8×8 grey-scale images, values 0–16, 10 classes.
pub(super) fn digits() -> Result<Dataset, ModelError> {
    load("digits", &DIGITS, Some(10))?
        .with_image_shape(DIGITS_SHAPE)
        .ok_or_else(|| ModelError::malformed(Path::new(DIGITS.file), None, None, "not 8×8"))
}

#[cfg(test)]
#[allow(clippy::float_cmp)] // exact equality is the point: the published values
mod tests {
    use super::*;

    fn class_counts(d: &Dataset) -> Vec<usize> {
        let mut counts = vec![0; d.n_classes().unwrap()];
        d.targets().iter().for_each(|&t| counts[t as usize] += 1);
        counts
    }

    /// Sizes as the sources document them (UCI, Efron et al. 2004, scikit-learn's DESCR), first
    /// and last examples as printed in the published files.
    #[test]
    fn shapes_and_values_are_the_published_ones() {
        let i = iris().unwrap();
        assert_eq!((i.len(), i.n_features(), i.n_classes()), (150, 4, Some(3)));
        assert_eq!(class_counts(&i), [50, 50, 50]);
        assert_eq!(i.row(0), &[5.1, 3.5, 1.4, 0.2]);
        assert_eq!(i.row(149), &[5.9, 3.0, 5.1, 1.8]);
        // UCI's two differences from Fisher's table (scikit-learn and R use Fisher's values).
        assert_eq!(i.row(34), &[4.9, 3.1, 1.5, 0.1]);
        assert_eq!(i.row(37), &[4.9, 3.1, 1.5, 0.1]);

        let d = diabetes().unwrap();
        assert_eq!((d.len(), d.n_features(), d.n_classes()), (442, 10, None));
        assert_eq!(
            d.row(0),
            &[59.0, 2.0, 32.1, 101.0, 157.0, 93.2, 38.0, 4.0, 4.8598, 87.0]
        );
        assert_eq!((d.targets()[0], d.targets()[441]), (151.0, 57.0));

        let w = wine_quality(false).unwrap();
        assert_eq!((w.len(), w.n_features(), w.n_classes()), (1599, 11, None));
        assert_eq!(
            w.row(0),
            &[
                7.4, 0.7, 0.0, 1.9, 0.076, 11.0, 34.0, 0.9978, 3.51, 0.56, 9.4
            ]
        );
        let wc = wine_quality(true).unwrap();
        assert_eq!(class_counts(&wc), [0, 0, 0, 10, 53, 681, 638, 199, 18]);

        let g = digits().unwrap();
        assert_eq!(
            (g.len(), g.n_features(), g.n_classes()),
            (1797, 64, Some(10))
        );
        assert_eq!(g.image_shape(), Some(DIGITS_SHAPE));
        assert_eq!(
            class_counts(&g),
            [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
        );
        assert!(
            g.features()
                .iter()
                .all(|&v| v.fract() == 0.0 && (0.0..=16.0).contains(&v))
        );
        // The first image is a 0: its top-left and bottom-right corners are blank, its centre
        // column holds ink.
        assert_eq!((g.row(0)[0], g.row(0)[63], g.targets()[0]), (0.0, 0.0, 0.0));
        assert_eq!(&g.row(0)[2..6], &[5.0, 13.0, 9.0, 1.0]);
    }
}
