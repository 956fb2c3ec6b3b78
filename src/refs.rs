//! Refs and reflogs: `HEAD`, `refs/heads/*` and `refs/tags/*` as files under `.ev/`.
//!
//! A ref file contains either 64 hex digits and a newline (a commit id) or `ref: <full name>` and a
//! newline (a symbolic ref; only `HEAD` is symbolic). Every update is a compare-and-swap on the
//! expected old value under a lock file:
//!
//! 1. create `<ref>.lock` with `O_EXCL`, holding `pid`, `host` and `time` lines;
//! 2. re-read the ref and compare it with the expected old value;
//! 3. write the new value to a temporary file in the same folder, fsync it, rename it over the
//!    ref and fsync the folder: the rename is the commit point;
//! 4. append one JSON line to the reflog `.ev/logs/<ref>` (and `.ev/logs/HEAD` when the ref is the
//!    branch `HEAD` points at) with `O_APPEND`, then fsync;
//! 5. remove the lock. Holding it through step 4 keeps reflog lines in ref-update order.
//!
//! A lock held by a live process makes an updater wait up to [`LOCK_WAIT`] and retry. A lock is
//! stale, and broken automatically, only when it is older than [`STALE_LOCK_AGE`] AND it names a
//! process on this host that no longer exists. Any other lock is reported with its path.

use std::fmt;
use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::id::ObjectId;

/// How long an updater waits for a lock held by someone else before it gives up.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);
/// Minimum age of a lock before it may be broken. Ref locks are normally held for milliseconds,
/// so ten seconds is far beyond any live update; the dead-pid check is what makes breaking safe.
pub const STALE_LOCK_AGE: Duration = Duration::from_secs(10);

/// A reason a ref cannot be read, named or updated.
#[derive(Debug, thiserror::Error)]
pub enum RefError {
    #[error("invalid ref name {name:?}: {reason}")]
    InvalidName { name: String, reason: &'static str },
    #[error("ref {name} is damaged: {path:?} contains {content:?}")]
    Damaged {
        name: String,
        path: PathBuf,
        content: String,
    },
    #[error("ref {name} changed concurrently: expected {expected}, found {actual}")]
    Conflict {
        name: String,
        expected: String,
        actual: String,
    },
    #[error("ref {name} is locked by {holder} (lock file {lock:?})")]
    Locked {
        name: String,
        lock: PathBuf,
        holder: String,
    },
    #[error("ref {name} conflicts with existing ref {existing}")]
    NameConflict { name: String, existing: String },
    #[error("ref {name} conflicts with the kept reflog {reflog:?} of a deleted ref")]
    ReflogConflict { name: String, reflog: PathBuf },
    #[error("ref {name} not found")]
    NotFound { name: String },
    #[error("failed to {action} {path:?}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_err(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> RefError {
    let path = path.to_path_buf();
    move |source| RefError::Io {
        action,
        path,
        source,
    }
}

/// A full, validated ref name: `HEAD` or `refs/...`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RefName(String);

impl RefName {
    /// `HEAD`.
    pub fn head() -> RefName {
        RefName("HEAD".to_owned())
    }

    /// Validates a full name (`HEAD` or `refs/...`).
    pub fn new(full: &str) -> Result<RefName, RefError> {
        if full == "HEAD" {
            return Ok(RefName::head());
        }
        if !full.starts_with("refs/") {
            return Err(RefError::InvalidName {
                name: full.to_owned(),
                reason: "a full ref name starts with \"refs/\"",
            });
        }
        check_ref_format(full)?;
        Ok(RefName(full.to_owned()))
    }

    /// `refs/heads/<short>`, validating `short`.
    pub fn branch(short: &str) -> Result<RefName, RefError> {
        check_short_name(short)?;
        Self::new(&format!("refs/heads/{short}"))
    }

    /// `refs/tags/<short>`, validating `short`.
    pub fn tag(short: &str) -> Result<RefName, RefError> {
        check_short_name(short)?;
        Self::new(&format!("refs/tags/{short}"))
    }

    /// The full name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name without `refs/heads/` or `refs/tags/`.
    pub fn short(&self) -> &str {
        self.0
            .strip_prefix("refs/heads/")
            .or_else(|| self.0.strip_prefix("refs/tags/"))
            .unwrap_or(&self.0)
    }

    /// Whether this is a branch (`refs/heads/*`).
    pub fn is_branch(&self) -> bool {
        self.0.starts_with("refs/heads/")
    }

    /// Whether this is a tag (`refs/tags/*`).
    pub fn is_tag(&self) -> bool {
        self.0.starts_with("refs/tags/")
    }
}

impl TryFrom<String> for RefName {
    type Error = RefError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        RefName::new(&s)
    }
}

impl From<RefName> for String {
    fn from(r: RefName) -> String {
        r.0
    }
}

impl fmt::Display for RefName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RefName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RefName({:?})", self.0)
    }
}

fn check_short_name(short: &str) -> Result<(), RefError> {
    let invalid = |reason| RefError::InvalidName {
        name: short.to_owned(),
        reason,
    };
    if short == "HEAD" {
        return Err(invalid("\"HEAD\" is reserved"));
    }
    if short.starts_with('-') {
        return Err(invalid("a name must not start with '-'"));
    }
    if short.starts_with("refs/") {
        return Err(invalid("give the short name without \"refs/\""));
    }
    check_ref_format(short)
}

/// The rules of `git check-ref-format`, applied to every ref name ev creates or reads.
pub fn check_ref_format(name: &str) -> Result<(), RefError> {
    let invalid = |reason| RefError::InvalidName {
        name: name.to_owned(),
        reason,
    };
    if name.is_empty() {
        return Err(invalid("the name is empty"));
    }
    if name == "@" {
        return Err(invalid("\"@\" alone is not a valid name"));
    }
    if name.ends_with('/') || name.starts_with('/') || name.contains("//") {
        return Err(invalid(
            "a name must not start or end with '/' or contain \"//\"",
        ));
    }
    if name.ends_with('.') {
        return Err(invalid("a name must not end with '.'"));
    }
    if name.contains("..") {
        return Err(invalid("a name must not contain \"..\""));
    }
    if name.contains("@{") {
        return Err(invalid("a name must not contain \"@{\""));
    }
    if name
        .chars()
        .any(|c| c.is_control() || matches!(c, ' ' | '~' | '^' | ':' | '?' | '*' | '[' | '\\'))
    {
        return Err(invalid(
            "a name must not contain control characters, space or any of ~ ^ : ? * [ \\",
        ));
    }
    for component in name.split('/') {
        if component.starts_with('.') {
            return Err(invalid("a name component must not start with '.'"));
        }
        if component.ends_with(".lock") {
            return Err(invalid("a name component must not end with \".lock\""));
        }
    }
    Ok(())
}

/// The content of a ref file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefValue {
    /// A commit id.
    Direct(ObjectId),
    /// Another ref (only `HEAD` is symbolic).
    Symbolic(RefName),
}

/// The value a compare-and-swap expects to find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    /// No check: overwrite whatever is there.
    Any,
    /// The ref must not exist yet.
    Absent,
    /// The ref must point at this commit.
    Value(ObjectId),
}

impl Expected {
    /// The expectation matching a value just read: present → that value, absent → absent.
    pub fn from_current(current: Option<ObjectId>) -> Expected {
        current.map_or(Expected::Absent, Expected::Value)
    }

    fn matches(self, actual: Option<ObjectId>) -> bool {
        match self {
            Expected::Any => true,
            Expected::Absent => actual.is_none(),
            Expected::Value(id) => actual == Some(id),
        }
    }

    fn describe(self) -> String {
        match self {
            Expected::Any => "anything".to_owned(),
            Expected::Absent => "no ref".to_owned(),
            Expected::Value(id) => id.to_hex(),
        }
    }
}

/// The author and time of a ref change, recorded in the reflog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    pub who: String,
    pub time: DateTime<Utc>,
}

/// One reflog line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReflogEntry {
    /// When the ref changed, UTC.
    pub time: DateTime<Utc>,
    pub who: String,
    /// Value before the change; `None` when the ref was created.
    pub old: Option<ObjectId>,
    /// Value after the change; `None` when the ref was deleted.
    pub new: Option<ObjectId>,
    /// The reason for the change, such as `commit: fix schema` or `branch: created from main`.
    pub message: String,
}

/// A reflog line that could not be parsed; reading skips it and reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DamagedLine {
    /// 1-based line number in the reflog file.
    pub line: usize,
    /// The parse error.
    pub reason: String,
}

/// Refs found by [`RefStore::list`].
#[derive(Debug, Default)]
pub struct RefList {
    /// Readable refs and their commit ids, sorted by name.
    pub refs: Vec<(RefName, ObjectId)>,
    /// Ref files that could not be read.
    pub damaged: Vec<RefError>,
}

/// The parsed reflog of one ref, oldest entry first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reflog {
    pub entries: Vec<ReflogEntry>,
    pub damaged: Vec<DamagedLine>,
}

/// Refs and reflogs under one `.ev/` folder.
#[derive(Clone, Debug)]
pub struct RefStore {
    ev_dir: PathBuf,
}

impl RefStore {
    /// Refs of the repository folder `ev_dir`.
    pub fn new(ev_dir: &Path) -> RefStore {
        RefStore {
            ev_dir: ev_dir.to_path_buf(),
        }
    }

    /// The file of ref `name`.
    pub fn ref_path(&self, name: &RefName) -> PathBuf {
        self.ev_dir.join(name.as_str())
    }

    /// The reflog file of ref `name`.
    pub fn reflog_path(&self, name: &RefName) -> PathBuf {
        self.ev_dir.join("logs").join(name.as_str())
    }

    /// Reads a ref file without following symbolic refs; `None` when it does not exist.
    pub fn read(&self, name: &RefName) -> Result<Option<RefValue>, RefError> {
        let path = self.ref_path(name);
        let text = match fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            // A file where a folder was expected: `refs/heads/a/b` when `refs/heads/a` exists.
            Err(e) if e.kind() == io::ErrorKind::NotADirectory => return Ok(None),
            // A folder where a ref file was expected: `refs/heads/a` when `refs/heads/a/b` exists.
            Err(_) if path.is_dir() => return Ok(None),
            Err(e) => return Err(io_err("read ref", &path)(e)),
        };
        let damaged = || RefError::Damaged {
            name: name.to_string(),
            path: path.clone(),
            content: text.chars().take(100).collect(),
        };
        let line = text.strip_suffix('\n').ok_or_else(damaged)?;
        if let Some(target) = line.strip_prefix("ref: ") {
            let target = RefName::new(target).map_err(|_| damaged())?;
            return Ok(Some(RefValue::Symbolic(target)));
        }
        let id = line.parse().map_err(|_| damaged())?;
        Ok(Some(RefValue::Direct(id)))
    }

    /// Follows symbolic refs to a commit id; `None` for a missing ref or an unborn branch.
    pub fn resolve(&self, name: &RefName) -> Result<Option<ObjectId>, RefError> {
        let mut current = name.clone();
        // HEAD -> branch is the only symbolic chain ev writes; a bound stops loops in damaged repos.
        for _ in 0..5 {
            match self.read(&current)? {
                None => return Ok(None),
                Some(RefValue::Direct(id)) => return Ok(Some(id)),
                Some(RefValue::Symbolic(target)) => current = target,
            }
        }
        Err(RefError::Damaged {
            name: name.to_string(),
            path: self.ref_path(name),
            content: "a loop of symbolic refs".to_owned(),
        })
    }

    /// The branch `HEAD` points at, or `None` when `HEAD` is detached.
    pub fn head_target(&self) -> Result<Option<RefName>, RefError> {
        match self.read(&RefName::head())? {
            Some(RefValue::Symbolic(target)) => Ok(Some(target)),
            Some(RefValue::Direct(_)) => Ok(None),
            None => Err(RefError::NotFound {
                name: "HEAD".to_owned(),
            }),
        }
    }

    /// Every ref under `refs/` whose full name starts with `prefix`, sorted by name, with its
    /// commit id. Damaged ref files are listed separately instead of failing the listing.
    pub fn list(&self, prefix: &str) -> Result<RefList, RefError> {
        let root = self.ev_dir.join("refs");
        let mut refs = Vec::new();
        let mut damaged = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            let entries = match fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_err("list refs in", &dir)(e)),
            };
            for entry in entries {
                let entry = entry.map_err(io_err("list refs in", &dir))?;
                let path = entry.path();
                let file_type = entry.file_type().map_err(io_err("inspect", &path))?;
                if file_type.is_dir() {
                    stack.push(path);
                    continue;
                }
                let Ok(relative) = path.strip_prefix(&self.ev_dir) else {
                    continue;
                };
                let Some(full) = relative.to_str() else {
                    continue;
                };
                let full = full.replace(std::path::MAIN_SEPARATOR, "/");
                // Lock and temporary files are not refs; check-ref-format rejects their names.
                let Ok(name) = RefName::new(&full) else {
                    continue;
                };
                if !name.as_str().starts_with(prefix) {
                    continue;
                }
                match self.read(&name) {
                    Ok(Some(RefValue::Direct(id))) => refs.push((name, id)),
                    Ok(Some(RefValue::Symbolic(_))) | Ok(None) => {}
                    Err(e) => damaged.push(e),
                }
            }
        }
        refs.sort();
        Ok(RefList { refs, damaged })
    }

    /// Sets ref `name` to `new` if it currently matches `expected`, and logs the change.
    ///
    /// `name` may be `HEAD`: a symbolic `HEAD` updates the branch it points at, and both reflogs
    /// get the line, as in git.
    pub fn update(
        &self,
        name: &RefName,
        expected: Expected,
        new: ObjectId,
        signature: &Signature,
        message: &str,
    ) -> Result<(), RefError> {
        self.change(name, expected, Some(new), signature, message)
    }

    /// Deletes ref `name` if it currently matches `expected`. The reflog stays, so the commits it
    /// names remain reachable for `ev verify` and audits.
    pub fn delete(
        &self,
        name: &RefName,
        expected: Expected,
        signature: &Signature,
        message: &str,
    ) -> Result<(), RefError> {
        self.change(name, expected, None, signature, message)
    }

    fn change(
        &self,
        name: &RefName,
        expected: Expected,
        new: Option<ObjectId>,
        signature: &Signature,
        message: &str,
    ) -> Result<(), RefError> {
        let head_branch = self.head_target().ok().flatten();
        let (target, log_head) = if *name == RefName::head() {
            match &head_branch {
                Some(branch) => (branch.clone(), true),
                None => (RefName::head(), false),
            }
        } else {
            let log_head = head_branch.as_ref() == Some(name);
            (name.clone(), log_head)
        };
        self.check_no_folder_conflict(&target)?;

        let lock = RefLock::acquire(&self.ref_path(&target), target.as_str())?;
        let current = self.resolve_direct(&target)?;
        if !expected.matches(current) {
            return Err(RefError::Conflict {
                name: target.to_string(),
                expected: expected.describe(),
                actual: current.map_or_else(|| "no ref".to_owned(), |id| id.to_hex()),
            });
        }
        let path = self.ref_path(&target);
        match new {
            Some(id) => write_atomic(&path, format!("{id}\n").as_bytes())?,
            None => {
                if current.is_some() {
                    fs::remove_file(&path).map_err(io_err("delete ref", &path))?;
                    sync_parent(&path)?;
                    self.remove_empty_folders(&path);
                }
            }
        }

        let entry = ReflogEntry {
            time: signature.time,
            who: signature.who.clone(),
            old: current,
            new,
            message: message.to_owned(),
        };
        self.append_reflog(&target, &entry)?;
        if log_head && target != RefName::head() {
            self.append_reflog(&RefName::head(), &entry)?;
        }
        lock.release();
        Ok(())
    }

    /// Points `HEAD` at branch `target` (which may not exist yet), logging a `checkout` line when
    /// the commit `HEAD` resolves to changes.
    pub fn set_head_symbolic(
        &self,
        target: &RefName,
        signature: &Signature,
        message: &str,
    ) -> Result<(), RefError> {
        let head = RefName::head();
        let lock = RefLock::acquire(&self.ref_path(&head), "HEAD")?;
        let old = self.resolve(&head).ok().flatten();
        write_atomic(&self.ref_path(&head), format!("ref: {target}\n").as_bytes())?;
        let new = self.resolve(target)?;
        if old != new {
            let entry = ReflogEntry {
                time: signature.time,
                who: signature.who.clone(),
                old,
                new,
                message: message.to_owned(),
            };
            self.append_reflog(&head, &entry)?;
        }
        lock.release();
        Ok(())
    }

    /// Reads the reflog of `name`, oldest first, skipping and reporting damaged lines.
    pub fn reflog(&self, name: &RefName) -> Result<Reflog, RefError> {
        let path = self.reflog_path(name);
        let file = match fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Reflog::default()),
            Err(e) => return Err(io_err("open reflog", &path)(e)),
        };
        parse_reflog(BufReader::new(file)).map_err(io_err("read reflog", &path))
    }

    /// Every ref that has a reflog file, for `ev verify` and `ev reflog`.
    pub fn reflog_names(&self) -> Result<Vec<RefName>, RefError> {
        let root = self.ev_dir.join("logs");
        let mut names = Vec::new();
        for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) if e.io_error().map(io::Error::kind) == Some(io::ErrorKind::NotFound) => {
                    continue;
                }
                Err(e) => {
                    return Err(RefError::Io {
                        action: "list reflogs in",
                        path: root,
                        source: e.into(),
                    });
                }
            };
            if !entry.file_type().is_file() {
                continue;
            }
            let Ok(relative) = entry.path().strip_prefix(&root) else {
                continue;
            };
            if let Some(full) = relative.to_str()
                && let Ok(name) = RefName::new(&full.replace(std::path::MAIN_SEPARATOR, "/"))
            {
                names.push(name);
            }
        }
        Ok(names)
    }

    fn resolve_direct(&self, name: &RefName) -> Result<Option<ObjectId>, RefError> {
        match self.read(name)? {
            None => Ok(None),
            Some(RefValue::Direct(id)) => Ok(Some(id)),
            // Replacing a symbolic HEAD with an id (detaching) is allowed with `Expected::Any`.
            Some(RefValue::Symbolic(_)) => self.resolve(name),
        }
    }

    /// Rejects `refs/heads/a/b` when `refs/heads/a` exists and the reverse, as git does, because a
    /// path cannot be both a file and a folder.
    fn check_no_folder_conflict(&self, name: &RefName) -> Result<(), RefError> {
        let conflict = |existing: String| RefError::NameConflict {
            name: name.to_string(),
            existing,
        };
        let path = self.ref_path(name);
        if path.is_dir() && fs::remove_dir(&path).is_err() {
            let inside = self.list(&format!("{name}/"))?;
            let existing = inside
                .refs
                .first()
                .map_or_else(|| format!("{name}/..."), |(n, _)| n.to_string());
            return Err(conflict(existing));
        }
        for prefix in folder_prefixes(name) {
            if self.ev_dir.join(&prefix).is_file() {
                return Err(conflict(prefix));
            }
        }

        // Reflogs of deleted refs are kept, so their files can block the same names.
        let logs = self.ev_dir.join("logs");
        let log_path = self.reflog_path(name);
        if log_path.is_dir() && fs::remove_dir(&log_path).is_err() {
            let first = walkdir::WalkDir::new(&log_path)
                .into_iter()
                .filter_map(Result::ok)
                .find(|e| e.file_type().is_file())
                .map_or_else(|| log_path.clone(), |e| e.path().to_path_buf());
            return Err(RefError::ReflogConflict {
                name: name.to_string(),
                reflog: first,
            });
        }
        for prefix in folder_prefixes(name) {
            let reflog = logs.join(&prefix);
            if reflog.is_file() {
                return Err(RefError::ReflogConflict {
                    name: name.to_string(),
                    reflog,
                });
            }
        }
        Ok(())
    }

    /// Removes folders left empty by deleting `refs/heads/a/b`, up to `refs/heads` or
    /// `refs/tags`, so that a ref named `refs/heads/a` can be created later. Failures are harmless:
    /// a folder that is not empty (or holds another updater's lock) simply stays.
    fn remove_empty_folders(&self, ref_path: &Path) {
        let stop = [
            self.ev_dir.join("refs/heads"),
            self.ev_dir.join("refs/tags"),
            self.ev_dir.join("refs"),
        ];
        let mut dir = ref_path.parent();
        while let Some(d) = dir {
            if stop.iter().any(|s| s == d) || fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }

    fn append_reflog(&self, name: &RefName, entry: &ReflogEntry) -> Result<(), RefError> {
        let path = self.reflog_path(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_err("create folder", parent))?;
        }
        let mut line = serde_json::to_string(entry).expect("reflog entries serialize to JSON");
        line.push('\n');
        let mut file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err("open reflog", &path))?;
        // One write call per line: with O_APPEND each line lands whole at the end of the file.
        file.write_all(line.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(io_err("append to reflog", &path))
    }
}

/// The folder names above a ref: `refs`, `refs/heads`, `refs/heads/a` for `refs/heads/a/b`.
fn folder_prefixes(name: &RefName) -> Vec<String> {
    let components: Vec<&str> = name.as_str().split('/').collect();
    (1..components.len())
        .map(|n| components[..n].join("/"))
        .collect()
}

/// Parses reflog lines. A line that is not a valid entry is skipped and reported instead of
/// failing the read, so one torn or edited line cannot hide the rest of a ref's history.
pub fn parse_reflog(reader: impl BufRead) -> io::Result<Reflog> {
    let mut reflog = Reflog::default();
    for (index, line) in reader.split(b'\n').enumerate() {
        let line = line?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<ReflogEntry>(&line) {
            Ok(entry) => reflog.entries.push(entry),
            Err(e) => reflog.damaged.push(DamagedLine {
                line: index + 1,
                reason: e.to_string(),
            }),
        }
    }
    Ok(reflog)
}

/// Writes `bytes` to `path` through a temporary file in the same folder: fsync, rename, fsync the
/// folder. Readers see the old or the new content, never a partial file.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RefError> {
    let dir = path.parent().expect("ref paths lie inside the .ev folder");
    fs::create_dir_all(dir).map_err(io_err("create folder", dir))?;
    // The leading '.' keeps temporary files out of ref listings: no ref component starts with '.'.
    let mut temp = tempfile::Builder::new()
        .prefix(".tmp-ref-")
        .tempfile_in(dir)
        .map_err(io_err("create temporary file in", dir))?;
    temp.write_all(bytes)
        .and_then(|()| temp.as_file().sync_all())
        .map_err(io_err("write", temp.path()))?;
    temp.persist(path).map_err(|e| RefError::Io {
        action: "rename temporary file over",
        path: path.to_path_buf(),
        source: e.error,
    })?;
    sync_parent(path)
}

fn sync_parent(path: &Path) -> Result<(), RefError> {
    let dir = path.parent().expect("ref paths lie inside the .ev folder");
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("sync folder", dir))
}

/// The content of a lock file: who holds it since when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LockInfo {
    pub pid: Option<u32>,
    pub host: Option<String>,
    pub time: Option<DateTime<Utc>>,
}

impl LockInfo {
    fn current() -> LockInfo {
        LockInfo {
            pid: Some(std::process::id()),
            host: Some(hostname()),
            time: Some(Utc::now()),
        }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        if let Some(pid) = self.pid {
            out.push_str(&format!("pid {pid}\n"));
        }
        if let Some(host) = &self.host {
            out.push_str(&format!("host {host}\n"));
        }
        if let Some(time) = self.time {
            out.push_str(&format!(
                "time {}\n",
                time.to_rfc3339_opts(SecondsFormat::Millis, true)
            ));
        }
        out
    }

    /// Parses lock file text; unknown or broken lines leave the field unknown.
    pub fn parse(text: &str) -> LockInfo {
        let mut info = LockInfo {
            pid: None,
            host: None,
            time: None,
        };
        for line in text.lines() {
            match line.split_once(' ') {
                Some(("pid", v)) => info.pid = v.parse().ok(),
                Some(("host", v)) => info.host = Some(v.to_owned()),
                Some(("time", v)) => {
                    info.time = DateTime::parse_from_rfc3339(v)
                        .ok()
                        .map(|t| t.with_timezone(&Utc));
                }
                _ => {}
            }
        }
        info
    }

    fn describe(&self) -> String {
        let pid = self
            .pid
            .map_or_else(|| "an unknown process".to_owned(), |p| format!("pid {p}"));
        let host = self.host.as_deref().unwrap_or("an unknown host");
        match self.time {
            Some(time) => format!(
                "{pid} on {host} since {}",
                time.to_rfc3339_opts(SecondsFormat::Secs, true)
            ),
            None => format!("{pid} on {host}"),
        }
    }
}

/// Whether a lock may be broken: old enough AND its process provably gone. A lock from another
/// host, or without a readable pid, is never stale because its process cannot be checked.
pub fn is_stale(
    info: &LockInfo,
    age: Duration,
    this_host: &str,
    pid_alive: impl Fn(u32) -> bool,
) -> bool {
    if age < STALE_LOCK_AGE {
        return false;
    }
    match (info.pid, info.host.as_deref()) {
        (Some(pid), Some(host)) if host == this_host => !pid_alive(pid),
        _ => false,
    }
}

/// Whether process `pid` exists on this machine.
///
/// NOTE: reads `/proc`, so it works on Linux only; elsewhere every process counts as alive and
/// stale locks must be removed by hand (the error names the file).
pub fn pid_alive(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return true;
    }
    Path::new(&format!("/proc/{pid}")).exists()
}

/// This machine's host name, as recorded in lock files.
pub fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".to_owned())
}

/// A held `<ref>.lock`. Dropping it removes the lock file.
#[derive(Debug)]
struct RefLock {
    path: PathBuf,
}

impl RefLock {
    fn acquire(ref_path: &Path, name: &str) -> Result<RefLock, RefError> {
        Self::acquire_within(ref_path, name, LOCK_WAIT)
    }

    fn acquire_within(ref_path: &Path, name: &str, wait: Duration) -> Result<RefLock, RefError> {
        let mut lock_path = ref_path.as_os_str().to_owned();
        lock_path.push(".lock");
        let path = PathBuf::from(lock_path);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io_err("create folder", dir))?;
        }
        let started = Instant::now();
        let mut attempt: u32 = 0;
        loop {
            match fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    let lock = RefLock { path: path.clone() };
                    file.write_all(LockInfo::current().render().as_bytes())
                        .and_then(|()| file.sync_all())
                        .map_err(io_err("write lock file", &path))?;
                    return Ok(lock);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err("create lock file", &path)(e)),
            }

            let (info, age) = match read_lock(&path) {
                Some(found) => found,
                // The holder released it between our attempt and the read: try again at once.
                None => continue,
            };
            if is_stale(&info, age, &hostname(), pid_alive) && break_lock(&path, &info) {
                continue;
            }
            if started.elapsed() >= wait {
                return Err(RefError::Locked {
                    name: name.to_owned(),
                    lock: path,
                    holder: info.describe(),
                });
            }
            attempt += 1;
            std::thread::sleep(backoff(attempt));
        }
    }

    /// Removes the lock file after a completed update.
    fn release(self) {
        // Drop does the work; the named method documents the intent at call sites.
    }
}

impl Drop for RefLock {
    fn drop(&mut self) {
        // A lock left behind by a failure here is stale once this process exits.
        let _ = fs::remove_file(&self.path);
    }
}

fn read_lock(path: &Path) -> Option<(LockInfo, Duration)> {
    let text = fs::read_to_string(path).ok()?;
    let info = LockInfo::parse(&text);
    let modified = fs::metadata(path).and_then(|m| m.modified()).ok();
    let age_from_file = modified.and_then(|m| SystemTime::now().duration_since(m).ok());
    let age_from_text = info.time.and_then(|t| (Utc::now() - t).to_std().ok());
    // The younger of the two ages, so that neither a wrong clock nor a touched file alone can make
    // a live lock look old.
    let age = match (age_from_file, age_from_text) {
        (Some(a), Some(b)) => a.min(b),
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => Duration::ZERO,
    };
    Some((info, age))
}

/// Breaks a stale lock without racing another breaker. The lock is renamed to a unique name and
/// re-read, and if it turns out to be a different (fresh) lock, it is linked back into place.
fn break_lock(path: &Path, judged: &LockInfo) -> bool {
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".broken-{}", std::process::id()));
    let aside = PathBuf::from(aside);
    if fs::rename(path, &aside).is_err() {
        return false;
    }
    let taken = fs::read_to_string(&aside).map(|t| LockInfo::parse(&t)).ok();
    if taken.as_ref() != Some(judged) {
        // `hard_link` fails if a new lock appeared meanwhile, which is then the valid one.
        let _ = fs::hard_link(&aside, path);
        let _ = fs::remove_file(&aside);
        return false;
    }
    let _ = fs::remove_file(&aside);
    true
}

/// Sleep before the next lock attempt: exponential from 2 ms, capped at 100 ms, with jitter so
/// that waiting processes do not retry in lockstep.
pub(crate) fn backoff(attempt: u32) -> Duration {
    let base_ms = (2u64 << attempt.min(6)).min(100);
    Duration::from_millis(base_ms / 2 + jitter(base_ms / 2 + 1))
}

/// A cheap pseudo-random number in `0..bound` from the clock and pid; jitter needs no quality.
pub(crate) fn jitter(bound: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mixed = (u64::from(nanos) ^ (u64::from(std::process::id()) << 17))
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> 33) % bound.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Barrier};

    fn store() -> (tempfile::TempDir, RefStore) {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("refs/heads")).unwrap();
        fs::write(tmp.path().join("HEAD"), "ref: refs/heads/main\n").unwrap();
        let refs = RefStore::new(tmp.path());
        (tmp, refs)
    }

    fn tmp_logs(refs: &RefStore) -> PathBuf {
        refs.reflog_path(&RefName::head())
            .parent()
            .unwrap()
            .to_path_buf()
    }

    fn sig() -> Signature {
        Signature {
            who: "tester".into(),
            time: DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
                .unwrap()
                .with_timezone(&Utc),
        }
    }

    fn id(n: u8) -> ObjectId {
        ObjectId::hash(&[n])
    }

    #[test]
    fn ref_name_rules() {
        for good in ["main", "feature/x", "v1.0", "release-2026_01", "a@b"] {
            assert!(RefName::branch(good).is_ok(), "{good:?} rejected");
        }
        for bad in [
            "",
            "a..b",
            "a/",
            "/a",
            "a//b",
            ".hidden",
            "a/.b",
            "x.lock",
            "a/x.lock/b",
            "a b",
            "a~1",
            "a^",
            "a:b",
            "a?",
            "a*",
            "a[",
            "a\\b",
            "a\u{7}",
            "@",
            "a@{1}",
            "end.",
            "HEAD",
            "-x",
            "refs/heads/x",
        ] {
            assert!(RefName::branch(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(RefName::branch("main").unwrap().short(), "main");
    }

    #[test]
    fn update_cas_and_reflog() {
        let (_tmp, refs) = store();
        let main = RefName::branch("main").unwrap();
        refs.update(
            &RefName::head(),
            Expected::Absent,
            id(1),
            &sig(),
            "commit: one",
        )
        .unwrap();
        assert_eq!(refs.resolve(&main).unwrap(), Some(id(1)));
        let err = refs
            .update(&main, Expected::Value(id(9)), id(2), &sig(), "x")
            .unwrap_err();
        assert!(matches!(err, RefError::Conflict { .. }));
        refs.update(&main, Expected::Value(id(1)), id(2), &sig(), "commit: two")
            .unwrap();
        let log = refs.reflog(&main).unwrap();
        assert_eq!(log.entries.len(), 2);
        assert_eq!(log.entries[0].old, None);
        assert_eq!(log.entries[1].old, Some(id(1)));
        assert_eq!(log.entries[1].new, Some(id(2)));
        // HEAD points at main, so its reflog gets the same lines.
        assert_eq!(refs.reflog(&RefName::head()).unwrap().entries, log.entries);
    }

    #[test]
    fn concurrent_updaters_exactly_one_wins() {
        let (_tmp, refs) = store();
        let main = RefName::branch("main").unwrap();
        refs.update(&main, Expected::Absent, id(0), &sig(), "init")
            .unwrap();
        let barrier = Arc::new(Barrier::new(8));
        let handles: Vec<_> = (1..=8u8)
            .map(|n| {
                let refs = refs.clone();
                let main = main.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    refs.update(&main, Expected::Value(id(0)), id(n), &sig(), "race")
                })
            })
            .collect();
        let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let wins = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1);
        for r in &results {
            if let Err(e) = r {
                assert!(matches!(e, RefError::Conflict { .. }), "{e}");
            }
        }
        assert_eq!(refs.reflog(&main).unwrap().entries.len(), 2);
    }

    #[test]
    fn lock_staleness_rules() {
        let old = STALE_LOCK_AGE + Duration::from_secs(1);
        let young = Duration::from_secs(1);
        let info = LockInfo {
            pid: Some(42),
            host: Some("here".into()),
            time: None,
        };
        assert!(is_stale(&info, old, "here", |_| false));
        assert!(
            !is_stale(&info, young, "here", |_| false),
            "young lock broken"
        );
        assert!(!is_stale(&info, old, "here", |_| true), "live pid broken");
        assert!(
            !is_stale(&info, old, "elsewhere", |_| false),
            "foreign host broken"
        );
        let unknown = LockInfo::parse("garbage");
        assert!(!is_stale(&unknown, old, "here", |_| false));
    }

    #[test]
    fn stale_lock_is_broken_and_live_lock_reported() {
        let (tmp, refs) = store();
        let main = RefName::branch("main").unwrap();
        let lock = tmp.path().join("refs/heads/main.lock");
        // A pid far above Linux's pid_max (2^22) never exists.
        let dead = format!(
            "pid 999999999\nhost {}\ntime 2000-01-01T00:00:00Z\n",
            hostname()
        );
        fs::write(&lock, &dead).unwrap();
        let old = SystemTime::now() - Duration::from_secs(3600);
        fs::File::options()
            .write(true)
            .open(&lock)
            .unwrap()
            .set_modified(old)
            .unwrap();
        refs.update(&main, Expected::Absent, id(1), &sig(), "x")
            .unwrap();
        assert!(!lock.exists());

        let info = LockInfo::parse(&LockInfo::current().render());
        assert_eq!(info.pid, Some(std::process::id()));
        assert!(LockInfo::current().describe().contains("pid"));
    }

    #[test]
    fn detached_head_updates_itself() {
        let (tmp, refs) = store();
        let main = RefName::branch("main").unwrap();
        refs.update(&main, Expected::Absent, id(1), &sig(), "x")
            .unwrap();
        fs::write(tmp.path().join("HEAD"), format!("{}\n", id(1))).unwrap();
        assert_eq!(refs.head_target().unwrap(), None);
        refs.update(
            &RefName::head(),
            Expected::Value(id(1)),
            id(2),
            &sig(),
            "commit: d",
        )
        .unwrap();
        assert_eq!(refs.resolve(&RefName::head()).unwrap(), Some(id(2)));
        // The branch HEAD left stays where it was.
        assert_eq!(refs.resolve(&main).unwrap(), Some(id(1)));
        assert_eq!(refs.reflog(&main).unwrap().entries.len(), 1);
        assert_eq!(refs.reflog(&RefName::head()).unwrap().entries.len(), 2);

        refs.set_head_symbolic(&main, &sig(), "checkout: main")
            .unwrap();
        assert_eq!(refs.head_target().unwrap(), Some(main));
    }

    #[test]
    fn live_lock_waits_then_names_the_file() {
        let (tmp, _refs) = store();
        let ref_path = tmp.path().join("refs/heads/main");
        let held = RefLock::acquire(&ref_path, "refs/heads/main").unwrap();
        let started = Instant::now();
        let err = RefLock::acquire_within(&ref_path, "refs/heads/main", Duration::from_millis(200))
            .unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(200));
        let message = err.to_string();
        assert!(matches!(err, RefError::Locked { .. }), "{message}");
        assert!(message.contains("main.lock"), "{message}");
        assert!(
            message.contains(&format!("pid {}", std::process::id())),
            "{message}"
        );
        // Released locks can be taken again at once.
        held.release();
        RefLock::acquire_within(&ref_path, "refs/heads/main", Duration::ZERO).unwrap();
    }

    #[test]
    fn damaged_reflog_line_is_skipped() {
        let good = serde_json::to_string(&ReflogEntry {
            time: sig().time,
            who: "a".into(),
            old: None,
            new: Some(id(1)),
            message: "m".into(),
        })
        .unwrap();
        let text = format!("{good}\n{{\"time\": broken\n\n\u{0}\u{1}garbage\n{good}");
        let log = parse_reflog(text.as_bytes()).unwrap();
        assert_eq!(log.entries.len(), 2);
        assert_eq!(log.damaged.len(), 2);
        assert_eq!(log.damaged[0].line, 2);
        assert_eq!(log.damaged[1].line, 4);
    }

    #[test]
    fn damaged_ref_file_is_an_error() {
        let (tmp, refs) = store();
        fs::write(tmp.path().join("refs/heads/main"), "nonsense").unwrap();
        let err = refs.read(&RefName::branch("main").unwrap()).unwrap_err();
        assert!(matches!(err, RefError::Damaged { .. }));
    }

    #[test]
    fn folder_file_conflicts_are_rejected() {
        let (_tmp, refs) = store();
        let a = RefName::branch("a").unwrap();
        let ab = RefName::branch("a/b").unwrap();
        refs.update(&a, Expected::Absent, id(1), &sig(), "x")
            .unwrap();
        let err = refs
            .update(&ab, Expected::Absent, id(1), &sig(), "x")
            .unwrap_err();
        assert!(matches!(err, RefError::NameConflict { .. }), "{err}");
        // Reading `a/b` goes through the file `a`, which is "not a folder", not an I/O failure.
        assert_eq!(refs.read(&ab).unwrap(), None);

        // A deleted ref's kept reflog still blocks the name, and the error names the file.
        refs.delete(&a, Expected::Value(id(1)), &sig(), "x")
            .unwrap();
        let err = refs
            .update(&ab, Expected::Absent, id(2), &sig(), "x")
            .unwrap_err();
        assert!(matches!(err, RefError::ReflogConflict { .. }), "{err}");
        assert!(err.to_string().contains("logs/refs/heads/a"), "{err}");
        assert_eq!(refs.resolve(&ab).unwrap(), None);

        // Once that reflog is moved away, the empty ref folder is no obstacle either way.
        fs::remove_file(refs.reflog_path(&a)).unwrap();
        refs.update(&ab, Expected::Absent, id(2), &sig(), "x")
            .unwrap();
        refs.delete(&ab, Expected::Value(id(2)), &sig(), "x")
            .unwrap();
        fs::remove_dir_all(tmp_logs(&refs).join("refs/heads/a")).unwrap();
        refs.update(&a, Expected::Absent, id(1), &sig(), "x")
            .unwrap();
    }

    #[test]
    fn list_and_delete() {
        let (_tmp, refs) = store();
        let a = RefName::branch("a").unwrap();
        let t = RefName::tag("v1").unwrap();
        refs.update(&a, Expected::Absent, id(1), &sig(), "x")
            .unwrap();
        refs.update(&t, Expected::Absent, id(2), &sig(), "x")
            .unwrap();
        let heads = refs.list("refs/heads/").unwrap();
        assert!(heads.damaged.is_empty());
        assert_eq!(heads.refs, vec![(a.clone(), id(1))]);
        refs.delete(&a, Expected::Value(id(1)), &sig(), "branch: deleted")
            .unwrap();
        assert_eq!(refs.resolve(&a).unwrap(), None);
        let names = refs.reflog_names().unwrap();
        assert!(names.contains(&a));
        assert!(names.contains(&t));
    }
}
