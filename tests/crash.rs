//! Crash safety, deterministic: `add`, `rotate`, `rekey`, `edit` and `init --new` are
//! killed at chosen points of their work, never at a random time. Two kinds of stop:
//!
//! - a fail point of our own code (`GIT_SECRETS_FAILPOINT=<point>:kill`, debug builds
//!   only, src/failpoint.rs): the process SIGKILLs itself there;
//! - a system call chosen with strace (`--inject=SYSCALL:signal=KILL:when=N`): our
//!   process at its Nth `fsync`/`renameat`, or, with `-f -P PATH`, the `git` or `nix`
//!   child at the call that touches PATH (git's ref or index rename, Nix's write of
//!   `flake.lock`).
//!
//! After each kill the repos hold the previous state or the new one, complete: every
//! secret file decrypts to the old or the new value (never a half-written file), the
//! inner HEAD is the old commit or one new commit, `flake.lock` parses and locks one of
//! those two, the repo lock is free (the next command is run with a lock timeout of 0),
//! `doctor` names what is left, and running the same command again completes the job and
//! leaves no temp file or git lock file behind.
//!
//! This file replaces the timed test (50 SIGKILLs after random sleeps, "≥ 25 must land
//! mid-run") and folds in tests/crash_points.rs (its `:abort` stops at the same points;
//! its doctor checks, rerun and init cases are kept here).

mod common;

use common::cluster::{age_b, Cluster, INPUT};
use common::{assert_success, TestEnv};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

const OLD: &str = "apiVersion: v1\ntoken: old-token-value\n";
const NEW: &str = "apiVersion: v1\ntoken: new-token-value\n";
const DB: &str = "user: admin\npassword: db-password-value\n";

/// Where a run is stopped.
#[derive(Clone, Copy, Debug)]
enum Stop {
    /// Our fail point `name`, as SIGKILL.
    Point(&'static str),
    /// Our process (not its children) at its `when`th call of `syscall`.
    Syscall(&'static str, u32),
    /// The child (git, nix) that makes the `when`th call of `syscall` on the path
    /// `rel` (relative to the parent root); with `then`, our process is also killed
    /// at that fail point afterwards (both die, as when a terminal is closed).
    Child {
        syscall: &'static str,
        rel: &'static str,
        then: Option<&'static str>,
    },
}

/// The steps of the change transaction every change command goes through: the temp
/// file (written and synced, not renamed), the rename itself, the directory sync after
/// it, before the inner commit, git killed while it moves the branch and while it
/// writes the index, after the commit, Nix killed while it writes `flake.lock` (alone,
/// and together with us), and after the lock.
const CHANGE_STOPS: [Stop; 11] = [
    Stop::Syscall("fsync", 1),
    Stop::Point("write.before-rename"),
    Stop::Syscall("renameat", 1),
    Stop::Syscall("fsync", 2),
    Stop::Point("change.before-commit"),
    Stop::Child {
        syscall: "rename",
        rel: "secrets/.git/refs/heads/main.lock",
        then: None,
    },
    Stop::Child {
        syscall: "rename",
        rel: "secrets/.git/index.lock",
        then: None,
    },
    Stop::Point("change.after-commit"),
    Stop::Child {
        syscall: "write",
        rel: "flake.lock",
        then: None,
    },
    Stop::Child {
        syscall: "write",
        rel: "flake.lock",
        then: Some("lock.before-restore"),
    },
    Stop::Point("change.after-lock"),
];

/// Where a stop leaves the transaction, so a test proves the kill landed at the step it
/// names (not earlier, not later): a temp file still there (our write stopped before
/// its rename; `None`: not asserted), the inner commit made, the lock moved to it.
fn landed(stop: Stop) -> (Option<bool>, bool, bool) {
    match stop {
        Stop::Syscall("fsync", 1) | Stop::Point("write.before-rename") => {
            (Some(true), false, false)
        }
        Stop::Syscall("renameat", 1) => (Some(true), false, false),
        Stop::Syscall(..) | Stop::Point("rekey.after-one-file") => (None, false, false),
        Stop::Point("change.before-commit") => (Some(false), false, false),
        Stop::Child { rel, .. } if rel.starts_with("secrets/.git/") => (Some(false), false, false),
        Stop::Point("change.after-commit") | Stop::Child { .. } => (Some(false), true, false),
        Stop::Point("change.after-lock") => (Some(false), true, true),
        Stop::Point(other) => panic!("no expectation for {other}"),
    }
}

/// Runs `cmd` under `strace ARGS` (its program, args and env), in the parent root.
fn under_strace(c: &Cluster, cmd: &std::process::Command, args: &[String]) -> Output {
    common::require_tool("strace");
    let mut s = c.env.command(common::tool_path("strace").unwrap());
    s.current_dir(&c.parent)
        .args(["-o", "/dev/null"])
        .args(args)
        .arg("--")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdin(std::process::Stdio::null());
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            s.env(k, v);
        }
    }
    s.output().unwrap()
}

/// Runs `cmd` (our binary, hermetic) stopped at `stop`; returns its output.
fn run_stopped(c: &Cluster, mut cmd: std::process::Command, stop: Stop) -> Output {
    match stop {
        Stop::Point(name) => cmd
            .env("GIT_SECRETS_FAILPOINT", format!("{name}:kill"))
            .output()
            .unwrap(),
        Stop::Syscall(call, when) => under_strace(
            c,
            &cmd,
            &[
                format!("--trace={call}"),
                format!("--inject={call}:signal=KILL:when={when}"),
            ],
        ),
        Stop::Child { syscall, rel, then } => {
            if let Some(point) = then {
                cmd.env("GIT_SECRETS_FAILPOINT", format!("{point}:kill"));
            }
            under_strace(
                c,
                &cmd,
                &[
                    "-f".into(),
                    "-P".into(),
                    c.parent.join(rel).display().to_string(),
                    format!("--trace={syscall}"),
                    format!("--inject={syscall}:signal=KILL:when=1"),
                ],
            )
        }
    }
}

/// Our binary in the parent root, hermetic, stdin closed.
fn ours(c: &Cluster, args: &[&str]) -> std::process::Command {
    let mut cmd = c.env.command(common::bin());
    cmd.current_dir(&c.parent)
        .args(args)
        .stdin(std::process::Stdio::null());
    cmd
}

/// `doctor --json`: check id → status.
fn doctor(env: &TestEnv, dir: &Path) -> BTreeMap<String, String> {
    let out = env
        .cmd(["doctor", "--json"])
        .current_dir(dir)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("doctor --json: {}", String::from_utf8_lossy(&out.stderr)));
    json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn failing(report: &BTreeMap<String, String>) -> Vec<String> {
    report
        .iter()
        .filter(|(_, s)| *s == "fail")
        .map(|(id, _)| id.clone())
        .collect()
}

/// Checks that must be ok once a command has completed.
const SETTLED: [&str; 5] = [
    "inner.untracked",
    "inner.unstaged",
    "inner.staged",
    "lock.fresh",
    "secrets.mac",
];

fn assert_settled(env: &TestEnv, dir: &Path, what: &str) {
    let report = doctor(env, dir);
    for id in SETTLED {
        assert_eq!(
            report.get(id).map(String::as_str),
            Some("ok"),
            "{what}: {id} is {:?}; failing: {:?}",
            report.get(id),
            failing(&report)
        );
    }
}

/// The decrypted secret `name`, or None when its file does not exist. A file that
/// exists but does not decrypt (half-written) fails the test.
fn value(c: &Cluster, name: &str) -> Option<String> {
    let file = c.secret(&format!("{name}.yaml"));
    if !file.exists() {
        return None;
    }
    let out = c.cmd(&["show", name]).output().unwrap();
    assert_success(&format!("show {name} after a kill"), &out);
    Some(String::from_utf8(out.stdout).unwrap())
}

/// Files a writer leaves while it works: our temp files and git's lock files (not
/// flake.lock, nor the empty file src/repo_lock.rs flocks, which stays on purpose).
fn leftovers(c: &Cluster) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if e.file_type().unwrap().is_dir() {
                if name != "objects" {
                    walk(&p, out);
                }
            } else if (name.starts_with(".git-secrets-") && name.ends_with(".tmp"))
                || name.ends_with(".lock")
                    && !["flake.lock", "git-secrets.lock"].contains(&name.as_str())
            {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&c.parent, &mut out);
    out
}

/// The invariant after a kill, then the rerun. `check` asserts the values (old or
/// new); `args` is run again (with `env`) and must complete.
fn kill_then_rerun(
    c: &Cluster,
    args: &[&str],
    env: &[(&str, &str)],
    stop: Stop,
    check: impl Fn(&Cluster, &str),
) {
    let what = format!("{args:?} stopped at {stop:?}");
    let old_head = c.inner_head();
    let old_lock = c.locked_rev();
    let mut cmd = ours(c, args);
    cmd.envs(env.iter().copied());
    let out = run_stopped(c, cmd, stop);
    assert!(
        !out.status.success(),
        "{what}: the command was not stopped\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The kill landed where it should.
    let (temp, committed, locked_new) = landed(stop);
    // (in secrets/ for a secret, in the repo root for rekey's .sops.yaml)
    let temps = [c.inner.clone(), c.inner.join("secrets")]
        .iter()
        .any(|dir| {
            std::fs::read_dir(dir)
                .unwrap()
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with(".git-secrets-"))
        });
    if let Some(temp) = temp {
        assert_eq!(temps, temp, "{what}: temp file left: {temps}");
    }
    assert_eq!(c.inner_head() != old_head, committed, "{what}: committed?");

    // Old or new, never a mix, never a half-written file.
    check(c, &what);
    let head = c.inner_head();
    if head != old_head {
        assert_eq!(
            c.git(&c.inner, &["rev-parse", "HEAD^"]),
            old_head,
            "{what}: more than one new commit"
        );
        let files = c.git(&c.inner, &["show", "--name-only", "--format=", "HEAD"]);
        for f in files.lines().filter(|f| f.starts_with("secrets/")) {
            let committed = c.git(&c.inner, &["show", &format!("HEAD:{f}")]);
            assert!(
                committed.contains("ENC[AES256_GCM"),
                "{what}: {f} committed without ciphertext"
            );
        }
    }
    // Nix truncates flake.lock and writes it in place; killed together with us in
    // between, it leaves a half file. Then the previous lock is whole in the journal
    // (src/nix/lock.rs), and the next command puts it back.
    let lock_file = c.parent.join("flake.lock");
    let journal = c.parent_git_dir().join("git-secrets-flake.lock.prev");
    let locked_in = |path: &Path| {
        let lock: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        Some(lock["nodes"][INPUT]["locked"]["rev"].as_str()?.to_string())
    };
    let locked = locked_in(&lock_file).unwrap_or_else(|| {
        assert!(
            matches!(stop, Stop::Child { then: Some(_), .. }),
            "{what}: flake.lock half-written"
        );
        let kept =
            locked_in(&journal).unwrap_or_else(|| panic!("{what}: no whole lock in the journal"));
        // doctor says what happened, and --fix puts the lock back (then relocks).
        let out = c.cmd(&["doctor"]).output().unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            common::cluster::check_line(&report, "lock.fresh").contains("half-written"),
            "{what}: doctor does not say flake.lock is half-written:\n{report}"
        );
        let out = c
            .cmd(&["doctor", "--fix", "--yes", "--offline"])
            .output()
            .unwrap();
        assert!(
            locked_in(&lock_file).is_some(),
            "{what}: doctor --fix left flake.lock broken:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        kept
    });
    assert!(
        locked == old_lock || locked == head,
        "{what}: flake.lock holds {locked}, neither {old_lock} nor {head}"
    );
    assert_eq!(locked != old_lock, locked_new, "{what}: lock moved?");

    // Doctor names what is left.
    let now = locked_in(&lock_file).unwrap_or_default(); // after a --fix above
    let pending = head != now || !c.git(&c.inner, &["status", "--porcelain"]).is_empty();
    if pending {
        let named = failing(&doctor(&c.env, &c.parent));
        assert!(
            named.iter().any(|id| SETTLED.contains(&id.as_str())),
            "{what}: doctor names nothing left: {named:?}"
        );
    }

    // The same command again completes; the repo lock is free (no waiting). A git
    // killed while it held one of its lock files (index.lock, a ref's .lock) leaves it,
    // and git refuses to work until it is removed: then the error says which file, and
    // following the hint completes the job.
    let mut removed = Vec::new();
    loop {
        let mut again = ours(c, args);
        again
            .envs(env.iter().copied())
            .env("GIT_SECRETS_LOCK_TIMEOUT", "0");
        let out = again.output().unwrap();
        if out.status.success() || removed.len() == 3 {
            assert_success(&format!("{what}, then again (after rm {removed:?})"), &out);
            break;
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lock = stderr
            .lines()
            .find_map(|l| l.split_once("run this command again: rm ").map(|(_, p)| p))
            .unwrap_or_else(|| panic!("{what}, then again: failed without a hint:\n{stderr}"));
        assert!(
            matches!(stop, Stop::Child { .. }) && lock.contains("/.git/"),
            "{what}: only a killed git leaves a git lock file, not {lock}:\n{stderr}"
        );
        std::fs::remove_file(lock).unwrap();
        removed.push(lock.to_string());
    }
    assert_settled(&c.env, &c.parent, &what);
    assert_eq!(c.locked_rev(), c.inner_head(), "{what}: lock not at HEAD");
    // A killed `git commit --only` leaves its temp index `next-index-<pid>.lock`, which
    // git never reads again: doctor names it, and --fix removes it (its pid is gone).
    if leftovers(c)
        .iter()
        .any(|p| p.to_string_lossy().contains("/next-index-"))
    {
        assert_eq!(
            doctor(&c.env, &c.parent)
                .get("inner.locks")
                .map(String::as_str),
            Some("warn"),
            "{what}: doctor does not name next-index"
        );
        let out = c
            .cmd(&["doctor", "--fix", "--yes", "--offline"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("fixed: removed "), "{what}: {stderr}");
    }
    assert_eq!(leftovers(c), Vec::<PathBuf>::new(), "{what}: files left");
}

/// Runs `change` at each of [`CHANGE_STOPS`], each time on a new cluster holding the
/// kubeconfig secret (OLD).
fn at_every_change_stop(change: impl Fn(&Cluster, Stop)) {
    for stop in CHANGE_STOPS {
        change(&Cluster::new(&[("kubeconfig.yaml", OLD)]), stop);
    }
}

/// Writes NEW to a file: the args of `rotate kubeconfig --from <it> --offline`.
fn rotate_to_new(c: &Cluster) -> [String; 5] {
    let new = c.env.write("new.yaml", NEW);
    let new = new.to_str().unwrap();
    ["rotate", "kubeconfig", "--from", new, "--offline"].map(String::from)
}

/// `rotate kubeconfig --from <NEW>` killed at `stop`, then run again: the secret holds
/// the old or the new value in between, the new one at the end.
fn rotate_killed_then_rerun(c: &Cluster, stop: Stop) {
    let args = rotate_to_new(c);
    kill_then_rerun(
        c,
        &args.each_ref().map(String::as_str),
        &[],
        stop,
        |c, what| {
            let text = value(c, "kubeconfig");
            assert!(
                text.as_deref() == Some(OLD) || text.as_deref() == Some(NEW),
                "{what}: neither value: {text:?}"
            );
        },
    );
    assert_eq!(value(c, "kubeconfig").as_deref(), Some(NEW));
}

#[test]
#[cfg_attr(
    any(missing_nix, missing_sops, missing_strace),
    ignore = "needs nix, sops and strace"
)]
fn rotate_killed_at_every_step_leaves_old_or_new_and_a_rerun_completes() {
    at_every_change_stop(rotate_killed_then_rerun);
}

#[test]
#[cfg_attr(
    any(missing_nix, missing_sops, missing_strace),
    ignore = "needs nix, sops and strace"
)]
fn add_killed_at_every_step_leaves_none_or_all_and_a_rerun_completes() {
    at_every_change_stop(|c, stop| {
        let new = c.env.write("db.yaml", DB);
        let args = ["add", "db", "--from", new.to_str().unwrap(), "--offline"];
        kill_then_rerun(c, &args, &[], stop, |c, what| {
            let text = value(c, "db");
            assert!(
                text.is_none() || text.as_deref() == Some(DB),
                "{what}: a partial db secret: {text:?}"
            );
            assert_eq!(value(c, "kubeconfig").as_deref(), Some(OLD), "{what}");
        });
        assert_eq!(value(c, "db").as_deref(), Some(DB));
    });
}

#[test]
#[cfg_attr(
    any(missing_nix, missing_sops, missing_strace),
    ignore = "needs nix, sops and strace"
)]
fn edit_killed_at_every_step_leaves_old_or_new_and_a_rerun_completes() {
    let edited = OLD.replace("old-token", "new-token");
    // The editor changes the value once; run again on the new value it changes nothing
    // and edit finishes what the killed run left (commit, lock).
    let editor = [("EDITOR", "sed -i s/old-token/new-token/")];
    at_every_change_stop(|c, stop| {
        let args = ["edit", "kubeconfig", "--offline"];
        kill_then_rerun(c, &args, &editor, stop, |c, what| {
            let text = value(c, "kubeconfig");
            assert!(
                text.as_deref() == Some(OLD) || text.as_deref() == Some(&edited),
                "{what}: neither value: {text:?}"
            );
        });
        assert_eq!(value(c, "kubeconfig").as_deref(), Some(edited.as_str()));
    });
}

#[test]
#[cfg_attr(
    any(missing_nix, missing_sops, missing_strace),
    ignore = "needs nix, sops and strace"
)]
fn rekey_killed_at_every_step_keeps_every_value_and_a_rerun_completes() {
    // Between the two files' renames too: one file rekeyed, the other not yet.
    let mut stops = vec![
        Stop::Point("rekey.after-one-file"),
        Stop::Syscall("renameat", 2),
        Stop::Syscall("fsync", 3),
    ];
    stops.extend(CHANGE_STOPS);
    let b = age_b();
    for stop in stops {
        let c = Cluster::new(&[("kubeconfig.yaml", OLD), ("db.yaml", DB)]);
        let args = ["rekey", "--add-recipient", b.as_str(), "--offline", "--yes"];
        kill_then_rerun(&c, &args, &[], stop, |c, what| {
            assert_eq!(value(c, "kubeconfig").as_deref(), Some(OLD), "{what}");
            assert_eq!(value(c, "db").as_deref(), Some(DB), "{what}");
        });
        for name in ["kubeconfig.yaml", "db.yaml"] {
            let text = std::fs::read_to_string(c.secret(name)).unwrap();
            assert!(text.contains(&b), "{stop:?}: {name} not rekeyed for B");
        }
    }
}

/// In a linked worktree of the parent its `.git` is a file: the journal goes into
/// the worktree's own git dir (each worktree has its own flake.lock), never into the
/// work tree where `git status` shows it and `git add -A` would commit it.
#[test]
#[cfg_attr(
    any(missing_nix, missing_sops, missing_strace),
    ignore = "needs nix, sops and strace"
)]
fn rotate_in_a_parent_worktree_keeps_the_lock_journal_in_its_git_dir() {
    let stop = Stop::Child {
        syscall: "write",
        rel: "flake.lock",
        then: Some("lock.before-restore"),
    };
    let c = Cluster::builder()
        .secret("kubeconfig.yaml", OLD)
        .in_parent_worktree()
        .build();
    let args = rotate_to_new(&c);
    let out = run_stopped(&c, ours(&c, &args.each_ref().map(String::as_str)), stop);
    assert!(!out.status.success(), "not stopped");
    let journal = c.parent_git_dir().join("git-secrets-flake.lock.prev");
    assert!(
        journal.is_file(),
        "no journal in {}",
        c.parent_git_dir().display()
    );
    assert!(c
        .parent_git_dir()
        .starts_with(c.env.work().join("cluster/.git/worktrees")));
    let status = c.git(&c.parent, &["status", "--porcelain", "--ignored"]);
    assert!(
        !status.contains("git-secrets"),
        "journal in the work tree:\n{status}"
    );
    // The whole kill-and-rerun invariant, restored from that journal.
    let c = Cluster::builder()
        .secret("kubeconfig.yaml", OLD)
        .in_parent_worktree()
        .build();
    rotate_killed_then_rerun(&c, stop);
    let status = c.git(&c.parent, &["status", "--porcelain", "--ignored"]);
    assert!(
        !status.contains("git-secrets"),
        "left in the work tree:\n{status}"
    );
}

#[test]
#[cfg_attr(missing_nix, ignore = "needs nix")]
fn init_new_killed_at_every_step_recovers() {
    common::require_tool("nix");
    for point in [
        "init.before-rename",
        "init.after-repo",
        "init.after-ignore",
        "init.after-flake",
        "write.before-rename",
    ] {
        let env = TestEnv::new();
        let dir = env.parent_repo("{\n  outputs = { self, ... }@inputs: { };\n}\n");
        let args = ["init", "--new", "--yes", "--offline"];
        let out = env
            .cmd(args)
            .current_dir(&dir)
            .env("GIT_SECRETS_FAILPOINT", format!("{point}:kill"))
            .output()
            .unwrap();
        assert!(!out.status.success(), "init did not stop at {point}");
        // No half-made secrets repo: none, or one with its first commit.
        if dir.join("secrets").exists() {
            let log = env
                .git_cmd(&dir.join("secrets"), ["rev-parse", "HEAD"])
                .output()
                .unwrap();
            assert!(
                log.status.success(),
                "{point}: secrets/ exists without a commit"
            );
        }
        let out = env
            .cmd(args)
            .current_dir(&dir)
            .env("GIT_SECRETS_LOCK_TIMEOUT", "0")
            .output()
            .unwrap();
        assert_success(&format!("init after a kill at {point}"), &out);
        assert!(
            !std::fs::read_dir(&dir)
                .unwrap()
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with(".git-secrets-")),
            "{point}: temp files left"
        );
        let report = doctor(&env, &dir);
        for id in ["dir.repo", "dir.ignored", "flake.input", "lock.fresh"] {
            assert_eq!(
                report.get(id).map(String::as_str),
                Some("ok"),
                "{point}: {id}: failing {:?}",
                failing(&report)
            );
        }
    }
}

/// git killed while `git commit --only` moves the branch leaves its lock files: doctor
/// names every one with the `rm` to run; `--fix` removes only `next-index-<pid>.lock`,
/// whose git process is gone (a git that runs under that pid keeps it; a pid reused by
/// another program does not), never `index.lock` and the others, which a running git
/// holds just the same. Following the hints, the command then completes.
#[test]
#[cfg_attr(
    any(missing_nix, missing_sops, missing_strace),
    ignore = "needs nix, sops and strace"
)]
fn a_killed_git_commit_leaves_locks_doctor_names_and_fix_removes_only_the_stale_one() {
    let c = Cluster::new(&[("kubeconfig.yaml", OLD)]);
    let new = c.env.write("new.yaml", NEW);
    let args = [
        "rotate",
        "kubeconfig",
        "--from",
        new.to_str().unwrap(),
        "--offline",
    ];
    let stop = Stop::Child {
        syscall: "rename",
        rel: "secrets/.git/refs/heads/main.lock",
        then: None,
    };
    let out = run_stopped(&c, ours(&c, &args), stop);
    assert!(!out.status.success());
    let git_dir = c.inner.join(".git");
    let next_index: Vec<PathBuf> = std::fs::read_dir(&git_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("next-index-")
        })
        .collect();
    assert_eq!(next_index.len(), 1, "git commit --only left its temp index");
    let stale = next_index[0].clone();

    // a running git's next-index lock, and one whose pid now belongs to `sleep`
    // (a program named git-…: what /proc/PID/comm shows for a git process)
    let git = common::process_named(c.env.root(), "git-sleep");
    let sleep = common::process_named(c.env.root(), "sleep");
    let live = git_dir.join(format!("next-index-{}.lock", git.id()));
    let reused = git_dir.join(format!("next-index-{}.lock", sleep.id()));
    std::fs::write(&live, "").unwrap();
    std::fs::write(&reused, "").unwrap();

    let (_, report, _) = c.doctor(&[]);
    let locks = common::cluster::check(&report, "inner.locks");
    assert_eq!(locks["status"], "warn", "{locks:#}");
    let message = locks["message"].as_str().unwrap();
    assert!(
        message.starts_with("5 git lock files in the secrets repo: "),
        "{message}"
    );
    let hints = locks["hints"].to_string();
    for name in ["index.lock", "HEAD.lock", "refs/heads/main.lock"] {
        assert!(
            hints.contains(&git_dir.join(name).display().to_string()),
            "{hints}"
        );
    }
    assert!(
        !hints.contains(live.file_name().unwrap().to_str().unwrap()),
        "{hints}"
    );
    assert!(
        hints.contains(&format!("rm {} {}", stale.display(), reused.display()))
            || hints.contains(&format!("rm {} {}", reused.display(), stale.display())),
        "{hints}"
    );
    assert!(
        hints.contains(&format!(
            "when none runs in this repo: rm {}",
            git_dir.join("HEAD.lock").display()
        )),
        "{hints}"
    );

    let (_, report, stderr) = c.doctor(&["--fix", "--yes"]);
    assert!(!stale.exists() && !reused.exists(), "{stderr}");
    assert!(live.exists(), "the running git's lock was removed");
    for kept in ["index.lock", "HEAD.lock", "refs/heads/main.lock"] {
        assert!(git_dir.join(kept).exists(), "{kept} removed by --fix");
    }
    // honest: the fix ran, but git's other locks still stand
    assert!(
        stderr.contains("not fixed: remove 2 lock files"),
        "{stderr}"
    );
    assert!(stderr.contains("inner.locks still warns"), "{stderr}");
    assert_eq!(
        common::cluster::check(&report, "inner.locks")["status"],
        "warn"
    );
    drop((git, sleep));
    std::fs::remove_file(&live).unwrap();

    // the user follows the hint, and the command completes
    let (_, report, _) = c.doctor(&[]);
    let hints = common::cluster::check(&report, "inner.locks")["hints"][0]
        .as_str()
        .unwrap()
        .to_string();
    let rm = hints.split_once("when none runs in this repo: ").unwrap().1;
    let out = std::process::Command::new("sh")
        .args(["-c", rm])
        .output()
        .unwrap();
    assert_success(rm, &out);
    let out = ours(&c, &args).output().unwrap();
    assert_success("rotate again", &out);
    let (_, report, _) = c.doctor(&[]);
    assert_eq!(
        common::cluster::check(&report, "inner.locks")["status"],
        "ok"
    );
    assert_eq!(leftovers(&c), Vec::<PathBuf>::new());
}
