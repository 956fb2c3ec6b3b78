//! Comparison of two snapshots: files, models, schemas, golden tables, samples and metrics.
//!
//! Computation lives here and returns typed, serde-serializable reports; rendering to text, JSON
//! and Markdown is a separate step, and the CLI picks the renderer and the exit code.

pub mod drift;
pub mod sample;
pub mod schema;
pub mod stats;
pub mod table;
