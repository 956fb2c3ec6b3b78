//! Command-line tests: each runs the `ev` binary on a temporary repository with author and time
//! pinned (`EV_AUTHOR`, `EV_COMMIT_TIME`) and CI variables removed, so ids are reproducible.

mod common;

mod branches;
mod commands;
mod concurrency;
mod crash;
mod diff;
mod docs;
mod json;
mod manifest;
mod revisions;
