//! What can go wrong in the Nix plumbing, as data: which step failed and what the
//! porcelain needs to say what to do (`crate::hints` words the advice, in one place).

use std::path::PathBuf;

use crate::error::Error;

/// A failure of the Nix plumbing (finding `nix`, locking, reading `flake.lock` and
/// `flake.nix`, editing `flake.nix`).
#[derive(Debug, thiserror::Error)]
pub enum NixError {
    /// `nix` could not be started at all.
    #[error("cannot run {}: {detail}", program.display())]
    CannotRun { program: PathBuf, detail: String },
    /// No `nix` on PATH and no `GIT_SECRETS_NIX`.
    #[error("nix is not installed (no `nix` on PATH)")]
    NotInstalled,
    #[error("cannot read a version number from `nix --version`: {line:?}")]
    UnreadableVersion { line: String },
    #[error("`{} --version` failed ({status}): {stderr}", program.display())]
    VersionFailed {
        program: PathBuf,
        status: String,
        stderr: String,
    },
    /// The lock command failed; `kind` is what Nix's stderr says went wrong, when we know.
    #[error("`{shown}` failed in {} ({exit}):\n{stderr}", parent_root.display())]
    LockFailed {
        shown: String,
        parent_root: PathBuf,
        /// How Nix ended ("exit code 1", "killed by signal 9").
        exit: String,
        /// Nix's stderr, trimmed to its error lines.
        stderr: String,
        kind: Option<LockFailure>,
        /// Nix tried the network and `--offline` was not given.
        network_without_offline: bool,
    },
    #[error("`{command} {input}` exited 0 but wrote no flake.lock")]
    LockWroteNothing { command: String, input: String },
    /// A lock step failed and flake.lock was put back as it was (or could not be:
    /// `restore_error`).
    #[error("{inner}")]
    LockRolledBack {
        inner: Box<Error>,
        restore_error: Option<String>,
    },
    #[error("flake.lock is not a lock file Nix wrote (cannot parse it)")]
    UnparsableLock(#[source] serde_json::Error),
    #[error("flake.lock names root node {root:?}, which it does not contain")]
    LockWithoutRoot { root: String },
    #[error("flake.lock is inconsistent: {0}")]
    InconsistentLock(String),
    #[error("flake.lock has no input {input:?}")]
    InputNotLocked { input: String },
    /// Nix saw a dirty inner repo and locked it without a commit id.
    #[error("flake.lock locks input {input:?} without a commit id (Nix saw a dirty secrets repo)")]
    LockedWithoutRev { input: String },
    #[error("flake.lock locks input {input:?} to {locked}, but the secrets repo is at {expected}")]
    LockedToOtherRev {
        input: String,
        locked: String,
        expected: String,
    },
    #[error("flake.lock locks input {input:?} without a narHash")]
    LockedWithoutNarHash { input: String },
    #[error("flake.nix does not parse: line {line}, column {column}: {what}")]
    FlakeSyntax {
        line: usize,
        column: usize,
        what: String,
    },
    #[error(
        "flake.nix does not parse: line {line}, column {column}: lists nested more than {max} deep"
    )]
    FlakeListsTooDeep {
        line: usize,
        column: usize,
        max: usize,
    },
    /// The input's url is not a string literal we can rewrite; `line` is the line to write.
    #[error("flake input {input:?} has no literal url to rewrite")]
    NoLiteralUrl { input: String, line: String },
    #[error("flake.nix changed while we were editing it")]
    ChangedWhileEditing,
    #[error("{0:?} cannot be a flake input name")]
    BadInputName(String),
    #[error("flake.nix already has an input {0:?}")]
    InputExists(String),
    /// flake.nix has a shape we do not edit; `line` is the line to add by hand.
    #[error("cannot add the flake input {name:?} to flake.nix safely: {why}")]
    CannotAddInput {
        name: String,
        why: String,
        line: String,
    },
}

/// A lock failure Nix's stderr lets us recognise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockFailure {
    /// Nix 2.8 when the inner repo has no commit holding flake.nix.
    NoCommittedFlakeNix,
    /// Nix 2.8 for `path:./secrets` or a bare `./secrets`.
    ThroughParentIndex,
    /// Newer Nix for the same mistake.
    NotTrackedByGit,
    /// Nix 2.8 with no secrets dir: it treats `file:./secrets` as a remote.
    SecretsDirMissing,
    SecretsDirNotARepo,
    /// The secrets flake has an input the parent does not `follows`.
    NeedsNetwork,
    MissingAttribute,
    /// This Nix does not know the lock command we chose for its version.
    UnexpectedLockCommand,
    /// flake.nix has no input of the name we lock (Nix ≤ 2.18 only warns, and exits 0).
    NoSuchInput,
}

impl LockFailure {
    /// Recognises a failure from Nix's stderr (the first known text wins).
    pub fn recognise(stderr: &str) -> Option<LockFailure> {
        use LockFailure::*;
        const KNOWN: &[(&str, LockFailure)] = &[
            (
                "-source/flake.nix': No such file or directory",
                NoCommittedFlakeNix,
            ),
            ("getting status of '/nix/store/", ThroughParentIndex),
            ("is not tracked by Git", NotTrackedByGit),
            ("Could not resolve hostname file", SecretsDirMissing),
            ("does not appear to be a git repository", SecretsDirNotARepo),
            ("unable to download", NeedsNetwork),
            ("does not provide attribute", MissingAttribute),
            ("unknown flag '--update-input'", UnexpectedLockCommand),
            ("does not match any input", NoSuchInput),
        ];
        KNOWN
            .iter()
            .find(|(needle, _)| stderr.contains(needle))
            .map(|(_, kind)| *kind)
    }
}

impl NixError {
    /// A usage error (exit 2).
    pub fn is_usage(&self) -> bool {
        matches!(self, NixError::BadInputName(_))
    }
}
