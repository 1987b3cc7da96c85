//! `git secrets show NAME|PATH [--extract …|--field a.b]`: the decrypted value on stdout.

use super::Ctx;
use crate::cli::PartPath;
use crate::error::Result;
use crate::layout::SecretArg;
use crate::sops::file::{load, render_plain};
use crate::sops::keys::Identities;
use crate::sops::rules::store_indent;
use clap::Args;

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A secret name (resolved in the secrets dir) or a path to a sops file.
    pub secret: SecretArg,
    /// Print only this part, e.g. '["data"]["token"]'.
    #[arg(long, value_name = "PATH", conflicts_with = "field", value_parser = PartPath::extract)]
    pub extract: Option<PartPath>,
    /// Print only this field, as a dotted path (a.b.0).
    #[arg(long, value_name = "PATH", value_parser = PartPath::field)]
    pub field: Option<PartPath>,
}

pub fn run(ctx: &Ctx, args: ShowArgs) -> Result<i32> {
    let steps = args.extract.or(args.field).map(|p| p.0);
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
