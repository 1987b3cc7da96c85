//! `git secrets textconv FILE [--show-values]`: git's `diff.sops.textconv` (see
//! `drivers.rs`), so `git -C secrets log -p` shows decrypted diffs — values masked by
//! a keyed hash unless `--show-values` or `git config secrets.showValues true`. The
//! text goes to stdout only (git reads it through a pipe and never caches it).

use clap::Args;
use std::io::Write;
use std::path::PathBuf;

use super::Ctx;
use crate::error::{read_file, Error, Result};
use crate::sops::formats::Format;
use crate::sops::keys::Identities;

#[derive(Debug, Args)]
pub struct TextconvArgs {
    /// The file git hands over.
    pub file: PathBuf,
    /// Show the values in clear instead of masked (also: git config secrets.showValues true).
    #[arg(long)]
    pub show_values: bool,
}

pub fn run(ctx: &Ctx, args: TextconvArgs) -> Result<i32> {
    crate::plaintext::disable_core_dumps();
    let bytes = read_file(&args.file)?;
    let repo = crate::git::Repo::discover(&ctx.cwd).ok();
    let show = args.show_values
        || std::env::var("GIT_SECRETS_SHOW_VALUES").is_ok_and(|v| v == "1")
        || repo
            .as_ref()
            .and_then(|r| r.config_string("secrets.showValues"))
            .is_some_and(|v| {
                matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "on" | "1")
            });
    let key = repo
        .as_ref()
        .map(crate::wiring::drivers::mask_key)
        .unwrap_or_default();
    // git hands textconv a temp file; the format comes from the path it diffs, which
    // git does not pass, so sniff: JSON and binary start with `{`, dotenv/INI never
    // parse as sops YAML
    let format = sniff(&args.file, &bytes);
    let text = zeroize::Zeroizing::new(crate::wiring::drivers::textconv(
        &bytes,
        format,
        &Identities::discover(),
        &key,
        show,
    ));
    let mut out = std::io::stdout().lock();
    out.write_all(&text)
        .and_then(|_| out.flush())
        .map_err(|e| Error::new(format!("cannot write: {e}")))?;
    Ok(0)
}

fn sniff(path: &std::path::Path, bytes: &[u8]) -> Format {
    let by_name = Format::from_path(path);
    if by_name != Format::Yaml && by_name != Format::Binary {
        return by_name;
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        return Format::Json;
    }
    for f in [Format::Yaml, Format::Dotenv, Format::Ini] {
        if crate::sops::file::SopsFile::parse(bytes, f).is_ok() {
            return f;
        }
    }
    by_name
}
