//! The parent's `flake.nix` has an input whose url is `git+file:<dir>`: Nix then reads
//! the inner repo's committed HEAD. A `path:` or bare url is read through the parent's
//! index, which cannot see into a nested repo.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::nix::flake_nix::{find_secrets_input, insert_input, rewrite_url, Input};
use crate::nix::{FlakeInputs, UrlKind};

/// Where the flake input stands.
#[derive(Debug, Clone)]
pub enum State {
    /// The parent has no `flake.nix` (or it is not UTF-8).
    NoFlake,
    /// No input points at the secrets dir; [`default_name`] is what `init` adds.
    Missing,
    /// The input is `git+file:` already.
    GitFile(Input),
    /// The input is a `path:` or bare path: [`apply`] rewrites it.
    PathLike(Input),
    /// The input has no literal url (or another kind): only the user can set it.
    Unknown(Input),
}

impl State {
    /// The input, when there is one.
    pub fn input(&self) -> Option<&Input> {
        match self {
            State::GitFile(i) | State::PathLike(i) | State::Unknown(i) => Some(i),
            State::NoFlake | State::Missing => None,
        }
    }
}

/// The url the secrets input should have: `git+file:./secrets`. The one place it is built.
pub fn url(layout: &Layout) -> String {
    format!("git+file:{}", super::dir_rel(layout))
}

/// The parent's `flake.nix` path.
pub fn flake_path(layout: &Layout) -> PathBuf {
    layout.root().join("flake.nix")
}

/// The parent's `flake.nix` text; `None` when there is none.
pub fn read_flake(layout: &Layout) -> Result<Option<String>> {
    let path = flake_path(layout);
    if !path.is_file() {
        return Ok(None);
    }
    String::from_utf8(crate::error::read_file(&path)?)
        .map(Some)
        .map_err(|_| Error::new("flake.nix is not UTF-8").hint("save flake.nix as UTF-8"))
}

/// The input of `src` for the secrets dir: the one named by `--input`/`secrets.input`
/// when flake.nix has it, else the one whose url points at the dir.
pub fn find(layout: &Layout, src: &str) -> Result<Option<Input>> {
    if let Some(name) = &layout.input {
        if let Some(i) = FlakeInputs::parse(src)?.get(name) {
            return Ok(Some(i.clone()));
        }
    }
    find_secrets_input(src, &super::dir_rel(layout))
}

/// The name `init` gives a new input: `--input`/`secrets.input`, else
/// `<parent dir name>-secrets` made a valid identifier.
pub fn default_name(layout: &Layout) -> String {
    if let Some(n) = &layout.input {
        return n.clone();
    }
    let base = layout
        .root()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "flake".into());
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let clean = if clean.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        clean
    } else {
        format!("_{clean}")
    };
    format!("{clean}-secrets")
}

/// Reads `flake.nix` and classifies the secrets input.
pub fn inspect(layout: &Layout) -> Result<State> {
    let Some(src) = read_flake(layout)? else {
        return Ok(State::NoFlake);
    };
    let input = find(layout, &src).map_err(with_file_hint(layout))?;
    Ok(classify(input))
}

/// The state of an input found in a `flake.nix` already read.
pub fn classify(input: Option<Input>) -> State {
    let Some(input) = input else {
        return State::Missing;
    };
    match input.url_kind() {
        Some(UrlKind::GitFile { .. }) => State::GitFile(input),
        Some(UrlKind::Path { .. }) | Some(UrlKind::Bare { .. }) => State::PathLike(input),
        _ => State::Unknown(input),
    }
}

/// The new `flake.nix` text for a missing or path-like input, with what it does:
/// `None` when there is nothing [`apply`] may do.
pub fn plan(layout: &Layout, src: &str, state: &State) -> Result<Option<(String, String)>> {
    let want = url(layout);
    match state {
        State::Missing => {
            let name = default_name(layout);
            let new = insert_input(src, &name, &want).map_err(with_file_hint(layout))?;
            Ok(Some((
                new,
                format!("added flake input {name}.url = \"{want}\""),
            )))
        }
        State::PathLike(input) => {
            let new = rewrite_url(src, input, &want)?;
            Ok(Some((
                new,
                format!("rewrote flake input {} to {want}", input.name),
            )))
        }
        _ => Ok(None),
    }
}

/// Adds the input, or rewrites a `path:`/bare url to [`url`]; returns the input's name
/// and what was done (`None` for the words when it was right already).
pub fn apply(layout: &Layout) -> Result<(Option<String>, Option<String>)> {
    let Some(src) = read_flake(layout)? else {
        return Ok((None, None));
    };
    let state = classify(find(layout, &src).map_err(with_file_hint(layout))?);
    let name = state
        .input()
        .map(|i| i.name.clone())
        .unwrap_or_else(|| default_name(layout));
    match plan(layout, &src, &state)? {
        Some((new, words)) => {
            crate::atomic::write(&flake_path(layout), new.as_bytes(), 0o644)?;
            Ok((Some(name), Some(words)))
        }
        None => Ok((Some(name), None)),
    }
}

fn with_file_hint(layout: &Layout) -> impl Fn(Error) -> Error + '_ {
    move |mut e| {
        e.message = format!("{}: {}", flake_path(layout).display(), e.message);
        e
    }
}
