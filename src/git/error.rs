//! What can go wrong in the git plumbing, as data: which repository or command failed
//! and how. `crate::hints` words the advice, in one place.

use std::path::PathBuf;

use crate::error::Error;

/// A failure of the git plumbing.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// No repository at or above `start`.
    #[error("not in a git repository: {} (nor any parent directory)", start.display())]
    NotARepo {
        start: PathBuf,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    #[error("{} is a bare repository; git-secrets needs a work tree", git_dir.display())]
    Bare { git_dir: PathBuf },
    /// The `git` binary could not be started (`missing`: it is not installed).
    #[error("cannot run git: {detail}")]
    CannotRun { detail: String, missing: bool },
    /// A git command failed in `root`; `inner` has git's own words.
    #[error("{inner}")]
    CommandFailed { inner: Box<Error>, root: PathBuf },
    /// A git command whose output went to the terminal failed in `root`.
    #[error("`{shown}` failed")]
    InteractiveCommandFailed { shown: String, root: PathBuf },
    /// git found a `.lock` file left by a git process that was killed (or still runs).
    #[error("{message}")]
    StaleLock { message: String, lock: String },
    #[error("cannot clone into {}: it exists and is not empty", dest.display())]
    CloneTargetNotEmpty { dest: PathBuf },
    #[error("{0}")]
    CloneFailed(Box<Error>),
    /// `rev-list A --not B` failed (an end of the range is missing).
    #[error("{0}")]
    RangeWalkFailed(Box<Error>),
    #[error("{inner}")]
    FetchFailed {
        inner: Box<Error>,
        root: PathBuf,
        remote: String,
    },
    /// A command against a remote ran longer than its timeout and was stopped.
    #[error("`{shown}` did not finish within {seconds}s; stopped it")]
    TimedOut { shown: String, seconds: f64 },
    /// `git rebase` failed (conflicting values when `conflicted` is not empty); it was
    /// aborted when `aborted`.
    #[error("{}", rebase_message(onto, said, conflicted, detail))]
    RebaseFailed {
        onto: String,
        said: String,
        conflicted: Vec<String>,
        detail: Vec<String>,
        aborted: bool,
        root: PathBuf,
    },
}

fn rebase_message(onto: &str, said: &str, conflicted: &[String], detail: &[String]) -> String {
    if conflicted.is_empty() {
        format!("`git rebase {onto}` failed: {}", said.trim())
    } else {
        format!(
            "the same values changed on both sides in: {}\n{}",
            conflicted.join(", "),
            detail.join("\n")
        )
    }
}
