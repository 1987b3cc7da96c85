//! `git secrets decrypt FILE`: like `sops decrypt`, for scripts and devshell wrappers.

use super::Ctx;
use crate::cli::TypeArgs;
use crate::error::Result;
use crate::sops::codes;
use crate::sops::file::{load, render_plain};
use crate::sops::keys::Identities;
use crate::sops::path::parse_extract;
use crate::sops::rules::store_indent;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct DecryptArgs {
    /// The sops file (`-` for stdin, with --input-type).
    pub file: PathBuf,
    /// Print only this part, e.g. '["data"]["token"]' or '["list"][0]'.
    #[arg(long, value_name = "PATH")]
    pub extract: Option<String>,
    #[command(flatten)]
    pub types: TypeArgs,
}

/// Exits with sops' status codes on failure (see `sops::codes`), as scripts written for
/// `sops decrypt` expect.
pub fn run(ctx: &Ctx, args: DecryptArgs) -> Result<i32> {
    decrypt(ctx, args).map_err(crate::Error::in_sops_terms)
}

fn decrypt(ctx: &Ctx, args: DecryptArgs) -> Result<i32> {
    let input = args.types.input_type;
    let path = if args.file.as_os_str() == "-" {
        args.file.clone()
    } else {
        ctx.cwd.join(&args.file)
    };
    let steps = args
        .extract
        .as_deref()
        .map(parse_extract)
        .transpose()
        .map_err(|e| e.sops(codes::INVALID_TREE_PATH_FORMAT))?;
    crate::one_shot::use_arena_for(&path, 8);
    let file = load(&path, input)?;
    let output = args.types.output_type.unwrap_or(file.format);
    let plain = file.decrypt(&Identities::discover())?;
    let bytes = render_plain(
        &plain.docs,
        steps.as_deref(),
        output,
        store_indent(&ctx.cwd),
    )?;
    let code = crate::ui::write_stdout(&bytes);
    // The process exits next: the two trees are not freed one string at a time.
    crate::one_shot::release_at_exit((file, plain));
    code
}
