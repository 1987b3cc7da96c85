//! The editor loop `edit`, `add` (without `--from`) and `rotate --edit` share:
//! `$SOPS_EDITOR`/`$VISUAL`/`$EDITOR` on a tmpfs copy of the plaintext, reopened
//! until what is saved parses. Porcelain: it runs the user's editor and asks.

use crate::error::{Error, Result};
use crate::plaintext::{self, PlainFile};
use crate::sops::formats::Format;
use crate::sops::tree::PlainDocs;
use crate::ui::Ui;
use std::io::IsTerminal;
use std::path::Path;
use zeroize::Zeroizing;

/// Opens the editor on a tmpfs copy of `original` (named after `path`)
/// until what is saved parses as `format`. `None` when the user saved no
/// change. Callers must have set up plaintext cleanup (signals, core dumps).
pub fn edit_plain(
    ui: &Ui,
    path: &Path,
    format: Format,
    original: &[u8],
) -> Result<Option<PlainDocs>> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "secret".into());
    let tmp = PlainFile::create(&name, original)?;
    loop {
        run_editor(tmp.path())?;
        let edited = Zeroizing::new(crate::error::read_file(tmp.path())?);
        if edited[..] == original[..] {
            return Ok(None);
        }
        match format.parse_plain(&edited) {
            Ok(d) => return Ok(Some(PlainDocs(d))),
            Err(e) => {
                if std::io::stdin().is_terminal() && !ui.yes {
                    ui.warn(format!("the edited file does not parse: {e}"));
                    if ui.confirm("Reopen the editor?", "--yes")? {
                        continue;
                    }
                }
                return Err(
                    Error::new(format!("the edited file does not parse: {e}")).hint(format!(
                        "{} is unchanged; run the edit again",
                        path.display()
                    )),
                );
            }
        }
    }
}

/// The signal that ended the editor: it died of it, or the `sh -c` around it
/// reported a child that did (exit 128+n) for the three signals that stop an
/// editor session (HUP, INT, TERM). Our own SIGINT/SIGTERM is forwarded to the
/// editor (see `plaintext::install_signal_cleanup`), so this is how an
/// interrupt reaches us while it runs.
fn interrupted_by(status: std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    const STOPPING: [i32; 3] = [1, 2, 15];
    match (status.signal(), status.code()) {
        (Some(n), _) => Some(n),
        (None, Some(c)) if c > 128 && STOPPING.contains(&(c - 128)) => Some(c - 128),
        _ => None,
    }
}

/// Runs `$SOPS_EDITOR`, `$VISUAL` or `$EDITOR` (else `vi`) on `path`,
/// through `sh -c` so editors with arguments (`code --wait`) work.
fn run_editor(path: &std::path::Path) -> Result<()> {
    let editor = ["SOPS_EDITOR", "VISUAL", "EDITOR"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
        .unwrap_or_else(|| "vi".into());
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(path);
    // The editor sees this secret, not the identity that decrypts every other one.
    plaintext::remove_identity_env(&mut cmd);
    let status = plaintext::run_foreground(&mut cmd).map_err(|e| {
        Error::new(format!("cannot start the editor '{editor}': {e}"))
            .hint("set EDITOR to an editor that is installed")
    })?;
    if let Some(signal) = interrupted_by(status) {
        let name = ::nix::sys::signal::Signal::try_from(signal)
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|_| format!("signal {signal}"));
        return Err(Error::interrupted(
            format!("interrupted ({name}) while the editor was open"),
            signal,
        )
        .hint("nothing was written and the plaintext copy is removed; the secret is unchanged"));
    }
    if !status.success() {
        return Err(Error::new(format!(
            "the editor '{editor}' failed ({})",
            crate::error::exit_status(status)
        ))
        .hint("nothing was written; the secret is unchanged"));
    }
    Ok(())
}
