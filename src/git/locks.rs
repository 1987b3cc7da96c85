//! The lock files git leaves in a git dir when it is killed while it holds them
//! (`index.lock`, `HEAD.lock`, `refs/heads/main.lock`, `next-index-<pid>.lock`, …).
//! Only listed here; whether one is stale is the caller's question.

use std::path::{Path, PathBuf};

use super::Repo;

/// The lock files of the common dir that every worktree shares.
const SHARED: [&str; 3] = ["config.lock", "packed-refs.lock", "shallow.lock"];

/// Our own flock file (src/repo_lock.rs): empty, kept on purpose, never git's.
const OURS: &str = crate::repo_lock::LOCK_FILE;

impl Repo {
    /// Every `*.lock` file git may have left for this work tree: at the top of its git
    /// dir (index, HEAD, config, packed-refs, `next-index-<pid>`), under `refs/`, and in
    /// a linked worktree also the shared ones of the common dir (config, packed-refs;
    /// not the main work tree's own index or HEAD). Sorted; our own flock file is not
    /// one of them.
    pub fn lock_files(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        locks_in(self.git_dir(), 0, &mut out);
        if !same_dir(self.git_dir(), self.common_dir()) {
            let mut shared = Vec::new();
            locks_in(self.common_dir(), 0, &mut shared);
            out.extend(shared.into_iter().filter(|p| {
                p.file_name()
                    .is_some_and(|n| SHARED.iter().any(|s| n == *s))
            }));
        }
        locks_in(&self.common_dir().join("refs"), 16, &mut out);
        out.sort();
        out.dedup();
        out
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    a == b || std::fs::canonicalize(a).ok() == std::fs::canonicalize(b).ok()
}

fn is_lock(name: &str) -> bool {
    name.ends_with(".lock") && name != OURS
}

/// The `*.lock` files in `dir` and, `depth` levels down, in its subdirectories: 0 for
/// the top of a git dir; bounded for `refs/`, so a symlink loop cannot hold doctor up.
fn locks_in(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let Ok(t) = e.file_type() else { continue };
        if t.is_dir() && depth > 0 {
            locks_in(&e.path(), depth - 1, out);
        } else if t.is_file() && is_lock(&e.file_name().to_string_lossy()) {
            out.push(e.path());
        }
    }
}

/// The pid in the name of `git commit --only`'s temporary index lock
/// (`next-index-<pid>.lock`, named by git after its own process).
pub fn next_index_pid(path: &Path) -> Option<i32> {
    let name = path.file_name()?.to_str()?;
    let pid = name.strip_prefix("next-index-")?.strip_suffix(".lock")?;
    pid.parse::<i32>().ok().filter(|p| *p > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_index_pid_reads_only_git_commits_temp_index_lock() {
        let pid = |p: &str| next_index_pid(Path::new(p));
        assert_eq!(pid("/r/.git/next-index-4242.lock"), Some(4242));
        assert_eq!(pid("next-index-1.lock"), Some(1));
        for not in [
            "/r/.git/index.lock",
            "next-index-0.lock",
            "next-index--5.lock",
            "next-index-x.lock",
            "next-index-99999999999.lock",
            "next-index-12",
        ] {
            assert_eq!(pid(not), None, "{not}");
        }
    }
}
