//! optbench's runner: experiment files, the plan, the parallel sweep, results, figures.

pub mod plan;
