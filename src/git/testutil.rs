//! Test helpers: real repos built with the `git` binary in a hermetic environment.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

static HOME: OnceLock<PathBuf> = OnceLock::new();

/// A temp HOME made once per test process (kept: threads share it).
fn test_home() -> &'static Path {
    HOME.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("git-secrets-test-home")
            .tempdir()
            .expect("temp home")
            .keep()
    })
}

/// Points a `git` command's HOME, XDG_CONFIG_HOME and identity at fixed test values and
/// drops the variables that would lead it elsewhere, so neither the developer's config
/// nor CI's leaks in. Only the command's own env is changed, never the process's:
/// unit tests run in parallel threads, and `set_var` races every `getenv` there.
/// [`super::command`] calls this under `cfg(test)`, so every git the library starts
/// in a unit test gets it.
pub(crate) fn apply_test_env(cmd: &mut Command) {
    let home = test_home();
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test Author")
        .env("GIT_AUTHOR_EMAIL", "author@example.test")
        .env("GIT_COMMITTER_NAME", "Test Committer")
        .env("GIT_COMMITTER_EMAIL", "committer@example.test")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_CONFIG_GLOBAL");
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("SOPS_") {
            cmd.env_remove(k);
        }
    }
}

/// Runs `git -C dir args…`, panicking with git's output on failure; returns stdout.
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let out = super::command()
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} in {} failed:\n{}{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A new repo at `dir` (created) on branch `main`, without commits.
pub(crate) fn init(dir: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    git(dir, &["init", "--quiet", "-b", "main"]);
}

/// Writes `content` to `dir/rel`, creating parent dirs.
pub(crate) fn write(dir: &Path, rel: &str, content: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().expect("has parent")).expect("mkdir");
    std::fs::write(p, content).expect("write");
}

/// Writes, adds and commits `rel`; returns the new HEAD id.
pub(crate) fn commit_file(dir: &Path, rel: &str, content: &str, msg: &str) -> String {
    write(dir, rel, content);
    git(dir, &["add", "--", rel]);
    git(dir, &["commit", "--quiet", "-m", msg]);
    git(dir, &["rev-parse", "HEAD"])
}

/// A parent repo with one commit and an inner repo at `secrets/` with one commit, the
/// way `init` leaves them. Returns (tempdir guard, parent root).
pub(crate) fn parent_with_inner() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let parent = std::fs::canonicalize(tmp.path())
        .expect("canon")
        .join("cluster");
    init(&parent);
    commit_file(&parent, ".gitignore", "/secrets/\n", "ignore secrets");
    let inner = parent.join("secrets");
    init(&inner);
    commit_file(&inner, "secrets/kubeconfig.yaml", "a: 1\n", "first secret");
    (tmp, parent)
}

/// Looks for a repo with `discover` in a temp dir no git repository contains: it must
/// fail, with hints that name `git init` and `-C`; returns its error for more checks.
/// `None` (with a note) where the machine's temp dir sits inside a repository, so
/// "not in a repo" tests never pass vacuously.
pub(crate) fn discover_outside_any_repo<T>(
    discover: impl FnOnce(&Path) -> crate::error::Result<T>,
) -> Option<crate::error::Error> {
    let tmp = tempfile::tempdir().expect("tempdir");
    if gix::discover(tmp.path()).is_ok() {
        eprintln!("skipping: the temp dir is inside a git repository");
        return None;
    }
    let Err(err) = discover(tmp.path()) else {
        panic!("found a repository above {}", tmp.path().display());
    };
    assert!(
        err.hints
            .iter()
            .any(|h| h.contains("git init") && h.contains("-C")),
        "{:?}",
        err.hints
    );
    Some(err)
}
