//! The snapshot builder's plug-in for typed evidence: captures an item's record from the
//! workspace, stores extra blobs (golden result tables) and the record, and returns its id.

use std::error::Error as StdError;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use super::{CaptureContext, EvidenceRecord, Kind, capture};
use crate::chunker::{self, ChunkParams};
use crate::id::ObjectId;
use crate::manifest::{Item, ItemKind};
use crate::object::ObjectKind;
use crate::progress::NoProgress;
use crate::repo_path::RepoPath;
use crate::snapshot::TypedRecorder;
use crate::store::Store;

/// Records typed evidence for `ev commit`.
#[derive(Debug)]
pub struct EvidenceRecorder<'a> {
    pub interrupt: &'a AtomicBool,
    /// Store failing golden commands as evidence (`ev commit --allow-failed`).
    pub allow_failed: bool,
}

fn kind_of(kind: ItemKind) -> Option<Kind> {
    match kind {
        ItemKind::File => None,
        ItemKind::Model => Some(Kind::Model),
        ItemKind::Schema => Some(Kind::Schema),
        ItemKind::Golden => Some(Kind::Golden),
        ItemKind::Sample => Some(Kind::Sample),
        ItemKind::Metrics => Some(Kind::Metrics),
    }
}

impl TypedRecorder for EvidenceRecorder<'_> {
    fn record(
        &self,
        store: &Store,
        work_tree: &Path,
        item: &Item,
        files: &[(RepoPath, ObjectId)],
    ) -> Result<Option<ObjectId>, Box<dyn StdError + Send + Sync>> {
        let Some(kind) = kind_of(item.kind) else {
            return Ok(None);
        };
        // NOTE: capture re-reads the workspace files after the builder stored them; a file
        // rewritten in between yields a record of the newer content.
        let paths: Vec<PathBuf> = files.iter().map(|(p, _)| p.to_fs_path(work_tree)).collect();
        let ctx = CaptureContext {
            interrupt: self.interrupt,
            allow_failed: self.allow_failed,
            timeout: None,
            redact_key: None,
        };
        let mut captured = capture(kind, &item.options, work_tree, &paths, &ctx)?;
        for blob in &captured.extra_blobs {
            // Chunked like any file, so result tables larger than one object stay readable.
            let written = chunker::write_reader(
                store,
                &ChunkParams::default(),
                &mut Cursor::new(&blob.bytes),
                &NoProgress,
                self.interrupt,
            )?;
            if let EvidenceRecord::Golden(golden) = &mut captured.record
                && let Some(result) = &mut golden.result
                && result.blob == blob.name
            {
                result.blob_id = Some(written.id);
            }
        }
        let id = store.write_json(ObjectKind::Record, &captured.record)?;
        Ok(Some(id))
    }
}

/// Reads a typed record written by [`EvidenceRecorder`].
pub fn read_record(
    store: &Store,
    id: &ObjectId,
) -> Result<EvidenceRecord, crate::store::StoreError> {
    store.read_json(ObjectKind::Record, id)
}
