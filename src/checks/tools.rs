//! The tools around the repos: which Nix (and so which lock command), whether
//! `git secrets` reaches this binary or awslabs/git-secrets, awslabs hooks, our
//! own guards, and which man page `git secrets --help` opens.

use std::path::{Path, PathBuf};

use super::{Check, Scene};
use crate::hooks;
use crate::man_lookup::{self, Owner, Page};
use crate::nix::Nix;

/// The tool checks, in report order.
pub fn checks(s: &Scene) -> Vec<Check> {
    vec![nix(), awslabs_path(), awslabs_hooks(s), our_hooks(s)]
}

fn nix() -> Check {
    const ID: &str = "nix.version";
    let nix = match Nix::discover() {
        Ok(n) => n,
        Err(e) => {
            return Check::warn(ID, "nix is not installed: secrets cannot be relocked here")
                .hint(e.hints.first().cloned().unwrap_or_default())
        }
    };
    match nix.version() {
        Ok(v) => Check::ok(
            ID,
            format!(
                "{} ({}); relocks with `{}`",
                v.line.trim(),
                nix.program().display(),
                v.lock_command()
            ),
        ),
        Err(e) => Check::error(ID, &e),
    }
}

/// Every executable `git-secrets` on PATH, in PATH order.
fn on_path() -> Vec<PathBuf> {
    let Some(path) = std::env::var_os("PATH") else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = Vec::new();
    for dir in std::env::split_paths(&path) {
        let p = dir.join("git-secrets");
        if hooks::is_executable(&p) && !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn awslabs_path() -> Check {
    const ID: &str = "awslabs.path";
    let me = std::env::current_exe().unwrap_or_default();
    let found = on_path();
    let mine = found.iter().position(|p| same_file(p, &me));
    let others: Vec<&PathBuf> = found.iter().filter(|p| !same_file(p, &me)).collect();
    match (mine, others.first()) {
        (Some(0), None) => Check::ok(ID, "`git secrets` runs this binary"),
        (Some(0), Some(o)) => Check::ok(
            ID,
            format!(
                "`git secrets` runs this binary; awslabs/git-secrets options go to {}",
                o.display()
            ),
        ),
        (_, Some(o)) => {
            let dir = me
                .parent()
                .map(|d| d.display().to_string())
                .unwrap_or_default();
            Check::fail(
                ID,
                format!(
                    "another git-secrets ({}, likely awslabs/git-secrets) comes first on PATH: `git secrets` runs it, not this tool (hooks installed by this version run it by its path)",
                    o.display()
                ),
            )
            .hint(format!("put {dir} before {} on PATH", o.parent().map(|d| d.display().to_string()).unwrap_or_default()))
            .hint("or remove the other one (Debian/Ubuntu: apt remove git-secrets)")
        }
        (_, None) => Check::warn(
            ID,
            "git-secrets is not on PATH: `git secrets` cannot find it (hooks installed by this version run it by its path)",
        )
        .hint(format!(
            "add {} to PATH",
            me.parent()
                .map(|d| d.display().to_string())
                .unwrap_or_default()
        )),
    }
}

fn awslabs_hooks(s: &Scene) -> Check {
    const ID: &str = "awslabs.hooks";
    let repo = &s.layout.parent;
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Ok(d) = hooks::hooks_dir(repo) {
        dirs.push(d);
    }
    dirs.push(repo.common_dir().join("hooks"));
    if let Ok(Some(t)) = repo.config_path("init.templateDir") {
        dirs.push(t.join("hooks"));
    }
    dirs.dedup();
    let found: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| hooks::awslabs_hooks_in(d))
        .collect();
    if found.is_empty() {
        return Check::ok(ID, "no awslabs/git-secrets hooks");
    }
    let shown: Vec<String> = found.iter().map(|p| p.display().to_string()).collect();
    let has_other = on_path()
        .iter()
        .any(|p| std::env::current_exe().is_ok_and(|me| !same_file(p, &me)));
    let base = Check::warn(
        ID,
        format!("awslabs/git-secrets hooks in {}", super::list(&shown, 3)),
    );
    if has_other {
        base.hint("they run awslabs/git-secrets, which is installed; this tool forwards its options there")
    } else {
        Check {
            status: super::Status::Fail,
            ..base
        }
        .hint("awslabs/git-secrets is not installed, so these hooks fail every commit (closed on purpose)")
        .hint("install it (apt install git-secrets) or delete its lines from those hooks")
    }
}

fn our_hooks(s: &Scene) -> Check {
    const ID: &str = "hooks.installed";
    let dir = match hooks::hooks_dir(&s.layout.parent) {
        Ok(d) => d,
        Err(e) => return Check::error(ID, &e),
    };
    let missing: Vec<&str> = hooks::HOOKS
        .iter()
        .copied()
        .filter(|h| !hooks::is_ours(&dir.join(h)))
        .collect();
    if !missing.is_empty() {
        return Check::warn(
            ID,
            format!("no git-secrets guard for {}", missing.join(", ")),
        )
        .hint("git secrets hooks install");
    }
    let mut baked: Vec<PathBuf> = Vec::new();
    for h in hooks::HOOKS {
        match hooks::baked_binary(&dir.join(h)) {
            Some(b) => {
                if !baked.contains(&b) {
                    baked.push(b);
                }
            }
            None => {
                return Check::warn(
                    ID,
                    format!("the {h} guard runs whatever `git secrets` is on PATH at commit time (GUI clients may find another one, or none)"),
                )
                .hint("bake this binary's path into the hooks: git secrets hooks install")
            }
        }
    }
    for b in &baked {
        if let Err(why) = runs_as_git_secrets(b) {
            return Check::fail(
                ID,
                format!(
                    "the guards run {}, which {why}: every commit and push fails",
                    b.display()
                ),
            )
            .hint("install them again with the binary you use now: git secrets hooks install");
        }
    }
    let me = std::env::current_exe().unwrap_or_default();
    let shown: Vec<String> = baked.iter().map(|b| b.display().to_string()).collect();
    if let Some(other) = baked.iter().find(|b| !same_file(b, &me)) {
        return Check::warn(
            ID,
            format!(
                "the guards run {}, not this binary ({})",
                other.display(),
                me.display()
            ),
        )
        .hint("to have them run this one: git secrets hooks install");
    }
    Check::ok(
        ID,
        format!(
            "pre-commit and pre-push guards installed in {}; they run {}",
            dir.display(),
            shown.join(", ")
        ),
    )
}

/// Whether `bin` runs and says it is this tool (`git-secrets 0.1.0 (…)`); else why not.
fn runs_as_git_secrets(bin: &Path) -> Result<(), String> {
    if !hooks::is_executable(bin) {
        return Err("is gone or not executable".into());
    }
    let out = std::process::Command::new(bin)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("does not run ({e})"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if out.status.success() && text.starts_with("git-secrets ") {
        Ok(())
    } else {
        Err("is not this tool (awslabs/git-secrets?)".into())
    }
}

/// Every executable `name` on PATH, the first one.
fn first_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| hooks::is_executable(p))
}

fn describe(page: &Page) -> String {
    let whose = match page.owner {
        Owner::Ours => "this tool's page",
        Owner::Other => "another tool's page, likely awslabs/git-secrets'",
        Owner::Unreadable => "a page that could not be read",
    };
    format!("{} ({whose})", page.path.display())
}

/// Which page `man git-secrets` and `git secrets --help` open. A warning at
/// worst: a wrong page misleads, it breaks nothing. Needs no scene, so
/// [`super::run`] runs it beside the others (`man -w` takes tens of ms).
pub fn man_page() -> Check {
    const ID: &str = "man.page";
    let Some(man) = first_on_path("man") else {
        return Check::skip(
            ID,
            "man is not installed: `git secrets --help` shows no page",
        );
    };
    let found = man_lookup::lookup(&man);
    let me = std::env::current_exe().unwrap_or_default();
    // The line that puts our page first (a trailing ':' keeps the system's dirs).
    let manpath_hint = match man_lookup::beside_binary(&me) {
        Some(dir) => format!(
            "put this tool's page first: export MANPATH=\"{}:$MANPATH\" (in your shell profile)",
            dir.display()
        ),
        None => "install this tool's page: bash scripts/install.sh [PREFIX], then export MANPATH=\"PREFIX/share/man:$MANPATH\"".into(),
    };
    // Only when git's lookup differs from man's: then git's own dir is the cause.
    let via_git = |c: Check| {
        match (&found.git_help, &found.git_man_path) {
        (Some(g), Some(dir))
            if g.owner != Owner::Ours && found.man.as_ref().is_none_or(|m| m.path != g.path) =>
        {
            c.hint(format!(
            "`git secrets --help` opens {}: git puts its own man dir {} before MANPATH, so there the other page wins; use `man git-secrets`, or `git secrets -h` for the summary",
            describe(g),
            dir.display()
            ))
        }
        _ => c,
    }
    };
    match &found.man {
        None => via_git(
            Check::warn(
                ID,
                "no man page for git-secrets: `man git-secrets` finds nothing",
            )
            .hint(manpath_hint),
        ),
        Some(p) if p.owner == Owner::Ours => {
            let same = found
                .git_help
                .as_ref()
                .is_none_or(|g| g.owner == Owner::Ours);
            if same {
                Check::ok(
                    ID,
                    format!(
                        "`man git-secrets` and `git secrets --help` open {}",
                        describe(p)
                    ),
                )
            } else {
                via_git(Check::warn(
                    ID,
                    format!(
                        "`man git-secrets` opens {}, but `git secrets --help` does not",
                        describe(p)
                    ),
                ))
            }
        }
        Some(p) => via_git(
            Check::warn(ID, format!("`man git-secrets` opens {}", describe(p))).hint(manpath_hint),
        ),
    }
}
