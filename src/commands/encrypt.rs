//! `git secrets encrypt FILE [-i]`: like `sops encrypt`; recipients from
//! `--age` or from the `.sops.yaml` rule matching the file (found from the
//! current directory up, as sops finds it).

use super::Ctx;
use crate::atomic;
use crate::cli::TypeArgs;
use crate::error::{Error, Result};
use crate::sops::codes;
use crate::sops::file::{encrypt, read_input};
use crate::sops::formats::Format;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct EncryptArgs {
    /// The plaintext file.
    pub file: PathBuf,
    /// Encrypt to these age recipients (comma-separated) instead of .sops.yaml's rule.
    #[arg(long, value_name = "RECIPIENTS", env = "SOPS_AGE_RECIPIENTS")]
    pub age: Option<String>,
    /// Replace the file with its encrypted form (atomically).
    #[arg(short, long)]
    pub in_place: bool,
    #[command(flatten)]
    pub types: TypeArgs,
}

/// Exits with sops' status codes on failure (see `sops::codes`), as scripts written for
/// `sops encrypt` expect.
pub fn run(ctx: &Ctx, args: EncryptArgs) -> Result<i32> {
    encrypt_file(ctx, args).map_err(Error::in_sops_terms)
}

fn encrypt_file(ctx: &Ctx, args: EncryptArgs) -> Result<i32> {
    let path = if args.file.as_os_str() == "-" {
        args.file.clone()
    } else {
        ctx.cwd.join(&args.file)
    };
    if args.in_place && args.file.as_os_str() == "-" {
        return Err(Error::usage("--in-place needs a file, not stdin")
            .hint("drop -i to print the encrypted file")
            .sops(codes::ERROR_CONFLICTING_PARAMETERS));
    }
    let input = args
        .types
        .input_type
        .unwrap_or_else(|| Format::from_path(&path));
    let output = args.types.output_type.unwrap_or(input);
    crate::one_shot::use_arena_for(&path, 18);
    let plain = zeroize::Zeroizing::new(read_input(&path)?);
    let docs = crate::sops::tree::PlainDocs(
        input
            .parse_plain(&plain)
            .map_err(|e| e.sops_default(codes::COULD_NOT_READ_INPUT_FILE))?,
    );
    if looks_encrypted(input, &docs.0, &plain) {
        return Err(Error::new(format!("{} is already encrypted", args.file.display()))
            .hint("to change it, use git secrets edit; to re-encrypt for new recipients, git secrets rekey")
            .sops(codes::FILE_ALREADY_ENCRYPTED));
    }
    let (plan, rules, indent) =
        crate::change::secrets::plan_from(&ctx.cwd, &path, args.age.as_deref())?;
    let file = encrypt(&docs.0, output, Some(&plan), None, rules)?;
    let bytes = file.to_bytes(indent)?;
    let code = if args.in_place {
        atomic::write(&path, &bytes, 0o644)?;
        ctx.ui.ok(format!("encrypted {}", args.file.display()));
        Ok(0)
    } else {
        crate::ui::write_stdout(&bytes)
    };
    // The process exits next: the trees are not freed one string at a time.
    crate::one_shot::release_at_exit((plain, docs, file, bytes));
    code
}

/// Whether parsed plaintext is in fact a sops file: its metadata is there
/// (a top-level `sops` key, flattened `sops_*` keys, a `[sops]` section).
/// Checked on the one parse instead of parsing again as an encrypted file.
fn looks_encrypted(format: Format, docs: &[crate::sops::tree::Node], raw: &[u8]) -> bool {
    match format {
        Format::Yaml | Format::Json | Format::Ini => docs.iter().any(|d| d.get("sops").is_some()),
        Format::Dotenv => docs
            .iter()
            .any(|d| d.keys().iter().any(|k| k.starts_with("sops_"))),
        // A binary file is opaque; only a whole sops JSON file counts.
        Format::Binary => raw.first() == Some(&b'{') && Format::Binary.parse_encrypted(raw).is_ok(),
    }
}
