//! Leak checks of the public parent's staged blobs (pre-commit), and what they share with
//! the history scan ([`super::history`]). What is searched for
//! is compiled into one [`Scanner`] from the known values of the current secrets
//! ([`super::known`]) and the example's key; the objects come from [`crate::git`]'s
//! walks. Credentials fail a check; names only warn; values the parent's
//! `.git-secrets-allow` covers are not searched for.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::known::{self, Class, Guarded};
use super::scanner::{Findings, Scanner, AGE_MARK};
use super::scene::Content;
use super::{count, list, Check, Scene};
use crate::allowlist::{self, Allowlist};
use crate::error::Result;
use crate::git::EntryKind;
use crate::sops::keys::Identities;

/// What the leak checks search for: the scanner, and the values its findings point at.
pub struct Patterns {
    scanner: Scanner,
    /// The secrets' values, classified.
    pub values: Vec<Guarded>,
    /// Values the allowlist exempted.
    pub allowed: usize,
    /// The secret the example's key.txt decrypts, when it is a real key: then nothing of
    /// the example is allowed.
    pub example_is_real: Option<String>,
}

impl Patterns {
    /// Builds the scanner from the scene's known values (at least `min_length` bytes,
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
        Ok(Patterns {
            scanner: Scanner::new(needles, example_key)?,
            values: collected.values,
            allowed: collected.allowed,
            example_is_real,
        })
    }

    /// Scans one blob.
    pub fn scan(&self, data: &[u8]) -> Findings {
        self.scanner.scan(data)
    }
}

/// The name of a real secret the example's `key.txt` decrypts: then it is no throwaway
/// key (someone copied the real one there) and must not be allowed anywhere.
fn example_key_opens(scene: &Scene, key_text: &str) -> Option<String> {
    // every key in it, even one sops would refuse for another line: a stray line does
    // not make a real key harmless
    let ids = Identities::every_key_in(key_text);
    if ids.is_empty() {
        return None;
    }
    scene.secrets.iter().find_map(|f| match &f.content {
        Content::Sops(file, _) if file.data_key(&ids).is_ok() => Some(f.name.clone()),
        _ => None,
    })
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
        let Ok(data) = parent.blob(entry.id) else {
            continue;
        };
        let f = patterns.scan(&data);
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
    // quoted, and after `--`: a staged path may hold a space or a quote, or start with `-`
    let unstage = |paths: &[String]| {
        let words: Vec<String> = paths
            .iter()
            .map(|p| crate::quote::shell(p).into_owned())
            .collect();
        format!("unstage: git restore --staged -- {}", words.join(" "))
    };
    for kind in FORBIDDEN {
        let paths = paths_where(&kind.found_in);
        out.push(if paths.is_empty() {
            Check::ok(kind.id, kind.none)
        } else {
            let c = Check::fail(kind.id, format!("{}: {}", kind.staged, list(&paths, 3)))
                .hint(unstage(&paths))
                .hint(kind.belongs);
            // The staged age key may be the example's key.txt, made from a real one.
            if kind.id == "staged.age-key" {
                example_is_real_hint(c, scene, &patterns)
            } else {
                c
            }
        });
    }
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

/// A kind of file that never belongs in the public repo: a check each.
struct Forbidden {
    id: &'static str,
    /// Whether the scan found it in a blob.
    found_in: fn(&Findings) -> bool,
    /// The check's line when none is staged.
    none: &'static str,
    /// The check's line when some is, before the paths.
    staged: &'static str,
    /// Where it belongs instead (a hint).
    belongs: &'static str,
}

const FORBIDDEN: [Forbidden; 3] = [
    Forbidden {
        id: "staged.sops",
        found_in: |f| f.sops,
        none: "no sops-encrypted file staged",
        staged: "sops-encrypted content staged",
        belongs: "secrets belong in the secrets repo (git secrets add NAME)",
    },
    Forbidden {
        id: "staged.age-key",
        found_in: |f| f.age_key,
        none: "no private age key staged",
        staged: "a private age key is staged",
        belongs: "keep keys in ~/.config/sops/age/keys.txt, never in the repo",
    },
    Forbidden {
        id: "staged.private-key",
        found_in: |f| f.private_key,
        none: "no PEM or OpenSSH private key staged",
        staged: "a private key is staged",
        belongs: "a private key never belongs in the public repo: keep it in the secrets repo (git secrets add NAME --from FILE) or in ~/.ssh",
    },
];

/// When the example's key.txt is a real key, says so on the key check.
pub(super) fn example_is_real_hint(c: Check, scene: &Scene, patterns: &Patterns) -> Check {
    let Some(name) = &patterns.example_is_real else {
        return c;
    };
    let key = crate::error::display_path(
        &scene.layout.example_dir.join("key.txt"),
        scene.layout.root(),
    )
    .display()
    .to_string();
    c.hint(format!(
        "{key} decrypts the real secret {name}: it is a real key, not the example's throwaway one"
    ))
    .hint(format!(
        "give the example a key of its own: rm {} && git secrets example",
        crate::quote::shell(&key)
    ))
}

fn staged_dir(scene: &Scene) -> Check {
    const ID: &str = "staged.dir";
    let Some(rel) = scene.layout.dir_in_parent() else {
        return Check::ok(ID, "the secrets dir lies outside the parent");
    };
    let rel = rel.to_string_lossy().into_owned();
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
                .hint(format!(
                    "and ignore it: echo {} >> .gitignore",
                    crate::quote::shell(&crate::wiring::ignore::pattern(&rel))
                ))
        }
        Err(e) => Check::error(ID, &e),
    }
}

/// The check for the values of one class found at `found` (value index, how it was
/// found, location text): credentials fail, names warn with the command that marks them
/// public.
pub(super) fn values_check(
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
            sources.insert(crate::quote::shell(&s.to_string()).into_owned());
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
        .map(|c| crate::quote::shell(&c.pattern.to_string()).into_owned())
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
            crate::quote::shell(&r.pattern.to_string())
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
