//! git's hooks into the inner repo for sops files: a merge driver (`merge.sops`) so a
//! plain `git pull` / `git rebase` in `secrets/` merges two changes of one secret at the
//! value level ([`crate::change::merge`]), and a diff textconv (`diff.sops`) so `git log -p`
//! shows which values changed, masked unless asked.
//!
//! Both live in the inner repo's local config and `.git/info/attributes`, not in a
//! committed `.gitattributes`: installing them must not add a commit (which would need
//! a relock), and the driver command names this machine's binary anyway. `init`
//! installs them on every clone. `diff.sops.cachetextconv` stays off: git would store
//! the decrypted text in its notes, on disk.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::git::Repo;
use crate::sops::file::SopsFile;
use crate::sops::formats::Format;
use crate::sops::keys::Identities;
use crate::sops::path::Step;
use crate::sops::tree::{Node, Scalar};

/// The attributes line that routes the secrets through both drivers.
pub const ATTRIBUTES: &str = "secrets/** merge=sops diff=sops";

/// The config the drivers need, for `exe` (this binary).
fn wanted_config(exe: &Path) -> Vec<(&'static str, String)> {
    let exe = shell_quote(&exe.to_string_lossy());
    vec![
        (
            "merge.sops.name",
            "git-secrets: merge sops files value by value".into(),
        ),
        (
            "merge.sops.driver",
            format!("{exe} merge-driver %O %A %B %P"),
        ),
        ("diff.sops.textconv", format!("{exe} textconv")),
        ("diff.sops.cachetextconv", "false".into()),
    ]
}

fn shell_quote(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn attributes_path(inner: &Repo) -> std::path::PathBuf {
    inner.common_dir().join("info").join("attributes")
}

/// Whether both drivers are installed for `exe`.
pub fn installed(inner: &Repo, exe: &Path) -> bool {
    let config_ok = wanted_config(exe)
        .iter()
        .all(|(k, v)| inner.config_string(k).as_deref() == Some(v.as_str()));
    let attrs_ok = std::fs::read_to_string(attributes_path(inner))
        .is_ok_and(|t| t.lines().any(|l| l.trim() == ATTRIBUTES));
    config_ok && attrs_ok
}

/// Installs (or points at `exe` again) both drivers; `Ok(false)` when already there.
pub fn install(inner: &Repo, exe: &Path) -> Result<bool> {
    if installed(inner, exe) {
        return Ok(false);
    }
    for (k, v) in wanted_config(exe) {
        inner.set_config(k, &v)?;
    }
    let path = attributes_path(inner);
    let mut text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    if !text.lines().any(|l| l.trim() == ATTRIBUTES) {
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(ATTRIBUTES);
        text.push('\n');
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        }
        crate::atomic::write(&path, text.as_bytes(), 0o644)?;
    }
    Ok(true)
}

/// What `git log -p` shows for one version of a sops file: a header with the
/// recipients, then the document with every value masked by a keyed hash (equal values
/// give equal masks, so a diff shows which values changed) or, with `show`, in clear.
pub fn textconv(
    bytes: &[u8],
    format: Format,
    ids: &Identities,
    mask_key: &[u8],
    show: bool,
) -> Vec<u8> {
    let file = match SopsFile::parse(bytes, format) {
        Ok(f) => f,
        // not sops (a .gitkeep, a plaintext mistake): shown as it is, like git would
        Err(_) => return bytes.to_vec(),
    };
    let mut out = format!(
        "# sops: recipients {}; lastmodified {}\n",
        file.metadata.age_recipients().join(", "),
        file.metadata.lastmodified
    )
    .into_bytes();
    let plain = match file.decrypt(ids) {
        Ok(p) => p,
        Err(e) => {
            out.extend_from_slice(format!("# cannot decrypt here: {}\n", e.message).as_bytes());
            return out;
        }
    };
    let docs: Vec<Node> = if show {
        plain.docs.0.clone()
    } else {
        plain.docs.0.iter().map(|d| mask(d, mask_key)).collect()
    };
    match format.emit_plain(&docs, 4) {
        Ok(text) => out.extend_from_slice(&text),
        Err(e) => out.extend_from_slice(format!("# cannot render: {}\n", e.message).as_bytes()),
    }
    if !out.ends_with(b"\n") {
        out.push(b'\n');
    }
    out
}

/// The tree with each value replaced by `<masked …>`, a keyed hash of its path and
/// value: equal values at one path mask alike, so a diff still shows what changed.
fn mask(doc: &Node, key: &[u8]) -> Node {
    let mut leaf = |path: &[Step], s: &Scalar| {
        if *s == Scalar::Null {
            return Node::Scalar(Scalar::Null);
        }
        let path: String = path
            .iter()
            .map(|step| match step {
                Step::Key(k) => format!(":{k}"),
                Step::Index(_) => ":-".to_string(),
            })
            .collect();
        let mut h = Sha256::new();
        h.update(key);
        h.update(path.as_bytes());
        h.update([0]);
        h.update(format!("{s:?}").as_bytes());
        let d = h.finalize();
        Node::str(format!("<masked {}>", hex::encode(&d[..4])))
    };
    doc.map_leaves(&mut leaf, &|c| c.to_string())
}

/// The key that makes masks unguessable from the outside: random, per clone, in the
/// inner repo's git dir (0600). Without one (a read-only repo), masks are unkeyed.
pub fn mask_key(inner: &Repo) -> Vec<u8> {
    let path = inner.common_dir().join("git-secrets-mask-key");
    if let Ok(k) = std::fs::read(&path) {
        if k.len() >= 16 {
            return k;
        }
    }
    let mut k = vec![0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut k);
    match crate::atomic::write(&path, &k, 0o600) {
        Ok(()) => k,
        Err(_) => Vec::new(),
    }
}
