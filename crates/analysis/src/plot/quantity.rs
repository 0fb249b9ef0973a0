//! The quantities figures are drawn from: per-step metrics ([`Metric`]), the final values that
//! pick configurations ([`SelectBy`]) and the x axis ([`XAxis`]), each with its column of the
//! results schema (`optbench-results`).

use super::data::{Run, Series};
use optbench_results as col;

/// A metric recorded per step in `metrics.parquet`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[strum(serialize_all = "snake_case")]
pub enum Metric {
    TrainLoss,
    TestLoss,
    TestAccuracy,
    TrainAccuracy,
    BatchLoss,
    GradNorm,
    UpdateNorm,
    Lr,
}

impl Metric {
    /// Column name in `metrics.parquet`.
    pub fn column(self) -> &'static str {
        match self {
            Metric::TrainLoss => col::TRAIN_LOSS,
            Metric::TestLoss => col::TEST_LOSS,
            Metric::TestAccuracy => col::TEST_ACCURACY,
            Metric::TrainAccuracy => col::TRAIN_ACCURACY,
            Metric::BatchLoss => col::BATCH_LOSS,
            Metric::GradNorm => col::GRAD_NORM,
            Metric::UpdateNorm => col::UPDATE_NORM,
            Metric::Lr => col::LR,
        }
    }

    /// Axis label with units.
    pub fn axis_label(self) -> &'static str {
        match self {
            Metric::TrainLoss => "Train loss (objective)",
            Metric::TestLoss => "Test loss (objective)",
            Metric::TestAccuracy => "Test accuracy (fraction)",
            Metric::TrainAccuracy => "Train accuracy (fraction)",
            Metric::BatchLoss => "Mini-batch loss (mean since last record)",
            Metric::GradNorm => "Gradient norm ‖g‖₂",
            Metric::UpdateNorm => "Update norm ‖θₜ − θₜ₋₁‖₂",
            Metric::Lr => "Learning rate",
        }
    }

    /// Whether the metric is a noisy per-step quantity (measured on the last mini-batch or
    /// update rather than on a fixed set), drawn smoothed over its faint raw line.
    pub fn is_noisy(self) -> bool {
        matches!(
            self,
            Metric::BatchLoss | Metric::GradNorm | Metric::UpdateNorm
        )
    }

    /// Whether the y axis is logarithmic (all but accuracies).
    pub fn log_scale(self) -> bool {
        !matches!(self, Metric::TestAccuracy | Metric::TrainAccuracy)
    }

    /// The values of this metric in a run's series.
    pub fn values(self, s: &Series) -> &[f64] {
        match self {
            Metric::TrainLoss => &s.train_loss,
            Metric::TestLoss => &s.test_loss,
            Metric::TestAccuracy => &s.test_accuracy,
            Metric::TrainAccuracy => &s.train_accuracy,
            Metric::BatchLoss => &s.batch_loss,
            Metric::GradNorm => &s.grad_norm,
            Metric::UpdateNorm => &s.update_norm,
            Metric::Lr => &s.lr,
        }
    }
}

/// A final value in `runs.parquet` that configurations are ranked by (`--select-by`).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[strum(serialize_all = "snake_case")]
pub enum SelectBy {
    #[default]
    FinalTrainLoss,
    FinalTestLoss,
    FinalTestAccuracy,
    BestTrainLoss,
}

impl SelectBy {
    /// The value of a run.
    pub fn value(self, r: &Run) -> f64 {
        match self {
            SelectBy::FinalTrainLoss => r.final_train_loss,
            SelectBy::FinalTestLoss => r.final_test_loss,
            SelectBy::FinalTestAccuracy => r.final_test_accuracy,
            SelectBy::BestTrainLoss => r.best_train_loss,
        }
    }

    /// Column name in `runs.parquet`.
    pub fn column(self) -> &'static str {
        match self {
            SelectBy::FinalTrainLoss => col::FINAL_TRAIN_LOSS,
            SelectBy::FinalTestLoss => col::FINAL_TEST_LOSS,
            SelectBy::FinalTestAccuracy => col::FINAL_TEST_ACCURACY,
            SelectBy::BestTrainLoss => col::BEST_TRAIN_LOSS,
        }
    }

    /// Whether larger is better (accuracy).
    pub fn higher_is_better(self) -> bool {
        matches!(self, SelectBy::FinalTestAccuracy)
    }

    /// Readable name.
    pub fn describe(self) -> &'static str {
        match self {
            SelectBy::FinalTrainLoss => "final train loss",
            SelectBy::FinalTestLoss => "final test loss",
            SelectBy::FinalTestAccuracy => "final test accuracy",
            SelectBy::BestTrainLoss => "best train loss",
        }
    }
}

/// Quantity on the x axis of per-step figures (`--x`).
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantNames,
)]
#[strum(serialize_all = "snake_case")]
pub enum XAxis {
    #[default]
    Step,
    Epoch,
    #[strum(serialize = "examples", serialize = "examples_seen")]
    Examples,
    #[strum(serialize = "time", serialize = "wall_time", serialize = "wall_time_s")]
    Time,
}

impl XAxis {
    /// Axis label with units.
    pub fn axis_label(self) -> &'static str {
        match self {
            XAxis::Step => "Step (parameter updates)",
            XAxis::Epoch => "Epoch (passes over the training set)",
            XAxis::Examples => "Examples seen",
            XAxis::Time => "Wall time (s)",
        }
    }

    /// The x values of a run's series.
    pub fn values(self, s: &Series) -> &[f64] {
        match self {
            XAxis::Step => &s.step,
            XAxis::Epoch => &s.epoch,
            XAxis::Examples => &s.examples_seen,
            XAxis::Time => &s.wall_time_s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::VariantNames;

    /// The names users type are the results schema's column names.
    #[test]
    fn names_are_the_schema_columns() {
        for name in Metric::VARIANTS {
            let m: Metric = name.parse().unwrap();
            assert_eq!(m.column(), *name);
            assert!(col::METRICS_COLUMNS.contains(name));
        }
        for name in SelectBy::VARIANTS {
            let s: SelectBy = name.parse().unwrap();
            assert_eq!(s.column(), *name);
            assert!(col::RUNS_TRAILING_COLUMNS.contains(name));
        }
    }
}
