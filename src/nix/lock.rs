//! The lock step: relock the secrets input in the parent's `flake.lock` and
//! prove the result points at the inner repo's HEAD commit.
//!
//! For the user this is all or nothing: the previous `flake.lock` bytes are
//! kept, and put back when Nix fails or when the lock it wrote does not hold
//! the expected commit (Nix 2.8 happily writes a lock without `rev` for a
//! dirty tree, and exits 0 for an input name it does not know).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::error::{Error, Result};
use crate::nix::error::{LockFailure, NixError};
use crate::nix::flake_lock::{short, FlakeLock, LockedInput};
use crate::nix::version::{LockCommand, Nix, NixVersion};

/// The parent's lock file name.
pub const FLAKE_LOCK: &str = "flake.lock";

/// What a successful lock did.
#[derive(Debug, Clone)]
pub struct LockOutcome {
    /// The Nix that ran.
    pub version: NixVersion,
    /// The command it ran (`nix flake lock --update-input`, …).
    pub command: LockCommand,
    /// The full argument list after the program name, for `--verbose`.
    pub args: Vec<String>,
    /// What the input is locked to now (checked against the expected rev).
    pub locked: LockedInput,
    /// The rev locked before, when there was a lock with this input.
    pub previous_rev: Option<String>,
    /// Whether `flake.lock` changed on disk.
    pub changed: bool,
    /// Whether `flake.lock` did not exist before.
    pub created: bool,
    /// Whether we added `flake.lock` to the parent's index (intent to add)
    /// so Nix, which reads the parent through git, can see it.
    pub intent_added: bool,
    /// Nix's `warning:` lines, minus the "Git tree … is dirty" noise about the
    /// parent (its flake.lock is about to change; that is expected).
    pub warnings: Vec<String>,
}

/// What to lock.
#[derive(Debug, Clone)]
pub struct LockRequest<'a> {
    /// The parent flake's root (where `flake.nix` and `flake.lock` live);
    /// Nix runs here because relative `git+file:` urls resolve against the
    /// current directory.
    pub parent_root: &'a Path,
    /// The parent's git dir for this work tree (`.git`, or for a linked worktree or a
    /// submodule the dir its `.git` file names), absolute or relative to `parent_root`
    /// as `git rev-parse --git-dir` prints it: the journal of the previous `flake.lock`
    /// is kept there.
    pub parent_git_dir: &'a Path,
    /// The flake input name (`kubenix-secrets`).
    pub input: &'a str,
    /// The inner repo's HEAD commit the lock must end up at. Commit first:
    /// Nix sees only committed files (untracked ones silently not at all),
    /// so a lock can match HEAD and still miss a new secret.
    pub expected_rev: &'a str,
    /// Pass `--offline` to Nix.
    pub offline: bool,
}

impl Nix {
    /// Relocks `req.input` in the parent's `flake.lock` and verifies it,
    /// restoring the previous `flake.lock` (bytes and index entry) when
    /// anything fails.
    pub fn lock(&self, req: &LockRequest<'_>) -> Result<LockOutcome> {
        let version = self.version()?;
        let lock_path = req.parent_root.join(FLAKE_LOCK);
        recover(req.parent_root, req.parent_git_dir)?;
        let before = read_optional(&lock_path)?;
        let was_tracked = self.is_tracked(req.parent_root)?;
        // Nix truncates flake.lock and writes it in place: killed in between (with
        // us), it leaves a half file. The journal keeps the previous bytes until we
        // know how it ended; `recover` puts them back after such a crash.
        let journal = journal_path(req.parent_root, req.parent_git_dir);
        crate::atomic::write(&journal, before.as_deref().unwrap_or_default(), 0o644)?;
        let result = self.lock_journaled(req, version, &lock_path, before, was_tracked);
        let _ = std::fs::remove_file(&journal);
        result
    }

    fn lock_journaled(
        &self,
        req: &LockRequest<'_>,
        version: NixVersion,
        lock_path: &Path,
        before: Option<Vec<u8>>,
        was_tracked: bool,
    ) -> Result<LockOutcome> {
        let command = version.lock_command();
        let previous_rev = before
            .as_deref()
            .and_then(|b| FlakeLock::parse(b).ok())
            .and_then(|l| l.input(req.input).ok().flatten())
            .and_then(|l| l.rev);

        let mut args = command.args(req.input);
        if req.offline {
            args.push("--offline".to_string());
        }
        let result = self.run_lock(req, &args).and_then(|warnings| {
            let after = read_optional(lock_path)?.ok_or_else(|| NixError::LockWroteNothing {
                command: command.to_string(),
                input: req.input.to_string(),
            })?;
            let locked = FlakeLock::parse(&after)?.verify(req.input, req.expected_rev)?;
            Ok((warnings, after, locked))
        });
        let (warnings, after, locked) = match result {
            Ok(ok) => ok,
            Err(err) => {
                crate::failpoint::hit("lock.before-restore")?;
                let restored =
                    self.restore(req.parent_root, lock_path, before.as_deref(), was_tracked);
                return Err(NixError::LockRolledBack {
                    inner: Box::new(err),
                    restore_error: restored.err().map(|e| e.message),
                }
                .into());
            }
        };

        // Nix reads the parent flake through git: an untracked flake.lock is
        // invisible to it, and the next `nix eval` would re-lock from scratch.
        // Nix 2.8 already runs this itself for a new lock file; newer ones
        // may not, so we make sure.
        let intent_added = if self.is_tracked(req.parent_root)? {
            false
        } else {
            self.git(
                req.parent_root,
                &["add", "--intent-to-add", "--", FLAKE_LOCK],
            )?;
            true
        };

        Ok(LockOutcome {
            version,
            command,
            args,
            locked,
            previous_rev,
            changed: before.as_deref() != Some(after.as_slice()),
            created: before.is_none(),
            intent_added,
            warnings,
        })
    }

    /// Runs the lock command; returns Nix's warnings, or an error that
    /// carries its stderr and a hint for the failures we know.
    fn run_lock(&self, req: &LockRequest<'_>, args: &[String]) -> Result<Vec<String>> {
        let mut cmd = self.command();
        cmd.args(args)
            .current_dir(req.parent_root)
            .stdin(Stdio::null());
        let out = cmd.output().map_err(|e| NixError::CannotRun {
            program: self.program().to_path_buf(),
            detail: e.to_string(),
        })?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Nix ≤ 2.18 only warns about an unknown --update-input and exits 0: a failure
        // all the same, said now rather than later as "no input in flake.lock".
        let unknown_input = LockFailure::recognise(&stderr) == Some(LockFailure::NoSuchInput);
        if !out.status.success() || unknown_input {
            let shown = format!("nix {}", args.join(" "));
            return Err(explain_failure(&shown, out.status, req, &stderr));
        }
        Ok(warnings(&stderr))
    }

    /// Puts the previous `flake.lock` back (or removes a new one) and undoes
    /// an index entry that did not exist before.
    fn restore(
        &self,
        root: &Path,
        lock_path: &Path,
        before: Option<&[u8]>,
        was_tracked: bool,
    ) -> Result<()> {
        match before {
            Some(bytes) => crate::atomic::write(lock_path, bytes, 0o644)?,
            None => match std::fs::remove_file(lock_path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove", lock_path, e)),
            },
        }
        if !was_tracked && self.is_tracked(root)? {
            // Nix adds a new flake.lock with intent-to-add; drop that entry
            // again so the parent's index is as it was.
            self.git(
                root,
                &[
                    "rm",
                    "--cached",
                    "--quiet",
                    "--ignore-unmatch",
                    "--",
                    FLAKE_LOCK,
                ],
            )?;
        }
        Ok(())
    }

    /// Whether `flake.lock` is in the parent's index.
    fn is_tracked(&self, root: &Path) -> Result<bool> {
        let out = self.git_output(root, &["ls-files", "--cached", "--", FLAKE_LOCK])?;
        Ok(!out.trim().is_empty())
    }

    fn git(&self, root: &Path, args: &[&str]) -> Result<()> {
        self.git_output(root, args).map(|_| ())
    }

    /// Runs `git -C root args…` (through `git/`, with its env clean-up) with the same
    /// env overrides as Nix.
    fn git_output(&self, root: &Path, args: &[&str]) -> Result<String> {
        crate::git::run_in(root, args, self.envs())
    }
}

/// Nix's `warning:` lines, without the parent's "Git tree … is dirty" (the
/// lock itself makes the parent dirty) but keeping the inner repo's.
fn warnings(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.trim().strip_prefix("warning: "))
        .filter(|w| !(w.starts_with("Git tree '/") && w.ends_with("' is dirty")))
        .filter(|w| !w.starts_with("updating lock file") && !w.starts_with("creating lock file"))
        .map(str::to_string)
        .collect()
}

/// An error for a failed lock: Nix's own stderr (trimmed to its error lines)
/// and a hint for the failures we have seen Nix produce.
fn explain_failure(
    shown: &str,
    status: std::process::ExitStatus,
    req: &LockRequest<'_>,
    stderr: &str,
) -> Error {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim_end)
        .filter(|l| {
            !l.is_empty() && !l.starts_with("warning: Git tree") && !l.contains("--show-trace")
        })
        .collect();
    let shown_stderr = if lines.is_empty() {
        "no output".to_string()
    } else {
        lines.join("\n")
    };
    NixError::LockFailed {
        shown: shown.to_string(),
        parent_root: req.parent_root.to_path_buf(),
        exit: if status.success() {
            "exit code 0, with a warning that means it did not lock".to_string()
        } else {
            crate::error::exit_status(status)
        },
        stderr: shown_stderr,
        kind: LockFailure::recognise(stderr),
        network_without_offline: !req.offline && stderr.contains("unable to download"),
    }
    .into()
}

/// Where [`Nix::lock`] keeps the previous `flake.lock` while Nix rewrites it: in the
/// parent's git dir for this work tree (`git rev-parse --git-dir`, not a path built from
/// `.git`, which is a file in a linked worktree or a submodule). Per work tree, not the
/// common dir: each worktree has its own `flake.lock`. Never in the work tree, where
/// `git add -A` would commit it. Empty means there was no `flake.lock`, which Nix never
/// writes empty.
pub fn journal_path(parent_root: &Path, parent_git_dir: &Path) -> PathBuf {
    parent_root
        .join(parent_git_dir)
        .join("git-secrets-flake.lock.prev")
}

/// After a command was killed while Nix rewrote `flake.lock`: when the journal is
/// there and `flake.lock` is not a lock file (half-written), puts the previous one
/// back; then drops the journal. A complete lock (old or new) is kept. Returns
/// whether it restored. Call it while holding the repo lock.
pub fn recover(parent_root: &Path, parent_git_dir: &Path) -> Result<bool> {
    let journal = journal_path(parent_root, parent_git_dir);
    let Some(previous) = read_optional(&journal)? else {
        return Ok(false);
    };
    let lock_path = parent_root.join(FLAKE_LOCK);
    let current = read_optional(&lock_path)?;
    let complete = current
        .as_deref()
        .is_some_and(|b| FlakeLock::parse(b).is_ok());
    let restore = !complete && (current.is_some() || !previous.is_empty());
    if restore {
        if previous.is_empty() {
            std::fs::remove_file(&lock_path).map_err(|e| Error::io("remove", &lock_path, e))?;
        } else {
            crate::atomic::write(&lock_path, &previous, 0o644)?;
        }
    }
    std::fs::remove_file(&journal).map_err(|e| Error::io("remove", &journal, e))?;
    Ok(restore)
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match std::fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// A one-line description of a lock change, for status output.
pub fn describe(outcome: &LockOutcome) -> String {
    let now = outcome.locked.rev.as_deref().map(short).unwrap_or("?");
    match (&outcome.previous_rev, outcome.changed) {
        (Some(prev), true) if prev.as_str() != outcome.locked.rev.as_deref().unwrap_or("") => {
            format!("locked {} {} → {}", outcome.locked.input, short(prev), now)
        }
        (_, false) => format!("{} already locked to {}", outcome.locked.input, now),
        _ => format!("locked {} to {}", outcome.locked.input, now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_drop_parent_dirt_and_keep_the_inner_repo() {
        let stderr = "warning: Git tree './secrets' is dirty\n\
                      warning: updating lock file '/p/flake.lock':\n\
                      • Updated input 's':\n\
                      warning: Git tree '/p' is dirty\n";
        assert_eq!(warnings(stderr), ["Git tree './secrets' is dirty"]);
    }

    #[test]
    fn describe_says_what_moved() {
        let version = NixVersion::parse("nix (Nix) 2.8.0").unwrap();
        let locked = LockedInput {
            input: "s".into(),
            node: "s".into(),
            rev: Some("bbbbbbbbbbbbbbbbbbbb".into()),
            nar_hash: Some("sha256-x".into()),
            last_modified: None,
            rev_count: None,
        };
        let mut o = LockOutcome {
            command: version.lock_command(),
            version,
            args: vec![],
            locked,
            previous_rev: Some("aaaaaaaaaaaaaaaaaaaa".into()),
            changed: true,
            created: false,
            intent_added: false,
            warnings: vec![],
        };
        assert_eq!(describe(&o), "locked s aaaaaaaaaaaa → bbbbbbbbbbbb");
        o.changed = false;
        assert_eq!(describe(&o), "s already locked to bbbbbbbbbbbb");
        o.changed = true;
        o.previous_rev = None;
        assert_eq!(describe(&o), "locked s to bbbbbbbbbbbb");
    }

    #[test]
    fn failures_carry_nix_stderr_and_known_advice() {
        let req = LockRequest {
            parent_root: Path::new("/p"),
            parent_git_dir: Path::new("/p/.git"),
            input: "s",
            expected_rev: "abc",
            offline: false,
        };
        use std::os::unix::process::ExitStatusExt;
        let failed = std::process::ExitStatus::from_raw(1 << 8);
        let stderr = "warning: Git tree '/p' is dirty\n\
                      error: getting status of '/nix/store/az5m-source/secrets': No such file or directory\n\
                      (use '--show-trace' to show detailed location information)\n";
        let err = explain_failure("nix flake lock --update-input s", failed, &req, stderr);
        err.assert_says("error: getting status of");
        assert!(!err.message.contains("show-trace"));
        err.assert_says("(exit code 1)");
        assert!(err.hints[0].contains("git+file:"), "{:?}", err.hints);

        let stderr = "warning: Git tree './secrets' is dirty\n\
                      error: getting status of '/nix/store/0ccn-source/flake.nix': No such file or directory\n";
        let err = explain_failure("nix flake lock --update-input s", failed, &req, stderr);
        assert!(
            err.hints[0].contains("no committed flake.nix"),
            "{:?}",
            err.hints
        );

        let err = explain_failure("nix x", failed, &req, "error: something new\n");
        assert!(err.hints[0].contains("run `nix x`"), "{:?}", err.hints);
    }
}
