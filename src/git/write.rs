//! Changes to a repository, made by the user's `git` binary.
//!
//! Why not gix: a commit made by git runs the user's hooks, signs when
//! `commit.gpgSign` says so, and takes identity and every other setting from the
//! user's config, exactly as if the user had typed it; gix's `commit` does none of that,
//! and it has no `add`. Clone goes through git too, so transports, credential helpers
//! and `url.<base>.insteadOf` behave as the user knows them.
//!
//! Every command runs as `git -C <root> …` with the `GIT_DIR`-style variables removed:
//! inside a git hook they point at the repository that runs the hook, and would send
//! a commit meant for the inner repo into the parent.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};

use super::{ObjectId, Repo};
use crate::error::{Error, Result};
use crate::git::GitError;

/// Variables git sets for hooks and aliases that override which repository, index or
/// work tree a git command uses.
const REPO_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_PREFIX",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
];

/// Clones `url` into `dest` with `git clone`. `dest` must not exist or be an empty
/// dir. When the clone fails, a `dest` this call created is removed, so a retry starts
/// clean and no half-cloned secrets dir is left in the parent.
pub fn clone(url: &str, dest: &Path) -> Result<()> {
    let existed = dest.exists();
    if existed {
        let empty = std::fs::read_dir(dest)
            .map_err(|e| Error::io("read", dest, e))?
            .next()
            .is_none();
        if !empty {
            return Err(GitError::CloneTargetNotEmpty {
                dest: dest.to_path_buf(),
            }
            .into());
        }
    }
    let mut cmd = command();
    cmd.args(["clone", "--quiet", "--", url]).arg(dest);
    let result = run(cmd, &format!("git clone {url} {}", dest.display()));
    if result.is_err() && !existed && dest.exists() {
        // git removes its own junk on failure; this covers a git killed mid-way.
        // Ignoring a failure here is right: the clone error is the one to report.
        let _ = std::fs::remove_dir_all(dest);
    }
    result
        .map(|_| ())
        .map_err(|e| GitError::CloneFailed(Box::new(e)).into())
}

/// `git init` in `dir` (created when missing) with `main` as the first branch,
/// so a new secrets repo does not depend on the user's `init.defaultBranch`.
pub fn init(dir: &Path) -> Result<Repo> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let mut cmd = command();
    cmd.arg("-C")
        .arg(dir)
        .args(["init", "--quiet", "--initial-branch=main"]);
    run(cmd, &format!("git init {}", dir.display()))?;
    Repo::open(dir)
}

impl Repo {
    /// `git add -- <paths>`: stages the current content of `paths` (new, modified or
    /// deleted).
    pub fn add(&self, paths: &[&Path]) -> Result<()> {
        self.git_with_paths(&["add"], paths).map(|_| ())
    }

    /// Commits exactly `paths` (their current work tree content, new files included)
    /// with `message`, leaving anything else that is staged staged and uncommitted, like
    /// `git commit --only`. Returns the new commit id. Whether other staged changes are
    /// acceptable is the caller's decision; see [`Repo::staged_paths`].
    pub fn commit_paths(&self, paths: &[&Path], message: &str) -> Result<ObjectId> {
        if paths.is_empty() {
            return Err(Error::new("nothing to commit: no paths given"));
        }
        // `commit --only` refuses paths git does not know yet, so stage them first
        self.add(paths)?;
        self.git_with_paths(&["commit", "--quiet", "--only", "-m", message], paths)?;
        self.head()?.commit().ok_or_else(|| {
            Error::new(format!(
                "git commit succeeded but {} has no HEAD",
                self.root.display()
            ))
        })
    }

    /// `git rm --cached -r --force -- <path>`: stops tracking `path` (a file, a dir, or a
    /// gitlink) and keeps the files on disk. `--force` because git refuses without it
    /// when the staged content differs from both HEAD and the work tree, which is always
    /// the case for a gitlink staged but never committed; with `--cached` nothing on
    /// disk is touched, only that staged entry is dropped, which is the point.
    pub fn rm_cached(&self, path: &Path) -> Result<()> {
        self.git_with_paths(&["rm", "--cached", "-r", "--force", "--quiet"], &[path])
            .map(|_| ())
    }

    /// `git add --intent-to-add -- <path>`: records that `path` will be added, without
    /// staging content. Nix needs this for a new `flake.lock` before it will read it.
    pub fn add_intent(&self, path: &Path) -> Result<()> {
        self.git_with_paths(&["add", "--intent-to-add"], &[path])
            .map(|_| ())
    }

    fn git_with_paths(&self, args: &[&str], paths: &[&Path]) -> Result<String> {
        let mut cmd = command();
        cmd.arg("-C").arg(&self.root).args(args).arg("--");
        let mut shown = format!("git {}", args.join(" "));
        for p in paths {
            let rela = self.rela_path(p)?;
            // the root itself is "." to git
            let rela = if rela.is_empty() {
                ".".to_string()
            } else {
                rela
            };
            shown.push(' ');
            shown.push_str(&rela);
            cmd.arg(OsStr::new(&rela));
        }
        run(cmd, &shown).map_err(|e| {
            GitError::CommandFailed {
                inner: Box::new(e),
                root: self.root.clone(),
            }
            .into()
        })
    }
}

/// A `git` command without the variables that point it at another repository (see
/// `REPO_ENV`). Every git process the tool starts is made here.
pub fn command() -> Command {
    let mut cmd = Command::new("git");
    for var in REPO_ENV {
        cmd.env_remove(var);
    }
    // Unit tests never touch the process env (threads share it); their git gets a
    // test HOME and identity here instead.
    #[cfg(test)]
    super::testutil::apply_test_env(&mut cmd);
    cmd
}

/// Runs `git -C root args…` with `envs` set on top of the clean-up (a test's HOME, the
/// env Nix runs with); returns git's stdout.
pub fn run_in(
    root: &Path,
    args: &[&str],
    envs: &[(std::ffi::OsString, std::ffi::OsString)],
) -> Result<String> {
    let mut cmd = command();
    cmd.arg("-C").arg(root).args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    run(cmd, &format!("git {}", args.join(" "))).map_err(|e| {
        GitError::CommandFailed {
            inner: Box::new(e),
            root: root.to_path_buf(),
        }
        .into()
    })
}

/// Runs `cmd`; on failure the error names `shown` and carries git's own words.
fn run(mut cmd: Command, shown: &str) -> Result<String> {
    let out = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| GitError::CannotRun {
            detail: e.to_string(),
            missing: e.kind() == std::io::ErrorKind::NotFound,
        })?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    // git says "nothing to commit" on stdout, most else on stderr
    let said = [stderr.trim(), stdout.trim()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let status = crate::error::exit_status(out.status);
    let mut msg = format!("`{shown}` failed ({status})");
    if !said.is_empty() {
        msg.push_str(":\n");
        msg.push_str(&said);
    }
    Err(match stale_lock(&stderr) {
        Some(lock) => GitError::StaleLock {
            message: msg,
            lock: lock.to_string(),
        }
        .into(),
        None => Error::new(msg),
    })
}

/// The lock file git names in "Unable to create '<path>.lock': File exists", the
/// error of every git command after one was killed while it held a lock.
fn stale_lock(stderr: &str) -> Option<&str> {
    let rest = stderr.split("Unable to create '").nth(1)?;
    let (path, after) = rest.split_once('\'')?;
    (path.ends_with(".lock") && after.starts_with(": File exists")).then_some(path)
}
