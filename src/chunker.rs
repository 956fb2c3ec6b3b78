//! Streaming file writes with content-defined chunking.
//!
//! A file no larger than [`ChunkParams::min_size`] is stored as one blob. A larger file is cut
//! into chunks by FastCDC (the 2020 variant, normalization level 1, seed 0, as implemented by the
//! `fastcdc` crate's `v2020::StreamCDC`); each chunk becomes a blob and the file becomes a
//! [`FileIndex`] object listing them. Because cut points depend on content only, a file that
//! changed in one region shares all other chunks with its earlier version.
//!
//! The calling thread reads and cuts; worker threads hash, compress and stage chunks, so hashing
//! and compression use all cores while memory stays bounded by the channel depth times the maximum
//! chunk size, never the file size. Chunks are written through a deferred store handle
//! ([`Store::deferred`]): each new chunk's temp file only starts its write-back, so the disk works
//! while later chunks are compressed, and is renamed into place after the last chunk. With a
//! deferred store from the caller, the caller's durability barrier covers chunks and index alike
//! (a commit runs it before moving its ref). With a plain store, the chunks are made durable in
//! one barrier here before the [`FileIndex`] is written, so an index never names a chunk that is
//! not durable.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};

use fastcdc::v2020::StreamCDC;
use serde::{Deserialize, Serialize};

use crate::id::ObjectId;
use crate::object::{ChunkRef, FileIndex, ObjectKind, canonical_header, encode_bytes, encode_json};
use crate::progress::Progress;
use crate::store::{StagedObject, Store, StoreError};

/// Content-defined chunking parameters, in bytes. They are part of the repository config because
/// they decide the ids of large files: changing them breaks nothing but stops deduplication
/// between files written before and after the change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChunkParams {
    /// Smallest chunk, and the largest file stored as a single blob.
    pub min_size: u32,
    /// Target average chunk size.
    pub avg_size: u32,
    /// Largest chunk.
    pub max_size: u32,
}

impl Default for ChunkParams {
    /// 256 KiB / 1 MiB / 4 MiB. An average near 1 MiB is what restic and borg use for backups: it
    /// keeps a 1 GiB file near 1,000 objects (each object is one file in the store, so much
    /// smaller chunks would cost inodes and fsyncs), while an appended or edited region of a table
    /// file still costs only about one extra chunk on each side of the change.
    fn default() -> Self {
        ChunkParams {
            min_size: 256 * 1024,
            avg_size: 1024 * 1024,
            max_size: 4 * 1024 * 1024,
        }
    }
}

impl ChunkParams {
    /// Checks the ranges that FastCDC 2020 supports (min 64 B–1 MiB, avg 256 B–4 MiB,
    /// max 1 KiB–16 MiB, all even) and that min ≤ avg ≤ max.
    pub fn validate(&self) -> Result<(), ChunkError> {
        let invalid = |message: String| Err(ChunkError::InvalidParams { message });
        let ChunkParams {
            min_size,
            avg_size,
            max_size,
        } = *self;
        let ranges = [
            (
                "min_size",
                min_size,
                fastcdc::v2020::MINIMUM_MIN,
                fastcdc::v2020::MINIMUM_MAX,
            ),
            (
                "avg_size",
                avg_size,
                fastcdc::v2020::AVERAGE_MIN,
                fastcdc::v2020::AVERAGE_MAX,
            ),
            (
                "max_size",
                max_size,
                fastcdc::v2020::MAXIMUM_MIN,
                fastcdc::v2020::MAXIMUM_MAX,
            ),
        ];
        for (name, value, low, high) in ranges {
            let value = value as usize;
            if value < low || value > high {
                return invalid(format!("{name} = {value} is outside {low}..={high} bytes"));
            }
            if value % 2 != 0 {
                return invalid(format!("{name} = {value} must be even"));
            }
        }
        if !(min_size <= avg_size && avg_size <= max_size) {
            return invalid(format!(
                "sizes must satisfy min_size <= avg_size <= max_size, found {min_size}, {avg_size}, {max_size}"
            ));
        }
        Ok(())
    }
}

/// What [`write_file`] stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileWrite {
    /// Id of the blob (small file) or [`FileIndex`] (chunked file).
    pub id: ObjectId,
    /// [`ObjectKind::Blob`] or [`ObjectKind::File`].
    pub kind: ObjectKind,
    /// File size in bytes.
    pub size: u64,
    /// Blobs that were not in the store before (chunks, or the single blob).
    pub chunks_written: u64,
    /// Payload bytes of those new blobs.
    pub bytes_new: u64,
}

/// A reason a file could not be chunked and stored.
#[derive(Debug, thiserror::Error)]
pub enum ChunkError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path} is not a regular file")]
    NotAFile { path: PathBuf },
    #[error("{path} changed while it was being stored: {reason}")]
    FileChanged { path: PathBuf, reason: String },
    #[error("interrupted")]
    Interrupted,
    #[error("invalid chunking parameters: {message}")]
    InvalidParams { message: String },
}

/// Stores the file at `path` and returns its id. Fails with [`ChunkError::FileChanged`] if the
/// file's size or modification time changes while it is read, or if it yields more or fewer bytes
/// than its size said. `progress` receives byte counts; setting `interrupt` stops the write
/// between chunks with [`ChunkError::Interrupted`] (chunks already stored stay as unreferenced
/// objects).
pub fn write_file(
    store: &Store,
    params: &ChunkParams,
    path: &Path,
    progress: &dyn Progress,
    interrupt: &AtomicBool,
) -> Result<FileWrite, ChunkError> {
    process_file(Some(store), params, path, progress, interrupt)
}

/// Computes the id that [`write_file`] would return for `path`, writing nothing.
pub fn hash_file(
    params: &ChunkParams,
    path: &Path,
    progress: &dyn Progress,
    interrupt: &AtomicBool,
) -> Result<ObjectId, ChunkError> {
    Ok(process_file(None, params, path, progress, interrupt)?.id)
}

/// Stores everything `reader` yields as one file. No change detection is possible here.
pub fn write_reader(
    store: &Store,
    params: &ChunkParams,
    reader: &mut dyn Read,
    progress: &dyn Progress,
    interrupt: &AtomicBool,
) -> Result<FileWrite, ChunkError> {
    let path = Path::new("<stream>");
    let chunked = chunk_stream(Some(store), params, reader, path, progress, interrupt)?;
    finish(Some(store), chunked)
}

fn process_file(
    store: Option<&Store>,
    params: &ChunkParams,
    path: &Path,
    progress: &dyn Progress,
    interrupt: &AtomicBool,
) -> Result<FileWrite, ChunkError> {
    let io_err = |source| ChunkError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(io_err)?;
    let before = file.metadata().map_err(io_err)?;
    if !before.is_file() {
        return Err(ChunkError::NotAFile {
            path: path.to_owned(),
        });
    }
    progress.set_total(before.len());
    let chunked = chunk_stream(store, params, &mut file, path, progress, interrupt)?;
    let after = file.metadata().map_err(io_err)?;
    let changed = |reason: String| {
        Err(ChunkError::FileChanged {
            path: path.to_owned(),
            reason,
        })
    };
    if chunked.size != before.len() {
        return changed(format!(
            "its size was {} bytes when opened but {} bytes were read",
            before.len(),
            chunked.size
        ));
    }
    if after.len() != before.len() {
        return changed(format!(
            "its size went from {} to {} bytes",
            before.len(),
            after.len()
        ));
    }
    if after.modified().ok() != before.modified().ok() {
        return changed("its modification time changed".to_owned());
    }
    finish(store, chunked)
}

/// The outcome of cutting and staging a stream, before its file object is written.
struct Chunked {
    size: u64,
    /// Set for a stream no larger than `min_size`: its single blob, already stored.
    single: Option<ObjectId>,
    chunks: Vec<ChunkRef>,
    chunks_written: u64,
    bytes_new: u64,
}

fn finish(store: Option<&Store>, chunked: Chunked) -> Result<FileWrite, ChunkError> {
    if let Some(id) = chunked.single {
        return Ok(FileWrite {
            id,
            kind: ObjectKind::Blob,
            size: chunked.size,
            chunks_written: chunked.chunks_written,
            bytes_new: chunked.bytes_new,
        });
    }
    let index = FileIndex {
        size: chunked.size,
        chunks: chunked.chunks,
    };
    let id = match store {
        Some(store) => store.write_json(ObjectKind::File, &index)?,
        None => encode_json(ObjectKind::File, &index).0,
    };
    Ok(FileWrite {
        id,
        kind: ObjectKind::File,
        size: chunked.size,
        chunks_written: chunked.chunks_written,
        bytes_new: chunked.bytes_new,
    })
}

/// Reads until `buf` is full or the reader ends; returns the number of bytes read.
fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// One chunk after hashing (and staging, when storing).
struct Done {
    index: usize,
    chunk: ChunkRef,
    staged: Option<StagedObject>,
}

fn chunk_stream(
    store: Option<&Store>,
    params: &ChunkParams,
    reader: &mut dyn Read,
    path: &Path,
    progress: &dyn Progress,
    interrupt: &AtomicBool,
) -> Result<Chunked, ChunkError> {
    params.validate()?;
    let io_err = |source| ChunkError::Io {
        path: path.to_owned(),
        source,
    };
    // Chunks always go through a deferred handle. With a plain store the barrier runs below,
    // before the index naming the chunks is written.
    let original = store;
    let batch = store.map(|s| {
        if s.is_deferred() {
            s.clone()
        } else {
            s.deferred()
        }
    });
    let store = batch.as_ref();
    // Read one byte past min_size to learn whether the stream is a single blob.
    let min = params.min_size as usize;
    let mut head = vec![0u8; min + 1];
    let head_len = read_full(reader, &mut head).map_err(io_err)?;
    head.truncate(head_len);
    if head_len <= min {
        return store_single(store, head, progress);
    }

    let source = io::Cursor::new(head).chain(reader);
    let chunker = StreamCDC::new(
        source,
        params.min_size as usize,
        params.avg_size as usize,
        params.max_size as usize,
    );
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);

    let mut slots: Vec<Option<ChunkRef>> = Vec::new();
    let mut staged: Vec<(ObjectId, StagedObject)> = Vec::new();
    let mut first_error: Option<ChunkError> = None;
    let mut collect = |result: Result<Done, ChunkError>,
                       slots: &mut Vec<Option<ChunkRef>>,
                       first_error: &mut Option<ChunkError>| match result {
        Ok(done) => {
            if let Some(object) = done.staged {
                staged.push((done.chunk.id, object));
            }
            if slots.len() <= done.index {
                slots.resize(done.index + 1, None);
            }
            slots[done.index] = Some(done.chunk);
        }
        Err(e) => {
            first_error.get_or_insert(e);
        }
    };

    // Depth equal to the worker count keeps every worker busy while bounding memory to
    // (depth + workers + 1) × max_size: queued chunks, chunks in work, the chunker's buffer.
    let (work_tx, work_rx) = mpsc::sync_channel::<(usize, Vec<u8>)>(workers);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::channel::<Result<Done, ChunkError>>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let done_tx = done_tx.clone();
            let work_rx = &work_rx;
            scope.spawn(move || {
                loop {
                    let job = match work_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => break,
                    };
                    let Ok((index, data)) = job else { break };
                    let result = process_chunk(store, index, &data, progress);
                    let failed = result.is_err();
                    if done_tx.send(result).is_err() || failed {
                        break;
                    }
                }
            });
        }
        drop(done_tx);

        for (index, chunk) in chunker.enumerate() {
            while let Ok(result) = done_rx.try_recv() {
                collect(result, &mut slots, &mut first_error);
            }
            if first_error.is_some() {
                break;
            }
            if interrupt.load(Ordering::Relaxed) {
                first_error = Some(ChunkError::Interrupted);
                break;
            }
            let data = match chunk {
                Ok(chunk) => chunk.data,
                Err(e) => {
                    first_error = Some(io_err(io::Error::from(e)));
                    break;
                }
            };
            if work_tx.send((index, data)).is_err() {
                break;
            }
        }
        drop(work_tx);
        for result in done_rx {
            collect(result, &mut slots, &mut first_error);
        }
    });
    if let Some(e) = first_error {
        return Err(e);
    }

    let mut chunks = Vec::with_capacity(slots.len());
    for (index, slot) in slots.into_iter().enumerate() {
        chunks.push(slot.ok_or_else(|| {
            io_err(io::Error::other(format!(
                "chunk {index} was never processed (a worker thread stopped)"
            )))
        })?);
    }
    let size = chunks.iter().map(|c| c.size).sum();
    let (chunks_written, bytes_new) = match store {
        Some(store) => publish_all(store, &chunks, staged)?,
        None => (0, 0),
    };
    if let (Some(batch), Some(original)) = (store, original) {
        if !original.is_deferred() {
            batch.sync_pending()?;
        }
    }
    Ok(Chunked {
        size,
        single: None,
        chunks,
        chunks_written,
        bytes_new,
    })
}

fn store_single(
    store: Option<&Store>,
    data: Vec<u8>,
    progress: &dyn Progress,
) -> Result<Chunked, ChunkError> {
    let size = data.len() as u64;
    let (id, chunks_written, bytes_new) = match store {
        Some(store) => {
            let id = encode_bytes(ObjectKind::Blob, &data).0;
            let new = !store.contains(&id);
            store.write_bytes(ObjectKind::Blob, &data)?;
            (id, u64::from(new), if new { size } else { 0 })
        }
        None => (encode_bytes(ObjectKind::Blob, &data).0, 0, 0),
    };
    progress.add(size);
    Ok(Chunked {
        size,
        single: Some(id),
        chunks: Vec::new(),
        chunks_written,
        bytes_new,
    })
}

fn process_chunk(
    store: Option<&Store>,
    index: usize,
    data: &[u8],
    progress: &dyn Progress,
) -> Result<Done, ChunkError> {
    let header = canonical_header(ObjectKind::Blob, data.len() as u64);
    let mut hasher = blake3::Hasher::new();
    hasher.update(&header);
    hasher.update(data);
    let id = ObjectId::from(hasher.finalize());
    let staged = match store {
        Some(store) => store.stage(&id, &header, data)?,
        None => None,
    };
    progress.add(data.len() as u64);
    Ok(Done {
        index,
        chunk: ChunkRef {
            id,
            size: data.len() as u64,
        },
        staged,
    })
}

/// Publishes staged chunks through the deferred handle `store`: renames each into place, leaving
/// durability to its barrier. Returns the count and payload bytes of new chunks.
fn publish_all(
    store: &Store,
    chunks: &[ChunkRef],
    staged: Vec<(ObjectId, StagedObject)>,
) -> Result<(u64, u64), ChunkError> {
    // Two workers may stage the same chunk when it repeats within the file; keep one.
    let mut seen = HashSet::new();
    let staged: Vec<(ObjectId, StagedObject)> = staged
        .into_iter()
        .filter(|(id, _)| seen.insert(*id))
        .collect();
    let written = staged.len() as u64;
    for (_, object) in staged {
        store.publish(object)?;
    }
    // Each new chunk counts once even if the file repeats it.
    let bytes_new = chunks
        .iter()
        .filter(|c| seen.remove(&c.id))
        .map(|c| c.size)
        .sum();
    Ok((written, bytes_new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;
    use proptest::prelude::*;
    use std::io::Write;

    /// Small parameters so tests cut many chunks out of little data.
    const SMALL: ChunkParams = ChunkParams {
        min_size: 1024,
        avg_size: 4096,
        max_size: 16384,
    };

    fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(&dir.path().join("objects")).unwrap();
        (dir, store)
    }

    /// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
    fn noise(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    fn write_temp(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
        let path = dir.join(name);
        fs_write(&path, data);
        path
    }

    fn fs_write(path: &Path, data: &[u8]) {
        std::fs::write(path, data).unwrap();
    }

    fn read_back(store: &Store, id: &ObjectId) -> Vec<u8> {
        let mut out = Vec::new();
        store
            .open_file_reader(id)
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn default_params_are_valid() {
        ChunkParams::default().validate().unwrap();
        SMALL.validate().unwrap();
    }

    #[test]
    fn invalid_params_are_rejected() {
        for params in [
            ChunkParams {
                min_size: 10,
                ..SMALL
            },
            ChunkParams {
                avg_size: 4097,
                ..SMALL
            },
            ChunkParams {
                max_size: 32 * 1024 * 1024,
                ..SMALL
            },
            ChunkParams {
                min_size: 8192,
                avg_size: 4096,
                max_size: 16384,
            },
        ] {
            assert!(
                matches!(params.validate(), Err(ChunkError::InvalidParams { .. })),
                "{params:?} accepted"
            );
        }
    }

    #[test]
    fn small_file_is_one_blob() {
        let (dir, store) = temp_store();
        let data = noise(SMALL.min_size as usize, 1);
        let path = write_temp(dir.path(), "small", &data);
        let out = write_file(&store, &SMALL, &path, &NoProgress, &AtomicBool::new(false)).unwrap();
        assert_eq!(out.kind, ObjectKind::Blob);
        assert_eq!(out.id, encode_bytes(ObjectKind::Blob, &data).0);
        assert_eq!(out.chunks_written, 1);
        assert_eq!(out.bytes_new, data.len() as u64);
        assert_eq!(read_back(&store, &out.id), data);
    }

    #[test]
    fn empty_file_is_empty_blob() {
        let (dir, store) = temp_store();
        let path = write_temp(dir.path(), "empty", b"");
        let out = write_file(&store, &SMALL, &path, &NoProgress, &AtomicBool::new(false)).unwrap();
        assert_eq!(out.kind, ObjectKind::Blob);
        assert_eq!(out.size, 0);
        assert!(read_back(&store, &out.id).is_empty());
    }

    #[test]
    fn large_file_is_chunked_and_deduplicated() {
        let (dir, store) = temp_store();
        let data = noise(200_000, 2);
        let path = write_temp(dir.path(), "big", &data);
        let stop = AtomicBool::new(false);
        let first = write_file(&store, &SMALL, &path, &NoProgress, &stop).unwrap();
        assert_eq!(first.kind, ObjectKind::File);
        assert_eq!(first.size, 200_000);
        let index: FileIndex = store.read_json(ObjectKind::File, &first.id).unwrap();
        assert!(index.chunks.len() > 10, "{} chunks", index.chunks.len());
        assert!(
            index
                .chunks
                .iter()
                .all(|c| c.size <= u64::from(SMALL.max_size))
        );
        assert_eq!(first.chunks_written as usize, index.chunks.len());
        assert_eq!(first.bytes_new, 200_000);
        assert_eq!(read_back(&store, &first.id), data);

        let again = write_file(&store, &SMALL, &path, &NoProgress, &stop).unwrap();
        assert_eq!(again.id, first.id);
        assert_eq!(again.chunks_written, 0);
        assert_eq!(again.bytes_new, 0);

        // Changing 100 bytes in the middle adds only the chunks around the change.
        let mut edited = data.clone();
        edited[100_000..100_100].fill(0xAA);
        fs_write(&path, &edited);
        let third = write_file(&store, &SMALL, &path, &NoProgress, &stop).unwrap();
        assert_ne!(third.id, first.id);
        assert!(
            third.chunks_written <= 3,
            "{} new chunks",
            third.chunks_written
        );
        assert!(third.bytes_new < 3 * u64::from(SMALL.max_size));
        assert_eq!(read_back(&store, &third.id), edited);
    }

    #[test]
    fn hash_file_matches_write_file() {
        let (dir, store) = temp_store();
        let stop = AtomicBool::new(false);
        for (name, len) in [("a", 100usize), ("b", 150_000)] {
            let path = write_temp(dir.path(), name, &noise(len, 3));
            let hashed = hash_file(&SMALL, &path, &NoProgress, &stop).unwrap();
            let written = write_file(&store, &SMALL, &path, &NoProgress, &stop).unwrap();
            assert_eq!(hashed, written.id);
        }
    }

    #[test]
    fn repeated_chunks_count_once() {
        let (dir, store) = temp_store();
        // Long runs of one byte cut at max_size into identical chunks.
        let data = vec![7u8; 10 * SMALL.max_size as usize];
        let path = write_temp(dir.path(), "zeros", &data);
        let out = write_file(&store, &SMALL, &path, &NoProgress, &AtomicBool::new(false)).unwrap();
        assert_eq!(out.chunks_written, 1);
        assert_eq!(out.bytes_new, u64::from(SMALL.max_size));
        assert_eq!(read_back(&store, &out.id), data);
    }

    #[test]
    fn interrupt_stops_write() {
        let (dir, store) = temp_store();
        let path = write_temp(dir.path(), "big", &noise(100_000, 4));
        let err =
            write_file(&store, &SMALL, &path, &NoProgress, &AtomicBool::new(true)).unwrap_err();
        assert!(matches!(err, ChunkError::Interrupted), "{err}");
    }

    /// Appends to the file being stored on the first progress report.
    struct Appender {
        path: PathBuf,
        done: AtomicBool,
    }

    impl Progress for Appender {
        fn add(&self, _n: u64) {
            if !self.done.swap(true, Ordering::SeqCst) {
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .open(&self.path)
                    .unwrap();
                f.write_all(&[1u8; 5000]).unwrap();
            }
        }
    }

    #[test]
    fn growing_file_is_detected() {
        let (dir, store) = temp_store();
        let path = write_temp(dir.path(), "growing", &noise(400_000, 5));
        let progress = Appender {
            path: path.clone(),
            done: AtomicBool::new(false),
        };
        let err =
            write_file(&store, &SMALL, &path, &progress, &AtomicBool::new(false)).unwrap_err();
        assert!(matches!(err, ChunkError::FileChanged { .. }), "{err}");
    }

    #[test]
    fn folder_is_not_a_file() {
        let (dir, store) = temp_store();
        let err = write_file(
            &store,
            &SMALL,
            dir.path(),
            &NoProgress,
            &AtomicBool::new(false),
        )
        .unwrap_err();
        assert!(matches!(err, ChunkError::NotAFile { .. }), "{err}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn round_trip_near_boundaries(
            base in prop::sample::select(vec![0usize, 1024, 4096, 16384, 65536]),
            delta in -3i64..=3,
            seed in any::<u64>(),
        ) {
            let len = (base as i64 + delta).max(0) as usize;
            let (dir, store) = temp_store();
            let data = noise(len, seed);
            let path = write_temp(dir.path(), "f", &data);
            let stop = AtomicBool::new(false);
            let out = write_file(&store, &SMALL, &path, &NoProgress, &stop).unwrap();
            prop_assert_eq!(out.size, len as u64);
            prop_assert_eq!(out.kind == ObjectKind::Blob, len <= SMALL.min_size as usize);
            prop_assert_eq!(read_back(&store, &out.id), data.clone());
            // The id equals the hash of the canonical bytes read back from the store.
            let (kind, payload) = store.read(&out.id).unwrap();
            let mut canonical = canonical_header(kind, payload.len() as u64);
            canonical.extend_from_slice(&payload);
            prop_assert_eq!(ObjectId::hash(&canonical), out.id);
            // A stream gives the same id as the file.
            let streamed = write_reader(&store, &SMALL, &mut &data[..], &NoProgress, &stop).unwrap();
            prop_assert_eq!(streamed.id, out.id);
        }
    }
}
