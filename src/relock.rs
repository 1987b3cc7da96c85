//! The tail of every change to a secret: commit it in the inner repo (Nix
//! sees only committed files), relock the parent's flake input to the new
//! inner HEAD, and verify the lock (Nix may exit 0 on a failed update).

use crate::error::{Error, Result};
use crate::git::Repo;
use crate::layout::Layout;
use crate::lock_direction::Direction;
use crate::nix::flake_nix::find_secrets_input;
use crate::nix::{LockOutcome, LockRequest, Nix};
use std::path::{Path, PathBuf};

/// The flake input that points at the secrets dir: `--input`/`secrets.input`,
/// else the input of the parent's `flake.nix` whose url names the dir.
pub fn input_name(layout: &Layout) -> Result<Option<String>> {
    if let Some(i) = &layout.input {
        return Ok(Some(i.clone()));
    }
    let flake = layout.root().join("flake.nix");
    if !flake.is_file() {
        return Ok(None);
    }
    let src = String::from_utf8(crate::error::read_file(&flake)?)
        .map_err(|_| Error::new("flake.nix is not UTF-8").hint("save flake.nix as UTF-8"))?;
    Ok(find_secrets_input(&src, &dir_rel(layout))?.map(|i| i.name))
}

/// The secrets dir as a flake url path: `./secrets`, `../kubenix-secrets`.
pub fn dir_rel(layout: &Layout) -> String {
    match layout.dir_in_parent() {
        Some(p) => format!("./{}", p.display()),
        None => relative_path(layout.root(), &layout.dir)
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| layout.dir.display().to_string()),
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
                .hint("commit something in it first (git secrets add NAME)")
        })
}

/// The rev the parent's `flake.lock` locks `input` to now; `None` when there is no
/// `flake.lock`, no such input in it, or no rev (a dirty lock).
pub fn locked_rev(layout: &Layout, input: &str) -> Result<Option<String>> {
    let path = layout.root().join(crate::nix::lock::FLAKE_LOCK);
    if !path.is_file() {
        return Ok(None);
    }
    let lock = crate::nix::FlakeLock::read(&path)?;
    Ok(lock.input(input)?.and_then(|l| l.rev))
}

/// Refuses, changing nothing, unless locking `input` to the inner HEAD moves the lock
/// forward along the inner history (or nothing is locked yet): a lock that went back
/// would publish older, perhaps revoked, secrets; one that went sideways would drop
/// someone's change. See [`crate::lock_direction`].
pub fn check_direction(layout: &Layout, inner: &Repo, input: &str) -> Result<Direction> {
    let head = inner_head(inner)?;
    let locked = locked_rev(layout, input)?;
    crate::lock_direction::check(inner, input, locked.as_deref(), &head)
}

/// Locks `input` to the inner HEAD and verifies it; refuses to move the lock backwards
/// or sideways ([`check_direction`]).
pub fn relock(layout: &Layout, input: &str, offline: bool) -> Result<LockOutcome> {
    let inner = inner_repo(layout)?;
    let rev = inner_head(&inner)?;
    check_direction(layout, &inner, input)?;
    let nix = Nix::discover()?;
    nix.lock(&LockRequest {
        parent_root: layout.root(),
        input,
        expected_rev: &rev,
        offline,
    })
}

/// Refuses to commit when the inner repo has staged changes other than
/// `ours`: `git commit --only` would leave them, but the user should know.
pub fn check_no_foreign_staged(inner: &Repo, ours: &[&Path]) -> Result<()> {
    let ours: Vec<String> = ours
        .iter()
        .filter_map(|p| inner.rela_path(p).ok())
        .collect();
    let foreign: Vec<String> = inner
        .staged_paths()?
        .into_iter()
        .filter(|p| !ours.contains(p))
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    Err(Error::new(format!(
        "the secrets repo has other staged changes: {}",
        foreign.join(", ")
    ))
    .hint(format!(
        "commit or unstage them first: git -C {} commit, or git -C {} restore --staged {}",
        inner.root().display(),
        inner.root().display(),
        foreign.join(" ")
    )))
}
