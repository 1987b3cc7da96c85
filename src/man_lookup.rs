//! Which `git-secrets(1)` page `man` opens: ours, awslabs/git-secrets' (same
//! name, often earlier in the man path), or none. `git secrets --help` is
//! `git help secrets`, and git puts its own man directory (`git --man-path`)
//! in front of `MANPATH` before it runs `man`, so the page git shows can differ
//! from the one `man git-secrets` shows; both are looked up here.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::man::MARKER;

/// Whose page a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// This tool's page (its NAME line carries [`MARKER`]).
    Ours,
    /// Another tool's page of the same name (awslabs/git-secrets).
    Other,
    /// Could not be read (a compression tool is missing, no permission).
    Unreadable,
}

/// A page `man -w` named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The file.
    pub path: PathBuf,
    /// Whose it is.
    pub owner: Owner,
}

/// What `man git-secrets` and `git help secrets` open, with the environment
/// this process has.
#[derive(Debug, Clone)]
pub struct Lookup {
    /// `man git-secrets`.
    pub man: Option<Page>,
    /// `git secrets --help` (`git help secrets`), when git is there.
    pub git_help: Option<Page>,
    /// git's own man directory, which it puts first.
    pub git_man_path: Option<PathBuf>,
}

/// Looks both up with the `man` at `man`; `MANPATH` as this process has it.
/// The two `man -w` runs go side by side.
pub fn lookup(man: &Path) -> Lookup {
    let manpath = std::env::var_os("MANPATH");
    let git_man_path = git_man_path();
    let plain = spawn_which(man, manpath.as_deref());
    // A git man dir without the page cannot change what man finds: skip that run.
    let shadowing = git_man_path.as_ref().filter(|g| has_page(g));
    let via_git = shadowing.and_then(|g| {
        // git's setup_man_path(): "<git man path>:" + the old MANPATH.
        let mut mp = OsString::from(g.as_os_str());
        mp.push(":");
        if let Some(old) = &manpath {
            mp.push(old);
        }
        spawn_which(man, Some(&mp))
    });
    let man = plain.and_then(finish_which);
    let git_help = match via_git {
        Some(child) => finish_which(child),
        None if git_man_path.is_some() => man.clone(),
        None => None,
    };
    Lookup {
        man,
        git_help,
        git_man_path,
    }
}

/// Whether `<dir>/man1` holds a `git-secrets.1` page (compressed or not).
fn has_page(dir: &Path) -> bool {
    std::fs::read_dir(dir.join("man1")).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name == "git-secrets.1" || name.starts_with("git-secrets.1.")
        })
    })
}

/// Starts `man -w git-secrets` with `MANPATH` set to `manpath` (unset when None).
fn spawn_which(man: &Path, manpath: Option<&OsStr>) -> Option<Child> {
    let mut cmd = Command::new(man);
    cmd.args(["-w", "git-secrets"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    match manpath {
        Some(mp) => cmd.env("MANPATH", mp),
        None => cmd.env_remove("MANPATH"),
    };
    cmd.spawn().ok()
}

/// The page a `man -w` run named, and whose it is.
fn finish_which(child: Child) -> Option<Page> {
    let out = child
        .wait_with_output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let path = PathBuf::from(text.lines().next()?.trim());
    let owner = owner_of(&path);
    Some(Page { path, owner })
}

/// `git --man-path`.
fn git_man_path() -> Option<PathBuf> {
    let out = crate::git::command()
        .arg("--man-path")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!text.is_empty()).then(|| PathBuf::from(text))
}

/// Reads the page (decompressing as man-db does) and looks for [`MARKER`].
pub fn owner_of(path: &Path) -> Owner {
    let ext = path.extension().and_then(OsStr::to_str).unwrap_or("");
    let tool = match ext {
        "gz" | "z" | "Z" => Some("gzip"),
        "bz2" => Some("bzip2"),
        "xz" | "lzma" => Some("xz"),
        "zst" => Some("zstd"),
        _ => None,
    };
    let text = match tool {
        None => std::fs::read(path).ok(),
        Some(tool) => Command::new(tool)
            .arg("-dc")
            .arg(path)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| o.stdout),
    };
    match text {
        None => Owner::Unreadable,
        Some(bytes) if String::from_utf8_lossy(&bytes).contains(MARKER) => Owner::Ours,
        Some(_) => Owner::Other,
    }
}

/// Where an installed copy of our page would be, next to this binary:
/// `<prefix>/bin/git-secrets` → `<prefix>/share/man` (install.sh, Nix
/// profiles), when such a page exists there.
pub fn beside_binary(exe: &Path) -> Option<PathBuf> {
    let prefix = exe.parent()?.parent()?;
    let dir = prefix.join("share").join("man");
    has_page(&dir).then_some(dir)
}
