//! Comparison of two snapshots: files, models, schemas, golden tables, samples and metrics.
//!
//! Computation lives here and returns typed, serde-serializable reports ([`report::DiffReport`]);
//! rendering to text, JSON and Markdown is a separate step ([`render`]), and the CLI picks the
//! renderer and the exit code ([`gate`] evaluates `--fail-on` rules).

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
