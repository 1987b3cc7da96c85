//! Meeting teammates through the inner remote: push the inner repo (then, when asked,
//! commit the relocked `flake.lock` alone and push the parent), and pull (fetch,
//! fast-forward or rebase the local inner commits, then relock forward).
//!
//! Core: returns what happened, never prints. Pushes run the user's `git push` with the
//! terminal attached, so its own progress and prompts reach the user.

use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::git::{ObjectId, Repo};
use crate::layout::Layout;
use crate::nix::flake_lock::short;
use crate::nix::lock::FLAKE_LOCK;

/// What pushing the inner repo did.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The remote pushed to.
    pub remote: String,
    /// The branch on the remote (`main`).
    pub branch: String,
    /// The commit that is now on the remote.
    pub rev: ObjectId,
    /// Whether the branch had no upstream and now tracks the remote's branch.
    pub set_upstream: bool,
    /// Whether the remote already had it (nothing was sent).
    pub already: bool,
}

/// `git config secrets.push` (in the parent, then the inner repo): whether add, rotate
/// and rekey push by default.
pub fn push_by_default(layout: &Layout, inner: &Repo) -> bool {
    let v = layout
        .parent
        .config_string("secrets.push")
        .or_else(|| inner.config_string("secrets.push"));
    matches!(
        v.as_deref().map(str::to_ascii_lowercase).as_deref(),
        Some("true" | "yes" | "on" | "1")
    )
}

/// Pushes the inner repo's current branch to its upstream (or, without one, to the
/// only remote or `origin`, setting the upstream).
pub fn push_inner(inner: &Repo) -> Result<Pushed> {
    let head = inner.head()?;
    let Some(branch) = head.branch().map(str::to_string) else {
        return Err(
            Error::new("the secrets repo is not on a branch (detached HEAD)").hint(format!(
                "switch to its branch first: git -C {} switch main",
                crate::quote::shell(&inner.root().display().to_string())
            )),
        );
    };
    let Some(rev) = head.commit() else {
        return Err(Error::new("the secrets repo has no commits to push"));
    };
    if let Some(up) = inner.upstream()? {
        let already = up.tip == Some(rev);
        let remote_branch = up
            .merge_ref
            .strip_prefix("refs/heads/")
            .unwrap_or(&up.merge_ref)
            .to_string();
        if !already {
            inner.push(&up.remote, &[&format!("HEAD:{}", up.merge_ref)])?;
        }
        return Ok(Pushed {
            remote: up.remote,
            branch: remote_branch,
            rev,
            set_upstream: false,
            already,
        });
    }
    let remotes = inner.remote_names();
    let remote = match remotes.as_slice() {
        [] => {
            return Err(Error::new("the secrets repo has no remote to push to").hint(format!(
                "add your private remote: git -C {} remote add origin <URL>, then git secrets push",
                crate::quote::shell(&inner.root().display().to_string())
            )))
        }
        [one] => one.clone(),
        many if many.iter().any(|r| r == "origin") => "origin".to_string(),
        many => {
            return Err(Error::new(format!(
                "the secrets repo's branch {branch} tracks no upstream, and it has several remotes ({})",
                many.join(", ")
            ))
            .hint(format!(
                "push once naming one: git -C {} push -u <remote> {}",
                crate::quote::shell(&inner.root().display().to_string()),
                crate::quote::shell(&branch)
            )))
        }
    };
    inner.push(
        &remote,
        &["--set-upstream", &format!("HEAD:refs/heads/{branch}")],
    )?;
    Ok(Pushed {
        remote,
        branch,
        rev,
        set_upstream: true,
        already: false,
    })
}

/// Commits `flake.lock` alone in the parent when it differs from the parent's HEAD;
/// returns the new commit.
pub fn commit_parent_lock(layout: &Layout, input: &str, rev: &str) -> Result<Option<ObjectId>> {
    let parent = &layout.parent;
    if parent.status_under(Path::new(FLAKE_LOCK))?.is_clean() {
        return Ok(None);
    }
    let message = format!("flake.lock: lock {input} to {}", short(rev));
    let lock = layout.root().join(FLAKE_LOCK);
    parent.commit_paths(&[lock.as_path()], &message).map(Some)
}

/// Pushes the parent's current branch to its upstream, as a plain `git push` does (so
/// the parent's pre-push guard runs).
pub fn push_parent(parent: &Repo) -> Result<String> {
    let Some(up) = parent.upstream()? else {
        return Err(
            Error::new("the parent's branch tracks no upstream").hint(format!(
                "push it yourself once: git -C {} push -u <remote> HEAD",
                crate::quote::shell(&parent.root().display().to_string())
            )),
        );
    };
    parent.push(&up.remote, &[&format!("HEAD:{}", up.merge_ref)])?;
    Ok(up.short)
}

/// How the inner repo stood against its upstream before a pull, and what the pull did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pulled {
    /// Nothing new on the remote.
    UpToDate,
    /// Only local commits: nothing to bring in (push them).
    OnlyLocal(usize),
    /// Fast-forwarded over this many remote commits.
    FastForward(usize),
    /// The local commits were rebased onto the remote's (`behind` brought in, `ahead`
    /// replayed on top).
    Rebased { ahead: usize, behind: usize },
}

/// Fetches the upstream (bounded by `timeout`) and brings its commits into the inner
/// branch: a fast-forward, or a rebase of the local commits onto them (plain git, so
/// the sops merge driver installed in the inner repo resolves same-secret changes).
/// A rebase that stops on a real conflict is aborted, leaving the branch as it was.
pub fn pull_inner(inner: &Repo, timeout: Duration) -> Result<Pulled> {
    let Some(up) = inner.upstream()? else {
        return Err(
            Error::new("the secrets repo's branch tracks no upstream to pull from").hint(format!(
                "set it: git -C {} branch --set-upstream-to origin/main",
                crate::quote::shell(&inner.root().display().to_string())
            )),
        );
    };
    let st = inner.status_under(Path::new(""))?;
    if !st.staged.is_empty() || !st.unstaged.is_empty() {
        return Err(Error::new(format!(
            "the secrets repo has uncommitted changes: {}",
            st.staged
                .iter()
                .chain(&st.unstaged)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .hint("commit or discard them first (git secrets rotate commits for you)"));
    }
    inner.fetch(&up.remote, timeout)?;
    let up = inner
        .upstream()?
        .ok_or_else(|| Error::new("the upstream vanished during fetch"))?;
    let Some(tip) = up.tip else {
        return Err(
            Error::new(format!("{} does not exist on the remote", up.short))
                .hint("push the branch first: git secrets push"),
        );
    };
    let head = inner
        .head()?
        .commit()
        .ok_or_else(|| Error::new("the secrets repo has no commits"))?;
    let ab = inner.ahead_behind(&head.to_string(), &tip.to_string())?;
    match (ab.ahead, ab.behind) {
        (_, 0) if ab.ahead == 0 => Ok(Pulled::UpToDate),
        (n, 0) => Ok(Pulled::OnlyLocal(n)),
        (0, n) => {
            inner.merge_ff_only(&tip.to_string())?;
            Ok(Pulled::FastForward(n))
        }
        (ahead, behind) => {
            inner.rebase_onto(&tip.to_string()).map_err(|e| {
                let dir = crate::quote::shell(&inner.root().display().to_string()).into_owned();
                e.hint(format!(
                    "to choose by hand: git -C {dir} rebase {}; at the stop, pick a side (git -C {dir} checkout --ours|--theirs FILE) or set the value (git secrets edit FILE), git -C {dir} add FILE, git -C {dir} rebase --continue; then git secrets pull",
                    crate::quote::shell(&up.short)
                ))
            })?;
            Ok(Pulled::Rebased { ahead, behind })
        }
    }
}
