//! Read-only state of one repository: HEAD, index entries, ignores, HEAD's tree,
//! `.gitmodules`.

use std::path::{Path, PathBuf};

use gix::bstr::{BStr, ByteSlice};
use gix::ObjectId;

use super::Repo;
use crate::error::{Context, Error, Result};

/// Where HEAD points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Head {
    /// On a branch; `commit` is `None` while the branch is unborn (no commit yet).
    Branch {
        /// Short branch name (`main`).
        name: String,
        /// The commit the branch points to.
        commit: Option<ObjectId>,
    },
    /// Detached at a commit.
    Detached(ObjectId),
}

impl Head {
    /// The commit HEAD points to; `None` when unborn.
    pub fn commit(&self) -> Option<ObjectId> {
        match self {
            Head::Branch { commit, .. } => *commit,
            Head::Detached(id) => Some(*id),
        }
    }

    /// The branch name; `None` when detached.
    pub fn branch(&self) -> Option<&str> {
        match self {
            Head::Branch { name, .. } => Some(name),
            Head::Detached(_) => None,
        }
    }
}

/// What a tree or index entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// An executable file.
    Executable,
    /// A symbolic link.
    Symlink,
    /// A gitlink: a commit of another repository recorded in place of a directory
    /// (what `git add secrets` records for a nested repo, and what submodules use).
    Gitlink,
    /// A directory (a tree in a commit; a sparse-index directory in the index).
    Dir,
}

impl EntryKind {
    fn from_tree(mode: gix::objs::tree::EntryMode) -> EntryKind {
        use gix::objs::tree::EntryKind as K;
        match mode.kind() {
            K::Tree => EntryKind::Dir,
            K::Blob => EntryKind::File,
            K::BlobExecutable => EntryKind::Executable,
            K::Link => EntryKind::Symlink,
            K::Commit => EntryKind::Gitlink,
        }
    }

    fn from_index(mode: gix::index::entry::Mode) -> EntryKind {
        use gix::index::entry::Mode;
        if mode == Mode::COMMIT {
            EntryKind::Gitlink
        } else if mode == Mode::FILE_EXECUTABLE {
            EntryKind::Executable
        } else if mode == Mode::SYMLINK {
            EntryKind::Symlink
        } else if mode == Mode::DIR {
            EntryKind::Dir
        } else {
            EntryKind::File
        }
    }
}

/// One entry of the index (the staging area).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// Repo-relative path.
    pub path: String,
    /// Blob id, or for a gitlink the commit id of the other repository.
    pub id: ObjectId,
    /// What the entry is.
    pub kind: EntryKind,
    /// Added with `git add --intent-to-add`: tracked, but no content staged yet.
    pub intent_to_add: bool,
}

/// One entry of a commit's tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// Repo-relative path.
    pub path: String,
    /// Object id (blob, tree, or for a gitlink the recorded commit).
    pub id: ObjectId,
    /// What the entry is.
    pub kind: EntryKind,
}

impl Repo {
    /// Where HEAD points (branch or detached, born or unborn).
    pub fn head(&self) -> Result<Head> {
        let head = self.inner.head().context("cannot read HEAD")?;
        let commit = head.id().map(|id| id.detach());
        Ok(match head.referent_name() {
            Some(name) => Head::Branch {
                name: name.shorten().to_str_lossy().into_owned(),
                commit,
            },
            None => match commit {
                Some(id) => Head::Detached(id),
                None => return Err(Error::new("HEAD is detached but points nowhere")),
            },
        })
    }

    /// The index to read. Inside a git hook `GIT_INDEX_FILE` may name the index a commit
    /// is being built from (`git commit -a`, `git commit <path>`); we honour it only when
    /// it lies in this repository's git dir, so a parent's hook env never leaks into
    /// reads of the inner repo.
    pub(crate) fn index(&self) -> Result<gix::worktree::IndexPersistedOrInMemory> {
        if let Some(path) = self.hook_index_file(std::env::var_os("GIT_INDEX_FILE").as_deref()) {
            let file =
                gix::index::File::at(&path, self.inner.object_hash(), false, Default::default())
                    .with_context(|| format!("cannot read the index {}", path.display()))?;
            return Ok(file.into());
        }
        let index = self
            .inner
            .index_or_empty()
            .with_context(|| format!("cannot read the index of {}", self.root.display()))?;
        Ok(index.into())
    }

    /// `GIT_INDEX_FILE`'s value when it names an index file in this repo's git dir.
    pub(super) fn hook_index_file(&self, raw: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
        let path = super::absolute(Path::new(raw?)).ok()?;
        let git_dir = std::fs::canonicalize(self.git_dir()).ok()?;
        (path.starts_with(&git_dir) && path.is_file()).then_some(path)
    }

    /// The index entry at exactly `path` (a file, or a gitlink for a nested repo).
    pub fn index_entry(&self, path: &Path) -> Result<Option<IndexEntry>> {
        let rela = self.rela_path(path)?;
        let index = self.index()?;
        Ok(index
            .entry_by_path(rela.as_bytes().as_bstr())
            .map(|e| index_entry(e, &index)))
    }

    /// Every index entry at `dir` itself (a gitlink) or below it. Empty `dir` (the
    /// root) lists the whole index.
    pub fn index_entries_under(&self, dir: &Path) -> Result<Vec<IndexEntry>> {
        let rela = self.rela_path(dir)?;
        let index = self.index()?;
        if rela.is_empty() {
            return Ok(index
                .entries()
                .iter()
                .map(|e| index_entry(e, &index))
                .collect());
        }
        let prefix = format!("{rela}/");
        let entries = index
            .prefixed_entries(rela.as_bytes().as_bstr())
            .unwrap_or(&[]);
        Ok(entries
            .iter()
            .filter(|e| {
                let p = e.path(&index);
                p == rela.as_bytes() || p.starts_with(prefix.as_bytes())
            })
            .map(|e| index_entry(e, &index))
            .collect())
    }

    /// Whether `path` is ignored by `.gitignore` files, `.git/info/exclude` and
    /// `core.excludesFile`. `is_dir` matters for patterns like `/secrets/`.
    /// A tracked path may still match an ignore pattern; check the index for that.
    pub fn is_ignored(&self, path: &Path, is_dir: bool) -> Result<bool> {
        let rela = self.rela_path(path)?;
        if rela.is_empty() {
            return Ok(false);
        }
        let index = self.index()?;
        let mut excludes = self
            .inner
            .excludes(
                &index,
                None,
                gix::worktree::stack::state::ignore::Source::WorktreeThenIdMappingIfNotSkipped,
            )
            .context("cannot read the ignore rules")?;
        let mode = is_dir.then_some(gix::index::entry::Mode::DIR);
        let platform = excludes
            .at_entry(rela.as_bytes().as_bstr(), mode)
            .with_context(|| format!("cannot check whether {rela} is ignored"))?;
        Ok(platform.is_excluded())
    }

    /// The entry at `path` in HEAD's tree (a gitlink shows up as [`EntryKind::Gitlink`]);
    /// `None` when HEAD is unborn or the path is not in it.
    pub fn head_entry(&self, path: &Path) -> Result<Option<TreeEntry>> {
        match self.head()?.commit() {
            Some(commit) => self.entry_at(commit, path),
            None => Ok(None),
        }
    }

    /// The entry at `path` in `commit`'s tree.
    pub fn entry_at(&self, commit: ObjectId, path: &Path) -> Result<Option<TreeEntry>> {
        let rela = self.rela_path(path)?;
        let tree = self
            .inner
            .find_commit(commit)
            .and_then(|c| c.tree())
            .with_context(|| format!("cannot read the tree of commit {commit}"))?;
        if rela.is_empty() {
            return Ok(Some(TreeEntry {
                path: rela,
                id: tree.id,
                kind: EntryKind::Dir,
            }));
        }
        let entry = tree
            .lookup_entry_by_path(&rela)
            .with_context(|| format!("cannot look up {rela} in commit {commit}"))?;
        Ok(entry.map(|e| TreeEntry {
            kind: EntryKind::from_tree(e.mode()),
            id: e.object_id(),
            path: rela,
        }))
    }

    /// The name of the submodule that `.gitmodules` (in the work tree, else the index
    /// or HEAD) declares at `path`, if any.
    pub fn submodule_at(&self, path: &Path) -> Result<Option<String>> {
        let rela = self.rela_path(path)?;
        let Some(modules) = self.inner.modules().context("cannot read .gitmodules")? else {
            return Ok(None);
        };
        for name in modules.names() {
            // a section without a valid path is git's problem to report, not ours
            if let Ok(p) = modules.path(name) {
                if p.as_bstr() == BStr::new(rela.as_bytes()) {
                    return Ok(Some(name.to_str_lossy().into_owned()));
                }
            }
        }
        Ok(None)
    }
}

fn index_entry(e: &gix::index::Entry, state: &gix::index::State) -> IndexEntry {
    IndexEntry {
        path: e.path(state).to_str_lossy().into_owned(),
        id: e.id,
        kind: EntryKind::from_index(e.mode),
        intent_to_add: e.flags.contains(gix::index::entry::Flags::INTENT_TO_ADD),
    }
}
