//! optbench's analysis of results folders: statistics ([`stats`]), the CI comparison
//! ([`compare`]), regression tracking over commits ([`history`]), tables ([`report`]), figures
//! ([`plot`]) and the interactive page ([`html`]). It reads results folders (and the history
//! store) only.

pub mod compare;
pub mod history;
pub mod html;
pub mod plot;
pub mod profile;
pub mod profile_table;
pub mod report;
pub mod stats;
