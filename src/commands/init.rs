//! `git secrets init [URL] [--new]`: clone (or create) the private secrets
//! repo and wire it into the parent: ignored, no gitlink, a `git+file:` flake
//! input, locked to the inner HEAD. Every step first checks whether it is
//! already done, so a second run changes nothing and says so.

use super::Ctx;
use crate::atomic;
use crate::cli::LockArgs;
use crate::error::{Error, Result};
use crate::layout::{Layout, Overrides};
use crate::nix::template::SECRETS_FLAKE;
use crate::quote;
use crate::sops::keys::{default_key_file, generate_identity, Identities, Recipient};
use crate::sops::metadata::EncryptionRules;
use crate::sops::rules::{write_config, Config, RuleToWrite};
use crate::wiring::{self, flake_input, gitlink, ignore, lock, tracked};
use clap::Args;
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
    /// A step --dry-run plans: `would clone …`, in the future tense.
    fn would(&mut self, what: impl AsRef<str>) {
        self.ctx.ui.status(format!("would {}", what.as_ref()));
        self.changed += 1;
    }
    /// Runs `act` unless --dry-run; reports what was (or would be) done.
    fn change(&mut self, what: impl AsRef<str>, act: impl FnOnce() -> Result<()>) -> Result<()> {
        if self.dry_run {
            self.would(future(what.as_ref()));
        } else {
            act()?;
            self.ctx.ui.ok(what.as_ref());
            self.changed += 1;
        }
        Ok(())
    }
}

/// What a step reports once done ("cloned X into Y"), as what it would do:
/// "clone X into Y". The steps' words are written in the past tense, shared
/// with `doctor --fix`; only their first word changes.
fn future(done: &str) -> String {
    const VERBS: [(&str, &str); 9] = [
        ("added", "add"),
        ("changed", "change"),
        ("cloned", "clone"),
        ("created", "create"),
        ("installed", "install"),
        ("removed", "remove"),
        ("rewrote", "rewrite"),
        ("set", "set"),
        ("wrote", "write"),
    ];
    let (first, rest) = done.split_once(' ').unwrap_or((done, ""));
    match VERBS.iter().find(|(past, _)| *past == first) {
        Some((_, now)) if rest.is_empty() => now.to_string(),
        Some((_, now)) => format!("{now} {rest}"),
        None => done.to_string(),
    }
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// URL or path of the private secrets repo to clone.
    pub url: Option<String>,
    /// Create a new secrets repo from the built-in template instead of cloning.
    #[arg(long, conflicts_with = "url")]
    pub new: bool,
    /// With --new: set this as the secrets repo's origin and push to it (after confirmation).
    #[arg(long, value_name = "URL", requires = "new")]
    pub remote: Option<String>,
    /// Name of the flake input (default: <parent-dir-name>-secrets).
    #[arg(long, value_name = "NAME")]
    pub input: Option<String>,
    /// Extra age recipients for .sops.yaml (with --new).
    #[arg(long = "recipient", value_name = "AGE", value_parser = Recipient::parse)]
    pub recipients: Vec<Recipient>,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
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
    let input = flake_input(&mut steps, &layout)?;
    crate::failpoint::hit("init.after-flake")?;
    merge_and_diff_drivers(&mut steps, &layout)?;
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
/// need the user's decision (they are in the parent's history too); we stop
/// with the exact commands. `doctor --fix` only drops them from the index.
fn refuse_tracked_files(layout: &Layout) -> Result<()> {
    let rel_s = match layout.dir_in_parent() {
        Some(rel) => rel.display().to_string(),
        None => return Ok(()),
    };
    // Both come from the repo (.gitmodules, flake.nix): quoted for the shell.
    let rel_q = quote::shell(&rel_s).into_owned();
    match wiring::tracked::inspect(layout)? {
        tracked::State::Submodule { name } => {
            let section = quote::shell(&format!("submodule.{name}")).into_owned();
            Err(Error::new(format!(
                "{rel_s} is registered as a git submodule ({}) of the parent",
                quote::shell(&name)
            ))
            .hint("a submodule publishes the inner repo's commit id and Nix cannot read through it")
            .hint(format!(
                "keep the files and unregister it: git rm --cached {rel_q} && git config -f .gitmodules --remove-section {section} && git add .gitmodules && git config --remove-section {section}"
            ))
            .hint("then run git secrets init again"))
        }
        tracked::State::Staged { files } => {
            let shown: Vec<&str> = files.iter().take(5).map(String::as_str).collect();
            Err(Error::new(format!(
                "the parent repo tracks {} file(s) under {rel_s}/: {}{}",
                files.len(),
                shown.join(", "),
                if files.len() > 5 { ", …" } else { "" }
            ))
            .hint(format!("stop tracking them (the files stay on disk): git rm --cached -r {rel_q}"))
            .hint("they are still in the parent's history: check with git secrets doctor --history before publishing")
            .hint("then run git secrets init again"))
        }
        _ => Ok(()),
    }
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
            let url = absolute_url(url, &steps.ctx.cwd);
            // an empty remote (a new hosted repo) cannot be cloned into anything
            // usable: ask it first, before anything in the parent changes
            let empty = !steps.dry_run
                && crate::git::ls_remote(
                    &url,
                    Path::new("."),
                    crate::git::fetch_timeout_from_env(),
                )
                .map_err(|e| e.hint("nothing was changed"))?
                .is_empty();
            if empty {
                steps.ctx.ui.status(format!(
                    "{url} is an empty repository: creating the secrets repo from the template, to push there"
                ));
                let recipients = my_recipients(steps, ids, &args.recipients)?;
                steps.change(format!("created a new secrets repo in {shown}"), || {
                    create_repo(dir, &recipients)
                })?;
                connect_remote(steps, layout, &url)?;
            } else {
                steps.change(format!("cloned {url} into {shown}"), || {
                    crate::git::clone(&url, dir)
                })?;
                if !steps.dry_run {
                    offer_key(steps, ids)?;
                    check_recipients(steps.ctx, layout, &Identities::discover())?;
                }
            }
        }
        (None, true) => {
            let recipients = my_recipients(steps, ids, &args.recipients)?;
            steps.change(format!("created a new secrets repo in {shown}"), || {
                create_repo(dir, &recipients)
            })?;
            if let Some(remote) = &args.remote {
                connect_remote(steps, layout, &absolute_url(remote, &steps.ctx.cwd))?;
            }
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
    wiring::dir_shown(layout)
}

/// The recipients for a new `.sops.yaml`: this user's key (generated after
/// a prompt when there is none) plus `--recipient`s.
fn my_recipients(
    steps: &mut Steps,
    ids: &Identities,
    extra: &[Recipient],
) -> Result<Vec<Recipient>> {
    let mut out: Vec<Recipient> = Vec::new();
    let refused = crate::sops::keys::first_refusal(&ids.looked);
    match (ids.recipients().first(), refused) {
        (Some(r), _) => out.push(r.clone()),
        // the user has a key file sops refuses: fix it rather than make a second key
        (None, Some(refused)) => {
            let mut e = Error::new(format!("no usable age key: {refused}"));
            e.hints = crate::hints::unusable(&ids.looked);
            return Err(e);
        }
        (None, None) => {
            let path = default_key_file().ok_or_else(|| {
                Error::new("cannot find your config dir: HOME is not set, or XDG_CONFIG_HOME is a relative path (sops ignores it)")
                    .hint("set HOME, or XDG_CONFIG_HOME to an absolute path")
            })?;
            let q = format!("No age key found. Create one in {}?", path.display());
            if !steps.dry_run && !steps.ctx.ui.confirm(&q, "--yes")? {
                return Err(Error::new("no age key to encrypt to").hint(format!(
                    "create one with: {}, or pass --recipient age1…",
                    crate::hints::make_key(Some(&path))
                )));
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
        if !out.contains(r) {
            out.push(r.clone());
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
    let rule = RuleToWrite {
        path_regex: Some("^secrets/"),
        rules: &EncryptionRules::default(),
        age: &list.join(","),
    };
    write_config(
        "# sops configuration of this secrets repo (written by git secrets init --new).\n\
         # Files under secrets/ are encrypted to these age recipients. Add one with\n\
         #   git secrets rekey --add-recipient age1…\n",
        &[rule],
        None,
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
        .flat_map(|r| r.plan.recipients())
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
            ctx.ui.hint(format!(
                "ask a teammate who can decrypt to run: git secrets rekey --add-recipient {k}"
            ));
        }
        None => ctx.ui.hint(format!(
            "create a key ({}) and send its public key to a teammate",
            crate::hints::make_key(default_key_file().as_deref())
        )),
    }
    Ok(())
}

fn ignore_dir(steps: &mut Steps, layout: &Layout) -> Result<()> {
    match wiring::ignore::inspect(layout)? {
        ignore::State::Outside => {
            steps
                .ctx
                .ui
                .detail("the secrets dir is outside the parent: nothing to ignore");
            Ok(())
        }
        ignore::State::Ignored { rel } => {
            steps.already(format!("{rel}/ is ignored by the parent"));
            Ok(())
        }
        ignore::State::NotIgnored { rel } => steps.change(ignore::plan(&rel), || {
            wiring::ignore::apply(layout).map(|_| ())
        }),
    }
}

fn drop_gitlink(steps: &mut Steps, layout: &Layout) -> Result<()> {
    if wiring::gitlink::inspect(layout)? != gitlink::State::Staged {
        return Ok(());
    }
    let rel = wiring::dir_shown(layout);
    let rel = rel.trim_end_matches('/');
    steps.ctx.ui.status(format!(
        "the parent's index holds a gitlink for {rel} (from `git add {rel}`): it would publish the secrets repo's commit id, and Nix cannot read through it"
    ));
    steps.change(gitlink::plan(layout), || {
        wiring::gitlink::apply(layout).map(|_| ())
    })
}

/// Finds, rewrites or inserts the `git+file:` input; returns its name
/// (`None` when the parent has no flake.nix).
fn flake_input(steps: &mut Steps, layout: &Layout) -> Result<Option<String>> {
    let want = flake_input::url(layout);
    let state = flake_input::inspect(layout)?;
    match &state {
        flake_input::State::NoFlake => {
            steps
                .ctx
                .ui
                .warn("the parent has no flake.nix: skipping the flake input and lock");
            steps.ctx.ui.hint(format!(
                "in your flake.nix, add: inputs.{}.url = \"{want}\";",
                flake_input::default_name(layout),
            ));
            return Ok(None);
        }
        flake_input::State::GitFile(input) => {
            steps.already(format!("flake input {} is {want}", input.name));
            return Ok(Some(input.name.clone()));
        }
        flake_input::State::Unknown(input) => {
            return Err(Error::new(format!(
                "flake input {} has no literal url Nix can lock from the secrets dir",
                input.name
            ))
            .hint(format!(
                "in flake.nix set inputs.{}.url = \"{want}\";",
                input.name
            )));
        }
        flake_input::State::PathLike(input) => {
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
        }
        flake_input::State::Missing => {}
    }
    let src = flake_input::read_flake(layout)?.unwrap_or_default();
    let Some((_, words)) = flake_input::plan(layout, &src, &state)? else {
        return Ok(None);
    };
    let mut name = None;
    steps.change(words, || {
        name = flake_input::apply(layout)?.0;
        Ok(())
    })?;
    Ok(name
        .or_else(|| state.input().map(|i| i.name.clone()))
        .or_else(|| Some(flake_input::default_name(layout))))
}

fn lock(steps: &mut Steps, layout: &Layout, input: &str, args: &InitArgs) -> Result<()> {
    if args.lock.no_lock {
        steps.ctx.ui.status("not locking (--no-lock)");
        return Ok(());
    }
    if steps.dry_run {
        steps.would(format!(
            "lock flake input {input} to the secrets repo's HEAD"
        ));
        return Ok(());
    }
    let inner = wiring::inner_repo(layout)?;
    let rev = wiring::inner_head(&inner)?;
    if let lock::State::Fresh { .. } =
        lock::freshness(&lock::lock_path(layout), input.to_string(), &rev)
    {
        steps.already(format!(
            "flake.lock locks {input} to {}",
            &rev[..12.min(rev.len())]
        ));
        return Ok(());
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
    let outcome = lock::apply(layout, input, args.lock.offline)?;
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

/// The sops merge driver and diff textconv in the inner repo (local config and
/// `.git/info/attributes`; nothing committed), so plain git in `secrets/` merges and
/// diffs secrets value by value.
fn merge_and_diff_drivers(steps: &mut Steps, layout: &Layout) -> Result<()> {
    if steps.dry_run {
        steps.would("install the sops merge driver and diff textconv in the secrets repo");
        return Ok(());
    }
    let Some(inner) = layout.inner()? else {
        return Ok(());
    };
    let exe = std::env::current_exe()
        .map_err(|e| Error::new(format!("cannot find this executable: {e}")))?;
    if crate::wiring::drivers::installed(&inner, &exe) {
        steps.already("the sops merge driver and diff textconv are installed in the secrets repo");
        return Ok(());
    }
    steps.change(
        "installed the sops merge driver and diff textconv in the secrets repo (git -C secrets log -p shows masked values)",
        || crate::wiring::drivers::install(&inner, &exe).map(|_| ()),
    )
}

/// A local path given as a URL, made absolute against the directory the command runs
/// in (`-C` included, as git does): git would resolve it against the process's own
/// directory, and the url stored as the secrets repo's origin against the secrets repo.
fn absolute_url(url: &str, cwd: &Path) -> String {
    let p = cwd.join(url);
    if !url.contains("://") && p.exists() {
        if let Ok(abs) = std::fs::canonicalize(&p) {
            return abs.to_string_lossy().into_owned();
        }
    }
    url.to_string()
}

/// Sets `origin` of the new secrets repo to `url` and pushes its first commit after
/// confirmation (`--yes`); declined, the hint says how to push later.
fn connect_remote(steps: &mut Steps, layout: &Layout, url: &str) -> Result<()> {
    if steps.dry_run {
        steps.would(format!("set origin to {url} and push the new secrets repo"));
        return Ok(());
    }
    let inner = crate::wiring::inner_repo(layout)?;
    if inner.remote_url("origin").is_none() {
        inner.set_config("remote.origin.url", url)?;
        inner.set_config("remote.origin.fetch", "+refs/heads/*:refs/remotes/origin/*")?;
        steps
            .ctx
            .ui
            .ok(format!("set the secrets repo's origin to {url}"));
        steps.changed += 1;
    }
    let question = format!("Push the new secrets repo to {url}?");
    let yes = match steps.ctx.ui.confirm(&question, "--yes") {
        Ok(yes) => yes,
        Err(e) => {
            steps.ctx.ui.warn(format!("not pushed: {}", e.message));
            false
        }
    };
    if !yes {
        steps
            .ctx
            .ui
            .hint("push it when you are ready: git secrets push");
        return Ok(());
    }
    // opened again: gix read the config before origin was set
    let inner = crate::wiring::inner_repo(layout)?;
    let pushed = crate::change::sync::push_inner(&inner)?;
    steps.ctx.ui.ok(format!(
        "pushed the secrets repo to {}/{}",
        pushed.remote, pushed.branch
    ));
    steps.changed += 1;
    Ok(())
}

/// A teammate's first `init URL` on a machine without an age key: offer to create one
/// (with `--yes` or at a terminal), then the line to send to someone who can decrypt.
fn offer_key(steps: &mut Steps, ids: &Identities) -> Result<()> {
    if !ids.recipients().is_empty() {
        return Ok(());
    }
    let Some(path) = default_key_file() else {
        return Ok(());
    };
    let q = format!(
        "No age key found: you cannot decrypt these secrets yet. Create one in {}?",
        path.display()
    );
    let yes = match steps.ctx.ui.confirm(&q, "--yes") {
        Ok(y) => y,
        Err(_) => {
            steps
                .ctx
                .ui
                .warn("no age key on this machine: you cannot decrypt these secrets yet");
            steps.ctx.ui.hint(format!(
                "create one with: git secrets init --yes (again), or {}",
                crate::hints::make_key(default_key_file().as_deref())
            ));
            return Ok(());
        }
    };
    if !yes {
        return Ok(());
    }
    let (text, r) = generate_identity();
    steps.change(
        format!("created an age key in {} (public key {r})", path.display()),
        || write_key_file(&path, &text),
    )?;
    Ok(())
}
