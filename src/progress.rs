//! Progress reporting for long operations: the library calls a [`Progress`] handle and the CLI
//! decides how (and whether) to draw it.

/// Receives progress of a long operation. Implementations must be cheap and thread-safe because
/// worker threads call them once per chunk or object.
pub trait Progress: Sync {
    /// Announces the total amount of work, in the operation's unit, when it becomes known.
    fn set_total(&self, _total: u64) {}
    /// Adds `n` units of finished work (bytes for file writes and checkouts, objects for verify).
    fn add(&self, _n: u64) {}
}

/// A [`Progress`] that ignores every report.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}
