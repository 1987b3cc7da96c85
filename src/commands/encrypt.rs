//! `git secrets encrypt FILE [-i]`: like `sops encrypt`; recipients from
//! `--age` or from the `.sops.yaml` rule matching the file (found from the
//! current directory up, as sops finds it).

use super::Ctx;
use crate::atomic;
use crate::cli::EncryptArgs;
use crate::error::{Error, Result};
use crate::sops::file::{encrypt, read_input, KeyPlan};
use crate::sops::formats::{yaml, Format};
use crate::sops::keys::Recipient;
use crate::sops::rules::{find_config, with_default_suffix, Config};

pub fn run(ctx: &Ctx, args: EncryptArgs) -> Result<i32> {
    let path = if args.file.as_os_str() == "-" {
        args.file.clone()
    } else {
        ctx.cwd.join(&args.file)
    };
    if args.in_place && args.file.as_os_str() == "-" {
        return Err(Error::usage("--in-place needs a file, not stdin")
            .hint("drop -i to print the encrypted file"));
    }
    let input = match args.types.input_type.as_deref() {
        Some(t) => Format::parse(t)?,
        None => Format::from_path(&path),
    };
    let output = match args.types.output_type.as_deref() {
        Some(t) => Format::parse(t)?,
        None => input,
    };
    let plain = zeroize::Zeroizing::new(read_input(&path)?);
    let docs = crate::sops::tree::PlainDocs(input.parse_plain(&plain)?);
    if looks_encrypted(input, &docs.0, &plain) {
        return Err(Error::new(format!("{} is already encrypted", args.file.display()))
            .hint("to change it, use git secrets edit; to re-encrypt for new recipients, git secrets rekey"));
    }
    let (plan, rules, indent) = plan_for(ctx, &path, args.age.as_deref())?;
    let file = encrypt(&docs.0, output, Some(&plan), None, rules)?;
    let bytes = file.to_bytes(indent)?;
    if args.in_place {
        atomic::write(&path, &bytes, 0o644)?;
        ctx.ui.ok(format!("encrypted {}", args.file.display()));
        Ok(0)
    } else {
        super::decrypt::write_stdout(&bytes)
    }
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

/// Recipients, encryption rules and YAML indent for a new file at `path`,
/// with `.sops.yaml` found from the current directory up (as sops does).
pub fn plan_for(
    ctx: &Ctx,
    path: &std::path::Path,
    age: Option<&str>,
) -> Result<(KeyPlan, crate::sops::metadata::EncryptionRules, usize)> {
    plan_from(&ctx.cwd, path, age)
}

/// [`plan_for`] with `.sops.yaml` found from `config_start` up: `add` looks
/// in the secrets dir, wherever the user runs it from.
pub fn plan_from(
    config_start: &std::path::Path,
    path: &std::path::Path,
    age: Option<&str>,
) -> Result<(KeyPlan, crate::sops::metadata::EncryptionRules, usize)> {
    let config = find_config(config_start)
        .map(|p| Config::load(&p))
        .transpose()?;
    let indent = config
        .as_ref()
        .and_then(|c| c.yaml_indent)
        .unwrap_or(yaml::DEFAULT_INDENT);
    if let Some(age) = age {
        let rs = age
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Recipient::parse)
            .collect::<Result<Vec<_>>>()?;
        return Ok((
            KeyPlan::single(rs),
            with_default_suffix(Default::default()),
            indent,
        ));
    }
    let Some(config) = config else {
        return Err(Error::new("no .sops.yaml found and no recipients given")
            .hint("pass --age age1… or create a .sops.yaml with creation_rules (git secrets init --new writes one)"));
    };
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let rule = config.rule_for(&abs)?;
    Ok((
        rule.plan.clone(),
        with_default_suffix(rule.rules.clone()),
        indent,
    ))
}
