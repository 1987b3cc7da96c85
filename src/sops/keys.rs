//! age identities and recipients: found where sops finds them, and used to
//! wrap and unwrap a file's data key (an armored age file per recipient).

use crate::error::{Error, Result};
use crate::sops::cipher::DataKey;
use crate::sops::error::{RecipientShape, SopsError};
use age::armor::{ArmoredReader, ArmoredWriter, Format as ArmorFormat};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use zeroize::Zeroizing;

/// One recipient a data key is wrapped for: an age X25519 key or an SSH key.
#[derive(Clone)]
pub enum Recipient {
    X25519(age::x25519::Recipient),
    /// The key and the text it was given as: sops stores an SSH recipient as written,
    /// comment included (`ssh-ed25519 AAAA… me@host`).
    Ssh(age::ssh::Recipient, String),
}

impl std::fmt::Debug for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Recipient({})", self)
    }
}

impl std::fmt::Display for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Recipient::X25519(r) => write!(f, "{r}"),
            Recipient::Ssh(_, text) => f.write_str(text),
        }
    }
}

impl PartialEq for Recipient {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

impl Recipient {
    /// Parses an `age1…` or `ssh-ed25519 …`/`ssh-rsa …` recipient.
    pub fn parse(s: &str) -> Result<Recipient> {
        let s = s.trim();
        if s.starts_with("ssh-") {
            return age::ssh::Recipient::from_str(s)
                .map(|r| Recipient::Ssh(r, s.to_string()))
                .map_err(|e| {
                    SopsError::BadSshRecipient {
                        shown: short(s),
                        detail: format!("{e:?}"),
                    }
                    .into()
                });
        }
        age::x25519::Recipient::from_str(s)
            .map(Recipient::X25519)
            .map_err(|e| {
                let shape = if s.starts_with("age1pq") {
                    RecipientShape::PostQuantum
                } else if s.starts_with("age1") {
                    RecipientShape::Plugin
                } else {
                    RecipientShape::NotAge
                };
                SopsError::BadAgeRecipient {
                    shown: short(s),
                    detail: e.to_string(),
                    shape,
                }
                .into()
            })
    }

    fn as_dyn(&self) -> &dyn age::Recipient {
        match self {
            Recipient::X25519(r) => r,
            Recipient::Ssh(r, _) => r,
        }
    }
}

fn short(s: &str) -> String {
    if s.chars().count() > 24 {
        format!("{}…", s.chars().take(24).collect::<String>())
    } else {
        s.to_string()
    }
}

/// Wraps a data key for one recipient as sops does: an ASCII-armored age
/// file holding the 32 raw key bytes.
pub fn wrap_data_key(key: &DataKey, recipient: &Recipient) -> Result<String> {
    wrap_bytes(&key[..], recipient)
}

/// Encrypts `bytes` to one recipient as an ASCII-armored age file.
pub fn wrap_bytes(bytes: &[u8], recipient: &Recipient) -> Result<String> {
    let encryptor = age::Encryptor::with_recipients(std::iter::once(recipient.as_dyn()))
        .map_err(|e| Error::new(format!("cannot encrypt the data key to {recipient}: {e}")))?;
    let mut out = Vec::new();
    let io = |e: std::io::Error| Error::new(format!("cannot encrypt the data key: {e}"));
    let armored = ArmoredWriter::wrap_output(&mut out, ArmorFormat::AsciiArmor).map_err(io)?;
    let mut w = encryptor.wrap_output(armored).map_err(io)?;
    w.write_all(bytes).map_err(io)?;
    w.finish().and_then(|a| a.finish()).map_err(io)?;
    String::from_utf8(out).map_err(|_| Error::new("age armor is not UTF-8")) // ok: armor is ASCII
}

/// Where an identity came from, for messages ("SOPS_AGE_KEY_FILE=…").
#[derive(Debug, Clone, PartialEq)]
pub struct IdentitySource {
    pub label: String,
    pub path: Option<PathBuf>,
}

/// Every identity this user has, from every place sops looks.
#[derive(Default)]
pub struct Identities {
    identities: Vec<Box<dyn age::Identity + Send + Sync>>,
    /// X25519 identities again, for their public keys (computed on demand:
    /// a scalar multiplication each, not needed to decrypt).
    x25519: Vec<age::x25519::Identity>,
    /// Public keys of the SSH identities (from their `.pub` files).
    ssh_recipients: Vec<Recipient>,
    /// Where identities were found.
    pub sources: Vec<IdentitySource>,
    /// Problems found on the way (unreadable files, bad keys): reported only
    /// when no identity decrypts.
    pub problems: Vec<String>,
}

impl Identities {
    /// Finds identities exactly where sops 3.11 looks: `SOPS_AGE_SSH_PRIVATE_KEY_FILE`,
    /// `~/.ssh/id_ed25519`, `~/.ssh/id_rsa`, `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`,
    /// `SOPS_AGE_KEY_CMD`, and `<config dir>/sops/age/keys.txt`.
    pub fn discover() -> Identities {
        let mut ids = Identities::default();
        if let Some(p) = std::env::var_os("SOPS_AGE_SSH_PRIVATE_KEY_FILE") {
            ids.add_ssh_file(Path::new(&p), "SOPS_AGE_SSH_PRIVATE_KEY_FILE");
        }
        if let Some(home) = home_dir() {
            for name in ["id_ed25519", "id_rsa"] {
                let p = home.join(".ssh").join(name);
                if p.exists() {
                    ids.add_ssh_file(&p, &format!("~/.ssh/{name}"));
                }
            }
        }
        if let Ok(key) = std::env::var("SOPS_AGE_KEY") {
            ids.add_age_text(&key, "SOPS_AGE_KEY", None);
        }
        if let Some(p) = std::env::var_os("SOPS_AGE_KEY_FILE") {
            let p = PathBuf::from(p);
            match std::fs::read(&p) {
                Ok(b) => {
                    ids.add_age_text(&String::from_utf8_lossy(&b), "SOPS_AGE_KEY_FILE", Some(&p))
                }
                Err(e) => ids
                    .problems
                    .push(format!("SOPS_AGE_KEY_FILE {}: {e}", p.display())),
            }
        }
        if let Ok(cmd) = std::env::var("SOPS_AGE_KEY_CMD") {
            ids.add_key_cmd(&cmd);
        }
        if let Some(p) = default_key_file() {
            match std::fs::read(&p) {
                Ok(b) => {
                    ids.add_age_text(&String::from_utf8_lossy(&b), "sops age key file", Some(&p))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => ids.problems.push(format!("{}: {e}", p.display())),
            }
        }
        ids
    }

    /// Identities from age key text only (tests, the example's key).
    pub fn from_age_text(text: &str, label: &str) -> Identities {
        let mut ids = Identities::default();
        ids.add_age_text(text, label, None);
        ids
    }

    /// The public keys of this user's identities (X25519 first).
    pub fn recipients(&self) -> Vec<Recipient> {
        self.x25519
            .iter()
            .map(|id| Recipient::X25519(id.to_public()))
            .chain(self.ssh_recipients.iter().cloned())
            .collect()
    }

    /// True when no identity was found.
    pub fn is_empty(&self) -> bool {
        self.identities.is_empty()
    }

    fn add_age_text(&mut self, text: &str, label: &str, path: Option<&Path>) {
        let mut n = 0;
        for (lineno, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            match age::x25519::Identity::from_str(line) {
                Ok(id) => {
                    self.x25519.push(id.clone());
                    self.identities.push(Box::new(id));
                    n += 1;
                }
                Err(_) => self.problems.push(format!(
                    "{label}: line {} is not an age secret key (AGE-SECRET-KEY-1…)",
                    lineno + 1
                )),
            }
        }
        if n > 0 {
            self.sources.push(IdentitySource {
                label: label.to_string(),
                path: path.map(Path::to_path_buf),
            });
        }
    }

    fn add_ssh_file(&mut self, path: &Path, label: &str) {
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => {
                self.problems
                    .push(format!("{label} {}: {e}", path.display()));
                return;
            }
        };
        match age::ssh::Identity::from_buffer(
            BufReader::new(file),
            Some(path.display().to_string()),
        ) {
            Ok(age::ssh::Identity::Unencrypted(k)) => {
                let id = age::ssh::Identity::Unencrypted(k);
                if let Some(r) = ssh_public_key(path) {
                    self.ssh_recipients.push(r);
                }
                self.identities
                    .push(Box::new(id.with_callbacks(age::NoCallbacks)));
                self.sources.push(IdentitySource {
                    label: label.to_string(),
                    path: Some(path.to_path_buf()),
                });
            }
            Ok(age::ssh::Identity::Encrypted(_)) => self.problems.push(format!(
                "{label} {} is passphrase-protected; git-secrets cannot prompt for it",
                path.display()
            )),
            Ok(age::ssh::Identity::Unsupported(_)) | Err(_) => self.problems.push(format!(
                "{label} {} is not a supported SSH key",
                path.display()
            )),
        }
    }

    fn add_key_cmd(&mut self, cmd: &str) {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        let Some((prog, args)) = words.split_first() else {
            return;
        };
        match std::process::Command::new(prog)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .output()
        {
            Ok(out) if out.status.success() => {
                let text = Zeroizing::new(String::from_utf8_lossy(&out.stdout).into_owned());
                self.add_age_text(&text, "SOPS_AGE_KEY_CMD", None);
            }
            Ok(out) => self.problems.push(format!(
                "SOPS_AGE_KEY_CMD failed ({})",
                crate::error::exit_status(out.status)
            )),
            Err(e) => self
                .problems
                .push(format!("SOPS_AGE_KEY_CMD '{prog}': {e}")),
        }
    }

    /// Unwraps a data key from one armored age stanza, if any identity can.
    pub fn unwrap_data_key(&self, armored: &str) -> Option<DataKey> {
        let bytes = self.unwrap_bytes(armored)?;
        let key: [u8; 32] = bytes.as_slice().try_into().ok()?;
        Some(Zeroizing::new(key))
    }

    /// Unwraps any bytes (a Shamir share) from one armored age stanza.
    pub fn unwrap_bytes(&self, armored: &str) -> Option<Zeroizing<Vec<u8>>> {
        if self.identities.is_empty() {
            return None;
        }
        let decryptor =
            age::Decryptor::new_buffered(ArmoredReader::new(armored.as_bytes())).ok()?;
        let mut reader = decryptor
            .decrypt(
                self.identities
                    .iter()
                    .map(|i| i.as_ref() as &dyn age::Identity),
            )
            .ok()?;
        let mut buf = Zeroizing::new(Vec::with_capacity(33));
        reader.read_to_end(&mut buf).ok()?;
        Some(buf)
    }
}

/// The user's home directory ($HOME).
pub fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// The config dir sops uses: `$XDG_CONFIG_HOME`, else `~/.config` (Linux);
/// on macOS `~/Library/Application Support` unless `XDG_CONFIG_HOME` is set.
pub fn config_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        return Some(PathBuf::from(x));
    }
    let home = home_dir()?;
    if cfg!(target_os = "macos") {
        Some(home.join("Library/Application Support"))
    } else {
        Some(home.join(".config"))
    }
}

/// `<config dir>/sops/age/keys.txt`, where sops and `init` keep the user's key.
pub fn default_key_file() -> Option<PathBuf> {
    config_dir().map(|d| d.join("sops").join("age").join("keys.txt"))
}

fn ssh_public_key(private: &Path) -> Option<Recipient> {
    let mut pubpath = private.as_os_str().to_owned();
    pubpath.push(".pub");
    let text = std::fs::read_to_string(PathBuf::from(pubpath)).ok()?;
    let mut parts = text.split_whitespace();
    let key = format!("{} {}", parts.next()?, parts.next()?);
    Recipient::parse(&key).ok()
}

/// Generates a new X25519 identity, returning (key file text, recipient).
pub fn generate_identity() -> (Zeroizing<String>, Recipient) {
    use age::secrecy::ExposeSecret;
    let id = age::x25519::Identity::generate();
    let public = id.to_public();
    let text = Zeroizing::new(format!(
        "# created: {}\n# public key: {}\n{}\n",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
        public,
        id.to_string().expose_secret()
    ));
    (text, Recipient::X25519(public))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_and_unwrap() {
        let (text, r) = generate_identity();
        let ids = Identities::from_age_text(&text, "test");
        let key = crate::sops::cipher::new_data_key();
        let armored = wrap_data_key(&key, &r).unwrap();
        assert!(armored.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"));
        assert!(armored.ends_with("-----END AGE ENCRYPTED FILE-----\n"));
        assert_eq!(ids.unwrap_data_key(&armored).unwrap()[..], key[..]);
        let (other, _) = generate_identity();
        assert!(Identities::from_age_text(&other, "x")
            .unwrap_data_key(&armored)
            .is_none());
    }

    #[test]
    fn bad_recipients_are_usage_errors() {
        for bad in ["", "age1xyz", "ssh-ed25519 AAAA", "AGE-SECRET-KEY-1ABC"] {
            assert!(Recipient::parse(bad).is_err(), "{bad}");
        }
    }
}
