//! What the leak guards look for among the secrets' plaintext values, and how much each
//! one matters. A credential (a token, a password, key material) blocks a commit; a
//! name, a namespace, a host or a URL only warns, because public Nix code has to spell
//! those out (the kubeconfig is encrypted whole, so `kube-system` is one of its values).
//!
//! Each value is searched for in the forms it leaks in: as it is; each line of a
//! multi-line value (a PEM pasted elsewhere keeps its lines, rarely its indentation);
//! base64-encoded (a Kubernetes Secret's `data:`), at each of the three byte offsets it
//! can sit at inside a longer base64 text, and wrapped at 64 or 76 columns as PEM and
//! `base64` write it; and, for a value that is itself base64 (a kubeconfig's
//! `client-key-data`), decoded.

use std::collections::HashMap;
use std::hash::BuildHasher;

use base64::Engine;
use zeroize::Zeroizing;

use super::scene::{Content, Decryption, Scene};
use crate::allowlist::Allowlist;

/// How much a value matters when it turns up in the public repo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// A name, a namespace, a host, a URL, a certificate: warns.
    Name,
    /// A token, a password, key material: blocks.
    Credential,
}

/// Where a value sits: the secret and the dotted key path in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The secret's name.
    pub secret: String,
    /// The key path inside it (`users.0.user.token`).
    pub path: String,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.secret, self.path)
    }
}

/// One distinct text the guards search for.
pub struct Guarded {
    /// The text (zeroized on drop).
    pub text: Zeroizing<Vec<u8>>,
    /// Every place among the secrets it comes from.
    pub sources: Vec<Source>,
    /// How much it matters (a credential when any source says so).
    pub class: Class,
    /// How it is shown: the secret's value it comes from, redacted.
    pub label: String,
}

/// A form of a [`Guarded`] value to search for.
pub struct Needle {
    /// Index into the values.
    pub value: usize,
    /// How this form relates to the value ("" when it is the value as is).
    pub how: &'static str,
    /// The bytes.
    pub bytes: Zeroizing<Vec<u8>>,
}

/// The values to guard, and how many the allowlist exempted.
pub struct Collected {
    /// The values, each once.
    pub values: Vec<Guarded>,
    /// Values left out because the allowlist covers every place they come from.
    pub allowed: usize,
}

/// Gathers every plaintext value of the decrypted secrets at least `min` bytes long
/// (with its derived forms), classified, minus those `allow` covers.
pub fn collect(scene: &Scene, min: usize, allow: &Allowlist) -> Collected {
    let mut values: Vec<Guarded> = Vec::new();
    // by a hash of the text, so no copy of a value sits in a map that is not zeroized
    let hasher = std::collections::hash_map::RandomState::new();
    let mut index: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut add = |text: &[u8], source: &Source, class: Class, label: &str| {
        if text.len() < min {
            return;
        }
        let slot = index.entry(hasher.hash_one(text)).or_default();
        match slot
            .iter()
            .copied()
            .find(|&i| values[i].text.as_slice() == text)
        {
            Some(i) => {
                let v: &mut Guarded = &mut values[i];
                v.class = v.class.max(class);
                if !v.sources.contains(source) {
                    v.sources.push(source.clone());
                }
            }
            None => {
                slot.push(values.len());
                values.push(Guarded {
                    text: Zeroizing::new(text.to_vec()),
                    sources: vec![source.clone()],
                    class,
                    label: label.to_string(),
                });
            }
        }
    };
    for f in &scene.secrets {
        let Content::Sops(_, Decryption::Open(o)) = &f.content else {
            continue;
        };
        for kv in &o.values {
            let source = Source {
                secret: kv.secret.clone(),
                path: kv.path.clone(),
            };
            let label = kv.redacted();
            let value = kv.value.trim();
            // a credential-like map key (see `scene::key_looks_like_credential`)
            let is_key = kv.path.ends_with("-byte key)");
            let key = kv.path.rsplit('.').next().unwrap_or("");
            let class = if is_key {
                Class::Credential
            } else {
                classify(key, value.as_bytes())
            };
            add(value.as_bytes(), &source, class, &label);
            for (line, class) in pem_line_classes(value, class) {
                add(line.as_bytes(), &source, class, &label);
            }
            if let Some(decoded) = decode_base64(value) {
                let class = if is_key {
                    class
                } else {
                    classify(key, &decoded)
                };
                add(&decoded, &source, class, &label);
                if let Ok(text) = std::str::from_utf8(&decoded) {
                    for (line, class) in pem_line_classes(text, class) {
                        add(line.as_bytes(), &source, class, &label);
                    }
                }
            }
        }
    }
    let before = values.len();
    values.retain(|v| !v.sources.iter().all(|s| allow.allows(&s.secret, &s.path)));
    Collected {
        allowed: before - values.len(),
        values,
    }
}

/// What one allowlist pattern covers among the secrets' values.
pub struct Coverage {
    /// The pattern.
    pub pattern: crate::allowlist::Pattern,
    /// How many values (of any length) it covers.
    pub values: usize,
    /// The places of covered values that look like credentials (`kubeconfig:token`).
    pub credentials: Vec<String>,
}

/// What each of `patterns` covers among the decrypted secrets' values.
pub fn coverage(scene: &Scene, patterns: &[crate::allowlist::Pattern]) -> Vec<Coverage> {
    let all = collect(scene, 1, &Allowlist::default()).values;
    patterns
        .iter()
        .map(|p| {
            let mut values = 0;
            let mut credentials = Vec::new();
            for v in &all {
                let hit: Vec<&Source> = v
                    .sources
                    .iter()
                    .filter(|s| p.matches(&s.secret, &s.path))
                    .collect();
                if hit.is_empty() {
                    continue;
                }
                values += 1;
                if v.class == Class::Credential {
                    for s in hit {
                        let s = s.to_string();
                        if !credentials.contains(&s) {
                            credentials.push(s);
                        }
                    }
                }
            }
            Coverage {
                pattern: p.clone(),
                values,
                credentials,
            }
        })
        .collect()
}

/// The lines of a multi-line value worth searching for on their own: not the PEM armor
/// (`-----BEGIN CERTIFICATE-----` is in every certificate).
fn pem_lines(value: &str) -> impl Iterator<Item = &str> {
    let multi = value.contains('\n');
    value
        .lines()
        .filter(move |_| multi)
        .map(str::trim)
        .filter(|l| !l.starts_with("-----") && !l.is_empty())
}

/// The bytes a value stands for when it is base64 (`client-key-data`, talosconfig's
/// `key`): at least 16 characters of the standard alphabet, padded, decoding to 12+
/// bytes.
fn decode_base64(value: &str) -> Option<Zeroizing<Vec<u8>>> {
    if value.len() < 16 || value.len() % 4 != 0 {
        return None;
    }
    let d = base64::engine::general_purpose::STANDARD
        .decode(value)
        .ok()
        .map(Zeroizing::new)?;
    (d.len() >= 12).then_some(d)
}

/// Every form of each value to search for, each distinct byte string once.
pub fn needles(values: &[Guarded], min: usize) -> Vec<Needle> {
    let mut out: Vec<Needle> = Vec::new();
    let hasher = std::collections::hash_map::RandomState::new();
    let mut seen: HashMap<u64, Vec<usize>> = HashMap::new();
    let mut push = |value: usize, how: &'static str, bytes: Vec<u8>| {
        let bytes = Zeroizing::new(bytes);
        if bytes.len() < min {
            return;
        }
        let slot = seen.entry(hasher.hash_one(bytes.as_slice())).or_default();
        if !slot.iter().any(|&i| out[i].bytes == bytes) {
            slot.push(out.len());
            out.push(Needle { value, how, bytes });
        }
    };
    for (i, v) in values.iter().enumerate() {
        push(i, "", v.text.to_vec());
        // a name warns at most: its disguised forms are not worth the search
        if v.class == Class::Name {
            continue;
        }
        wrapped(&v.text, &mut |chunk| push(i, "wrapped", chunk));
        for offset in 0..3 {
            let b64 = base64_inside(&v.text, offset, &base64::engine::general_purpose::STANDARD);
            if b64.len() >= 10 {
                push(i, "base64-encoded", b64.as_bytes().to_vec());
            }
        }
        let full = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*v.text));
        wrapped(full.as_bytes(), &mut |chunk| {
            push(i, "base64-encoded", chunk)
        });
    }
    out
}

/// The lines `text` breaks into when wrapped at 64 or 76 columns (PEM, `base64`), for a
/// text longer than a line with no line breaks of its own; a short last line is kept
/// when it is 16+ bytes.
fn wrapped(text: &[u8], each: &mut dyn FnMut(Vec<u8>)) {
    if text.len() <= 64 || text.iter().any(u8::is_ascii_whitespace) {
        return;
    }
    for width in [64, 76] {
        for chunk in text.chunks(width) {
            if chunk.len() == width || chunk.len() >= 16 {
                each(chunk.to_vec());
            }
        }
    }
}

/// The base64 characters that encode `value` whatever surrounds it, when it starts
/// `offset` bytes into a 3-byte group of a longer encoded text: the characters that
/// mix in bits of the neighbouring bytes are cut off both ends.
pub(crate) fn base64_inside(
    value: &[u8],
    offset: usize,
    engine: &base64::engine::GeneralPurpose,
) -> Zeroizing<String> {
    let mut padded = Zeroizing::new(vec![0u8; offset]);
    padded.extend_from_slice(value);
    let enc = Zeroizing::new(engine.encode(&*padded));
    let start = [0, 2, 3][offset];
    let total = padded.len();
    let end = total / 3 * 4 + [0, 1, 2][total % 3];
    Zeroizing::new(enc.get(start..end).unwrap_or("").to_string())
}

/// Words of a key name in lower case: `client-key-data` → client, key, data;
/// `apiToken` → api, token.
fn key_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Whether a key's name says its value is a credential: `password`, `client-key-data`,
/// `apiToken`, `bootstraptoken`. Not when the name says the value only points at one
/// (`secretName`, `existingSecret`, `passwordFile`, `tokenEndpoint`), nor a bare `key`
/// (the name of a key in a Kubernetes `secretKeyRef`; key material is caught by shape).
pub fn key_names_a_credential(key: &str) -> bool {
    const WORDS: [&str; 25] = [
        "password",
        "passwd",
        "pass",
        "pwd",
        "pw",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "tokens",
        "key",
        "keys",
        "apikey",
        "privkey",
        "private",
        "credential",
        "credentials",
        "auth",
        "bearer",
        "cookie",
        "salt",
        "otp",
        "seed",
        "psk",
        "hmac",
    ];
    const POINTERS: [&str; 21] = [
        "name",
        "names",
        "ref",
        "id",
        "ids",
        "file",
        "path",
        "endpoint",
        "url",
        "uri",
        "type",
        "namespace",
        "length",
        "size",
        "version",
        "format",
        "field",
        "env",
        "issuer",
        "mode",
        "enabled",
    ];
    let words = key_words(key);
    let (Some(first), Some(last)) = (words.first(), words.last()) else {
        return false;
    };
    if words == ["key"] || first == "existing" || POINTERS.contains(&last.as_str()) {
        return false;
    }
    // `bootstraptoken`, `secretboxencryptionsecret`: one word, no separators
    let glued = words.len() == 1
        && [
            "token",
            "secret",
            "password",
            "passwd",
            "apikey",
            "privatekey",
        ]
        .iter()
        .any(|w| first.contains(w));
    glued || words.iter().any(|w| WORDS.contains(&w.as_str()))
}

/// How much a value matters, from its key's name and its own shape.
pub fn classify(key: &str, value: &[u8]) -> Class {
    let Ok(text) = std::str::from_utf8(value) else {
        // binary (decoded base64): key material unless it is a DER certificate
        return Class::Credential;
    };
    let text = text.trim();
    if is_key_material(text) {
        return Class::Credential;
    }
    if is_public_material(text) {
        return Class::Name;
    }
    // base64 of a certificate (`certificate-authority-data`) is as public as the
    // certificate; base64 of anything else is judged by its key and its shape
    if let Some(decoded) = decode_base64(text) {
        if std::str::from_utf8(&decoded).is_ok_and(|d| {
            let d = d.trim();
            is_public_material(d) && !is_key_material(d)
        }) {
            return Class::Name;
        }
    }
    if let Some(url) = url_parts(text) {
        return if url_holds_credential(url) {
            Class::Credential
        } else {
            Class::Name
        };
    }
    if key_names_a_credential(key) || looks_like_token(text) {
        return Class::Credential;
    }
    Class::Name
}

/// A line of a multi-line value: credential when its own shape says so, or when it
/// assigns to a credential-named key (`password=…`, `token: …`).
fn classify_line(line: &str) -> Class {
    if let Some((k, v)) = line.split_once(['=', ':']) {
        let k = k.trim().trim_start_matches("export ");
        if !k.contains(' ') && key_names_a_credential(k) && !v.trim().is_empty() {
            return Class::Credential;
        }
    }
    classify("", line.as_bytes())
}

/// PEM private keys, age and OpenSSH keys, JWTs.
fn is_key_material(text: &str) -> bool {
    text.contains("PRIVATE KEY")
        || text.to_ascii_uppercase().starts_with("AGE-SECRET-KEY-1")
        || (text.starts_with("eyJ") && text.matches('.').count() == 2 && text.len() > 40)
}

/// Public by design: certificates, public keys, age recipients.
fn is_public_material(text: &str) -> bool {
    text.starts_with("-----BEGIN CERTIFICATE-----")
        || text.starts_with("-----BEGIN PUBLIC KEY-----")
        || text.starts_with("ssh-ed25519 ")
        || text.starts_with("ssh-rsa ")
        || text.starts_with("ecdsa-sha2-")
        || (text.starts_with("age1") && text.len() == 62 && !text.contains(' '))
}

/// `scheme://rest` of a URL.
fn url_parts(text: &str) -> Option<&str> {
    let (scheme, rest) = text.split_once("://")?;
    (!scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.contains(char::is_whitespace))
    .then_some(rest)
}

/// A URL is a credential when it carries a password (`user:pw@host`), a credential in
/// its query (`?token=…`), or a token-like path segment (a webhook URL).
fn url_holds_credential(rest: &str) -> bool {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if let Some((userinfo, _)) = authority.rsplit_once('@') {
        if userinfo.contains(':') {
            return true;
        }
    }
    if let Some((_, query)) = rest.split_once('?') {
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if key_names_a_credential(k) && !v.is_empty() || looks_like_token(v) {
                return true;
            }
        }
    }
    let path = rest.split(['?', '#']).next().unwrap_or("");
    path.split('/').skip(1).any(looks_like_token)
}

/// A token or password by shape: a long run of base64/hex with digits, a 16+ character
/// segment mixing letters and digits, or a short string with letters, digits and a
/// symbol no name uses.
fn looks_like_token(text: &str) -> bool {
    let has = |s: &str, f: fn(&char) -> bool| s.chars().any(|c| f(&c));
    if text.len() >= 32
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_'))
        && has(text, char::is_ascii_digit)
        && has(text, char::is_ascii_alphabetic)
    {
        return true;
    }
    let segment_is_token = |s: &str| {
        let digits = s.chars().filter(char::is_ascii_digit).count();
        let mixed = has(s, char::is_ascii_uppercase) && has(s, char::is_ascii_lowercase);
        s.len() >= 16 && has(s, char::is_ascii_alphabetic) && digits > 0
            || s.len() >= 12 && mixed && digits >= 2
    };
    if text
        .split(|c: char| c.is_whitespace() || matches!(c, '-' | '_' | '.' | '/' | ':' | '@' | ','))
        .any(segment_is_token)
    {
        return true;
    }
    let symbol = has(text, |c| {
        c.is_ascii_punctuation() && !matches!(c, '-' | '_' | '.' | '/' | ':' | '@' | ',')
    });
    text.len() >= 8
        && !text.contains(char::is_whitespace)
        && symbol
        && has(text, char::is_ascii_alphabetic)
        && has(text, char::is_ascii_digit)
}

/// The lines of the PEM blocks in `text` (a value, or its base64 decoding), each with
/// the class to guard it as: a public certificate's lines stay names (`class` is
/// the whole value's).
fn pem_line_classes(text: &str, class: Class) -> Vec<(&str, Class)> {
    let public = class == Class::Name && is_public_material(text.trim());
    pem_lines(text)
        .map(|line| {
            let class = if public {
                Class::Name
            } else {
                classify_line(line)
            };
            (line, class)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn names_hosts_and_urls_are_names_and_tokens_keys_passwords_are_credentials() {
        for (key, v) in [
            ("namespace", "kube-system"),
            ("name", "admin@homelab"),
            ("server", "https://k8s.homelab.example.com:6443"),
            ("cluster", "homelab-prod-01"),
            ("current-context", "admin@homelab"),
            ("endpoints", "10.0.0.10"),
            ("note", "correct horse battery staple"),
            ("apiVersion", "talos.dev/v1alpha1"),
            (
                "certificate-authority-data",
                "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
            ),
            ("tokenEndpoint", "https://auth.example.com/oauth2/token"),
            (
                "certificate-authority-data",
                "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUIKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=",
            ),
        ] {
            assert_eq!(classify(key, v.as_bytes()), Class::Name, "{key}: {v}");
        }
        for (key, v) in [
            ("token", "hunter2-very-secret-token-value"),
            ("password", "correct-horse"),
            ("client-key-data", "anything-at-all"),
            (
                "hcloud_token",
                "kT3xGq9Lz0pV7sWn2YbR5cM8dF1hJ4aE6uQiOoXyZlKmNvBgCtHrSfDeUw0912",
            ),
            ("bootstraptoken", "abcdef.0123456789abcdef"),
            ("note", "abcdef.0123456789abcdef"),
            (
                "x",
                "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----",
            ),
            ("x", "Tr0ub4dor&3x"),
            ("url", "https://user:pa55word@db.example.com/x"),
            (
                "url",
                "https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBB/XxXxXxXxXxXxXxXx1234",
            ),
            (
                "x",
                "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJl",
            ),
        ] {
            assert_eq!(classify(key, v.as_bytes()), Class::Credential, "{key}: {v}");
        }
        assert_eq!(classify_line("password=hunter22"), Class::Credential);
        assert_eq!(classify_line("replicaCount: 3"), Class::Name);
    }

    #[test]
    fn base64_inside_finds_the_value_at_every_offset() {
        let value = b"hunter2-very-secret-token-value";
        for offset in 0..3 {
            let needle = base64_inside(value, offset, &STANDARD);
            for prefix in [&b""[..], b"a", b"ab", b"abc", b"token: xyz"] {
                for suffix in [&b""[..], b"\n", b"xy"] {
                    if prefix.len() % 3 != offset {
                        continue;
                    }
                    let text = [prefix, &value[..], suffix].concat();
                    let enc = STANDARD.encode(&text);
                    assert!(
                        enc.contains(needle.as_str()),
                        "{offset} {prefix:?} {suffix:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn key_words_split_kebab_snake_and_camel_case() {
        assert_eq!(key_words("client-key-data"), ["client", "key", "data"]);
        assert_eq!(key_words("apiToken"), ["api", "token"]);
        assert_eq!(key_words("HCLOUD_TOKEN"), ["hcloud", "token"]);
        for k in [
            "secretboxencryptionsecret",
            "bootstraptoken",
            "client-key-data",
            "apiToken",
            "admin_password",
            "secretKey",
        ] {
            assert!(key_names_a_credential(k), "{k}");
        }
        for k in [
            "namespace",
            "secretName",
            "existingSecret",
            "key",
            "passwordFile",
            "tokenEndpoint",
            "oidc_client_id",
            "certificate-authority-data",
        ] {
            assert!(!key_names_a_credential(k), "{k}");
        }
    }
}
