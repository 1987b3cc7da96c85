//! The private inner repo as Nix sees it: a repo of its own (not a submodule), with
//! commits, on a branch, and nothing untracked, unstaged or staged-but-uncommitted —
//! Nix locks only committed content and silently skips untracked files.

use std::path::Path;

use super::{Check, Scene};
use crate::git::Head;

/// The checks that need an inner repo to look at, skipped for `why`.
fn skip_repo_checks(why: &str) -> impl Iterator<Item = Check> + '_ {
    [
        "inner.head",
        "inner.untracked",
        "inner.unstaged",
        "inner.staged",
        "inner.locks",
    ]
    .into_iter()
    .map(move |id| Check::skip(id, why))
}

/// The inner repo's checks, in report order.
pub fn checks(s: &Scene) -> Vec<Check> {
    let dir = s.dir_shown();
    if !s.layout.dir.is_dir() {
        let mut out =
            vec![
                Check::fail("dir.repo", format!("the secrets dir {dir} does not exist"))
                    .hint("clone it: git secrets init URL")
                    .hint("or create one: git secrets init --new"),
            ];
        out.extend(skip_repo_checks("no secrets dir"));
        return out;
    }
    let submodule = s
        .layout
        .dir_in_parent()
        .and_then(|_| s.layout.parent.submodule_at(&s.layout.dir).ok().flatten());
    let repo_check = match (&s.inner, submodule) {
        (_, Some(name)) => Check::fail(
            "dir.repo",
            format!(
                "{dir} is a git submodule ({}) of the parent: its url and commit are public",
                crate::quote::shell(&name)
            ),
        )
        .hint(format!(
            "git submodule deinit -f {dir} && git rm --cached {dir} && git config -f .gitmodules --remove-section {}",
            crate::quote::shell(&format!("submodule.{name}"))
        ))
        .hint("keep the clone as a plain nested repo; the parent reads it through the git+file: input"),
        (Some(_), None) => Check::ok("dir.repo", format!("{dir} is a git repo of its own")),
        (None, None) => Check::fail(
            "dir.repo",
            format!("{dir} exists but is not a git repo: Nix cannot lock it"),
        )
        .hint(format!(
            "make it one: git -C {dir} init && git -C {dir} add -A && git -C {dir} commit -m secrets"
        )),
    };
    let Some(inner) = &s.inner else {
        let mut out = vec![repo_check];
        out.extend(skip_repo_checks("the secrets dir is not a git repo"));
        return out;
    };
    let head = match inner.head() {
        Ok(Head::Branch { commit: None, name }) => Check::fail(
            "inner.head",
            format!(
                "the secrets repo has no commits yet (branch {name} is unborn): Nix cannot lock it"
            ),
        )
        .hint(format!(
            "commit in it: git -C {dir} add -A && git -C {dir} commit -m secrets"
        )),
        Ok(Head::Branch { name, .. }) => Check::ok(
            "inner.head",
            format!("the secrets repo is on branch {name}"),
        ),
        Ok(Head::Detached(id)) => Check::warn(
            "inner.head",
            format!(
                "the secrets repo is on a detached HEAD ({}): new commits belong to no branch",
                crate::nix::flake_lock::short(&id.to_string())
            ),
        )
        .hint(format!("git -C {dir} switch main (or your branch)")),
        Err(e) => Check::error("inner.head", &e),
    };
    let mut out = vec![repo_check, head];
    match inner.status_under(Path::new("")) {
        Ok(st) => {
            out.push(untracked(inner, &st.untracked, &dir));
            out.push(state(
                "inner.unstaged",
                &st.unstaged,
                "changed but not committed: a lock now would have no rev",
                vec![format!("git -C {dir} commit -am 'update secrets', then relock (git secrets doctor --fix)")],
                &dir,
            ));
            out.push(state(
                "inner.staged",
                &st.staged,
                "staged but not committed: a lock now would have no rev",
                vec![format!("git -C {dir} commit -m 'update secrets', then relock (git secrets doctor --fix)")],
                &dir,
            ));
        }
        Err(e) => {
            for id in ["inner.untracked", "inner.unstaged", "inner.staged"] {
                out.push(Check::error(id, &e));
            }
        }
    }
    out.push(super::locks::check(
        "inner.locks",
        inner,
        "the secrets repo",
    ));
    out
}

/// `paths` in state `id` (untracked, unstaged, staged): ok when none, else a failure
/// naming them, with `hints`.
fn state(id: &'static str, paths: &[String], what: &str, hints: Vec<String>, dir: &str) -> Check {
    if paths.is_empty() {
        return Check::ok(
            id,
            format!("nothing {} in {dir}", id.trim_start_matches("inner.")),
        );
    }
    Check::fail(
        id,
        format!(
            "{} {what}: {}",
            super::count(paths.len(), "file is", "files are"),
            super::list(paths, 3)
        ),
    )
    .hints(hints)
}

/// Untracked files, with the exact commands: sops files can be committed as they are
/// (doctor never commits on its own); any other file is committed only by a user who
/// knows it holds no secret, since Nix copies every committed file into the
/// world-readable store.
fn untracked(inner: &crate::git::Repo, paths: &[String], dir: &str) -> Check {
    let (sops, other): (Vec<&String>, Vec<&String>) = paths.iter().partition(|p| {
        std::fs::read(inner.root().join(p.as_str()))
            .is_ok_and(|b| super::scene::looks_like_sops(&b))
    });
    let quoted = |ps: &[&String]| {
        ps.iter()
            .map(|p| crate::quote::shell(p).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut hints = Vec::new();
    if !sops.is_empty() {
        let names: Vec<String> = sops
            .iter()
            .map(|p| crate::layout::secret_name_of(Path::new(p.as_str())))
            .collect();
        let message = crate::quote::shell(&format!("add {}", names.join(", "))).into_owned();
        hints.push(format!(
            "commit {}: git -C {dir} add -- {} && git -C {dir} commit -m {message}, then relock: git secrets doctor --fix",
            if sops.len() == 1 { "it (sops-encrypted)" } else { "them (sops-encrypted)" },
            quoted(&sops),
        ));
    }
    if !other.is_empty() {
        hints.push(format!(
            "not sops-encrypted: {}; Nix copies every committed file into the world-readable store, so commit one only if it holds no secret (git -C {dir} add -- FILE), encrypt it first (git secrets encrypt -i FILE), or remove it",
            super::list(&other.iter().map(|p| p.to_string()).collect::<Vec<_>>(), 3),
        ));
    }
    state(
        "inner.untracked",
        paths,
        "untracked, so invisible to Nix",
        hints,
        dir,
    )
}
