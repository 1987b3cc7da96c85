//! `git secrets show NAME|PATH [--extract …|--field a.b]`: the decrypted value on stdout.

use super::Ctx;
use crate::error::Result;
use crate::layout::SecretArg;
use crate::sops::file::{load, render_plain};
use crate::sops::keys::Identities;
use crate::sops::path::{parse_extract, parse_field};
use crate::sops::rules::store_indent;
use clap::Args;

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A secret name (resolved in the secrets dir) or a path to a sops file.
    pub secret: SecretArg,
    /// Print only this part, e.g. '["data"]["token"]'.
    #[arg(long, value_name = "PATH", conflicts_with = "field")]
    pub extract: Option<String>,
    /// Print only this field, as a dotted path (a.b.0).
    #[arg(long, value_name = "PATH")]
    pub field: Option<String>,
}

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
