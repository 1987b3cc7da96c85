//! `git secrets allow [NAME:PATH…] [--remove]`: marks values of the secrets as public
//! on purpose (a namespace, a cluster name, a server URL the Nix code spells out) in the
//! parent's committed `.git-secrets-allow`, so the leak guards stop warning about them.
//! Without patterns, lists the file. A pattern must cover some value of the secrets, and
//! one that covers a value that looks like a credential needs `--force`.

use super::Ctx;
use crate::allowlist::{self, Allowlist, Pattern};
use crate::checks::{known, Options, Scene};
use crate::error::{Error, Result};
use crate::layout::Overrides;
use clap::Args;

/// `git secrets allow`: the parent's committed `.git-secrets-allow`.
#[derive(Debug, Args)]
#[command(after_help = "\
The leak guards (pre-commit, pre-push, doctor --staged/--history) search the public repo \
for the secrets' values. A credential found there blocks; a name, namespace, host or URL \
only warns, with the command that marks it public. Marked values are listed, one \
NAME:PATH a line, in .git-secrets-allow at the root of the parent; commit it.

Examples:
  git secrets allow kubeconfig:contexts.0.context.namespace
  git secrets allow 'kubeconfig:contexts.*.context.namespace' 'talosconfig:contexts.*.endpoints.*'
  git secrets allow --remove kubeconfig:clusters.0.cluster.server")]
pub struct AllowArgs {
    /// Values to mark public, as NAME:PATH (doctor prints them); in PATH `*` matches one
    /// key and `**` any number. Without any, list the allowlist.
    #[arg(value_name = "NAME:PATH")]
    pub patterns: Vec<String>,
    /// Remove these patterns instead.
    #[arg(long)]
    pub remove: bool,
    /// Also allow a pattern that covers a value that looks like a credential.
    #[arg(long, conflicts_with = "remove")]
    pub force: bool,
}

/// Lists, adds or removes allowlist patterns; returns the exit code.
pub fn run(ctx: &Ctx, args: AllowArgs) -> Result<i32> {
    let layout = ctx.layout()?;
    let path = layout.root().join(allowlist::FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    let current = Allowlist::parse(&text).map_err(|e| {
        let mut out = Error::new(format!("{}: {}", allowlist::FILE, e.message));
        out.hints = e.hints;
        out
    })?;
    if args.patterns.is_empty() {
        if args.remove {
            return Err(Error::usage("--remove needs the patterns to remove")
                .hint("list them: git secrets allow"));
        }
        if current.patterns.is_empty() {
            ctx.ui.status(format!(
                "no values of the secrets are marked public ({} has no entries)",
                allowlist::FILE
            ));
        }
        let out: String = current.patterns.iter().map(|p| format!("{p}\n")).collect();
        return print(&out);
    }
    let mut wanted: Vec<Pattern> = Vec::new();
    for p in &args.patterns {
        let p = Pattern::parse(p)?;
        if !wanted.contains(&p) {
            wanted.push(p);
        }
    }
    let (add, remove) = if args.remove {
        let missing: Vec<String> = wanted
            .iter()
            .filter(|p| !current.patterns.contains(p))
            .map(|p| p.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(Error::usage(format!(
                "not in {}: {}",
                allowlist::FILE,
                missing.join(", ")
            ))
            .hint("list what is there: git secrets allow"));
        }
        (Vec::new(), wanted)
    } else {
        let new: Vec<Pattern> = wanted
            .into_iter()
            .filter(|p| {
                let there = current.patterns.contains(p);
                if there {
                    ctx.ui.status(format!("{p}: already allowed"));
                }
                !there
            })
            .collect();
        if new.is_empty() {
            return Ok(0);
        }
        check_coverage(ctx, &new, args.force)?;
        (new, Vec::new())
    };
    let edited = allowlist::edit(&text, &add, &remove);
    crate::atomic::write(&path, edited.as_bytes(), 0o644)?;
    layout.parent.add(&[path.as_path()])?;
    for p in &add {
        ctx.ui.ok(format!("allowed {p}"));
    }
    for p in &remove {
        ctx.ui.ok(format!("removed {p}"));
    }
    ctx.ui.status(format!(
        "staged {}: commit it with your change",
        allowlist::FILE
    ));
    Ok(0)
}

/// Refuses a pattern that covers no value of the secrets (a typo would exempt nothing
/// and hide that), or one that covers a credential without `--force`.
fn check_coverage(ctx: &Ctx, patterns: &[Pattern], force: bool) -> Result<()> {
    crate::plaintext::disable_core_dumps();
    let overrides = Overrides {
        dir: ctx.global.dir.clone(),
        input: None,
    };
    let scene = Scene::discover(&ctx.cwd, &overrides, Options::default())?;
    let (open, closed) = scene.opened();
    if open.is_empty() {
        let why = if closed > 0 {
            "no identity here decrypts the secrets"
        } else {
            "there are no secrets"
        };
        ctx.ui
            .warn(format!("{why}: cannot check what the patterns cover"));
        return Ok(());
    }
    for c in known::coverage(&scene, patterns) {
        if c.values == 0 {
            return Err(Error::usage(format!(
                "{} matches no value of the secrets",
                c.pattern
            ))
            .hint("use the NAME:PATH doctor prints for a value it found (git secrets doctor --staged)")
            .hint("in PATH, `*` matches one key and `**` any number: kubeconfig:contexts.*.context.namespace"));
        }
        if !c.credentials.is_empty() && !force {
            let message = if c.credentials == [c.pattern.to_string()] {
                format!("{} looks like a credential", c.pattern)
            } else {
                format!(
                    "{} covers a value that looks like a credential: {}",
                    c.pattern,
                    c.credentials.join(", ")
                )
            };
            return Err(Error::new(message).hint(format!(
                "the guards would stop searching for it; if it is public on purpose: git secrets allow --force {}",
                crate::quote::shell(&c.pattern.to_string())
            ))
            .hint("if it was committed, treat it as leaked: rotate it (git secrets rotate NAME) and revoke the old value at its provider"));
        }
    }
    Ok(())
}

/// Writes the list to stdout; a closed pipe is not an error.
fn print(text: &str) -> Result<i32> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(0),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(Error::new(format!("cannot write to stdout: {e}"))),
    }
}
