//! Comparison of two snapshots: files, models, schemas, golden tables, samples and metrics.
//!
//! Computation lives here and returns typed, serde-serializable reports ([`report::DiffReport`]).
//! Rendering to text, JSON and Markdown is a separate step ([`render`]). The CLI picks the
//! renderer and the exit code, with [`gate`] evaluating `--fail-on` rules.

pub mod compare;
pub mod config;
pub mod drift;
pub mod gate;
pub mod items;
pub mod render;
pub mod report;
pub mod sample;
pub mod schema;
pub mod stats;
pub mod table;

#[cfg(test)]
mod tests;
