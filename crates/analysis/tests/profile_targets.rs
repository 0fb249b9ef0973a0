//! Performance profiles and runtime ECDFs against numbers computed by hand for a small folder
//! written here: three problems, two optimizers (A tuned over two learning rates), three seeds,
//! train loss 1.0 until the step a seed reaches the target, 0.05 from then on.
//!
//! Steps to train_loss <= 0.1 (and <= 0.5: the same steps), `-` never:
//!
//! | problem | A lr=0.1     | A lr=0.01 | B lr=0.1   |
//! |---------|--------------|-----------|------------|
//! | p1      | 20, 30, 40   | 60, 70, 80| 50, 60, -  |
//! | p2      | 80, 90, -    | -, -, -   | 40, 40, 50 |
//! | p3      | -, -, -      | -, -, -   | -, -, -    |
//!
//! By hand: A's best configuration is lr=0.1 on p1 (median 30 < 70) and on p2 (90 < ∞).
//! c(p1) = A 30 [25, 35], B 60 [55, ∞]; c(p2) = A 90 [85, ∞], B 40 [40, 45]; p3 unsolved.
//! Ratios: p1 A 1, B 2; p2 A 90/40 = 2.25, B 1; p3 ∞. So ρ_A(1) = 1/3, ρ_A(2) = 1/3,
//! ρ_A(2.25) = 2/3; ρ_B(1) = 1/3, ρ_B(2) = 2/3; neither ever reaches 1.
//! ECDF over the two targets (6 pairs): A solves {30, 90} twice, B {60, 40} twice, so
//! F_A(50) = 2/6, F_A(100) = 4/6, F_B(50) = 2/6, F_B(60) = 4/6.

use optbench_analysis::compare::Target;
use optbench_analysis::plot::{self, XAxis};
use optbench_analysis::profile::{self, Costs};
use optbench_analysis::report::{ReportOptions, write_report_with};
use optbench_results as col;
use polars::prelude::*;
use std::path::Path;

const NEVER: u64 = u64::MAX;

/// (problem, optimizer, lr, steps to target per seed).
const CELLS: [(&str, &str, f64, [u64; 3]); 9] = [
    ("p1", "A", 0.1, [20, 30, 40]),
    ("p1", "A", 0.01, [60, 70, 80]),
    ("p1", "B", 0.1, [50, 60, NEVER]),
    ("p2", "A", 0.1, [80, 90, NEVER]),
    ("p2", "A", 0.01, [NEVER, NEVER, NEVER]),
    ("p2", "B", 0.1, [40, 40, 50]),
    ("p3", "A", 0.1, [NEVER, NEVER, NEVER]),
    ("p3", "A", 0.01, [NEVER, NEVER, NEVER]),
    ("p3", "B", 0.1, [NEVER, NEVER, NEVER]),
];

fn write_folder(dir: &Path) {
    let (mut run_id, mut cell_id, mut problem, mut optimizer, mut label) =
        (vec![], vec![], vec![], vec![], vec![]);
    let (mut seed, mut lr, mut status) = (vec![], vec![], vec![]);
    let (mut m_id, mut m_step, mut m_loss) = (vec![], vec![], vec![]);
    for (c, (p, o, rate, reach)) in CELLS.iter().enumerate() {
        for (s, &r) in reach.iter().enumerate() {
            let id = format!("run-{c}-{s}");
            run_id.push(id.clone());
            cell_id.push(format!("cell-{c}"));
            problem.push(p.to_string());
            optimizer.push(o.to_string());
            label.push(format!("{o} lr={rate}"));
            seed.push(s as u64);
            lr.push(*rate);
            status.push(col::STATUS_OK.to_string());
            for step in (0..=100u64).step_by(10) {
                m_id.push(id.clone());
                m_step.push(step);
                m_loss.push(if step >= r { 0.05 } else { 1.0 });
            }
        }
    }
    let n = run_id.len();
    let mut runs = DataFrame::new(
        n,
        vec![
            Column::new(col::RUN_ID.into(), run_id),
            Column::new(col::CELL_ID.into(), cell_id),
            Column::new(col::PROBLEM.into(), problem),
            Column::new(col::OPTIMIZER.into(), optimizer),
            Column::new(col::LABEL.into(), label),
            Column::new(col::SEED.into(), seed),
            Column::new(col::BATCH_SIZE.into(), vec![8u64; n]),
            Column::new(col::LR.into(), lr),
            Column::new(col::STATUS.into(), status),
            Column::new(col::FINAL_TRAIN_LOSS.into(), vec![0.05f64; n]),
        ],
    )
    .unwrap();
    let rows = m_id.len();
    let mut metrics = DataFrame::new(
        rows,
        vec![
            Column::new(col::RUN_ID.into(), m_id),
            Column::new(col::STEP.into(), m_step),
            Column::new(col::TRAIN_LOSS.into(), m_loss),
        ],
    )
    .unwrap();
    col::write_parquet(&dir.join("runs.parquet"), &mut runs).unwrap();
    col::write_parquet(&dir.join("metrics.parquet"), &mut metrics).unwrap();
}

fn costs(dir: &Path, target: &str) -> Costs {
    let loaded = plot::load(dir).unwrap();
    let t = Target::parse(target).unwrap();
    profile::costs(
        &loaded.groups,
        &loaded.runs,
        &loaded.metrics,
        &t,
        XAxis::Step,
    )
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12 || (a.is_infinite() && b.is_infinite())
}

#[test]
fn hand_computed_profile() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    let c = costs(dir.path(), "train_loss=0.1");
    assert_eq!(c.problems, ["p1", "p2", "p3"]);
    assert_eq!(c.settings, ["A", "B"]);
    let (a, b) = (0, 1);
    let cell = |p: usize, s: usize| c.cells[p][s].clone().unwrap();
    let want = [
        (0, a, "A lr=0.1", 30.0, 25.0, 35.0),
        (0, b, "B lr=0.1", 60.0, 55.0, f64::INFINITY),
        (1, a, "A lr=0.1", 90.0, 85.0, f64::INFINITY),
        (1, b, "B lr=0.1", 40.0, 40.0, 45.0),
    ];
    for (p, s, label, median, q1, q3) in want {
        let got = cell(p, s);
        assert_eq!(got.label, label, "problem {p} setting {s}");
        assert!(
            close(got.median, median) && close(got.q1, q1) && close(got.q3, q3),
            "problem {p} setting {s}: {got:?}"
        );
    }
    assert!(c.cost(2, a).is_infinite() && c.cost(2, b).is_infinite());

    let r = c.ratios();
    assert!(close(r[0][a], 1.0) && close(r[0][b], 2.0));
    assert!(close(r[1][a], 2.25) && close(r[1][b], 1.0));
    assert!(r[2][a].is_infinite() && r[2][b].is_infinite());

    let prof = c.profile();
    let rho = |s: usize, tau: f64| profile::rho(&prof[s], c.problems.len(), tau);
    for (s, tau, want) in [
        (a, 1.0, 1.0 / 3.0),
        (a, 2.0, 1.0 / 3.0),
        (a, 2.25, 2.0 / 3.0),
        (a, 1e9, 2.0 / 3.0),
        (b, 1.0, 1.0 / 3.0),
        (b, 1.99, 1.0 / 3.0),
        (b, 2.0, 2.0 / 3.0),
    ] {
        assert!(close(rho(s, tau), want), "rho_{s}({tau}) = {}", rho(s, tau));
    }

    let both = [c.clone(), costs(dir.path(), "train_loss=0.5")];
    let (per, pairs) = profile::ecdf(&both);
    assert_eq!(pairs, 6);
    let frac = |s: usize, budget: f64| {
        per[s].iter().filter(|&&x| x <= budget).count() as f64 / pairs as f64
    };
    assert!(close(frac(a, 50.0), 2.0 / 6.0) && close(frac(a, 100.0), 4.0 / 6.0));
    assert!(close(frac(b, 50.0), 2.0 / 6.0) && close(frac(b, 60.0), 4.0 / 6.0));
}

#[test]
fn report_tables_and_figure_of_targets() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    let opts = ReportOptions {
        profiles: vec![
            Target::parse("train_loss=0.1").unwrap(),
            Target::parse("train_loss=0.5").unwrap(),
        ],
        formats: "png,pdf".parse().unwrap(),
        ..ReportOptions::default()
    };
    let files = write_report_with(dir.path(), &opts).unwrap();
    let md = std::fs::read_to_string(&files.markdown).unwrap();
    let section = md.split("## Steps to train_loss ≤ 0.1").nth(1).unwrap();
    let row = |name: &str| {
        section
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no row {name} in\n{section}"))
            .to_string()
    };
    assert_eq!(
        row("A"),
        "| A | **30 [25, 35]** | 90 [85, ∞] | ∞ | 2/3 | 1/3 |"
    );
    assert_eq!(
        row("B"),
        "| B | 60 [55, ∞] | **40 [40, 45]** | ∞ | 2/3 | 1/3 |"
    );
    assert!(md.contains("![") && md.contains("plots/profile_train_loss.png"));
    let tex = std::fs::read_to_string(&files.latex).unwrap();
    assert!(tex.contains("\\includegraphics{plots/profile_train_loss.pdf}"));
    assert!(tex.contains("30 [25, 35]") && tex.contains("$\\infty$"));
    for ext in ["png", "pdf"] {
        assert!(
            dir.path()
                .join(format!("plots/profile_train_loss.{ext}"))
                .exists()
        );
    }
}
