//! ev: a Git-style, content-addressed evidence store for debugging production ML incidents.
//!
//! Terminology:
//! - **evidence**: anything a snapshot captures (model artifacts, feature schemas, golden query
//!   results, data samples, metrics, plain files), declared as named items in `evidence.toml`.
//! - **object**: an immutable, BLAKE3-named, zstd-compressed unit in the store (blob, file index,
//!   tree, commit, record).
//! - **tree**: a folder listing of a snapshot; **commit**: a snapshot with parents, author, time,
//!   message, labels and provenance.
//! - **ref**: a name (`HEAD`, `refs/heads/*`, `refs/tags/*`) pointing at a commit, updated by
//!   compare-and-swap and logged in a reflog.
//! - **profile**: statistics of a data sample computed at commit time, so diffs and bisect never
//!   re-read raw data; a **slice** is the subset of rows sharing one value of a declared column.
#![forbid(unsafe_code)]

pub mod bisect;
pub mod checkout;
pub mod chunker;
pub mod cli;
pub mod diff;
pub mod evidence;
pub mod id;
pub mod manifest;
pub mod object;
pub mod process_group;
pub mod profile;
pub mod progress;
pub mod provenance;
pub mod refs;
pub mod repo;
pub mod repo_path;
pub mod revision;
pub mod snapshot;
pub mod stat_cache;
pub mod store;
pub mod tree_walk;
pub mod verify;
