//! Repository paths: normalized, relative, `/`-separated paths of files inside a snapshot.
//!
//! Every path that comes from a tree, a command line or a config file becomes a [`RepoPath`]
//! before it is used, so code that writes files (checkout) can rely on it never naming an
//! absolute path, a `..` component or anything else that would leave the target folder.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A validated path relative to a snapshot root, such as `models/v3/weights.safetensors`.
///
/// Invariants: not empty; components separated by single `/`; no leading or trailing `/`; no
/// `.` or `..` component; no NUL byte or backslash (a backslash is a separator on Windows, so a
/// stored name containing one could escape the target folder there).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoPath(String);

/// A reason a string is not a valid repository path.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RepoPathError {
    #[error("invalid path {path:?}: the path is empty")]
    Empty { path: String },
    #[error("invalid path {path:?}: absolute paths are not allowed inside a snapshot")]
    Absolute { path: String },
    #[error("invalid path {path:?}: component {component:?} is not allowed")]
    BadComponent { path: String, component: String },
    #[error("invalid path {path:?}: it contains a NUL byte or a backslash")]
    BadCharacter { path: String },
    #[error("invalid path {path:?}: it is not valid UTF-8")]
    NotUtf8 { path: String },
    #[error("path {path:?} is outside the workspace {root:?}")]
    OutsideRoot { path: PathBuf, root: PathBuf },
}

impl RepoPath {
    /// Parses a `/`-separated relative path, rejecting anything that is not already normalized.
    pub fn new(s: &str) -> Result<Self, RepoPathError> {
        if s.is_empty() {
            return Err(RepoPathError::Empty { path: s.to_owned() });
        }
        if s.starts_with('/') {
            return Err(RepoPathError::Absolute { path: s.to_owned() });
        }
        if s.contains('\0') || s.contains('\\') {
            return Err(RepoPathError::BadCharacter { path: s.to_owned() });
        }
        for component in s.split('/') {
            Self::check_component(s, component)?;
        }
        Ok(Self(s.to_owned()))
    }

    /// Validates one file or folder name as it appears in a tree entry.
    pub fn check_name(name: &str) -> Result<(), RepoPathError> {
        if name.contains('/') {
            return Err(RepoPathError::BadComponent {
                path: name.to_owned(),
                component: name.to_owned(),
            });
        }
        if name.contains('\0') || name.contains('\\') {
            return Err(RepoPathError::BadCharacter {
                path: name.to_owned(),
            });
        }
        Self::check_component(name, name)
    }

    fn check_component(path: &str, component: &str) -> Result<(), RepoPathError> {
        if component.is_empty() || component == "." || component == ".." {
            return Err(RepoPathError::BadComponent {
                path: path.to_owned(),
                component: component.to_owned(),
            });
        }
        Ok(())
    }

    /// Converts a path relative to `root` (or absolute and inside `root`) into a repository path.
    /// `.` components are dropped; `..` and paths that leave `root` are rejected.
    pub fn from_fs_path(root: &Path, path: &Path) -> Result<Self, RepoPathError> {
        let relative = if path.is_absolute() {
            path.strip_prefix(root)
                .map_err(|_| RepoPathError::OutsideRoot {
                    path: path.to_owned(),
                    root: root.to_owned(),
                })?
        } else {
            path
        };
        let mut parts = Vec::new();
        for component in relative.components() {
            match component {
                Component::Normal(part) => match part.to_str() {
                    Some(part) => parts.push(part),
                    None => {
                        return Err(RepoPathError::NotUtf8 {
                            path: path.to_string_lossy().into_owned(),
                        });
                    }
                },
                Component::CurDir => {}
                Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                    return Err(RepoPathError::OutsideRoot {
                        path: path.to_owned(),
                        root: root.to_owned(),
                    });
                }
            }
        }
        Self::new(&parts.join("/"))
    }

    /// The path as a `/`-separated string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The components, outermost first.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }

    /// The last component.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The enclosing folder, or `None` for a top-level name.
    pub fn parent(&self) -> Option<RepoPath> {
        self.0.rfind('/').map(|i| RepoPath(self.0[..i].to_owned()))
    }

    /// Appends one validated name.
    pub fn join(&self, name: &str) -> Result<RepoPath, RepoPathError> {
        Self::check_name(name)?;
        Ok(RepoPath(format!("{}/{}", self.0, name)))
    }

    /// Whether `self` equals `other` or lies inside the folder `other`.
    pub fn starts_with(&self, other: &RepoPath) -> bool {
        self.0 == other.0
            || (self.0.starts_with(&other.0) && self.0.as_bytes().get(other.0.len()) == Some(&b'/'))
    }

    /// The file-system path of this entry below `root`. Safe by construction: a `RepoPath` has
    /// only normal components, so the result never leaves `root` lexically.
    pub fn to_fs_path(&self, root: &Path) -> PathBuf {
        let mut out = root.to_path_buf();
        for component in self.components() {
            out.push(component);
        }
        out
    }
}

impl fmt::Display for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RepoPath({:?})", self.0)
    }
}

impl Serialize for RepoPath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RepoPath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        RepoPath::new(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_normal_paths() {
        let p = RepoPath::new("models/v3/weights.safetensors").unwrap();
        assert_eq!(p.file_name(), "weights.safetensors");
        assert_eq!(p.parent().unwrap().as_str(), "models/v3");
        assert!(p.starts_with(&RepoPath::new("models").unwrap()));
        assert!(!p.starts_with(&RepoPath::new("mod").unwrap()));
    }

    #[test]
    fn rejects_escaping_paths() {
        for bad in [
            "",
            "/etc/passwd",
            "a/../b",
            "..",
            "a//b",
            "a/",
            "./a",
            "a\\b",
            "a\0b",
        ] {
            assert!(RepoPath::new(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(RepoPath::check_name("..").is_err());
        assert!(RepoPath::check_name("a/b").is_err());
    }

    #[test]
    fn from_fs_path_normalizes() {
        let root = Path::new("/work/ws");
        let p = RepoPath::from_fs_path(root, Path::new("./data/x.csv")).unwrap();
        assert_eq!(p.as_str(), "data/x.csv");
        let p = RepoPath::from_fs_path(root, Path::new("/work/ws/data/x.csv")).unwrap();
        assert_eq!(p.as_str(), "data/x.csv");
        assert!(RepoPath::from_fs_path(root, Path::new("/etc/passwd")).is_err());
        assert!(RepoPath::from_fs_path(root, Path::new("../x")).is_err());
    }

    proptest! {
        #[test]
        fn valid_paths_stay_inside_root(parts in proptest::collection::vec("[a-zA-Z0-9_. -]{1,8}", 1..5)) {
            let joined = parts.join("/");
            if let Ok(p) = RepoPath::new(&joined) {
                let root = Path::new("/root/dir");
                let fs = p.to_fs_path(root);
                prop_assert!(fs.starts_with(root));
                prop_assert!(fs.components().all(|c| !matches!(c, Component::ParentDir)));
                let back = RepoPath::from_fs_path(root, &fs).unwrap();
                prop_assert_eq!(back, p);
            }
        }
    }
}
