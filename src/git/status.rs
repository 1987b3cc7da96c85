//! Work tree status, split the way Nix sees it: only committed content reaches a lock.

use std::path::Path;

use gix::bstr::{BString, ByteSlice};
use gix::status::index_worktree::Item as WorktreeItem;
use gix::status::plumbing::index_as_worktree::EntryStatus;

use super::Repo;
use crate::error::{Context, Result};

/// Paths that differ from HEAD, in the three states git distinguishes. Each list is
/// repo-relative and sorted. Nix sees none of them: untracked files are invisible to it,
/// and unstaged or staged-but-uncommitted changes make the lock lose its `rev`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct InnerStatus {
    /// Files git does not track (not ignored).
    pub untracked: Vec<String>,
    /// Tracked files whose work tree content differs from the index (modified, deleted,
    /// type changed, in conflict, or added with `--intent-to-add`).
    pub unstaged: Vec<String>,
    /// Index changes not yet committed (added, modified, deleted relative to HEAD).
    pub staged: Vec<String>,
}

impl InnerStatus {
    /// True when nothing is untracked, unstaged or staged.
    pub fn is_clean(&self) -> bool {
        self.untracked.is_empty() && self.unstaged.is_empty() && self.staged.is_empty()
    }
}

impl Repo {
    /// The status of the work tree at or below `dir` (the root for an empty path),
    /// like `git status --untracked-files=all -- <dir>`; ignored files are left out.
    pub fn status_under(&self, dir: &Path) -> Result<InnerStatus> {
        let rela = self.rela_path(dir)?;
        let patterns: Vec<BString> = if rela.is_empty() {
            Vec::new()
        } else {
            // literal: a dir name must never act as a glob
            vec![format!(":(literal){rela}").into()]
        };
        let index = self.index()?;
        let iter = self
            .inner
            .status(gix::progress::Discard)
            .and_then(|s| {
                s.untracked_files(gix::status::UntrackedFiles::Files)
                    .index(index)
                    .into_iter(patterns)
            })
            .with_context(|| format!("cannot compute git status of {}", self.root.display()))?;
        let mut out = InnerStatus::default();
        for item in iter {
            let item = item
                .with_context(|| format!("cannot compute git status of {}", self.root.display()))?;
            match item {
                gix::status::Item::TreeIndex(change) => {
                    out.staged
                        .push(change.location().to_str_lossy().into_owned());
                }
                gix::status::Item::IndexWorktree(item) => classify(item, &mut out),
            }
        }
        for list in [&mut out.untracked, &mut out.unstaged, &mut out.staged] {
            list.sort();
            list.dedup();
        }
        Ok(out)
    }

    /// Every path whose index content differs from HEAD (`git diff --cached --name-only`),
    /// so a caller can refuse or warn before a commit that would sweep them in.
    pub fn staged_paths(&self) -> Result<Vec<String>> {
        Ok(self.status_under(Path::new(""))?.staged)
    }
}

fn classify(item: WorktreeItem, out: &mut InnerStatus) {
    let path = || item.rela_path().to_str_lossy().into_owned();
    match &item {
        WorktreeItem::Modification { status, .. } => match status {
            // only a stat refresh; the content is unchanged
            EntryStatus::NeedsUpdate(_) => {}
            EntryStatus::Change(_) | EntryStatus::Conflict { .. } | EntryStatus::IntentToAdd => {
                out.unstaged.push(path())
            }
        },
        WorktreeItem::DirectoryContents { entry, .. } => {
            if entry.status == gix::dir::entry::Status::Untracked {
                out.untracked.push(path());
            }
        }
        // only with rename tracking, which we leave off; kept correct anyway
        WorktreeItem::Rewrite { source, .. } => {
            out.unstaged
                .push(source.rela_path().to_str_lossy().into_owned());
            out.untracked.push(path());
        }
    }
}
