//! What `add`, `rotate` and `rekey` share: take the secrets repo's lock,
//! and after the new files are written, the tail that makes them visible to
//! Nix — commit in the inner repo, relock the parent's input to the new
//! inner HEAD, verify, and (with `--commit-parent`) commit `flake.lock`.
//!
//! Every step can be repeated: files that already match HEAD are not
//! committed again, and the lock always follows the inner HEAD. So when a
//! command is killed half-way, running it again finishes the job.

use super::Ctx;
use crate::cli::LockArgs;
use crate::error::{display_path, Error, Result};
use crate::git::Repo;
use crate::layout::Layout;
use crate::nix::flake_lock::short;
use crate::nix::lock::{describe, FLAKE_LOCK};
use crate::nix::Nix;
use crate::relock::{input_name, relock};
use crate::repo_lock::{timeout_from_env, RepoLock};
use std::path::{Path, PathBuf};

/// The secrets repo of this invocation, locked against other git-secrets
/// commands for as long as this lives.
pub struct Session {
    pub layout: Layout,
    pub inner: Repo,
    _lock: RepoLock,
}

impl Session {
    /// Finds the layout and the inner repo and takes its lock, waiting (with
    /// a status line) while another command holds it.
    pub fn open(ctx: &Ctx) -> Result<Session> {
        let layout = ctx.layout()?;
        let inner = crate::relock::inner_repo(&layout)?;
        let lock = RepoLock::acquire(inner.git_dir(), timeout_from_env(), || {
            ctx.ui.status(format!(
                "waiting for another git-secrets command to finish in {} …",
                shown(&layout, inner.root()).display()
            ))
        })?;
        // Before anything is written: a change made on a HEAD behind or beside the lock
        // could only be locked by moving the lock backwards or sideways.
        if let (Some(input), Some(_)) = (input_name(&layout).ok().flatten(), inner.head()?.commit())
        {
            crate::relock::check_direction(&layout, &inner, &input)?;
        }
        // A command killed mid-write leaves its temp file; we hold the lock now.
        for dir in [inner.root().to_path_buf(), layout.secrets_subdir()] {
            crate::atomic::remove_stale_temps(&dir);
        }
        Ok(Session {
            layout,
            inner,
            _lock: lock,
        })
    }

    /// `path` as the user sees it: relative to the parent root when inside.
    pub fn shown(&self, path: &Path) -> PathBuf {
        shown(&self.layout, path)
    }

    /// Which of `paths` differ from the inner HEAD (modified, staged,
    /// untracked or deleted), in the order given.
    pub fn pending(&self, paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
        let st = self.inner.status_under(Path::new(""))?;
        let mut out = Vec::new();
        for p in paths {
            let rela = self.inner.rela_path(p)?;
            if [&st.untracked, &st.unstaged, &st.staged]
                .iter()
                .any(|l| l.contains(&rela))
            {
                out.push(p.clone());
            }
        }
        Ok(out)
    }

    /// Commits whichever of `paths` differ from HEAD, then relocks and
    /// verifies, honouring `--no-commit`, `--no-lock`, `--commit-parent`
    /// and `--offline`; when the user stops early, the hints say what is
    /// left to do.
    pub fn finish(
        &self,
        ctx: &Ctx,
        paths: &[PathBuf],
        message: &str,
        flags: &LockArgs,
    ) -> Result<()> {
        crate::failpoint::hit("change.before-commit")?;
        let dir = self.shown(self.inner.root());
        let pending = self.pending(paths)?;
        let rel: Vec<String> = pending
            .iter()
            .map(|p| self.inner.rela_path(p))
            .collect::<Result<_>>()?;
        if flags.no_commit {
            if pending.is_empty() {
                ctx.ui
                    .status("nothing to commit: the secrets repo already has it");
            } else {
                ctx.ui
                    .status(format!("not committed (--no-commit): {}", rel.join(", ")));
                ctx.ui.hint(format!(
                    "Nix sees only committed files; commit with: git -C {} commit -m '{message}' -- {}",
                    dir.display(),
                    rel.join(" ")
                ));
            }
            ctx.ui
                .hint(format!("then relock: {}", self.lock_command_hint()));
            return Ok(());
        }
        if pending.is_empty() {
            ctx.ui
                .status("already committed in the secrets repo; nothing new to commit");
        } else {
            let refs: Vec<&Path> = pending.iter().map(PathBuf::as_path).collect();
            let id = self.inner.commit_paths(&refs, message).map_err(|e| {
                e.hint(format!(
                    "{} written but not committed; fix the cause and run this command again to finish",
                    rel.join(", ")
                ))
            })?;
            ctx.ui.ok(format!(
                "committed {} in {}: {message}",
                short(&id.to_string()),
                dir.display()
            ));
        }
        crate::failpoint::hit("change.after-commit")?;
        if flags.no_lock {
            ctx.ui.status("not relocked (--no-lock)");
            ctx.ui.hint(format!(
                "Nix still uses the old secrets until you relock: {}",
                self.lock_command_hint()
            ));
            return Ok(());
        }
        let Some(input) = input_name(&self.layout)? else {
            ctx.ui.warn(format!(
                "no input of {} points at {}; nothing to relock",
                self.layout.root().join("flake.nix").display(),
                crate::relock::dir_rel(&self.layout)
            ));
            ctx.ui.hint(format!(
                "add one (inputs.<name>.url = \"git+file:{}\") or name it: git config secrets.input NAME",
                crate::relock::dir_rel(&self.layout)
            ));
            return Ok(());
        };
        ctx.ui.detail(format!("relocking {input}"));
        let outcome = relock(&self.layout, &input, flags.offline).map_err(|e| {
            e.hint(format!(
                "the secret is committed in {}; fix the lock, then run `{}` (or this command again)",
                dir.display(),
                self.lock_command_hint()
            ))
        })?;
        for w in &outcome.warnings {
            ctx.ui.warn(format!("nix: {w}"));
        }
        ctx.ui.detail(format!("ran nix {}", outcome.args.join(" ")));
        ctx.ui.ok(describe(&outcome));
        crate::failpoint::hit("change.after-lock")?;
        self.finish_parent(ctx, &input, outcome.locked.rev.as_deref(), flags)
    }

    /// Commits `flake.lock` with `--commit-parent`, else says it is left to
    /// commit (when it differs from the parent's HEAD).
    fn finish_parent(
        &self,
        ctx: &Ctx,
        input: &str,
        rev: Option<&str>,
        flags: &LockArgs,
    ) -> Result<()> {
        let parent = &self.layout.parent;
        let lock = parent.root().join(FLAKE_LOCK);
        let st = parent.status_under(Path::new(FLAKE_LOCK))?;
        if st.is_clean() {
            return Ok(());
        }
        let rev = rev.map(short).unwrap_or("?");
        let message = format!("flake.lock: lock {input} to {rev}");
        if flags.commit_parent {
            let id = parent.commit_paths(&[lock.as_path()], &message)?;
            ctx.ui.ok(format!(
                "committed {} in the parent: {message}",
                short(&id.to_string())
            ));
        } else {
            ctx.ui.hint(format!(
                "flake.lock changed; commit it: git commit -m '{message}' -- flake.lock (or pass --commit-parent)"
            ));
        }
        Ok(())
    }

    /// The Nix command that relocks the input by hand, for hints.
    fn lock_command_hint(&self) -> String {
        let input = input_name(&self.layout)
            .ok()
            .flatten()
            .unwrap_or_else(|| "<input>".into());
        let args = Nix::discover()
            .and_then(|n| n.version())
            .map(|v| v.lock_command().args(&input).join(" "))
            .unwrap_or_else(|_| format!("flake lock --update-input {input}"));
        format!("(cd {} && nix {args})", self.layout.root().display())
    }
}

fn shown(layout: &Layout, path: &Path) -> PathBuf {
    display_path(path, layout.root())
}

/// A usage error for a name that must not exist yet / must exist.
pub fn no_such_secret(name: &str, layout: &Layout) -> Error {
    layout.no_such_secret(name)
}
