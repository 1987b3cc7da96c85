//! `git secrets edit NAME|PATH`: `$EDITOR` on a tmpfs copy; re-encrypted on
//! save with unchanged values keeping their ciphertext, like `sops edit`.
//! `rotate --edit` and `add` (without `--from`) use the same editor loop.

use super::Ctx;
use crate::atomic;
use crate::cli::EditArgs;
use crate::error::{Error, Result};
use crate::plaintext::{self, PlainFile};
use crate::repo_lock::{timeout_from_env, RepoLock};
use crate::sops::cipher::Cipher;
use crate::sops::file::{encrypt, SopsFile};
use crate::sops::formats::Format;
use crate::sops::keys::Identities;
use crate::sops::rules::yaml_indent;
use crate::sops::tree::PlainDocs;
use std::io::IsTerminal;
use std::path::Path;
use zeroize::Zeroizing;

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
            .emit_plain(&plain.docs.0, yaml_indent(&ctx.cwd))?,
    );
    let Some(docs) = edit_plain(ctx, &path, file.format, &original)? else {
        ctx.ui
            .status(format!("{} unchanged; nothing written", args.secret));
        return Ok(0);
    };
    let new = reencrypt(&file, &mut plain.cipher, &docs)?;
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
    atomic::write(&path, &new.to_bytes(yaml_indent(&ctx.cwd))?, 0o644)?;
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

/// Opens the editor on a tmpfs copy of `original` (named after `path`)
/// until what is saved parses as `format`. `None` when the user saved no
/// change. Callers must have set up plaintext cleanup (signals, core dumps).
pub(crate) fn edit_plain(
    ctx: &Ctx,
    path: &Path,
    format: Format,
    original: &[u8],
) -> Result<Option<PlainDocs>> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "secret".into());
    let tmp = PlainFile::create(&name, original)?;
    loop {
        run_editor(tmp.path())?;
        let edited = Zeroizing::new(crate::error::read_file(tmp.path())?);
        if edited[..] == original[..] {
            return Ok(None);
        }
        match format.parse_plain(&edited) {
            Ok(d) => return Ok(Some(PlainDocs(d))),
            Err(e) => {
                if std::io::stdin().is_terminal() && !ctx.ui.yes {
                    ctx.ui.warn(format!("the edited file does not parse: {e}"));
                    if ctx.ui.confirm("Reopen the editor?", "--yes")? {
                        continue;
                    }
                }
                return Err(
                    Error::new(format!("the edited file does not parse: {e}")).hint(format!(
                        "{} is unchanged; run the edit again",
                        path.display()
                    )),
                );
            }
        }
    }
}

/// Encrypts `docs` as the new content of `file`, keeping its data key,
/// recipients and rules, and the ciphertext of every value `cipher` saw
/// unchanged (so a diff shows only what changed, as with `sops edit`).
pub(crate) fn reencrypt(
    file: &SopsFile,
    cipher: &mut Cipher,
    docs: &PlainDocs,
) -> Result<SopsFile> {
    encrypt(
        &docs.0,
        file.format,
        None,
        Some((cipher, &file.metadata)),
        Default::default(),
    )
}

/// Runs `$SOPS_EDITOR`, `$VISUAL` or `$EDITOR` (else `vi`) on `path`,
/// through `sh -c` so editors with arguments (`code --wait`) work.
fn run_editor(path: &std::path::Path) -> Result<()> {
    let editor = ["SOPS_EDITOR", "VISUAL", "EDITOR"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
        .unwrap_or_else(|| "vi".into());
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(path);
    // The editor sees this secret, not the identity that decrypts every other one.
    plaintext::remove_identity_env(&mut cmd);
    let status = plaintext::run_foreground(&mut cmd).map_err(|e| {
        Error::new(format!("cannot start the editor '{editor}': {e}"))
            .hint("set EDITOR to an editor that is installed")
    })?;
    if !status.success() {
        return Err(
            Error::new(format!("the editor '{editor}' exited with {status}"))
                .hint("nothing was written; the secret is unchanged"),
        );
    }
    Ok(())
}
