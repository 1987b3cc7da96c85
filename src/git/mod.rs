//! Git plumbing: facts about a repository, and the few changes the tool makes to one.
//!
//! **gix reads, git writes.** Everything that only looks (HEAD, index, ignores, status,
//! config, history, objects) goes through `gix`, in-process and fast. Everything that
//! changes a repository (clone, add, commit, rm --cached, add -N) runs the user's `git`
//! binary (see [`write`]), because only git applies the user's hooks, commit signing,
//! identity and other config the way the user expects; `gix`'s own commit skips all of
//! that.
//!
//! This module makes no decisions for the user: it answers questions and carries out
//! instructions. Callers (`init`, `doctor`, `rotate`, …) decide what a state means.
//!
//! Paths given to a [`Repo`] may be absolute or relative to its root; paths it returns are
//! repo-relative with `/` separators (git's own form), as [`String`]s.

mod error;
mod history;
mod locks;
mod objects;
mod remote;
mod state;
mod status;
#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;
mod write;

use std::path::{Component, Path, PathBuf};

use crate::error::{Context, Error, Result};

pub use error::GitError;
pub use gix::ObjectId;
pub use locks::next_index_pid;
pub use objects::{ObjectKind, ScannedObject};
pub use remote::{fetch_timeout_from_env, ls_remote, RemoteReach, Upstream};
pub use state::{EntryKind, Head};
pub use write::{clone, command, init, run_in};

/// How gix opens a repository: as git would, reading the user's and the system's config.
#[cfg(not(test))]
fn open_options() -> gix::open::Options {
    gix::open::Options::default()
}

/// Unit tests run in threads of one process whose environment they must not change
/// (`set_var` races every `getenv`); their repos are read with the repository's own
/// config only, never the developer's `~/.gitconfig` (see `testutil`).
#[cfg(test)]
fn open_options() -> gix::open::Options {
    gix::open::Options::isolated()
}

/// An open git repository with a work tree.
pub struct Repo {
    inner: gix::Repository,
    root: PathBuf,
}

impl Repo {
    /// Finds the repository containing `start` (like git, walking up the directories).
    pub fn discover(start: &Path) -> Result<Repo> {
        let start = absolute(start)?;
        let inner =
            gix::discover_opts(&start, Default::default(), open_options()).map_err(|e| {
                GitError::NotARepo {
                    start: start.clone(),
                    // gix's own words for that case only repeat ours; others (permissions, a
                    // broken .git) say what is wrong.
                    source: (!e.to_string().starts_with("Could not find a git repository"))
                        .then(|| Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
                }
            })?;
        Repo::from_gix(inner)
    }

    /// Opens the repository whose work tree root is exactly `root`; an error if `root`
    /// has no `.git` of its own (no walking up, so a plain dir inside the parent is not
    /// mistaken for the parent).
    pub fn open(root: &Path) -> Result<Repo> {
        let root = absolute(root)?;
        let inner = gix::open_opts(&root, open_options()).map_err(|e| {
            Error::new(format!("{} is not a git repository", root.display())).with_source(e)
        })?;
        Repo::from_gix(inner)
    }

    fn from_gix(inner: gix::Repository) -> Result<Repo> {
        let workdir = inner.workdir().ok_or_else(|| GitError::Bare {
            git_dir: inner.git_dir().to_path_buf(),
        })?;
        // canonical, so that prefix checks against other canonical paths work
        let root = std::fs::canonicalize(workdir).map_err(|e| Error::io("open", workdir, e))?;
        Ok(Repo { inner, root })
    }

    /// The root of the work tree (absolute, canonical).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The `.git` directory (for a linked worktree: its private git dir).
    pub fn git_dir(&self) -> &Path {
        self.inner.git_dir()
    }

    /// The git dir shared by all worktrees (`.git` of the main one): where hooks, info/
    /// and the object store live.
    pub fn common_dir(&self) -> &Path {
        self.inner.common_dir()
    }

    /// The underlying gix repository, for reads this module does not wrap yet.
    pub fn gix(&self) -> &gix::Repository {
        &self.inner
    }

    /// A string value from git config (repo, user, system, as git layers them).
    pub fn config_string(&self, key: &str) -> Option<String> {
        self.inner
            .config_snapshot()
            .string(key)
            .map(|v| v.to_string())
    }

    /// A path value from git config (`~` expanded), such as `core.hooksPath` or
    /// `init.templateDir`. Relative values are returned as written; git resolves
    /// `core.hooksPath` against the work tree root.
    pub fn config_path(&self, key: &str) -> Result<Option<PathBuf>> {
        self.inner
            .config_snapshot()
            .trusted_path(key)
            .with_context(|| format!("invalid path in git config {key}"))
    }

    /// `path` relative to the root, in git's `a/b` form. Absolute paths must lie inside
    /// the work tree; `..` is refused.
    pub fn rela_path(&self, path: &Path) -> Result<String> {
        let rel = if path.is_absolute() {
            let abs = normalize(path);
            abs.strip_prefix(&self.root)
                .map(Path::to_path_buf)
                .map_err(|_| {
                    Error::new(format!(
                        "{} is outside the repository at {}",
                        path.display(),
                        self.root.display()
                    ))
                })?
        } else {
            path.to_path_buf()
        };
        let mut parts = Vec::new();
        for c in rel.components() {
            match c {
                Component::Normal(p) => parts.push(p.to_str().ok_or_else(|| {
                    Error::new(format!("path is not valid UTF-8: {}", path.display()))
                })?),
                Component::CurDir => {}
                _ => {
                    return Err(Error::new(format!(
                        "path {} leaves the repository",
                        path.display()
                    )))
                }
            }
        }
        Ok(parts.join("/"))
    }
}

/// `path` made absolute against the current dir, then [`normalize`]d.
pub(crate) fn absolute(path: &Path) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(normalize(path));
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    Ok(normalize(&cwd.join(path)))
}

/// Resolves `.` and `..` lexically, then canonicalizes the longest existing prefix and
/// appends the rest, so symlinked temp dirs (macOS `/var`), `root/../other` and
/// not-yet-created paths all compare equal to what `canonicalize` gives once they exist.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut lexical = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                lexical.pop();
            }
            Component::CurDir => {}
            c => lexical.push(c),
        }
    }
    let mut existing = lexical.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(mut out) = std::fs::canonicalize(existing) {
            out.extend(rest.iter().rev());
            return out;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return lexical,
        }
    }
}
