//! Bisection over evidence history: find the first commit where something changed.
//!
//! - [`state`]: the pure state machine over a commit graph (good, bad, skip, next step).
//! - [`auto`]: the pure core of automatic bisection, which finds for every evidence item the
//!   first commit that departs from the good commit beyond its calibrated noise floor.
//! - [`run`]: the exit-code contract of `bisect run` and the voting of repeated runs.
//! - [`log`]: the replayable bisect log.
//! - [`predicate`]: built-in predicates over stored evidence.
//! - [`session`]: the bisection persisted in `.ev/bisect/`.

pub mod auto;
pub mod driver;
pub mod evidence_view;
pub mod exec;
pub mod history;
pub mod log;
pub mod oracle;
pub mod predicate;
pub mod run;
pub mod session;
pub mod state;
pub mod suspects;
pub mod tree_lookup;
