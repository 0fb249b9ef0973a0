//! optbench's execution: a run assembled from its spec ([`train`]), the training loop, the
//! parallel sweep with resume, claims and progress ([`sweep`]), and the merge of shards
//! ([`merge`]).

pub mod assemble;
pub mod merge;
pub mod sweep;
pub mod train;
