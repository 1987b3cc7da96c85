//! The parent's `flake.lock` locks the secrets input to the inner repo's HEAD commit.
//! Nix sees only what the inner repo has committed, and a passing `nix eval` proves
//! nothing (a narHash already in the store is never re-read): so the check compares
//! commit ids, and relocking verifies the rev Nix wrote.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::git::Repo;
use crate::layout::Layout;
use crate::lock_direction::Direction;
use crate::nix::{FlakeLock, LockCommand, LockOutcome, LockRequest, LockedInput, Nix};

/// Where the lock stands.
#[derive(Debug)]
pub enum State {
    /// No flake input for the secrets dir: nothing to lock.
    NoInput,
    /// The secrets dir is not a git repo.
    NoInner,
    /// The inner repo has no commits.
    NoCommits,
    /// No `flake.lock` (or no entry for the input).
    Missing {
        /// The input name.
        input: String,
    },
    /// `flake.lock` cannot be read.
    Unreadable {
        /// The input name.
        input: String,
        /// Why.
        error: crate::Error,
    },
    /// `flake.lock` names another commit (or none); whether relocking may move it
    /// there is [`check_direction`]'s call.
    Stale {
        /// The input name.
        input: String,
        /// The rev locked now, if any.
        locked: Option<String>,
        /// What is wrong, from [`FlakeLock::verify`].
        reason: crate::Error,
    },
    /// Locked to the inner HEAD.
    Fresh {
        /// The input name.
        input: String,
        /// What it is locked to.
        locked: LockedInput,
    },
}

/// The parent's lock file.
pub fn lock_path(layout: &Layout) -> PathBuf {
    layout.root().join(crate::nix::lock::FLAKE_LOCK)
}

/// The flake input that points at the secrets dir: `--input`/`secrets.input`, else the
/// input of the parent's `flake.nix` whose url names the dir.
pub fn input_name(layout: &Layout) -> Result<Option<String>> {
    if let Some(i) = &layout.input {
        return Ok(Some(i.clone()));
    }
    let Some(src) = super::flake_input::read_flake(layout)? else {
        return Ok(None);
    };
    Ok(super::flake_input::find(layout, &src)?.map(|i| i.name))
}

/// Compares `flake.lock` with the inner HEAD.
pub fn inspect(layout: &Layout) -> Result<State> {
    let Some(input) = input_name(layout)? else {
        return Ok(State::NoInput);
    };
    let Some(inner) = layout.inner()? else {
        return Ok(State::NoInner);
    };
    let Some(head) = inner.head().ok().and_then(|h| h.commit()) else {
        return Ok(State::NoCommits);
    };
    Ok(freshness(&lock_path(layout), input, &head.to_string()))
}

/// The state of `input` in the lock file at `path` against the commit `head`.
pub fn freshness(path: &Path, input: String, head: &str) -> State {
    if !path.is_file() {
        return State::Missing { input };
    }
    let lock = match FlakeLock::read(path) {
        Ok(l) => l,
        Err(error) => return State::Unreadable { input, error },
    };
    match lock.verify(&input, head) {
        Ok(locked) => State::Fresh { input, locked },
        Err(reason) => State::Stale {
            locked: lock.input(&input).ok().flatten().and_then(|l| l.rev),
            input,
            reason,
        },
    }
}

/// The rev the parent's `flake.lock` locks `input` to now; `None` when there is no
/// `flake.lock`, no such input in it, or no rev (a dirty lock).
pub fn locked_rev(layout: &Layout, input: &str) -> Result<Option<String>> {
    let path = lock_path(layout);
    if !path.is_file() {
        return Ok(None);
    }
    let lock = FlakeLock::read(&path)?;
    Ok(lock.input(input)?.and_then(|l| l.rev))
}

/// Refuses, changing nothing, unless locking `input` to the inner HEAD moves the lock
/// forward along the inner history (or nothing is locked yet): a lock that went back
/// would publish older, perhaps revoked, secrets; one that went sideways would drop
/// someone's change. See [`crate::lock_direction`].
pub fn check_direction(layout: &Layout, inner: &Repo, input: &str) -> Result<Direction> {
    let head = super::inner_head(inner)?;
    let locked = locked_rev(layout, input)?;
    crate::lock_direction::check(inner, input, locked.as_deref(), &head)
}

/// Locks `input` to the inner HEAD and verifies it (Nix may exit 0 on a failed update);
/// the previous `flake.lock` is put back on any failure. Refuses to move the lock
/// backwards or sideways ([`check_direction`]).
pub fn apply(layout: &Layout, input: &str, offline: bool) -> Result<LockOutcome> {
    // A flake.lock a killed Nix left half-written goes back first, so the direction
    // check reads a whole one.
    crate::nix::lock::recover(layout.root(), layout.parent.git_dir())?;
    let inner = super::inner_repo(layout)?;
    check_direction(layout, &inner, input)?;
    apply_unchecked(layout, input, offline)
}

/// [`apply`] without the direction check, for `pull` after it rebased the local commit
/// the lock named onto the remote's: the lock moves to that commit's replayed
/// successor, which carries the same change.
pub fn apply_unchecked(layout: &Layout, input: &str, offline: bool) -> Result<LockOutcome> {
    let inner = super::inner_repo(layout)?;
    let rev = super::inner_head(&inner)?;
    let nix = Nix::discover()?;
    nix.lock(&LockRequest {
        parent_root: layout.root(),
        parent_git_dir: layout.parent.git_dir(),
        input,
        expected_rev: &rev,
        offline,
    })
}

/// The lock command the installed Nix gets (2.18 and older differ), for hints.
pub fn command() -> LockCommand {
    Nix::discover()
        .and_then(|n| n.version())
        .map(|v| v.lock_command())
        .unwrap_or(LockCommand::FlakeUpdate)
}

/// The command that relocks `input` by hand, run from the parent root.
pub fn command_hint(layout: &Layout, input: &str) -> String {
    // The input's name and the root come from files a pull request may change:
    // quoted, so the hint stays one command when pasted into a shell.
    let args = Nix::discover()
        .and_then(|n| n.version())
        .map(|v| crate::quote::command_line(&v.lock_command().args(input)))
        .unwrap_or_else(|_| format!("flake lock --update-input {}", crate::quote::shell(input)));
    format!(
        "(cd {} && nix {args})",
        crate::quote::shell(&layout.root().display().to_string())
    )
}
