//! doctor: one [`Check`] per concern, each with a stable id, a status, a one-line
//! message, hints with the exact command to run, and optionally a safe [`Fix`].
//!
//! The checks only look; [`fix`] carries out the safe repairs; a [`Report`] renders the
//! result as text or JSON. Nothing here prints: `commands/doctor.rs` talks to the user.
//!
//! Groups: [`parent`] (the public repo and its flake), [`inner`] (the private repo as Nix
//! sees it), [`secrets`] (sops files, keys, the example), [`tools`] (nix, awslabs
//! git-secrets, hooks), [`leaks`] (staged blobs) and [`history`] (the whole history, or a
//! pushed range).

pub mod fix;
pub mod history;
pub mod inner;
pub mod known;
pub mod leaks;
pub mod locks;
mod multi_find;
pub mod parent;
pub mod remote;
pub mod report;
pub mod scanner;
pub mod scene;
pub mod secrets;
pub mod tools;

use std::path::PathBuf;

use crate::error::Error;

pub use report::Report;
pub use scene::{Options, Scene};

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// All good.
    Ok,
    /// Works, but something deserves attention; does not fail doctor.
    Warn,
    /// Broken or leaking; doctor exits 1.
    Fail,
    /// Could not be checked (the reason is in the message).
    Skip,
}

impl Status {
    /// The word used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// A repair doctor may make on its own with `--fix`: none deletes a file of the user's
/// (only git's temporary index lock that no process can own) or rewrites history. The
/// wiring ones are the steps `init` applies ([`crate::wiring`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    /// Append the secrets dir to the parent's `.gitignore` ([`crate::wiring::ignore`]).
    IgnoreDir,
    /// Drop a staged gitlink for the secrets dir ([`crate::wiring::gitlink`]).
    DropGitlink,
    /// `git rm --cached -r` of the secrets dir's files in the parent (the files stay on
    /// disk; [`crate::wiring::tracked`]).
    UntrackDir,
    /// Add the `git+file:` input to `flake.nix` ([`crate::wiring::flake_input`]).
    AddInput,
    /// Rewrite the flake input's url to `git+file:<dir>` ([`crate::wiring::flake_input`]).
    RewriteUrl,
    /// Relock the flake input to the inner HEAD ([`crate::wiring::lock`]).
    Relock,
    /// `chmod 0600` a key file.
    Chmod(PathBuf),
    /// Rekey every secret ([`crate::change::rekey`]; asks first unless `--yes`).
    Rekey,
    /// Remove `next-index-<pid>.lock` files whose git process is gone ([`locks`]).
    RemoveStaleLocks(Vec<PathBuf>),
}

impl Fix {
    /// What the fix does, for the prompt and the log.
    pub fn describe(&self) -> String {
        match self {
            Fix::IgnoreDir => "add the secrets dir to the parent's .gitignore".into(),
            Fix::DropGitlink => {
                "drop the gitlink for the secrets dir from the parent's index (git rm --cached)"
                    .into()
            }
            Fix::UntrackDir => {
                "drop the secrets dir from the parent's index (git rm --cached)".into()
            }
            Fix::AddInput => "add a git+file: input for the secrets dir to flake.nix".into(),
            Fix::RewriteUrl => "point the flake input at git+file:".into(),
            Fix::Relock => "relock the flake input to the secrets repo's HEAD".into(),
            Fix::Chmod(p) => format!("chmod 0600 {}", p.display()),
            Fix::Rekey => "rekey every secret for the recipients .sops.yaml names".into(),
            Fix::RemoveStaleLocks(ps) => format!(
                "remove {} left by a killed git commit",
                count(ps.len(), "lock file", "lock files")
            ),
        }
    }

    /// The order fixes run in, which is `init`'s: the index and flake first, a relock
    /// last (a rekey commits and relocks on its own, and relocking needs a sound
    /// flake.nix).
    fn rank(&self) -> u8 {
        match self {
            Fix::RemoveStaleLocks(_) => 0,
            Fix::UntrackDir => 0,
            Fix::IgnoreDir => 1,
            Fix::DropGitlink => 2,
            Fix::AddInput | Fix::RewriteUrl => 3,
            Fix::Chmod(_) => 4,
            Fix::Rekey => 5,
            Fix::Relock => 6,
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone)]
pub struct Check {
    /// Stable id (`dir.ignored`), for scripts and docs.
    pub id: &'static str,
    /// The outcome.
    pub status: Status,
    /// One line saying what was found.
    pub message: String,
    /// What to do, with the exact command where there is one.
    pub hints: Vec<String>,
    /// A safe repair `--fix` may apply.
    pub fix: Option<Fix>,
}

impl Check {
    fn new(id: &'static str, status: Status, message: impl Into<String>) -> Check {
        Check {
            id,
            status,
            message: message.into(),
            hints: Vec::new(),
            fix: None,
        }
    }

    /// A passing check.
    pub fn ok(id: &'static str, message: impl Into<String>) -> Check {
        Check::new(id, Status::Ok, message)
    }

    /// A warning.
    pub fn warn(id: &'static str, message: impl Into<String>) -> Check {
        Check::new(id, Status::Warn, message)
    }

    /// A failure.
    pub fn fail(id: &'static str, message: impl Into<String>) -> Check {
        Check::new(id, Status::Fail, message)
    }

    /// Not checked, with the reason.
    pub fn skip(id: &'static str, reason: impl Into<String>) -> Check {
        Check::new(id, Status::Skip, reason)
    }

    /// A failure made from an error that stopped the check; its hints carry over.
    pub fn error(id: &'static str, e: &Error) -> Check {
        Check {
            hints: e.hints.clone(),
            ..Check::fail(id, e.to_string())
        }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Check {
        self.hints.push(hint.into());
        self
    }

    /// Adds hints, in order.
    pub fn hints(mut self, hints: impl IntoIterator<Item = String>) -> Check {
        self.hints.extend(hints);
        self
    }

    /// Attaches a safe fix.
    pub fn with_fix(mut self, fix: Fix) -> Check {
        self.fix = Some(fix);
        self
    }
}

/// Every check of a plain `doctor` run, in report order.
pub fn run(scene: &Scene) -> Report {
    // Two `man -w` runs cost tens of ms; they overlap with the other checks.
    let man = std::thread::spawn(tools::man_page);
    let mut checks = parent::checks(scene);
    checks.extend(inner::checks(scene));
    checks.extend(remote::checks(scene));
    checks.extend(secrets::checks(scene));
    checks.push(leaks::allowlist_check(scene));
    checks.extend(tools::checks(scene));
    checks.push(
        man.join().unwrap_or_else(|_| {
            Check::skip("man.page", "the man page lookup stopped unexpectedly")
        }),
    );
    Report { checks }
}

/// The fixes a report offers, each once, in the order they should run.
pub fn planned_fixes(report: &Report) -> Vec<Fix> {
    let mut fixes: Vec<Fix> = Vec::new();
    for c in &report.checks {
        if matches!(c.status, Status::Fail | Status::Warn) {
            if let Some(f) = &c.fix {
                if !fixes.contains(f) {
                    fixes.push(f.clone());
                }
            }
        }
    }
    fixes.sort_by_key(Fix::rank);
    fixes
}

/// The command that drops every trace of `path` (a shell word: quoted where it needs
/// to be) from the history of a repo: what a hint says after "purge it from history:".
pub(crate) fn filter_repo(path: &str) -> String {
    format!("git filter-repo --path {path} --invert-paths")
}

/// Shortens a list for a one-line message: `a, b, c and 4 more`.
pub(crate) fn list(items: &[String], max: usize) -> String {
    if items.len() <= max {
        return items.join(", ");
    }
    format!("{} and {} more", items[..max].join(", "), items.len() - max)
}

/// `items.len()` with the right noun: `1 file`, `3 files`.
pub(crate) fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
