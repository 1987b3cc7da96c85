//! The parent ignores the secrets dir, so `git add -A` in the parent never
//! publishes it. One text for every writer: a comment saying who added it,
//! then `/<dir>/`.

use crate::error::{Error, Result};
use crate::layout::Layout;

/// Where the ignore entry stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// The secrets dir lies outside the parent: nothing to ignore.
    Outside,
    /// The parent ignores `<rel>/`.
    Ignored {
        /// The dir relative to the parent root (`secrets`).
        rel: String,
    },
    /// The parent would track `<rel>/`.
    NotIgnored {
        /// The dir relative to the parent root (`secrets`).
        rel: String,
    },
}

/// The `.gitignore` line that ignores `rel`: `/secrets/`, with glob
/// characters and `\` escaped (a dir `a[1]` must not ignore `a1` instead).
pub fn pattern(rel: &str) -> String {
    crate::quote::gitignore_dir(rel)
}

/// The block appended to `.gitignore`: why, then the pattern.
pub fn text(rel: &str) -> String {
    format!("# private secrets repo (git secrets)\n{}\n", pattern(rel))
}

/// Whether the parent ignores the secrets dir.
pub fn inspect(layout: &Layout) -> Result<State> {
    let Some(rel) = layout.dir_in_parent() else {
        return Ok(State::Outside);
    };
    let rel_s = rel.display().to_string();
    Ok(if layout.parent.is_ignored(rel, true)? {
        State::Ignored { rel: rel_s }
    } else {
        State::NotIgnored { rel: rel_s }
    })
}

/// What [`apply`] does, for a prompt or a dry run.
pub fn plan(rel: &str) -> String {
    format!("added {} to .gitignore", pattern(rel))
}

/// Appends [`text`] to the parent's `.gitignore` when the dir is not ignored yet;
/// returns what was done.
pub fn apply(layout: &Layout) -> Result<String> {
    let rel = match inspect(layout)? {
        State::NotIgnored { rel } => rel,
        State::Ignored { rel } => return Ok(format!("{rel}/ is ignored by the parent")),
        State::Outside => return Ok("the secrets dir lies outside the parent".into()),
    };
    let path = layout.root().join(".gitignore");
    let mut bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        bytes.push(b'\n');
    }
    bytes.extend_from_slice(text(&rel).as_bytes());
    crate::atomic::write(&path, &bytes, 0o644)?;
    Ok(plan(&rel))
}
