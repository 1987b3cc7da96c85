//! `git secrets rotate NAME`: a new value (from a file or stdin, the editor,
//! or `--set PATH=VALUE`) or, with none of them, a fresh data key for the
//! same value; then commit in the secrets repo, relock, verify.
//!
//! Order of steps, so a crash anywhere is recoverable: the new file is
//! computed in memory and checked, then written atomically, then committed,
//! then locked. Running the same command again finishes what a killed run
//! left: a new value already on disk is not rewritten but still committed,
//! and the lock always follows the inner HEAD.

use super::Ctx;
use crate::atomic;
use crate::change::secrets::{
    plan_of, read_set_from, reencrypt, set_path, with_new_data_key, SetFrom, SetValue,
};
use crate::change::Transaction;
use crate::cli::ChangeArgs;
use crate::editor::edit_plain;
use crate::error::{Error, Result};
use crate::layout::SecretName;
use crate::sops::file::{load, read_input, SopsFile};
use crate::sops::keys::Identities;
use crate::sops::rules::store_indent_checked;
use crate::sops::tree::PlainDocs;
use clap::Args;
use std::path::PathBuf;
use zeroize::Zeroizing;

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// The secret to rotate.
    pub name: SecretName,
    /// New plaintext from FILE (`-` for stdin).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["edit", "set", "set_from"])]
    pub from: Option<PathBuf>,
    /// New value in $EDITOR.
    #[arg(long, conflicts_with_all = ["set", "set_from"])]
    pub edit: bool,
    /// Set one field: PATH=VALUE (PATH as a.b or ["a"]["b"]); repeatable.
    /// The value lands in argv and shell history: prefer --set-from for secrets.
    #[arg(long, value_name = "PATH=VALUE")]
    pub set: Vec<SetValue>,
    /// Set one field to the contents of FILE, or of stdin with `-` (one
    /// trailing newline dropped), as a string; repeatable, stdin once.
    #[arg(long = "set-from", value_name = "PATH=FILE|-")]
    pub set_from: Vec<SetFrom>,
    #[command(flatten)]
    pub change: ChangeArgs,
}

pub fn run(ctx: &Ctx, args: RotateArgs) -> Result<i32> {
    crate::plaintext::install_signal_cleanup();
    let name = &args.name;
    // --set is parsed by clap; read --set-from before touching anything
    let mut sets = args.set.clone();
    sets.extend(read_set_from(&args.set_from, &ctx.cwd)?);
    let session = Transaction::open(ctx.layout()?, &ctx.ui)?;
    let path = session
        .layout
        .find_secret(name)?
        .ok_or_else(|| session.layout.no_such_secret(name.as_str()))?;
    session.check_no_foreign_staged(&[&path])?;
    if let Some(why) = crate::change::secrets::uncovered_by_rules(&path) {
        ctx.ui.warn(why);
        ctx.ui.hint(
            "if the recipients should change, fix path_regex in .sops.yaml, then: git secrets rekey",
        );
    }
    let indent = store_indent_checked(path.parent().unwrap_or(&session.layout.dir))?;

    let opened = Zeroizing::new(crate::error::read_file(&path)?);
    let file = load(&path, None)?;
    let mut plain = file.decrypt(&Identities::discover())?;
    let shown = session.shown(&path);
    let new_docs: Option<PlainDocs> = if let Some(from) = &args.from {
        let bytes = Zeroizing::new(read_input(from)?);
        let docs = file.format.parse_plain(&bytes).map_err(|e| {
            Error::new(format!(
                "{} is not valid {}: {}",
                from.display(),
                file.format.name(),
                e.message
            ))
            .hint(format!("{} is unchanged", shown.display()))
        })?;
        Some(PlainDocs(docs))
    } else if args.edit {
        let original = Zeroizing::new(file.format.emit_plain(&plain.docs.0, indent)?);
        match edit_plain(&ctx.ui, &path, file.format, &original)? {
            Some(d) => Some(d),
            None => {
                ctx.ui.status(format!("{name} unchanged in the editor"));
                None
            }
        }
    } else if !sets.is_empty() {
        let mut docs = PlainDocs(plain.docs.0.clone());
        let doc = docs.0.first_mut().ok_or_else(|| {
            Error::new(format!(
                "{} has no document to set a value in",
                shown.display()
            ))
        })?;
        for SetValue { steps, value } in &sets {
            set_path(doc, steps, value.clone())?;
        }
        Some(docs)
    } else {
        None
    };

    let data_key_rotation = args.from.is_none() && !args.edit && sets.is_empty();
    let new_file: Option<SopsFile> = if data_key_rotation {
        Some(with_new_data_key(&file, &plain.docs, &plan_of(&file)?)?)
    } else {
        match new_docs {
            // same value as on disk (a rerun after a crash): keep the file, finish the rest
            Some(d) if d.0 != plain.docs.0 => Some(reencrypt(&file, &mut plain.cipher, &d)?),
            _ => None,
        }
    };
    match new_file {
        Some(f) => {
            // The lock keeps other git-secrets commands out, not sops or a
            // checkout: with --edit the editor may have been open for long.
            if crate::error::read_file(&path)?[..] != opened[..] {
                return Err(Error::new(format!(
                    "{} changed while {name} was being rotated; nothing was written",
                    shown.display()
                ))
                .hint("the file keeps the other change; run the rotate again"));
            }
            atomic::write(&path, &f.to_bytes(indent)?, 0o644)?;
            let what = if data_key_rotation {
                "new data key"
            } else {
                "new value"
            };
            ctx.ui
                .step(format!("{what} written to {}", shown.display()));
        }
        None => ctx.ui.status(format!(
            "{} already holds this value; nothing to re-encrypt",
            shown.display()
        )),
    }
    let message = args.change.message_or(|| format!("rotate {name}"));
    session.finish(&[path], &message, &args.change.options(), &ctx.ui)?;
    Ok(0)
}
