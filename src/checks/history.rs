//! `doctor --history`: leaks in every object of the parent (or in what a push sends, for
//! pre-push): sops content, private keys, known values, and commits that held the
//! secrets dir. The objects come from [`crate::git`]'s walks, each blob goes through the
//! one [`super::leaks::Patterns`] scanner, and a hit is placed at a commit and path.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::known::Class;
use super::leaks::{example_is_real_hint, values_check, Patterns};
use super::{count, list, Check, Scene};
use crate::error::{Error, Result};
use crate::git::{ObjectId, ObjectKind, ScannedObject};
use crate::nix::flake_lock::short;

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
                if let Some(tree) = o.commit_tree() {
                    let mut g = gathered.lock().unwrap_or_else(|p| p.into_inner());
                    g.roots.entry(tree).or_default().push(o.id.to_owned());
                }
            }
            _ => {}
        }
    };
    let scanned = match pushed {
        None => parent.scan_objects(visit),
        Some(p) => pushed_objects(parent, p)
            .and_then(|(not, tip)| parent.scan_objects_between(&not, tip, visit)),
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
                "purge it from history: {}",
                super::filter_repo(&crate::quote::shell(p))
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
    let shown = scene.dir_shown();
    let repo = &scene.layout.parent;
    let mut commits: Vec<ObjectId> = Vec::new();
    for (tree, cs) in roots {
        if repo.tree_has_path(*tree, rel) {
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
        "purge it from history: {}",
        super::filter_repo(&shown)
    ))
}

/// What a push sends, as the tip and the revisions to exclude for
/// [`crate::git::Repo::scan_objects_between`]: reachable from B, not from A (an all-zero
/// or empty A, as git gives a pre-push hook for a new branch, excludes nothing) and not
/// from the remote-tracking refs of the remote pushed to. Only that remote counts: a
/// leak already pushed to a private mirror is still a leak when it goes to the public
/// remote. An A that is not here (the remote moved on since the last fetch) excludes
/// nothing rather than failing.
fn pushed_objects<'a>(
    repo: &crate::git::Repo,
    pushed: Pushed<'a>,
) -> Result<(Vec<String>, &'a str)> {
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
    Ok((not, b))
}
