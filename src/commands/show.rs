//! `git secrets show NAME|PATH [--extract …|--field a.b]`: the decrypted value on stdout.

use super::Ctx;
use crate::cli::ShowArgs;
use crate::error::Result;
use crate::sops::file::{load, render_plain};
use crate::sops::keys::Identities;
use crate::sops::path::{parse_extract, parse_field};
use crate::sops::rules::store_indent;

pub fn run(ctx: &Ctx, args: ShowArgs) -> Result<i32> {
    let steps = match (&args.extract, &args.field) {
        (Some(e), _) => Some(parse_extract(e)?),
        (None, Some(f)) => Some(parse_field(f)?),
        (None, None) => None,
    };
    let path = super::resolve_secret(ctx, &args.secret)?;
    let file = load(&path, None)?;
    let plain = file.decrypt(&Identities::discover())?;
    let mut bytes = render_plain(
        &plain.docs,
        steps.as_deref(),
        file.format,
        store_indent(&ctx.cwd),
    )?;
    // A single value printed for a human ends with a newline, like `yq -r`.
    if steps.is_some() && !bytes.ends_with(b"\n") {
        bytes.push(b'\n');
    }
    crate::ui::write_stdout(&bytes)
}
