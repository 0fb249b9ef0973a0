//! optbench's experiment files, from YAML text to a typed, validated [`plan::Plan`].
//!
//! [`yaml`] reads the text with positions, [`experiment`] checks its shape, [`expand`] expands
//! the grid, validates every value against the schema of what it configures and derives the ids,
//! [`shard`] says which shard owns which run. Nothing here reads or writes results.

pub mod error;
pub mod expand;
pub mod experiment;
pub mod ids;
pub mod keys;
pub mod plan;
pub mod shard;
pub mod yaml;

pub use error::ExperimentError;
