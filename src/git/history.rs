//! Walking commits: the last change of a path, and every commit any ref reaches.

use std::collections::HashMap;
use std::path::Path;

use gix::bstr::ByteSlice;
use gix::ObjectId;

use super::Repo;
use crate::error::{Context, Result};

/// A commit as shown to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// The commit id.
    pub id: ObjectId,
    /// Committer time, seconds since the Unix epoch.
    pub time: i64,
    /// The first line of the message.
    pub summary: String,
}

impl Repo {
    /// The id, time and summary of `commit`.
    pub fn commit_info(&self, commit: ObjectId) -> Result<CommitInfo> {
        let c = self
            .inner
            .find_commit(commit)
            .with_context(|| format!("cannot read commit {commit}"))?;
        let time = c
            .time()
            .with_context(|| format!("cannot read the time of commit {commit}"))?;
        let message = c
            .message()
            .with_context(|| format!("cannot read the message of commit {commit}"))?;
        Ok(CommitInfo {
            id: commit,
            time: time.seconds,
            summary: message.summary().to_str_lossy().into_owned(),
        })
    }

    /// The newest commit reachable from HEAD that changed `path` (a file or a dir), like
    /// `git log -1 -- <path>`: a commit counts when what it has at `path` differs from
    /// every parent's (so merges that took one side unchanged do not count). `None` when
    /// HEAD is unborn or no commit ever had the path.
    pub fn last_commit_touching(&self, path: &Path) -> Result<Option<CommitInfo>> {
        let Some(head) = self.head()?.commit() else {
            return Ok(None);
        };
        let rela = self.rela_path(path)?;
        let walk = self
            .inner
            .rev_walk([head])
            .sorting(gix::revision::walk::Sorting::ByCommitTime(
                Default::default(),
            ))
            .all()
            .context("cannot walk the history")?;
        // each commit is looked up as a child and again as a parent; decode its tree once
        let mut seen: HashMap<ObjectId, Option<ObjectId>> = HashMap::new();
        let mut at = |repo: &Repo, commit: ObjectId| -> Result<Option<ObjectId>> {
            if let Some(id) = seen.get(&commit) {
                return Ok(*id);
            }
            let id = repo.entry_at(commit, Path::new(&rela))?.map(|e| e.id);
            seen.insert(commit, id);
            Ok(id)
        };
        for info in walk {
            let info = info.context("cannot walk the history")?;
            let mine = at(self, info.id)?;
            let mut parents = info.parent_ids.iter().peekable();
            let touched = if parents.peek().is_none() {
                mine.is_some()
            } else {
                let mut differs_from_all = true;
                for p in parents {
                    if at(self, *p)? == mine {
                        differs_from_all = false;
                        break;
                    }
                }
                differs_from_all
            };
            if touched {
                return self.commit_info(info.id).map(Some);
            }
        }
        Ok(None)
    }

    /// Every commit reachable from HEAD or any ref (branches, tags, remotes, stash),
    /// each once, in no particular order.
    pub fn all_commits(&self) -> Result<Vec<ObjectId>> {
        let tips = self.ref_tips()?;
        if tips.is_empty() {
            return Ok(Vec::new());
        }
        let walk = self
            .inner
            .rev_walk(tips)
            .all()
            .context("cannot walk the history")?;
        walk.map(|info| info.map(|i| i.id).context("cannot walk the history"))
            .collect()
    }

    /// The commits the remote-tracking refs of `remote` (`refs/remotes/<remote>/*`)
    /// point at: what the last fetch or push saw on that remote. Empty for a remote
    /// that is not configured (a URL given to `git push`).
    pub fn remote_tips(&self, remote: &str) -> Result<Vec<ObjectId>> {
        let mut tips = Vec::new();
        // a URL or an unknown name has no remote-tracking refs
        if !self.remote_names().iter().any(|n| n == remote) {
            return Ok(tips);
        }
        let prefix = format!("refs/remotes/{remote}/");
        let platform = self.inner.references().context("cannot list refs")?;
        for r in platform
            .prefixed(prefix.as_str())
            .context("cannot list refs")?
        {
            let Ok(mut r) = r else { continue };
            if let Ok(id) = r.peel_to_id() {
                tips.push(id.detach());
            }
        }
        tips.sort();
        tips.dedup();
        Ok(tips)
    }

    /// Whether the object store holds `id`.
    pub fn has_object(&self, id: ObjectId) -> bool {
        self.inner.has_object(id)
    }

    /// The commits HEAD and all refs point at (tags peeled; refs to non-commits skipped).
    fn ref_tips(&self) -> Result<Vec<ObjectId>> {
        let mut tips = Vec::new();
        if let Some(head) = self.head()?.commit() {
            tips.push(head);
        }
        let platform = self.inner.references().context("cannot list refs")?;
        for r in platform.all().context("cannot list refs")? {
            // a broken ref is git's to report; the scan covers what it can read
            let Ok(mut r) = r else { continue };
            if let Ok(id) = r.peel_to_id() {
                let id = id.detach();
                let is_commit = self
                    .inner
                    .find_header(id)
                    .map(|h| h.kind() == gix::object::Kind::Commit)
                    .unwrap_or(false);
                if is_commit {
                    tips.push(id);
                }
            }
        }
        tips.sort();
        tips.dedup();
        Ok(tips)
    }
}
