//! Crash safety at every step: each command is stopped, as if killed
//! (`GIT_SECRETS_FAILPOINT=<point>:abort`, debug builds only), at each of its
//! steps. Afterwards the repos hold the old or the new state, `doctor` names
//! what is left, and running the command again completes it.

mod common;

use common::cluster::{age_b, Cluster};
use common::{assert_success, TestEnv};
use std::collections::BTreeMap;
use std::path::Path;

const OLD: &str = "apiVersion: v1\ntoken: old-token-value\n";
const NEW: &str = "apiVersion: v1\ntoken: new-token-value\n";

/// The point names the commands pass through (see src/failpoint.rs callers).
const CHANGE_POINTS: [&str; 4] = [
    "write.before-rename",
    "change.before-commit",
    "change.after-commit",
    "change.after-lock",
];

/// `doctor --json`: check id → status, run with our binary first on PATH.
fn doctor(env: &TestEnv, dir: &Path) -> BTreeMap<String, String> {
    let bin_dir = common::bin().parent().unwrap().to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let out = env
        .cmd(["doctor", "--json"])
        .current_dir(dir)
        .env("PATH", path)
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

fn show(c: &Cluster, name: &str) -> String {
    let out = c.cmd(&["show", name]).output().unwrap();
    assert_success(&format!("show {name}"), &out);
    String::from_utf8(out.stdout).unwrap()
}

/// Runs `args` stopped at `point`, checks the in-between state with
/// `check`, then runs `args` again and expects it to complete.
fn crash_then_rerun(c: &Cluster, args: &[&str], point: &str, check: impl Fn(&Cluster)) {
    let old_head = c.inner_head();
    let out = c
        .cmd(args)
        .env("GIT_SECRETS_FAILPOINT", format!("{point}:abort"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "{args:?} did not stop at {point}");
    check(c);
    let head = c.inner_head();
    assert!(
        head == old_head || c.git(&c.inner, &["rev-parse", "HEAD^"]) == old_head,
        "{point}: more than one new commit"
    );
    let locked = c.locked_rev();
    assert!(
        locked == old_head || locked == head,
        "{point}: flake.lock holds {locked}"
    );
    let report = doctor(&c.env, &c.parent);
    let pending = head != locked || !c.git(&c.inner, &["status", "--porcelain"]).is_empty();
    if pending {
        let named = failing(&report);
        assert!(
            named.iter().any(|id| SETTLED.contains(&id.as_str())),
            "{point}: doctor names nothing left: {named:?}"
        );
    }
    let out = c.cmd(args).output().unwrap();
    assert_success(&format!("{args:?} after a crash at {point}"), &out);
    assert_settled(&c.env, &c.parent, point);
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn rotate_stopped_at_every_step_recovers() {
    for point in CHANGE_POINTS {
        let c = Cluster::new(&[("kubeconfig.yaml", OLD)]);
        let new = c.env.write("new.yaml", NEW);
        let args = [
            "rotate",
            "kubeconfig",
            "--from",
            new.to_str().unwrap(),
            "--offline",
        ];
        crash_then_rerun(&c, &args, point, |c| {
            let text = show(c, "kubeconfig");
            assert!(text == OLD || text == NEW, "{point}: neither value: {text}");
        });
        assert_eq!(show(&c, "kubeconfig"), NEW);
    }
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn add_stopped_at_every_step_recovers() {
    for point in CHANGE_POINTS {
        let c = Cluster::new(&[("kubeconfig.yaml", OLD)]);
        let new = c.env.write("db.yaml", NEW);
        let args = ["add", "db", "--from", new.to_str().unwrap(), "--offline"];
        crash_then_rerun(&c, &args, point, |c| {
            let file = c.secret("db.yaml");
            if file.exists() {
                assert_eq!(show(c, "db"), NEW, "{point}: a partial db secret");
            }
        });
        assert_eq!(show(&c, "db"), NEW);
    }
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn rekey_stopped_at_every_step_recovers() {
    let points = [
        "rekey.after-one-file",
        "write.before-rename",
        "change.before-commit",
        "change.after-commit",
        "change.after-lock",
    ];
    for point in points {
        let c = Cluster::new(&[("kubeconfig.yaml", OLD), ("db.yaml", NEW)]);
        let b = age_b();
        let args = ["rekey", "--add-recipient", b.as_str(), "--offline"];
        crash_then_rerun(&c, &args, point, |c| {
            assert_eq!(show(c, "kubeconfig"), OLD, "{point}");
            assert_eq!(show(c, "db"), NEW, "{point}");
        });
        for name in ["kubeconfig.yaml", "db.yaml"] {
            let text = std::fs::read_to_string(c.secret(name)).unwrap();
            assert!(text.contains(&b), "{point}: {name} not rekeyed for B");
        }
    }
}

#[test]
#[cfg_attr(missing_nix, ignore = "needs nix")]
fn init_new_stopped_at_every_step_recovers() {
    common::require_tool("nix");
    for point in [
        "init.before-rename",
        "init.after-repo",
        "init.after-ignore",
        "init.after-flake",
        "write.before-rename",
    ] {
        let env = TestEnv::new();
        let dir = env.work().join("kubenix-cluster");
        std::fs::create_dir_all(&dir).unwrap();
        env.git(&dir, ["init", "-q"]);
        std::fs::write(
            dir.join("flake.nix"),
            "{\n  outputs = { self, ... }@inputs: { };\n}\n",
        )
        .unwrap();
        env.git(&dir, ["add", "flake.nix"]);
        env.git(&dir, ["commit", "-qm", "parent"]);
        let args = ["init", "--new", "--yes", "--offline"];
        let out = env
            .cmd(args)
            .current_dir(&dir)
            .env("GIT_SECRETS_FAILPOINT", format!("{point}:abort"))
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
        let out = env.cmd(args).current_dir(&dir).output().unwrap();
        assert_success(&format!("init after a crash at {point}"), &out);
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
