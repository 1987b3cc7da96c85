//! The leak scanner: one pass of [`MultiFind`] over a blob's bytes, with no git and no
//! doctor in it (patterns in, findings out). The one search holds the sops marker, the
//! age private key prefix (pieces of it, in both cases, plain and base64-encoded), the
//! PEM private key marker and every form of every known value ([`super::known`]'s
//! needles), so a blob is read once whatever the number of values. A pattern match is
//! only a candidate for a key: the bytes around it are checked before it counts.

use std::collections::{BTreeMap, BTreeSet};

use regex::bytes::Regex;

use super::known::{self, Needle};
use super::multi_find::MultiFind;
use crate::error::{Context, Result};

const SOPS_MARK: &str = "ENC[AES256_GCM,";
pub(crate) const AGE_MARK: &str = "AGE-SECRET-KEY-1";
/// Found at both ends of a PEM private key (PKCS#1/#8, EC, OpenSSH, encrypted).
const PEM_KEY_MARK: &str = "PRIVATE KEY-----";
/// bech32's alphabet (an age key is all upper or all lower case).
const BECH32: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/// What a search pattern stands for.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Sops,
    /// The age key prefix or a piece of it (a key may be split across lines).
    AgeKey,
    /// The age key prefix base64-encoded (a keys.txt in a Kubernetes Secret, as Flux's
    /// `sops-age` Secret holds it).
    AgeKeyBase64,
    PemKey,
    /// Index into [`Scanner::needles`].
    Value(usize),
}

/// What to look for, compiled once; shared by every thread of a scan.
pub struct Scanner {
    find: MultiFind,
    kinds: Vec<Kind>,
    needles: Vec<Needle>,
    /// The example's throwaway key (upper case), allowed in the parent.
    example_key: Option<String>,
    /// Its public key: a sops file for only this recipient is the example, allowed.
    example_recipient: Option<String>,
    recipient_re: Regex,
}

/// What one blob holds.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Findings {
    /// sops-encrypted content for a recipient other than the example's.
    pub sops: bool,
    /// An age private key other than the example's.
    pub age_key: bool,
    /// A PEM or OpenSSH private key.
    pub private_key: bool,
    /// Indices into the known values, each with how it was found ("" as is).
    pub values: BTreeMap<usize, BTreeSet<&'static str>>,
}

impl Findings {
    /// Whether the blob holds anything at all.
    pub fn any(&self) -> bool {
        self.sops || self.age_key || self.private_key || !self.values.is_empty()
    }
}

/// The pieces of the age key prefix the search looks for, in both cases: a prefix
/// split in two keeps a piece of 8+ characters whole.
fn age_patterns() -> Vec<String> {
    let mut out = Vec::new();
    for case in [AGE_MARK.to_string(), AGE_MARK.to_ascii_lowercase()] {
        out.push(case.clone());
        for i in 0..=case.len() - 8 {
            out.push(case[i..i + 8].to_string());
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Every pattern the one search looks for, with what each means: the sops and
/// private-key marks, age keys (plain and base64), then the known values' needles.
fn pattern_table(needles: &[known::Needle]) -> (Vec<Vec<u8>>, Vec<Kind>) {
    let mut pats: Vec<Vec<u8>> = vec![SOPS_MARK.into(), PEM_KEY_MARK.into()];
    let mut kinds = vec![Kind::Sops, Kind::PemKey];
    for p in age_patterns() {
        pats.push(p.into_bytes());
        kinds.push(Kind::AgeKey);
    }
    for p in age_base64_patterns() {
        pats.push(p);
        kinds.push(Kind::AgeKeyBase64);
    }
    for (i, n) in needles.iter().enumerate() {
        pats.push(n.bytes.to_vec());
        kinds.push(Kind::Value(i));
    }
    (pats, kinds)
}

impl Scanner {
    /// Compiles `needles` (each a form of a known value) with the key and sops marks.
    /// `example_key` (upper case) is the example's throwaway age key: it, and sops
    /// content for only its recipient, are not findings.
    pub fn new(needles: Vec<Needle>, example_key: Option<String>) -> Result<Scanner> {
        let example_recipient = example_key.as_deref().and_then(|k| {
            k.parse::<age::x25519::Identity>()
                .ok()
                .map(|id| id.to_public().to_string())
        });
        let (pats, kinds) = pattern_table(&needles);
        let find = MultiFind::new(pats);
        let recipient_re = Regex::new(r"age1[02-9ac-hj-np-z]{58}").context("bad regex")?;
        Ok(Scanner {
            find,
            kinds,
            needles,
            example_key,
            example_recipient,
            recipient_re,
        })
    }

    /// Scans one blob.
    pub fn scan(&self, data: &[u8]) -> Findings {
        let mut f = Findings::default();
        let mut sops_candidate = false;
        self.find
            .find_all(data, |pattern, start| match self.kinds[pattern] {
                Kind::Sops => sops_candidate = true,
                Kind::AgeKey => {
                    if !f.age_key {
                        f.age_key = age_key_near(data, start)
                            .is_some_and(|k| self.example_key.as_deref() != Some(k.as_str()));
                    }
                }
                Kind::AgeKeyBase64 => {
                    if !f.age_key {
                        f.age_key = base64_run_at(data, start).is_some_and(|plain| {
                            (0..plain.len())
                                .filter(|&i| matches!(plain[i], b'A' | b'a'))
                                .filter_map(|i| age_key_at(&plain, i))
                                .any(|k| self.example_key.as_deref() != Some(k.as_str()))
                        });
                    }
                }
                Kind::PemKey => {
                    if !f.private_key {
                        f.private_key = pem_private_key_at(data, start);
                    }
                }
                Kind::Value(n) => {
                    let needle = &self.needles[n];
                    f.values.entry(needle.value).or_default().insert(needle.how);
                }
            });
        if sops_candidate {
            f.sops = !self.only_example_recipients(data);
        }
        f
    }

    fn only_example_recipients(&self, data: &[u8]) -> bool {
        let Some(ex) = &self.example_recipient else {
            return false;
        };
        let mut any = false;
        for m in self.recipient_re.find_iter(data) {
            any = true;
            if m.as_bytes() != ex.as_bytes() {
                return false;
            }
        }
        any
    }
}

/// Bytes that may sit inside a key split across lines or strings: line breaks and
/// indentation, quotes, `+` and `\` of string concatenation and continuation, `#` of a
/// commented-out block. A run of plain spaces alone does not split a key.
fn is_split(b: u8) -> bool {
    matches!(
        b,
        b'\n' | b'\r' | b' ' | b'\t' | b'"' | b'\'' | b'`' | b'+' | b'\\' | b'#'
    )
}

/// Skips a run of split bytes at `j`; None when the run is only spaces and tabs.
fn skip_split(data: &[u8], mut j: usize) -> Option<usize> {
    let start = j;
    while j < data.len() && is_split(data[j]) {
        j += 1;
    }
    let run = &data[start..j];
    (run.is_empty() || !run.iter().all(|b| matches!(b, b' ' | b'\t'))).then_some(j)
}

/// The age key (upper case) that starts at `i`, split or not, in either case; None
/// when `i` does not start one (the bare prefix in docs is not a key).
fn age_key_at(data: &[u8], i: usize) -> Option<String> {
    let prefix = AGE_MARK.as_bytes();
    let mut j = i;
    let mut k = 0;
    while k < prefix.len() {
        let b = *data.get(j)?;
        if b.to_ascii_uppercase() == prefix[k] {
            k += 1;
            j += 1;
        } else if k > 0 && is_split(b) {
            j = skip_split(data, j)?;
        } else {
            return None;
        }
    }
    let mut body = String::new();
    while body.len() < 58 && j < data.len() {
        let b = data[j];
        if BECH32.contains(&b.to_ascii_lowercase()) {
            body.push(b.to_ascii_uppercase() as char);
            j += 1;
        } else if is_split(b) {
            match skip_split(data, j) {
                Some(next) => j = next,
                None => break,
            }
        } else {
            break;
        }
    }
    (body.len() >= 50).then(|| format!("{AGE_MARK}{body}"))
}

/// The age key prefix as it reads base64-encoded at each of the three byte offsets, in
/// both cases, in pieces of 10 characters: `base64` may wrap a line inside it.
fn age_base64_patterns() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for case in [AGE_MARK.to_string(), AGE_MARK.to_ascii_lowercase()] {
        for offset in 0..3 {
            let p = known::base64_inside(
                case.as_bytes(),
                offset,
                &base64::engine::general_purpose::STANDARD,
            );
            for piece in p.as_bytes().windows(10) {
                out.push(piece.to_vec());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The bytes the base64 text around `at` decodes to: the run of base64 characters
/// (across the line breaks `base64` wraps at) that holds `at`, decoded from its start.
fn base64_run_at(data: &[u8], at: usize) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    use base64::Engine;
    let is_b64 = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
    let in_run = |b: u8| is_b64(b) || matches!(b, b'\n' | b'\r');
    let mut start = at;
    while start > 0 && in_run(data[start - 1]) {
        start -= 1;
    }
    let mut end = at;
    while end < data.len() && in_run(data[end]) && end - start < 1 << 16 {
        end += 1;
    }
    let mut run = zeroize::Zeroizing::new(
        data[start..end]
            .iter()
            .copied()
            .filter(|b| is_b64(*b) && *b != b'=')
            .collect::<Vec<u8>>(),
    );
    // the run may start with a word of the line before (`token:` has no space)
    for skip in 0..run.len().min(64) {
        let body = &run[skip..];
        let body = &body[..body.len() / 4 * 4];
        if let Ok(d) = base64::engine::general_purpose::STANDARD_NO_PAD.decode(body) {
            if d.windows(8).any(|w| w.eq_ignore_ascii_case(b"SECRET-K")) {
                zeroize::Zeroize::zeroize(&mut *run);
                return Some(zeroize::Zeroizing::new(d));
            }
        }
    }
    None
}

/// An age key that a match of a piece of its prefix at `at` belongs to.
fn age_key_near(data: &[u8], at: usize) -> Option<String> {
    (at.saturating_sub(48)..=at)
        .filter(|&i| matches!(data.get(i), Some(b'A' | b'a')))
        .find_map(|i| age_key_at(data, i))
}

/// Whether the `PRIVATE KEY-----` at `at` ends a `-----BEGIN … PRIVATE KEY-----` line
/// followed by a key body (the header alone, as in docs, is not a key).
fn pem_private_key_at(data: &[u8], at: usize) -> bool {
    let line_start = data[..at]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |p| p + 1);
    let head = &data[line_start..at];
    let Some(begin) = head.windows(11).position(|w| w == b"-----BEGIN ") else {
        return false;
    };
    if at - (line_start + begin) > 48 {
        return false;
    }
    let body_start = at + PEM_KEY_MARK.len();
    let body = &data[body_start..data.len().min(body_start + 400)];
    let mut n = 0;
    for b in body {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' | b'=' => n += 1,
            b'-' => break,
            _ => {}
        }
    }
    n >= 40
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::known::{Class, Guarded, Source};

    const KEY_A: &str =
        "AGE-SECRET-KEY-1NJNWZ7T269GTS4XHHV4KDSFVQHNSZ8G5V0H42WQXC4MZSMKZZZNS4VG6N3";
    const KEY_B: &str =
        "AGE-SECRET-KEY-19NTAEEPLYDZMQPYDZDLVTQ50UMHAME3W44JKS0LNX7FY30MMLRCQK5XWGA";
    const PUB_B: &str = "age1c2e72kjzelwls697s5udv9g9kkn9y06hww3fzn52spn98u064q7qh0vk7x";

    fn patterns(values: &[&str]) -> Scanner {
        let values: Vec<Guarded> = values
            .iter()
            .map(|v| Guarded {
                text: zeroize::Zeroizing::new(v.as_bytes().to_vec()),
                sources: vec![Source {
                    secret: "s".into(),
                    path: "p".into(),
                }],
                class: Class::Credential,
                label: "s:p".into(),
            })
            .collect();
        let scanner = Scanner::new(known::needles(&values, 8), Some(KEY_B.into())).unwrap();
        assert_eq!(scanner.example_recipient.as_deref(), Some(PUB_B));
        scanner
    }

    fn ids(f: &Findings) -> BTreeSet<usize> {
        f.values.keys().copied().collect()
    }

    #[test]
    fn one_pass_finds_keys_sops_and_every_overlapping_value() {
        let p = patterns(&["secret-one", "one-two-three", "two-three"]);
        let f = p.scan(b"x secret-one-two-three y");
        assert_eq!(ids(&f), BTreeSet::from([0, 1, 2]));
        assert!(!f.sops && !f.age_key);
        // a foreign key is found, the example's own key (any case) is not
        assert!(p.scan(format!("k={KEY_A}\n").as_bytes()).age_key);
        assert!(!p.scan(KEY_B.to_lowercase().as_bytes()).age_key);
        // the bare prefix (docs, source code) is not a key
        assert!(!p.scan(b"starts with AGE-SECRET-KEY-1...").age_key);
        // sops content is a leak unless every recipient is the example's
        let example = format!("a: ENC[AES256_GCM,data:x]\nrecipient: {PUB_B}\n");
        assert!(!p.scan(example.as_bytes()).sops);
        let real = format!(
            "{example}recipient: age1smq6snefxae0fhsvczar07kzvl7fw2haqs0400lknccqzxfp8s3sw8g3a2\n"
        );
        assert!(p.scan(real.as_bytes()).sops);
        assert!(p.scan(b"ENC[AES256_GCM,data:x] no recipient at all").sops);
    }

    #[test]
    fn a_lowercase_or_split_age_key_is_found() {
        let p = patterns(&[]);
        assert!(p.scan(KEY_A.to_lowercase().as_bytes()).age_key);
        let (a, b) = KEY_A.split_at(40);
        for text in [
            format!("{a}\n{b}\n"),
            format!("key = \"{a}\"\n  + \"{b}\";\n"),
            format!("# {a}\n# {b}\n"),
            format!("{a}\\\n{b}"),
            // split inside the prefix
            format!("AGE-SECRET-\n  KEY-1{}", &KEY_A[16..]),
            format!(
                "{}\n{}",
                &KEY_A[..9].to_lowercase(),
                &KEY_A[9..].to_lowercase()
            ),
        ] {
            assert!(p.scan(text.as_bytes()).age_key, "{text}");
        }
        // a split example key is still the example's
        let (a, b) = KEY_B.split_at(30);
        assert!(!p.scan(format!("{a}\n{b}").as_bytes()).age_key);
        // words after a bare prefix on the same line are not a key body
        assert!(
            !p.scan(b"AGE-SECRET-KEY-1 the secret key that the users never share at any cost")
                .age_key
        );
    }

    #[test]
    fn a_base64_encoded_keys_txt_is_found_and_the_examples_is_not() {
        use base64::Engine;
        let p = patterns(&[]);
        let std = base64::engine::general_purpose::STANDARD;
        let keys_txt = format!("# created: 2024-01-01\n# public key: age1…\n{KEY_A}\n");
        let one_line = std.encode(&keys_txt);
        let wrapped: String = one_line
            .as_bytes()
            .chunks(76)
            .map(|c| format!("{}\n", String::from_utf8_lossy(c)))
            .collect();
        for text in [
            format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-age\ndata:\n  age.agekey: {one_line}\n"),
            format!("{{ data.\"age.agekey\" = \"{one_line}\"; }}"),
            wrapped,
            std.encode(KEY_A.to_lowercase()),
        ] {
            assert!(p.scan(text.as_bytes()).age_key, "{text}");
        }
        assert!(!p.scan(std.encode(format!("{KEY_B}\n")).as_bytes()).age_key);
    }

    #[test]
    fn base64_forms_of_a_value_are_found() {
        use base64::Engine;
        let v = "hunter2-very-secret-token-value";
        let p = patterns(&[v]);
        let std = base64::engine::general_purpose::STANDARD;
        for prefix in ["", "a", "ab", "token=", "{\"t\":\""] {
            let text = std.encode(format!("{prefix}{v}\n"));
            let f = p.scan(format!("data:\n  token: {text}\n").as_bytes());
            assert_eq!(ids(&f), BTreeSet::from([0]), "{prefix:?}");
            assert!(f.values[&0].contains("base64-encoded"));
        }
        // a long value wrapped at 76 columns by `base64`
        let long = "kT3xGq9Lz0pV7sWn2YbR5cM8dF1hJ4aE6uQiOoXyZlKmNvBgCtHrSfDeUw0912xyzzy";
        let p = patterns(&[long]);
        let enc = std.encode(long);
        let wrapped: String = enc
            .as_bytes()
            .chunks(76)
            .map(|c| format!("{}\n", String::from_utf8_lossy(c)))
            .collect();
        assert!(!p.scan(wrapped.as_bytes()).values.is_empty());
    }

    #[test]
    fn a_pem_or_openssh_private_key_is_found_and_its_header_alone_is_not() {
        let p = patterns(&[]);
        let body = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n";
        for kind in [
            "OPENSSH PRIVATE KEY",
            "PRIVATE KEY",
            "EC PRIVATE KEY",
            "RSA PRIVATE KEY",
        ] {
            let pem = format!("-----BEGIN {kind}-----\n{body}-----END {kind}-----\n");
            assert!(p.scan(pem.as_bytes()).private_key, "{kind}");
            let indented = pem.replace('\n', "\n    ");
            assert!(
                p.scan(format!("x = ''\n    {indented}'';").as_bytes())
                    .private_key
            );
        }
        assert!(
            !p.scan(b"match \"-----BEGIN OPENSSH PRIVATE KEY-----\" here")
                .private_key
        );
        assert!(
            !p.scan(b"-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----")
                .private_key
        );
    }
}
