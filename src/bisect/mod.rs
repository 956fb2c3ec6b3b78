//! Bisection over evidence history: find the first commit where something changed.
//!
//! - [`state`]: the pure state machine over a commit graph (good, bad, skip, next step).
//! - [`auto`]: the pure core of automatic bisection, which finds for every evidence item the
//!   first commit that departs from the good commit beyond its calibrated noise floor.

pub mod auto;
pub mod state;
