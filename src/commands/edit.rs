//! `git secrets edit NAME|PATH`: `$EDITOR` on a tmpfs copy; re-encrypted on
//! save with unchanged values keeping their ciphertext, like `sops edit`.
//! `rotate --edit` and `add` (without `--from`) use the same editor loop.

use super::Ctx;
use crate::atomic;
use crate::error::Result;
use crate::plaintext::{self};
use crate::sops::file::load;
use crate::sops::keys::Identities;
use crate::sops::rules::yaml_indent;
use clap::Args;
use zeroize::Zeroizing;

#[derive(Debug, Args)]
pub struct EditArgs {
    /// A secret name or a path to a sops file.
    pub secret: String,
}

pub fn run(ctx: &Ctx, args: EditArgs) -> Result<i32> {
    plaintext::disable_core_dumps();
    plaintext::install_signal_cleanup();
    let path = super::resolve_secret(ctx, &args.secret)?;
    let file = load(&path, None)?;
    let mut plain = file.decrypt(&Identities::discover())?;
    let original = Zeroizing::new(
        file.format
            .emit_plain(&plain.docs.0, yaml_indent(&ctx.cwd))?,
    );
    let Some(docs) = crate::editor::edit_plain(&ctx.ui, &path, file.format, &original)? else {
        ctx.ui
            .status(format!("{} unchanged; nothing written", args.secret));
        return Ok(0);
    };
    let new = crate::change::secrets::reencrypt(&file, &mut plain.cipher, &docs)?;
    atomic::write(&path, &new.to_bytes(yaml_indent(&ctx.cwd))?, 0o644)?;
    ctx.ui.ok(format!("saved {}", path.display()));
    Ok(0)
}
