//! The loaded data of one dataset: examples, targets and, for images, their shape.

/// Raw loaded data, before the split and standardization: `len()` examples of `n_features`
/// features (row-major `f32`) and one target each, and possibly an
/// [official test split](Dataset::official_test) of the same kind.
///
/// Class labels are stored as their integer value in `f32` (exact up to 2²⁴).
///
/// Image data also has an [`ImageShape`]: each example's features are then one image stored
/// channel by channel, each channel row by row (C×H×W row-major, PyTorch's NCHW layout for a
/// batch), so feature `(c·H + y)·W + x` is channel `c`, row `y`, column `x`.
///
/// ```
/// use optbench_models::Dataset;
/// let d = Dataset::new("tiny", vec![1.0, 2.0, 3.0, 4.0], 2, vec![0.0, 1.0], Some(2)).unwrap();
/// assert_eq!(d.len(), 2);
/// assert_eq!(d.row(1), &[3.0, 4.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    name: String,
    features: Vec<f32>,
    n_features: usize,
    targets: Vec<f32>,
    n_classes: Option<usize>,
    image_shape: Option<ImageShape>,
    official_test: Option<Box<Dataset>>,
    tokens: Option<Tokens>,
}

/// The tokens of a language-model dataset: its vocabulary and, for a text, the text itself as
/// token ids. A dataset of examples (`modular_arithmetic`) stores each example's input tokens
/// as its features (ids in `f32`, exact below 2²⁴) and the answer as its class label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tokens {
    /// Number of token ids.
    pub vocab_size: usize,
    /// What each id stands for (`tokens: char`: the characters; `modular_arithmetic`: residues,
    /// the operation and `=`); empty for bytes.
    pub symbols: Vec<String>,
    /// The text as token ids (empty for a dataset of examples).
    pub stream: Vec<u32>,
}

/// The shape of one image example: `channels` planes of `height` rows of `width` values, stored
/// C×H×W row-major (PyTorch's NCHW without the batch dimension).
///
/// ```
/// use optbench_models::ImageShape;
/// let rgb = ImageShape { channels: 3, height: 32, width: 32 };
/// assert_eq!((rgb.n_values(), rgb.plane()), (3072, 1024));
/// assert_eq!(rgb.to_string(), "3×32×32");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ImageShape {
    /// Number of channels (1 for grey-scale, 3 for RGB).
    pub channels: usize,
    /// Rows per channel.
    pub height: usize,
    /// Values per row.
    pub width: usize,
}

impl ImageShape {
    /// Values per image, C·H·W (the dataset's `n_features`).
    pub fn n_values(self) -> usize {
        self.channels * self.height * self.width
    }

    /// Values per channel, H·W.
    pub fn plane(self) -> usize {
        self.height * self.width
    }
}

impl std::fmt::Display for ImageShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}×{}×{}", self.channels, self.height, self.width)
    }
}

impl Dataset {
    /// A dataset from its parts; `None` if the lengths do not fit (`features.len() ==
    /// targets.len() * n_features`, `n_features ≥ 1`), a value is not finite, or a class label is
    /// not an integer in `0..n_classes`.
    pub fn new(
        name: impl Into<String>,
        features: Vec<f32>,
        n_features: usize,
        targets: Vec<f32>,
        n_classes: Option<usize>,
    ) -> Option<Self> {
        if n_features == 0 || features.len() != targets.len() * n_features {
            return None;
        }
        if !features.iter().chain(&targets).all(|v| v.is_finite()) {
            return None;
        }
        let label_ok = |t: f32, k: usize| t >= 0.0 && t.fract() == 0.0 && (t as usize) < k;
        if let Some(k) = n_classes {
            if !targets.iter().all(|&t| label_ok(t, k)) {
                return None;
            }
        }
        Some(Dataset {
            name: name.into(),
            features,
            n_features,
            targets,
            n_classes,
            image_shape: None,
            official_test: None,
            tokens: None,
        })
    }

    /// A text as a stream of token ids: no examples of its own (a language model cuts windows).
    pub fn text(name: impl Into<String>, tokens: Tokens) -> Self {
        Dataset {
            name: name.into(),
            features: Vec::new(),
            n_features: 1,
            targets: Vec::new(),
            n_classes: Some(tokens.vocab_size),
            image_shape: None,
            official_test: None,
            tokens: Some(tokens),
        }
    }

    /// The same data marked as token sequences with `tokens`' vocabulary.
    pub fn with_tokens(mut self, tokens: Tokens) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// The tokens of a language-model dataset, `None` for other data.
    pub fn tokens(&self) -> Option<&Tokens> {
        self.tokens.as_ref()
    }

    /// The same data marked as images of `shape`; `None` unless `shape.n_values()` equals
    /// [`Dataset::n_features`] (and no dimension is 0).
    ///
    /// ```
    /// use optbench_models::{Dataset, ImageShape};
    /// let shape = ImageShape { channels: 1, height: 2, width: 2 };
    /// let d = Dataset::new("tiny", vec![0.0; 8], 4, vec![0.0, 1.0], Some(2)).unwrap();
    /// let images = d.clone().with_image_shape(shape).unwrap();
    /// assert_eq!(images.image_shape(), Some(shape));
    /// let wrong = ImageShape { channels: 3, height: 2, width: 2 };
    /// assert!(d.with_image_shape(wrong).is_none());
    /// ```
    pub fn with_image_shape(mut self, shape: ImageShape) -> Option<Self> {
        if shape.n_values() != self.n_features {
            return None;
        }
        self.image_shape = Some(shape);
        if let Some(test) = &mut self.official_test {
            test.image_shape = Some(shape);
        }
        Some(self)
    }

    /// The shape of each example when the data are images, `None` for tabular data.
    pub fn image_shape(&self) -> Option<ImageShape> {
        self.image_shape
    }

    /// The same training examples with an official test split (MNIST's `t10k` files,
    /// CIFAR-10's `test_batch.bin`), which every run then uses instead of a random fraction;
    /// `None` unless `test` has the same number of features, classes and image shape.
    ///
    /// ```
    /// use optbench_models::Dataset;
    /// let train = Dataset::new("train", vec![0.0; 6], 2, vec![0.0, 1.0, 1.0], Some(2)).unwrap();
    /// let test = Dataset::new("test", vec![1.0; 2], 2, vec![1.0], Some(2)).unwrap();
    /// let d = train.with_official_test(test).unwrap();
    /// assert_eq!((d.len(), d.official_test().unwrap().len()), (3, 1));
    /// ```
    pub fn with_official_test(mut self, test: Dataset) -> Option<Self> {
        let fits = test.n_features == self.n_features
            && test.n_classes == self.n_classes
            && test.image_shape == self.image_shape
            && test.official_test.is_none();
        if !fits {
            return None;
        }
        self.official_test = Some(Box::new(test));
        Some(self)
    }

    /// The official test split, if the dataset has one; then [`Dataset::len`] and the other
    /// accessors describe the training examples only.
    pub fn official_test(&self) -> Option<&Dataset> {
        self.official_test.as_deref()
    }

    /// Name, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Features per example.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// All features, row-major.
    pub fn features(&self) -> &[f32] {
        &self.features
    }

    /// The features of example `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.features[i * self.n_features..(i + 1) * self.n_features]
    }

    /// Targets: class labels (as `f32`) or real values.
    pub fn targets(&self) -> &[f32] {
        &self.targets
    }

    /// Number of classes for classification data, `None` for regression data.
    pub fn n_classes(&self) -> Option<usize> {
        self.n_classes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataset_new_checks_parts() {
        assert!(Dataset::new("x", vec![1.0; 3], 2, vec![0.0], None).is_none());
        assert!(Dataset::new("x", vec![1.0; 2], 2, vec![2.0], Some(2)).is_none());
        assert!(Dataset::new("x", vec![f32::NAN; 2], 2, vec![0.0], None).is_none());
    }
}
