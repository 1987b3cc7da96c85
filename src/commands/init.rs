//! `git secrets init [URL] [--new]`: clone (or create) the private secrets
//! repo and wire it into the parent: ignored, no gitlink, a `git+file:` flake
//! input, locked to the inner HEAD. Every step first checks whether it is
//! already done, so a second run changes nothing and says so.

use super::Ctx;
use crate::atomic;
use crate::cli::InitArgs;
use crate::error::{Error, Result};
use crate::git::EntryKind;
use crate::layout::{Layout, Overrides};
use crate::nix::flake_nix::{find_secrets_input, insert_input, rewrite_url};
use crate::nix::template::SECRETS_FLAKE;
use crate::nix::UrlKind;
use crate::quote;
use crate::relock;
use crate::sops::keys::{default_key_file, generate_identity, Identities, Recipient};
use crate::sops::rules::Config;
use std::path::Path;

/// Reports each step: done now, already done, or (with --dry-run) would do.
struct Steps<'a> {
    ctx: &'a Ctx,
    dry_run: bool,
    changed: usize,
}

impl Steps<'_> {
    fn already(&self, what: impl AsRef<str>) {
        self.ctx.ui.ok(format!("{} (already)", what.as_ref()));
    }
    /// Runs `act` unless --dry-run; reports what was (or would be) done.
    fn change(&mut self, what: impl AsRef<str>, act: impl FnOnce() -> Result<()>) -> Result<()> {
        if self.dry_run {
            self.ctx.ui.status(format!("would: {}", what.as_ref()));
        } else {
            act()?;
            self.ctx.ui.ok(what.as_ref());
        }
        self.changed += 1;
        Ok(())
    }
}

pub fn run(ctx: &Ctx, args: InitArgs) -> Result<i32> {
    let layout = Layout::discover(
        &ctx.cwd,
        &Overrides {
            dir: ctx.global.dir.clone(),
            input: args.input.clone(),
        },
    )?;
    let mut steps = Steps {
        ctx,
        dry_run: args.dry_run,
        changed: 0,
    };
    // Refusals first, so a refused init changes nothing at all.
    refuse_tracked_files(&layout)?;
    let ids = Identities::discover();
    inner_repo(&mut steps, &layout, &args, &ids)?;
    crate::failpoint::hit("init.after-repo")?;
    ignore_dir(&mut steps, &layout)?;
    crate::failpoint::hit("init.after-ignore")?;
    drop_gitlink(&mut steps, &layout)?;
    let input = flake_input(&mut steps, &layout, &args)?;
    crate::failpoint::hit("init.after-flake")?;
    if let Some(input) = input {
        lock(&mut steps, &layout, &input, &args)?;
    }
    if steps.dry_run {
        ctx.ui.status(format!(
            "dry run: {} change(s) planned, nothing written",
            steps.changed
        ));
    } else if steps.changed == 0 {
        ctx.ui.status("nothing to do: the secrets repo is set up");
    }
    Ok(0)
}

/// Files of the secrets dir tracked by the parent, or a submodule entry,
/// need the user's decision; we stop with the exact commands.
fn refuse_tracked_files(layout: &Layout) -> Result<()> {
    let Some(rel) = layout.dir_in_parent() else {
        return Ok(());
    };
    let rel_s = rel.display().to_string();
    // Both come from the repo (.gitmodules, flake.nix): quoted for the shell.
    let rel_q = quote::shell(&rel_s);
    if let Some(name) = layout.parent.submodule_at(rel)? {
        let section = quote::shell(&format!("submodule.{name}")).into_owned();
        return Err(Error::new(format!("{rel_s} is registered as a git submodule ({}) of the parent", quote::shell(&name)))
            .hint("a submodule publishes the inner repo's commit id and Nix cannot read through it")
            .hint(format!(
                "keep the files and unregister it: git rm --cached {rel_q} && git config -f .gitmodules --remove-section {section} && git add .gitmodules && git config --remove-section {section}"
            ))
            .hint("then run git secrets init again"));
    }
    let files: Vec<String> = layout
        .parent
        .index_entries_under(rel)?
        .into_iter()
        .filter(|e| e.kind != EntryKind::Gitlink)
        .map(|e| e.path)
        .collect();
    if !files.is_empty() {
        let shown: Vec<&str> = files.iter().take(5).map(String::as_str).collect();
        return Err(Error::new(format!(
            "the parent repo tracks {} file(s) under {rel_s}/: {}{}",
            files.len(),
            shown.join(", "),
            if files.len() > 5 { ", …" } else { "" }
        ))
        .hint(format!("stop tracking them (the files stay on disk): git rm -r --cached {rel_q}"))
        .hint("they are still in the parent's history: check with git secrets doctor --history before publishing")
        .hint("then run git secrets init again"));
    }
    Ok(())
}

fn inner_repo(steps: &mut Steps, layout: &Layout, args: &InitArgs, ids: &Identities) -> Result<()> {
    let dir = &layout.dir;
    let shown = shown_dir(layout);
    if dir.join(".git").exists() {
        steps.already(format!("{shown} is a git repository"));
        if args.url.is_some() || args.new {
            steps
                .ctx
                .ui
                .detail("not cloning or creating: the secrets repo is already there");
        }
        check_recipients(steps.ctx, layout, ids)?;
        return Ok(());
    }
    let non_empty = dir.is_dir()
        && std::fs::read_dir(dir)
            .map_err(|e| Error::io("read", dir, e))?
            .next()
            .is_some();
    if non_empty {
        let (q, bak) = (
            quote::shell(&shown),
            quote::shell(&format!("{shown}.bak")).into_owned(),
        );
        return Err(
            Error::new(format!("{shown} exists but is not a git repository")).hint(format!(
            "move it away (mv {q} {bak}) and run init again, or make it a repo: git -C {q} init"
        )),
        );
    }
    if dir.exists() && !dir.is_dir() {
        return Err(Error::new(format!("{shown} exists and is not a directory"))
            .hint("move it away and run init again"));
    }
    match (&args.url, args.new) {
        (Some(url), _) => {
            let url = url.clone();
            steps.change(format!("cloned {url} into {shown}"), || {
                crate::git::clone(&url, dir)
            })?;
            if !steps.dry_run {
                check_recipients(steps.ctx, layout, ids)?;
            }
        }
        (None, true) => {
            let recipients = my_recipients(steps, ids, &args.recipients)?;
            steps.change(format!("created a new secrets repo in {shown}"), || {
                create_repo(dir, &recipients)
            })?;
        }
        (None, false) => {
            return Err(Error::usage(format!("{shown} does not exist yet"))
                .hint("clone your secrets repo: git secrets init <URL>")
                .hint("or create a new one: git secrets init --new"))
        }
    }
    Ok(())
}

fn shown_dir(layout: &Layout) -> String {
    match layout.dir_in_parent() {
        Some(p) => format!("{}/", p.display()),
        None => layout.dir.display().to_string(),
    }
}

/// The recipients for a new `.sops.yaml`: this user's key (generated after
/// a prompt when there is none) plus `--recipient`s.
fn my_recipients(steps: &mut Steps, ids: &Identities, extra: &[String]) -> Result<Vec<Recipient>> {
    let mut out: Vec<Recipient> = Vec::new();
    match ids.recipients().first() {
        Some(r) => out.push(r.clone()),
        None => {
            let path = default_key_file().ok_or_else(|| {
                Error::new("cannot find your config dir (HOME is not set)")
                    .hint("set HOME or XDG_CONFIG_HOME")
            })?;
            let q = format!("No age key found. Create one in {}?", path.display());
            if !steps.dry_run && !steps.ctx.ui.confirm(&q, "--yes")? {
                return Err(Error::new("no age key to encrypt to")
                    .hint("create one with age-keygen -o ~/.config/sops/age/keys.txt, or pass --recipient age1…"));
            }
            let (text, r) = generate_identity();
            steps.change(
                format!("created an age key in {} (public key {r})", path.display()),
                || write_key_file(&path, &text),
            )?;
            out.push(r);
        }
    }
    for r in extra {
        let r = Recipient::parse(r)?;
        if !out.contains(&r) {
            out.push(r);
        }
    }
    Ok(out)
}

fn write_key_file(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| Error::io("chmod", dir, e))?;
    if path.exists() {
        return Err(Error::new(format!(
            "{} exists but holds no usable age key",
            path.display()
        ))
        .hint("check the file (it should have an AGE-SECRET-KEY-1… line); it was not touched"));
    }
    atomic::write(path, text.as_bytes(), 0o600)
}

/// The `.sops.yaml` of a new secrets repo.
pub fn sops_yaml(recipients: &[Recipient]) -> String {
    let list: Vec<String> = recipients.iter().map(|r| r.to_string()).collect();
    format!(
        "# sops configuration of this secrets repo (written by git secrets init --new).\n\
         # Files under secrets/ are encrypted to these age recipients. Add one with\n\
         #   git secrets rekey --add-recipient age1…\n\
         creation_rules:\n    - path_regex: ^secrets/\n      age: {}\n",
        list.join(",")
    )
}

/// Builds the new repo in a hidden temp dir beside `dir` and renames it
/// into place only once its first commit exists: a crash at any moment
/// leaves either no secrets repo or a complete one, never half of one.
fn create_repo(dir: &Path, recipients: &[Recipient]) -> Result<()> {
    const PREFIX: &str = ".git-secrets-new-";
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
    // Leftovers of an init that was killed before its rename.
    if let Ok(rd) = std::fs::read_dir(parent) {
        for e in rd.flatten() {
            if e.file_name().to_string_lossy().starts_with(PREFIX) {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let tmp = tempfile::Builder::new()
        .prefix(PREFIX)
        .tempdir_in(parent)
        .map_err(|e| Error::io("create a temporary directory in", parent, e))?;
    let t = tmp.path();
    let repo = crate::git::init(t)?;
    atomic::write(&t.join("flake.nix"), SECRETS_FLAKE.as_bytes(), 0o644)?;
    atomic::write(
        &t.join(".sops.yaml"),
        sops_yaml(recipients).as_bytes(),
        0o644,
    )?;
    std::fs::create_dir_all(t.join("secrets"))
        .map_err(|e| Error::io("create", &t.join("secrets"), e))?;
    let keep = t.join("secrets").join(".gitkeep");
    atomic::write(&keep, b"", 0o644)?;
    let paths = [t.join("flake.nix"), t.join(".sops.yaml"), keep];
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    repo.commit_paths(&refs, "Secrets repo created by git secrets init --new")?;
    crate::failpoint::hit("init.before-rename")?;
    if dir.is_dir() {
        // Only an empty dir gets here (inner_repo refuses others).
        std::fs::remove_dir(dir).map_err(|e| Error::io("replace", dir, e))?;
    }
    let built = tmp.keep();
    std::fs::rename(&built, dir).map_err(|e| {
        let _ = std::fs::remove_dir_all(&built);
        Error::io("move the new repo to", dir, e)
    })
}

/// After a clone: `.sops.yaml` exists, parses, and names one of our keys.
fn check_recipients(ctx: &Ctx, layout: &Layout, ids: &Identities) -> Result<()> {
    let path = layout.dir.join(".sops.yaml");
    if !path.is_file() {
        ctx.ui.warn(format!(
            "{} has no .sops.yaml: new secrets cannot be encrypted",
            shown_dir(layout)
        ));
        ctx.ui.hint("create one (see git secrets init --new for the shape) and commit it in the secrets repo");
        return Ok(());
    }
    let config = match Config::load(&path) {
        Ok(c) => c,
        Err(e) => {
            ctx.ui.warn(format!("{e}"));
            return Ok(());
        }
    };
    let named: Vec<String> = config
        .creation_rules
        .iter()
        .flat_map(|r| r.plan.groups.iter().flatten().map(|x| x.to_string()))
        .collect();
    let mine: Vec<String> = ids.recipients().iter().map(|r| r.to_string()).collect();
    if mine.iter().any(|m| named.contains(m)) {
        ctx.ui.ok(".sops.yaml names your age key");
        return Ok(());
    }
    ctx.ui.warn(
        ".sops.yaml does not name any age key you hold: you cannot decrypt these secrets yet",
    );
    match mine.first() {
        Some(k) => {
            ctx.ui.hint(format!("your public key is {k}"));
            ctx.ui.hint(format!("ask a teammate who can decrypt to run: git secrets rekey --add-recipient {k}"));
        }
        None => ctx.ui.hint(
            "create a key (age-keygen -o ~/.config/sops/age/keys.txt) and send its public key to a teammate",
        ),
    }
    Ok(())
}

fn ignore_dir(steps: &mut Steps, layout: &Layout) -> Result<()> {
    let Some(rel) = layout.dir_in_parent() else {
        steps
            .ctx
            .ui
            .detail("the secrets dir is outside the parent: nothing to ignore");
        return Ok(());
    };
    let rel_s = rel.display().to_string();
    if layout.parent.is_ignored(rel, true)? {
        steps.already(format!("{rel_s}/ is ignored by the parent"));
        return Ok(());
    }
    let path = layout.root().join(".gitignore");
    // Escaped: a dir named `a[1]` must not ignore `a1` instead (and stay public).
    let pattern = quote::gitignore_dir(&rel_s);
    steps.change(format!("added {pattern} to .gitignore"), || {
        let mut text = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io("read", &path, e)),
        };
        if !text.is_empty() && !text.ends_with(b"\n") {
            text.push(b'\n');
        }
        text.extend_from_slice(
            format!("# private secrets repo (git secrets)\n{pattern}\n").as_bytes(),
        );
        atomic::write(&path, &text, 0o644)
    })
}

fn drop_gitlink(steps: &mut Steps, layout: &Layout) -> Result<()> {
    let Some(rel) = layout.dir_in_parent() else {
        return Ok(());
    };
    match layout.parent.index_entry(rel)? {
        Some(e) if e.kind == EntryKind::Gitlink => {
            steps.ctx.ui.status(format!(
                "the parent's index holds a gitlink for {} (from `git add {}`): it would publish the secrets repo's commit id, and Nix cannot read through it",
                rel.display(),
                rel.display()
            ));
            steps.change(
                format!(
                    "removed the gitlink {} from the parent's index (files untouched)",
                    rel.display()
                ),
                || layout.parent.rm_cached(rel),
            )
        }
        _ => Ok(()),
    }
}

/// Finds, rewrites or inserts the `git+file:` input; returns its name
/// (`None` when the parent has no flake.nix).
fn flake_input(steps: &mut Steps, layout: &Layout, args: &InitArgs) -> Result<Option<String>> {
    let path = layout.root().join("flake.nix");
    if !path.is_file() {
        steps
            .ctx
            .ui
            .warn("the parent has no flake.nix: skipping the flake input and lock");
        steps.ctx.ui.hint(format!(
            "in your flake.nix, add: inputs.{}.url = \"git+{}\";",
            default_input_name(layout, args),
            file_url(layout)
        ));
        return Ok(None);
    }
    let src = String::from_utf8(crate::error::read_file(&path)?)
        .map_err(|_| Error::new("flake.nix is not UTF-8").hint("save it as UTF-8"))?;
    let dir_rel = relock::dir_rel(layout);
    let want = format!("git+{}", file_url(layout));
    match find_secrets_input(&src, &dir_rel).map_err(|e| with_file_hint(e, &path))? {
        Some(input) => {
            let kind = input.url_kind();
            if kind.as_ref().is_some_and(UrlKind::is_git_file) {
                steps.already(format!("flake input {} is {}", input.name, want));
                return Ok(Some(input.name));
            }
            let old = input
                .url
                .as_ref()
                .map(|u| u.value.clone())
                .unwrap_or_default();
            steps.ctx.ui.status(format!(
                "flake input {} is {old}: Nix reads a path: input through the parent's index, which cannot see into the secrets repo",
                input.name
            ));
            if !steps.dry_run
                && !steps
                    .ctx
                    .ui
                    .confirm(&format!("Rewrite it to {want}?"), "--yes")?
            {
                return Err(Error::new(format!(
                    "flake input {} still points at {old}",
                    input.name
                ))
                .hint(format!(
                    "change its url to \"{want}\" by hand, or rerun with --yes"
                )));
            }
            let new_src = rewrite_url(&src, &input, &want)?;
            steps.change(
                format!("rewrote flake input {} to {want}", input.name),
                || atomic::write(&path, new_src.as_bytes(), 0o644),
            )?;
            Ok(Some(input.name))
        }
        None => {
            let name = default_input_name(layout, args);
            let new_src = insert_input(&src, &name, &want).map_err(|e| with_file_hint(e, &path))?;
            steps.change(format!("added flake input {name}.url = \"{want}\""), || {
                atomic::write(&path, new_src.as_bytes(), 0o644)
            })?;
            Ok(Some(name))
        }
    }
}

fn with_file_hint(mut e: Error, path: &Path) -> Error {
    e.message = format!("{}: {}", path.display(), e.message);
    e
}

fn file_url(layout: &Layout) -> String {
    format!("file:{}", relock::dir_rel(layout))
}

fn default_input_name(layout: &Layout, args: &InitArgs) -> String {
    if let Some(n) = args.input.clone().or_else(|| layout.input.clone()) {
        return n;
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

fn lock(steps: &mut Steps, layout: &Layout, input: &str, args: &InitArgs) -> Result<()> {
    if args.no_lock {
        steps.ctx.ui.status("not locking (--no-lock)");
        return Ok(());
    }
    if steps.dry_run {
        steps.ctx.ui.status(format!(
            "would: lock flake input {input} to the secrets repo's HEAD"
        ));
        return Ok(());
    }
    let inner = relock::inner_repo(layout)?;
    let rev = relock::inner_head(&inner)?;
    let lock_path = layout.root().join("flake.lock");
    if let Ok(lock) = crate::nix::FlakeLock::read(&lock_path) {
        if lock.verify(input, &rev).is_ok() {
            steps.already(format!(
                "flake.lock locks {input} to {}",
                &rev[..12.min(rev.len())]
            ));
            return Ok(());
        }
    }
    if crate::nix::Nix::discover().is_err() {
        steps
            .ctx
            .ui
            .warn("nix is not installed: the flake input is not locked");
        steps
            .ctx
            .ui
            .hint("install Nix, then run git secrets init again (it only locks)");
        return Ok(());
    }
    let outcome = relock::relock(layout, input, args.offline)?;
    steps.changed += 1;
    steps.ctx.ui.ok(crate::nix::lock::describe(&outcome));
    for w in &outcome.warnings {
        steps.ctx.ui.warn(w);
    }
    steps
        .ctx
        .ui
        .hint("commit the parent's flake.nix, flake.lock and .gitignore when you are ready");
    Ok(())
}
