//! The safe repairs of `doctor --fix`. None deletes a file or rewrites history: the
//! wiring steps `init` applies ([`crate::wiring`]: append to `.gitignore`, drop index
//! entries, add or rewrite the flake input, relock), a chmod of a key file, and the
//! same rekey `git secrets rekey` runs ([`crate::change::rekey`]), in this process.
//! Whatever is left (purging history, rotating a leaked value) stays with the user,
//! with the command in the hints.

use std::os::unix::fs::PermissionsExt;

use super::{Fix, Scene};
use crate::change::{self, rekey, Transaction};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::sops::config_edit::RecipientEdit;
use crate::wiring;

/// Applies one fix; returns what was done, for the log. Progress of a rekey (its
/// commit and relock) goes to `progress`.
pub fn apply(fix: &Fix, scene: &Scene, progress: &dyn Progress) -> Result<String> {
    let layout = &scene.layout;
    match fix {
        Fix::IgnoreDir => wiring::ignore::apply(layout),
        Fix::DropGitlink => wiring::gitlink::apply(layout),
        Fix::UntrackDir => wiring::tracked::apply(layout),
        Fix::AddInput | Fix::RewriteUrl => match wiring::flake_input::apply(layout)? {
            (_, Some(words)) => Ok(words),
            (_, None) => Err(Error::new("the flake input is not one doctor can fix")),
        },
        Fix::Relock => {
            let name = scene
                .input_name()
                .ok_or_else(|| Error::new("no secrets input in flake.nix to relock"))?;
            let outcome = wiring::lock::apply(layout, &name, scene.opts.offline)?;
            Ok(crate::nix::lock::describe(&outcome))
        }
        Fix::Chmod(path) => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| Error::io("chmod", path, e))?;
            Ok(fix.describe())
        }
        Fix::RemoveStaleLocks(paths) => {
            let removed = super::locks::remove_stale(paths)?;
            if removed.is_empty() {
                return Err(Error::new(
                    "their git processes run again, or they are gone",
                ));
            }
            Ok(format!(
                "removed {}",
                removed
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
        Fix::Rekey => {
            // the scene's layout stays with the scene; the transaction finds its own
            let again = crate::layout::Layout::discover(
                layout.root(),
                &crate::layout::Overrides {
                    dir: Some(layout.dir.clone()),
                    input: layout.input.clone(),
                },
            )?;
            let tx = Transaction::open(again, progress)?;
            let edit = RecipientEdit::default();
            // commands/doctor.rs showed who gains or loses access and asked first.
            let done = rekey::rekey(&tx, &edit, progress, &|_| Ok(true))?;
            let opts = change::Options {
                offline: scene.opts.offline,
                ..Default::default()
            };
            tx.finish(&done.paths, &rekey::message(&edit), &opts, progress)?;
            Ok("rekeyed every secret (as git secrets rekey does)".into())
        }
    }
}
