//! The last step of a change, and `git secrets push`: push the secrets repo to its
//! upstream (the user's `git push`), then commit the relocked `flake.lock` alone and
//! push the parent when asked, else say what is left for the parent.

use crate::error::Result;
use crate::git::Repo;
use crate::layout::Layout;
use crate::nix::flake_lock::short;
use crate::progress::Progress;

/// Pushes the inner repo, then commits and pushes the parent's `flake.lock` when
/// `parent` is set, else says what is left to do with it. Shared with `--push` of
/// add, rotate and rekey.
pub fn push_then_parent(
    layout: &Layout,
    inner: &Repo,
    parent: bool,
    progress: &dyn Progress,
) -> Result<()> {
    let pushed = crate::change::sync::push_inner(inner)?;
    let rev = pushed.rev.to_string();
    if pushed.already {
        progress.ok(&format!(
            "{}/{} already has {}",
            pushed.remote,
            pushed.branch,
            short(&rev)
        ));
    } else {
        progress.ok(&format!(
            "pushed the secrets repo ({}) to {}/{}{}",
            short(&rev),
            pushed.remote,
            pushed.branch,
            if pushed.set_upstream {
                " and set it as upstream"
            } else {
                ""
            }
        ));
    }
    let Some(input) = crate::wiring::lock::input_name(layout)? else {
        return Ok(());
    };
    let locked = crate::wiring::lock::locked_rev(layout, &input)?;
    if parent {
        let lock_rev = locked.as_deref().unwrap_or(&rev);
        if let Some(id) = crate::change::sync::commit_parent_lock(layout, &input, lock_rev)? {
            progress.ok(&format!(
                "committed flake.lock in the parent ({})",
                short(&id.to_string())
            ));
        }
        let to = crate::change::sync::push_parent(&layout.parent)?;
        progress.ok(&format!("pushed the parent to {to}"));
        return Ok(());
    }
    let lock_dirty = !layout
        .parent
        .status_under(std::path::Path::new(crate::nix::lock::FLAKE_LOCK))?
        .is_clean();
    if lock_dirty {
        let rev = locked.as_deref().map(short).unwrap_or("?");
        let message =
            crate::quote::shell(&format!("flake.lock: lock {input} to {rev}")).into_owned();
        progress.hint(&format!(
            "flake.lock locks {input} to {rev}; commit and push it: git commit -m {message} -- flake.lock && git push (or: git secrets push --parent)"
        ));
    } else if let Ok(Some(up)) = layout.parent.upstream() {
        let ahead = layout
            .parent
            .head()
            .ok()
            .and_then(|h| h.commit())
            .zip(up.tip)
            .and_then(|(h, t)| {
                layout
                    .parent
                    .ahead_behind(&h.to_string(), &t.to_string())
                    .ok()
            })
            .map(|ab| ab.ahead)
            .unwrap_or(0);
        if ahead > 0 {
            progress
                .hint("the parent has unpushed commits: git push (or: git secrets push --parent)");
        }
    }
    Ok(())
}
