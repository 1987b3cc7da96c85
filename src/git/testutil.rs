//! Test helpers: real repos built with the `git` binary in a hermetic environment.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

static HOME: OnceLock<PathBuf> = OnceLock::new();

/// Points HOME, XDG_CONFIG_HOME and git's identity at fixed test values, once per
/// process, so neither the developer's config nor CI's leaks in. The library spawns
/// `git` with the process env, so this must be process-wide.
pub(crate) fn hermetic() {
    HOME.get_or_init(|| {
        let home = tempfile::Builder::new()
            .prefix("git-secrets-test-home")
            .tempdir()
            .expect("temp home")
            .keep();
        let vars = [
            ("HOME", home.to_str().expect("utf-8 temp path").to_string()),
            (
                "XDG_CONFIG_HOME",
                home.join(".config").display().to_string(),
            ),
            ("GIT_CONFIG_NOSYSTEM", "1".into()),
            ("GIT_AUTHOR_NAME", "Test Author".into()),
            ("GIT_AUTHOR_EMAIL", "author@example.test".into()),
            ("GIT_COMMITTER_NAME", "Test Committer".into()),
            ("GIT_COMMITTER_EMAIL", "committer@example.test".into()),
            ("GIT_TERMINAL_PROMPT", "0".into()),
        ];
        for (k, v) in vars {
            std::env::set_var(k, v);
        }
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if k.starts_with("SOPS_")
                || matches!(
                    k.as_str(),
                    "GIT_DIR" | "GIT_WORK_TREE" | "GIT_INDEX_FILE" | "GIT_CONFIG_GLOBAL"
                )
            {
                std::env::remove_var(k);
            }
        }
        home
    });
}

/// Runs `git -C dir args…`, panicking with git's output on failure; returns stdout.
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    hermetic();
    let out = Command::new("git")
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
    hermetic();
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

/// A temp dir that no git repository contains, or `None` (with a note) where the
/// machine's temp dir sits inside one, so "not in a repo" tests never pass vacuously.
pub(crate) fn outside_any_repo() -> Option<tempfile::TempDir> {
    hermetic();
    let tmp = tempfile::tempdir().expect("tempdir");
    if gix::discover(tmp.path()).is_ok() {
        eprintln!("skipping: the temp dir is inside a git repository");
        return None;
    }
    Some(tmp)
}
