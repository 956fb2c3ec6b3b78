//! Object kinds, their canonical bytes and the typed payloads of trees, chunked files and commits.
//!
//! Canonical bytes of every object are `"<kind> <format> <length>\0"` followed by `length` bytes
//! of payload, where `<kind>` is one of the names in [`ObjectKind`], `<format>` is the decimal
//! [`OBJECT_FORMAT`] and `<length>` the decimal payload length in bytes. The object id is the
//! BLAKE3-256 hash of those bytes. Blob payloads are raw bytes. Every other payload is compact
//! JSON produced by `serde_json` from the structs below, with fields in declaration order, maps
//! sorted by key and no floating-point NaN or infinity, so encoding is deterministic.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::ObjectId;

/// Version of the object encoding, written into every object's header.
pub const OBJECT_FORMAT: u32 = 1;

/// Maximum header length accepted when decoding: kind, format and a 20-digit length, with room to spare.
pub const MAX_HEADER_LEN: usize = 64;

/// The kind of an object, which decides how its payload is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectKind {
    /// Raw bytes: a whole small file or one chunk of a large file.
    Blob,
    /// A large file as an ordered list of chunk blobs ([`FileIndex`]).
    File,
    /// A folder listing ([`Tree`]).
    Tree,
    /// A snapshot ([`Commit`]).
    Commit,
    /// A typed JSON record beside raw content: evidence manifest, profile, schema, model record.
    Record,
}

impl ObjectKind {
    /// Every kind, for parsers and tests.
    pub const ALL: [ObjectKind; 5] = [
        ObjectKind::Blob,
        ObjectKind::File,
        ObjectKind::Tree,
        ObjectKind::Commit,
        ObjectKind::Record,
    ];

    /// The name written into object headers.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Blob => "blob",
            ObjectKind::File => "file",
            ObjectKind::Tree => "tree",
            ObjectKind::Commit => "commit",
            ObjectKind::Record => "record",
        }
    }

    /// Parses a header name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reason bytes are not a well-formed object.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("object header is missing its NUL terminator within {MAX_HEADER_LEN} bytes")]
    HeaderUnterminated,
    #[error("object header {header:?} is malformed: expected \"<kind> <format> <length>\"")]
    HeaderMalformed { header: String },
    #[error("unknown object kind {kind:?}")]
    UnknownKind { kind: String },
    #[error("object format {found} is newer than this ev supports ({OBJECT_FORMAT}); upgrade ev")]
    UnsupportedFormat { found: u32 },
    #[error("object payload is {found} bytes but its header declares {declared}")]
    LengthMismatch { declared: u64, found: u64 },
    #[error("expected a {expected} object, found a {found} object")]
    WrongKind {
        expected: ObjectKind,
        found: ObjectKind,
    },
    #[error("invalid {kind} payload: {message}")]
    Payload { kind: ObjectKind, message: String },
}

/// The header of canonical bytes for an object of `kind` with `len` payload bytes.
pub fn canonical_header(kind: ObjectKind, len: u64) -> Vec<u8> {
    format!("{} {} {}\0", kind.as_str(), OBJECT_FORMAT, len).into_bytes()
}

/// A parsed header: kind, payload length and the header's own length in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub kind: ObjectKind,
    pub payload_len: u64,
    pub header_len: usize,
}

/// Parses the header at the start of canonical bytes. Only the first [`MAX_HEADER_LEN`] bytes are
/// examined, so a hostile object cannot make the parser scan far.
pub fn parse_header(bytes: &[u8]) -> Result<Header, DecodeError> {
    let window = &bytes[..bytes.len().min(MAX_HEADER_LEN)];
    let nul = window
        .iter()
        .position(|&b| b == 0)
        .ok_or(DecodeError::HeaderUnterminated)?;
    let text = std::str::from_utf8(&window[..nul]).map_err(|_| DecodeError::HeaderMalformed {
        header: String::from_utf8_lossy(&window[..nul]).into_owned(),
    })?;
    let malformed = || DecodeError::HeaderMalformed {
        header: text.to_owned(),
    };
    let mut fields = text.split(' ');
    let (Some(kind), Some(format), Some(len), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(malformed());
    };
    let kind = ObjectKind::parse(kind).ok_or_else(|| DecodeError::UnknownKind {
        kind: kind.to_owned(),
    })?;
    // Decimal numbers only, without sign or leading zeros, so that one header has one spelling.
    let is_canonical_number = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'))
    };
    if !is_canonical_number(format) || !is_canonical_number(len) {
        return Err(malformed());
    }
    let format: u32 = format.parse().map_err(|_| malformed())?;
    if format > OBJECT_FORMAT {
        return Err(DecodeError::UnsupportedFormat { found: format });
    }
    if format == 0 {
        return Err(malformed());
    }
    let payload_len: u64 = len.parse().map_err(|_| malformed())?;
    Ok(Header {
        kind,
        payload_len,
        header_len: nul + 1,
    })
}

/// Splits whole canonical bytes into kind and payload, checking the declared length.
pub fn decode(bytes: &[u8]) -> Result<(ObjectKind, &[u8]), DecodeError> {
    let header = parse_header(bytes)?;
    let payload = &bytes[header.header_len..];
    if payload.len() as u64 != header.payload_len {
        return Err(DecodeError::LengthMismatch {
            declared: header.payload_len,
            found: payload.len() as u64,
        });
    }
    Ok((header.kind, payload))
}

/// Encodes a JSON payload object into canonical bytes and its id.
pub fn encode_json<T: Serialize>(kind: ObjectKind, value: &T) -> (ObjectId, Vec<u8>) {
    let payload =
        serde_json::to_vec(value).expect("object payload types serialize to JSON infallibly");
    encode_bytes(kind, &payload)
}

/// Encodes raw payload bytes into canonical bytes and its id.
pub fn encode_bytes(kind: ObjectKind, payload: &[u8]) -> (ObjectId, Vec<u8>) {
    let mut bytes = canonical_header(kind, payload.len() as u64);
    bytes.extend_from_slice(payload);
    (ObjectId::hash(&bytes), bytes)
}

/// Decodes a JSON payload of the expected kind.
pub fn decode_json<T: for<'de> Deserialize<'de>>(
    expected: ObjectKind,
    bytes: &[u8],
) -> Result<T, DecodeError> {
    let (kind, payload) = decode(bytes)?;
    if kind != expected {
        return Err(DecodeError::WrongKind {
            expected,
            found: kind,
        });
    }
    serde_json::from_slice(payload).map_err(|e| DecodeError::Payload {
        kind,
        message: e.to_string(),
    })
}

/// A large file split into content-defined chunks, each stored as a blob.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileIndex {
    /// Total size in bytes; equals the sum of chunk sizes.
    pub size: u64,
    /// Chunks in file order.
    pub chunks: Vec<ChunkRef>,
}

/// One chunk of a [`FileIndex`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkRef {
    /// Id of the blob holding the chunk.
    pub id: ObjectId,
    /// Chunk length in bytes.
    pub size: u64,
}

/// What a tree entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryType {
    /// A regular file: `id` names a blob (small file) or a [`FileIndex`].
    File,
    /// A regular file with the executable bit: same storage as `File`.
    Exec,
    /// A symbolic link: `id` names a blob holding the link target.
    Symlink,
    /// A folder: `id` names a [`Tree`].
    Tree,
}

/// One named entry of a tree.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeEntry {
    /// A single path component; validated with `RepoPath::check_name` on read and write.
    pub name: String,
    #[serde(rename = "type")]
    pub entry_type: EntryType,
    pub id: ObjectId,
    /// File size in bytes, symlink target length, or total size of everything below a tree.
    pub size: u64,
}

/// A folder listing. Entries are sorted by name (byte order) and names are unique, so the same
/// folder content always encodes to the same bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tree {
    pub entries: Vec<TreeEntry>,
}

/// Where a snapshot came from: the code commit and the CI run, when known.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The enclosing git repository's state, absent outside a git repository.
    pub git: Option<GitProvenance>,
    /// The CI run, absent when no known CI environment variables are set.
    pub ci: Option<CiProvenance>,
}

/// The git state of the workspace at commit time, read with gix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitProvenance {
    /// HEAD commit as 40 hex digits, absent in a repository without commits.
    pub commit: Option<String>,
    /// Short branch name, absent on a detached HEAD.
    pub branch: Option<String>,
    /// Whether tracked files or the index differed from HEAD. Untracked files do not count,
    /// because gix's `is_dirty` (gix 0.91) ignores them.
    pub dirty: bool,
}

/// The CI run that made a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CiProvenance {
    /// `github-actions`, `gitlab-ci`, `jenkins`, `buildkite`, `circleci` or `ci`.
    pub provider: String,
    pub run_id: Option<String>,
    pub run_url: Option<String>,
}

/// A snapshot: a tree of evidence files plus who, when, why and from where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    /// Root tree of the snapshot's files.
    pub tree: ObjectId,
    /// Parent commits, first parent first; empty for a root commit.
    pub parents: Vec<ObjectId>,
    /// `Name <email>` or the user name, from `EV_AUTHOR`, git config or the OS user.
    pub author: String,
    /// Commit time in UTC, whole seconds (RFC 3339 in the JSON payload).
    pub time: DateTime<Utc>,
    pub message: String,
    /// Free labels from `--label KEY=VALUE`, sorted by key.
    pub labels: BTreeMap<String, String>,
    pub provenance: Provenance,
    /// The evidence manifest record (typed items and their profiles); absent for a snapshot of
    /// plain files only.
    pub evidence: Option<ObjectId>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn blob_id_is_hash_of_header_and_payload() {
        let (id, bytes) = encode_bytes(ObjectKind::Blob, b"hello\n");
        assert_eq!(bytes, b"blob 1 6\0hello\n");
        assert_eq!(id, ObjectId::hash(b"blob 1 6\0hello\n"));
    }

    #[test]
    fn decode_rejects_malformed_headers() {
        assert_eq!(decode(b"blob 1 6"), Err(DecodeError::HeaderUnterminated));
        assert!(matches!(
            decode(b"blub 1 0\0"),
            Err(DecodeError::UnknownKind { .. })
        ));
        assert!(matches!(
            decode(b"blob 9 0\0"),
            Err(DecodeError::UnsupportedFormat { found: 9 })
        ));
        assert!(matches!(
            decode(b"blob 1 06\0hello\n"),
            Err(DecodeError::HeaderMalformed { .. })
        ));
        assert!(matches!(
            decode(b"blob 1 -6\0"),
            Err(DecodeError::HeaderMalformed { .. })
        ));
        assert!(matches!(
            decode(b"blob 1 7\0hello\n"),
            Err(DecodeError::LengthMismatch { .. })
        ));
        assert!(matches!(
            decode(b"blob 1\0"),
            Err(DecodeError::HeaderMalformed { .. })
        ));
    }

    #[test]
    fn tree_encoding_is_stable() {
        let tree = Tree {
            entries: vec![TreeEntry {
                name: "a.txt".into(),
                entry_type: EntryType::File,
                id: ObjectId::hash(b""),
                size: 0,
            }],
        };
        let (_, bytes) = encode_json(ObjectKind::Tree, &tree);
        let expected = format!(
            "{{\"entries\":[{{\"name\":\"a.txt\",\"type\":\"file\",\"id\":\"{}\",\"size\":0}}]}}",
            ObjectId::hash(b"")
        );
        let (kind, payload) = decode(&bytes).unwrap();
        assert_eq!(kind, ObjectKind::Tree);
        assert_eq!(std::str::from_utf8(payload).unwrap(), expected);
        let back: Tree = decode_json(ObjectKind::Tree, &bytes).unwrap();
        assert_eq!(back, tree);
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode(&bytes);
            let _ = decode_json::<Tree>(ObjectKind::Tree, &bytes);
            let _ = decode_json::<Commit>(ObjectKind::Commit, &bytes);
        }

        #[test]
        fn blob_round_trip(payload in proptest::collection::vec(any::<u8>(), 0..500)) {
            let (id, bytes) = encode_bytes(ObjectKind::Blob, &payload);
            prop_assert_eq!(id, ObjectId::hash(&bytes));
            let (kind, back) = decode(&bytes).unwrap();
            prop_assert_eq!(kind, ObjectKind::Blob);
            prop_assert_eq!(back, &payload[..]);
        }
    }
}
