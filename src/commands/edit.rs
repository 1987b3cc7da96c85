//! `git secrets edit NAME|PATH`: `$EDITOR` on a tmpfs copy; re-encrypted on
//! save with unchanged values keeping their ciphertext, like `sops edit`.
//!
//! A file of the secrets repo (a bare NAME, or a PATH inside it) then goes
//! through the same tail as `rotate --edit`: commit in the secrets repo,
//! relock, verify (`--no-commit` stops after the write). Nix sees only
//! committed files, so a saved but uncommitted edit would be invisible to it.
//! A sops file anywhere else is saved and that is all. Either way the last
//! line says which of the two happened.

use super::Ctx;
use crate::atomic;
use crate::change::Transaction;
use crate::cli::ChangeArgs;
use crate::error::{display_path, Error, Result};
use crate::layout::{Layout, SecretArg};
use crate::plaintext;
use crate::sops::file::SopsFile;
use crate::sops::formats::{Format, Indent};
use crate::sops::keys::Identities;
use crate::sops::rules::store_indent_checked;
use crate::sops::tree::PlainDocs;
use crate::wiring;
use clap::Args;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

#[derive(Debug, Args)]
#[command(after_help = "\
A secret of the secrets repo is then committed there and the flake input relocked, like \
`rotate --edit` (--no-commit stops after saving); a sops file elsewhere is only saved. \
Interrupted (SIGINT) while the editor runs, it exits 130 and removes the plaintext copy.")]
pub struct EditArgs {
    /// A secret name or a path to a sops file.
    pub secret: SecretArg,
    #[command(flatten)]
    pub change: ChangeArgs,
}

pub fn run(ctx: &Ctx, args: EditArgs) -> Result<i32> {
    plaintext::install_signal_cleanup();
    let path = super::resolve_secret(ctx, &args.secret)?;
    match in_secrets_repo(ctx, &path)? {
        Some((layout, path)) => edit_in_repo(ctx, &args, layout, path),
        None => edit_elsewhere(ctx, &args, &path),
    }
}

/// The layout and the path inside it (through the secrets dir as the layout
/// names it, so the inner repo can stage it) when `path` lies in a secrets
/// repo that is a git repository; `None` for a file anywhere else.
fn in_secrets_repo(ctx: &Ctx, path: &Path) -> Result<Option<(Layout, PathBuf)>> {
    let Ok(layout) = ctx.layout() else {
        return Ok(None);
    };
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let Ok(rel) = canon(path)
        .strip_prefix(canon(&layout.dir))
        .map(Path::to_path_buf)
    else {
        return Ok(None);
    };
    if layout.inner()?.is_none() {
        return Ok(None);
    }
    let inside = layout.dir.join(rel);
    Ok(Some((layout, inside)))
}

/// Opens the editor on the plaintext of the sops file at `path`; the
/// re-encrypted file when the user saved a change, `None` when not.
fn edit_file(ctx: &Ctx, path: &Path, indent: Indent) -> Result<Option<SopsFile>> {
    let opened = Zeroizing::new(crate::error::read_file(path)?);
    let file = SopsFile::parse(&opened, Format::from_path(path)).map_err(|e| {
        let mut named = Error::new(format!("{}: {}", path.display(), e.message));
        named.hints = e.hints;
        named
    })?;
    let file = &file;
    let mut plain = file.decrypt(&Identities::discover())?;
    let original = Zeroizing::new(file.format.emit_plain(&plain.docs.0, indent)?);
    let edited: Option<PlainDocs> =
        crate::editor::edit_plain(&ctx.ui, path, file.format, &original)?;
    let Some(docs) = edited else {
        return Ok(None);
    };
    let new = crate::change::secrets::reencrypt(file, &mut plain.cipher, &docs)?;
    // Another writer the repo lock does not cover (sops, git checkout, a pull)
    // may have changed the file while the editor was open: keep theirs.
    let now = crate::error::read_file(path)?;
    if now[..] != opened[..] {
        return Err(Error::new(format!(
            "{} changed while the editor was open; your edit was not saved",
            path.display()
        ))
        .hint("the file keeps the other change; run the edit again to edit the new version"));
    }
    Ok(Some(new))
}

/// A secret of the secrets repo: edit, then commit → relock → verify.
fn edit_in_repo(ctx: &Ctx, args: &EditArgs, layout: Layout, path: PathBuf) -> Result<i32> {
    // Held from reading until the commit: a rekey or rotate meanwhile would
    // otherwise be undone by our save (a removed recipient written back).
    let session = Transaction::open(layout, &ctx.ui)?;
    session.check_no_foreign_staged(&[&path])?;
    if let Some(why) = crate::change::secrets::uncovered_by_rules(&path) {
        ctx.ui.warn(why);
        ctx.ui.hint(
            "if the recipients should change, fix path_regex in .sops.yaml, then: git secrets rekey",
        );
    }
    let shown = session.shown(&path);
    // Indent as `rotate` does: from the secrets repo's .sops.yaml.
    let indent = store_indent_checked(path.parent().unwrap_or(&session.layout.dir))?;
    let unchanged = |then: &str| {
        ctx.ui
            .status(format!("{} unchanged in the editor{then}", shown.display()))
    };
    match edit_file(ctx, &path, indent)? {
        Some(new) => {
            atomic::write(&path, &new.to_bytes(indent)?, 0o644)?;
            ctx.ui.step(format!("saved {}", shown.display()));
        }
        None if session.pending(std::slice::from_ref(&path))?.is_empty() => {
            let opts = args.change.options();
            let fresh = matches!(
                wiring::lock::inspect(&session.layout)?,
                wiring::lock::State::Fresh { .. } | wiring::lock::State::NoInput
            );
            if fresh || opts.no_commit || opts.no_lock {
                unchanged("; nothing written or committed");
                return Ok(0);
            }
            // An earlier edit was stopped after its commit (a crash): finish the lock.
            unchanged(", but flake.lock is not locked to the secrets repo's HEAD; relocking");
        }
        // An earlier edit left it uncommitted (--no-commit, a crash): finish that.
        None => unchanged(", but it differs from the secrets repo's HEAD; committing it"),
    }
    let name = crate::layout::secret_name_of(&path);
    let message = args.change.message_or(|| format!("edit {name}"));
    session.finish(&[path], &message, &args.change.options(), &ctx.ui)?;
    Ok(0)
}

/// A sops file outside any secrets repo: edit and save, nothing else.
fn edit_elsewhere(ctx: &Ctx, args: &EditArgs, path: &Path) -> Result<i32> {
    let shown = display_path(path, &ctx.cwd);
    if args.change.names_a_commit() {
        return Err(Error::usage(format!(
            "{} is not in a secrets repo; there is nothing to commit or lock",
            shown.display()
        ))
        .hint(
            "drop -m, --no-commit, --no-lock, --commit-parent and --push/--no-push for a file outside the secrets repo",
        ));
    }
    // Like `sops edit`: the .sops.yaml found from the current dir.
    let indent = store_indent_checked(&ctx.cwd)?;
    match edit_file(ctx, path, indent)? {
        Some(new) => {
            atomic::write(path, &new.to_bytes(indent)?, 0o644)?;
            ctx.ui.ok(format!(
                "saved {} (not in a secrets repo: nothing committed or locked)",
                shown.display()
            ));
        }
        None => ctx.ui.status(format!(
            "{} unchanged in the editor; nothing written",
            shown.display()
        )),
    }
    Ok(0)
}
