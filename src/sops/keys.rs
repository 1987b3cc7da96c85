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
        // An identity (`AGE-SECRET-KEY-1…`, `AGE-PLUGIN-…`) pasted for its recipient: not
        // a character of it in the error, which lands in terminals and CI logs.
        if is_identity(s) {
            return Err(SopsError::BadAgeRecipient {
                shown: "AGE-…".into(),
                detail: "an age secret key (identity), not its public key; not shown".into(),
                shape: RecipientShape::SecretKey,
            }
            .into());
        }
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
                let shape = match s.strip_prefix("age1") {
                    Some(rest) if rest.starts_with("pq") => RecipientShape::PostQuantum,
                    Some(_) => RecipientShape::Plugin,
                    None => RecipientShape::NotAge,
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

/// One place sops 3.11 looks for identities, and what it held here.
#[derive(Debug, Clone, PartialEq)]
pub struct Looked {
    /// The variable (`SOPS_AGE_KEY`), the variable with its value
    /// (`SOPS_AGE_KEY_FILE=/k.txt`), or the file (`/home/me/.ssh/id_ed25519`).
    pub place: String,
    /// What was there.
    pub found: Found,
}

/// What one place held.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// This many identities.
    Keys(usize),
    /// The variable is not set (or `HOME`, which the place needs, is not).
    NotSet,
    /// A default file that does not exist (sops does not mind).
    NoFile,
    /// Read, but no key in it: empty, or only comments.
    NoKey,
    /// Cannot be used, and why: unreadable, a command that failed, a passphrase-protected
    /// SSH key.
    Failed(String),
    /// Key text with a line sops 3.11 cannot read: sops then uses none of the keys in
    /// it (the good lines neither), and so do we.
    Refused(BadKeyLine),
}

/// The first line of a key source (file, `SOPS_AGE_KEY`, `SOPS_AGE_KEY_CMD`'s output)
/// that is not empty, not a `#` comment and not an identity: what it looks like, never
/// what it holds (it may be a mangled secret key).
#[derive(Debug, Clone, PartialEq)]
pub struct BadKeyLine {
    /// 1-based.
    pub line: usize,
    pub shape: LineShape,
    /// The file the line is in, when the source is a file.
    pub file: Option<PathBuf>,
}

/// What a refused line looks like.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LineShape {
    /// Only spaces or tabs: sops skips only a line that is empty.
    Blanks,
    /// `  # …`: sops skips only a line whose first character is `#`.
    IndentedComment,
    /// A key with spaces or tabs before or after it: sops reads the line as it is.
    SpacedKey,
    /// `age-secret-key-1…`: sops reads the prefix in upper case only.
    LowerCaseKey,
    /// Starts with `AGE-SECRET-KEY-1` but does not decode (cut short, a typo).
    DamagedKey,
    /// Anything else.
    NotAKey,
}

impl std::fmt::Display for BadKeyLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let why = match self.shape {
            LineShape::NotAKey => "(AGE-SECRET-KEY-1…), a # comment or empty",
            LineShape::Blanks => "nor empty: it holds only spaces or tabs (only an empty line is skipped)",
            LineShape::IndentedComment => {
                "nor a comment: spaces or tabs come before its # (only a line that starts with # is skipped)"
            }
            LineShape::SpacedKey => {
                "as it stands: spaces or tabs around the key are read as part of it"
            }
            LineShape::LowerCaseKey => {
                "as it stands: it is in lower case (only AGE-SECRET-KEY-1… in upper case is read)"
            }
            LineShape::DamagedKey => {
                "though it starts like one (AGE-SECRET-KEY-1…): it does not decode, cut short or mistyped"
            }
        };
        write!(f, "line {} is not an age secret key {why}", self.line)
    }
}

impl Looked {
    /// `SOPS_AGE_KEY_FILE=/k.txt is refused (line 2 is not an age secret key)`: the
    /// words of an error and of doctor's check when a source was refused for a line.
    pub fn refusal(&self) -> Option<String> {
        match &self.found {
            Found::Refused(bad) => Some(format!(
                "{} is refused (line {} is not an age secret key)",
                self.place, bad.line
            )),
            _ => None,
        }
    }
}

/// The first place refused for a line, in the words of [`Looked::refusal`].
pub fn first_refusal(looked: &[Looked]) -> Option<String> {
    looked.iter().find_map(Looked::refusal)
}

/// What one line of age key text is, read as sops 3.11 reads it (`parseIdentities`): no
/// trimming (Go's line scanner drops only a trailing `\r`), `#` only in the first column,
/// the prefixes in upper case.
enum KeyLine {
    Skip,
    Key(age::x25519::Identity),
    /// `AGE-PLUGIN-…`: sops reads it; git-secrets cannot use a plugin.
    Plugin,
    Bad(LineShape),
}

fn read_key_line(line: &str) -> KeyLine {
    if line.is_empty() || line.starts_with('#') {
        return KeyLine::Skip;
    }
    if line.starts_with("AGE-PLUGIN-") {
        return KeyLine::Plugin;
    }
    if line.starts_with("AGE-SECRET-KEY-1") {
        if let Ok(id) = age::x25519::Identity::from_str(line) {
            return KeyLine::Key(id);
        }
    }
    let trimmed = line.trim();
    KeyLine::Bad(if trimmed.is_empty() {
        LineShape::Blanks
    } else if trimmed.starts_with('#') {
        LineShape::IndentedComment
    } else if trimmed != line && matches!(read_key_line(trimmed), KeyLine::Key(_)) {
        LineShape::SpacedKey
    } else if trimmed.starts_with("AGE-SECRET-KEY-1") {
        LineShape::DamagedKey
    } else if trimmed.starts_with("age-secret-key-1") {
        LineShape::LowerCaseKey
    } else {
        LineShape::NotAKey
    })
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
    /// Every place looked in, in sops' order, with what it held: the words of
    /// "no age identity found" when none was.
    pub looked: Vec<Looked>,
}

impl Identities {
    /// Finds identities exactly where sops 3.11 looks, in its order:
    /// `SOPS_AGE_SSH_PRIVATE_KEY_FILE`, `~/.ssh/id_ed25519`, `~/.ssh/id_rsa`,
    /// `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY_CMD`, and
    /// `<config dir>/sops/age/keys.txt` (all of them, not the first that has a key).
    pub fn discover() -> Identities {
        let mut ids = Identities::default();
        const SSH_ENV: &str = "SOPS_AGE_SSH_PRIVATE_KEY_FILE";
        match std::env::var_os(SSH_ENV) {
            Some(p) => match key_not_path(&p) {
                Some((shown, why)) => ids.note(format!("{SSH_ENV}={shown}"), why),
                None => {
                    let place = format!("{SSH_ENV}={}", Path::new(&p).display());
                    let found = ids.add_ssh_file(Path::new(&p), SSH_ENV);
                    ids.note(place, found);
                }
            },
            None => ids.note(SSH_ENV.into(), Found::NotSet),
        }
        match home_dir() {
            Some(home) => {
                for name in ["id_ed25519", "id_rsa"] {
                    let p = home.join(".ssh").join(name);
                    let found = if p.exists() {
                        ids.add_ssh_file(&p, &format!("~/.ssh/{name}"))
                    } else {
                        Found::NoFile
                    };
                    ids.note(p.display().to_string(), found);
                }
            }
            None => ids.note(
                "~/.ssh/id_ed25519, ~/.ssh/id_rsa (HOME)".into(),
                Found::NotSet,
            ),
        }
        const KEY_ENV: &str = "SOPS_AGE_KEY";
        match std::env::var_os(KEY_ENV) {
            Some(key) => {
                let found = match key.to_str() {
                    Some(key) => ids.add_age_text(key, KEY_ENV, None),
                    None => Found::Failed("not valid UTF-8".into()),
                };
                ids.note(KEY_ENV.into(), found);
            }
            None => ids.note(KEY_ENV.into(), Found::NotSet),
        }
        const FILE_ENV: &str = "SOPS_AGE_KEY_FILE";
        match std::env::var_os(FILE_ENV) {
            Some(p) => match key_not_path(&p) {
                Some((shown, why)) => ids.note(format!("{FILE_ENV}={shown}"), why),
                None => {
                    let p = PathBuf::from(p);
                    let found = ids.add_key_file(&p, FILE_ENV, true);
                    ids.note(format!("{FILE_ENV}={}", p.display()), found);
                }
            },
            None => ids.note(FILE_ENV.into(), Found::NotSet),
        }
        const CMD_ENV: &str = "SOPS_AGE_KEY_CMD";
        match std::env::var(CMD_ENV) {
            Ok(cmd) => {
                // split once, as sops splits it: what runs is what is named
                let (found, shown) = match split_command(&cmd) {
                    Ok(words) => (ids.add_key_cmd(&words), shown_command(&words)),
                    Err(why) => (
                        Found::Failed(format!("cannot split the command: {why}")),
                        "…".to_string(),
                    ),
                };
                ids.note(format!("{CMD_ENV}={shown}"), found);
            }
            Err(_) => ids.note(CMD_ENV.into(), Found::NotSet),
        }
        match default_key_file() {
            Some(p) => {
                let found = ids.add_key_file(&p, "sops age key file", false);
                ids.note(p.display().to_string(), found);
            }
            None => match std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
                Some(x) => ids.note(
                    format!("XDG_CONFIG_HOME={}", Path::new(&x).display()),
                    Found::Failed(
                        "a relative path, which sops ignores (so no sops/age/keys.txt is read)"
                            .into(),
                    ),
                ),
                None => ids.note("~/.config/sops/age/keys.txt (HOME)".into(), Found::NotSet),
            },
        }
        ids
    }

    /// The places that held something unusable (not the ones that were merely
    /// empty): what a user whose key does not decrypt should look at first.
    pub fn unusable(&self) -> Vec<Looked> {
        self.looked
            .iter()
            .filter(|l| matches!(l.found, Found::Failed(_) | Found::Refused(_) | Found::NoKey))
            .cloned()
            .collect()
    }

    fn note(&mut self, place: String, found: Found) {
        self.looked.push(Looked { place, found });
    }

    /// The identities in the key file at `path`; a missing file is a failure only
    /// when the user named it (`named`), not for the default place.
    fn add_key_file(&mut self, path: &Path, label: &str, named: bool) -> Found {
        match std::fs::read(path) {
            Ok(bytes) => {
                let bytes = Zeroizing::new(bytes);
                let text = Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned());
                self.add_age_text(&text, label, Some(path))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !named => Found::NoFile,
            Err(e) => Found::Failed(format!("cannot read it: {e}")),
        }
    }

    /// Identities from age key text only (tests, the example's key), read as sops reads
    /// it: a line that is not a key refuses them all, and `looked` says which (`label`).
    pub fn from_age_text(text: &str, label: &str) -> Identities {
        let mut ids = Identities::default();
        let found = ids.add_age_text(text, label, None);
        ids.note(label.to_string(), found);
        ids
    }

    /// Every age secret key in `text`, whatever else it holds (spaces around a key, lines
    /// sops refuses): for asking whether a published key file holds a *real* key, where a
    /// stray line must not make a real key look harmless. Never for decrypting.
    pub fn every_key_in(text: &str) -> Identities {
        let mut ids = Identities::default();
        for line in text.lines() {
            if let Ok(id) = age::x25519::Identity::from_str(line.trim()) {
                ids.add_x25519(id);
            }
        }
        ids
    }

    /// An X25519 identity, both to decrypt with and to name as a recipient.
    fn add_x25519(&mut self, id: age::x25519::Identity) {
        self.x25519.push(id.clone());
        self.identities.push(Box::new(id));
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

    /// Adds the identities in `text` the way sops 3.11 does: one per line, empty lines
    /// and `#` comments skipped, and none at all when a line is anything else (sops
    /// refuses the whole source, good lines too); says what it held.
    fn add_age_text(&mut self, text: &str, label: &str, path: Option<&Path>) -> Found {
        // sops reads these as an identity file encrypted with a passphrase
        if text.starts_with("age-encryption") || text.starts_with("-----BEGIN AGE") {
            return Found::Failed(
                "an age identity file encrypted with a passphrase, which git-secrets cannot prompt for".into(),
            );
        }
        let mut keys = Vec::new();
        let mut plugins = 0;
        for (n, line) in text.lines().enumerate() {
            match read_key_line(line) {
                KeyLine::Skip => {}
                KeyLine::Key(id) => keys.push(id),
                KeyLine::Plugin => plugins += 1,
                KeyLine::Bad(shape) => {
                    return Found::Refused(BadKeyLine {
                        line: n + 1,
                        shape,
                        file: path.map(Path::to_path_buf),
                    })
                }
            }
        }
        if keys.is_empty() {
            return match plugins {
                0 => Found::NoKey,
                _ => Found::Failed(
                    "holds only age plugin identities (AGE-PLUGIN-…), which git-secrets cannot use"
                        .into(),
                ),
            };
        }
        let n = keys.len();
        for id in keys {
            self.add_x25519(id);
        }
        self.sources.push(IdentitySource {
            label: label.to_string(),
            path: path.map(Path::to_path_buf),
        });
        Found::Keys(n)
    }

    fn add_ssh_file(&mut self, path: &Path, label: &str) -> Found {
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => return Found::Failed(format!("cannot read it: {e}")),
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
                Found::Keys(1)
            }
            Ok(age::ssh::Identity::Encrypted(_)) => {
                Found::Failed("passphrase-protected; git-secrets cannot prompt for it".into())
            }
            Ok(age::ssh::Identity::Unsupported(_)) | Err(_) => {
                Found::Failed("not a supported SSH key (ssh-ed25519 or ssh-rsa)".into())
            }
        }
    }

    /// Runs `SOPS_AGE_KEY_CMD`, split into `words` by [`split_command`].
    fn add_key_cmd(&mut self, words: &[String]) -> Found {
        let Some((prog, args)) = words.split_first() else {
            return Found::Failed("empty command".into());
        };
        if is_identity(prog) {
            // never run (nor shown): a key meant for SOPS_AGE_KEY
            return Found::Failed(
                "an age secret key, not a command (not shown): set SOPS_AGE_KEY to a key, SOPS_AGE_KEY_CMD to a command that prints one".into(),
            );
        }
        match std::process::Command::new(prog)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .output()
        {
            Ok(out) if out.status.success() => {
                let text = Zeroizing::new(String::from_utf8_lossy(&out.stdout).into_owned());
                self.add_age_text(&text, "SOPS_AGE_KEY_CMD", None)
            }
            Ok(out) => Found::Failed(format!(
                "the command failed ({})",
                crate::error::exit_status(out.status)
            )),
            Err(e) => Found::Failed(format!("cannot run {prog}: {e}")),
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

/// Whether `s` looks like an age identity (`AGE-SECRET-KEY-1…`, `AGE-PLUGIN-…`): a
/// secret, never shown.
fn is_identity(s: &str) -> bool {
    s.trim_start_matches(['"', '\''])
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("AGE-"))
}

/// When a variable that names a key file holds a key instead (an age identity, a PEM or
/// OpenSSH private key): how to show it (never the key) and what it held.
fn key_not_path(value: &std::ffi::OsStr) -> Option<(&'static str, Found)> {
    let v = value.to_string_lossy();
    let fix = "set SOPS_AGE_KEY to a key, SOPS_AGE_KEY_FILE or SOPS_AGE_SSH_PRIVATE_KEY_FILE to the file that holds one";
    if is_identity(&v) {
        Some((
            "AGE-…",
            Found::Failed(format!("an age secret key, not a path (not shown): {fix}")),
        ))
    } else if v.trim_start().starts_with("-----BEGIN") || v.contains("PRIVATE KEY") {
        Some((
            "-----BEGIN …",
            Found::Failed(format!("a private key, not a path (not shown): {fix}")),
        ))
    } else {
        None
    }
}

/// The program of `SOPS_AGE_KEY_CMD` as shown: itself, unless it is a key put in the
/// wrong variable.
/// `SOPS_AGE_KEY_CMD` as shown: only its program, since the rest of the line may hold
/// a key (`echo AGE-…`).
fn shown_command(words: &[String]) -> String {
    match words.split_first() {
        Some((prog, [])) => shown_program(prog).to_string(),
        Some((prog, _)) => format!("{} …", shown_program(prog)),
        None => String::new(),
    }
}

fn shown_program(word: &str) -> &str {
    if is_identity(word) {
        "AGE-…"
    } else {
        word
    }
}

/// Splits `SOPS_AGE_KEY_CMD` into words as sops does (google/shlex): blanks separate
/// words, `'…'` is literal, `"…"` and a bare `\` escape the next character, `#` at the
/// start of a word comments out the rest of the line; no `$` expansion, no globs.
fn split_command(cmd: &str) -> std::result::Result<Vec<String>, &'static str> {
    #[derive(PartialEq)]
    enum State {
        Blank,
        Word,
        Single,
        Double,
        Comment,
    }
    let mut words = Vec::new();
    let mut word = String::new();
    let mut state = State::Blank;
    let mut chars = cmd.chars();
    while let Some(c) = chars.next() {
        match state {
            State::Comment => {
                if c == '\n' {
                    state = State::Blank;
                }
            }
            State::Single => match c {
                '\'' => state = State::Word,
                c => word.push(c),
            },
            State::Double => match c {
                '"' => state = State::Word,
                '\\' => word.push(chars.next().ok_or("EOF found after escape character")?),
                c => word.push(c),
            },
            State::Blank | State::Word => match c {
                ' ' | '\t' | '\r' | '\n' => {
                    if state == State::Word {
                        words.push(std::mem::take(&mut word));
                    }
                    state = State::Blank;
                }
                '#' if state == State::Blank => state = State::Comment,
                '\'' => state = State::Single,
                '"' => state = State::Double,
                '\\' => {
                    word.push(chars.next().ok_or("EOF found after escape character")?);
                    state = State::Word;
                }
                c => {
                    word.push(c);
                    state = State::Word;
                }
            },
        }
    }
    match state {
        State::Single | State::Double => Err("EOF found when expecting closing quote"),
        State::Word => {
            words.push(word);
            Ok(words)
        }
        State::Blank | State::Comment => Ok(words),
    }
}

/// The user's home directory ($HOME).
pub fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// The config dir sops uses: `$XDG_CONFIG_HOME`, else `~/.config` (Linux);
/// on macOS `~/Library/Application Support` unless `XDG_CONFIG_HOME` is set. `None`
/// without `HOME`, and on Linux for a relative `XDG_CONFIG_HOME`, which Go's
/// `os.UserConfigDir` (and so sops) refuses rather than falling back to `~/.config`.
pub fn config_dir() -> Option<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME").filter(|x| !x.is_empty()) {
        let x = PathBuf::from(x);
        return (x.is_absolute() || cfg!(target_os = "macos")).then_some(x);
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
    fn key_cmd_is_split_like_sops_shlex() {
        let ok = |cmd: &str| split_command(cmd).unwrap();
        assert_eq!(ok("pass show age"), ["pass", "show", "age"]);
        assert_eq!(ok("cat '/k/my key.txt'"), ["cat", "/k/my key.txt"]);
        assert_eq!(
            ok(r#"cat "/k/my key.txt" # note"#),
            ["cat", "/k/my key.txt"]
        );
        assert_eq!(ok(r"cat /k/my\ key.txt"), ["cat", "/k/my key.txt"]);
        assert_eq!(ok(r#"cat /k/my" "key.txt"#), ["cat", "/k/my key.txt"]);
        assert_eq!(ok(r#"sh -c "echo \"\$X\"""#), ["sh", "-c", r#"echo "$X""#]);
        assert_eq!(ok("a#b ''"), ["a#b", ""]);
        assert_eq!(ok("  "), Vec::<String>::new());
        assert!(split_command(r#"cat "/k"#).is_err());
        assert!(split_command("cat 'x").is_err());
        assert!(split_command("cat x\\").is_err());
    }

    #[test]
    fn key_text_with_a_stray_line_is_refused_whole_but_every_key_in_still_finds_the_key() {
        let (text, r) = generate_identity();
        let key = text.lines().last().unwrap().to_string();
        for (bad, shape) in [
            (" ", LineShape::Blanks),
            ("\t# c", LineShape::IndentedComment),
            (&format!("{key} ") as &str, LineShape::SpacedKey),
            (&key.to_lowercase(), LineShape::LowerCaseKey),
            (&key[..key.len() - 1], LineShape::DamagedKey),
            ("age1xyz", LineShape::NotAKey),
        ] {
            let ids = Identities::from_age_text(&format!("# c\n\n{key}\n{bad}\n"), "k");
            assert!(ids.is_empty(), "{bad:?}");
            assert_eq!(
                ids.looked[0].found,
                Found::Refused(BadKeyLine {
                    line: 4,
                    shape,
                    file: None
                })
            );
            let every = Identities::every_key_in(&format!("{bad}\n{key}\n"));
            assert_eq!(every.recipients()[0], r, "{bad:?}");
        }
        let crlf = Identities::from_age_text(&format!("# c\r\n{key}\r\nAGE-PLUGIN-X\n"), "k");
        assert_eq!(crlf.looked[0].found, Found::Keys(1));
    }

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
    fn bad_recipients_are_errors_that_say_what_they_look_like() {
        for (bad, hint) in [
            ("", "starts with age1"),
            ("age1xyz", "plugin"),
            ("age1pqxyz", "post-quantum"),
            ("ssh-ed25519 AAAA", "ssh-ed25519 or ssh-rsa"),
            ("AGE-SECRET-KEY-1ABC", "age-keygen -y"),
        ] {
            let err = Recipient::parse(bad).unwrap_err();
            assert!(
                err.hints.iter().any(|h| h.contains(hint)),
                "{bad}: {:?}",
                err.hints
            );
        }
    }
}
