//! `git secrets pull`: fetch the secrets repo's upstream (bounded by the fetch
//! timeout), fast-forward — or rebase the local commits onto it, with the sops merge
//! driver resolving two changes of one secret value by value — then relock the parent
//! forward to the new inner HEAD.

use super::Ctx;
use crate::change::sync::{self, Pulled};
use crate::cli::LockArgs;
use crate::error::Result;
use crate::lock_direction::Direction;
use crate::nix::flake_lock::short;
use crate::repo_lock::{timeout_from_env, RepoLock};
use crate::wiring::inner_repo;
use crate::wiring::lock::{input_name, locked_rev};
use clap::Args;

#[derive(Debug, Args)]
pub struct PullArgs {
    #[command(flatten)]
    pub lock: LockArgs,
}

pub fn run(ctx: &Ctx, args: PullArgs) -> Result<i32> {
    let layout = ctx.layout()?;
    let inner = inner_repo(&layout)?;
    let _lock = RepoLock::acquire(inner.git_dir(), timeout_from_env(), || {
        ctx.ui
            .status("waiting for another git-secrets command to finish …")
    })?;
    if let Ok(exe) = std::env::current_exe() {
        if crate::wiring::drivers::install(&inner, &exe)? {
            ctx.ui
                .detail("installed the sops merge driver and diff textconv in the secrets repo");
        }
    }
    let input = input_name(&layout)?;
    let locked_before = match &input {
        Some(i) => locked_rev(&layout, i)?,
        None => None,
    };
    let old_head = inner.head()?.commit().map(|c| c.to_string());
    let upstream_before = inner.upstream()?.and_then(|u| u.tip).map(|t| t.to_string());
    let pulled = sync::pull_inner(&inner, crate::git::fetch_timeout_from_env())?;
    match &pulled {
        Pulled::UpToDate => ctx.ui.ok("the secrets repo is up to date"),
        Pulled::OnlyLocal(n) => ctx.ui.ok(format!(
            "nothing new on the remote; {n} local commit(s) to push (git secrets push)"
        )),
        Pulled::FastForward(n) => ctx.ui.ok(format!("fast-forwarded over {n} new commit(s)")),
        Pulled::Rebased { ahead, behind } => ctx.ui.ok(format!(
            "brought in {behind} commit(s) and replayed your {ahead} on top"
        )),
    }
    let Some(input) = input else {
        return Ok(0);
    };
    if args.lock.no_lock {
        ctx.ui.status("not relocked (--no-lock)");
        return Ok(0);
    }
    let head = crate::wiring::inner_head(&inner)?;
    let direction = crate::lock_direction::decide(&inner, locked_before.as_deref(), &head)?;
    // A rebase rewrote our local commits: a lock on one of them (never pushed, so never
    // published by the pre-push guard) may move to its replayed successor.
    let rebased_from_local = matches!(pulled, Pulled::Rebased { .. })
        && matches!(direction, Direction::Diverged)
        && match (&locked_before, &old_head, &upstream_before) {
            (Some(l), Some(old), up) => {
                inner.is_ancestor(l, old)?
                    && match up {
                        Some(u) => !inner.is_ancestor(l, u)?,
                        None => true,
                    }
            }
            _ => false,
        };
    let outcome = match direction {
        Direction::Same => {
            ctx.ui.ok(format!(
                "flake.lock already locks {input} to {}",
                short(&head)
            ));
            return Ok(0);
        }
        _ if rebased_from_local => {
            crate::wiring::lock::apply_unchecked(&layout, &input, args.lock.offline)?
        }
        _ => crate::wiring::lock::apply(&layout, &input, args.lock.offline)?,
    };
    for w in &outcome.warnings {
        ctx.ui.warn(format!("nix: {w}"));
    }
    ctx.ui.ok(crate::nix::lock::describe(&outcome));
    let message =
        crate::quote::shell(&format!("flake.lock: lock {input} to {}", short(&head))).into_owned();
    ctx.ui.hint(format!(
        "commit the relock: git commit -m {message} -- flake.lock (or: git secrets push --parent)"
    ));
    Ok(0)
}
