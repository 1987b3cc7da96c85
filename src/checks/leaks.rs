//! Leak scans of the public parent: its staged blobs (pre-commit) and every object of
//! its history (`--history`, or what a push sends, for pre-push). Each blob goes through
//! ONE Aho-Corasick automaton that holds the sops marker, the age private key prefix
//! (pieces of it, in both cases, plain and base64-encoded), the PEM private key marker
//! and every form of every known value of the current secrets ([`super::known`]), so a
//! blob is read once whatever the number of values. Credentials fail a check; names
//! only warn; values the parent's `.git-secrets-allow` covers are not searched for.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use aho_corasick::{AhoCorasick, MatchKind};
use gix::ObjectId;
use rayon::prelude::*;
use regex::bytes::Regex;

use super::known::{self, Class, Guarded, Needle};
use super::scene::Content;
use super::{count, list, Check, Scene};
use crate::allowlist::{self, Allowlist};
use crate::error::{Context, Error, Result};
use crate::git::{EntryKind, ObjectKind, ScannedObject};
use crate::nix::flake_lock::short;
use crate::sops::keys::Identities;

const SOPS_MARK: &str = "ENC[AES256_GCM,";
const AGE_MARK: &str = "AGE-SECRET-KEY-1";
/// Found at both ends of a PEM private key (PKCS#1/#8, EC, OpenSSH, encrypted).
const PEM_KEY_MARK: &str = "PRIVATE KEY-----";
/// bech32's alphabet (an age key is all upper or all lower case).
const BECH32: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/// What an automaton pattern stands for.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Sops,
    /// The age key prefix or a piece of it (a key may be split across lines).
    AgeKey,
    /// The age key prefix base64-encoded (a keys.txt in a Kubernetes Secret, as Flux's
    /// `sops-age` Secret holds it).
    AgeKeyBase64,
    PemKey,
    /// Index into [`Patterns::needles`].
    Value(usize),
}

/// What to look for, compiled once.
pub struct Patterns {
    ac: AhoCorasick,
    kinds: Vec<Kind>,
    /// The secrets' values, classified.
    pub values: Vec<Guarded>,
    needles: Vec<Needle>,
    /// Values the allowlist exempted.
    pub allowed: usize,
    /// The example's throwaway key (upper case), allowed in the parent.
    example_key: Option<String>,
    /// Its public key: a sops file for only this recipient is the example, allowed.
    example_recipient: Option<String>,
    /// The secret the example's key.txt decrypts, when it is a real key: then nothing of
    /// the example is allowed.
    pub example_is_real: Option<String>,
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
    /// Indices into [`Patterns::values`], each with how it was found ("" as is).
    pub values: BTreeMap<usize, BTreeSet<&'static str>>,
}

impl Findings {
    fn any(&self) -> bool {
        self.sops || self.age_key || self.private_key || !self.values.is_empty()
    }
}

/// The pieces of the age key prefix an automaton looks for, in both cases: a prefix
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

/// Every pattern the one automaton searches for, with what each means: the sops and
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

impl Patterns {
    /// Builds the automaton from the scene's known values (at least `min_length` bytes,
    /// minus those the parent's allowlist exempts) and the example's key.
    pub fn build(scene: &Scene) -> Result<Patterns> {
        let allow = Allowlist::load(scene.layout.root())?;
        let collected = known::collect(scene, scene.opts.min_length, &allow);
        let needles = known::needles(&collected.values, scene.opts.min_length);
        let key_text = std::fs::read_to_string(scene.layout.example_dir.join("key.txt")).ok();
        let example_is_real = key_text
            .as_deref()
            .and_then(|t| example_key_opens(scene, t));
        let example_key = key_text
            .as_deref()
            .filter(|_| example_is_real.is_none())
            .and_then(|t| {
                t.lines()
                    .map(str::trim)
                    .find(|l| l.to_ascii_uppercase().starts_with(AGE_MARK))
                    .map(|l| l.to_ascii_uppercase())
            });
        let example_recipient = example_key.as_deref().and_then(|k| {
            k.parse::<age::x25519::Identity>()
                .ok()
                .map(|id| id.to_public().to_string())
        });
        let (mut pats, kinds) = pattern_table(&needles);
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&pats)
            .context("cannot build the search automaton")?;

        for p in &mut pats {
            zeroize::Zeroize::zeroize(p);
        }
        let recipient_re = Regex::new(r"age1[02-9ac-hj-np-z]{58}").context("bad regex")?;
        Ok(Patterns {
            ac,
            kinds,
            values: collected.values,
            needles,
            allowed: collected.allowed,
            example_key,
            example_recipient,
            example_is_real,
            recipient_re,
        })
    }

    /// Scans one blob.
    pub fn scan(&self, data: &[u8]) -> Findings {
        let mut f = Findings::default();
        let mut sops_candidate = false;
        for m in self.ac.find_overlapping_iter(data) {
            match self.kinds[m.pattern().as_usize()] {
                Kind::Sops => sops_candidate = true,
                Kind::AgeKey => {
                    if !f.age_key {
                        f.age_key = age_key_near(data, m.start())
                            .is_some_and(|k| self.example_key.as_deref() != Some(k.as_str()));
                    }
                }
                Kind::AgeKeyBase64 => {
                    if !f.age_key {
                        f.age_key = base64_run_at(data, m.start()).is_some_and(|plain| {
                            (0..plain.len())
                                .filter(|&i| matches!(plain[i], b'A' | b'a'))
                                .filter_map(|i| age_key_at(&plain, i))
                                .any(|k| self.example_key.as_deref() != Some(k.as_str()))
                        });
                    }
                }
                Kind::PemKey => {
                    if !f.private_key {
                        f.private_key = pem_private_key_at(data, m.start());
                    }
                }
                Kind::Value(n) => {
                    let needle = &self.needles[n];
                    f.values.entry(needle.value).or_default().insert(needle.how);
                }
            }
        }
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

/// The name of a real secret the example's `key.txt` decrypts: then it is no throwaway
/// key (someone copied the real one there) and must not be allowed anywhere.
fn example_key_opens(scene: &Scene, key_text: &str) -> Option<String> {
    let ids = Identities::from_age_text(key_text, "example key");
    if ids.is_empty() {
        return None;
    }
    scene.secrets.iter().find_map(|f| match &f.content {
        Content::Sops(file, _) if file.data_key(&ids).is_ok() => Some(f.name.clone()),
        _ => None,
    })
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

/// `doctor --staged`: the fast checks for a pre-commit hook, on the parent's index.
pub fn staged(scene: &Scene) -> Vec<Check> {
    let mut out = vec![staged_dir(scene)];
    let patterns = match Patterns::build(scene) {
        Ok(p) => p,
        Err(e) => {
            out.push(Check::error("staged.scan", &e));
            return out;
        }
    };
    let parent = &scene.layout.parent;
    let mut hits: Vec<(String, Findings)> = Vec::new();
    let paths = match parent.staged_paths() {
        Ok(p) => p,
        Err(e) => {
            out.push(Check::error("staged.scan", &e));
            return out;
        }
    };
    for path in paths {
        let Ok(Some(entry)) = parent.index_entry(Path::new(&path)) else {
            continue; // deleted: nothing to leak
        };
        if matches!(entry.kind, EntryKind::Gitlink | EntryKind::Dir) {
            continue;
        }
        let Ok(obj) = parent.gix().find_object(entry.id) else {
            continue;
        };
        let f = patterns.scan(&obj.data);
        if f.any() {
            hits.push((path, f));
        }
    }
    let paths_where = |pick: &dyn Fn(&Findings) -> bool| -> Vec<String> {
        hits.iter()
            .filter(|(_, f)| pick(f))
            .map(|(p, _)| p.clone())
            .collect()
    };
    let unstage = |paths: &[String]| format!("unstage: git restore --staged {}", paths.join(" "));
    let sops = paths_where(&|f| f.sops);
    out.push(if sops.is_empty() {
        Check::ok("staged.sops", "no sops-encrypted file staged")
    } else {
        Check::fail(
            "staged.sops",
            format!("sops-encrypted content staged: {}", list(&sops, 3)),
        )
        .hint(unstage(&sops))
        .hint("secrets belong in the secrets repo (git secrets add NAME)")
    });
    let keys = paths_where(&|f| f.age_key);
    out.push(if keys.is_empty() {
        Check::ok("staged.age-key", "no private age key staged")
    } else {
        let c = Check::fail(
            "staged.age-key",
            format!("a private age key is staged: {}", list(&keys, 3)),
        )
        .hint(unstage(&keys))
        .hint("keep keys in ~/.config/sops/age/keys.txt, never in the repo");
        example_is_real_hint(c, scene, &patterns)
    });
    let pems = paths_where(&|f| f.private_key);
    out.push(if pems.is_empty() {
        Check::ok("staged.private-key", "no PEM or OpenSSH private key staged")
    } else {
        Check::fail(
            "staged.private-key",
            format!("a private key is staged: {}", list(&pems, 3)),
        )
        .hint(unstage(&pems))
        .hint("a private key never belongs in the public repo: keep it in the secrets repo (git secrets add NAME --from FILE) or in ~/.ssh")
    });
    let found: Vec<(usize, &'static str, String)> = hits
        .iter()
        .flat_map(|(p, f)| {
            f.values
                .iter()
                .flat_map(move |(v, hows)| hows.iter().map(move |h| (*v, *h, p.clone())))
        })
        .collect();
    out.push(values_check(
        "staged.plaintext",
        Class::Credential,
        scene,
        &patterns,
        &found,
        &|locs: &[String]| unstage(locs),
    ));
    out.push(values_check(
        "staged.names",
        Class::Name,
        scene,
        &patterns,
        &found,
        &|_: &[String]| String::new(),
    ));
    out
}

/// When the example's key.txt is a real key, says so on the key check.
fn example_is_real_hint(c: Check, scene: &Scene, patterns: &Patterns) -> Check {
    let Some(name) = &patterns.example_is_real else {
        return c;
    };
    let ex = crate::error::display_path(&scene.layout.example_dir, scene.layout.root())
        .display()
        .to_string();
    c.hint(format!(
        "{ex}/key.txt decrypts the real secret {name}: it is a real key, not the example's throwaway one"
    ))
    .hint(format!(
        "give the example a key of its own: rm {ex}/key.txt && git secrets example"
    ))
}

fn staged_dir(scene: &Scene) -> Check {
    const ID: &str = "staged.dir";
    if scene.layout.dir_in_parent().is_none() {
        return Check::ok(ID, "the secrets dir lies outside the parent");
    }
    let shown = scene.dir_shown();
    match scene.layout.parent.index_entries_under(&scene.layout.dir) {
        Ok(es) if es.is_empty() => Check::ok(ID, format!("nothing of {shown} is staged")),
        Ok(es) => {
            let what = if es.iter().any(|e| e.kind == EntryKind::Gitlink) {
                format!("a gitlink for {shown} is staged")
            } else {
                format!(
                    "{} of {shown} staged: {}",
                    count(es.len(), "file is", "files are"),
                    list(&es.iter().map(|e| e.path.clone()).collect::<Vec<_>>(), 3)
                )
            };
            Check::fail(ID, what)
                .hint(format!("git rm --cached -r {shown}"))
                .hint(format!("and ignore it: echo '/{shown}/' >> .gitignore"))
        }
        Err(e) => Check::error(ID, &e),
    }
}

/// The check for the values of one class found at `found` (value index, how it was
/// found, location text): credentials fail, names warn with the command that marks them
/// public.
fn values_check(
    id: &'static str,
    class: Class,
    scene: &Scene,
    patterns: &Patterns,
    found: &[(usize, &'static str, String)],
    unstage: &dyn Fn(&[String]) -> String,
) -> Check {
    let (open, closed) = scene.opened();
    if open.is_empty() && closed > 0 {
        return Check::skip(
            id,
            "no identity to decrypt the secrets with: their values are unknown",
        );
    }
    if open.is_empty() {
        return Check::skip(id, "no secrets to look for");
    }
    // by value label: where, and how
    let mut by_label: BTreeMap<&str, (BTreeSet<String>, BTreeSet<&str>)> = BTreeMap::new();
    let mut secrets: BTreeSet<&str> = BTreeSet::new();
    let mut sources: BTreeSet<String> = BTreeSet::new();
    for (v, how, loc) in found {
        let value = &patterns.values[*v];
        if value.class != class {
            continue;
        }
        let e = by_label.entry(value.label.as_str()).or_default();
        e.0.insert(loc.clone());
        if !how.is_empty() {
            e.1.insert(how);
        }
        for s in &value.sources {
            secrets.insert(s.secret.as_str());
            sources.insert(shell_word(&s.to_string()));
        }
    }
    if by_label.is_empty() {
        let searched = patterns.values.iter().filter(|v| v.class == class).count();
        let allowed = if patterns.allowed > 0 && class == Class::Name {
            format!(
                "; {} marked public in {}",
                patterns.allowed,
                allowlist::FILE
            )
        } else {
            String::new()
        };
        return Check::ok(
            id,
            match class {
                Class::Credential => format!(
                    "none of {searched} credential-like values of the secrets (≥ {} bytes) found{allowed}",
                    scene.opts.min_length
                ),
                Class::Name => format!(
                    "none of {searched} names, hosts or URLs of the secrets found{allowed}"
                ),
            },
        );
    }
    let n = count(by_label.len(), "value", "values");
    let mut c = match class {
        Class::Credential => Check::fail(id, format!("{n} of the secrets found in plaintext")),
        Class::Name => Check::warn(
            id,
            format!("{n} of the secrets found that look like names or hosts, not credentials"),
        ),
    };
    let mut all_locs: BTreeSet<String> = BTreeSet::new();
    for (label, (locs, hows)) in &by_label {
        let locs: Vec<String> = locs.iter().cloned().collect();
        let how = if hows.is_empty() {
            String::new()
        } else {
            format!(" ({})", hows.iter().copied().collect::<Vec<_>>().join(", "))
        };
        c = c.hint(format!("{label}{how} in {}", list(&locs, 3)));
        all_locs.extend(locs);
    }
    let locs: Vec<String> = all_locs.into_iter().collect();
    match class {
        Class::Credential => {
            let u = unstage(&locs);
            if !u.is_empty() {
                c = c.hint(u);
            }
            c.hint(format!(
                "treat them as leaked once pushed or shared: git secrets rotate {}, and revoke the old value at its provider (the API token, the key's certificate), which a new value alone does not do",
                secrets.into_iter().collect::<Vec<_>>().join(" / ")
            ))
            .hint(format!(
                "only if one is no credential at all but a name the public code needs: git secrets allow --force {}",
                sources.into_iter().collect::<Vec<_>>().join(" ")
            ))
        }
        Class::Name => c.hint(format!(
            "if they are public on purpose, mark them so (commit {}): git secrets allow {}",
            allowlist::FILE,
            sources.into_iter().collect::<Vec<_>>().join(" ")
        )),
    }
}

/// `word` quoted for a POSIX shell when it needs quoting.
pub(crate) fn shell_word(word: &str) -> String {
    let safe = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.,:/@%+=".contains(c));
    if safe {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// doctor's view of the parent's allowlist: what it marks public, and entries that
/// cover nothing or cover a credential.
pub fn allowlist_check(scene: &Scene) -> Check {
    const ID: &str = "allow.list";
    let allow = match Allowlist::load(scene.layout.root()) {
        Ok(a) => a,
        Err(e) => return Check::error(ID, &e),
    };
    if allow.patterns.is_empty() {
        return Check::ok(
            ID,
            format!(
                "no values of the secrets are marked public ({} has no entries)",
                allowlist::FILE
            ),
        );
    }
    let shown: Vec<String> = allow.patterns.iter().map(|p| p.to_string()).collect();
    let (open, _) = scene.opened();
    if open.is_empty() {
        return Check::ok(
            ID,
            format!(
                "{} marked public in {}: {} (not checked: no secret could be decrypted)",
                count(shown.len(), "pattern", "patterns"),
                allowlist::FILE,
                list(&shown, 4)
            ),
        );
    }
    let cov = known::coverage(scene, &allow.patterns);
    let stale: Vec<String> = cov
        .iter()
        .filter(|c| c.values == 0)
        .map(|c| shell_word(&c.pattern.to_string()))
        .collect();
    let risky: Vec<&known::Coverage> = cov.iter().filter(|c| !c.credentials.is_empty()).collect();
    if stale.is_empty() && risky.is_empty() {
        let n: usize = cov.iter().map(|c| c.values).sum();
        return Check::ok(
            ID,
            format!(
                "{} marked public in {}: {}",
                count(n, "value", "values"),
                allowlist::FILE,
                list(&shown, 4)
            ),
        );
    }
    let mut c = Check::warn(
        ID,
        format!(
            "{} needs a look: {}",
            allowlist::FILE,
            [
                (!risky.is_empty()).then(|| format!(
                    "{} cover values that look like credentials",
                    count(risky.len(), "pattern", "patterns")
                )),
                (!stale.is_empty()).then(|| format!(
                    "{} match no value",
                    count(stale.len(), "pattern", "patterns")
                )),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("; ")
        ),
    );
    for r in &risky {
        c = c.hint(format!(
            "{} covers {}: the guards do not search for it; unless it is public on purpose: git secrets allow --remove {}",
            r.pattern,
            list(&r.credentials, 3),
            shell_word(&r.pattern.to_string())
        ));
    }
    if !stale.is_empty() {
        c = c.hint(format!(
            "drop what matches nothing: git secrets allow --remove {}",
            stale.join(" ")
        ));
    }
    c
}

/// What the history scan gathered.
#[derive(Default)]
struct Gathered {
    sops: Vec<ObjectId>,
    keys: Vec<ObjectId>,
    pems: Vec<ObjectId>,
    values: Vec<(ObjectId, usize, &'static str)>,
    /// Root tree → commits that have it.
    roots: HashMap<ObjectId, Vec<ObjectId>>,
}

/// What a pre-push hook pushes: the objects reachable from `range`'s B and not from its
/// A (the remote's old value of the ref) nor from what `remote` (the hook's `$1`) is
/// known to have.
#[derive(Debug, Clone, Copy)]
pub struct Pushed<'a> {
    /// `A..B`, as the hook builds it from git's `<remote sha>..<local sha>`.
    pub range: &'a str,
    /// The remote pushed to: a configured remote's name, or a URL (then nothing is
    /// known to be there already).
    pub remote: Option<&'a str>,
}

/// `doctor --history`: every object of the parent (or, with `pushed`, the objects a
/// push sends). `progress` gets the number of objects read so far.
pub fn history(
    scene: &Scene,
    pushed: Option<Pushed<'_>>,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Check> {
    let patterns = match Patterns::build(scene) {
        Ok(p) => p,
        Err(e) => return vec![Check::error("history.scan", &e)],
    };
    let parent = &scene.layout.parent;
    let gathered = Mutex::new(Gathered::default());
    let seen = AtomicU64::new(0);
    let visit = |o: ScannedObject<'_>| {
        let n = seen.fetch_add(1, Ordering::Relaxed) + 1;
        if n % 4096 == 0 {
            progress(n);
        }
        match o.kind {
            ObjectKind::Blob => {
                let f = patterns.scan(o.data);
                if f.any() {
                    let id = o.id.to_owned();
                    let mut g = gathered.lock().unwrap_or_else(|p| p.into_inner());
                    if f.sops {
                        g.sops.push(id);
                    }
                    if f.age_key {
                        g.keys.push(id);
                    }
                    if f.private_key {
                        g.pems.push(id);
                    }
                    for (v, hows) in &f.values {
                        g.values.extend(hows.iter().map(|h| (id, *v, *h)));
                    }
                }
            }
            ObjectKind::Commit => {
                if let Some(tree) = commit_tree(o.data) {
                    let mut g = gathered.lock().unwrap_or_else(|p| p.into_inner());
                    g.roots.entry(tree).or_default().push(o.id.to_owned());
                }
            }
            _ => {}
        }
    };
    let scanned = match pushed {
        None => parent.scan_objects(visit),
        Some(p) => scan_range(parent, p, &visit),
    };
    let total = match scanned {
        Ok(n) => n,
        Err(e) => return vec![Check::error("history.scan", &e)],
    };
    progress(total);
    let g = gathered.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut wanted: HashSet<ObjectId> = g
        .sops
        .iter()
        .chain(&g.keys)
        .chain(&g.pems)
        .copied()
        .collect();
    wanted.extend(g.values.iter().map(|(id, _, _)| *id));
    let locations = parent.blob_locations(Some(&wanted)).unwrap_or_default();
    let place = |id: &ObjectId| match locations.get(id) {
        Some(l) => format!("{} {}", short(&l.commit.to_string()), l.path),
        None => format!("unreachable blob {}", short(&id.to_string())),
    };
    // "history", or the pushed range with short ids (what the hook prints)
    let scope = match pushed {
        Some(p) => format!("the pushed range {}", short_range(p.range)),
        None => "history".to_string(),
    };
    let unreachable_hint =
        "for an unreachable object: git reflog expire --expire=now --all && git gc --prune=now";
    let mut out = vec![history_dir(scene, &g.roots, &scope)];
    let blob_check = |id: &'static str, ids: &[ObjectId], what: &str, ok: &str| -> Check {
        if ids.is_empty() {
            // the count of what was read, never read as a count of findings
            return Check::ok(
                id,
                format!("{ok}: scanned {total} objects in {scope}; none found"),
            );
        }
        let places: Vec<String> = ids.iter().map(place).collect();
        let paths: BTreeSet<String> = ids
            .iter()
            .filter_map(|i| locations.get(i).map(|l| l.path.clone()))
            .collect();
        let mut c = Check::fail(id, format!("{what} in {scope}: {}", list(&places, 3)));
        for p in &paths {
            c = c.hint(format!(
                "purge it from history: git filter-repo --path {} --invert-paths",
                shell_word(p)
            ));
        }
        if places.iter().any(|p| p.starts_with("unreachable")) {
            c = c.hint(unreachable_hint);
        }
        c
    };
    out.push(blob_check(
        "history.sops",
        &g.sops,
        "sops-encrypted content",
        "sops-encrypted content (other than the example's)",
    ));
    let mut keys = blob_check(
        "history.age-key",
        &g.keys,
        "a private age key",
        "private age keys (other than the example's)",
    );
    // A blob no commit reaches was written to this .git (staged, then the hook blocked the
    // commit) but never committed, so never pushed: not burnt, only to be removed.
    let only_unreachable =
        |ids: &[ObjectId]| ids.iter().all(|i| place(i).starts_with("unreachable"));
    if keys.status == super::Status::Fail && only_unreachable(&g.keys) {
        keys.hints.push("it is only in an unreachable object, never committed (a commit the hook blocked leaves its blob behind): it was not published; remove it locally with the command above".into());
        keys = example_is_real_hint(keys, scene, &patterns);
    } else if keys.status == super::Status::Fail {
        keys.hints.push("the key is burnt: make a new one (age-keygen) and rekey (git secrets rekey --remove-recipient <its age1… key>)".into());
        keys = example_is_real_hint(keys, scene, &patterns);
    }
    out.push(keys);
    let mut pems = blob_check(
        "history.private-key",
        &g.pems,
        "a PEM or OpenSSH private key",
        "PEM or OpenSSH private keys",
    );
    if pems.status == super::Status::Fail && only_unreachable(&g.pems) {
        pems.hints.push("it is only in an unreachable object, never committed (a commit the hook blocked leaves its blob behind): it was not published; remove it locally with the command above".into());
    } else if pems.status == super::Status::Fail {
        pems.hints.push("the key is burnt: replace it (a new key pair; for an SSH key sops decrypts with, rekey without it) and revoke the old one where it is trusted".into());
    }
    out.push(pems);
    let found: Vec<(usize, &'static str, String)> = g
        .values
        .iter()
        .map(|(id, v, how)| (*v, *how, place(id)))
        .collect();
    for (id, class) in [
        ("history.plaintext", Class::Credential),
        ("history.names", Class::Name),
    ] {
        let mut c = values_check(id, class, scene, &patterns, &found, &|_: &[String]| {
            if class == Class::Credential {
                "purge them from history: git filter-repo --replace-text <file listing the values>"
                    .into()
            } else {
                String::new()
            }
        });
        if c.status == super::Status::Ok {
            c.message = format!("{} in {scope}", c.message);
        }
        out.push(c);
    }
    out
}

/// `A..B` with each full commit id cut to 12 characters, as git shows them.
fn short_range(range: &str) -> String {
    match range.split_once("..") {
        Some((a, b)) => format!("{}..{}", short(a), short(b)),
        None => short(range).to_string(),
    }
}

fn history_dir(scene: &Scene, roots: &HashMap<ObjectId, Vec<ObjectId>>, scope: &str) -> Check {
    const ID: &str = "history.dir";
    let Some(rel) = scene.layout.dir_in_parent() else {
        return Check::ok(ID, "the secrets dir lies outside the parent");
    };
    let shown = rel.display().to_string();
    let repo = scene.layout.parent.gix();
    let mut commits: Vec<ObjectId> = Vec::new();
    for (tree, cs) in roots {
        let hit = repo
            .find_tree(*tree)
            .ok()
            .and_then(|t| t.lookup_entry_by_path(rel).ok().flatten())
            .is_some();
        if hit {
            commits.extend(cs.iter().copied());
        }
    }
    if commits.is_empty() {
        return Check::ok(ID, format!("no commit holds {shown} in {scope}"));
    }
    commits.sort();
    let shown_commits: Vec<String> = commits
        .iter()
        .map(|c| short(&c.to_string()).to_string())
        .collect();
    Check::fail(
        ID,
        format!(
            "{} hold {shown} (a gitlink or files): {}",
            count(commits.len(), "commit", "commits"),
            list(&shown_commits, 3)
        ),
    )
    .hint(format!(
        "purge it from history: git filter-repo --path {shown} --invert-paths"
    ))
}

/// The tree id a raw commit object starts with.
fn commit_tree(data: &[u8]) -> Option<ObjectId> {
    let hex = data.strip_prefix(b"tree ")?;
    let end = hex.iter().position(|b| *b == b'\n')?;
    ObjectId::from_hex(&hex[..end]).ok()
}

/// Reads the objects a push sends, in parallel: reachable from B, not from A (an
/// all-zero or empty A, as git gives a pre-push hook for a new branch, excludes
/// nothing) and not from the remote-tracking refs of the remote pushed to. Only that
/// remote counts: a leak already pushed to a private mirror is still a leak when it
/// goes to the public remote. An A that is not here (the remote moved on since the
/// last fetch) excludes nothing rather than failing. The object list comes from `git
/// rev-list --objects` ([`crate::git::Repo::objects_between`]).
fn scan_range(
    repo: &crate::git::Repo,
    pushed: Pushed<'_>,
    visit: &(dyn Fn(ScannedObject<'_>) + Sync),
) -> Result<u64> {
    let range = pushed.range;
    let (a, b) = range.split_once("..").ok_or_else(|| {
        Error::usage(format!("--range {range}: expected A..B"))
            .hint("for example: origin/main..HEAD")
    })?;
    let mut not: Vec<String> = Vec::new();
    if !(a.is_empty() || a.bytes().all(|c| c == b'0')) {
        match ObjectId::from_hex(a.as_bytes()) {
            Ok(id) if !repo.has_object(id) => {}
            _ => not.push(a.to_string()),
        }
    }
    if let Some(remote) = pushed.remote {
        not.extend(repo.remote_tips(remote)?.iter().map(|t| t.to_string()));
    }
    let ids = repo.objects_between(&not, b)?;
    let sync = repo.gix().clone().into_sync();
    ids.par_iter()
        .map_init(
            || sync.to_thread_local(),
            |r, id| {
                let obj = r
                    .find_object(*id)
                    .with_context(|| format!("cannot read object {id}"))?;
                let kind = match obj.kind {
                    gix::object::Kind::Blob => ObjectKind::Blob,
                    gix::object::Kind::Tree => ObjectKind::Tree,
                    gix::object::Kind::Commit => ObjectKind::Commit,
                    gix::object::Kind::Tag => ObjectKind::Tag,
                };
                visit(ScannedObject {
                    id,
                    kind,
                    data: &obj.data,
                });
                Ok::<(), Error>(())
            },
        )
        .collect::<Result<Vec<()>>>()?;
    Ok(ids.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::known::Source;

    const KEY_A: &str =
        "AGE-SECRET-KEY-1NJNWZ7T269GTS4XHHV4KDSFVQHNSZ8G5V0H42WQXC4MZSMKZZZNS4VG6N3";
    const KEY_B: &str =
        "AGE-SECRET-KEY-19NTAEEPLYDZMQPYDZDLVTQ50UMHAME3W44JKS0LNX7FY30MMLRCQK5XWGA";
    const PUB_B: &str = "age1c2e72kjzelwls697s5udv9g9kkn9y06hww3fzn52spn98u064q7qh0vk7x";

    fn patterns(values: &[&str]) -> Patterns {
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
        let needles = known::needles(&values, 8);
        let (pats, kinds) = pattern_table(&needles);
        Patterns {
            ac: AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(pats)
                .unwrap(),
            kinds,
            values,
            needles,
            allowed: 0,
            example_key: Some(KEY_B.into()),
            example_recipient: Some(PUB_B.into()),
            example_is_real: None,
            recipient_re: Regex::new(r"age1[02-9ac-hj-np-z]{58}").unwrap(),
        }
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

    #[test]
    fn commit_tree_reads_the_first_line() {
        let id = commit_tree(b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor x\n").unwrap();
        assert_eq!(id.to_string(), "4b825dc642cb6eb9a060e54bf8d69288fbee4904");
        assert!(commit_tree(b"parent x").is_none());
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(
            shell_word("kubeconfig:contexts.0.context.namespace"),
            "kubeconfig:contexts.0.context.namespace"
        );
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }
}
