//! Teams and remotes (issue 15), against real bare git remotes in temp dirs, two
//! clones, the real sops and the real Nix: the lock never moves backwards or sideways,
//! an unpushed lock is caught, push and pull carry changes between clones, the sops
//! merge driver merges at the value level, and an unreachable remote fails in time.
//!
//! These tests need git, sops and nix; a missing tool fails them loudly (they never
//! pass by returning early).

mod common;

use common::cluster::{
    assert_says, check_line, clone_into, locked_rev, locked_rev_of, Cluster, PARENT_FLAKE,
};
use common::{assert_success, require_tool};
use std::path::{Path, PathBuf};

const KUBE: &str = "apiVersion: v1\nkind: Config\ntoken: kube-token-0123456789\n";
const DB: &str = "user: admin\npassword: db-password-0123456789\nhost: db.example.invalid\n";

fn need_tools() {
    for t in ["git", "sops", "nix"] {
        require_tool(t);
    }
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A cluster whose inner repo and parent each have a bare remote
/// (`remotes/secrets.git`, `remotes/cluster.git`), everything pushed, with upstreams.
fn team() -> Cluster {
    Cluster::builder()
        .secrets(&[("kubeconfig.yaml", KUBE), ("db.yaml", DB)])
        .with_remotes()
        .build()
}

/// A remote behind an ssh that never answers (see [`fails_in_time`]).
const HANGING: &str = "ssh://git.example.invalid/secrets.git";

/// Runs `cmd` with an ssh that never answers and a fetch timeout of 2 s; asserts it
/// fails (exit 1) well within 20 s; returns its output.
fn fails_in_time(env: &common::TestEnv, mut cmd: assert_cmd::Command) -> std::process::Output {
    let ssh = env.root().join("fake-ssh");
    if !ssh.exists() {
        env.script("fake-ssh", "exec sleep 60\n");
    }
    let start = std::time::Instant::now();
    let out = cmd
        .env("GIT_SSH_COMMAND", &ssh)
        .env("GIT_SECRETS_FETCH_TIMEOUT", "2")
        .output()
        .unwrap();
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
    out
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

fn rotate(c: &Cluster, dir: &Path, name: &str) {
    let out = c
        .cmd_in(dir, &["rotate", name, "--offline"])
        .output()
        .unwrap();
    assert_success(&format!("rotate {name}"), &out);
}

// ---------------------------------------------------------------------------------
// The lock never moves backwards or sideways.

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn doctor_fix_after_a_reset_refuses_to_move_the_lock_back_and_names_the_case() {
    let c = &team();
    rotate(c, &c.parent, "kubeconfig");
    let newer = c.inner_head();
    assert_eq!(c.locked_rev(), newer);
    c.git(&c.inner, &["reset", "-q", "--hard", "HEAD~1"]);
    let before = snapshot(&c.parent);

    let out = c
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
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn rotate_on_a_clone_behind_the_lock_is_refused_and_changes_nothing() {
    let c = &team();
    rotate(c, &c.parent, "kubeconfig");
    let newer = c.inner_head();
    c.git(&c.inner, &["reset", "-q", "--hard", "HEAD~1"]);
    let before = snapshot(&c.parent);
    for args in [
        &["rotate", "db", "--offline"][..],
        &["rekey", "--yes", "--offline"],
    ] {
        let out = c.cmd(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("backwards"), "{args:?}: {err}");
        assert!(err.contains("git secrets pull"), "{args:?}: {err}");
        assert!(err.contains(&newer[..12]), "names the locked side: {err}");
        assert_eq!(snapshot(&c.parent), before, "{args:?} changed something");
    }
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_head_beside_the_lock_is_refused_naming_both_sides() {
    let c = &team();
    rotate(c, &c.parent, "kubeconfig");
    let locked = c.inner_head();
    // a commit beside the locked one: reset, then commit something else
    c.git(&c.inner, &["reset", "-q", "--hard", "HEAD~1"]);
    std::fs::write(c.inner.join("README"), "side\n").unwrap();
    c.git(&c.inner, &["add", "README"]);
    c.git(&c.inner, &["commit", "-q", "-m", "a side commit"]);
    let side = c.inner_head();
    let before = snapshot(&c.parent);

    let out = c.cmd(&["rotate", "db", "--offline"]).output().unwrap();
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

    let out = c.cmd(&["doctor", "--offline"]).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(report.contains("have diverged"), "{report}");
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn init_of_a_teammate_whose_lock_names_an_unpushed_commit_refuses_and_keeps_the_lock() {
    let c = &team();
    // the first clone rotates and pushes the parent, but not the secrets repo
    rotate(c, &c.parent, "kubeconfig");
    c.git(
        &c.parent,
        &["commit", "-q", "-m", "relock", "--", "flake.lock"],
    );
    c.git(&c.parent, &["push", "-q"]);
    let dir = c.clone_parent("bob");
    let lock_before = std::fs::read(dir.join("flake.lock")).unwrap();
    let out = c.init_from_remote(&dir);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("does not have"), "{err}");
    assert!(err.contains("git secrets push"), "{err}");
    assert_eq!(std::fs::read(dir.join("flake.lock")).unwrap(), lock_before);
}

// ---------------------------------------------------------------------------------
// An unpushed lock is caught: by doctor, and by the parent's pre-push hook.

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn doctor_fails_when_the_lock_names_an_unpushed_inner_commit() {
    let c = &team();
    let out = c.cmd(&["doctor", "--offline"]).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_says(&report, "lock.pushed", "every clone can fetch it");
    assert_says(&report, "inner.upstream", "origin/main");
    assert_says(&report, "lock.reveals", "revCount");

    rotate(c, &c.parent, "kubeconfig");
    rotate(c, &c.parent, "db");
    let out = c.cmd(&["doctor", "--offline"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    let pushed = check_line(&report, "lock.pushed");
    assert!(pushed.contains("does not have"), "{report}");
    assert!(report.contains("git secrets push"), "{report}");
    assert_says(&report, "inner.sync", "2 commits ahead");
    assert_says(&report, "lock.committed", "not committed");

    // once pushed, the same doctor passes the remote checks
    c.git(&c.inner, &["push", "-q"]);
    let out = c.cmd(&["doctor", "--offline"]).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_says(&report, "lock.pushed", "every clone can fetch it");
    assert_says(&report, "inner.sync", "in sync");
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn pre_push_refuses_a_parent_whose_lock_names_an_unpushed_inner_commit() {
    let c = &team();
    c.cmd(&["hooks", "install"]).assert().success();
    rotate(c, &c.parent, "kubeconfig");
    let out = c.git_hooked(&c.parent, &["commit", "-qm", "relock", "--", "flake.lock"]);
    assert_success("commit flake.lock", &out);
    let remote_before = c.parent_remote_head();

    let out = c.git_hooked(&c.parent, &["push", "-q", "origin", "main"]);
    assert!(!out.status.success(), "the unpushed lock was pushed");
    let said = String::from_utf8_lossy(&out.stdout).into_owned() + &stderr(&out);
    assert!(said.contains("git secrets push"), "{said}");
    assert_eq!(c.parent_remote_head(), remote_before);

    c.git(&c.inner, &["push", "-q"]);
    let out = c.git_hooked(&c.parent, &["push", "-q", "origin", "main"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(c.parent_remote_head(), c.parent_head());
}

// ---------------------------------------------------------------------------------
// An unreachable remote: a clear error within the timeout, nothing changed.

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn doctor_fetch_reports_a_missing_or_hanging_remote_within_the_timeout() {
    let c = &team();
    // a path that does not exist
    c.git(
        &c.inner,
        &["remote", "set-url", "origin", "/nonexistent/secrets.git"],
    );
    let before = snapshot(&c.parent);
    let out = c.cmd(&["doctor", "--fetch", "--offline"]).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert_says(&report, "remote.fetch", "git fetch origin");
    assert_eq!(snapshot(&c.parent), before);

    // a remote that hangs: ssh that never answers
    c.git(&c.inner, &["remote", "set-url", "origin", HANGING]);
    let out = fails_in_time(&c.env, c.cmd(&["doctor", "--fetch", "--offline"]));
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_says(&report, "remote.fetch", "did not finish within 2s");
    assert_eq!(snapshot(&c.parent), before);

    // pull against the same hanging remote: the same clear error, nothing changed
    let out = fails_in_time(&c.env, c.cmd(&["pull", "--offline"]));
    assert!(
        stderr(&out).contains("did not finish within 2s"),
        "{}",
        stderr(&out)
    );
    assert_eq!(snapshot(&c.parent), before);
}

// ---------------------------------------------------------------------------------
// git secrets push, --push, secrets.push.

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn push_sends_the_inner_repo_and_with_parent_commits_flake_lock_and_pushes_the_parent() {
    let c = &team();
    c.cmd(&["hooks", "install"]).assert().success();
    rotate(c, &c.parent, "kubeconfig");
    let head = c.inner_head();

    let out = c.cmd(&["push"]).output().unwrap();
    assert_success("push", &out);
    assert_eq!(c.inner_remote_head(), head);
    assert!(
        stderr(&out).contains("--parent"),
        "says what is left: {}",
        stderr(&out)
    );

    let parent_before = c.parent_head();
    let out = c.cmd(&["push", "--parent"]).output().unwrap();
    assert_success("push --parent", &out);
    assert_ne!(c.parent_head(), parent_before, "flake.lock committed");
    assert_eq!(
        c.git(
            &c.parent,
            &["diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD"]
        ),
        "flake.lock"
    );
    assert_eq!(c.parent_remote_head(), c.parent_head());
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn rotate_push_and_the_secrets_push_config_push_the_inner_repo() {
    let c = &team();
    let out = c
        .cmd(&["rotate", "kubeconfig", "--offline", "--push"])
        .output()
        .unwrap();
    assert_success("rotate --push", &out);
    assert_eq!(c.inner_remote_head(), c.inner_head());

    c.git(&c.parent, &["config", "secrets.push", "true"]);
    rotate(c, &c.parent, "db");
    assert_eq!(c.inner_remote_head(), c.inner_head());

    let out = c
        .cmd(&["rotate", "db", "--offline", "--no-push"])
        .output()
        .unwrap();
    assert_success("rotate --no-push", &out);
    assert_ne!(c.inner_remote_head(), c.inner_head());
}

// ---------------------------------------------------------------------------------
// Two clones at once: pull rebases, the merge driver merges values, conflicts are named.

fn set(c: &Cluster, dir: &Path, name: &str, field: &str) {
    let out = c
        .cmd_in(dir, &["rotate", name, "--offline", "--set", field])
        .output()
        .unwrap();
    assert_success(&format!("rotate {name} --set {field}"), &out);
}

fn sops_decrypt(c: &Cluster, file: &Path) -> String {
    c.sops_decrypt_path(file)
        .unwrap_or_else(|| panic!("sops decrypt {} failed", file.display()))
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn two_clones_rotating_different_secrets_both_push_and_lock_the_merged_head() {
    let c = &team();
    let bob = c.teammate("bob");
    rotate(c, &c.parent, "kubeconfig");
    rotate(c, &bob, "db");
    c.cmd(&["push"]).assert().success();
    // bob's push is refused (non-fast-forward): pull first
    let out = c.cmd_in(&bob, &["push"]).output().unwrap();
    assert!(
        !out.status.success(),
        "a non-fast-forward push went through"
    );
    let out = c.cmd_in(&bob, &["pull", "--offline"]).output().unwrap();
    assert_success("bob pulls", &out);
    c.cmd_in(&bob, &["push"]).assert().success();
    let merged = c.inner_remote_head();
    assert_eq!(
        locked_rev(&bob),
        merged,
        "bob's parent locks the merged head"
    );
    // alice pulls the merged head: a fast-forward, and her lock moves forward
    let out = c.cmd(&["pull", "--offline"]).output().unwrap();
    assert_success("alice pulls", &out);
    assert_eq!(c.inner_head(), merged);
    assert_eq!(
        locked_rev(&c.parent),
        merged,
        "alice's parent locks the merged head"
    );
    for dir in [&c.parent, &bob] {
        for f in ["kubeconfig.yaml", "db.yaml"] {
            sops_decrypt(c, &dir.join("secrets/secrets").join(f));
        }
    }
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn the_merge_driver_merges_disjoint_values_of_one_secret_and_reports_a_true_conflict() {
    let c = &team();
    let bob = c.teammate("bob");
    // disjoint: alice changes the password, bob the user
    set(c, &c.parent, "db", "password=alice-password-1234");
    set(c, &bob, "db", "user=bob-the-admin");
    let out = c.cmd(&["push"]).output().unwrap();
    assert_success("alice pushes", &out);
    assert!(out.stdout.is_empty(), "push prints status on stderr only");
    let enc_of = |text: &str, key: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{key}: ENC[")))
            .map(str::to_string)
            .unwrap_or_default()
    };
    let alice_db = std::fs::read_to_string(c.secret("db.yaml")).unwrap();
    let out = c.cmd_in(&bob, &["pull", "--offline"]).output().unwrap();
    assert_success("bob pulls a change of the same secret", &out);
    let db = bob.join("secrets/secrets/db.yaml");
    let plain = sops_decrypt(c, &db);
    assert!(plain.contains("alice-password-1234"), "{plain}");
    assert!(plain.contains("bob-the-admin"), "{plain}");
    assert!(plain.contains("db.example.invalid"), "{plain}");
    // a value neither side changed keeps its ciphertext (the remote's, which the rebase
    // merges onto), like sops edit
    let merged_db = std::fs::read_to_string(&db).unwrap();
    assert_eq!(enc_of(&merged_db, "host"), enc_of(&alice_db, "host"));
    assert!(!enc_of(&merged_db, "host").is_empty(), "{merged_db}");
    c.cmd_in(&bob, &["push"]).assert().success();
    let merged = c.inner_remote_head();
    assert_eq!(locked_rev(&bob), merged);

    // a true conflict: both change the host
    c.cmd(&["pull", "--offline"]).assert().success();
    set(c, &c.parent, "db", "host=alice.example.invalid");
    set(c, &bob, "db", "host=bob.example.invalid");
    c.cmd(&["push"]).assert().success();
    let before = snapshot(&bob);
    let out = c.cmd_in(&bob, &["pull", "--offline"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("secrets/db.yaml"), "names the path: {err}");
    assert!(err.contains("[\"host\"]"), "names the value: {err}");
    assert_eq!(snapshot(&bob), before, "the conflict changed something");
    assert!(sops_decrypt(c, &db).contains("bob.example.invalid"));
}

// ---------------------------------------------------------------------------------
// Decrypted (masked) diffs in the inner repo, nothing decrypted on disk.

#[test]
#[cfg_attr(missing_strace, ignore = "needs strace")]
fn git_log_p_in_the_inner_repo_shows_masked_value_changes_and_writes_no_plaintext() {
    require_tool("strace");
    let c = &team();
    let bob = c.teammate("bob");
    let secret_value = common::marker("textconv");
    set(c, &bob, "db", &format!("password={secret_value}"));
    let inner = bob.join("secrets");
    let log = c.env.root().join("strace.log");
    let out = c
        .env
        .command("strace")
        .args(["-f", "-e", "trace=openat,open,creat", "-o"])
        .arg(&log)
        .args(["git", "log", "-p", "-1", "--", "secrets/db.yaml"])
        .current_dir(&inner)
        .output()
        .unwrap();
    assert_success("git log -p under strace", &out);
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(shown.contains("-password: <masked "), "{shown}");
    assert!(shown.contains("+password: <masked "), "{shown}");
    assert!(
        !shown.contains("+user: "),
        "unchanged values are no part of the diff:\n{shown}"
    );
    assert!(!shown.contains(&secret_value), "a value in clear:\n{shown}");
    assert!(
        !shown.contains("ENC["),
        "ciphertext instead of the decrypted form:\n{shown}"
    );

    let tmp = std::env::temp_dir().display().to_string();
    let git_dir = inner.join(".git").display().to_string();
    let bad = common::writes_outside_memory(
        &std::fs::read_to_string(&log).unwrap(),
        &["/dev/", "/proc/", &tmp, &git_dir],
    );
    assert!(bad.is_empty(), "writes outside memory: {bad:#?}");
    let held = common::files_holding(
        secret_value.as_bytes(),
        &[c.env.root().to_path_buf(), std::env::temp_dir()],
    );
    assert!(held.is_empty(), "plaintext on disk: {held:?}");

    // git secrets log NAME: the same, from the parent
    let out = c.cmd_in(&bob, &["log", "db"]).output().unwrap();
    assert_success("git secrets log db", &out);
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(shown.contains("+password: <masked "), "{shown}");
    assert!(!shown.contains(&secret_value), "{shown}");
    let out = c
        .cmd_in(&bob, &["log", "db", "--show-values"])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        shown.contains(&format!("+password: {secret_value}")),
        "{shown}"
    );

    // asked for, the values show in clear
    c.git(&inner, &["config", "secrets.showValues", "true"]);
    let shown = c.git(&inner, &["log", "-p", "-1", "--", "secrets/db.yaml"]);
    assert!(
        shown.contains(&format!("+password: {secret_value}")),
        "{shown}"
    );
}

// ---------------------------------------------------------------------------------
// init for every starting point.

/// A fresh parent repo `work/kubenix-cluster` with a committed flake.nix and no
/// secrets input yet; and a bare, empty `remotes/secrets.git`.
fn fresh_parent(env: &common::TestEnv) -> (PathBuf, PathBuf) {
    need_tools();
    (env.parent_repo(PARENT_FLAKE), env.bare_remote("secrets"))
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_default()
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn init_on_an_empty_remote_creates_the_template_pushes_it_and_locks_the_parent() {
    let env = common::TestEnv::new();
    let (dir, remote) = fresh_parent(&env);
    let out = env
        .cmd(["init", remote.to_str().unwrap(), "--yes", "--offline"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_success("init <empty remote>", &out);
    let pushed = env.git(&remote, ["rev-parse", "main"]);
    assert_eq!(env.git(&dir.join("secrets"), ["rev-parse", "HEAD"]), pushed);
    assert_eq!(locked_rev_of(&dir, "kubenix-cluster-secrets"), pushed);
    assert!(String::from_utf8_lossy(&read(&dir.join(".gitignore"))).contains("/secrets/"));
    // the new clone tracks the remote, so doctor sees it pushed
    let out = env
        .cmd(["doctor", "--offline"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_says(&report, "lock.pushed", "every clone can fetch it");
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn init_new_with_remote_sets_origin_and_pushes() {
    let env = common::TestEnv::new();
    let (dir, remote) = fresh_parent(&env);
    let out = env
        .cmd([
            "init",
            "--new",
            "--remote",
            remote.to_str().unwrap(),
            "--yes",
            "--offline",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_success("init --new --remote", &out);
    let pushed = env.git(&remote, ["rev-parse", "main"]);
    assert_eq!(env.git(&dir.join("secrets"), ["rev-parse", "HEAD"]), pushed);
    assert_eq!(
        env.git(
            &dir.join("secrets"),
            ["rev-parse", "--abbrev-ref", "@{upstream}"]
        ),
        "origin/main"
    );
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn init_from_a_missing_or_hanging_remote_fails_in_time_and_leaves_the_parent_untouched() {
    let env = common::TestEnv::new();
    let (dir, _) = fresh_parent(&env);
    let flake = read(&dir.join("flake.nix"));
    let out = env
        .cmd(["init", "/nonexistent/secrets.git", "--yes"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("nothing was changed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&dir.join("flake.nix")), flake);
    assert!(!dir.join(".gitignore").exists());
    assert!(!dir.join("secrets").exists());

    let mut init = env.cmd(["init", HANGING, "--yes"]);
    init.current_dir(&dir);
    let out = fails_in_time(&env, init);
    assert!(
        stderr(&out).contains("did not finish within 2s"),
        "{}",
        stderr(&out)
    );
    assert_eq!(read(&dir.join("flake.nix")), flake);
    assert!(!dir.join(".gitignore").exists());
    assert!(!dir.join("secrets").exists());
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_teammate_without_a_key_gets_one_and_the_line_to_send() {
    let c = &team();
    // bob's machine: no key at all
    let env = common::TestEnv::new();
    let dir = clone_into(&env, &c.parent_remote(), "bob");
    let out = env
        .cmd([
            "init",
            c.inner_remote().to_str().unwrap(),
            "--yes",
            "--offline",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_success("bob's init without a key", &out);
    let err = stderr(&out);
    assert!(env.config().join("sops/age/keys.txt").is_file(), "{err}");
    assert!(
        err.contains("git secrets rekey --add-recipient age1"),
        "{err}"
    );
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn init_resolves_a_relative_remote_path_against_dash_c_like_git() {
    let c = &team();
    let dir = c.clone_parent("carol");
    // run from the env root: the url is relative to -C's dir, not to this one
    let out = c
        .env
        .cmd([
            "-C",
            "work/carol",
            "init",
            "../../remotes/secrets.git",
            "--offline",
        ])
        .current_dir(c.env.root())
        .output()
        .unwrap();
    assert_success("init with a relative url and -C", &out);
    let origin = c.git(&dir.join("secrets"), &["remote", "get-url", "origin"]);
    assert_eq!(Path::new(&origin), c.inner_remote().as_path());
}

/// Under a `.sops.yaml` that does not parse, the merge driver still merges (read-only
/// commands work there too), says so on stderr, and keeps the indent our version was
/// written with (here 2, from the config before it broke) instead of sops' defaults,
/// which would have rewritten every line of the file.
#[test]
fn the_merge_driver_under_an_unparsable_sops_yaml_keeps_our_versions_indent_and_says_so() {
    let env = common::TestEnv::new();
    env.install_fixture_identity("age-a");
    let dir = env.work().join("repo");
    std::fs::create_dir_all(&dir).unwrap();
    let config = format!(
        "stores:\n    yaml:\n        indent: 2\n    json:\n        indent: 2\ncreation_rules:\n    - age: {}\n",
        common::cluster::age_a()
    );
    for (name, [base, ours, theirs]) in [
        (
            "db.yaml",
            [
                "db:\n  user: admin\n  password: base-pw\n",
                "",
                "db:\n  user: their-admin\n  password: theirs-pw\n",
            ],
        ),
        (
            "db.json",
            [
                r#"{"db": {"user": "admin", "password": "base-pw"}}"#,
                "",
                r#"{"db": {"user": "their-admin", "password": "theirs-pw"}}"#,
            ],
        ),
    ] {
        std::fs::write(dir.join(".sops.yaml"), &config).unwrap();
        // ours is the base as it was (one side changed the secret): its data key and
        // layout; theirs a new encryption with new values
        let mut files = Vec::new();
        for (side, plain) in [("base", base), ("ours", ours), ("theirs", theirs)] {
            let path = dir.join(format!("{side}.{name}"));
            if plain.is_empty() {
                std::fs::copy(&files[0], &path).unwrap();
                files.push(path);
                continue;
            }
            let ext = name.rsplit('.').next().unwrap();
            let out = env
                .cmd([
                    "encrypt",
                    "--input-type",
                    ext,
                    "--output-type",
                    ext,
                    "/dev/stdin",
                ])
                .current_dir(&dir)
                .write_stdin(plain)
                .output()
                .unwrap();
            assert_success("encrypt", &out);
            std::fs::write(&path, &out.stdout).unwrap();
            files.push(path);
        }
        let ours_before = std::fs::read_to_string(&files[1]).unwrap();
        // the config breaks (a half-resolved merge of it, say)
        std::fs::write(
            dir.join(".sops.yaml"),
            format!("{config}    - age: [unclosed\n"),
        )
        .unwrap();
        let out = env
            .cmd(["merge-driver"])
            .args(&files)
            .arg(name)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert_success("merge-driver", &out);
        let err = stderr(&out);
        assert!(
            err.contains(&format!("warning: {name}: .sops.yaml does not parse"))
                && err.contains("keeps the indent of our version"),
            "{err}"
        );
        let merged = std::fs::read_to_string(&files[1]).unwrap();
        assert_ne!(merged, ours_before, "not merged");
        // the layout of our version: 2 spaces a level, never sops' default 4 or a tab
        let layout = if name.ends_with(".yaml") {
            "db:\n  user: ENC["
        } else {
            "{\n  \"db\": {\n    \"user\": \"ENC["
        };
        assert!(ours_before.starts_with(layout), "{ours_before}");
        assert!(merged.starts_with(layout), "{merged}");
        assert!(
            !merged.contains('\t') && !merged.contains("\n    age:"),
            "{merged}"
        );
        let out = env
            .cmd(["decrypt", files[1].to_str().unwrap()])
            .current_dir(&dir)
            .output()
            .unwrap();
        let plain = String::from_utf8_lossy(&out.stdout);
        assert!(
            plain.contains("their-admin") && plain.contains("theirs-pw"),
            "{plain}"
        );
    }
}
