//! A change to the secrets, as one transaction (jj's `start_transaction` … `finish`
//! is the model): take the secrets repo's lock, write the new files, commit them in
//! the inner repo (Nix sees only committed files), relock the parent's flake input
//! to the new inner HEAD, verify the lock, and (when asked) commit `flake.lock` in
//! the parent. The operations that compute new files live in [`secrets`] and
//! [`rekey`]; commands pick one, then call [`Transaction::finish`].
//!
//! Every step can be repeated: files that already match HEAD are not committed
//! again, and the lock always follows the inner HEAD. So when a command is killed
//! half-way, running it again finishes the job.
//!
//! Nothing here prints: progress goes to a [`Progress`] sink the command passes.
//! A new step of the workflow (pushing the inner repo, say) goes into
//! [`Transaction::finish`], after the lock is verified.

pub mod merge;
pub mod push;
pub mod rekey;
pub mod secrets;
pub mod sync;

use std::path::{Path, PathBuf};

use crate::error::{display_path, Error, Result};
use crate::git::Repo;
use crate::layout::Layout;
use crate::nix::flake_lock::short;
use crate::nix::lock::{describe, FLAKE_LOCK};
use crate::progress::Progress;
use crate::quote;
use crate::repo_lock::{timeout_from_env, RepoLock};
use crate::wiring;

/// How far [`Transaction::finish`] goes.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Stop after writing: do not commit in the secrets repo (and so do not lock).
    pub no_commit: bool,
    /// Commit, but do not relock the parent flake.
    pub no_lock: bool,
    /// Also commit the parent's `flake.lock`.
    pub commit_parent: bool,
    /// Pass `--offline` to Nix.
    pub offline: bool,
    /// Push the secrets repo at the end: `Some(true)` `--push`, `Some(false)`
    /// `--no-push`, `None` as `git config secrets.push` says.
    pub push: Option<bool>,
}

/// The secrets repo of one change, locked against other git-secrets commands for as
/// long as this lives.
pub struct Transaction {
    /// Where things are.
    pub layout: Layout,
    /// The inner (secrets) repo.
    pub inner: Repo,
    _lock: RepoLock,
}

impl Transaction {
    /// Finds the inner repo and takes its lock, waiting (with a status line) while
    /// another command holds it; then removes temp files a killed writer left.
    pub fn open(layout: Layout, progress: &dyn Progress) -> Result<Transaction> {
        let inner = wiring::inner_repo(&layout)?;
        let lock = RepoLock::acquire(inner.git_dir(), timeout_from_env(), || {
            progress.status(&format!(
                "waiting for another git-secrets command to finish in {} …",
                display_path(inner.root(), layout.root()).display()
            ))
        })?;
        // A command killed while Nix rewrote flake.lock left it half-written.
        if crate::nix::lock::recover(layout.root(), layout.parent.git_dir())? {
            progress.status(
                "restored flake.lock: a git-secrets command was killed while Nix rewrote it",
            );
        }
        // Before anything is written: a change made on a HEAD behind or beside the lock
        // could only be locked by moving the lock backwards or sideways.
        if let (Some(input), Some(_)) = (
            wiring::lock::input_name(&layout).ok().flatten(),
            inner.head()?.commit(),
        ) {
            wiring::lock::check_direction(&layout, &inner, &input)?;
        }
        // A command killed mid-write leaves its temp file; we hold the lock now.
        for dir in [inner.root().to_path_buf(), layout.secrets_subdir()] {
            crate::atomic::remove_stale_temps(&dir);
        }
        Ok(Transaction {
            layout,
            inner,
            _lock: lock,
        })
    }

    /// `path` as the user sees it: relative to the parent root when inside.
    pub fn shown(&self, path: &Path) -> PathBuf {
        display_path(path, self.layout.root())
    }

    /// Which of `paths` differ from the inner HEAD (modified, staged, untracked or
    /// deleted), in the order given.
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

    /// Refuses to go on when the inner repo has staged changes other than `ours`:
    /// `git commit --only` would leave them, but the user should know.
    pub fn check_no_foreign_staged(&self, ours: &[&Path]) -> Result<()> {
        let inner = &self.inner;
        let ours: Vec<String> = ours
            .iter()
            .filter_map(|p| inner.rela_path(p).ok())
            .collect();
        let foreign: Vec<String> = inner
            .staged_paths()?
            .into_iter()
            .filter(|p| !ours.contains(p))
            .collect();
        if foreign.is_empty() {
            return Ok(());
        }
        Err(Error::new(format!(
            "the secrets repo has other staged changes: {}",
            foreign.join(", ")
        ))
        .hint({
            // Names are quoted: hints are pasted into a shell.
            let root = quote::shell(&inner.root().display().to_string()).into_owned();
            let files: Vec<String> = foreign
                .iter()
                .map(|f| quote::shell(f).into_owned())
                .collect();
            format!(
                "commit or unstage them first: git -C {root} commit, or git -C {root} restore --staged -- {}",
                files.join(" ")
            )
        }))
    }

    /// Commits whichever of `paths` differ from HEAD, then relocks and verifies,
    /// as far as `opts` allow; when it stops early, the hints say what is left.
    ///
    /// Each step done is a [`Progress::step`] (a `✓` line under `--verbose`); at
    /// the end one line sums them up, `✓ MESSAGE: committed …, locked …`, and then
    /// come the hints (what is left to do after what was done).
    pub fn finish(
        &self,
        paths: &[PathBuf],
        message: &str,
        opts: &Options,
        progress: &dyn Progress,
    ) -> Result<()> {
        let steps = Summary::new(progress);
        let result = match self.commit(paths, message, opts.no_commit, &steps) {
            Ok(Committed::Yes) => self.relock(opts, &steps),
            other => other.map(drop),
        };
        steps.close(message, result.is_ok());
        result
    }

    /// The first step of [`Transaction::finish`]: commits whichever of `paths` differ
    /// from HEAD, or with `no_commit` says what is left to do and stops the change.
    fn commit(
        &self,
        paths: &[PathBuf],
        message: &str,
        no_commit: bool,
        progress: &dyn Progress,
    ) -> Result<Committed> {
        crate::failpoint::hit("change.before-commit")?;
        let dir = self.shown(self.inner.root());
        let pending = self.pending(paths)?;
        let rel: Vec<String> = pending
            .iter()
            .map(|p| self.inner.rela_path(p))
            .collect::<Result<_>>()?;
        if no_commit {
            if pending.is_empty() {
                progress.status("nothing to commit: the secrets repo already has it");
            } else {
                progress.status(&format!(
                    "written, not committed (--no-commit): {}",
                    rel.join(", ")
                ));
                progress.hint(&format!(
                    "Nix sees only committed files; commit with: git -C {} commit -m {} -- {}",
                    quote::shell(&dir.display().to_string()),
                    quote::shell(message),
                    rel.iter()
                        .map(|r| quote::shell(r))
                        .collect::<Vec<_>>()
                        .join(" ")
                ));
            }
            progress.hint(&format!("then relock: {}", self.lock_command_hint()));
            return Ok(Committed::No);
        }
        if pending.is_empty() {
            progress.ok("already committed in the secrets repo");
        } else {
            let refs: Vec<&Path> = pending.iter().map(PathBuf::as_path).collect();
            let id = self.inner.commit_paths(&refs, message).map_err(|e| {
                e.hint(format!(
                    "{} written but not committed; fix the cause and run this command again to finish",
                    rel.join(", ")
                ))
            })?;
            progress.ok(&format!(
                "committed {} in {}",
                short(&id.to_string()),
                dir.display()
            ));
        }
        crate::failpoint::hit("change.after-commit")?;
        Ok(Committed::Yes)
    }

    /// The steps of [`Transaction::finish`] after the commit: relocks the parent's input
    /// to the inner HEAD and verifies it, commits `flake.lock` and pushes as `opts` ask.
    fn relock(&self, opts: &Options, progress: &dyn Progress) -> Result<()> {
        let dir = self.shown(self.inner.root());
        if opts.no_lock {
            progress.ok("not relocked (--no-lock)");
            progress.hint(&format!(
                "Nix still uses the old secrets until you relock: {}",
                self.lock_command_hint()
            ));
            return self.push_if_asked(opts, progress);
        }
        let Some(input) = wiring::lock::input_name(&self.layout)? else {
            let want = wiring::flake_input::url(&self.layout);
            progress.warn(&format!(
                "no input of {} points at {}; nothing to relock",
                wiring::flake_input::flake_path(&self.layout).display(),
                wiring::dir_rel(&self.layout)
            ));
            progress.hint(&format!(
                "add one (inputs.<name>.url = \"{want}\") or name it: git config secrets.input NAME"
            ));
            return self.push_if_asked(opts, progress);
        };
        progress.detail(&format!("relocking {input}"));
        let outcome = wiring::lock::apply(&self.layout, &input, opts.offline).map_err(|e| {
            e.hint(format!(
                "the secret is committed in {}; fix the lock, then run `{}` (or this command again)",
                dir.display(),
                self.lock_command_hint()
            ))
        })?;
        for w in &outcome.warnings {
            progress.warn(&format!("nix: {w}"));
        }
        progress.detail(&format!("ran nix {}", outcome.args.join(" ")));
        progress.ok(&describe(&outcome));
        crate::failpoint::hit("change.after-lock")?;
        self.finish_parent(&input, &outcome, opts, progress)?;
        self.push_if_asked(opts, progress)
    }

    /// `--push`, or `git config secrets.push true` without `--no-push`: pushes the
    /// secrets repo (and, with `commit_parent`, the parent too).
    fn push_if_asked(&self, opts: &Options, progress: &dyn Progress) -> Result<()> {
        let wanted = opts
            .push
            .unwrap_or_else(|| crate::change::sync::push_by_default(&self.layout, &self.inner));
        if !wanted {
            return Ok(());
        }
        push::push_then_parent(&self.layout, &self.inner, opts.commit_parent, progress).map_err(
            |e| e.hint("the change is committed and locked; push later with: git secrets push"),
        )
    }

    /// Commits `flake.lock` with `commit_parent`, else says it is left to commit (when
    /// it differs from the parent's HEAD).
    fn finish_parent(
        &self,
        input: &str,
        outcome: &crate::nix::LockOutcome,
        opts: &Options,
        progress: &dyn Progress,
    ) -> Result<()> {
        let rev = outcome.locked.rev.as_deref();
        let parent = &self.layout.parent;
        let lock = wiring::lock::lock_path(&self.layout);
        let st = parent.status_under(Path::new(FLAKE_LOCK))?;
        if st.is_clean() {
            return Ok(());
        }
        let rev = rev.map(short).unwrap_or("?");
        let message = format!("flake.lock: lock {input} to {rev}");
        if opts.commit_parent {
            let id = parent.commit_paths(&[lock.as_path()], &message)?;
            progress.ok(&format!(
                "committed {} in the parent: {message}",
                short(&id.to_string())
            ));
        } else {
            // A lock an earlier command moved is left to commit as well.
            let what = if outcome.changed {
                "flake.lock changed"
            } else {
                "flake.lock has changes the parent has not committed"
            };
            progress.hint(&format!(
                "{what}; commit it: git commit -m {} -- flake.lock (or pass --commit-parent)",
                quote::shell(&message)
            ));
        }
        Ok(())
    }

    /// The Nix command that relocks the input by hand, for hints.
    fn lock_command_hint(&self) -> String {
        let input = wiring::lock::input_name(&self.layout)
            .ok()
            .flatten()
            .unwrap_or_else(|| "<input>".into());
        wiring::lock::command_hint(&self.layout, &input)
    }
}

/// Whether the commit step of [`Transaction::finish`] left the change to go on.
enum Committed {
    /// HEAD has the files (committed now or before): relock next.
    Yes,
    /// `--no-commit`: the change stops after writing.
    No,
}

/// The progress sink of [`Transaction::finish`]: every `ok` becomes a
/// [`Progress::step`] of the sink it wraps and a part of the summary line, and
/// hints wait until that line is out.
struct Summary<'a> {
    inner: &'a dyn Progress,
    done: std::cell::RefCell<Vec<String>>,
    hints: std::cell::RefCell<Vec<String>>,
}

impl<'a> Summary<'a> {
    fn new(inner: &'a dyn Progress) -> Self {
        Summary {
            inner,
            done: Default::default(),
            hints: Default::default(),
        }
    }

    /// Prints `✓ MESSAGE: step, step, …` (when it succeeded and did something),
    /// then the hints held back.
    fn close(self, message: &str, succeeded: bool) {
        let done = self.done.into_inner();
        if succeeded && !done.is_empty() {
            // The subject line: a rekey's message has a body naming each recipient.
            let subject = message.lines().next().unwrap_or(message);
            self.inner.ok(&format!("{subject}: {}", done.join(", ")));
        }
        for hint in self.hints.into_inner() {
            self.inner.hint(&hint);
        }
    }
}

impl Progress for Summary<'_> {
    fn ok(&self, msg: &str) {
        self.inner.step(msg);
        self.done.borrow_mut().push(msg.to_string());
    }
    fn status(&self, msg: &str) {
        self.inner.status(msg)
    }
    fn warn(&self, msg: &str) {
        self.inner.warn(msg)
    }
    fn hint(&self, msg: &str) {
        self.hints.borrow_mut().push(msg.to_string());
    }
    fn detail(&self, msg: &str) {
        self.inner.detail(msg)
    }
    fn step(&self, msg: &str) {
        self.ok(msg)
    }
}
