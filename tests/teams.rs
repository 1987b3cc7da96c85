//! Teams and remotes (issue 15), against real bare git remotes in temp dirs, two
//! clones, the real sops and the real Nix: the lock never moves backwards or sideways,
//! an unpushed lock is caught, push and pull carry changes between clones, the sops
//! merge driver merges at the value level, and an unreachable remote fails in time.
//!
//! These tests need git, sops and nix; a missing tool fails them loudly (they never
//! pass by returning early).

mod common;

use common::cluster::{Cluster, INPUT};
use common::{assert_success, require_tool};
use std::path::{Path, PathBuf};

const KUBE: &str = "apiVersion: v1\nkind: Config\ntoken: kube-token-0123456789\n";
const DB: &str = "user: admin\npassword: db-password-0123456789\nhost: db.example.invalid\n";

fn need_tools() {
    for t in ["git", "sops", "nix"] {
        assert!(
            require_tool(t),
            "`{t}` is needed by this test (install it, or run `bash .ci/run`)"
        );
    }
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A cluster whose inner repo and parent each have a bare remote
/// (`remotes/secrets.git`, `remotes/cluster.git`), everything pushed, with upstreams.
#[allow(dead_code)]
struct Team {
    c: Cluster,
    inner_remote: PathBuf,
    parent_remote: PathBuf,
}

impl Team {
    fn new() -> Team {
        need_tools();
        let c =
            Cluster::new(&[("kubeconfig.yaml", KUBE), ("db.yaml", DB)]).expect("tools are present");
        let remotes = c.env.root().join("remotes");
        std::fs::create_dir_all(&remotes).unwrap();
        let inner_remote = remotes.join("secrets.git");
        let parent_remote = remotes.join("cluster.git");
        for (repo, remote) in [(&c.inner, &inner_remote), (&c.parent, &parent_remote)] {
            c.git(
                &remotes,
                &["init", "-q", "--bare", remote.to_str().unwrap()],
            );
            c.git(repo, &["remote", "add", "origin", remote.to_str().unwrap()]);
            c.git(repo, &["push", "-q", "-u", "origin", "main"]);
        }
        Team {
            c,
            inner_remote,
            parent_remote,
        }
    }

    /// Our binary in the parent root.
    fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        self.c.cmd(args)
    }

    #[allow(dead_code)]
    /// A second clone of the parent (`work/<name>`), with the inner repo cloned by
    /// `git secrets init <inner remote>`; returns its parent root.
    fn teammate(&self, name: &str) -> PathBuf {
        let dir = self.c.env.work().join(name);
        self.c.git(
            &self.c.env.work(),
            &[
                "clone",
                "-q",
                self.parent_remote.to_str().unwrap(),
                dir.to_str().unwrap(),
            ],
        );
        let out = self
            .c
            .env
            .cmd(["init", self.inner_remote.to_str().unwrap(), "--offline"])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert_success("teammate's git secrets init URL", &out);
        dir
    }

    fn cmd_in(&self, dir: &Path, args: &[&str]) -> assert_cmd::Command {
        let mut c = self.c.env.cmd(args);
        c.current_dir(dir);
        c
    }
}

/// `flake.lock`, the inner HEAD and every file of the inner work tree.
type Snapshot = (Vec<u8>, String, Vec<(PathBuf, Vec<u8>)>);

fn snapshot(parent: &Path) -> Snapshot {
    let lock = std::fs::read(parent.join("flake.lock")).unwrap_or_default();
    let head = std::process::Command::new("git")
        .arg("-C")
        .arg(parent.join("secrets"))
        .args(["rev-parse", "HEAD"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut files = Vec::new();
    let dir = parent.join("secrets/secrets");
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            files.push((e.path(), std::fs::read(e.path()).unwrap_or_default()));
        }
    }
    files.sort();
    (lock, head, files)
}

fn rotate(t: &Team, dir: &Path, name: &str) {
    let out = t
        .cmd_in(dir, &["rotate", name, "--offline"])
        .output()
        .unwrap();
    assert_success(&format!("rotate {name}"), &out);
}

#[allow(dead_code)]
fn locked_rev(parent: &Path) -> String {
    let lock: serde_json::Value =
        serde_json::from_slice(&std::fs::read(parent.join("flake.lock")).unwrap()).unwrap();
    lock["nodes"][INPUT]["locked"]["rev"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

// ---------------------------------------------------------------------------------
// The lock never moves backwards or sideways.

#[test]
fn doctor_fix_after_a_reset_refuses_to_move_the_lock_back_and_names_the_case() {
    let t = Team::new();
    let c = &t.c;
    rotate(&t, &c.parent, "kubeconfig");
    let newer = c.inner_head();
    assert_eq!(c.locked_rev(), newer);
    c.git(&c.inner, &["reset", "-q", "--hard", "HEAD~1"]);
    let before = snapshot(&c.parent);

    let out = t
        .cmd(&["doctor", "--fix", "--yes", "--offline"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        report.contains("the secrets repo is behind the lock"),
        "doctor names the case:\n{report}"
    );
    assert!(!report.contains("stale"), "not called stale:\n{report}");
    assert!(report.contains("git secrets pull"), "{report}");
    assert_eq!(
        snapshot(&c.parent),
        before,
        "doctor --fix changed something"
    );
    assert_eq!(c.locked_rev(), newer, "the lock moved back");
}

#[test]
fn rotate_on_a_clone_behind_the_lock_is_refused_and_changes_nothing() {
    let t = Team::new();
    let c = &t.c;
    rotate(&t, &c.parent, "kubeconfig");
    let newer = c.inner_head();
    c.git(&c.inner, &["reset", "-q", "--hard", "HEAD~1"]);
    let before = snapshot(&c.parent);
    for args in [
        &["rotate", "db", "--offline"][..],
        &["rekey", "--yes", "--offline"],
    ] {
        let out = t.cmd(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("backwards"), "{args:?}: {err}");
        assert!(err.contains("git secrets pull"), "{args:?}: {err}");
        assert!(err.contains(&newer[..12]), "names the locked side: {err}");
        assert_eq!(snapshot(&c.parent), before, "{args:?} changed something");
    }
}

#[test]
fn a_head_beside_the_lock_is_refused_naming_both_sides() {
    let t = Team::new();
    let c = &t.c;
    rotate(&t, &c.parent, "kubeconfig");
    let locked = c.inner_head();
    // a commit beside the locked one: reset, then commit something else
    c.git(&c.inner, &["reset", "-q", "--hard", "HEAD~1"]);
    std::fs::write(c.inner.join("README"), "side\n").unwrap();
    c.git(&c.inner, &["add", "README"]);
    c.git(&c.inner, &["commit", "-q", "-m", "a side commit"]);
    let side = c.inner_head();
    let before = snapshot(&c.parent);

    let out = t.cmd(&["rotate", "db", "--offline"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("sideways"), "{err}");
    assert!(
        err.contains(&locked[..12]) && err.contains(&side[..12]),
        "{err}"
    );
    assert!(
        err.contains("a side commit") && err.contains("rotate kubeconfig"),
        "{err}"
    );
    assert_eq!(snapshot(&c.parent), before);

    let out = t.cmd(&["doctor", "--offline"]).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("have diverged"), "{report}");
}

#[test]
fn init_of_a_teammate_whose_lock_names_an_unpushed_commit_refuses_and_keeps_the_lock() {
    let t = Team::new();
    let c = &t.c;
    // the first clone rotates and pushes the parent, but not the secrets repo
    rotate(&t, &c.parent, "kubeconfig");
    c.git(
        &c.parent,
        &["commit", "-q", "-m", "relock", "--", "flake.lock"],
    );
    c.git(&c.parent, &["push", "-q"]);
    let dir = c.env.work().join("bob");
    c.git(
        &c.env.work(),
        &[
            "clone",
            "-q",
            t.parent_remote.to_str().unwrap(),
            dir.to_str().unwrap(),
        ],
    );
    let lock_before = std::fs::read(dir.join("flake.lock")).unwrap();
    let out = t
        .cmd_in(
            &dir,
            &["init", t.inner_remote.to_str().unwrap(), "--offline"],
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("does not have"), "{err}");
    assert!(err.contains("git secrets push"), "{err}");
    assert_eq!(std::fs::read(dir.join("flake.lock")).unwrap(), lock_before);
}

// ---------------------------------------------------------------------------------
// An unpushed lock is caught: by doctor, and by the parent's pre-push hook.

impl Team {
    /// `git` in `dir` with our binary first on PATH (so hooks find `git secrets`).
    fn git_hooked(&self, dir: &Path, args: &[&str]) -> std::process::Output {
        let bin_dir = Path::new(common::BIN).parent().unwrap().to_path_buf();
        let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )))
        .unwrap();
        self.c
            .env
            .git_cmd(dir, args)
            .env("PATH", path)
            .output()
            .unwrap()
    }
}

fn check_line<'a>(report: &'a str, id: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.contains(id))
        .unwrap_or_else(|| panic!("no check {id} in:\n{report}"))
}

#[test]
fn doctor_fails_when_the_lock_names_an_unpushed_inner_commit() {
    let t = Team::new();
    let c = &t.c;
    let out = t.cmd(&["doctor", "--offline"]).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        check_line(&report, "lock.pushed").contains("every clone can fetch it"),
        "{report}"
    );
    assert!(
        check_line(&report, "inner.upstream").contains("origin/main"),
        "{report}"
    );
    assert!(
        check_line(&report, "lock.reveals").contains("revCount"),
        "{report}"
    );

    rotate(&t, &c.parent, "kubeconfig");
    rotate(&t, &c.parent, "db");
    let out = t.cmd(&["doctor", "--offline"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    let pushed = check_line(&report, "lock.pushed");
    assert!(pushed.contains("does not have"), "{report}");
    assert!(report.contains("git secrets push"), "{report}");
    assert!(
        check_line(&report, "inner.sync").contains("2 commits ahead"),
        "{report}"
    );
    assert!(
        check_line(&report, "lock.committed").contains("not committed"),
        "{report}"
    );

    // once pushed, the same doctor passes the remote checks
    c.git(&c.inner, &["push", "-q"]);
    let out = t.cmd(&["doctor", "--offline"]).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        check_line(&report, "lock.pushed").contains("every clone can fetch it"),
        "{report}"
    );
    assert!(
        check_line(&report, "inner.sync").contains("in sync"),
        "{report}"
    );
}

#[test]
fn pre_push_refuses_a_parent_whose_lock_names_an_unpushed_inner_commit() {
    let t = Team::new();
    let c = &t.c;
    t.cmd(&["hooks", "install"]).assert().success();
    rotate(&t, &c.parent, "kubeconfig");
    let out = t.git_hooked(&c.parent, &["commit", "-qm", "relock", "--", "flake.lock"]);
    assert_success("commit flake.lock", &out);
    let remote_before = c.git(&t.parent_remote, &["rev-parse", "main"]);

    let out = t.git_hooked(&c.parent, &["push", "-q", "origin", "main"]);
    assert!(!out.status.success(), "the unpushed lock was pushed");
    let said = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
    assert!(said.contains("git secrets push"), "{said}");
    assert_eq!(
        c.git(&t.parent_remote, &["rev-parse", "main"]),
        remote_before
    );

    c.git(&c.inner, &["push", "-q"]);
    let out = t.git_hooked(&c.parent, &["push", "-q", "origin", "main"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        c.git(&t.parent_remote, &["rev-parse", "main"]),
        c.parent_head()
    );
}

// ---------------------------------------------------------------------------------
// An unreachable remote: a clear error within the timeout, nothing changed.

#[test]
fn doctor_fetch_reports_a_missing_or_hanging_remote_within_the_timeout() {
    let t = Team::new();
    let c = &t.c;
    // a path that does not exist
    c.git(
        &c.inner,
        &["remote", "set-url", "origin", "/nonexistent/secrets.git"],
    );
    let before = snapshot(&c.parent);
    let out = t.cmd(&["doctor", "--fetch", "--offline"]).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        check_line(&report, "remote.fetch").contains("git fetch origin"),
        "{report}"
    );
    assert_eq!(snapshot(&c.parent), before);

    // a remote that hangs: ssh that never answers
    let ssh = c.env.write("fake-ssh", "#!/bin/sh\nexec sleep 60\n");
    std::fs::set_permissions(&ssh, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    c.git(
        &c.inner,
        &[
            "remote",
            "set-url",
            "origin",
            "ssh://git.example.invalid/secrets.git",
        ],
    );
    let start = std::time::Instant::now();
    let out = t
        .cmd(&["doctor", "--fetch", "--offline"])
        .env("GIT_SSH_COMMAND", &ssh)
        .env("GIT_SECRETS_FETCH_TIMEOUT", "2")
        .output()
        .unwrap();
    let took = start.elapsed();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(
        check_line(&report, "remote.fetch").contains("did not finish within 2s"),
        "{report}"
    );
    assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
    assert_eq!(snapshot(&c.parent), before);
}
