//! The safe repairs of `doctor --fix`. None deletes a file or rewrites history: they
//! append to `.gitignore`, drop index entries (`git rm --cached`, files stay on disk),
//! rewrite one url literal in `flake.nix`, chmod a key file, relock, or run our own
//! `rekey`. Whatever is left (purging history, rotating a leaked value) stays with the
//! user, with the command in the hints.

use std::os::unix::fs::PermissionsExt;

use super::{Fix, Scene};
use crate::error::{Error, Result};

/// Applies one fix; returns what was done, for the log.
pub fn apply(fix: &Fix, scene: &Scene) -> Result<String> {
    match fix {
        Fix::IgnoreDir { gitignore, pattern } => {
            let mut text = match std::fs::read_to_string(gitignore) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => return Err(Error::io("read", gitignore, e)),
            };
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(pattern);
            text.push('\n');
            crate::atomic::write(gitignore, text.as_bytes(), 0o644)?;
            Ok(fix.describe())
        }
        Fix::UntrackDir => {
            scene.layout.parent.rm_cached(&scene.layout.dir)?;
            Ok(format!(
                "git rm --cached -r {} (files kept on disk)",
                scene.dir_shown()
            ))
        }
        Fix::RewriteUrl => {
            let (Some(src), Some(input)) = (&scene.flake_src, &scene.input) else {
                return Err(Error::new("no flake input to rewrite"));
            };
            let url = format!("git+file:{}", crate::relock::dir_rel(&scene.layout));
            let new = crate::nix::flake_nix::rewrite_url(src, input, &url)?;
            crate::atomic::write(
                &scene.layout.root().join("flake.nix"),
                new.as_bytes(),
                0o644,
            )?;
            Ok(format!("flake.nix: inputs.{}.url = \"{url}\"", input.name))
        }
        Fix::Relock => {
            let name = scene
                .input_name()
                .ok_or_else(|| Error::new("no secrets input in flake.nix to relock"))?;
            let outcome = crate::relock::relock(&scene.layout, &name, scene.opts.offline)?;
            Ok(crate::nix::lock::describe(&outcome))
        }
        Fix::Chmod(path) => {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| Error::io("chmod", path, e))?;
            Ok(fix.describe())
        }
        Fix::Rekey => {
            // rekey lives in its own command; run ours so the fix is the same code path
            let me = std::env::current_exe()
                .map_err(|e| Error::new(format!("cannot find this executable: {e}")))?;
            let out = std::process::Command::new(&me)
                .arg("-C")
                .arg(scene.layout.root())
                .args(["rekey", "--yes"])
                .stdin(std::process::Stdio::null())
                .output()
                .map_err(|e| Error::new(format!("cannot run {} rekey: {e}", me.display())))?;
            if !out.status.success() {
                return Err(Error::new(format!(
                    "git secrets rekey failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
                .hint("run it yourself to see why: git secrets rekey"));
            }
            Ok("rekeyed every secret (git secrets rekey --yes)".into())
        }
    }
}
