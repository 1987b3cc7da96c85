//! `git secrets add NAME [--from FILE|-]`: a new secret, encrypted for the
//! recipients of the secrets repo's `.sops.yaml` rule for its path,
//! committed there, relocked.
//!
//! An existing name is refused, except when it holds exactly the value
//! being added: that is a rerun after a killed `add`, and it finishes the
//! job (commit, lock) instead of failing.

use super::Ctx;
use crate::atomic;
use crate::change::secrets::plan_from;
use crate::change::Transaction;
use crate::cli::ChangeArgs;
use crate::editor::edit_plain;
use crate::error::{Error, Result};
use crate::layout::SecretName;
use crate::recipient_change::RecipientChange;
use crate::sops::file::{encrypt, load, read_input};
use crate::sops::formats::Format;
use crate::sops::keys::Identities;
use crate::sops::rules::with_default_suffix;
use crate::sops::tree::PlainDocs;
use clap::Args;
use std::path::PathBuf;
use zeroize::Zeroizing;

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Name of the new secret.
    #[arg(value_parser = SecretName::parse_new)]
    pub name: SecretName,
    /// Read the plaintext from FILE (`-` for stdin).
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// Format of the new secret (default: from --from's extension, else yaml).
    #[arg(long, value_name = "TYPE", value_parser = Format::parse)]
    pub format: Option<Format>,
    #[command(flatten)]
    pub change: ChangeArgs,
}

pub fn run(ctx: &Ctx, args: AddArgs) -> Result<i32> {
    crate::plaintext::install_signal_cleanup();
    let name = args.name.clone();
    let (format, ext) = format_and_extension(&args)?;
    let session = Transaction::open(ctx.layout()?, &ctx.ui)?;
    let layout = &session.layout;
    let existing = layout.find_secret(&name)?;
    let path = existing
        .clone()
        .unwrap_or_else(|| layout.new_secret_path(&name, &ext));
    session.check_no_foreign_staged(&[&path])?;
    let shown = session.shown(&path);

    let docs = match &args.from {
        Some(from) => {
            let bytes = Zeroizing::new(read_input(from)?);
            format.parse_plain(&bytes).map(PlainDocs).map_err(|e| {
                Error::new(format!(
                    "{} is not valid {}: {}",
                    from.display(),
                    format.name(),
                    e.message
                ))
                .hint("nothing was added")
            })
        }
        None if existing.is_some() => return Err(exists(&name, &shown)),
        // An editor needs a terminal: without one (a script, CI) it would read garbage.
        None if !std::io::IsTerminal::is_terminal(&std::io::stdin()) => {
            return Err(Error::usage(format!("no value given for '{name}'"))
                .hint("use --from FILE, or --from - to read it from stdin"))
        }
        None => match edit_plain(&ctx.ui, &path, format, b"")? {
            Some(d) => Ok(d),
            None => {
                ctx.ui
                    .status("nothing written in the editor; nothing added");
                return Ok(0);
            }
        },
    };

    if let Some(old) = &existing {
        // only a rerun with the very same value may pass (finishes a killed add)
        let same = docs.as_ref().is_ok_and(|d| {
            load(old, None)
                .and_then(|f| f.decrypt(&Identities::discover()))
                .is_ok_and(|p| p.docs.0 == d.0)
        });
        if !same {
            return Err(exists(&name, &shown));
        }
        ctx.ui.status(format!(
            "{} already holds this value; finishing the add",
            shown.display()
        ));
    } else {
        let docs = docs?;
        let (plan, rules, indent) = plan_from(&layout.dir, &path, None).map_err(|mut e| {
            // `add` has no --age: the engine's hint (no rules at all) is for `encrypt`.
            // A broken or non-matching .sops.yaml keeps its own hints: a rekey would
            // fail on it the same way.
            let no_rules = e.hints.iter().any(|h| h.contains("pass --age"));
            e.hints.retain(|h| !h.contains("pass --age"));
            if !no_rules {
                return e;
            }
            e.hint(format!(
                "the rules are read from {}/.sops.yaml; name a recipient there: git secrets rekey --add-recipient age1…",
                layout.dir.display()
            ))
        })?;
        approve_new_recipients(ctx, layout, &path, &plan)?;
        let file = encrypt(
            &docs.0,
            format,
            Some(&plan),
            None,
            with_default_suffix(rules),
        )?;
        let bytes = file.to_bytes(indent)?;
        let subdir = layout.secrets_subdir();
        std::fs::create_dir_all(&subdir).map_err(|e| Error::io("create", &subdir, e))?;
        atomic::write(&path, &bytes, 0o644)?;
        ctx.ui.step(format!(
            "encrypted {} for {}",
            shown.display(),
            file.metadata.age_recipients().join(", ")
        ));
    }
    let message = args.change.message_or(|| format!("add {name}"));
    session.finish(&[path], &message, &args.change.options(), &ctx.ui)?;
    Ok(0)
}

/// A recipient `.sops.yaml` names for the new secret that no existing secret
/// has (slipped into `.sops.yaml` by a commit or a merge) gets this value only
/// after the user saw it by key and name and said yes (as `rekey` asks). The
/// first secret of a repo has nothing to compare with.
fn approve_new_recipients(
    ctx: &Ctx,
    layout: &crate::layout::Layout,
    path: &std::path::Path,
    plan: &crate::sops::file::KeyPlan,
) -> Result<()> {
    let known: Vec<String> = layout
        .secret_files()?
        .iter()
        .filter(|p| p.as_path() != path)
        .filter_map(|p| load(p, None).ok())
        .flat_map(|f| {
            f.metadata
                .age_recipients()
                .into_iter()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    if known.is_empty() {
        return Ok(());
    }
    let want = plan.recipients();
    let have: Vec<String> = want.iter().filter(|r| known.contains(r)).cloned().collect();
    let mut change = RecipientChange::default();
    change.record(path, &have, &want);
    if change.is_empty() {
        return Ok(());
    }
    let config = std::fs::read(layout.dir.join(".sops.yaml")).unwrap_or_default();
    change.finish(&[&String::from_utf8_lossy(&config)], &[]);
    if super::confirm_recipient_change(ctx, &change)? {
        Ok(())
    } else {
        Err(Error::new("nothing was added")
            .hint("check the recipients in .sops.yaml (git log -p .sops.yaml in the secrets repo)"))
    }
}

fn exists(name: &SecretName, shown: &std::path::Path) -> Error {
    Error::usage(format!(
        "secret '{name}' already exists ({})",
        shown.display()
    ))
    .hint(format!(
        "to give it a new value: git secrets rotate {name} --from FILE"
    ))
}

/// The format of the new secret and its file extension: `--format`, else
/// `--from`'s extension (kept as is, so `tls.pem` stays a binary `.pem`),
/// else YAML.
fn format_and_extension(args: &AddArgs) -> Result<(Format, String)> {
    if let Some(format) = args.format {
        return Ok((format, format.extension().to_string()));
    }
    let from_ext = args
        .from
        .as_ref()
        .filter(|p| p.as_os_str() != "-")
        .and_then(|p| p.extension())
        .and_then(|e| e.to_str())
        .filter(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_alphanumeric()));
    Ok(match from_ext {
        Some(ext) => (
            Format::from_path(&PathBuf::from(format!("x.{ext}"))),
            ext.to_string(),
        ),
        None => (Format::Yaml, "yaml".to_string()),
    })
}
