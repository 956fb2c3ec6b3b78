//! `evidence.toml`: the named evidence items a workspace declares, and the evidence manifest
//! record a commit stores about them.
//!
//! ```toml
//! version = 1                      # optional; the manifest syntax version
//!
//! [[item]]
//! name = "flights"                 # unique: letters, digits, '.', '_', '-'
//! kind = "sample"                  # file | model | schema | golden | sample | metrics
//! path = "data/flights.parquet"    # exactly one of path, paths, glob
//! optional = false                 # if true, a path or glob matching nothing is not an error
//! description = "..."              # optional free text
//! slice_by = ["carrier"]           # any other key is a kind-specific option
//! ```
//!
//! Unknown top-level keys are errors, and so are options on `kind = "file"`, which takes none:
//! a typo must never silently capture nothing. Kind-specific options of the typed kinds are kept
//! as an open table ([`Item::options`]) for the code that implements each kind to validate.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::id::ObjectId;
use crate::repo::EV_DIR_NAME;
use crate::repo_path::RepoPath;

/// The manifest syntax version this ev reads.
pub const MANIFEST_VERSION: i64 = 1;

/// What an item holds, which decides how it is recorded and compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    /// Plain files, compared byte for byte.
    File,
    /// Model artifacts and their metadata.
    Model,
    /// A feature or table schema.
    Schema,
    /// Golden query results.
    Golden,
    /// A data sample with a statistical profile.
    Sample,
    /// Metrics files.
    Metrics,
}

impl ItemKind {
    /// Every kind.
    pub const ALL: [ItemKind; 6] = [
        ItemKind::File,
        ItemKind::Model,
        ItemKind::Schema,
        ItemKind::Golden,
        ItemKind::Sample,
        ItemKind::Metrics,
    ];

    /// The name used in `evidence.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::File => "file",
            ItemKind::Model => "model",
            ItemKind::Schema => "schema",
            ItemKind::Golden => "golden",
            ItemKind::Sample => "sample",
            ItemKind::Metrics => "metrics",
        }
    }

    /// Parses a kind name.
    pub fn parse(s: &str) -> Option<ItemKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for ItemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which workspace files an item covers.
#[derive(Clone, Debug)]
pub enum Selector {
    /// Files or folders (a folder means everything below it).
    Paths(Vec<RepoPath>),
    /// A glob over workspace-relative `/`-separated file paths (globset syntax; `*` does not
    /// cross `/`, `**` does).
    Glob {
        pattern: String,
        matcher: GlobMatcher,
    },
}

/// One declared evidence item.
#[derive(Clone, Debug)]
pub struct Item {
    pub name: String,
    pub kind: ItemKind,
    pub selector: Selector,
    /// A path or glob matching nothing is allowed.
    pub optional: bool,
    pub description: Option<String>,
    /// Every other key of the item, for the kind's own code to validate.
    pub options: toml::Table,
    /// 1-based line of the item's `[[item]]` table, for error messages.
    pub line: usize,
    /// 1-based line of each option key, for error messages about options.
    pub option_lines: BTreeMap<String, usize>,
}

/// A parsed `evidence.toml`.
#[derive(Clone, Debug, Default)]
pub struct Manifest {
    /// Where it was read from, as shown in messages (normally `evidence.toml`).
    pub file: String,
    pub items: Vec<Item>,
}

/// A reason `evidence.toml` is invalid or does not match the workspace.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// An error at a known place: `evidence.toml:12: item "flights": unknown kind "sampel"`.
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}:{line}: item {item:?}: {what} {pattern:?} matches nothing in the workspace")]
    NoMatch {
        file: String,
        line: usize,
        item: String,
        what: &'static str,
        pattern: String,
    },
    #[error("{path:?} is not a regular file")]
    NotAFile { path: PathBuf },
    #[error("failed to read {path:?}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Raw top level, with spans so that errors can name lines.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    version: Option<Spanned<i64>>,
    #[serde(default)]
    item: Vec<Spanned<BTreeMap<Spanned<String>, Spanned<toml::Value>>>>,
    /// Diff thresholds, read and validated by `ev diff` (see `diff::config`).
    #[serde(default)]
    #[allow(dead_code)]
    diff: Option<toml::Value>,
}

/// Names the keys outside the common ones, so that a misspelled `name` or `kind` is shown
/// beside the "missing" error it causes; empty when there are none. Kind options are among them.
fn unknown_keys_note(fields: &BTreeMap<String, (usize, toml::Value)>) -> String {
    const COMMON: [&str; 7] = [
        "name",
        "kind",
        "path",
        "paths",
        "glob",
        "optional",
        "description",
    ];
    let others: Vec<String> = fields
        .keys()
        .filter(|k| !COMMON.contains(&k.as_str()))
        .map(|k| format!("{k:?}"))
        .collect();
    if others.is_empty() {
        String::new()
    } else {
        format!(
            " (other keys: {}; is one of them misspelled?)",
            others.join(", ")
        )
    }
}

/// 1-based line number of byte offset `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Reads and parses `evidence.toml` at `path`; `shown` is the name used in messages.
pub fn load(path: &Path, shown: &str) -> Result<Manifest, ManifestError> {
    // A folder would otherwise fail as an I/O error (exit 5), but it is the user's input.
    if path.is_dir() {
        return Err(ManifestError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let bytes = std::fs::read(path).map_err(|source| ManifestError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..valid]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        ManifestError::Invalid {
            file: shown.to_owned(),
            line,
            message: format!("invalid UTF-8 at byte {valid}; TOML files must be UTF-8 text"),
        }
    })?;
    parse(&text, shown)
}

/// Parses manifest text; `file` names it in messages.
pub fn parse(text: &str, file: &str) -> Result<Manifest, ManifestError> {
    let invalid = |offset: usize, message: String| ManifestError::Invalid {
        file: file.to_owned(),
        line: line_of(text, offset),
        message,
    };
    let raw: RawManifest = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        invalid(offset, e.message().trim().to_owned())
    })?;
    if let Some(version) = &raw.version
        && *version.get_ref() != MANIFEST_VERSION
    {
        return Err(invalid(
            version.span().start,
            format!(
                "version {} is not supported (this ev reads version {MANIFEST_VERSION})",
                version.get_ref()
            ),
        ));
    }

    let mut items = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for raw_item in raw.item {
        let item_offset = raw_item.span().start;
        let item = parse_item(text, file, item_offset, raw_item.into_inner())?;
        if let Some(first) = seen.insert(item.name.clone(), item.line) {
            return Err(invalid(
                item_offset,
                format!(
                    "item {:?}: the name is already used by the item on line {first}",
                    item.name
                ),
            ));
        }
        items.push(item);
    }
    Ok(Manifest {
        file: file.to_owned(),
        items,
    })
}

fn parse_item(
    text: &str,
    file: &str,
    item_offset: usize,
    table: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
) -> Result<Item, ManifestError> {
    let err = |offset: usize, message: String| ManifestError::Invalid {
        file: file.to_owned(),
        line: line_of(text, offset),
        message,
    };
    let mut fields: BTreeMap<String, (usize, toml::Value)> = BTreeMap::new();
    for (key, value) in table {
        let offset = key.span().start;
        fields.insert(key.into_inner(), (offset, value.into_inner()));
    }

    let (name_offset, name) = match fields.remove("name") {
        Some((offset, toml::Value::String(s))) => (offset, s),
        Some((offset, _)) => return Err(err(offset, "item: \"name\" must be a string".into())),
        None => {
            let message = format!("item: missing \"name\"{}", unknown_keys_note(&fields));
            return Err(err(item_offset, message));
        }
    };
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(err(
            name_offset,
            format!("item {name:?}: a name uses only letters, digits, '.', '_' and '-'"),
        ));
    }
    let at = |message: String| format!("item {name:?}: {message}");

    let kind = match fields.remove("kind") {
        Some((offset, toml::Value::String(s))) => ItemKind::parse(&s).ok_or_else(|| {
            err(
                offset,
                at(format!(
                    "unknown kind {s:?} (expected one of {})",
                    ItemKind::ALL.map(ItemKind::as_str).join(", ")
                )),
            )
        })?,
        Some((offset, _)) => return Err(err(offset, at("\"kind\" must be a string".into()))),
        None => {
            let message = format!("missing \"kind\"{}", unknown_keys_note(&fields));
            return Err(err(item_offset, at(message)));
        }
    };

    let optional = match fields.remove("optional") {
        Some((_, toml::Value::Boolean(b))) => b,
        Some((offset, _)) => {
            return Err(err(offset, at("\"optional\" must be true or false".into())));
        }
        None => false,
    };
    let description = match fields.remove("description") {
        Some((_, toml::Value::String(s))) => Some(s),
        Some((offset, _)) => {
            return Err(err(offset, at("\"description\" must be a string".into())));
        }
        None => None,
    };

    let path = fields.remove("path");
    let paths = fields.remove("paths");
    let glob = fields.remove("glob");
    let selector = match (path, paths, glob) {
        (Some((offset, value)), None, None) => {
            let toml::Value::String(s) = value else {
                return Err(err(offset, at("\"path\" must be a string".into())));
            };
            Selector::Paths(vec![parse_path(&s).map_err(|m| err(offset, at(m)))?])
        }
        (None, Some((offset, value)), None) => {
            let toml::Value::Array(list) = value else {
                return Err(err(
                    offset,
                    at("\"paths\" must be a list of strings".into()),
                ));
            };
            if list.is_empty() {
                return Err(err(offset, at("\"paths\" is empty".into())));
            }
            let mut out = Vec::new();
            for v in list {
                let toml::Value::String(s) = v else {
                    return Err(err(
                        offset,
                        at("\"paths\" must be a list of strings".into()),
                    ));
                };
                out.push(parse_path(&s).map_err(|m| err(offset, at(m)))?);
            }
            Selector::Paths(out)
        }
        (None, None, Some((offset, value))) => {
            let toml::Value::String(pattern) = value else {
                return Err(err(offset, at("\"glob\" must be a string".into())));
            };
            let matcher = Glob::new(&pattern)
                .map_err(|e| {
                    err(
                        offset,
                        at(format!("invalid glob {pattern:?}: {}", e.kind())),
                    )
                })?
                .compile_matcher();
            Selector::Glob { pattern, matcher }
        }
        (None, None, None) => {
            return Err(err(
                item_offset,
                at("give one of \"path\", \"paths\" or \"glob\"".into()),
            ));
        }
        _ => {
            return Err(err(
                item_offset,
                at("give only one of \"path\", \"paths\" or \"glob\"".into()),
            ));
        }
    };

    let option_lines: BTreeMap<String, usize> = fields
        .iter()
        .map(|(k, (offset, _))| (k.clone(), line_of(text, *offset)))
        .collect();
    if kind == ItemKind::File
        && let Some((key, (offset, _))) = fields.iter().next()
    {
        return Err(err(
            *offset,
            at(format!(
                "unknown key {key:?} (kind \"file\" takes name, kind, path/paths/glob, optional, \
                 description)"
            )),
        ));
    }
    let options: toml::Table = fields.into_iter().map(|(k, (_, v))| (k, v)).collect();
    Ok(Item {
        name,
        kind,
        selector,
        optional,
        description,
        options,
        line: line_of(text, item_offset),
        option_lines,
    })
}

fn parse_path(s: &str) -> Result<RepoPath, String> {
    let trimmed = s.strip_prefix("./").unwrap_or(s).trim_end_matches('/');
    let path = RepoPath::new(trimmed).map_err(|e| e.to_string())?;
    if path.components().next() == Some(EV_DIR_NAME) {
        return Err(format!(
            "path {s:?} is inside the repository folder {EV_DIR_NAME}"
        ));
    }
    Ok(path)
}

/// An item with its selector resolved against the workspace.
#[derive(Clone, Debug)]
pub struct ResolvedItem {
    pub name: String,
    pub kind: ItemKind,
    /// Existing files and folders the item covers, sorted, without duplicates.
    pub paths: Vec<RepoPath>,
}

impl Manifest {
    /// Resolves every item's paths and globs in `work_tree`: a missing path or a glob matching no
    /// file is an error unless the item is optional. Globs match files only, never `.ev/`.
    pub fn resolve(&self, work_tree: &Path) -> Result<Vec<ResolvedItem>, ManifestError> {
        let mut all_files: Option<Vec<RepoPath>> = None;
        let mut out = Vec::new();
        for item in &self.items {
            let mut paths = Vec::new();
            match &item.selector {
                Selector::Paths(list) => {
                    for path in list {
                        let fs_path = path.to_fs_path(work_tree);
                        if std::fs::symlink_metadata(&fs_path).is_ok() {
                            paths.push(path.clone());
                        } else if !item.optional {
                            return Err(ManifestError::NoMatch {
                                file: self.file.clone(),
                                line: item.line,
                                item: item.name.clone(),
                                what: "path",
                                pattern: path.to_string(),
                            });
                        }
                    }
                }
                Selector::Glob { pattern, matcher } => {
                    let files = match &all_files {
                        Some(files) => files,
                        None => all_files.insert(list_files(work_tree)?),
                    };
                    paths.extend(
                        files
                            .iter()
                            .filter(|p| matcher.is_match(p.as_str()))
                            .cloned(),
                    );
                    if paths.is_empty() && !item.optional {
                        return Err(ManifestError::NoMatch {
                            file: self.file.clone(),
                            line: item.line,
                            item: item.name.clone(),
                            what: "glob",
                            pattern: pattern.clone(),
                        });
                    }
                }
            }
            paths.sort();
            paths.dedup();
            out.push(ResolvedItem {
                name: item.name.clone(),
                kind: item.kind,
                paths,
            });
        }
        Ok(out)
    }
}

/// Every file and symlink below `work_tree` except the repository folder, as repository paths.
/// Names that are not valid repository paths (not UTF-8, backslashes) are skipped here; the
/// snapshot walk reports them if an item selects them by folder.
fn list_files(work_tree: &Path) -> Result<Vec<RepoPath>, ManifestError> {
    let mut files = Vec::new();
    let walker = walkdir::WalkDir::new(work_tree)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() != 1 || e.file_name() != EV_DIR_NAME);
    for entry in walker {
        let entry = entry.map_err(|e| ManifestError::Io {
            path: e
                .path()
                .map_or_else(|| work_tree.to_path_buf(), Path::to_path_buf),
            source: e.into(),
        })?;
        if entry.file_type().is_dir() {
            continue;
        }
        if let Ok(path) = RepoPath::from_fs_path(work_tree, entry.path()) {
            files.push(path);
        }
    }
    Ok(files)
}

/// Schema name of the evidence manifest record.
pub const RECORD_SCHEMA: &str = "ev.evidence/1";

/// The evidence manifest record a commit points at (`Commit::evidence`): which items the
/// snapshot contains and, for typed kinds, the id of each item's typed record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRecord {
    /// Always [`RECORD_SCHEMA`].
    pub schema: String,
    /// Items in `evidence.toml` order.
    pub items: Vec<EvidenceItem>,
}

/// One item of an [`EvidenceRecord`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceItem {
    pub name: String,
    pub kind: ItemKind,
    /// The files and folders the item covered at commit time, sorted.
    pub paths: Vec<RepoPath>,
    /// The typed record (profile, schema, model record); `None` for plain files and for kinds
    /// whose typed code is not available.
    pub record: Option<ObjectId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_err(text: &str) -> String {
        parse(text, "evidence.toml").unwrap_err().to_string()
    }

    #[test]
    fn parses_items_and_options() {
        let text = r#"
version = 1

[[item]]
name = "flights"
kind = "sample"
path = "data/flights.parquet"
slice_by = ["carrier"]

[[item]]
name = "configs"
kind = "file"
paths = ["conf/a.yaml", "./conf/b/"]
optional = true

[[item]]
name = "metrics"
kind = "metrics"
glob = "metrics/**/*.json"
"#;
        let m = parse(text, "evidence.toml").unwrap();
        assert_eq!(m.items.len(), 3);
        assert_eq!(m.items[0].kind, ItemKind::Sample);
        assert_eq!(m.items[0].line, 4);
        assert!(m.items[0].options.contains_key("slice_by"));
        assert_eq!(m.items[0].option_lines["slice_by"], 8);
        let Selector::Paths(paths) = &m.items[1].selector else {
            panic!("paths expected")
        };
        assert_eq!(paths[1].as_str(), "conf/b");
        assert!(m.items[1].optional);
        assert!(matches!(m.items[2].selector, Selector::Glob { .. }));
    }

    #[test]
    fn unknown_kind_names_line_and_item() {
        let text = "[[item]]\nname = \"flights\"\nkind = \"sampel\"\npath = \"x\"\n";
        let message = parse_err(text);
        assert!(
            message.starts_with("evidence.toml:3: item \"flights\": unknown kind \"sampel\""),
            "{message}"
        );
    }

    #[test]
    fn unknown_top_level_key_is_an_error() {
        let message = parse_err("\n[[items]]\nname = \"x\"\n");
        assert!(message.starts_with("evidence.toml:2:"), "{message}");
        assert!(message.contains("items"), "{message}");
    }

    #[test]
    fn option_on_file_kind_is_an_error() {
        let text = "[[item]]\nname = \"a\"\nkind = \"file\"\npath = \"x\"\npaht = \"y\"\n";
        let message = parse_err(text);
        assert!(
            message.starts_with("evidence.toml:5: item \"a\": unknown key \"paht\""),
            "{message}"
        );
    }

    #[test]
    fn item_errors() {
        let cases = [
            (
                "[[item]]\nkind = \"file\"\npath = \"x\"\n",
                "evidence.toml:1: item: missing \"name\"",
            ),
            ("[[item]]\nname = \"a\"\npath = \"x\"\n", "missing \"kind\""),
            (
                "[[item]]\nname = \"a\"\nkidn = \"file\"\npath = \"x\"\n",
                "missing \"kind\" (other keys: \"kidn\"; is one of them misspelled?)",
            ),
            (
                "[[item]]\nnmae = \"a\"\nkind = \"file\"\npath = \"x\"\n",
                "missing \"name\" (other keys: \"nmae\"; is one of them misspelled?)",
            ),
            ("[[item]]\nname = \"a\"\nkind = \"file\"\n", "give one of"),
            (
                "[[item]]\nname = \"a\"\nkind = \"file\"\npath = \"x\"\nglob = \"*\"\n",
                "give only one of",
            ),
            (
                "[[item]]\nname = \"a\"\nkind = \"file\"\npath = \"../x\"\n",
                "evidence.toml:4:",
            ),
            (
                "[[item]]\nname = \"a\"\nkind = \"file\"\npath = \".ev/x\"\n",
                "repository folder",
            ),
            (
                "[[item]]\nname = \"a\"\nkind = \"file\"\nglob = \"[\"\n",
                "invalid glob",
            ),
            (
                "[[item]]\nname = \"a b\"\nkind = \"file\"\npath = \"x\"\n",
                "a name uses only",
            ),
            (
                "version = 2\n",
                "evidence.toml:1: version 2 is not supported",
            ),
            (
                "[[item]]\nname = \"a\"\nkind = \"file\"\npath = \"x\"\n[[item]]\nname = \"a\"\nkind = \"file\"\npath = \"y\"\n",
                "evidence.toml:5: item \"a\": the name is already used by the item on line 1",
            ),
            ("[[item]\n", "evidence.toml:1:"),
        ];
        for (text, expected) in cases {
            let message = parse_err(text);
            assert!(message.contains(expected), "{text:?}: {message}");
        }
    }

    #[test]
    fn resolve_checks_paths_and_globs() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("m/d")).unwrap();
        std::fs::create_dir_all(tmp.path().join(".ev")).unwrap();
        std::fs::write(tmp.path().join("m/a.json"), "{}").unwrap();
        std::fs::write(tmp.path().join("m/d/b.json"), "{}").unwrap();
        std::fs::write(tmp.path().join(".ev/c.json"), "{}").unwrap();
        let m = parse(
            "[[item]]\nname = \"m\"\nkind = \"file\"\nglob = \"**/*.json\"\n",
            "evidence.toml",
        )
        .unwrap();
        let resolved = m.resolve(tmp.path()).unwrap();
        let names: Vec<&str> = resolved[0].paths.iter().map(RepoPath::as_str).collect();
        assert_eq!(names, ["m/a.json", "m/d/b.json"]);

        let m = parse(
            "\n[[item]]\nname = \"x\"\nkind = \"file\"\npath = \"missing.csv\"\n",
            "evidence.toml",
        )
        .unwrap();
        let message = m.resolve(tmp.path()).unwrap_err().to_string();
        assert!(
            message.starts_with("evidence.toml:2: item \"x\": path"),
            "{message}"
        );

        let m = parse(
            "[[item]]\nname = \"x\"\nkind = \"file\"\nglob = \"*.csv\"\noptional = true\n",
            "evidence.toml",
        )
        .unwrap();
        assert!(m.resolve(tmp.path()).unwrap()[0].paths.is_empty());
    }
}
