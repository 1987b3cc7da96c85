//! Lock files a killed git command left in the inner or the parent repo.
//!
//! Most of them (`index.lock`, `HEAD.lock`, a ref's `.lock`) make every later git
//! command in that repo fail, but a git command that runs right now holds the same
//! files (git closes `index.lock` before it runs the pre-commit hook, so not even an
//! open file descriptor tells them apart): doctor names them with the `rm` to run once
//! no git command runs, and never removes one itself.
//!
//! `next-index-<pid>.lock`, the temporary index of a `git commit --only`, is litter
//! git never reads again; its name says which process made it. When that process is
//! gone (no such pid, or the pid now belongs to a program that is not git), no git can
//! own it and `--fix` may remove it. The pid is read in our pid namespace: a git run in
//! another one (a container on the same repo) is not seen.

use std::path::{Path, PathBuf};

use super::{Check, Fix};
use crate::git::{next_index_pid, Repo};

/// Who may hold a lock file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// A `next-index-<pid>.lock` whose git process is gone: nobody.
    Gone(i32),
    /// A `next-index-<pid>.lock` whose git process still runs.
    Running(i32),
    /// Any other lock: a running git command, or a killed one; cannot tell.
    Unknown,
}

/// Who may hold the lock file at `path`.
pub fn owner(path: &Path) -> Owner {
    let Some(pid) = next_index_pid(path) else {
        return Owner::Unknown;
    };
    if git_runs_as(pid) {
        Owner::Running(pid)
    } else {
        Owner::Gone(pid)
    }
}

/// Whether process `pid` exists and is git. Conservative: a process we may not signal
/// (another user's) or whose name we cannot read counts as git.
fn git_runs_as(pid: i32) -> bool {
    use nix::errno::Errno;
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Err(Errno::ESRCH) => false,
        Err(_) => true,
        Ok(()) => match std::fs::read_to_string(format!("/proc/{pid}/comm")) {
            // a reused pid: some other program now. A git run through a Nix
            // `wrapProgram` wrapper is `.git-wrapped` (the wrapper execs it with
            // `exec -a`, but comm is the file's name); git's own helpers are `git-…`.
            Ok(comm) => comm.trim().trim_start_matches('.').starts_with("git"),
            Err(_) => true,
        },
    }
}

/// Removes the `next-index-<pid>.lock` files at `paths` whose git process is gone
/// (asked again now, not when doctor looked); returns those removed.
pub fn remove_stale(paths: &[PathBuf]) -> crate::error::Result<Vec<PathBuf>> {
    let mut removed = Vec::new();
    for p in paths {
        if !matches!(owner(p), Owner::Gone(_)) {
            continue;
        }
        match std::fs::remove_file(p) {
            Ok(()) => removed.push(p.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(crate::error::Error::io("remove", p, e)),
        }
    }
    Ok(removed)
}

/// The check `id` for the git lock files of `repo` (`what`: "the secrets repo").
pub fn check(id: &'static str, repo: &Repo, what: &str) -> Check {
    let locks = repo.lock_files();
    if locks.is_empty() {
        return Check::ok(id, format!("no git lock files in {what}"));
    }
    let shown = |p: &Path| {
        p.strip_prefix(repo.git_dir())
            .or_else(|_| p.strip_prefix(repo.common_dir()))
            .map(|r| r.display().to_string())
            .unwrap_or_else(|_| p.display().to_string())
    };
    let rm = |ps: &[&PathBuf]| {
        ps.iter()
            .map(|p| crate::quote::shell(&p.display().to_string()).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut gone = Vec::new();
    let mut running = Vec::new();
    let mut unknown = Vec::new();
    for p in &locks {
        match owner(p) {
            Owner::Gone(_) => gone.push(p),
            Owner::Running(pid) => running.push((p, pid)),
            Owner::Unknown => unknown.push(p),
        }
    }
    if gone.is_empty() && unknown.is_empty() {
        let (p, pid) = running[0];
        return Check::ok(
            id,
            format!(
                "{} in {what} belongs to a git commit that runs now (pid {pid})",
                shown(p)
            ),
        );
    }
    let names: Vec<String> = gone
        .iter()
        .chain(unknown.iter())
        .map(|p| shown(p))
        .collect();
    let mut c = Check::warn(
        id,
        format!(
            "{} in {what}: {}",
            super::count(names.len(), "git lock file", "git lock files"),
            super::list(&names, 3)
        ),
    );
    if !gone.is_empty() {
        c = c
            .hint(format!(
                "left by a killed `git commit --only` (its process is gone) and never read again: rm {}",
                rm(&gone)
            ))
            .with_fix(Fix::RemoveStaleLocks(gone.iter().map(|p| p.to_path_buf()).collect()));
    }
    if !unknown.is_empty() {
        c = c.hint(format!(
            "a git command runs now, or one was killed and git refuses to work until they are gone; when none runs in this repo: rm {}",
            rm(&unknown)
        ));
    }
    c
}
