//! `git secrets decrypt FILE`: like `sops decrypt`, for scripts and devshell wrappers.

use super::Ctx;
use crate::cli::DecryptArgs;
use crate::error::Result;
use crate::sops::file::{load, render_plain};
use crate::sops::formats::Format;
use crate::sops::keys::Identities;
use crate::sops::path::parse_extract;
use crate::sops::rules::yaml_indent;
use std::io::Write;

pub fn run(ctx: &Ctx, args: DecryptArgs) -> Result<i32> {
    let input = args
        .types
        .input_type
        .as_deref()
        .map(Format::parse)
        .transpose()?;
    let path = if args.file.as_os_str() == "-" {
        args.file.clone()
    } else {
        ctx.cwd.join(&args.file)
    };
    let steps = args.extract.as_deref().map(parse_extract).transpose()?;
    let file = load(&path, input)?;
    let output = match args.types.output_type.as_deref() {
        Some(t) => Format::parse(t)?,
        None => file.format,
    };
    let plain = file.decrypt(&Identities::discover())?;
    let bytes = render_plain(&plain.docs, steps.as_deref(), output, yaml_indent(&ctx.cwd))?;
    write_stdout(&bytes)
}

/// Writes plaintext to stdout; a closed pipe is not an error.
pub fn write_stdout(bytes: &[u8]) -> Result<i32> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => Ok(0),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(0),
        Err(e) => Err(crate::Error::new(format!("cannot write to stdout: {e}"))),
    }
}
