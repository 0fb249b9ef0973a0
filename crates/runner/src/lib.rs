//! optbench's runner: experiment files, the plan, the parallel sweep, results, figures.
//!
//! The pipeline: [`yaml`] reads an experiment file into [`experiment`] types, [`expand`] turns it
//! into a validated [`plan::Plan`], [`sweep`] runs the plan in parallel ([`train`] is one run),
//! [`results`] writes Parquet, [`plot`] and [`report`] draw figures and tables from those files,
//! [`compare`] gates CI on regressions, [`shard`] and [`merge`] split a plan across machines.
//! [`cli`] is the command line on top.

pub mod cli;
pub mod compare;
pub mod error;
pub mod expand;
pub mod experiment;
pub mod merge;
pub mod plan;
pub mod plot;
pub mod report;
pub mod results;
pub mod shard;
pub mod stats;
pub mod sweep;
pub mod train;
pub mod yaml;
