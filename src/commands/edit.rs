//! `git secrets edit NAME|PATH`: `$EDITOR` on a tmpfs copy; re-encrypted on
//! save with unchanged values keeping their ciphertext, like `sops edit`.
//! `rotate --edit` and `add` (without `--from`) use the same editor loop.

use super::Ctx;
use crate::atomic;
use crate::error::{Error, Result};
use crate::plaintext::{self};
use crate::repo_lock::{timeout_from_env, RepoLock};
use crate::sops::file::SopsFile;
use crate::sops::formats::Format;
use crate::sops::keys::Identities;
use crate::sops::rules::store_indent;
use clap::Args;
use std::path::Path;
use zeroize::Zeroizing;

#[derive(Debug, Args)]
pub struct EditArgs {
    /// A secret name or a path to a sops file.
    pub secret: String,
}

pub fn run(ctx: &Ctx, args: EditArgs) -> Result<i32> {
    plaintext::install_signal_cleanup();
    let path = super::resolve_secret(ctx, &args.secret)?;
    // Held from reading until the write: a rekey or rotate meanwhile would
    // otherwise be undone by our save (a removed recipient written back).
    let _lock = lock_secrets_repo(ctx, &path)?;
    let opened = Zeroizing::new(crate::error::read_file(&path)?);
    let file = SopsFile::parse(&opened, Format::from_path(&path)).map_err(|e| {
        let mut named = Error::new(format!("{}: {}", path.display(), e.message));
        named.hints = e.hints;
        named
    })?;
    let mut plain = file.decrypt(&Identities::discover())?;
    let original = Zeroizing::new(
        file.format
            .emit_plain(&plain.docs.0, store_indent(&ctx.cwd))?,
    );
    let Some(docs) = crate::editor::edit_plain(&ctx.ui, &path, file.format, &original)? else {
        ctx.ui
            .status(format!("{} unchanged; nothing written", args.secret));
        return Ok(0);
    };
    let new = crate::change::secrets::reencrypt(&file, &mut plain.cipher, &docs)?;
    // Another writer the lock does not cover (sops, git checkout, a pull)
    // may have changed the file while the editor was open: keep theirs.
    let now = crate::error::read_file(&path)?;
    if now[..] != opened[..] {
        return Err(Error::new(format!(
            "{} changed while the editor was open; your edit was not saved",
            path.display()
        ))
        .hint("the file keeps the other change; run the edit again to edit the new version"));
    }
    atomic::write(&path, &new.to_bytes(store_indent(&ctx.cwd))?, 0o644)?;
    ctx.ui.ok(format!("saved {}", path.display()));
    Ok(0)
}

/// Takes the secrets repo's lock (see `repo_lock.rs`) when `path` is in it,
/// waiting with a status line while another command holds it. A file outside
/// any secrets repo needs none.
fn lock_secrets_repo(ctx: &Ctx, path: &Path) -> Result<Option<RepoLock>> {
    let Ok(layout) = ctx.layout() else {
        return Ok(None);
    };
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    if !canon(path).starts_with(canon(&layout.dir)) {
        return Ok(None);
    }
    let Some(inner) = layout.inner()? else {
        return Ok(None);
    };
    RepoLock::acquire(inner.git_dir(), timeout_from_env(), || {
        ctx.ui.status(format!(
            "waiting for another git-secrets command to finish in {} …",
            layout.dir.display()
        ))
    })
    .map(Some)
}
