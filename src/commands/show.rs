//! `git secrets show NAME|PATH [--extract …|--field a.b]`: the decrypted value on stdout.

use super::Ctx;
use crate::cli::ShowArgs;
use crate::error::Result;
use crate::sops::file::{load, render_extract};
use crate::sops::keys::Identities;
use crate::sops::path::{lookup, parse_extract, parse_field};
use crate::sops::rules::yaml_indent;

pub fn run(ctx: &Ctx, args: ShowArgs) -> Result<i32> {
    crate::plaintext::disable_core_dumps();
    let steps = match (&args.extract, &args.field) {
        (Some(e), _) => Some(parse_extract(e)?),
        (None, Some(f)) => Some(parse_field(f)?),
        (None, None) => None,
    };
    let path = super::resolve_secret(ctx, &args.secret)?;
    let file = load(&path, None)?;
    let plain = file.decrypt(&Identities::discover())?;
    let bytes = zeroize::Zeroizing::new(match &steps {
        Some(steps) => {
            let first = plain
                .docs
                .0
                .first()
                .ok_or_else(|| crate::Error::new("the file has no document"))?;
            let mut out =
                render_extract(lookup(first, steps)?, file.format, yaml_indent(&ctx.cwd))?;
            // A scalar printed for a human ends with a newline, like `yq -r`.
            if !out.ends_with(b"\n") {
                out.push(b'\n');
            }
            out
        }
        None => file
            .format
            .emit_plain(&plain.docs.0, yaml_indent(&ctx.cwd))?,
    });
    super::decrypt::write_stdout(&bytes)
}
