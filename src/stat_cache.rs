//! The stat cache: remembers the object id of each workspace file together with the file's size,
//! modification time, change time and inode, so an unchanged file is not read and hashed again.
//!
//! Stored as versioned JSON at `<cache dir>/stat-cache.json` and replaced atomically. A missing,
//! unreadable, corrupt or differently versioned cache, or one made with other chunking
//! parameters, is treated as empty: the cache only saves work, it is never a source of truth.
//!
//! Racy timestamps: a file changed twice within one timestamp tick keeps the same mtime. So an
//! entry is trusted only if the file's mtime is strictly older than the moment the cache was
//! written. That moment is the mtime of the new cache file, read from the file system clock as
//! git does for its index.
//! Entries that fail that rule are dropped when saving and the file is hashed again next time.

use std::collections::BTreeMap;
use std::fs::{self, Metadata};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::chunker::ChunkParams;
use crate::id::ObjectId;
use crate::object::EntryType;
use crate::repo_path::RepoPath;

/// File name of the cache inside the cache folder.
pub const CACHE_FILE: &str = "stat-cache.json";
/// Value of the `format` field; a cache with another value is ignored.
pub const CACHE_FORMAT: &str = "ev.stat-cache/1";

/// A reason the cache could not be saved.
#[derive(Debug, thiserror::Error)]
pub enum StatCacheError {
    #[error("cannot write the stat cache {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The file attributes that must all be unchanged for a cached id to be reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
    /// Inode change time in nanoseconds since the Unix epoch (0 where the platform has none).
    pub ctime_ns: i64,
    /// Inode number (0 where the platform has none).
    pub inode: u64,
}

impl FileStamp {
    /// Takes the stamp of `meta`, which should come from `fs::symlink_metadata`.
    pub fn of(meta: &Metadata) -> FileStamp {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let ns = |s: i64, n: i64| s.saturating_mul(1_000_000_000).saturating_add(n);
            FileStamp {
                size: meta.len(),
                mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
                ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
                inode: meta.ino(),
            }
        }
        #[cfg(not(unix))]
        {
            let mtime_ns = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
            FileStamp {
                size: meta.len(),
                mtime_ns,
                ctime_ns: 0,
                inode: 0,
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    #[serde(flatten)]
    stamp: FileStamp,
    id: ObjectId,
    #[serde(rename = "type")]
    entry_type: EntryType,
}

#[derive(Debug, Serialize, Deserialize)]
struct CacheFile {
    format: String,
    /// When the cache was written, in nanoseconds since the Unix epoch, file system clock.
    written_ns: i64,
    params: ChunkParams,
    entries: BTreeMap<String, Entry>,
}

/// The stat cache of one repository.
#[derive(Debug)]
pub struct StatCache {
    path: PathBuf,
    params: ChunkParams,
    /// Entries are trusted only when their mtime is older than this (see the module docs).
    written_ns: i64,
    entries: BTreeMap<String, Entry>,
    dirty: bool,
}

impl StatCache {
    /// Loads the cache from `cache_dir` (usually `.ev/cache`). Never fails: anything unusable
    /// gives an empty cache that the next [`StatCache::save`] replaces.
    pub fn load(cache_dir: &Path, params: &ChunkParams) -> StatCache {
        let path = cache_dir.join(CACHE_FILE);
        let mut cache = StatCache {
            path,
            params: *params,
            written_ns: i64::MIN,
            entries: BTreeMap::new(),
            dirty: false,
        };
        let Ok(bytes) = fs::read(&cache.path) else {
            return cache;
        };
        let Ok(file) = serde_json::from_slice::<CacheFile>(&bytes) else {
            return cache;
        };
        if file.format != CACHE_FORMAT || file.params != *params {
            return cache;
        }
        cache.written_ns = file.written_ns;
        cache.entries = file.entries;
        cache
    }

    /// Returns the cached id and type of `path` if `meta` (from `fs::symlink_metadata`) matches
    /// the cached stamp exactly and the entry is not racy.
    pub fn lookup(&self, path: &RepoPath, meta: &Metadata) -> Option<(ObjectId, EntryType)> {
        let entry = self.entries.get(path.as_str())?;
        let stamp = FileStamp::of(meta);
        (entry.stamp == stamp && stamp.mtime_ns < self.written_ns)
            .then_some((entry.id, entry.entry_type))
    }

    /// Records the id of `path` as hashed from a file with metadata `meta`, taken before the
    /// file was read.
    pub fn insert(
        &mut self,
        path: &RepoPath,
        meta: &Metadata,
        id: ObjectId,
        entry_type: EntryType,
    ) {
        let entry = Entry {
            stamp: FileStamp::of(meta),
            id,
            entry_type,
        };
        if self.entries.get(path.as_str()) != Some(&entry) {
            self.entries.insert(path.as_str().to_owned(), entry);
            self.dirty = true;
        }
    }

    /// Keeps only the entries whose path satisfies `keep`, e.g. files still in the workspace.
    pub fn retain_paths(&mut self, keep: impl Fn(&RepoPath) -> bool) {
        let before = self.entries.len();
        self.entries
            .retain(|path, _| RepoPath::new(path).is_ok_and(|p| keep(&p)));
        self.dirty |= self.entries.len() != before;
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes the cache atomically (temp file, fsync, rename) if it changed, dropping racy
    /// entries first.
    pub fn save(&mut self) -> Result<(), StatCacheError> {
        if !self.dirty {
            return Ok(());
        }
        let folder = self
            .path
            .parent()
            .expect("the cache path is a file inside the cache folder")
            .to_owned();
        let io_err = |path: &Path| {
            let path = path.to_owned();
            move |source| StatCacheError::Io { path, source }
        };
        fs::create_dir_all(&folder).map_err(io_err(&folder))?;
        let mut temp = tempfile::Builder::new()
            .prefix(".tmp-stat-cache")
            .tempfile_in(&folder)
            .map_err(io_err(&folder))?;
        // The new file's mtime is "now" on the file system clock, the clock file mtimes use.
        let now = FileStamp::of(&temp.as_file().metadata().map_err(io_err(&folder))?).mtime_ns;
        self.entries.retain(|_, e| e.stamp.mtime_ns < now);
        let file = CacheFile {
            format: CACHE_FORMAT.to_owned(),
            written_ns: now,
            params: self.params,
            entries: std::mem::take(&mut self.entries),
        };
        let json = serde_json::to_vec(&file).expect("the stat cache serializes to JSON");
        self.entries = file.entries;
        temp.write_all(&json).map_err(io_err(temp.path()))?;
        temp.as_file().sync_all().map_err(io_err(temp.path()))?;
        temp.persist(&self.path).map_err(|e| StatCacheError::Io {
            path: self.path.clone(),
            source: e.error,
        })?;
        self.written_ns = now;
        self.dirty = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    fn rp(s: &str) -> RepoPath {
        RepoPath::new(s).unwrap()
    }

    /// Sets a file's mtime into the past so it is not racy.
    fn age(path: &Path) {
        let old = SystemTime::now() - Duration::from_secs(3600);
        fs::File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(old)
            .unwrap();
    }

    #[test]
    fn hit_after_save_and_reload() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data.csv");
        fs::write(&file, b"a,b\n1,2\n").unwrap();
        age(&file);
        let cache_dir = dir.path().join("cache");
        let params = ChunkParams::default();
        let id = ObjectId::hash(b"x");

        let mut cache = StatCache::load(&cache_dir, &params);
        assert!(cache.is_empty());
        let meta = fs::symlink_metadata(&file).unwrap();
        cache.insert(&rp("data.csv"), &meta, id, EntryType::File);
        cache.save().unwrap();

        let cache = StatCache::load(&cache_dir, &params);
        assert_eq!(cache.len(), 1);
        let meta = fs::symlink_metadata(&file).unwrap();
        assert_eq!(
            cache.lookup(&rp("data.csv"), &meta),
            Some((id, EntryType::File))
        );
        assert_eq!(cache.lookup(&rp("other.csv"), &meta), None);
    }

    #[test]
    fn changed_file_misses() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, b"one").unwrap();
        age(&file);
        let cache_dir = dir.path().join("cache");
        let params = ChunkParams::default();
        let mut cache = StatCache::load(&cache_dir, &params);
        let meta = fs::symlink_metadata(&file).unwrap();
        cache.insert(&rp("f"), &meta, ObjectId::hash(b"one"), EntryType::File);
        cache.save().unwrap();

        // Same size, new content and mtime.
        fs::write(&file, b"two").unwrap();
        let cache = StatCache::load(&cache_dir, &params);
        assert_eq!(
            cache.lookup(&rp("f"), &fs::symlink_metadata(&file).unwrap()),
            None
        );
    }

    #[test]
    fn racy_entry_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, b"fresh").unwrap();
        // Put the mtime in the future: it cannot be older than the cache write.
        let future = SystemTime::now() + Duration::from_secs(3600);
        fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(future)
            .unwrap();
        let cache_dir = dir.path().join("cache");
        let params = ChunkParams::default();
        let mut cache = StatCache::load(&cache_dir, &params);
        let meta = fs::symlink_metadata(&file).unwrap();
        cache.insert(&rp("f"), &meta, ObjectId::hash(b"fresh"), EntryType::File);
        assert_eq!(cache.lookup(&rp("f"), &meta), None);
        cache.save().unwrap();
        let cache = StatCache::load(&cache_dir, &params);
        assert_eq!(cache.lookup(&rp("f"), &meta), None);
        assert!(cache.is_empty());
    }

    #[test]
    fn corrupt_or_foreign_cache_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join("cache");
        fs::create_dir_all(&cache_dir).unwrap();
        let params = ChunkParams::default();
        fs::write(cache_dir.join(CACHE_FILE), b"{not json").unwrap();
        assert!(StatCache::load(&cache_dir, &params).is_empty());

        // A valid cache made with other chunking parameters is ignored too.
        let file = dir.path().join("f");
        fs::write(&file, b"x").unwrap();
        age(&file);
        let mut cache = StatCache::load(&cache_dir, &params);
        let meta = fs::symlink_metadata(&file).unwrap();
        cache.insert(&rp("f"), &meta, ObjectId::hash(b"x"), EntryType::File);
        cache.save().unwrap();
        assert_eq!(StatCache::load(&cache_dir, &params).len(), 1);
        let other = ChunkParams {
            avg_size: 2 * 1024 * 1024,
            ..params
        };
        assert!(StatCache::load(&cache_dir, &other).is_empty());
        let text = fs::read_to_string(cache_dir.join(CACHE_FILE)).unwrap();
        fs::write(
            cache_dir.join(CACHE_FILE),
            text.replace(CACHE_FORMAT, "ev.stat-cache/99"),
        )
        .unwrap();
        assert!(StatCache::load(&cache_dir, &params).is_empty());
    }

    #[test]
    fn retain_drops_deleted_paths() {
        let dir = tempfile::tempdir().unwrap();
        let params = ChunkParams::default();
        let file = dir.path().join("f");
        fs::write(&file, b"x").unwrap();
        let meta = fs::symlink_metadata(&file).unwrap();
        let mut cache = StatCache::load(&dir.path().join("cache"), &params);
        cache.insert(&rp("a"), &meta, ObjectId::hash(b"a"), EntryType::File);
        cache.insert(&rp("b"), &meta, ObjectId::hash(b"b"), EntryType::Exec);
        cache.retain_paths(|p| p.as_str() == "b");
        assert_eq!(cache.len(), 1);
    }
}
