//! `git secrets merge-driver BASE OURS THEIRS PATH`: git's `merge.sops.driver` (see
//! `drivers.rs`). Merges three versions of a sops file at the value level and writes
//! the result over OURS; on a true conflict OURS is left untouched, the paths of the
//! values changed on both sides go to stderr, and the exit code is 1, which git reports
//! as a conflict in PATH. Under a `.sops.yaml` that does not parse, the merge still runs
//! (with a warning) and keeps the indent our version was written with.

use super::Ctx;
use crate::change::merge::{merge_files, Outcome};
use crate::error::{read_file, Result};
use crate::sops::formats::{Format, Indent};
use crate::sops::keys::Identities;
use crate::sops::rules::store_indent_checked;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct MergeDriverArgs {
    /// The common ancestor's version (%O).
    pub base: PathBuf,
    /// Our version (%A); the merge result is written here.
    pub ours: PathBuf,
    /// Their version (%B).
    pub theirs: PathBuf,
    /// The path in the repo (%P), for the format and messages.
    pub path: PathBuf,
}

pub fn run(ctx: &Ctx, args: MergeDriverArgs) -> Result<i32> {
    crate::plaintext::disable_core_dumps();
    let format = Format::from_path(&args.path);
    let base = read_file(&args.base)?;
    let ours = read_file(&args.ours)?;
    let theirs = read_file(&args.theirs)?;
    let ids = Identities::discover();
    let indent = match store_indent_checked(&ctx.cwd) {
        Ok(indent) => indent,
        // sops refuses every command under such a config, but a merge must not stop at
        // it (read-only commands do not either); the indent it would have named is the
        // one our version was written with, so the merge keeps the file's layout
        Err(e) => {
            let kept = Indent::of_written(&ours, format);
            ctx.ui.warn(match kept {
                Some(_) => format!(
                    "{}: .sops.yaml does not parse ({}); the merged file keeps the indent of our version",
                    args.path.display(),
                    e.message
                ),
                None => format!(
                    "{}: .sops.yaml does not parse ({}), and our version's layout does not show its indent: the merged file is written with sops' default indents",
                    args.path.display(),
                    e.message
                ),
            });
            kept.unwrap_or_default()
        }
    };
    match merge_files(&base, &ours, &theirs, format, &ids, indent) {
        Ok(Outcome::Merged(bytes)) => {
            crate::atomic::write(&args.ours, &bytes, 0o644)?;
            ctx.ui.ok(format!(
                "merged {} value by value (git secrets merge driver)",
                args.path.display()
            ));
            Ok(0)
        }
        Ok(Outcome::Conflict(paths)) => {
            ctx.ui.warn(format!(
                "{}: the same values changed on both sides: {}",
                args.path.display(),
                paths.join(", ")
            ));
            Ok(1)
        }
        Err(e) => {
            ctx.ui.warn(format!(
                "{}: cannot merge as sops: {e}",
                args.path.display()
            ));
            for h in &e.hints {
                ctx.ui.hint(h);
            }
            Ok(1)
        }
    }
}
