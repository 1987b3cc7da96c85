//! The facts every check reads, gathered once per run: where things are, the flake
//! input, the user's identities, and each secret file parsed and (when a key is at
//! hand) decrypted in memory.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::git::Repo;
use crate::layout::{Layout, Overrides};
use crate::nix::flake_nix::Input;
use crate::sops::cipher::is_encrypted;
use crate::sops::file::SopsFile;
use crate::sops::formats::Format;
use crate::sops::keys::Identities;
use crate::sops::tree::{MapItem, Node, Scalar, SeqItem};

/// doctor's tunables.
#[derive(Debug, Clone)]
pub struct Options {
    /// Plaintext values shorter than this (bytes) are not searched for.
    pub min_length: usize,
    /// Pass `--offline` to nix when relocking.
    pub offline: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            min_length: 8,
            offline: false,
        }
    }
}

/// Everything the checks look at.
pub struct Scene {
    /// Parent, secrets dir, example dir.
    pub layout: Layout,
    /// The run's options.
    pub opts: Options,
    /// The inner repo when the secrets dir is one.
    pub inner: Option<Repo>,
    /// The parent's `flake.nix`, when it exists and is UTF-8.
    pub flake_src: Option<String>,
    /// The flake input pointing at the secrets dir (or named by config).
    pub input: Option<Input>,
    /// The user's age/SSH identities.
    pub identities: Identities,
    /// Every file under `<dir>/secrets/`, sorted.
    pub secrets: Vec<SecretFile>,
}

/// One file among the secrets.
pub struct SecretFile {
    /// Absolute path.
    pub path: PathBuf,
    /// Path relative to the secrets dir (`secrets/kubeconfig.yaml`), for messages.
    pub rel: String,
    /// The secret's name (file name without its last extension).
    pub name: String,
    /// What the file turned out to be.
    pub content: Content,
}

/// What a file among the secrets holds.
pub enum Content {
    /// No sops marker at all: plaintext sitting among the secrets.
    Plaintext,
    /// Looks like sops but does not parse.
    Invalid(Error),
    /// A sops file, and what decrypting it gave.
    Sops(Box<SopsFile>, Decryption),
}

/// The result of decrypting one sops file in memory.
pub enum Decryption {
    /// The user has no identity at all.
    NoIdentity,
    /// None of the user's identities unwraps the data key.
    Locked,
    /// The data key unwrapped, but decryption or the MAC failed (tampered).
    Broken(Error),
    /// Decrypted and the MAC verified.
    Open(Opened),
}

/// What doctor keeps of a decrypted file: the encrypted leaf values (to search for
/// leaks) and the document shape (to compare with the example). Values are zeroized.
pub struct Opened {
    /// Every leaf that was encrypted, with where it sits.
    pub values: Vec<KnownValue>,
    /// [`crate::example::shape`] of each document.
    pub shape: Vec<Vec<String>>,
}

/// A plaintext value of a current secret.
pub struct KnownValue {
    /// The secret's name.
    pub secret: String,
    /// The key path inside it (`users.0.token`).
    pub path: String,
    /// The value itself.
    pub value: Zeroizing<String>,
}

impl KnownValue {
    /// How a value is shown: its first 2 characters and its length, never more.
    pub fn redacted(&self) -> String {
        let head: String = self.value.chars().take(2).collect();
        format!(
            "{}:{} ('{head}…', {} bytes)",
            self.secret,
            self.path,
            self.value.len()
        )
    }
}

impl Scene {
    /// Gathers the scene from `start`; an error only when there is no parent repo.
    pub fn discover(start: &Path, overrides: &Overrides, opts: Options) -> Result<Scene> {
        let layout = Layout::discover(start, overrides)?;
        let inner = layout.inner().ok().flatten();
        let flake_path = layout.root().join("flake.nix");
        let flake_src = std::fs::read(&flake_path)
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        let input = flake_src.as_deref().and_then(|src| {
            crate::wiring::flake_input::find(&layout, src)
                .ok()
                .flatten()
        });
        let identities = Identities::discover();
        let secrets = load_secrets(&layout, &identities);
        Ok(Scene {
            layout,
            opts,
            inner,
            flake_src,
            input,
            identities,
            secrets,
        })
    }

    /// The flake input's name: config/flag first, else the one found in flake.nix.
    pub fn input_name(&self) -> Option<String> {
        self.layout
            .input
            .clone()
            .or_else(|| self.input.as_ref().map(|i| i.name.clone()))
    }

    /// The inner repo's HEAD commit id (hex), when it has one.
    pub fn inner_head(&self) -> Option<String> {
        let inner = self.inner.as_ref()?;
        inner.head().ok()?.commit().map(|c| c.to_string())
    }

    /// The secrets dir as the user would type it from the parent root: one
    /// shell word, quoted when needed, since hints paste it into commands and
    /// the name comes from a file a pull request may change (flake.nix).
    pub fn dir_shown(&self) -> String {
        let dir = match self.layout.dir_in_parent() {
            Some(p) => p.display().to_string(),
            None => self.layout.dir.display().to_string(),
        };
        crate::quote::shell(&dir).into_owned()
    }

    /// The sops files that decrypted, and how many could not be opened for lack of a key.
    pub fn opened(&self) -> (Vec<(&SecretFile, &Opened)>, usize) {
        let mut open = Vec::new();
        let mut closed = 0;
        for f in &self.secrets {
            match &f.content {
                Content::Sops(_, Decryption::Open(o)) => open.push((f, o)),
                Content::Sops(_, _) => closed += 1,
                _ => {}
            }
        }
        (open, closed)
    }
}

/// True when `bytes` carry a sops marker: an encrypted value or the MAC's `ENC[`.
pub fn looks_like_sops(bytes: &[u8]) -> bool {
    memfind(bytes, b"ENC[AES256_GCM,")
}

/// Whether `needle` occurs in `hay`.
pub(crate) fn memfind(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

fn load_secrets(layout: &Layout, ids: &Identities) -> Vec<SecretFile> {
    // dot files (.gitkeep) are not secrets; the secrets flake skips them too
    let paths = layout.secret_files().unwrap_or_default();
    paths
        .into_iter()
        .map(|path| {
            let rel = path
                .strip_prefix(&layout.dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            let name = crate::layout::secret_name_of(&path);
            let content = load_one(&path, &name, ids);
            SecretFile {
                path,
                rel,
                name,
                content,
            }
        })
        .collect()
}

fn load_one(path: &Path, name: &str, ids: &Identities) -> Content {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return Content::Invalid(Error::io("read", path, e)),
    };
    if !looks_like_sops(&bytes) {
        return Content::Plaintext;
    }
    let file = match SopsFile::parse(&bytes, Format::from_path(path)) {
        Ok(f) => f,
        Err(e) => return Content::Invalid(e),
    };
    let dec = decrypt(&file, name, ids);
    Content::Sops(Box::new(file), dec)
}

fn decrypt(file: &SopsFile, name: &str, ids: &Identities) -> Decryption {
    if ids.is_empty() {
        return Decryption::NoIdentity;
    }
    let key = match file.data_key(ids) {
        Ok(k) => k,
        Err(_) => return Decryption::Locked,
    };
    let dec = match file.decrypt_with_key(key) {
        Ok(d) => d,
        Err(e) => return Decryption::Broken(e),
    };
    let mut values = Vec::new();
    for (enc, plain) in file.docs.iter().zip(dec.docs.0.iter()) {
        encrypted_values(enc, plain, name, &mut Vec::new(), &mut values);
    }
    let shape = dec.docs.0.iter().map(crate::example::shape).collect();
    Decryption::Open(Opened { values, shape })
}

/// Whether a map key reads like a credential rather than a field name: at least 8 bytes
/// with letters and digits, and upper and lower case or a character no identifier has
/// (`SuperSecretP4ss`, `hunter2-Xy`), or 20+ bytes of one unbroken token with digits.
pub fn key_looks_like_credential(key: &str) -> bool {
    let has = |f: fn(&char) -> bool| key.chars().any(|c| f(&c));
    let letters = has(char::is_ascii_alphabetic);
    let digits = has(char::is_ascii_digit);
    let mixed_case = has(char::is_ascii_uppercase) && has(char::is_ascii_lowercase);
    let odd = has(|c| !c.is_ascii_alphanumeric() && !matches!(c, '-' | '_' | '.' | '/'));
    let long_token = key.len() >= 20
        && digits
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '=');
    key.len() >= 8 && ((letters && digits && (mixed_case || odd)) || long_token)
}

/// Walks the encrypted and the decrypted document side by side and keeps the plaintext
/// of every leaf that was encrypted (values left plain by `_unencrypted` or a regex are
/// not secret, so they are not searched for).
fn encrypted_values(
    enc: &Node,
    plain: &Node,
    secret: &str,
    path: &mut Vec<String>,
    out: &mut Vec<KnownValue>,
) {
    match (enc, plain) {
        (Node::Map(a), Node::Map(b)) => {
            for (x, y) in a.iter().zip(b) {
                if let (MapItem::Entry(k, ev), MapItem::Entry(_, pv)) = (x, y) {
                    // sops never encrypts keys, and `example` publishes them: a key that
                    // looks like a credential (a value typed where a key goes) is guarded
                    // like a value. Structural keys (`namespace`, `apiVersion`) are not.
                    if key_looks_like_credential(k) {
                        let mut at = path.clone();
                        at.push(format!("({k_len}-byte key)", k_len = k.len()));
                        out.push(KnownValue {
                            secret: secret.to_string(),
                            path: at.join("."),
                            value: Zeroizing::new(k.clone()),
                        });
                    }
                    path.push(k.clone());
                    encrypted_values(ev, pv, secret, path, out);
                    path.pop();
                }
            }
        }
        (Node::Seq(a), Node::Seq(b)) => {
            for (n, (x, y)) in a.iter().zip(b).enumerate() {
                if let (SeqItem::Value(ev), SeqItem::Value(pv)) = (x, y) {
                    path.push(n.to_string());
                    encrypted_values(ev, pv, secret, path, out);
                    path.pop();
                }
            }
        }
        (Node::Scalar(Scalar::Str(e)), Node::Scalar(p)) if is_encrypted(e) => {
            let text = crate::example::leaf_text(p);
            if !text.is_empty() {
                out.push(KnownValue {
                    secret: secret.to_string(),
                    path: if path.is_empty() {
                        "(value)".into()
                    } else {
                        path.join(".")
                    },
                    value: Zeroizing::new(text),
                });
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::key_looks_like_credential;

    #[test]
    fn credential_like_keys_are_guarded_and_field_names_are_not() {
        for k in [
            "SuperSecretP4ss",
            "hunter2-Xy",
            "s3cr3t!pass",
            "AbCdEf0123456789abcdefGH",
        ] {
            assert!(key_looks_like_credential(k), "{k}");
        }
        for k in [
            "namespace",
            "apiVersion",
            "client-certificate-data",
            "current-context",
            "v1alpha1",
            "hcloud_token",
            "Password",
            "k8s-cluster-01",
        ] {
            assert!(!key_looks_like_credential(k), "{k}");
        }
    }
}
