//! optbench's analysis of results folders: statistics ([`stats`]), the CI comparison
//! ([`compare`]), tables ([`report`]) and figures ([`plot`]). It reads results folders only.

pub mod compare;
pub mod plot;
pub mod report;
pub mod stats;
