//! The object store: one zstd-compressed file per object under `<repo>/.ev/objects`.
//!
//! An object with id `abcdef…` lives at `objects/ab/cdef…` (2 + 62 hex digits). The file contains
//! one zstd frame whose decompressed content is the object's canonical bytes
//! (`"<kind> <format> <len>\0"` + payload, see [`crate::object`]), so
//! `zstd -dc objects/ab/cdef… | b3sum` prints the id. Writes go to a temp file in the same folder,
//! which is renamed into place. A plain [`Store`] fsyncs the temp file before the rename and the
//! folder after it. A deferred handle ([`Store::deferred`]) skips both, only starting write-back,
//! and makes everything it wrote durable at once in [`Store::sync_pending`]; a commit calls that
//! before it moves its ref. An existing object is not rewritten when its file looks complete (see
//! [`frame_is_complete`]); one cut short by a power loss is rewritten. Every read re-hashes what
//! it decompresses and reports a mismatch.

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::id::{HEX_LEN, IdError, ObjectId, validate_prefix};
use crate::object::{
    Commit, DecodeError, FileIndex, MAX_HEADER_LEN, ObjectKind, Tree, canonical_header,
    parse_header,
};
use crate::repo_path::RepoPath;

/// zstd level used when none is configured. Level 1 measured fastest at a ratio close to level 3
/// on mixed model and table files; see docs/benchmarks.md, section "Store".
pub const DEFAULT_ZSTD_LEVEL: i32 = 1;

/// Largest payload [`Store::read`] loads into memory (256 MiB). Chunks are at most 16 MiB and JSON
/// objects are far smaller, so a larger declared length means a damaged or hostile object. Large
/// blobs can still be streamed with [`Store::open_file_reader`] or checked with [`Store::check`].
pub const MAX_READ_SIZE: u64 = 256 * 1024 * 1024;

/// Prefix of temp files inside object folders; such files are never objects.
pub const TEMP_PREFIX: &str = ".tmp-";

/// Most candidates listed in an [`StoreError::Ambiguous`] error.
const MAX_AMBIGUOUS_CANDIDATES: usize = 16;

/// A reason a store operation failed. Every variant that concerns one object carries its id and
/// the path of its file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("object {id} not found (expected at {path})")]
    NotFound { id: ObjectId, path: PathBuf },
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("object {id} at {path} cannot be decompressed: {source}")]
    Decompress {
        id: ObjectId,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("object {id} at {path} is corrupt: its content hashes to {actual}")]
    HashMismatch {
        id: ObjectId,
        actual: ObjectId,
        path: PathBuf,
    },
    #[error("object {id} at {path} is malformed: {source}")]
    Decode {
        id: ObjectId,
        path: PathBuf,
        #[source]
        source: DecodeError,
    },
    #[error("object {id} at {path} declares {size} payload bytes, more than the limit of {limit}")]
    TooLarge {
        id: ObjectId,
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("object {id} at {path} is a {found} object, expected a {expected} object")]
    WrongKind {
        id: ObjectId,
        path: PathBuf,
        expected: ObjectKind,
        found: ObjectKind,
    },
    #[error("object {id} at {path} has an invalid {kind} payload: {message}")]
    Payload {
        id: ObjectId,
        path: PathBuf,
        kind: ObjectKind,
        message: String,
    },
    #[error("tree {id} is invalid: {message}")]
    BadTree { id: ObjectId, message: String },
    #[error(transparent)]
    BadPrefix(#[from] IdError),
    #[error("no object id starts with {prefix:?}")]
    PrefixNotFound { prefix: String },
    #[error("id prefix {prefix:?} is ambiguous: it matches {} objects", candidates.len())]
    Ambiguous {
        prefix: String,
        candidates: Vec<ObjectId>,
    },
}

impl StoreError {
    /// Wraps this error so it can travel through an `io::Read` implementation.
    fn into_io(self) -> io::Error {
        io::Error::other(self)
    }

    /// Recovers a store error wrapped by [`StoreError::into_io`], or classifies a plain I/O error
    /// met while decompressing object `id`.
    pub(crate) fn from_read_error(err: io::Error, id: ObjectId, path: &Path) -> StoreError {
        if err.get_ref().is_some_and(|inner| inner.is::<StoreError>()) {
            let inner = err.into_inner().expect("checked by get_ref above");
            return *inner.downcast::<StoreError>().expect("checked by is above");
        }
        StoreError::Decompress {
            id,
            path: path.to_owned(),
            source: err,
        }
    }
}

/// Kind and payload length of a stored object, as found by [`Store::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectInfo {
    pub kind: ObjectKind,
    pub payload_len: u64,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    zstd_level: i32,
    /// Set on a deferred handle: what it wrote or relied on and has not yet made durable.
    pending: Option<Arc<Mutex<Pending>>>,
}

/// Object files and folders a deferred handle must fsync before a ref may name its objects.
#[derive(Debug, Default)]
struct Pending {
    files: BTreeSet<PathBuf>,
    folders: BTreeSet<PathBuf>,
}

/// A handle on an objects folder. Cheap to clone and safe to share between threads.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

/// A temp file holding a compressed object, not yet renamed into place.
#[derive(Debug)]
pub(crate) struct StagedObject {
    pub(crate) temp: tempfile::TempPath,
    pub(crate) target: PathBuf,
}

impl Store {
    /// Opens an existing objects folder.
    pub fn open(objects_dir: &Path) -> Result<Store, StoreError> {
        let meta = fs::metadata(objects_dir).map_err(|source| StoreError::Io {
            path: objects_dir.to_owned(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(StoreError::Io {
                path: objects_dir.to_owned(),
                source: io::Error::new(io::ErrorKind::NotADirectory, "not a folder"),
            });
        }
        Ok(Store {
            inner: Arc::new(Inner {
                dir: objects_dir.to_owned(),
                zstd_level: DEFAULT_ZSTD_LEVEL,
                pending: None,
            }),
        })
    }

    /// Creates the objects folder (and its parents) if needed, then opens it.
    pub fn init(objects_dir: &Path) -> Result<Store, StoreError> {
        fs::create_dir_all(objects_dir).map_err(|source| StoreError::Io {
            path: objects_dir.to_owned(),
            source,
        })?;
        Self::open(objects_dir)
    }

    /// Sets the zstd level for new objects. The level changes only the compressed files, never
    /// ids, so it can differ between writers of one store.
    pub fn with_zstd_level(self, level: i32) -> Store {
        Store {
            inner: Arc::new(Inner {
                dir: self.inner.dir.clone(),
                zstd_level: level,
                pending: self.inner.pending.clone(),
            }),
        }
    }

    /// Returns a handle on the same folder whose writes are not durable until
    /// [`Store::sync_pending`] returns. It fsyncs neither temp files nor folders, and only starts
    /// the kernel's write-back of each new file. Clones share one pending set. Objects it writes may be lost or cut
    /// short by a power loss before the barrier, so nothing durable (a ref) may name them earlier.
    pub fn deferred(&self) -> Store {
        Store {
            inner: Arc::new(Inner {
                dir: self.inner.dir.clone(),
                zstd_level: self.inner.zstd_level,
                pending: Some(Arc::default()),
            }),
        }
    }

    /// Whether this handle defers durability to [`Store::sync_pending`].
    pub fn is_deferred(&self) -> bool {
        self.inner.pending.is_some()
    }

    /// Runs the durability barrier: makes every object this deferred handle wrote, or found
    /// already stored and relied on, durable under its final name. It fsyncs each such file and
    /// each touched folder, several at once, and the folder fsync makes the rename durable. Write-back
    /// was started when each file was written, so little is left to wait for. Does nothing on a
    /// plain handle, whose writes are durable when they return. On failure the pending set is
    /// kept, so a later call retries it all.
    pub fn sync_pending(&self) -> Result<(), StoreError> {
        let Some(pending) = &self.inner.pending else {
            return Ok(());
        };
        let taken = match pending.lock() {
            Ok(mut guard) => std::mem::take(&mut *guard),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        };
        if taken.files.is_empty() && taken.folders.is_empty() {
            return Ok(());
        }
        let result = sync_all_of(&taken);
        if result.is_err() {
            let mut guard = match pending.lock() {
                Ok(guard) => guard,
                Err(poisoned) => poisoned.into_inner(),
            };
            guard.files.extend(taken.files);
            guard.folders.extend(taken.folders);
        }
        result
    }

    /// Records a file (with its folder) the barrier must fsync. Returns false on a plain handle.
    fn defer(&self, file: Option<&Path>, folder: &Path) -> bool {
        let Some(pending) = &self.inner.pending else {
            return false;
        };
        let mut guard = match pending.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(file) = file {
            guard.files.insert(file.to_owned());
        }
        guard.folders.insert(folder.to_owned());
        true
    }

    /// The zstd level used for new objects.
    pub fn zstd_level(&self) -> i32 {
        self.inner.zstd_level
    }

    /// The objects folder.
    pub fn objects_dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Where object `id` is (or would be) stored: `objects/<2 hex>/<62 hex>`.
    pub fn object_path(&self, id: &ObjectId) -> PathBuf {
        let hex = id.to_hex();
        self.inner.dir.join(&hex[..2]).join(&hex[2..])
    }

    /// Whether a file exists for `id`. Does not check its content; see [`Store::check`].
    pub fn contains(&self, id: &ObjectId) -> bool {
        self.object_path(id).is_file()
    }

    /// Stores raw payload bytes as an object of `kind` and returns its id.
    pub fn write_bytes(&self, kind: ObjectKind, payload: &[u8]) -> Result<ObjectId, StoreError> {
        let header = canonical_header(kind, payload.len() as u64);
        let mut hasher = blake3::Hasher::new();
        hasher.update(&header);
        hasher.update(payload);
        let id = ObjectId::from(hasher.finalize());
        if let Some(staged) = self.stage(&id, &header, payload)? {
            self.publish(staged)?;
        }
        Ok(id)
    }

    /// Serializes `value` as compact JSON and stores it as an object of `kind`.
    pub fn write_json<T: Serialize>(
        &self,
        kind: ObjectKind,
        value: &T,
    ) -> Result<ObjectId, StoreError> {
        let payload =
            serde_json::to_vec(value).expect("object payload types serialize to JSON infallibly");
        self.write_bytes(kind, &payload)
    }

    /// Compresses canonical bytes into a temp file beside the object's final path. A plain handle
    /// fsyncs the file; a deferred one starts its write-back and leaves the rest to
    /// [`Store::sync_pending`]. Returns `None` when a complete object file already exists (which
    /// is then made durable too: a crashed deferred writer may have left it only in the page
    /// cache). An incomplete one is rewritten.
    pub(crate) fn stage(
        &self,
        id: &ObjectId,
        header: &[u8],
        payload: &[u8],
    ) -> Result<Option<StagedObject>, StoreError> {
        let target = self.object_path(id);
        let content_len = (header.len() + payload.len()) as u64;
        if frame_is_complete(&target, content_len) {
            let folder = target.parent().expect("object paths have a parent folder");
            if !self.defer(Some(&target), folder) {
                sync_file_path(&target)?;
                sync_folder_path(folder)?;
            }
            return Ok(None);
        }
        let folder = target.parent().expect("object paths have a parent folder");
        self.ensure_folder(folder)?;
        let io_err = |source| StoreError::Io {
            path: folder.to_owned(),
            source,
        };
        let temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .tempfile_in(folder)
            .map_err(io_err)?;
        let (file, temp) = temp.into_parts();
        let mut encoder = zstd::Encoder::new(file, self.inner.zstd_level).map_err(io_err)?;
        // The frame records the content size so `zstd -l` shows it; readers do not rely on it.
        encoder
            .set_pledged_src_size(Some((header.len() + payload.len()) as u64))
            .map_err(io_err)?;
        encoder.include_contentsize(true).map_err(io_err)?;
        encoder.write_all(header).map_err(io_err)?;
        encoder.write_all(payload).map_err(io_err)?;
        let file = encoder.finish().map_err(io_err)?;
        // Temp files are created owner-only; objects are readable by everyone, as in git.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(fs::Permissions::from_mode(0o644))
                .map_err(io_err)?;
        }
        if self.is_deferred() {
            start_writeback(&file);
        } else {
            file.sync_all().map_err(io_err)?;
        }
        Ok(Some(StagedObject { temp, target }))
    }

    /// Renames a staged object into place. A plain handle then fsyncs the folder so the new name
    /// survives a crash; a deferred one records file and folder for [`Store::sync_pending`].
    pub(crate) fn publish(&self, staged: StagedObject) -> Result<(), StoreError> {
        let StagedObject { temp, target } = staged;
        // A concurrent writer may have renamed the same object into place: both files hold the
        // same canonical bytes, so replacing it is harmless.
        temp.persist(&target).map_err(|e| StoreError::Io {
            path: target.clone(),
            source: e.error,
        })?;
        let folder = target.parent().expect("object paths have a parent folder");
        if !self.defer(Some(&target), folder) {
            sync_folder_path(folder)?;
        }
        Ok(())
    }

    fn ensure_folder(&self, folder: &Path) -> Result<(), StoreError> {
        match fs::create_dir(folder) {
            Ok(()) => {
                if self.defer(None, &self.inner.dir) {
                    Ok(())
                } else {
                    sync_folder_path(&self.inner.dir)
                }
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            Err(source) => Err(StoreError::Io {
                path: folder.to_owned(),
                source,
            }),
        }
    }

    /// Opens object `id` for streaming: parses its header and returns a reader over the payload
    /// that re-hashes everything and fails at the end of the payload if the hash differs.
    pub fn open_payload(&self, id: &ObjectId) -> Result<PayloadReader, StoreError> {
        let path = self.object_path(id);
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound { id: *id, path });
            }
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        let mut decoder = zstd::Decoder::new(file).map_err(|source| StoreError::Decompress {
            id: *id,
            path: path.clone(),
            source,
        })?;
        // Read just enough decompressed bytes to find the header's NUL terminator.
        let mut head = [0u8; MAX_HEADER_LEN];
        let mut filled = 0;
        while filled < head.len() && !head[..filled].contains(&0) {
            let n = match decoder.read(&mut head[filled..]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(StoreError::Decompress {
                        id: *id,
                        path,
                        source,
                    });
                }
            };
            if n == 0 {
                break;
            }
            filled += n;
        }
        let header = parse_header(&head[..filled]).map_err(|source| StoreError::Decode {
            id: *id,
            path: path.clone(),
            source,
        })?;
        let mut hasher = blake3::Hasher::new();
        hasher.update(&head[..header.header_len]);
        let pending = head[header.header_len..filled].to_vec();
        Ok(PayloadReader {
            id: *id,
            path,
            kind: header.kind,
            payload_len: header.payload_len,
            decoder,
            hasher,
            pending,
            pending_pos: 0,
            remaining: header.payload_len,
            finished: false,
        })
    }

    /// Reads and verifies a whole object: its kind and payload. Fails with
    /// [`StoreError::TooLarge`] before reading a payload larger than [`MAX_READ_SIZE`].
    pub fn read(&self, id: &ObjectId) -> Result<(ObjectKind, Vec<u8>), StoreError> {
        let mut reader = self.open_payload(id)?;
        if reader.payload_len > MAX_READ_SIZE {
            return Err(StoreError::TooLarge {
                id: *id,
                path: reader.path.clone(),
                size: reader.payload_len,
                limit: MAX_READ_SIZE,
            });
        }
        let mut payload = Vec::with_capacity(reader.payload_len as usize);
        reader
            .read_to_end(&mut payload)
            .map_err(|e| StoreError::from_read_error(e, *id, &reader.path))?;
        Ok((reader.kind, payload))
    }

    /// Reads object `id`, checks that it is of `kind` and parses its JSON payload.
    pub fn read_json<T: DeserializeOwned>(
        &self,
        kind: ObjectKind,
        id: &ObjectId,
    ) -> Result<T, StoreError> {
        let (found, payload) = self.read(id)?;
        if found != kind {
            return Err(StoreError::WrongKind {
                id: *id,
                path: self.object_path(id),
                expected: kind,
                found,
            });
        }
        serde_json::from_slice(&payload).map_err(|e| StoreError::Payload {
            id: *id,
            path: self.object_path(id),
            kind,
            message: e.to_string(),
        })
    }

    /// Reads a tree and checks that its entry names are valid single path components, sorted by
    /// byte order and unique, so callers can join them onto a folder safely.
    pub fn read_tree(&self, id: &ObjectId) -> Result<Tree, StoreError> {
        let tree: Tree = self.read_json(ObjectKind::Tree, id)?;
        check_tree(id, &tree)?;
        Ok(tree)
    }

    /// Reads a commit.
    pub fn read_commit(&self, id: &ObjectId) -> Result<Commit, StoreError> {
        self.read_json(ObjectKind::Commit, id)
    }

    /// Re-hashes object `id` by streaming it (any size, constant memory) and returns its kind and
    /// payload length.
    pub fn check(&self, id: &ObjectId) -> Result<ObjectInfo, StoreError> {
        let mut reader = self.open_payload(id)?;
        io::copy(&mut reader, &mut io::sink())
            .map_err(|e| StoreError::from_read_error(e, *id, &reader.path))?;
        Ok(ObjectInfo {
            kind: reader.kind,
            payload_len: reader.payload_len,
        })
    }

    /// Size in bytes of the file content that `id` names: a blob's payload length or a
    /// [`FileIndex`]'s declared size.
    pub fn file_size(&self, id: &ObjectId) -> Result<u64, StoreError> {
        let reader = self.open_payload(id)?;
        match reader.kind {
            ObjectKind::Blob => Ok(reader.payload_len),
            ObjectKind::File => Ok(self.read_json::<FileIndex>(ObjectKind::File, id)?.size),
            found => Err(StoreError::WrongKind {
                id: *id,
                path: reader.path,
                expected: ObjectKind::Blob,
                found,
            }),
        }
    }

    /// Opens the file content named by `id` (a blob or a chunked [`FileIndex`]) as a reader that
    /// decompresses one chunk at a time and verifies every chunk's hash and size.
    pub fn open_file_reader(&self, id: &ObjectId) -> Result<FileReader, StoreError> {
        let reader = self.open_payload(id)?;
        match reader.kind {
            ObjectKind::Blob => Ok(FileReader {
                state: ReaderState::Blob(Box::new(reader)),
            }),
            ObjectKind::File => {
                drop(reader);
                let index: FileIndex = self.read_json(ObjectKind::File, id)?;
                let sum: u64 = index.chunks.iter().map(|c| c.size).sum();
                if sum != index.size {
                    return Err(StoreError::Payload {
                        id: *id,
                        path: self.object_path(id),
                        kind: ObjectKind::File,
                        message: format!(
                            "declared size {} differs from the sum of chunk sizes {sum}",
                            index.size
                        ),
                    });
                }
                Ok(FileReader {
                    state: ReaderState::Chunked {
                        store: self.clone(),
                        index,
                        next: 0,
                        current: None,
                    },
                })
            }
            found => Err(StoreError::WrongKind {
                id: *id,
                path: reader.path,
                expected: ObjectKind::Blob,
                found,
            }),
        }
    }

    /// Finds the one object whose id starts with `prefix` (lowercase hex, at least 4 digits).
    pub fn resolve_prefix(&self, prefix: &str) -> Result<ObjectId, StoreError> {
        validate_prefix(prefix)?;
        if prefix.len() == HEX_LEN {
            let id: ObjectId = prefix.parse()?;
            return if self.contains(&id) {
                Ok(id)
            } else {
                Err(StoreError::PrefixNotFound {
                    prefix: prefix.to_owned(),
                })
            };
        }
        let folder = self.inner.dir.join(&prefix[..2]);
        let rest = &prefix[2..];
        let mut candidates = Vec::new();
        let entries = match fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::PrefixNotFound {
                    prefix: prefix.to_owned(),
                });
            }
            Err(source) => {
                return Err(StoreError::Io {
                    path: folder,
                    source,
                });
            }
        };
        for entry in entries {
            let entry = entry.map_err(|source| StoreError::Io {
                path: folder.clone(),
                source,
            })?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with(rest)
                && let Ok(id) = format!("{}{name}", &prefix[..2]).parse::<ObjectId>()
            {
                candidates.push(id);
            }
        }
        candidates.sort();
        match candidates.len() {
            0 => Err(StoreError::PrefixNotFound {
                prefix: prefix.to_owned(),
            }),
            1 => Ok(candidates[0]),
            _ => {
                candidates.truncate(MAX_AMBIGUOUS_CANDIDATES);
                Err(StoreError::Ambiguous {
                    prefix: prefix.to_owned(),
                    candidates,
                })
            }
        }
    }

    /// Lists the ids of all stored objects, one folder at a time (unordered). Temp files and
    /// names that are not ids are skipped.
    pub fn iter_ids(&self) -> IdIter {
        let folders = match fs::read_dir(&self.inner.dir) {
            Ok(entries) => {
                let mut names: Vec<String> = entries
                    .filter_map(|e| e.ok())
                    .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                    .filter(|n| {
                        n.len() == 2 && n.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                    })
                    .collect();
                names.sort();
                Ok(names)
            }
            Err(source) => Err(StoreError::Io {
                path: self.inner.dir.clone(),
                source,
            }),
        };
        IdIter {
            dir: self.inner.dir.clone(),
            folders: match folders {
                Ok(names) => names.into_iter().rev().collect(),
                Err(e) => {
                    return IdIter {
                        dir: self.inner.dir.clone(),
                        folders: Vec::new(),
                        current: Vec::new(),
                        error: Some(e),
                    };
                }
            },
            current: Vec::new(),
            error: None,
        }
    }
}

/// Checks tree entry names (valid components, strictly increasing byte order, hence unique).
pub fn check_tree(id: &ObjectId, tree: &Tree) -> Result<(), StoreError> {
    let mut previous: Option<&str> = None;
    for entry in &tree.entries {
        RepoPath::check_name(&entry.name).map_err(|e| StoreError::BadTree {
            id: *id,
            message: e.to_string(),
        })?;
        if let Some(prev) = previous
            && prev.as_bytes() >= entry.name.as_bytes()
        {
            let message = if prev == entry.name {
                format!("entry name {:?} appears twice", entry.name)
            } else {
                format!(
                    "entry {:?} comes after {prev:?}; entries must be sorted by name",
                    entry.name
                )
            };
            return Err(StoreError::BadTree { id: *id, message });
        }
        previous = Some(&entry.name);
    }
    Ok(())
}

/// Fsyncs a folder so that renames into it are durable.
/// Asks the kernel to start writing `file` back without waiting (on Linux,
/// `posix_fadvise(POSIX_FADV_DONTNEED)` starts asynchronous write-back of dirty pages and drops
/// clean ones, which an object writer does not read again). Only a hint: failure is ignored,
/// since [`Store::sync_pending`] fsyncs the file anyway and reports errors there.
fn start_writeback(file: &File) {
    #[cfg(target_os = "linux")]
    {
        let _ = rustix::fs::fadvise(file, 0, None, rustix::fs::Advice::DontNeed);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = file;
}

/// Makes every file and folder in `pending` durable; see [`Store::sync_pending`].
fn sync_all_of(pending: &Pending) -> Result<(), StoreError> {
    let paths: Vec<&PathBuf> = pending.files.iter().chain(&pending.folders).collect();
    // fsync waits on the disk, not the CPU: several in flight let the file system combine their
    // journal commits.
    let threads = SYNC_THREADS.min(paths.len()).max(1);
    let per_thread = paths.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = paths
            .chunks(per_thread.max(1))
            .map(|part| {
                scope.spawn(move || -> Result<(), StoreError> {
                    for path in part {
                        sync_file_path(path)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for handle in handles {
            handle.join().expect("fsync threads do not panic")?;
        }
        Ok(())
    })
}

/// Threads that fsync pending objects and folders at the durability barrier.
const SYNC_THREADS: usize = 8;

/// Whether `path` holds one complete zstd frame of `content_len` decompressed bytes, judged from
/// its structure without decompressing: the magic number, a frame header declaring exactly that
/// content size, then block headers whose sizes lead to a last block that ends (after the
/// optional checksum) exactly at the end of the file. A file that is missing, empty, cut short or
/// zero-filled by a power loss before the durability barrier fails this check. Damage inside a
/// block's data is not detected here; reads and `ev verify` re-hash and report it.
pub(crate) fn frame_is_complete(path: &Path, content_len: u64) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    let Ok(meta) = file.metadata() else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    frame_walk(
        BufReader::with_capacity(16 * 1024, file),
        meta.len(),
        content_len,
    )
    .unwrap_or(false)
}

fn frame_walk(mut r: BufReader<File>, file_len: u64, content_len: u64) -> io::Result<bool> {
    // `seek_relative` keeps the buffer when the target is inside it; `seek` would drop it.
    let goto = |r: &mut BufReader<File>, at: &mut u64, pos: u64| -> io::Result<()> {
        let delta = i64::try_from(pos).map_err(io::Error::other)?
            - i64::try_from(*at).map_err(io::Error::other)?;
        r.seek_relative(delta)?;
        *at = pos;
        Ok(())
    };
    const MAGIC: u32 = 0xFD2F_B528;
    let mut word = [0u8; 4];
    r.read_exact(&mut word)?;
    if u32::from_le_bytes(word) != MAGIC {
        return Ok(false);
    }
    let mut byte = [0u8; 1];
    r.read_exact(&mut byte)?;
    let descriptor = byte[0];
    let mut at = 5u64;
    let fcs_flag = descriptor >> 6;
    let single_segment = descriptor & 0x20 != 0;
    let has_checksum = descriptor & 0x04 != 0;
    if descriptor & 0x08 != 0 {
        return Ok(false); // reserved bit
    }
    let dict_len = [0u64, 1, 2, 4][usize::from(descriptor & 0x03)];
    let fcs_len = match (fcs_flag, single_segment) {
        (0, false) => 0,
        (0, true) => 1,
        (1, _) => 2,
        (2, _) => 4,
        _ => 8,
    };
    let mut pos = 5u64;
    if !single_segment {
        pos += 1; // window descriptor
    }
    pos += dict_len;
    goto(&mut r, &mut at, pos)?;
    if fcs_len == 0 {
        return Ok(false); // every object frame records its content size
    }
    let mut fcs = [0u8; 8];
    r.read_exact(&mut fcs[..fcs_len])?;
    let mut declared = u64::from_le_bytes(fcs);
    if fcs_len == 2 {
        declared += 256;
    }
    if declared != content_len {
        return Ok(false);
    }
    pos += fcs_len as u64;
    loop {
        let mut head = [0u8; 4];
        r.read_exact(&mut head[..3])?;
        pos += 3;
        at = pos;
        let block = u32::from_le_bytes(head);
        let last = block & 1 != 0;
        let size = u64::from(block >> 3);
        let body = match (block >> 1) & 0x3 {
            0 | 2 => size,
            1 => 1,
            _ => return Ok(false), // reserved block type
        };
        pos += body;
        if pos > file_len {
            return Ok(false);
        }
        goto(&mut r, &mut at, pos)?;
        if last {
            break;
        }
    }
    if has_checksum {
        pos += 4;
    }
    Ok(pos == file_len)
}

fn sync_file_path(path: &Path) -> Result<(), StoreError> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|source| StoreError::Io {
            path: path.to_owned(),
            source,
        })
}

pub(crate) fn sync_folder_path(folder: &Path) -> Result<(), StoreError> {
    File::open(folder)
        .and_then(|f| f.sync_all())
        .map_err(|source| StoreError::Io {
            path: folder.to_owned(),
            source,
        })
}

/// Iterator over stored object ids, returned by [`Store::iter_ids`].
#[derive(Debug)]
pub struct IdIter {
    dir: PathBuf,
    /// Folders still to list, last one next.
    folders: Vec<String>,
    current: Vec<ObjectId>,
    error: Option<StoreError>,
}

impl Iterator for IdIter {
    type Item = Result<ObjectId, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(e) = self.error.take() {
                return Some(Err(e));
            }
            if let Some(id) = self.current.pop() {
                return Some(Ok(id));
            }
            let folder_name = self.folders.pop()?;
            let folder = self.dir.join(&folder_name);
            match fs::read_dir(&folder) {
                Ok(entries) => {
                    for entry in entries {
                        match entry {
                            Ok(entry) => {
                                if let Some(name) = entry.file_name().to_str()
                                    && let Ok(id) =
                                        format!("{folder_name}{name}").parse::<ObjectId>()
                                {
                                    self.current.push(id);
                                }
                            }
                            Err(source) => {
                                self.error = Some(StoreError::Io {
                                    path: folder.clone(),
                                    source,
                                });
                            }
                        }
                    }
                    self.current.sort_by(|a, b| b.cmp(a));
                }
                Err(source) => {
                    self.error = Some(StoreError::Io {
                        path: folder,
                        source,
                    })
                }
            }
        }
    }
}

/// Streams the payload of one object and verifies its length and hash at the end.
pub struct PayloadReader {
    id: ObjectId,
    path: PathBuf,
    kind: ObjectKind,
    payload_len: u64,
    decoder: zstd::Decoder<'static, BufReader<File>>,
    hasher: blake3::Hasher,
    /// Payload bytes decompressed together with the header.
    pending: Vec<u8>,
    pending_pos: usize,
    remaining: u64,
    finished: bool,
}

impl std::fmt::Debug for PayloadReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PayloadReader")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("payload_len", &self.payload_len)
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}

impl PayloadReader {
    /// The object's kind from its header.
    pub fn kind(&self) -> ObjectKind {
        self.kind
    }

    /// The payload length declared by the header.
    pub fn payload_len(&self) -> u64 {
        self.payload_len
    }

    /// The object's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn length_error(&self, found: u64) -> io::Error {
        StoreError::Decode {
            id: self.id,
            path: self.path.clone(),
            source: DecodeError::LengthMismatch {
                declared: self.payload_len,
                found,
            },
        }
        .into_io()
    }

    /// Checks that nothing follows the payload and that the hash matches the id.
    fn finish(&mut self) -> io::Result<()> {
        let mut extra = [0u8; 1];
        let n = loop {
            match self.decoder.read(&mut extra) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if n > 0 || self.pending_pos < self.pending.len() {
            // At least one byte more than declared; the exact count would need a full read.
            return Err(self.length_error(self.payload_len + 1));
        }
        let actual = ObjectId::from(self.hasher.finalize());
        if actual != self.id {
            return Err(StoreError::HashMismatch {
                id: self.id,
                actual,
                path: self.path.clone(),
            }
            .into_io());
        }
        self.finished = true;
        Ok(())
    }
}

impl Read for PayloadReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.finished || buf.is_empty() {
            return Ok(0);
        }
        if self.remaining == 0 {
            self.finish()?;
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = if self.pending_pos < self.pending.len() {
            let available = &self.pending[self.pending_pos..];
            let n = want.min(available.len());
            buf[..n].copy_from_slice(&available[..n]);
            self.pending_pos += n;
            n
        } else {
            let n = self.decoder.read(&mut buf[..want])?;
            if n == 0 {
                let found = self.payload_len - self.remaining;
                return Err(self.length_error(found));
            }
            n
        };
        self.hasher.update(&buf[..n]);
        self.remaining -= n as u64;
        if self.remaining == 0 {
            self.finish()?;
        }
        Ok(n)
    }
}

/// Reads the content of a file object (one blob, or the chunks of a [`FileIndex`] in order).
/// Errors are `io::Error`s wrapping a [`StoreError`]; recover it with [`StoreError::from_io`].
#[derive(Debug)]
pub struct FileReader {
    state: ReaderState,
}

#[derive(Debug)]
enum ReaderState {
    Blob(Box<PayloadReader>),
    Chunked {
        store: Store,
        index: FileIndex,
        next: usize,
        current: Option<Box<PayloadReader>>,
    },
}

impl StoreError {
    /// Extracts the [`StoreError`] that a [`FileReader`] or [`PayloadReader`] wrapped in an
    /// `io::Error`, if there is one.
    pub fn from_io(err: io::Error) -> Result<StoreError, io::Error> {
        if err.get_ref().is_some_and(|inner| inner.is::<StoreError>()) {
            let inner = err.into_inner().expect("checked by get_ref above");
            return Ok(*inner.downcast::<StoreError>().expect("checked by is above"));
        }
        Err(err)
    }
}

impl Read for FileReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.state {
            ReaderState::Blob(reader) => read_mapped(reader, buf),
            ReaderState::Chunked {
                store,
                index,
                next,
                current,
            } => loop {
                if let Some(reader) = current {
                    let n = read_mapped(reader, buf)?;
                    if n > 0 || buf.is_empty() {
                        return Ok(n);
                    }
                    *current = None;
                }
                let Some(chunk) = index.chunks.get(*next) else {
                    return Ok(0);
                };
                *next += 1;
                let reader = store.open_payload(&chunk.id).map_err(StoreError::into_io)?;
                if reader.kind != ObjectKind::Blob {
                    return Err(StoreError::WrongKind {
                        id: chunk.id,
                        path: reader.path,
                        expected: ObjectKind::Blob,
                        found: reader.kind,
                    }
                    .into_io());
                }
                if reader.payload_len != chunk.size {
                    return Err(StoreError::Decode {
                        id: chunk.id,
                        path: reader.path,
                        source: DecodeError::LengthMismatch {
                            declared: chunk.size,
                            found: reader.payload_len,
                        },
                    }
                    .into_io());
                }
                *current = Some(Box::new(reader));
            },
        }
    }
}

/// Reads from a payload reader, turning plain zstd errors into [`StoreError::Decompress`].
fn read_mapped(reader: &mut PayloadReader, buf: &mut [u8]) -> io::Result<usize> {
    reader.read(buf).map_err(|e| {
        let id = reader.id;
        let path = reader.path.clone();
        StoreError::from_read_error(e, id, &path).into_io()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{EntryType, TreeEntry, encode_bytes};
    use proptest::prelude::*;

    fn temp_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::init(&dir.path().join("objects")).unwrap();
        (dir, store)
    }

    #[test]
    fn write_then_read_blob() {
        let (_dir, store) = temp_store();
        let id = store.write_bytes(ObjectKind::Blob, b"hello\n").unwrap();
        assert_eq!(id, encode_bytes(ObjectKind::Blob, b"hello\n").0);
        let (kind, payload) = store.read(&id).unwrap();
        assert_eq!(kind, ObjectKind::Blob);
        assert_eq!(payload, b"hello\n");
        assert!(store.contains(&id));
        // The file is one zstd frame of the canonical bytes.
        let raw = fs::read(store.object_path(&id)).unwrap();
        let plain = zstd::decode_all(&raw[..]).unwrap();
        assert_eq!(plain, b"blob 1 6\0hello\n");
        assert_eq!(ObjectId::hash(&plain), id);
    }

    #[test]
    fn rewrite_keeps_existing_file() {
        let (_dir, store) = temp_store();
        let id = store.write_bytes(ObjectKind::Blob, b"x").unwrap();
        let path = store.object_path(&id);
        let before = fs::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(store.write_bytes(ObjectKind::Blob, b"x").unwrap(), id);
        assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), before);
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(TEMP_PREFIX))
            .collect();
        assert!(leftovers.is_empty());
    }

    /// Content large and varied enough that zstd cuts it into several blocks of each kind.
    fn mixed_payload() -> Vec<u8> {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut out = Vec::new();
        for block in 0..6 {
            for i in 0..200_000u64 {
                if block % 2 == 0 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    out.push(x as u8);
                } else {
                    out.push(b'a' + (i % 7) as u8);
                }
            }
        }
        out
    }

    #[test]
    fn frame_check_accepts_whole_and_rejects_damaged_files() {
        let (dir, store) = temp_store();
        let payload = mixed_payload();
        let id = store.write_bytes(ObjectKind::Blob, &payload).unwrap();
        let path = store.object_path(&id);
        let content_len =
            (canonical_header(ObjectKind::Blob, payload.len() as u64).len() + payload.len()) as u64;
        assert!(frame_is_complete(&path, content_len));
        assert!(!frame_is_complete(&path, content_len + 1));
        assert!(!frame_is_complete(&dir.path().join("absent"), content_len));
        let raw = fs::read(&path).unwrap();
        let damaged = dir.path().join("damaged");
        // What a power loss before the barrier can leave: empty, cut short, zero-filled tail.
        for bytes in [
            Vec::new(),
            raw[..raw.len() - 1].to_vec(),
            raw[..raw.len() / 2].to_vec(),
            [&raw[..64], &vec![0u8; raw.len() - 64][..]].concat(),
            vec![0u8; raw.len()],
            [&raw[..], b"x"].concat(),
        ] {
            fs::write(&damaged, &bytes).unwrap();
            assert!(
                !frame_is_complete(&damaged, content_len),
                "{} bytes",
                bytes.len()
            );
        }
    }

    #[test]
    fn truncated_object_file_is_rewritten() {
        let (_dir, store) = temp_store();
        let payload = mixed_payload();
        let id = store.write_bytes(ObjectKind::Blob, &payload).unwrap();
        let path = store.object_path(&id);
        let raw = fs::read(&path).unwrap();
        for cut in [0, raw.len() / 3] {
            fs::write(&path, &raw[..cut]).unwrap();
            assert!(store.read(&id).is_err());
            assert_eq!(store.write_bytes(ObjectKind::Blob, &payload).unwrap(), id);
            assert_eq!(store.read(&id).unwrap().1, payload);
        }
    }

    #[test]
    fn deferred_writes_are_recorded_until_the_barrier() {
        let (_dir, store) = temp_store();
        let existing = store.write_bytes(ObjectKind::Blob, b"old").unwrap();
        let batch = store.deferred();
        assert!(batch.is_deferred() && !store.is_deferred());
        assert!(batch.clone().with_zstd_level(3).is_deferred());
        let new = batch.write_bytes(ObjectKind::Blob, b"new").unwrap();
        assert_eq!(
            batch.write_bytes(ObjectKind::Blob, b"old").unwrap(),
            existing
        );
        let pending = |s: &Store| {
            let guard = s.inner.pending.as_ref().unwrap().lock().unwrap();
            (guard.files.clone(), guard.folders.clone())
        };
        let (files, folders) = pending(&batch);
        // The new object, the existing one it relied on, their folders and the objects folder
        // (both object folders were created by this handle or the plain one).
        assert!(files.contains(&store.object_path(&new)));
        assert!(files.contains(&store.object_path(&existing)));
        assert_eq!(files.len(), 2);
        assert!(folders.contains(store.object_path(&new).parent().unwrap()));
        batch.sync_pending().unwrap();
        let (files, folders) = pending(&batch);
        assert!(files.is_empty() && folders.is_empty());
        assert_eq!(store.read(&new).unwrap().1, b"new");
        store.sync_pending().unwrap();
    }

    #[test]
    fn concurrent_writes_of_one_object() {
        let (_dir, store) = temp_store();
        let payload = vec![42u8; 100_000];
        let ids: Vec<ObjectId> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| store.write_bytes(ObjectKind::Blob, &payload).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(ids.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(store.read(&ids[0]).unwrap().1, payload);
        assert_eq!(store.iter_ids().count(), 1);
    }

    #[test]
    fn read_json_checks_kind() {
        let (_dir, store) = temp_store();
        let tree = Tree::default();
        let id = store.write_json(ObjectKind::Tree, &tree).unwrap();
        let back: Tree = store.read_json(ObjectKind::Tree, &id).unwrap();
        assert_eq!(back, tree);
        let err = store
            .read_json::<Commit>(ObjectKind::Commit, &id)
            .unwrap_err();
        assert!(matches!(err, StoreError::WrongKind { .. }), "{err}");
    }

    #[test]
    fn missing_object_is_not_found() {
        let (_dir, store) = temp_store();
        let id = ObjectId::hash(b"nothing");
        assert!(matches!(
            store.read(&id),
            Err(StoreError::NotFound { id: found, .. }) if found == id
        ));
        assert!(!store.contains(&id));
    }

    #[test]
    fn swapped_content_is_hash_mismatch() {
        let (_dir, store) = temp_store();
        let a = store.write_bytes(ObjectKind::Blob, b"aaaa").unwrap();
        let b = store.write_bytes(ObjectKind::Blob, b"bbbb").unwrap();
        fs::copy(store.object_path(&b), store.object_path(&a)).unwrap();
        let err = store.read(&a).unwrap_err();
        assert!(
            matches!(err, StoreError::HashMismatch { id, actual, .. } if id == a && actual == b),
            "{err}"
        );
        assert!(matches!(
            store.check(&a),
            Err(StoreError::HashMismatch { .. })
        ));
    }

    #[test]
    fn garbage_file_is_decompress_error() {
        let (_dir, store) = temp_store();
        let id = store.write_bytes(ObjectKind::Blob, b"data").unwrap();
        fs::write(store.object_path(&id), b"not zstd at all").unwrap();
        let err = store.read(&id).unwrap_err();
        assert!(matches!(err, StoreError::Decompress { .. }), "{err}");
    }

    #[test]
    fn wrong_length_is_decode_error() {
        let (_dir, store) = temp_store();
        let id = ObjectId::hash(b"blob 1 9\0short");
        let path = store.object_path(&id);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, zstd::encode_all(&b"blob 1 9\0short"[..], 1).unwrap()).unwrap();
        let err = store.read(&id).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Decode {
                    source: DecodeError::LengthMismatch {
                        declared: 9,
                        found: 5
                    },
                    ..
                }
            ),
            "{err}"
        );
        // Longer than declared.
        let id = ObjectId::hash(b"blob 1 2\0toolong");
        let path = store.object_path(&id);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(
            &path,
            zstd::encode_all(&b"blob 1 2\0toolong"[..], 1).unwrap(),
        )
        .unwrap();
        let err = store.read(&id).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Decode {
                    source: DecodeError::LengthMismatch { declared: 2, .. },
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn huge_declared_length_is_too_large() {
        let (_dir, store) = temp_store();
        let bytes = format!("blob 1 {}\0", MAX_READ_SIZE + 1).into_bytes();
        let id = ObjectId::hash(&bytes);
        let path = store.object_path(&id);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, zstd::encode_all(&bytes[..], 1).unwrap()).unwrap();
        assert!(matches!(
            store.read(&id),
            Err(StoreError::TooLarge { size, .. }) if size == MAX_READ_SIZE + 1
        ));
    }

    #[test]
    fn resolve_prefix_cases() {
        let (_dir, store) = temp_store();
        let mut ids = Vec::new();
        for i in 0..300u32 {
            ids.push(
                store
                    .write_bytes(ObjectKind::Blob, &i.to_le_bytes())
                    .unwrap(),
            );
        }
        let id = ids[7];
        assert_eq!(store.resolve_prefix(&id.to_hex()).unwrap(), id);
        assert_eq!(store.resolve_prefix(&id.to_hex()[..20]).unwrap(), id);
        // Among 300 ids two share their first 2 digits (pigeonhole over 256 folders).
        let mut sorted = ids.clone();
        sorted.sort();
        let pair = sorted
            .windows(2)
            .find(|w| w[0].to_hex()[..2] == w[1].to_hex()[..2])
            .unwrap();
        let a = pair[0].to_hex();
        let b = pair[1].to_hex();
        let common = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
        let prefix = &a[..common.max(4)];
        if common >= 4 {
            assert!(matches!(
                store.resolve_prefix(prefix),
                Err(StoreError::Ambiguous { candidates, .. }) if candidates.len() >= 2
            ));
        }
        assert!(matches!(
            store.resolve_prefix("ab"),
            Err(StoreError::BadPrefix(IdError::PrefixTooShort { .. }))
        ));
        let absent = ObjectId::hash(b"absent").to_hex();
        assert!(matches!(
            store.resolve_prefix(&absent[..16]),
            Err(StoreError::PrefixNotFound { .. })
        ));
        // Ambiguity at the minimum prefix length.
        let two_digit = &a[..2];
        let count = ids
            .iter()
            .filter(|id| id.to_hex().starts_with(two_digit))
            .count();
        assert!(count >= 2);
    }

    #[test]
    fn ambiguous_prefix_lists_candidates() {
        let (_dir, store) = temp_store();
        // Two fake object files that share a 6-digit prefix; names alone decide resolution.
        let a: ObjectId = format!("abcdef{}", "0".repeat(58)).parse().unwrap();
        let b: ObjectId = format!("abcdef{}", "1".repeat(58)).parse().unwrap();
        for id in [a, b] {
            let path = store.object_path(&id);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, b"").unwrap();
        }
        match store.resolve_prefix("abcd") {
            Err(StoreError::Ambiguous { candidates, .. }) => assert_eq!(candidates, vec![a, b]),
            other => panic!("expected ambiguity, got {other:?}"),
        }
        assert_eq!(store.resolve_prefix("abcdef1").unwrap(), b);
    }

    #[test]
    fn iter_ids_lists_objects_only() {
        let (_dir, store) = temp_store();
        let mut ids: Vec<ObjectId> = (0..50u32)
            .map(|i| {
                store
                    .write_bytes(ObjectKind::Blob, &i.to_be_bytes())
                    .unwrap()
            })
            .collect();
        let folder = store.object_path(&ids[0]);
        fs::write(
            folder.parent().unwrap().join(".tmp-leftover"),
            b"temp file from a crash",
        )
        .unwrap();
        fs::write(store.objects_dir().join("README"), b"not an object").unwrap();
        let mut listed: Vec<ObjectId> = store.iter_ids().map(|r| r.unwrap()).collect();
        ids.sort();
        listed.sort();
        assert_eq!(listed, ids);
    }

    #[test]
    fn read_tree_rejects_bad_names() {
        let (_dir, store) = temp_store();
        let blob = store.write_bytes(ObjectKind::Blob, b"x").unwrap();
        let entry = |name: &str| TreeEntry {
            name: name.to_owned(),
            entry_type: EntryType::File,
            id: blob,
            size: 1,
        };
        for names in [
            vec![".."],
            vec!["a/b"],
            vec![""],
            vec!["a\0b"],
            vec!["a", "a"],
            vec!["b", "a"],
        ] {
            let tree = Tree {
                entries: names.iter().map(|n| entry(n)).collect(),
            };
            let id = store.write_json(ObjectKind::Tree, &tree).unwrap();
            assert!(
                matches!(store.read_tree(&id), Err(StoreError::BadTree { .. })),
                "{names:?} accepted"
            );
        }
    }

    #[test]
    fn chunked_reader_streams_chunks() {
        let (_dir, store) = temp_store();
        let parts: [&[u8]; 3] = [b"first ", b"second ", b"third"];
        let chunks = parts
            .iter()
            .map(|p| crate::object::ChunkRef {
                id: store.write_bytes(ObjectKind::Blob, p).unwrap(),
                size: p.len() as u64,
            })
            .collect();
        let index = FileIndex { size: 18, chunks };
        let id = store.write_json(ObjectKind::File, &index).unwrap();
        let mut out = String::new();
        store
            .open_file_reader(&id)
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "first second third");
        assert_eq!(store.file_size(&id).unwrap(), 18);
        // A missing chunk surfaces as NotFound through the reader.
        fs::remove_file(store.object_path(&index.chunks[1].id)).unwrap();
        let err = store
            .open_file_reader(&id)
            .unwrap()
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(matches!(
            StoreError::from_io(err),
            Ok(StoreError::NotFound { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn write_read_round_trip(payload in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let (_dir, store) = temp_store();
            let id = store.write_bytes(ObjectKind::Blob, &payload).unwrap();
            prop_assert_eq!(id, encode_bytes(ObjectKind::Blob, &payload).0);
            let (kind, back) = store.read(&id).unwrap();
            prop_assert_eq!(kind, ObjectKind::Blob);
            prop_assert_eq!(back, payload.clone());
            let mut streamed = Vec::new();
            store.open_file_reader(&id).unwrap().read_to_end(&mut streamed).unwrap();
            prop_assert_eq!(streamed, payload);
        }

        #[test]
        fn damaged_object_files_give_typed_errors(
            payload in proptest::collection::vec(any::<u8>(), 0..2048),
            garbage in proptest::collection::vec(any::<u8>(), 0..256),
            cut in any::<prop::sample::Index>(),
            flip in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let (_dir, store) = temp_store();
            let id = store.write_bytes(ObjectKind::Blob, &payload).unwrap();
            let path = store.object_path(&id);
            let original = fs::read(&path).unwrap();

            // Random garbage instead of the object.
            fs::write(&path, &garbage).unwrap();
            prop_assert!(store.read(&id).is_err());
            prop_assert!(store.check(&id).is_err());

            // Truncated file.
            let at = cut.index(original.len());
            fs::write(&path, &original[..at]).unwrap();
            prop_assert!(store.read(&id).is_err());

            // One flipped bit: either detected, or (in zstd padding bits) harmless.
            let mut flipped = original.clone();
            let i = flip.index(flipped.len());
            flipped[i] ^= 1 << bit;
            fs::write(&path, &flipped).unwrap();
            match store.read(&id) {
                Ok((kind, back)) => {
                    prop_assert_eq!(kind, ObjectKind::Blob);
                    prop_assert_eq!(back, payload.clone());
                }
                Err(StoreError::NotFound { .. }) => prop_assert!(false, "wrong error kind"),
                Err(_) => {}
            }
            let _ = store.open_file_reader(&id).map(|mut r| r.read_to_end(&mut Vec::new()));
        }
    }
}
