//! Limits before work: the size of a plan (cells × seeds) is computed from the lengths of the
//! axes before any variant is made, so an oversized grid is rejected at once with the sizes of
//! its axes (the release binary rejects this 10⁶ cells × 100 seeds grid in a few milliseconds:
//! README, "An experiment file"), and a grid just under the limit is not.

use std::path::Path;

use optbench_spec::expand::load_str;

fn grid(lrs: usize, momenta: usize, seeds: usize) -> String {
    format!(
        "\
name: big
seeds: {seeds}
problems: [rosenbrock]
train: {{steps: 10, batch_size: full}}
optimizers:
  - name: sgd
    lr: {{logspace: [1.0e-6, 1.0], num: {lrs}}}
    momentum: {{linspace: [0.0, 0.99], num: {momenta}}}
"
    )
}

#[test]
fn a_million_cells_times_a_hundred_seeds_is_rejected_with_the_axes_sizes() {
    let Err(e) = load_str(&grid(1000, 1000, 100), Path::new("big.yaml"), &[]) else {
        panic!("10^8 runs must be rejected");
    };
    let text = e.to_string();
    assert!(
        text.contains(
            "1 problem × 1 train × 1000000 optimizer variants = 1000000 cells × 100 seeds"
        ),
        "{text}"
    );
    assert!(text.contains("more than 1000000 runs"), "{text}");
}

#[test]
fn the_limit_counts_seeds_and_a_plan_under_it_is_accepted() {
    let Err(e) = load_str(&grid(100, 101, 100), Path::new("big.yaml"), &[]) else {
        panic!("1,010,000 runs must be rejected");
    };
    assert!(e.to_string().contains("10100 cells × 100 seeds"), "{e}");
    let plan = load_str(&grid(100, 100, 2), Path::new("ok.yaml"), &[])
        .unwrap_or_else(|e| panic!("{e}"))
        .plan;
    assert_eq!(plan.len(), 20_000);
}
