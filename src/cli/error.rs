//! The one place where library errors become user-facing messages and exit codes.
//!
//! Every library error type implements [`Classify`] here, which sorts it into an [`ErrorClass`]
//! and may name the next command in a hint. `?` in a command converts any classified error into a
//! [`CliError`], which `cli::main` prints as `Error: ...`, optional `Caused by: ...` lines and
//! `Hint: ...` on stderr before exiting with the class's code.

use std::error::Error as StdError;
use std::io;

use crate::checkout::CheckoutError;
use crate::chunker::ChunkError;
use crate::manifest::ManifestError;
use crate::refs::RefError;
use crate::repo::RepoError;
use crate::revision::RevisionError;
use crate::snapshot::SnapshotError;
use crate::store::StoreError;
use crate::tree_walk::TreeWalkError;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: the command ran and found differences (diff-like commands).
pub const EXIT_DIFFERENCES: u8 = 1;
/// Exit code: invalid usage or input: unknown revision, bad option, invalid `evidence.toml`.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: the repository is damaged (missing or corrupt objects, damaged refs, `ev verify`
/// findings).
pub const EXIT_DAMAGED: u8 = 3;
/// Exit code: a ref update lost a race after all retries, or a ref is locked.
pub const EXIT_CONFLICT: u8 = 4;
/// Exit code: an I/O or internal failure not caused by the input.
pub const EXIT_INTERNAL: u8 = 5;
/// Exit code: interrupted by Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Kinds of failure, each with its exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// The user asked for something invalid or absent; fixing the command fixes it.
    User,
    /// Repository content is damaged; `ev verify` lists the problems.
    Damaged,
    /// A concurrent writer won; re-running usually succeeds.
    Conflict,
    /// The environment failed (I/O, permissions, disk full) or ev has a bug.
    Internal,
    /// Ctrl-C.
    Interrupted,
}

impl ErrorClass {
    /// The process exit code for this class.
    pub fn exit_code(self) -> u8 {
        match self {
            ErrorClass::User => EXIT_USAGE,
            ErrorClass::Damaged => EXIT_DAMAGED,
            ErrorClass::Conflict => EXIT_CONFLICT,
            ErrorClass::Internal => EXIT_INTERNAL,
            ErrorClass::Interrupted => EXIT_INTERRUPTED,
        }
    }
}

/// A library error that carries its class and, where useful, the next step for the user.
pub trait Classify: StdError + Send + Sync + 'static {
    /// Which exit code and framing this error gets.
    fn class(&self) -> ErrorClass;
    /// The next command or fix, printed as `Hint: ...`.
    fn hint(&self) -> Option<String> {
        None
    }
}

/// An error ready to print: a one-line message, its causes and a hint.
#[derive(Debug)]
pub struct CliError {
    pub class: ErrorClass,
    pub message: String,
    pub causes: Vec<String>,
    pub hint: Option<String>,
    /// Set for a closed stdout (`ev log | head`): exit without printing anything.
    pub quiet: bool,
}

impl CliError {
    /// A user error raised by the CLI itself.
    pub fn user(message: impl Into<String>, hint: impl Into<String>) -> CliError {
        CliError {
            class: ErrorClass::User,
            message: message.into(),
            causes: Vec::new(),
            hint: Some(hint.into()),
            quiet: false,
        }
    }

    /// An error of the given class raised by the CLI itself.
    pub fn new(class: ErrorClass, message: impl Into<String>) -> CliError {
        CliError {
            class,
            message: message.into(),
            causes: Vec::new(),
            hint: None,
            quiet: false,
        }
    }

    /// Ctrl-C stopped the command.
    pub fn interrupted() -> CliError {
        CliError::new(ErrorClass::Interrupted, "interrupted")
    }

    /// Replaces the hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> CliError {
        self.hint = Some(hint.into());
        self
    }

    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        if self.quiet {
            0
        } else {
            self.class.exit_code()
        }
    }
}

impl<E: Classify> From<E> for CliError {
    fn from(error: E) -> CliError {
        let message = error.to_string();
        // thiserror messages often embed their source already; list only causes that add text.
        let mut causes = Vec::new();
        let mut disk_full = false;
        let mut source = error.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !message.contains(&text) && !causes.contains(&text) {
                causes.push(text);
            }
            disk_full |= cause.downcast_ref::<io::Error>().is_some_and(is_disk_full);
            source = cause.source();
        }
        // Every module reports a full disk as its own I/O variant, so the hint is added here.
        let hint = error
            .hint()
            .or_else(|| disk_full.then(|| HINT_DISK_FULL.to_owned()));
        CliError {
            class: error.class(),
            hint,
            message,
            causes,
            quiet: false,
        }
    }
}

/// Failures writing to stdout: a closed pipe ends the command quietly, anything else is internal.
impl From<io::Error> for CliError {
    fn from(error: io::Error) -> CliError {
        let mut e = CliError::new(
            ErrorClass::Internal,
            format!("failed to write output: {error}"),
        );
        e.quiet = error.kind() == io::ErrorKind::BrokenPipe;
        e
    }
}

const HINT_DISK_FULL: &str =
    "free space on the full file system (see `df -h`), then run the command again";

/// `ENOSPC` or `EDQUOT`: out of disk space or over a disk quota.
fn is_disk_full(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

const HINT_LOG: &str = "run `ev log` to list commits, or `ev branch` and `ev tag` to list names";
const HINT_VERIFY: &str = "run `ev verify` to check the whole repository";

impl Classify for RepoError {
    fn class(&self) -> ErrorClass {
        match self {
            RepoError::NotFound { .. }
            | RepoError::NotARepository { .. }
            | RepoError::AlreadyExists { .. }
            | RepoError::NewerFormat { .. }
            | RepoError::BadWorkTree { .. } => ErrorClass::User,
            RepoError::Config { .. } => ErrorClass::Damaged,
            RepoError::Io { .. } => ErrorClass::Internal,
            RepoError::Ref(e) => e.class(),
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            RepoError::NotFound { .. } | RepoError::NotARepository { .. } => {
                "run `ev init` to create a repository here, or point to one with --repo PATH or \
                 EV_DIR"
                    .to_owned()
            }
            RepoError::AlreadyExists { .. } => {
                "the repository is already set up; run `ev log` to see its history".to_owned()
            }
            RepoError::NewerFormat { .. } => {
                "install a newer ev, for example `cargo install --path .` in a newer checkout"
                    .to_owned()
            }
            RepoError::Config { path, .. } => {
                format!("fix {} by hand or restore it from a backup", path.display())
            }
            RepoError::BadWorkTree { .. } => {
                "pass an existing folder with --work-tree or EV_WORK_TREE".to_owned()
            }
            RepoError::Ref(e) => return e.hint(),
            RepoError::Io { .. } => return None,
        })
    }
}

impl Classify for RefError {
    fn class(&self) -> ErrorClass {
        match self {
            RefError::InvalidName { .. }
            | RefError::NotFound { .. }
            | RefError::NameConflict { .. }
            | RefError::ReflogConflict { .. } => ErrorClass::User,
            RefError::Damaged { .. } => ErrorClass::Damaged,
            RefError::Conflict { .. } | RefError::Locked { .. } => ErrorClass::Conflict,
            RefError::Io { .. } => ErrorClass::Internal,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            RefError::InvalidName { .. } => {
                "ref names follow git's rules: no spaces, \"..\", ~ ^ : ? * [ \\, no component \
                 starting with '.' or ending with \".lock\""
                    .to_owned()
            }
            RefError::NotFound { .. } => "run `ev branch` or `ev tag` to list names".to_owned(),
            RefError::NameConflict { existing, .. } => {
                format!("choose another name or delete {existing} first")
            }
            RefError::ReflogConflict { reflog, .. } => format!(
                "choose another name, or move {} out of .ev/logs (it keeps the deleted ref's \
                 history visible to `ev verify`)",
                reflog.display()
            ),
            // Without HEAD the folder is no longer recognised as a repository.
            RefError::Damaged { name, path, .. } if name == "HEAD" => format!(
                "write \"ref: refs/heads/main\" (or a commit id from `ev reflog`) into {}",
                path.display()
            ),
            RefError::Damaged { path, .. } => format!(
                "restore {} from the reflog (`ev reflog`) or delete it",
                path.display()
            ),
            RefError::Conflict { .. } => {
                "another process updated the ref meanwhile; re-run the command".to_owned()
            }
            RefError::Locked { lock, .. } => format!(
                "wait for the other ev process to finish; if none is running, remove {}",
                lock.display()
            ),
            RefError::Io { .. } => return None,
        })
    }
}

impl Classify for RevisionError {
    fn class(&self) -> ErrorClass {
        match self {
            RevisionError::Ref(e) => e.class(),
            RevisionError::Object { .. } => ErrorClass::Damaged,
            _ => ErrorClass::User,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            RevisionError::Unknown { .. } => HINT_LOG.to_owned(),
            RevisionError::NotACommit { .. } => {
                "give a commit: `ev log` lists commit ids, and REV:PATH names a file or folder \
                 inside a commit"
                    .to_owned()
            }
            RevisionError::PastRoot { available: 0, .. } => {
                "no ~N applies to a root commit; run `ev log` to see the history".to_owned()
            }
            RevisionError::PastRoot { available, .. } => {
                format!("use at most ~{available} there; run `ev log` to see the history")
            }
            RevisionError::Ambiguous { .. } => "give more hex digits of the id".to_owned(),
            RevisionError::Unborn { .. } => {
                "run `ev commit -m MESSAGE` to make the first commit".to_owned()
            }
            RevisionError::NoParent { parents: 0, .. } => {
                "a root commit has no parents; run `ev log` to see the history".to_owned()
            }
            RevisionError::NoParent { parents: 1, .. } => {
                "use ^ or ^1 for its parent, and ~N to go further back".to_owned()
            }
            RevisionError::NoParent { parents, .. } => {
                format!("use ^1 to ^{parents} to pick one of its parents")
            }
            RevisionError::BeforeReflog { name, .. }
            | RevisionError::ReflogTooShort { name, .. }
            | RevisionError::Deleted { name } => {
                format!("run `ev reflog {name}` to see when the ref changed")
            }
            RevisionError::Syntax { .. } => {
                "see docs/cli.md, section \"Revisions\", for the syntax".to_owned()
            }
            RevisionError::Ref(e) => return e.hint(),
            RevisionError::Object { .. } => HINT_VERIFY.to_owned(),
        })
    }
}

impl Classify for ManifestError {
    fn class(&self) -> ErrorClass {
        match self {
            ManifestError::Io { .. } => ErrorClass::Internal,
            _ => ErrorClass::User,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            ManifestError::Io { .. } => None,
            _ => Some(
                "fix evidence.toml; the commented template from `ev init` lists every key"
                    .to_owned(),
            ),
        }
    }
}

impl Classify for SnapshotError {
    fn class(&self) -> ErrorClass {
        match self {
            SnapshotError::Manifest(e) => e.class(),
            SnapshotError::Ref(e) => e.class(),
            SnapshotError::Revision(e) => e.class(),
            SnapshotError::Store(e) => e.class(),
            SnapshotError::Chunk(e) => e.class(),
            SnapshotError::RaceLost { .. } => ErrorClass::Conflict,
            SnapshotError::Interrupted => ErrorClass::Interrupted,
            SnapshotError::Typed { source, .. } => typed_class(source.as_ref()),
            SnapshotError::Io { .. } => ErrorClass::Internal,
            SnapshotError::NoManifest { .. }
            | SnapshotError::NoItems
            | SnapshotError::PathNotFound { .. }
            | SnapshotError::OutsideWorkTree { .. }
            | SnapshotError::InsideRepository { .. }
            | SnapshotError::BadName { .. }
            | SnapshotError::Unsupported { .. }
            | SnapshotError::Vanished { .. }
            | SnapshotError::Changed { .. }
            | SnapshotError::BadLabel { .. } => ErrorClass::User,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            SnapshotError::Manifest(e) => e.hint(),
            SnapshotError::Ref(e) => e.hint(),
            SnapshotError::Revision(e) => e.hint(),
            SnapshotError::Store(e) => e.hint(),
            SnapshotError::Chunk(e) => e.hint(),
            SnapshotError::Typed { source, .. } => typed_hint(source.as_ref()),
            other => other.own_hint(),
        }
    }
}

/// Classifies a typed-evidence capture error: bad input data, options and failing golden
/// commands are the user's to fix; I/O and store failures are internal.
fn typed_class(source: &(dyn std::error::Error + Send + Sync + 'static)) -> ErrorClass {
    use crate::evidence::Error as CaptureError;
    match source.downcast_ref::<CaptureError>() {
        Some(CaptureError::Interrupted) => ErrorClass::Interrupted,
        Some(CaptureError::Io { .. }) => ErrorClass::Internal,
        Some(_) => ErrorClass::User,
        None => match source.downcast_ref::<StoreError>() {
            Some(e) => e.class(),
            None => ErrorClass::Internal,
        },
    }
}

fn typed_hint(source: &(dyn std::error::Error + Send + Sync + 'static)) -> Option<String> {
    use crate::evidence::Error as CaptureError;
    use crate::evidence::golden::GoldenError;
    use crate::profile::read::ReadError;
    use crate::profile::slice::SliceError;
    let hint = match source.downcast_ref::<CaptureError>()? {
        CaptureError::Options { .. } | CaptureError::OptionValue { .. } => {
            "fix the item's options in evidence.toml; docs/evidence.md lists them"
        }
        CaptureError::Golden(GoldenError::Failed { .. } | GoldenError::Timeout { .. }) => {
            "fix the golden command, raise `timeout_secs`, or pass --allow-failed to store the failure"
        }
        CaptureError::Golden(GoldenError::BadOutput { .. }) => {
            "make the golden command print one table in the item's `format` (default CSV with a header row)"
        }
        CaptureError::Golden(GoldenError::OutputTooLarge { .. }) => {
            "make the golden command print less, or raise the item's `max_output_bytes`"
        }
        CaptureError::Golden(GoldenError::Spawn { .. }) => {
            "check that `sh` can run in the workspace folder"
        }
        CaptureError::Golden(GoldenError::BadColumnName { .. }) => {
            "give the result file a header row of column names in its declared `format`"
        }
        CaptureError::Golden(GoldenError::KeyColumnMissing { .. }) => {
            "fix the item's `key_columns` in evidence.toml to name columns of the result table"
        }
        CaptureError::Golden(GoldenError::BadTolerance { .. }) => {
            "set the item's tolerances to finite numbers of at least 0"
        }
        CaptureError::RedactKeyMissing { .. } => {
            "export the redaction key (EV_REDACT_KEY unless the item sets `redact_key_env`)"
        }
        CaptureError::Read(ReadError::ColumnNotFound { .. })
        | CaptureError::Slice {
            source:
                SliceError::ColumnNotFound { .. }
                | SliceError::UnsupportedType { .. }
                | SliceError::TooManyValues { .. },
            ..
        } => {
            "fix the item's `slice_by` in evidence.toml to name top-level, non-nested columns of the file with at most 1,000,000 distinct values"
        }
        CaptureError::RedactColumnMissing { .. } => {
            "fix the item's `redact` in evidence.toml to name columns of the file"
        }
        CaptureError::Read(
            ReadError::UnknownType { .. } | ReadError::PinnedColumnMissing { .. },
        ) => "fix the item's `csv.types` in evidence.toml; docs/evidence.md lists the type names",
        CaptureError::Read(ReadError::UnknownFormat { .. }) => {
            "set the item's `format` in evidence.toml, or point its path at table files"
        }
        CaptureError::Read(_) | CaptureError::Parse { .. } | CaptureError::Safetensors { .. } => {
            "check that the file is complete and in the declared format"
        }
        _ => return None,
    };
    Some(hint.to_owned())
}

impl Classify for crate::diff::compare::DiffError {
    fn class(&self) -> ErrorClass {
        use crate::diff::compare::DiffError;
        use crate::diff::table::TableError;
        match self {
            DiffError::Store(e) => e.class(),
            // A key or column problem comes from how the golden items were declared.
            DiffError::Table {
                source:
                    TableError::KeyMissing { .. }
                    | TableError::KeyIncompatible { .. }
                    | TableError::DuplicateColumn { .. }
                    | TableError::TooManyRows { .. },
                ..
            } => ErrorClass::User,
            DiffError::Table { .. } => ErrorClass::Damaged,
            DiffError::ReadTable { .. } => ErrorClass::Internal,
            DiffError::UnknownPath { .. } => ErrorClass::User,
        }
    }

    fn hint(&self) -> Option<String> {
        use crate::diff::compare::DiffError;
        match self {
            DiffError::Store(e) => e.hint(),
            DiffError::Table { item, .. } => Some(format!(
                "check key_columns of item {item:?} in evidence.toml, or run `ev verify`"
            )),
            DiffError::ReadTable { .. } => Some(HINT_VERIFY.to_owned()),
            DiffError::UnknownPath { .. } => Some(
                "name a file or folder of either snapshot (`ev ls REV`) or an evidence item (`ev show REV`)"
                    .to_owned(),
            ),
        }
    }
}

impl Classify for StoreError {
    fn class(&self) -> ErrorClass {
        match self {
            StoreError::Io { .. } => ErrorClass::Internal,
            StoreError::BadPrefix(_)
            | StoreError::PrefixNotFound { .. }
            | StoreError::Ambiguous { .. } => ErrorClass::User,
            _ => ErrorClass::Damaged,
        }
    }

    fn hint(&self) -> Option<String> {
        match self.class() {
            ErrorClass::Damaged => Some(HINT_VERIFY.to_owned()),
            ErrorClass::User => Some(HINT_LOG.to_owned()),
            _ => None,
        }
    }
}

impl Classify for ChunkError {
    fn class(&self) -> ErrorClass {
        match self {
            ChunkError::Store(e) => e.class(),
            ChunkError::Interrupted => ErrorClass::Interrupted,
            ChunkError::NotAFile { .. } | ChunkError::FileChanged { .. } => ErrorClass::User,
            ChunkError::InvalidParams { .. } => ErrorClass::Damaged,
            ChunkError::Io { .. } => ErrorClass::Internal,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            ChunkError::Store(e) => e.hint(),
            ChunkError::FileChanged { .. } => {
                Some("wait until the files stop changing, then run `ev commit` again".to_owned())
            }
            ChunkError::InvalidParams { .. } => {
                Some("fix [chunking] in .ev/config.toml".to_owned())
            }
            _ => None,
        }
    }
}

impl Classify for CheckoutError {
    fn class(&self) -> ErrorClass {
        match self {
            CheckoutError::Store(e) => e.class(),
            CheckoutError::Interrupted => ErrorClass::Interrupted,
            CheckoutError::Io { .. } => ErrorClass::Internal,
            CheckoutError::TooDeep { .. } => ErrorClass::Damaged,
            _ => ErrorClass::User,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            CheckoutError::Store(e) => e.hint(),
            CheckoutError::PathNotInTree { .. } => {
                Some("run `ev ls REV -r` to list the paths of a commit".to_owned())
            }
            CheckoutError::SymlinkInDest { .. } | CheckoutError::NotAFolder { .. } => {
                Some("check out into an empty folder, or remove the entry".to_owned())
            }
            CheckoutError::UnsafeSymlink { path, .. } => Some(format!(
                "read the link target with `ev cat REV:{path}`, and check out the other paths \
                 by naming them: `ev checkout REV PATH... --to DIR`"
            )),
            _ => None,
        }
    }
}

impl Classify for TreeWalkError {
    fn class(&self) -> ErrorClass {
        match self {
            TreeWalkError::Store(e) => e.class(),
            TreeWalkError::TooDeep { .. } => ErrorClass::Damaged,
            _ => ErrorClass::User,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            TreeWalkError::Store(e) => e.hint(),
            TreeWalkError::TooDeep { .. } => Some(HINT_VERIFY.to_owned()),
            _ => Some("run `ev ls REV -r` to list the paths of a commit".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    #[test]
    fn full_disk_gets_hint() {
        let full = StoreError::Io {
            path: "/repo/.ev/objects/40".into(),
            source: io::Error::from(io::ErrorKind::StorageFull),
        };
        let error = CliError::from(full);
        assert_eq!(error.class, ErrorClass::Internal);
        assert_eq!(error.hint.as_deref(), Some(HINT_DISK_FULL));

        let denied = StoreError::Io {
            path: "/repo/.ev/objects/40".into(),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert_eq!(CliError::from(denied).hint, None);
    }

    #[test]
    fn golden_bad_output_gets_hint() {
        use crate::evidence::golden::GoldenError;
        use crate::profile::read::TableFormat;

        let bad_output = GoldenError::BadOutput {
            command: "printf 'a,b\\n1\\n'".to_owned(),
            format: TableFormat::Csv,
            detail: "interrupted".to_owned(),
            reader_error: Box::new(crate::evidence::Error::Interrupted),
        };
        let capture_error: Box<dyn std::error::Error + Send + Sync> =
            Box::new(crate::evidence::Error::from(bad_output));
        let hint = typed_hint(capture_error.as_ref()).unwrap_or_default();
        assert!(hint.contains("`format`"), "hint: {hint}");

        let too_large = GoldenError::OutputTooLarge {
            command: "yes".to_owned(),
            limit: 10,
        };
        let capture_error: Box<dyn std::error::Error + Send + Sync> =
            Box::new(crate::evidence::Error::from(too_large));
        let hint = typed_hint(capture_error.as_ref()).unwrap_or_default();
        assert!(hint.contains("max_output_bytes"), "hint: {hint}");
    }

    #[test]
    fn sample_option_errors_name_option() {
        use crate::evidence::Error as CaptureError;
        use crate::profile::read::ReadError;
        use crate::profile::slice::SliceError;

        let path = std::path::PathBuf::from("/work/data/flights.parquet");
        let cases = [
            (
                CaptureError::Read(ReadError::ColumnNotFound {
                    path: path.clone(),
                    column: "carier".to_owned(),
                }),
                "`slice_by`",
            ),
            (
                CaptureError::Slice {
                    path: path.clone(),
                    source: SliceError::UnsupportedType {
                        column: "tags".to_owned(),
                        data_type: "list<int32>".to_owned(),
                    },
                },
                "`slice_by`",
            ),
            (
                CaptureError::RedactColumnMissing {
                    path: path.clone(),
                    column: "email".to_owned(),
                },
                "`redact`",
            ),
            (
                CaptureError::Read(ReadError::UnknownType {
                    path,
                    column: "amount".to_owned(),
                    type_name: "intt".to_owned(),
                }),
                "`csv.types`",
            ),
        ];
        for (error, option) in cases {
            let message = error.to_string();
            let capture_error: Box<dyn std::error::Error + Send + Sync> = Box::new(error);
            let hint = typed_hint(capture_error.as_ref()).unwrap_or_default();
            assert!(hint.contains(option), "{message}: hint {hint:?}");
        }
    }
}
