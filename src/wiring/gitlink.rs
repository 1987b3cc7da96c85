//! No gitlink for the secrets dir in the parent: `git add secrets` records the
//! nested repo as a gitlink, which publishes its commit id and which Nix cannot
//! read through.

use crate::error::Result;
use crate::git::EntryKind;
use crate::layout::Layout;

/// Where the gitlink stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// The secrets dir lies outside the parent.
    Outside,
    /// Neither the parent's index nor its HEAD holds one.
    Absent,
    /// The parent's index holds one (`git add` recorded the nested repo); a safe
    /// `git rm --cached` drops it.
    Staged,
    /// The parent's HEAD commit holds one (commit id given); dropping it is a
    /// commit, and the id may already be public.
    Committed {
        /// The inner commit id the gitlink names.
        id: String,
    },
}

/// Whether the parent's index or HEAD holds a gitlink for the secrets dir.
pub fn inspect(layout: &Layout) -> Result<State> {
    let Some(rel) = layout.dir_in_parent() else {
        return Ok(State::Outside);
    };
    let parent = &layout.parent;
    if parent
        .index_entry(rel)?
        .is_some_and(|e| e.kind == EntryKind::Gitlink)
    {
        return Ok(State::Staged);
    }
    Ok(match parent.head_entry(rel)? {
        Some(e) if e.kind == EntryKind::Gitlink => State::Committed {
            id: e.id.to_string(),
        },
        _ => State::Absent,
    })
}

/// What [`apply`] does, for a dry run.
pub fn plan(layout: &Layout) -> String {
    format!(
        "removed the gitlink {} from the parent's index (files untouched)",
        shown(layout)
    )
}

/// Drops a staged gitlink from the parent's index (`git rm --cached`; the inner
/// repo is untouched); returns what was done.
pub fn apply(layout: &Layout) -> Result<String> {
    match (inspect(layout)?, layout.dir_in_parent()) {
        (State::Staged, Some(rel)) => {
            layout.parent.rm_cached(rel)?;
            Ok(plan(layout))
        }
        _ => Ok(format!(
            "no gitlink for {} in the parent's index",
            shown(layout)
        )),
    }
}

fn shown(layout: &Layout) -> String {
    match layout.dir_in_parent() {
        Some(p) => p.display().to_string(),
        None => layout.dir.display().to_string(),
    }
}
