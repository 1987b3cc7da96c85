//! Leak scans of the public parent: its staged blobs (pre-commit) and every object of
//! its history (`--history`, or the pushed range for pre-push). Each blob goes through
//! ONE Aho-Corasick automaton that holds the sops marker, the age private key prefix
//! and every known plaintext value of the current secrets, so a blob is read once
//! whatever the number of values.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use aho_corasick::{AhoCorasick, MatchKind};
use gix::ObjectId;
use rayon::prelude::*;
use regex::bytes::Regex;

use super::scene::KnownValue;
use super::{count, list, Check, Scene};
use crate::error::{Context, Error, Result};
use crate::git::{EntryKind, ObjectKind, ScannedObject};
use crate::nix::flake_lock::short;

const SOPS_MARK: &str = "ENC[AES256_GCM,";
const AGE_MARK: &str = "AGE-SECRET-KEY-1";

/// What to look for, compiled once.
pub struct Patterns {
    ac: AhoCorasick,
    /// Pattern `i + 2` is `values[i]`.
    pub values: Vec<KnownValue>,
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
    /// Indices into [`Patterns::values`].
    pub values: BTreeSet<usize>,
}

impl Findings {
    fn any(&self) -> bool {
        self.sops || self.age_key || !self.values.is_empty()
    }
}

impl Patterns {
    /// Builds the automaton from the scene's known values (at least `min_length` bytes)
    /// and the example's key.
    pub fn build(scene: &Scene) -> Result<Patterns> {
        let values = scene.known_values(scene.opts.min_length);
        let example_key = std::fs::read_to_string(scene.layout.example_dir.join("key.txt"))
            .ok()
            .and_then(|t| {
                t.lines()
                    .map(str::trim)
                    .find(|l| l.starts_with(AGE_MARK))
                    .map(|l| l.to_ascii_uppercase())
            });
        let example_recipient = example_key.as_deref().and_then(|k| {
            k.parse::<age::x25519::Identity>()
                .ok()
                .map(|id| id.to_public().to_string())
        });
        let mut pats: Vec<&[u8]> = vec![SOPS_MARK.as_bytes(), AGE_MARK.as_bytes()];
        pats.extend(values.iter().map(|v| v.value.as_bytes()));
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(pats)
            .context("cannot build the search automaton")?;
        let recipient_re = Regex::new(r"age1[02-9ac-hj-np-z]{58}").context("bad regex")?;
        Ok(Patterns {
            ac,
            values,
            example_key,
            example_recipient,
            recipient_re,
        })
    }

    /// Scans one blob.
    pub fn scan(&self, data: &[u8]) -> Findings {
        let mut f = Findings::default();
        let mut sops_candidate = false;
        for m in self.ac.find_overlapping_iter(data) {
            match m.pattern().as_usize() {
                0 => sops_candidate = true,
                1 => {
                    if !f.age_key && self.is_foreign_key(&data[m.start()..]) {
                        f.age_key = true;
                    }
                }
                n => {
                    f.values.insert(n - 2);
                }
            }
        }
        if sops_candidate {
            f.sops = !self.only_example_recipients(data);
        }
        f
    }

    fn is_foreign_key(&self, at: &[u8]) -> bool {
        let end = at
            .iter()
            .position(|b| !b.is_ascii_alphanumeric() && *b != b'-')
            .unwrap_or(at.len());
        let key = String::from_utf8_lossy(&at[..end]).to_ascii_uppercase();
        // the bare prefix (docs, this tool's own source) is not a key
        if key.len() < AGE_MARK.len() + 50 {
            return false;
        }
        self.example_key.as_deref() != Some(key.as_str())
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
    let sops = paths_where(&|f| f.sops);
    out.push(if sops.is_empty() {
        Check::ok("staged.sops", "no sops-encrypted file staged")
    } else {
        Check::fail(
            "staged.sops",
            format!("sops-encrypted content staged: {}", list(&sops, 3)),
        )
        .hint(format!(
            "unstage it: git restore --staged {}",
            sops.join(" ")
        ))
        .hint("secrets belong in the secrets repo (git secrets add NAME)")
    });
    let keys = paths_where(&|f| f.age_key);
    out.push(if keys.is_empty() {
        Check::ok("staged.age-key", "no private age key staged")
    } else {
        Check::fail(
            "staged.age-key",
            format!("a private age key is staged: {}", list(&keys, 3)),
        )
        .hint(format!(
            "unstage it: git restore --staged {}",
            keys.join(" ")
        ))
        .hint("keep keys in ~/.config/sops/age/keys.txt, never in the repo")
    });
    out.push(plaintext_check(
        "staged.plaintext",
        scene,
        &patterns,
        hits.iter()
            .flat_map(|(p, f)| f.values.iter().map(move |v| (*v, p.clone()))),
        |paths| format!("unstage: git restore --staged {}", paths.join(" ")),
    ));
    out
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

/// One check for plaintext values found at `where_` (value index, location text).
fn plaintext_check(
    id: &'static str,
    scene: &Scene,
    patterns: &Patterns,
    found: impl Iterator<Item = (usize, String)>,
    unstage: impl Fn(&[String]) -> String,
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
    let mut by_value: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for (v, loc) in found {
        by_value.entry(v).or_default().insert(loc);
    }
    if by_value.is_empty() {
        return Check::ok(
            id,
            format!(
                "none of {} known plaintext values (≥ {} bytes) found",
                patterns.values.len(),
                scene.opts.min_length
            ),
        );
    }
    let mut c = Check::fail(
        id,
        format!(
            "{} of the secrets found in plaintext",
            count(by_value.len(), "value", "values")
        ),
    );
    let mut all_locs: BTreeSet<String> = BTreeSet::new();
    let mut secrets: BTreeSet<String> = BTreeSet::new();
    for (v, locs) in &by_value {
        let kv = &patterns.values[*v];
        secrets.insert(kv.secret.clone());
        let locs: Vec<String> = locs.iter().cloned().collect();
        c = c.hint(format!("{} in {}", kv.redacted(), list(&locs, 3)));
        all_locs.extend(locs);
    }
    let locs: Vec<String> = all_locs.into_iter().collect();
    c = c.hint(unstage(&locs));
    c.hint(format!(
        "treat them as leaked once pushed: git secrets rotate {}",
        secrets.into_iter().collect::<Vec<_>>().join(" / ")
    ))
}

/// What the history scan gathered.
#[derive(Default)]
struct Gathered {
    sops: Vec<ObjectId>,
    keys: Vec<ObjectId>,
    values: Vec<(ObjectId, usize)>,
    /// Root tree → commits that have it.
    roots: HashMap<ObjectId, Vec<ObjectId>>,
}

/// `doctor --history`: every object of the parent (or, with `range` `A..B`, those
/// reachable from B but not A). `progress` gets the number of objects read so far.
pub fn history(scene: &Scene, range: Option<&str>, progress: &(dyn Fn(u64) + Sync)) -> Vec<Check> {
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
                    g.values.extend(f.values.iter().map(|v| (id, *v)));
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
    let scanned = match range {
        None => parent.scan_objects(visit),
        Some(r) => scan_range(parent, r, &visit),
    };
    let total = match scanned {
        Ok(n) => n,
        Err(e) => return vec![Check::error("history.scan", &e)],
    };
    progress(total);
    let g = gathered.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut wanted: HashSet<ObjectId> = g.sops.iter().chain(&g.keys).copied().collect();
    wanted.extend(g.values.iter().map(|(id, _)| *id));
    let locations = parent.blob_locations(Some(&wanted)).unwrap_or_default();
    let place = |id: &ObjectId| match locations.get(id) {
        Some(l) => format!("{} {}", short(&l.commit.to_string()), l.path),
        None => format!("unreachable blob {}", short(&id.to_string())),
    };
    let scope = match range {
        Some(r) => format!("the pushed range {r}"),
        None => format!("history ({} objects)", total),
    };
    let unreachable_hint =
        "for an unreachable object: git reflog expire --expire=now --all && git gc --prune=now";
    let mut out = vec![history_dir(scene, &g.roots, &scope)];
    let blob_check = |id: &'static str, ids: &[ObjectId], what: &str, ok: &str| -> Check {
        if ids.is_empty() {
            return Check::ok(id, format!("{ok} in {scope}"));
        }
        let places: Vec<String> = ids.iter().map(place).collect();
        let paths: BTreeSet<String> = ids
            .iter()
            .filter_map(|i| locations.get(i).map(|l| l.path.clone()))
            .collect();
        let mut c = Check::fail(id, format!("{what} in {scope}: {}", list(&places, 3)));
        for p in &paths {
            c = c.hint(format!(
                "purge it from history: git filter-repo --path {p} --invert-paths"
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
        "no sops-encrypted content (other than the example's)",
    ));
    out.push(blob_check(
        "history.age-key",
        &g.keys,
        "a private age key",
        "no private age key (other than the example's)",
    ));
    if let Some(c) = out.last_mut() {
        if c.status == super::Status::Fail {
            c.hints.push("the key is burnt: make a new one (age-keygen) and rekey (git secrets rekey --remove-recipient <its age1… key>)".into());
        }
    }
    let mut plain = plaintext_check(
        "history.plaintext",
        scene,
        &patterns,
        g.values.iter().map(|(id, v)| (*v, place(id))),
        |_| {
            "purge them from history: git filter-repo --replace-text <file listing the values>"
                .into()
        },
    );
    if plain.status == super::Status::Ok {
        plain.message = format!("{} in {scope}", plain.message);
    }
    out.push(plain);
    out
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

/// Reads the objects reachable from B but not from A (`A..B`; an all-zero or empty A,
/// as git gives a pre-push hook for a new branch, means "not on any remote"), in
/// parallel. The object list comes from [`crate::git::Repo::objects_between`].
fn scan_range(
    repo: &crate::git::Repo,
    range: &str,
    visit: &(dyn Fn(ScannedObject<'_>) + Sync),
) -> Result<u64> {
    let (a, b) = range.split_once("..").ok_or_else(|| {
        Error::usage(format!("--range {range}: expected A..B"))
            .hint("for example: origin/main..HEAD")
    })?;
    let ids = repo.objects_between(a, b)?;
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

    const KEY_A: &str =
        "AGE-SECRET-KEY-1NJNWZ7T269GTS4XHHV4KDSFVQHNSZ8G5V0H42WQXC4MZSMKZZZNS4VG6N3";
    const KEY_B: &str =
        "AGE-SECRET-KEY-19NTAEEPLYDZMQPYDZDLVTQ50UMHAME3W44JKS0LNX7FY30MMLRCQK5XWGA";
    const PUB_B: &str = "age1c2e72kjzelwls697s5udv9g9kkn9y06hww3fzn52spn98u064q7qh0vk7x";

    fn patterns(values: &[&str]) -> Patterns {
        let mut pats: Vec<&[u8]> = vec![SOPS_MARK.as_bytes(), AGE_MARK.as_bytes()];
        pats.extend(values.iter().map(|v| v.as_bytes()));
        Patterns {
            ac: AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(pats)
                .unwrap(),
            values: values
                .iter()
                .map(|v| KnownValue {
                    secret: "s".into(),
                    path: "p".into(),
                    value: zeroize::Zeroizing::new(v.to_string()),
                })
                .collect(),
            example_key: Some(KEY_B.into()),
            example_recipient: Some(PUB_B.into()),
            recipient_re: Regex::new(r"age1[02-9ac-hj-np-z]{58}").unwrap(),
        }
    }

    #[test]
    fn one_pass_finds_keys_sops_and_every_overlapping_value() {
        let p = patterns(&["secret-one", "one-two-three", "two-three"]);
        let f = p.scan(b"x secret-one-two-three y");
        assert_eq!(f.values, BTreeSet::from([0, 1, 2]));
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
    fn commit_tree_reads_the_first_line() {
        let id = commit_tree(b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor x\n").unwrap();
        assert_eq!(id.to_string(), "4b825dc642cb6eb9a060e54bf8d69288fbee4904");
        assert!(commit_tree(b"parent x").is_none());
    }
}
