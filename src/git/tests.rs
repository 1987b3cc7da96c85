//! Tests on real repos made with the `git` binary.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;

use super::testutil::{
    commit_file, discover_outside_any_repo, git, init, parent_with_inner, write,
};
use super::*;

#[test]
fn discover_outside_any_repo_is_a_clear_error_with_hints() {
    if let Some(err) = discover_outside_any_repo(Repo::discover) {
        err.assert_says("not in a git repository");
    }
}

#[test]
fn head_reports_unborn_branch_then_commit_then_detached() {
    let tmp = tempfile::tempdir().unwrap();
    init(tmp.path());
    let repo = Repo::discover(tmp.path()).unwrap();
    assert_eq!(
        repo.head().unwrap(),
        Head::Branch {
            name: "main".into(),
            commit: None
        }
    );
    let id = commit_file(tmp.path(), "a", "1", "one");
    let repo = Repo::discover(tmp.path()).unwrap();
    let head = repo.head().unwrap();
    assert_eq!(head.branch(), Some("main"));
    assert_eq!(head.commit().unwrap().to_string(), id);
    git(tmp.path(), &["checkout", "--quiet", "--detach"]);
    let head = Repo::discover(tmp.path()).unwrap().head().unwrap();
    assert_eq!(head.branch(), None);
    assert_eq!(head.commit().unwrap().to_string(), id);
}

#[test]
fn gitlink_in_index_and_head_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    init(root);
    commit_file(root, "README", "hi", "readme");
    let sha = "1111111111111111111111111111111111111111";
    git(
        root,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{sha},secrets"),
        ],
    );
    let repo = Repo::discover(root).unwrap();
    let gitlink = (EntryKind::Gitlink, sha.to_string());
    let entry = repo
        .index_entry(Path::new("secrets"))
        .unwrap()
        .expect("gitlink staged");
    assert_eq!((entry.kind, entry.id.to_string()), gitlink);
    let under = repo.index_entries_under(Path::new("secrets")).unwrap();
    assert_eq!(under, vec![entry]);
    // not yet committed: HEAD has no such entry
    assert_eq!(repo.head_entry(Path::new("secrets")).unwrap(), None);
    git(root, &["commit", "--quiet", "-m", "oops, gitlink"]);
    let head_entry = repo
        .head_entry(Path::new("secrets"))
        .unwrap()
        .expect("in HEAD");
    assert_eq!((head_entry.kind, head_entry.id.to_string()), gitlink);
    // an absolute path works the same
    assert!(repo
        .index_entry(&repo.root().join("secrets"))
        .unwrap()
        .is_some());
    // and a plain file is a file
    let readme = repo.index_entry(Path::new("README")).unwrap().unwrap();
    assert_eq!(readme.kind, EntryKind::File);
}

#[test]
fn index_entries_under_a_dir_excludes_siblings_with_the_same_prefix() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    init(root);
    for f in [
        "secrets/a.yaml",
        "secrets/sub/b.yaml",
        "secrets-example/c.yaml",
        "secretsx",
    ] {
        write(root, f, "x");
    }
    git(root, &["add", "."]);
    let repo = Repo::discover(root).unwrap();
    let paths: Vec<String> = repo
        .index_entries_under(Path::new("secrets"))
        .unwrap()
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert_eq!(paths, ["secrets/a.yaml", "secrets/sub/b.yaml"]);
    assert_eq!(repo.index_entries_under(Path::new("")).unwrap().len(), 4);
}

#[test]
fn intent_to_add_is_visible_in_the_index() {
    let tmp = tempfile::tempdir().unwrap();
    init(tmp.path());
    write(tmp.path(), "flake.lock", "{}");
    let repo = Repo::discover(tmp.path()).unwrap();
    repo.add_intent(Path::new("flake.lock")).unwrap();
    let e = repo.index_entry(Path::new("flake.lock")).unwrap().unwrap();
    assert!(e.intent_to_add);
}

#[test]
fn ignored_dir_is_detected_after_gitignore() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    init(root);
    std::fs::create_dir(root.join("secrets")).unwrap();
    let repo = Repo::discover(root).unwrap();
    assert!(!repo.is_ignored(Path::new("secrets"), true).unwrap());
    write(root, ".gitignore", "/secrets/\n");
    let repo = Repo::discover(root).unwrap();
    assert!(repo.is_ignored(Path::new("secrets"), true).unwrap());
    // `/secrets/` matches only a directory
    assert!(!repo.is_ignored(Path::new("secrets"), false).unwrap());
    // and not a nested dir of the same name
    assert!(!repo.is_ignored(Path::new("nested/secrets"), true).unwrap());
    // info/exclude counts too
    write(root, ".git/info/exclude", "*.key\n");
    let repo = Repo::discover(root).unwrap();
    assert!(repo.is_ignored(Path::new("age.key"), false).unwrap());
}

#[test]
fn inner_status_classifies_untracked_unstaged_and_staged() {
    let (_tmp, parent) = parent_with_inner();
    let inner = parent.join("secrets");
    commit_file(&inner, "secrets/db.yaml", "b: 1\n", "second");
    write(&inner, "secrets/new.yaml", "n: 1\n"); // untracked
    write(&inner, "secrets/kubeconfig.yaml", "a: 2\n"); // unstaged
    write(&inner, "secrets/db.yaml", "b: 2\n");
    git(&inner, &["add", "secrets/db.yaml"]); // staged
    write(&inner, "flake.nix", "{}"); // untracked, outside secrets/
    let repo = Repo::open(&inner).unwrap();
    let st = repo.status_under(Path::new("secrets")).unwrap();
    assert_eq!(st.untracked, ["secrets/new.yaml"]);
    assert_eq!(st.unstaged, ["secrets/kubeconfig.yaml"]);
    assert_eq!(st.staged, ["secrets/db.yaml"]);
    assert!(!st.is_clean());
    let all = repo.status_under(Path::new("")).unwrap();
    assert_eq!(all.untracked, ["flake.nix", "secrets/new.yaml"]);
    assert_eq!(repo.staged_paths().unwrap(), ["secrets/db.yaml"]);
    // a file both staged and then modified again is in both lists
    write(&inner, "secrets/db.yaml", "b: 3\n");
    let st = repo.status_under(Path::new("secrets")).unwrap();
    assert_eq!(st.unstaged, ["secrets/db.yaml", "secrets/kubeconfig.yaml"]);
    assert_eq!(st.staged, ["secrets/db.yaml"]);
}

#[test]
fn status_of_a_clean_repo_and_of_an_unborn_one() {
    let (_tmp, parent) = parent_with_inner();
    let repo = Repo::open(&parent.join("secrets")).unwrap();
    assert!(repo.status_under(Path::new("secrets")).unwrap().is_clean());
    let tmp = tempfile::tempdir().unwrap();
    init(tmp.path());
    write(tmp.path(), "a", "1");
    write(tmp.path(), "b", "1");
    git(tmp.path(), &["add", "b"]);
    let st = Repo::discover(tmp.path())
        .unwrap()
        .status_under(Path::new(""))
        .unwrap();
    assert_eq!(st.untracked, ["a"]);
    assert_eq!(st.staged, ["b"]);
}

#[test]
fn deleted_tracked_file_is_unstaged_then_staged() {
    let (_tmp, parent) = parent_with_inner();
    let inner = parent.join("secrets");
    std::fs::remove_file(inner.join("secrets/kubeconfig.yaml")).unwrap();
    let repo = Repo::open(&inner).unwrap();
    assert_eq!(
        repo.status_under(Path::new("secrets")).unwrap().unstaged,
        ["secrets/kubeconfig.yaml"]
    );
    git(
        &inner,
        &["rm", "--quiet", "--cached", "secrets/kubeconfig.yaml"],
    );
    let st = repo.status_under(Path::new("secrets")).unwrap();
    assert_eq!(st.staged, ["secrets/kubeconfig.yaml"]);
    assert!(st.unstaged.is_empty() && st.untracked.is_empty());
}

#[test]
fn open_refuses_a_plain_dir_inside_a_repo() {
    let tmp = tempfile::tempdir().unwrap();
    init(tmp.path());
    std::fs::create_dir(tmp.path().join("secrets")).unwrap();
    assert!(Repo::open(&tmp.path().join("secrets")).is_err());
    // discover from there finds the outer repo
    let outer = Repo::discover(&tmp.path().join("secrets")).unwrap();
    assert_eq!(outer.root(), std::fs::canonicalize(tmp.path()).unwrap());
}

#[test]
fn clone_failure_leaves_no_dest_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("secrets");
    let err = clone(tmp.path().join("no-such-repo").to_str().unwrap(), &dest).unwrap_err();
    err.assert_says("git clone");
    assert!(!err.hints.is_empty());
    assert!(!dest.exists(), "a failed clone left {}", dest.display());
}

#[test]
fn clone_of_a_local_repo_works_and_refuses_a_non_empty_dest() {
    let (_tmp, parent) = parent_with_inner();
    let src = parent.join("secrets");
    let dest = parent.join("copy");
    clone(src.to_str().unwrap(), &dest).unwrap();
    assert!(dest.join("secrets/kubeconfig.yaml").is_file());
    let err = clone(src.to_str().unwrap(), &dest).unwrap_err();
    err.assert_says("not empty");
}

#[test]
fn commit_paths_commits_only_the_given_path() {
    let (_tmp, parent) = parent_with_inner();
    let inner = parent.join("secrets");
    write(&inner, "secrets/other.yaml", "o: 1\n");
    git(&inner, &["add", "secrets/other.yaml"]); // staged by someone else
    write(&inner, "secrets/new.yaml", "n: 1\n"); // the one we commit, untracked so far
    let repo = Repo::open(&inner).unwrap();
    let before = repo.head().unwrap().commit().unwrap();
    let id = repo
        .commit_paths(&[Path::new("secrets/new.yaml")], "add new")
        .unwrap();
    assert_ne!(id, before);
    assert_eq!(git(&inner, &["rev-parse", "HEAD"]), id.to_string());
    let changed = git(&inner, &["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(changed, "secrets/new.yaml");
    assert_eq!(git(&inner, &["log", "-1", "--format=%s"]), "add new");
    // the other staged file is still staged, not committed
    assert_eq!(repo.staged_paths().unwrap(), ["secrets/other.yaml"]);
    // an absolute path works too
    write(&inner, "secrets/new.yaml", "n: 2\n");
    repo.commit_paths(&[&inner.join("secrets/new.yaml")], "rotate new")
        .unwrap();
    assert_eq!(repo.staged_paths().unwrap(), ["secrets/other.yaml"]);
}

#[test]
fn commit_paths_with_nothing_changed_fails_with_gits_words() {
    let (_tmp, parent) = parent_with_inner();
    let repo = Repo::open(&parent.join("secrets")).unwrap();
    let err = repo
        .commit_paths(&[Path::new("secrets/kubeconfig.yaml")], "noop")
        .unwrap_err();
    err.assert_says("git commit");
}

#[test]
fn git_commands_drop_a_hooks_repo_variables() {
    // inside a parent's hook GIT_DIR / GIT_INDEX_FILE point at the parent; a command
    // for the inner repo must not inherit them (setting them process-wide here would
    // leak into other tests, so check the command's env instead)
    let cmd = write::command();
    let removed: Vec<_> = cmd
        .get_envs()
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| k.to_string_lossy().into_owned())
        .collect();
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_COMMON_DIR",
    ] {
        assert!(removed.iter().any(|r| r == var), "{var} not removed");
    }
}

#[test]
fn rm_cached_removes_a_gitlink_and_keeps_files() {
    let (_tmp, parent) = parent_with_inner();
    let inner_head = git(&parent.join("secrets"), &["rev-parse", "HEAD"]);
    git(
        &parent,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{inner_head},secrets"),
        ],
    );
    let repo = Repo::discover(&parent).unwrap();
    assert!(repo.index_entry(Path::new("secrets")).unwrap().is_some());
    repo.rm_cached(Path::new("secrets")).unwrap();
    assert!(repo.index_entry(Path::new("secrets")).unwrap().is_none());
    assert!(parent.join("secrets/secrets/kubeconfig.yaml").is_file());
}

#[test]
fn gitmodules_naming_a_path_is_found() {
    let tmp = tempfile::tempdir().unwrap();
    init(tmp.path());
    let repo = Repo::discover(tmp.path()).unwrap();
    assert_eq!(repo.submodule_at(Path::new("secrets")).unwrap(), None);
    write(
        tmp.path(),
        ".gitmodules",
        "[submodule \"private\"]\n\tpath = secrets\n\turl = ../private.git\n",
    );
    let repo = Repo::discover(tmp.path()).unwrap();
    assert_eq!(
        repo.submodule_at(Path::new("secrets")).unwrap().as_deref(),
        Some("private")
    );
    assert_eq!(repo.submodule_at(Path::new("other")).unwrap(), None);
}

#[test]
fn config_reads_repo_values() {
    let tmp = tempfile::tempdir().unwrap();
    init(tmp.path());
    git(tmp.path(), &["config", "secrets.dir", "../kubenix-secrets"]);
    git(tmp.path(), &["config", "core.hooksPath", ".githooks"]);
    let repo = Repo::discover(tmp.path()).unwrap();
    assert_eq!(
        repo.config_string("secrets.dir").as_deref(),
        Some("../kubenix-secrets")
    );
    assert_eq!(repo.config_string("secrets.input"), None);
    assert_eq!(
        repo.config_path("core.hooksPath").unwrap(),
        Some(".githooks".into())
    );
}

#[test]
fn last_commit_touching_a_path_is_like_git_log_1() {
    let (_tmp, parent) = parent_with_inner();
    let inner = parent.join("secrets");
    let repo = Repo::open(&inner).unwrap();
    let first = git(&inner, &["rev-parse", "HEAD"]);
    commit_file(&inner, "secrets/db.yaml", "b: 1\n", "add db");
    let rotate = commit_file(&inner, "secrets/db.yaml", "b: 2\n", "rotate db");
    commit_file(&inner, "README", "r", "readme");
    let last = |path: &str| {
        repo.last_commit_touching(Path::new(path))
            .unwrap()
            .expect(path)
    };
    for (path, id, summary) in [
        ("secrets/kubeconfig.yaml", &first, "first secret"),
        ("secrets/db.yaml", &rotate, "rotate db"),
        // a dir counts as touched when anything below it changed
        ("secrets", &rotate, "rotate db"),
    ] {
        let c = last(path);
        assert_eq!(
            (&c.id.to_string(), c.summary.as_str()),
            (id, summary),
            "{path}"
        );
    }
    let want_time: i64 = git(
        &inner,
        &["log", "-1", "--format=%ct", "--", "secrets/db.yaml"],
    )
    .parse()
    .unwrap();
    assert_eq!(last("secrets/db.yaml").time, want_time);
    assert_eq!(repo.last_commit_touching(Path::new("nope")).unwrap(), None);
}

#[test]
fn object_scan_sees_an_unreachable_blob_in_loose_and_packed_form() {
    let (_tmp, parent) = parent_with_inner();
    let inner = parent.join("secrets");
    // staged once, then unstaged and deleted: no commit or index refers to it
    write(&inner, "leak.txt", "plaintext-password-4711\n");
    git(&inner, &["add", "leak.txt"]);
    git(&inner, &["rm", "--quiet", "--cached", "leak.txt"]);
    std::fs::remove_file(inner.join("leak.txt")).unwrap();
    let repo = Repo::open(&inner).unwrap();
    let scan = |repo: &Repo| {
        let hits = Mutex::new(Vec::new());
        let n = repo
            .scan_objects(|o| {
                if o.data.windows(13).any(|w| w == b"password-4711") {
                    hits.lock().unwrap().push((o.id.to_owned(), o.kind));
                }
            })
            .unwrap();
        (n, hits.into_inner().unwrap())
    };
    let (n_loose, hits) = scan(&repo);
    assert_eq!(hits.len(), 1, "loose: {hits:?}");
    assert_eq!(hits[0].1, ObjectKind::Blob);
    let count: u64 = git(&inner, &["count-objects", "-v"])
        .lines()
        .find_map(|l| l.strip_prefix("count: "))
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(n_loose, count);
    // packed, kept unreachable objects (`-A` would drop them as loose files)
    git(&inner, &["repack", "-a", "-d", "-q", "--keep-unreachable"]);
    commit_file(&inner, "secrets/two.yaml", "2", "second"); // some loose objects again
    let repo = Repo::open(&inner).unwrap();
    let (n_both, hits) = scan(&repo);
    assert_eq!(hits.len(), 1, "packed: {hits:?}");
    let all = git(
        &inner,
        &["cat-file", "--batch-all-objects", "--batch-check"],
    );
    assert_eq!(n_both, all.lines().count() as u64);
    // the unreachable blob is in no commit, so it has no location
    let wanted: HashSet<ObjectId> = [hits[0].0].into();
    assert!(repo.blob_locations(Some(&wanted)).unwrap().is_empty());
}

#[test]
fn blob_locations_name_a_commit_and_path_for_each_blob() {
    let (_tmp, parent) = parent_with_inner();
    let inner = parent.join("secrets");
    commit_file(&inner, "deep/dir/file.txt", "deep\n", "deep");
    git(&inner, &["checkout", "--quiet", "-b", "side"]);
    let c3 = commit_file(&inner, "side.txt", "side\n", "on a branch");
    git(&inner, &["checkout", "--quiet", "main"]);
    let repo = Repo::open(&inner).unwrap();
    let blob = |content: &str| -> ObjectId {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(tmp.path(), content).unwrap();
        git(&inner, &["hash-object", tmp.path().to_str().unwrap()])
            .parse()
            .unwrap()
    };
    let all = repo.blob_locations(None).unwrap();
    assert_eq!(all.len(), 3, "{all:?}"); // kubeconfig.yaml, file.txt, side.txt
    let deep = &all[&blob("deep\n")];
    assert_eq!(deep.path, "deep/dir/file.txt");
    assert_eq!(deep.commit.to_string().len(), 40);
    let side = &all[&blob("side\n")];
    assert_eq!(
        (side.commit.to_string(), side.path.as_str()),
        (c3, "side.txt")
    );
    let wanted: HashSet<ObjectId> = [blob("deep\n")].into();
    let some = repo.blob_locations(Some(&wanted)).unwrap();
    assert_eq!(some.len(), 1);
}

#[test]
fn a_hooks_index_file_is_used_only_for_its_own_repo() {
    let (_tmp, parent) = parent_with_inner();
    let inner = Repo::open(&parent.join("secrets")).unwrap();
    let outer = Repo::discover(&parent).unwrap();
    // as in a parent's pre-commit hook for `git commit -a`: a temporary index
    let tmp_index = parent.join(".git/index.lock");
    std::fs::copy(parent.join(".git/index"), &tmp_index).unwrap();
    let raw = tmp_index.as_os_str();
    assert_eq!(outer.hook_index_file(Some(raw)), Some(tmp_index.clone()));
    assert_eq!(inner.hook_index_file(Some(raw)), None);
    assert_eq!(
        outer.hook_index_file(Some(std::ffi::OsStr::new("/nonexistent/index"))),
        None
    );
    assert_eq!(outer.hook_index_file(None), None);
}

/// The environment the test process was started with, as the kernel keeps it.
#[cfg(target_os = "linux")]
fn initial_environment() -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
    use std::os::unix::ffi::OsStrExt;
    let raw = std::fs::read("/proc/self/environ").unwrap();
    let mut vars: Vec<_> = raw
        .split(|b| *b == 0)
        .filter(|kv| !kv.is_empty())
        .filter_map(|kv| {
            let at = kv.iter().position(|b| *b == b'=')?;
            Some((
                std::ffi::OsStr::from_bytes(&kv[..at]).to_os_string(),
                std::ffi::OsStr::from_bytes(&kv[at + 1..]).to_os_string(),
            ))
        })
        .collect();
    vars.sort();
    vars
}

#[test]
#[cfg(target_os = "linux")]
fn test_repos_are_hermetic_without_changing_the_process_environment() {
    // Unit tests share one process: a helper that set HOME or the git identity with
    // set_var would race every getenv of the other threads.
    let (_tmp, parent) = parent_with_inner();
    let repo = Repo::discover(&parent).unwrap();
    write(&parent, "README", "x\n");
    repo.commit_paths(&[Path::new("README")], "readme").unwrap();
    let mut now: Vec<_> = std::env::vars_os().collect();
    now.sort();
    assert_eq!(
        now,
        initial_environment(),
        "a test changed the process environment"
    );
    // and still the library's git ran with the test identity, not the developer's
    assert_eq!(
        git(&parent, &["log", "-1", "--format=%an <%ae>"]),
        "Test Author <author@example.test>"
    );
}
