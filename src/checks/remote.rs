//! The private repo's remote: every clone must be able to fetch the inner commit the
//! public `flake.lock` names. So: the inner branch has an upstream, its ahead/behind
//! counts (from remote-tracking refs; `doctor --fetch` updates them first), the locked
//! rev — in the working `flake.lock` and in the parent's committed one — is reachable
//! from the upstream, and what the public lock reveals about the private repo.

use std::path::Path;

use super::{count, Check, Scene};
use crate::error::Context;
use crate::git::{ObjectId, RemoteReach, Repo, Upstream};
use crate::nix::flake_lock::{short, FlakeLock, LockedInput};

/// The remote checks, in report order.
pub fn checks(s: &Scene) -> Vec<Check> {
    let Some(inner) = &s.inner else {
        return [
            "inner.upstream",
            "inner.sync",
            "lock.pushed",
            "lock.committed",
        ]
        .into_iter()
        .map(|id| Check::skip(id, "the secrets dir is not a git repo"))
        .collect();
    };
    // one look-up of the upstream for every check (each is a git process)
    let up = inner.upstream();
    let mut out = vec![upstream(s, inner, &up), sync(inner, &up)];
    let up = up.ok().flatten();
    let working = working_lock(s);
    out.push(match &working {
        Some(Ok(l)) => pushed("lock.pushed", "flake.lock", s, inner, up.as_ref(), l),
        Some(Err(e)) => Check::skip("lock.pushed", e.clone()),
        None => Check::skip("lock.pushed", "nothing locked yet"),
    });
    out.push(committed(
        s,
        inner,
        up.as_ref(),
        working.as_ref().and_then(|w| w.as_ref().ok()),
    ));
    if let Some(Ok(l)) = &working {
        out.push(reveals(l));
    }
    out
}

fn upstream(s: &Scene, inner: &Repo, up: &crate::error::Result<Option<Upstream>>) -> Check {
    const ID: &str = "inner.upstream";
    let dir = s.dir_shown(); // already a shell word
    if inner.remote_names().is_empty() {
        return Check::warn(
            ID,
            format!("the secrets repo ({dir}) has no remote: no other machine or teammate can fetch the commit flake.lock names"),
        )
        .hint(format!(
            "add the private remote and push: git -C {dir} remote add origin <URL> && git -C {dir} push -u origin HEAD"
        ));
    }
    match up {
        Ok(Some(up)) => Check::ok(ID, format!("the secrets repo tracks {}", up.short)),
        Ok(None) => Check::warn(ID, "the secrets repo's branch tracks no upstream branch")
            .hint(format!("set one: git -C {dir} push -u origin HEAD")),
        Err(e) => Check::error(ID, e),
    }
}

fn sync(inner: &Repo, up: &crate::error::Result<Option<Upstream>>) -> Check {
    const ID: &str = "inner.sync";
    let up = match up {
        Ok(Some(up)) => up,
        Ok(None) => return Check::skip(ID, "no upstream to compare with"),
        Err(e) => return Check::error(ID, e),
    };
    let Some(head) = inner.head().ok().and_then(|h| h.commit()) else {
        return Check::skip(ID, "the secrets repo has no commits");
    };
    let Some(tip) = up.tip else {
        return Check::warn(
            ID,
            format!(
                "{} does not exist yet: the branch was never pushed",
                up.short
            ),
        )
        .hint("push it: git secrets push");
    };
    match inner.ahead_behind(&head.to_string(), &tip.to_string()) {
        Ok(ab) if ab.ahead == 0 && ab.behind == 0 => Check::ok(
            ID,
            format!("the secrets repo is in sync with {} (as of the last fetch; doctor --fetch to update)", up.short),
        ),
        Ok(ab) => {
            let mut parts = Vec::new();
            let mut c = Check::warn(ID, String::new());
            if ab.ahead > 0 {
                parts.push(format!("{} ahead", count(ab.ahead, "commit", "commits")));
                c = c.hint("push them: git secrets push");
            }
            if ab.behind > 0 {
                parts.push(format!("{} behind", count(ab.behind, "commit", "commits")));
                c = c.hint("bring them in: git secrets pull");
            }
            c.message = format!(
                "the secrets repo is {} of {} (as of the last fetch)",
                parts.join(" and "),
                up.short
            );
            c
        }
        Err(e) => Check::error(ID, &e),
    }
}

/// The secrets input as the working `flake.lock` locks it; `None` when there is nothing
/// to look at (no input, no lock file, no such node); `Err(reason)` to skip.
fn working_lock(s: &Scene) -> Option<Result<LockedInput, String>> {
    let name = s.input_name()?;
    let path = s.layout.root().join("flake.lock");
    if !path.is_file() {
        return None;
    }
    Some(
        FlakeLock::read(&path)
            .and_then(|l| l.input(&name))
            .map_err(|e| e.message)
            .and_then(|l| l.ok_or_else(|| format!("flake.lock has no input {name}"))),
    )
}

/// Whether the rev `lock` names is on the inner remote.
fn pushed(
    id: &'static str,
    what: &str,
    s: &Scene,
    inner: &Repo,
    up: Option<&Upstream>,
    lock: &LockedInput,
) -> Check {
    let Some(rev) = &lock.rev else {
        return Check::skip(id, format!("{what} locks no rev for {}", lock.input));
    };
    let dir = s.dir_shown(); // already a shell word
    match inner.remote_reach(rev, up) {
        Ok(RemoteReach::Reachable(r)) => Check::ok(
            id,
            format!("{what} locks {}, which {r} has: every clone can fetch it", short(rev)),
        ),
        Ok(RemoteReach::NoRemote) => Check::skip(id, "the secrets repo has no remote"),
        Ok(RemoteReach::Unreachable) => Check::fail(
            id,
            format!(
                "{what} locks {}, a commit the secrets repo's remote does not have (as of the last fetch): pushed, the public lock would name a rev no other clone can fetch",
                short(rev)
            ),
        )
        .hint("push the secrets repo first: git secrets push")
        .hint(format!("(if a teammate pushed it since, update what we know: git -C {dir} fetch)")),
        Err(e) => Check::error(id, &e),
    }
}

/// The parent's committed `flake.lock` against the working one, and whether the
/// committed rev is pushed (that is the one a parent push publishes).
fn committed(
    s: &Scene,
    inner: &Repo,
    up: Option<&Upstream>,
    working: Option<&LockedInput>,
) -> Check {
    const ID: &str = "lock.committed";
    let Some(name) = s.input_name() else {
        return Check::skip(ID, "no secrets input in flake.nix");
    };
    let parent = &s.layout.parent;
    let Some(head) = parent.head().ok().and_then(|h| h.commit()) else {
        return Check::skip(ID, "the parent has no commits");
    };
    let committed = match locked_at(parent, head, &name) {
        Ok(Some(l)) => l,
        Ok(None) => {
            return Check::skip(ID, "the parent has no committed flake.lock with the input")
        }
        Err(e) => return Check::error(ID, &e),
    };
    let Some(rev) = committed.rev.clone() else {
        return Check::skip(ID, "the committed flake.lock locks no rev");
    };
    let pushed_check = pushed(
        ID,
        "the parent's committed flake.lock",
        s,
        inner,
        up,
        &committed,
    );
    if pushed_check.status == super::Status::Fail {
        return pushed_check;
    }
    match working.and_then(|w| w.rev.as_deref()) {
        Some(w) if w != rev => Check::warn(
            ID,
            format!(
                "flake.lock locks {} but the parent's last commit locks {}: the relock is not committed",
                short(w),
                short(&rev)
            ),
        )
        .hint("commit it: git commit -m 'flake.lock: relock secrets' -- flake.lock (or git secrets push --parent)"),
        _ => Check::ok(ID, format!("the parent's committed flake.lock locks {}", short(&rev))),
    }
}

/// `input` as `flake.lock` in the parent's `commit` locks it.
pub fn locked_at(
    parent: &Repo,
    commit: ObjectId,
    input: &str,
) -> crate::error::Result<Option<LockedInput>> {
    let Some(entry) = parent.entry_at(commit, Path::new("flake.lock"))? else {
        return Ok(None);
    };
    let blob = parent
        .blob(entry.id)
        .with_context(|| format!("cannot read flake.lock of {commit}"))?;
    FlakeLock::parse(&blob)?.input(input)
}

/// The pre-push check: the `flake.lock` of the parent commit being pushed locks an inner
/// rev the inner remote has.
pub fn pushed_lock_at(s: &Scene, commit: ObjectId) -> Check {
    const ID: &str = "push.lock";
    let Some(name) = s.input_name() else {
        return Check::skip(ID, "no secrets input in flake.nix");
    };
    let Some(inner) = &s.inner else {
        return Check::skip(ID, "the secrets dir is not a git repo here");
    };
    match locked_at(&s.layout.parent, commit, &name) {
        Ok(Some(l)) => pushed(
            ID,
            &format!("the pushed flake.lock ({})", short(&commit.to_string())),
            s,
            inner,
            inner.upstream().ok().flatten().as_ref(),
            &l,
        ),
        Ok(None) => Check::skip(ID, "the pushed commit has no flake.lock with the input"),
        Err(e) => Check::error(ID, &e),
    }
}

/// What the public lock tells anyone about the private repo: information, not a fault.
fn reveals(l: &LockedInput) -> Check {
    let mut facts = Vec::new();
    if let Some(rev) = &l.rev {
        facts.push(format!("the commit id {}", short(rev)));
    }
    if let Some(n) = l.rev_count {
        facts.push(format!(
            "revCount {n} (how many commits the secrets repo has)"
        ));
    }
    if let Some(t) = l.last_modified {
        let when = chrono::DateTime::from_timestamp(t as i64, 0)
            .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| t.to_string());
        facts.push(format!("lastModified {when} (when a secret last changed)"));
    }
    if l.nar_hash.is_some() {
        facts.push("narHash (a hash of the encrypted content)".into());
    }
    Check::ok(
        "lock.reveals",
        format!(
            "the public flake.lock reveals about the private repo: {} (README: Working as a team)",
            facts.join(", ")
        ),
    )
}
