//! No file of the secrets dir tracked by the parent, and no submodule for it: either
//! would publish what belongs to the private repo.

use crate::error::Result;
use crate::git::EntryKind;
use crate::layout::Layout;

/// What the parent tracks of the secrets dir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// The secrets dir lies outside the parent.
    Outside,
    /// Nothing.
    Clean,
    /// `.gitmodules` registers it as a submodule (the name given).
    Submodule {
        /// The submodule's name in `.gitmodules`.
        name: String,
    },
    /// The parent's index holds these files of it (repo-relative paths).
    Staged {
        /// The tracked files.
        files: Vec<String>,
    },
    /// Not in the index, but the parent's HEAD commit still holds files of it.
    Committed,
}

/// What the parent tracks under the secrets dir (a gitlink is [`super::gitlink`]'s).
pub fn inspect(layout: &Layout) -> Result<State> {
    let Some(rel) = layout.dir_in_parent() else {
        return Ok(State::Outside);
    };
    let parent = &layout.parent;
    if let Some(name) = parent.submodule_at(rel)? {
        return Ok(State::Submodule { name });
    }
    let files: Vec<String> = parent
        .index_entries_under(rel)?
        .into_iter()
        .filter(|e| e.kind != EntryKind::Gitlink)
        .map(|e| e.path)
        .collect();
    if !files.is_empty() {
        return Ok(State::Staged { files });
    }
    Ok(match parent.head_entry(rel)? {
        Some(e) if e.kind != EntryKind::Gitlink => State::Committed,
        _ => State::Clean,
    })
}

/// Stops tracking the secrets dir in the parent (`git rm --cached -r`; the files stay
/// on disk); returns what was done.
pub fn apply(layout: &Layout) -> Result<String> {
    let Some(rel) = layout.dir_in_parent() else {
        return Ok("the secrets dir lies outside the parent".into());
    };
    let shown = rel.display();
    match inspect(layout)? {
        State::Staged { .. } => {
            layout.parent.rm_cached(rel)?;
            Ok(format!("git rm --cached -r {shown} (files kept on disk)"))
        }
        _ => Ok(format!("no file of {shown} is in the parent's index")),
    }
}
