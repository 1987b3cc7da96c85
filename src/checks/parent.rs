//! The public parent: a git repo and a flake, the secrets dir ignored and never in its
//! index or HEAD, the input a `git+file:` url whose own inputs are followed, and a
//! `flake.lock` locked to the inner HEAD.

use std::path::Path;

use super::{Check, Fix, Scene};
use crate::lock_direction::Direction;
use crate::nix::flake_lock::short;
use crate::nix::flake_nix::unfollowed_inputs;
use crate::nix::FlakeInputs;
use crate::wiring::{self, flake_input, gitlink, ignore, lock, tracked};

/// The parent's checks, in report order.
pub fn checks(s: &Scene) -> Vec<Check> {
    vec![
        Check::ok(
            "parent.repo",
            format!("parent repo at {}", s.layout.root().display()),
        ),
        super::locks::check("parent.locks", &s.layout.parent, "the parent repo"),
        flake(s),
        dir_ignored(s),
        dir_gitlink(s),
        dir_tracked(s),
        flake_input(s),
        flake_follows(s),
        lock_tracked(s),
        lock_fresh(s),
    ]
}

fn flake(s: &Scene) -> Check {
    const ID: &str = "parent.flake";
    match &s.flake_src {
        None => Check::fail(ID, "the parent has no flake.nix (or it is not UTF-8)").hint(
            "create flake.nix with the secrets input, e.g. inputs.secrets.url = \"git+file:./secrets\";",
        ),
        Some(src) => match FlakeInputs::parse(src) {
            Ok(_) => Check::ok(ID, "the parent is a flake (flake.nix parses)"),
            Err(e) => Check::error(ID, &e),
        },
    }
}

fn dir_ignored(s: &Scene) -> Check {
    const ID: &str = "dir.ignored";
    match wiring::ignore::inspect(&s.layout) {
        Ok(ignore::State::Outside) => Check::ok(ID, OUTSIDE),
        Ok(ignore::State::Ignored { rel }) => {
            Check::ok(ID, format!("{rel}/ is ignored by the parent"))
        }
        Ok(ignore::State::NotIgnored { rel }) => Check::fail(
            ID,
            format!("{rel}/ is not ignored by the parent: `git add -A` would publish it"),
        )
        // Quoted for the shell; the pattern itself is escaped for .gitignore.
        .hint(format!(
            "echo {} >> .gitignore",
            crate::quote::shell(&ignore::pattern(&rel))
        ))
        .with_fix(Fix::IgnoreDir),
        Err(e) => Check::error(ID, &e),
    }
}

const OUTSIDE: &str = "the secrets dir lies outside the parent";

fn dir_gitlink(s: &Scene) -> Check {
    const ID: &str = "dir.gitlink";
    let shown = s.dir_shown();
    match wiring::gitlink::inspect(&s.layout) {
        Ok(gitlink::State::Outside) => Check::ok(ID, OUTSIDE),
        Ok(gitlink::State::Staged) => Check::fail(
            ID,
            format!(
                "the parent's index holds a gitlink for {shown} (git add recorded the nested repo)"
            ),
        )
        .hint(format!("git rm --cached {shown}"))
        .with_fix(Fix::DropGitlink),
        Ok(gitlink::State::Committed { id }) => removal_hints(
            Check::fail(
                ID,
                format!(
                    "the parent's HEAD commit holds a gitlink for {shown} (commit {})",
                    short(&id)
                ),
            ),
            &shown,
        ),
        Ok(gitlink::State::Absent) => Check::ok(
            ID,
            format!("no gitlink for {shown} in the parent's index or HEAD"),
        ),
        Err(e) => Check::error(ID, &e),
    }
}

/// The hints of a check that found the secrets dir (a gitlink, files) in the parent's
/// HEAD commit but no longer in its index: the commit that removes it, then the purge
/// of the history that holds it.
fn removal_hints(c: Check, shown: &str) -> Check {
    c.hint("commit the removal: git commit -m 'untrack the secrets dir'")
        .hint(format!(
            "it is public once pushed; to drop it from history: {}",
            super::filter_repo(shown)
        ))
}

fn dir_tracked(s: &Scene) -> Check {
    const ID: &str = "dir.tracked";
    let shown = s.dir_shown();
    match wiring::tracked::inspect(&s.layout) {
        Ok(tracked::State::Outside) => Check::ok(ID, OUTSIDE),
        // dir.repo names a submodule, with the commands
        Ok(tracked::State::Submodule { .. }) => {
            Check::skip(ID, format!("{shown} is a submodule (see dir.repo)"))
        }
        Ok(tracked::State::Staged { files }) => Check::fail(
            ID,
            format!(
                "the parent tracks {} of {shown}: {}",
                super::count(files.len(), "file", "files"),
                super::list(&files, 3)
            ),
        )
        .hint(format!("git rm --cached -r {shown}"))
        .hint(format!(
            "if they were ever committed, purge them: {}",
            super::filter_repo(&shown)
        ))
        .with_fix(Fix::UntrackDir),
        Ok(tracked::State::Committed) => removal_hints(
            Check::fail(
                ID,
                format!("the parent's HEAD commit still holds files of {shown}"),
            ),
            &shown,
        ),
        Ok(tracked::State::Clean) => {
            Check::ok(ID, format!("no file of {shown} is tracked by the parent"))
        }
        Err(e) => Check::error(ID, &e),
    }
}

fn flake_input(s: &Scene) -> Check {
    const ID: &str = "flake.input";
    let want = wiring::flake_input::url(&s.layout);
    if s.flake_src.is_none() {
        return Check::skip(ID, "no flake.nix");
    }
    let url = |input: &crate::nix::Input| {
        input
            .url
            .as_ref()
            .map(|u| u.value.clone())
            .unwrap_or_default()
    };
    match wiring::flake_input::classify(s.input.clone()) {
        flake_input::State::NoFlake => Check::skip(ID, "no flake.nix"),
        flake_input::State::Missing => {
            let name = wiring::flake_input::default_name(&s.layout);
            Check::fail(
                ID,
                format!("no input of flake.nix points at {}", s.dir_shown()),
            )
            .hint(format!("add to flake.nix: inputs.{name}.url = \"{want}\";"))
            .hint("or run: git secrets init")
            .with_fix(Fix::AddInput)
        }
        flake_input::State::GitFile(input) => {
            Check::ok(ID, format!("input {} is {}", input.name, url(&input)))
        }
        flake_input::State::PathLike(input) => Check::fail(
            ID,
            format!(
                "input {} is \"{}\": Nix reads it through the parent's index, where the nested repo is invisible",
                input.name,
                url(&input)
            ),
        )
        .hint(format!(
            "in flake.nix set inputs.{}.url = \"{want}\"; then relock",
            input.name
        ))
        .with_fix(Fix::RewriteUrl),
        flake_input::State::Unknown(input) => Check::fail(
            ID,
            format!("input {} has no literal url Nix can lock from the secrets dir", input.name),
        )
        .hint(format!("in flake.nix set inputs.{}.url = \"{want}\";", input.name)),
    }
}

fn flake_follows(s: &Scene) -> Check {
    const ID: &str = "flake.follows";
    let Some(input) = &s.input else {
        return Check::skip(ID, "no secrets input in flake.nix");
    };
    let path = s.layout.dir.join("flake.nix");
    let Ok(src) = std::fs::read_to_string(&path) else {
        return Check::skip(ID, "the secrets dir has no flake.nix");
    };
    let own = match FlakeInputs::parse(&src) {
        Ok(f) => f,
        Err(e) => return Check::error(ID, &e),
    };
    let loose = unfollowed_inputs(input, &own);
    if loose.is_empty() {
        return Check::ok(
            ID,
            "the secrets flake has no inputs of its own to fetch (locks offline)",
        );
    }
    let mut c = Check::warn(
        ID,
        format!(
            "the secrets flake's inputs {} are not followed: locking needs the network",
            loose.join(", ")
        ),
    );
    for l in &loose {
        c = c.hint(format!(
            "in the parent's flake.nix: inputs.{}.inputs.{l}.follows = \"{l}\";",
            input.name
        ));
    }
    c
}

fn lock_tracked(s: &Scene) -> Check {
    const ID: &str = "lock.tracked";
    let lock = s.layout.root().join("flake.lock");
    if !lock.is_file() {
        return Check::skip(ID, "no flake.lock yet");
    }
    match s.layout.parent.index_entry(Path::new("flake.lock")) {
        Ok(Some(_)) => Check::ok(ID, "flake.lock is tracked by the parent"),
        Ok(None) => Check::warn(
            ID,
            "flake.lock is not tracked: Nix ignores an untracked lock and locks again",
        )
        .hint("git add flake.lock"),
        Err(e) => Check::error(ID, &e),
    }
}

fn lock_fresh(s: &Scene) -> Check {
    const ID: &str = "lock.fresh";
    let state = match wiring::lock::inspect(&s.layout) {
        Ok(state) => state,
        Err(e) => return Check::error(ID, &e),
    };
    let name = match &state {
        lock::State::NoInput => return Check::skip(ID, "no secrets input in flake.nix"),
        lock::State::NoInner => return Check::skip(ID, "the secrets dir is not a git repo"),
        lock::State::NoCommits => return Check::skip(ID, "the secrets repo has no commits"),
        lock::State::Missing { input }
        | lock::State::Unreadable { input, .. }
        | lock::State::Stale { input, .. }
        | lock::State::Fresh { input, .. } => input.clone(),
    };
    let (Some(inner), Some(head)) = (&s.inner, s.inner_head()) else {
        return Check::skip(ID, "the secrets repo has no commits");
    };
    // Untracked files do not stop a relock: Nix never sees them, so the lock of HEAD is
    // the same with or without them (inner.untracked names them). Uncommitted changes
    // to tracked files do: Nix would lock a dirty tree without a rev.
    let clean = inner
        .status_under(Path::new(""))
        .is_ok_and(|st| st.unstaged.is_empty() && st.staged.is_empty());
    let relock_hint = format!(
        "git secrets doctor --fix (or: {} {name})",
        wiring::lock::command()
    );
    // `--fix` relocks only when every tracked file is committed: the hints say so, in
    // that order.
    let with_fix = |c: Check| {
        if clean {
            c.hint(relock_hint.clone()).with_fix(Fix::Relock)
        } else {
            c.hint(
                "commit every change in the secrets repo first; Nix locks only committed content",
            )
            .hint(format!("then: {relock_hint}"))
        }
    };
    match state {
        lock::State::Missing { input } if crate::nix::Nix::discover().is_err() => {
            // Nothing here can lock it; the machine that has Nix will (nix.version warns).
            Check::warn(
                ID,
                format!(
                    "no flake.lock: input {input} is not locked, and Nix is not installed here"
                ),
            )
            .hint("on a machine with Nix: git secrets init (it only locks)")
        }
        lock::State::Missing { input } => with_fix(Check::fail(
            ID,
            format!("no flake.lock: input {input} is not locked"),
        )),
        lock::State::Fresh { input, locked } => Check::ok(
            ID,
            format!(
                "flake.lock locks {input} to the secrets repo's HEAD {}",
                short(locked.rev.as_deref().unwrap_or(""))
            ),
        ),
        lock::State::Unreadable { .. }
            if crate::nix::lock::journal_path(s.layout.root(), s.layout.parent.git_dir())
                .is_file() =>
        {
            // Nix rewrites flake.lock in place; the previous one is kept until it ends.
            with_fix(Check::fail(
                ID,
                "flake.lock is half-written: a git-secrets command was killed while Nix rewrote it (the previous lock is kept in the parent's git dir and put back first)",
            ))
        }
        lock::State::Unreadable { error, .. } => Check::error(ID, &error),
        lock::State::Stale {
            input: name,
            locked,
            reason: verified,
        } => {
            // the lock only moves forward: name the case, and offer a relock only for that one
            match crate::lock_direction::check(inner, &name, locked.as_deref(), &head) {
        Ok(Direction::Forward) => with_fix(
            Check::fail(
                ID,
                format!(
                    "flake.lock is behind: it locks {name} to {}, an ancestor of the secrets repo's HEAD {} (relocking moves it forward)",
                    short(locked.as_deref().unwrap_or("")),
                    short(&head)
                ),
            ),
        ),
        Ok(_) => with_fix(
            Check::fail(ID, format!("flake.lock does not lock {name} to the secrets repo's HEAD: {}", verified.message)),
        ),
        Err(refusal) => {
            let case = crate::lock_direction::decide(inner, locked.as_deref(), &head)
                .map(|d| d.name())
                .unwrap_or("unknown");
            let what = match case {
                "behind" => "the secrets repo is behind the lock",
                "missing" => "the locked rev is missing from the secrets repo",
                "diverged" => "the secrets repo and the lock have diverged",
                _ => "the lock cannot move to the secrets repo's HEAD",
            };
            let locked = locked.as_deref().unwrap_or("");
            Check {
                hints: refusal.hints.clone(),
                ..Check::fail(
                    ID,
                    format!(
                        "{what}: flake.lock locks {name} to {}; the secrets repo's HEAD is {}",
                        crate::lock_direction::describe_commit(inner, locked),
                        crate::lock_direction::describe_commit(inner, &head)
                    ),
                )
            }
        }
            }
        }
        // answered above, before the repo was read
        lock::State::NoInput | lock::State::NoInner | lock::State::NoCommits => {
            Check::skip(ID, "nothing to lock")
        }
    }
}
