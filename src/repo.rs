//! Repositories: finding and creating the `.ev/` folder, its `config.toml` and the workspace.
//!
//! A repository is a `.ev/` folder (the *repository folder*: objects, refs, reflogs, config) plus
//! a *workspace*: the folder whose files snapshots capture and where `evidence.toml` lives.
//!
//! How a repository is found, first match wins:
//! 1. `--repo PATH` or the `EV_DIR` environment variable. `PATH` is either a `.ev` folder itself
//!    or a folder that contains one. Many CI jobs can point at one shared store this way. The
//!    workspace is then `--work-tree DIR` / `EV_WORK_TREE` if given, else the current directory
//!    (as git does with `GIT_DIR`), because a CI job snapshots its own checkout.
//! 2. Otherwise ev walks up from the current directory to the first folder containing `.ev/`;
//!    that folder is the workspace unless `--work-tree` / `EV_WORK_TREE` names another one.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::chunker::ChunkParams;
use crate::refs::{RefError, RefName, RefStore};
use crate::store::DEFAULT_ZSTD_LEVEL;

/// Name of the repository folder inside a workspace.
pub const EV_DIR_NAME: &str = ".ev";
/// Repository format written by this ev; an ev refuses repositories with a higher version.
pub const FORMAT_VERSION: u32 = 1;
/// Name of the evidence declaration file at the workspace root.
pub const MANIFEST_FILE: &str = "evidence.toml";
/// Branch that `HEAD` points at after `ev init`.
pub const DEFAULT_BRANCH: &str = "main";

/// Files laid down in a new workspace, embedded so that `ev init` works after `cargo install`.
const TEMPLATE_FILES: &[(&str, &str)] = &[(
    MANIFEST_FILE,
    include_str!("../.evidence-template/evidence.toml"),
)];

/// A reason a repository cannot be found, created or opened.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("no ev repository found in {start:?} or any parent folder")]
    NotFound { start: PathBuf },
    #[error("{path:?} is not an ev repository (no config.toml and HEAD inside)")]
    NotARepository { path: PathBuf },
    #[error("an ev repository already exists at {path:?}")]
    AlreadyExists { path: PathBuf },
    #[error(
        "repository {path:?} has format version {found}, but this ev supports up to version \
         {supported}; upgrade ev"
    )]
    NewerFormat {
        path: PathBuf,
        found: u64,
        supported: u32,
    },
    #[error("invalid repository config {path:?}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("workspace {path:?} is not a folder")]
    BadWorkTree { path: PathBuf },
    #[error("failed to {action} {path:?}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Ref(#[from] RefError),
}

impl RepoError {
    pub(crate) fn io(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> RepoError {
        let path = path.to_path_buf();
        move |source| RepoError::Io {
            action,
            path,
            source,
        }
    }
}

/// `config.toml`: the repository format and the parameters that object ids depend on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    pub format: FormatSection,
    pub chunking: ChunkParams,
    pub compression: CompressionSection,
}

/// `[format]`: the repository format version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormatSection {
    pub version: u32,
}

/// `[compression]`: the zstd level for new objects (1 fastest to 22 smallest). Unlike
/// `[chunking]` it may be changed at any time: ids hash uncompressed bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompressionSection {
    pub level: i32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            format: FormatSection {
                version: FORMAT_VERSION,
            },
            chunking: ChunkParams::default(),
            compression: CompressionSection {
                level: DEFAULT_ZSTD_LEVEL,
            },
        }
    }
}

impl Config {
    /// Parses `config.toml`, checking the format version before anything else so that an older ev
    /// names the version problem instead of a missing key of a newer layout.
    pub fn parse(path: &Path, text: &str) -> Result<Config, RepoError> {
        let bad = |message: String| RepoError::Config {
            path: path.to_path_buf(),
            message,
        };
        let table: toml::Table = toml::from_str(text).map_err(|e| bad(e.message().to_owned()))?;
        let version = table
            .get("format")
            .and_then(|f| f.get("version"))
            .ok_or_else(|| bad("missing [format] version".to_owned()))?
            .as_integer()
            .ok_or_else(|| bad("[format] version is not an integer".to_owned()))?;
        if version < 1 {
            return Err(bad(format!("[format] version {version} is not valid")));
        }
        if version as u64 > u64::from(FORMAT_VERSION) {
            return Err(RepoError::NewerFormat {
                path: path.to_path_buf(),
                found: version as u64,
                supported: FORMAT_VERSION,
            });
        }
        let config: Config = toml::from_str(text).map_err(|e| bad(e.message().to_owned()))?;
        config
            .chunking
            .validate()
            .map_err(|e| bad(format!("[chunking]: {e}")))?;
        let level = config.compression.level;
        if !(1..=22).contains(&level) {
            return Err(bad(format!(
                "[compression] level {level} is outside zstd's range 1 to 22"
            )));
        }
        Ok(config)
    }

    /// The file text written by `ev init`.
    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).expect("the config has only tables of integers");
        format!(
            "# ev repository configuration. [format] and [chunking] are fixed at `ev init`:\n\
             # changing them makes the same files produce different object ids.\n{body}"
        )
    }
}

/// Where to look for a repository: the values of `--repo`, `--work-tree` and their environment
/// variables, and the current directory.
#[derive(Clone, Debug, Default)]
pub struct Locator {
    /// `--repo` or `EV_DIR`: a `.ev` folder or a folder containing one.
    pub repo: Option<PathBuf>,
    /// `--work-tree` or `EV_WORK_TREE`.
    pub work_tree: Option<PathBuf>,
    /// The directory to resolve relative paths against and to start discovery from.
    pub cwd: PathBuf,
}

/// An open repository: its folders and configuration.
#[derive(Clone, Debug)]
pub struct Repository {
    ev_dir: PathBuf,
    work_tree: PathBuf,
    config: Config,
}

impl Repository {
    /// Creates `<dir>/.ev/` with config, `HEAD -> refs/heads/main` and empty refs, and lays down
    /// the evidence template files in `dir` where they do not exist yet.
    pub fn init(dir: &Path, config: &Config) -> Result<Repository, RepoError> {
        fs::create_dir_all(dir).map_err(RepoError::io("create folder", dir))?;
        let work_tree = dir
            .canonicalize()
            .map_err(RepoError::io("resolve folder", dir))?;
        let ev_dir = work_tree.join(EV_DIR_NAME);
        if ev_dir.exists() {
            return Err(RepoError::AlreadyExists { path: ev_dir });
        }

        // Build the repository in a temporary folder beside its final place and rename it in, so
        // a crash never leaves a half-initialized `.ev/` that later commands would trust.
        let staging = tempfile::Builder::new()
            .prefix(".ev-init-")
            .tempdir_in(&work_tree)
            .map_err(RepoError::io("create temporary folder in", &work_tree))?;
        let stage = staging.path();
        for sub in ["objects", "refs/heads", "refs/tags", "logs"] {
            let path = stage.join(sub);
            fs::create_dir_all(&path).map_err(RepoError::io("create folder", &path))?;
        }
        write_new_file(&stage.join("config.toml"), config.to_toml().as_bytes())?;
        let head = format!("ref: refs/heads/{DEFAULT_BRANCH}\n");
        write_new_file(&stage.join("HEAD"), head.as_bytes())?;
        let staged = staging.keep();
        if let Err(source) = fs::rename(&staged, &ev_dir) {
            let _ = fs::remove_dir_all(&staged);
            if ev_dir.exists() {
                return Err(RepoError::AlreadyExists { path: ev_dir });
            }
            return Err(RepoError::Io {
                action: "create",
                path: ev_dir,
                source,
            });
        }
        sync_dir(&work_tree)?;

        for (name, text) in TEMPLATE_FILES {
            let path = work_tree.join(name);
            if !path.exists() {
                write_new_file(&path, text.as_bytes())?;
            }
        }
        Ok(Repository {
            ev_dir,
            work_tree,
            config: config.clone(),
        })
    }

    /// Finds and opens the repository as described in the module documentation.
    pub fn locate(locator: &Locator) -> Result<Repository, RepoError> {
        let absolute = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                locator.cwd.join(p)
            }
        };
        let explicit_work_tree = locator.work_tree.as_deref().map(absolute);
        if let Some(repo) = &locator.repo {
            let repo = absolute(repo);
            let ev_dir = if is_repo_dir(&repo) {
                repo
            } else if is_repo_dir(&repo.join(EV_DIR_NAME)) {
                repo.join(EV_DIR_NAME)
            } else {
                return Err(RepoError::NotARepository { path: repo });
            };
            let work_tree = explicit_work_tree.unwrap_or_else(|| locator.cwd.clone());
            return Repository::open(&ev_dir, &work_tree);
        }
        let start = absolute(&locator.cwd);
        for dir in start.ancestors() {
            let candidate = dir.join(EV_DIR_NAME);
            if candidate.is_dir() {
                let work_tree = explicit_work_tree.unwrap_or_else(|| dir.to_path_buf());
                return Repository::open(&candidate, &work_tree);
            }
        }
        Err(RepoError::NotFound { start })
    }

    /// Opens the repository folder `ev_dir` with `work_tree` as its workspace.
    pub fn open(ev_dir: &Path, work_tree: &Path) -> Result<Repository, RepoError> {
        if !is_repo_dir(ev_dir) {
            return Err(RepoError::NotARepository {
                path: ev_dir.to_path_buf(),
            });
        }
        let config_path = ev_dir.join("config.toml");
        let text = fs::read_to_string(&config_path)
            .map_err(RepoError::io("read repository config", &config_path))?;
        let config = Config::parse(&config_path, &text)?;
        if !work_tree.is_dir() {
            return Err(RepoError::BadWorkTree {
                path: work_tree.to_path_buf(),
            });
        }
        let ev_dir = ev_dir
            .canonicalize()
            .map_err(RepoError::io("resolve folder", ev_dir))?;
        let work_tree = work_tree
            .canonicalize()
            .map_err(RepoError::io("resolve folder", work_tree))?;
        Ok(Repository {
            ev_dir,
            work_tree,
            config,
        })
    }

    /// The `.ev` folder.
    pub fn ev_dir(&self) -> &Path {
        &self.ev_dir
    }

    /// The workspace root whose files snapshots capture.
    pub fn work_tree(&self) -> &Path {
        &self.work_tree
    }

    /// Opens the object store with the configured compression level.
    pub fn store(&self) -> Result<crate::store::Store, crate::store::StoreError> {
        Ok(crate::store::Store::open(&self.objects_dir())?
            .with_zstd_level(self.config.compression.level))
    }

    /// The parsed `config.toml`.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The object folder, `.ev/objects`.
    pub fn objects_dir(&self) -> PathBuf {
        self.ev_dir.join("objects")
    }

    /// Refs and reflogs of this repository.
    pub fn refs(&self) -> RefStore {
        RefStore::new(&self.ev_dir)
    }

    /// The path of `evidence.toml` in the workspace.
    pub fn manifest_path(&self) -> PathBuf {
        self.work_tree.join(MANIFEST_FILE)
    }

    /// The folder reserved for bisect state, `.ev/bisect/`.
    pub fn bisect_dir(&self) -> PathBuf {
        self.ev_dir.join("bisect")
    }

    /// The branch `HEAD` points at, or `None` on a detached `HEAD`.
    pub fn current_branch(&self) -> Result<Option<RefName>, RepoError> {
        Ok(self.refs().head_target()?)
    }
}

fn is_repo_dir(path: &Path) -> bool {
    path.join("config.toml").is_file() && path.join("HEAD").is_file()
}

/// Writes a file that must not exist yet and syncs it to disk.
fn write_new_file(path: &Path, bytes: &[u8]) -> Result<(), RepoError> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(RepoError::io("create", path))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(RepoError::io("write", path))
}

/// Flushes a folder's entries (new names, renames) to disk.
pub(crate) fn sync_dir(path: &Path) -> Result<(), RepoError> {
    fs::File::open(path)
        .and_then(|dir| dir.sync_all())
        .map_err(RepoError::io("sync folder", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_creates_layout_and_template() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = Repository::init(tmp.path(), &Config::default()).unwrap();
        assert!(repo.ev_dir().join("config.toml").is_file());
        assert_eq!(
            fs::read_to_string(repo.ev_dir().join("HEAD")).unwrap(),
            "ref: refs/heads/main\n"
        );
        assert!(repo.ev_dir().join("refs/heads").is_dir());
        assert!(repo.work_tree().join(MANIFEST_FILE).is_file());
        let again = Repository::init(tmp.path(), &Config::default());
        assert!(matches!(again, Err(RepoError::AlreadyExists { .. })));
    }

    #[test]
    fn init_keeps_existing_manifest() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join(MANIFEST_FILE), "# mine\n").unwrap();
        Repository::init(tmp.path(), &Config::default()).unwrap();
        let text = fs::read_to_string(tmp.path().join(MANIFEST_FILE)).unwrap();
        assert_eq!(text, "# mine\n");
    }

    #[test]
    fn config_round_trips() {
        let config = Config::default();
        let parsed = Config::parse(Path::new("c"), &config.to_toml()).unwrap();
        assert_eq!(parsed, config);
    }

    #[test]
    fn newer_format_is_rejected() {
        let text = Config::default()
            .to_toml()
            .replace("version = 1", "version = 7");
        let err = Config::parse(Path::new("c"), &text).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, RepoError::NewerFormat { found: 7, .. }));
        assert!(message.contains("version 7"), "{message}");
        assert!(message.contains("upgrade ev"), "{message}");
    }

    #[test]
    fn discovery_walks_up() {
        let tmp = tempfile::tempdir().unwrap();
        Repository::init(tmp.path(), &Config::default()).unwrap();
        let deep = tmp.path().join("a/b");
        fs::create_dir_all(&deep).unwrap();
        let repo = Repository::locate(&Locator {
            cwd: deep.clone(),
            ..Locator::default()
        })
        .unwrap();
        assert_eq!(repo.work_tree(), tmp.path().canonicalize().unwrap());

        // An explicit repository keeps the current directory as the workspace.
        let repo = Repository::locate(&Locator {
            repo: Some(tmp.path().to_path_buf()),
            work_tree: None,
            cwd: deep.clone(),
        })
        .unwrap();
        assert_eq!(repo.work_tree(), deep.canonicalize().unwrap());

        let other = tempfile::tempdir().unwrap();
        let err = Repository::locate(&Locator {
            cwd: other.path().to_path_buf(),
            ..Locator::default()
        });
        assert!(matches!(err, Err(RepoError::NotFound { .. })));
    }
}
