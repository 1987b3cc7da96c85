//! Every object in a repository, for the history scan, and where a blob appears in
//! history, for reporting what the scan found.
//!
//! Speed matters here (it is measured against `git cat-file --batch-all-objects
//! --batch`): packs are decoded with gix-pack's delta-tree traversal, which inflates
//! each base once and resolves its deltas from memory on all cores, instead of looking
//! objects up one by one. Loose objects are read in parallel with rayon.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use gix::bstr::ByteSlice;
use gix::objs::FindExt;
use gix::ObjectId;
use rayon::prelude::*;

use super::Repo;
use crate::error::{Context, Error, Result};

/// The four kinds of git object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// File content.
    Blob,
    /// A directory listing.
    Tree,
    /// A commit.
    Commit,
    /// An annotated tag.
    Tag,
}

impl From<gix::object::Kind> for ObjectKind {
    fn from(kind: gix::object::Kind) -> Self {
        match kind {
            gix::object::Kind::Blob => ObjectKind::Blob,
            gix::object::Kind::Tree => ObjectKind::Tree,
            gix::object::Kind::Commit => ObjectKind::Commit,
            gix::object::Kind::Tag => ObjectKind::Tag,
        }
    }
}

/// One object handed to the visitor of [`Repo::scan_objects`].
#[derive(Debug, Clone, Copy)]
pub struct ScannedObject<'a> {
    /// The object id (trusted from the pack index or the loose file name, not re-hashed).
    pub id: &'a gix::oid,
    /// Its kind.
    pub kind: ObjectKind,
    /// Its decompressed content, without git's `<kind> <size>\0` header.
    pub data: &'a [u8],
}

impl ScannedObject<'_> {
    /// For a commit, the id of its root tree (the `tree <id>` line a commit object
    /// starts with); None for any other object.
    pub fn commit_tree(&self) -> Option<ObjectId> {
        if self.kind != ObjectKind::Commit {
            return None;
        }
        commit_tree(self.data)
    }
}

/// The tree id a raw commit object starts with.
fn commit_tree(data: &[u8]) -> Option<ObjectId> {
    let hex = data.strip_prefix(b"tree ")?;
    let end = hex.iter().position(|b| *b == b'\n')?;
    ObjectId::from_hex(&hex[..end]).ok()
}

/// Where a blob appears in history: one commit and path that hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobLocation {
    /// A commit whose tree contains the blob.
    pub commit: ObjectId,
    /// The blob's repo-relative path in that commit.
    pub path: String,
}

impl Repo {
    /// Calls `visit` for every object in the repository's object store: every pack
    /// and loose object, in this repo and its alternates, reachable or not (a blob that
    /// was staged once and never committed is still found). `visit` runs on several
    /// threads at once, in no particular order; an object stored twice (loose and
    /// packed) is visited twice. Returns how many objects were visited.
    pub fn scan_objects<F>(&self, visit: F) -> Result<u64>
    where
        F: Fn(ScannedObject<'_>) + Sync,
    {
        let count = AtomicU64::new(0);
        let visit = |o: ScannedObject<'_>| {
            count.fetch_add(1, Ordering::Relaxed);
            visit(o);
        };
        let hash = self.inner.object_hash();
        for dir in self.object_dirs()? {
            for idx in pack_indices(&dir)? {
                scan_pack(&idx, hash, &visit)?;
            }
            scan_loose(&dir, hash, &visit)?;
        }
        Ok(count.into_inner())
    }

    /// Calls `visit` for every object reachable from `tip` and from none of `not`
    /// (see [`Repo::objects_between`]), reading them in parallel: what a push of `tip`
    /// sends to a remote that has `not`. Returns how many objects were visited.
    pub fn scan_objects_between<F>(&self, not: &[String], tip: &str, visit: F) -> Result<u64>
    where
        F: Fn(ScannedObject<'_>) + Sync,
    {
        let ids = self.objects_between(not, tip)?;
        let sync = self.inner.clone().into_sync();
        ids.par_iter().try_for_each_init(
            || sync.to_thread_local(),
            |r, id| {
                let obj = r
                    .find_object(*id)
                    .with_context(|| format!("cannot read object {id}"))?;
                visit(ScannedObject {
                    id,
                    kind: obj.kind.into(),
                    data: &obj.data,
                });
                Ok::<(), Error>(())
            },
        )?;
        Ok(ids.len() as u64)
    }

    /// The ids of the objects reachable from `tip` and from none of `not` (`git rev-list
    /// --objects tip --not not…`); what to exclude is the caller's decision. The one
    /// read left to git: gix has no object-level range walk.
    pub fn objects_between(&self, not: &[String], tip: &str) -> Result<Vec<ObjectId>> {
        let mut args = vec!["rev-list", "--objects", tip, "--not"];
        args.extend(not.iter().map(String::as_str));
        let out = super::run_in(&self.root, &args, &[])
            .map_err(|e| super::GitError::RangeWalkFailed(Box::new(e)))?;
        Ok(out
            .lines()
            .filter_map(|l| l.get(..40))
            .filter_map(|h| ObjectId::from_hex(h.as_bytes()).ok())
            .collect())
    }

    /// The content of the blob `id`.
    pub fn blob(&self, id: ObjectId) -> Result<Vec<u8>> {
        let obj = self
            .inner
            .find_object(id)
            .with_context(|| format!("cannot read object {id}"))?;
        if obj.kind != gix::object::Kind::Blob {
            return Err(Error::new(format!(
                "object {id} is a {}, not a blob",
                obj.kind
            )));
        }
        Ok(obj.detach().data)
    }

    /// Whether the tree `tree` holds an entry (a file, a dir, a gitlink) at `path`.
    pub fn tree_has_path(&self, tree: ObjectId, path: &Path) -> bool {
        self.inner
            .find_tree(tree)
            .ok()
            .and_then(|t| t.lookup_entry_by_path(path).ok().flatten())
            .is_some()
    }

    /// The objects dir and its alternates, each once.
    fn object_dirs(&self) -> Result<Vec<PathBuf>> {
        let objects = self.inner.common_dir().join("objects");
        let mut dirs = vec![objects.clone()];
        let alternates = gix::odb::alternate::resolve(objects, self.inner.common_dir())
            .context("cannot read the object store's alternates")?;
        for alt in alternates {
            if !dirs.contains(&alt) {
                dirs.push(alt);
            }
        }
        Ok(dirs)
    }

    /// For each blob in the history of all refs (see [`Repo::all_commits`]), one commit
    /// and path where it appears. With `wanted`, only those blobs are looked for and the
    /// walk stops once all are found. Each distinct tree is read once, however many
    /// commits share it, which keeps this fast on long histories.
    pub fn blob_locations(
        &self,
        wanted: Option<&HashSet<ObjectId>>,
    ) -> Result<HashMap<ObjectId, BlobLocation>> {
        let mut found = HashMap::new();
        if wanted.is_some_and(HashSet::is_empty) {
            return Ok(found);
        }
        let mut seen_trees: HashSet<ObjectId> = HashSet::new();
        let mut buf = Vec::new();
        let mut stack: Vec<(ObjectId, String)> = Vec::new();
        let odb = &self.inner.objects;
        for commit in self.all_commits()? {
            let tree = odb
                .find_commit_iter(&commit, &mut buf)
                .and_then(|mut c| c.tree_id())
                .with_context(|| format!("cannot read commit {commit}"))?;
            if !seen_trees.insert(tree) {
                continue;
            }
            stack.push((tree, String::new()));
            while let Some((tree, prefix)) = stack.pop() {
                let entries = odb
                    .find_tree_iter(&tree, &mut buf)
                    .with_context(|| format!("cannot read tree {tree}"))?;
                for entry in entries {
                    let entry = entry.with_context(|| format!("cannot decode tree {tree}"))?;
                    let id = entry.oid.to_owned();
                    let path = || {
                        if prefix.is_empty() {
                            entry.filename.to_str_lossy().into_owned()
                        } else {
                            format!("{prefix}/{}", entry.filename.to_str_lossy())
                        }
                    };
                    if entry.mode.is_tree() {
                        if seen_trees.insert(id) {
                            stack.push((id, path()));
                        }
                    } else if entry.mode.is_blob_or_symlink()
                        && !found.contains_key(&id)
                        && wanted.is_none_or(|w| w.contains(&id))
                    {
                        found.insert(
                            id,
                            BlobLocation {
                                commit,
                                path: path(),
                            },
                        );
                        if wanted.is_some_and(|w| w.len() == found.len()) {
                            return Ok(found);
                        }
                    }
                }
            }
        }
        Ok(found)
    }
}

/// The `.idx` files of `objects/pack`, sorted for a stable order.
fn pack_indices(objects: &Path) -> Result<Vec<PathBuf>> {
    let pack_dir = objects.join("pack");
    let rd = match std::fs::read_dir(&pack_dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list", &pack_dir, e)),
    };
    let mut out = Vec::new();
    for entry in rd {
        let path = entry.map_err(|e| Error::io("list", &pack_dir, e))?.path();
        // an .idx without its .pack is a pack being written or removed right now
        if path.extension().is_some_and(|x| x == "idx") && path.with_extension("pack").is_file() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

fn scan_pack<F>(idx: &Path, hash: gix::hash::Kind, visit: &F) -> Result<()>
where
    F: Fn(ScannedObject<'_>) + Sync,
{
    let bundle = gix::odb::pack::Bundle::at(idx, hash)
        .with_context(|| format!("cannot open pack {}", idx.display()))?;
    let processor = |kind: gix::object::Kind,
                     data: &[u8],
                     entry: &gix::odb::pack::index::Entry,
                     _: &dyn gix::Progress|
     -> gix::Result<()> {
        visit(ScannedObject {
            id: &entry.oid,
            kind: kind.into(),
            data,
        });
        Ok(())
    };
    let options = gix::odb::pack::index::traverse::Options {
        // delta-tree: every base is inflated once and its deltas applied from memory
        traversal: gix::odb::pack::index::traverse::Algorithm::DeltaTreeLookup,
        thread_limit: None,
        // we read, we do not verify: `git fsck` is the tool for that
        check: gix::odb::pack::index::traverse::SafetyCheck::SkipFileAndObjectChecksumVerification,
        alloc_limit_bytes: None,
        make_pack_lookup_cache: || gix::odb::pack::cache::Never,
    };
    let interrupt = AtomicBool::new(false);
    bundle
        .index
        .traverse(
            &bundle.pack,
            &mut gix::progress::Discard,
            &interrupt,
            processor,
            options,
        )
        .with_context(|| format!("cannot read pack {}", idx.display()))?;
    Ok(())
}

fn scan_loose<F>(objects: &Path, hash: gix::hash::Kind, visit: &F) -> Result<()>
where
    F: Fn(ScannedObject<'_>) + Sync,
{
    let store = gix::odb::loose::Store::at(objects, hash);
    let ids = store
        .iter()
        .collect::<std::result::Result<Vec<_>, _>>()
        .with_context(|| format!("cannot list loose objects in {}", objects.display()))?;
    ids.par_iter().try_for_each_init(Vec::new, |buf, id| {
        // a loose object can vanish under us (gc); that is not an error for a scan
        if let Some(data) = store
            .try_find(id, buf)
            .with_context(|| format!("cannot read loose object {id}"))?
        {
            visit(ScannedObject {
                id,
                kind: data.kind.into(),
                data: data.data,
            });
        }
        Ok::<(), Error>(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_tree_reads_the_first_line() {
        let id = commit_tree(b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor x\n").unwrap();
        assert_eq!(id.to_string(), "4b825dc642cb6eb9a060e54bf8d69288fbee4904");
        assert!(commit_tree(b"parent x").is_none());
    }
}
