//! The wiring between the public parent and the private inner repo, one step per
//! module, each as a model: `inspect(&Layout) -> State` says where the step stands,
//! `apply(&Layout)` carries it out and returns the words for what it did.
//!
//! `init` applies the steps in order, `doctor` reports each state as a check, and
//! `doctor --fix` applies the safe ones — the same code and the same words.
//!
//! Steps, in the order `init` runs them:
//! - [`tracked`]: no file of the secrets dir (and no submodule) in the parent's index;
//! - [`ignore`]: the parent's `.gitignore` ignores the secrets dir;
//! - [`gitlink`]: no gitlink for the secrets dir in the parent's index or HEAD;
//! - [`flake_input`]: a `git+file:` input of the parent's `flake.nix` points at it;
//! - [`lock`]: the parent's `flake.lock` locks that input to the inner HEAD;
//! - [`drivers`]: the inner repo merges and diffs sops files value by value.
//!
//! A new step (the inner repo's remote, say) is a new module here with the same
//! two functions, a call in `commands/init.rs`, and a check in `checks/`.

pub mod drivers;
pub mod flake_input;
pub mod gitlink;
pub mod ignore;
pub mod lock;
pub mod tracked;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::git::Repo;
use crate::layout::Layout;

/// The secrets dir as a flake url path: `./secrets`, `../kubenix-secrets`.
pub fn dir_rel(layout: &Layout) -> String {
    match layout.dir_in_parent() {
        Some(p) => format!("./{}", p.display()),
        None => relative_path(layout.root(), &layout.dir)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| layout.dir.display().to_string()),
    }
}

/// The secrets dir as the user types it from the parent root: `secrets/`, or the
/// absolute path when it lies outside.
pub fn dir_shown(layout: &Layout) -> String {
    match layout.dir_in_parent() {
        Some(p) => format!("{}/", p.display()),
        None => layout.dir.display().to_string(),
    }
}

fn relative_path(from: &Path, to: &Path) -> Option<PathBuf> {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return None;
    }
    let mut p = PathBuf::new();
    for _ in common..from.len() {
        p.push("..");
    }
    for c in &to[common..] {
        p.push(c.as_os_str());
    }
    Some(p)
}

/// The inner repo, or an error saying how to get one.
pub fn inner_repo(layout: &Layout) -> Result<Repo> {
    layout.inner()?.ok_or_else(|| {
        Error::new(format!("{} is not a git repository", layout.dir.display()))
            .hint("clone your secrets repo with `git secrets init URL`, or create one with `git secrets init --new`")
    })
}

/// The inner repo's HEAD commit id (hex).
pub fn inner_head(inner: &Repo) -> Result<String> {
    inner
        .head()?
        .commit()
        .map(|c| c.to_string())
        .ok_or_else(|| {
            Error::new("the secrets repo has no commits yet; Nix cannot lock it")
                .hint("commit its .sops.yaml and flake.nix first, or start over: move the empty dir away and run git secrets init <URL> (an empty remote gets the template) or git secrets init --new")
        })
}
