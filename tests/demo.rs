//! `git secrets demo`: the whole walkthrough in a temp dir, with Nix and
//! without it, never touching the user's HOME.

mod common;

use common::{assert_success, require_tool, TestEnv};
use std::fs;
use std::path::{Path, PathBuf};

/// A PATH dir with every program of PATH except `nix*`.
fn path_without_nix(env: &TestEnv) -> PathBuf {
    let dir = env.root().join("bin-without-nix");
    fs::create_dir_all(&dir).unwrap();
    let path = std::env::var_os("PATH").unwrap_or_default();
    for d in std::env::split_paths(&path) {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let link = dir.join(&name);
            if name.to_string_lossy().starts_with("nix") || link.exists() {
                continue;
            }
            let _ = std::os::unix::fs::symlink(e.path(), &link);
        }
    }
    dir
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn run_demo(env: &TestEnv, path: Option<&Path>) {
    let dir = env.work().join("demo");
    let mut cmd = env.cmd(["demo", dir.to_str().unwrap()]);
    if let Some(p) = path {
        cmd.env("PATH", p);
    }
    let out = cmd.output().unwrap();
    assert_success("demo", &out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for step in [
        "git secrets init --new",
        "git secrets add kubeconfig",
        "git secrets rotate",
        "git secrets doctor",
        "git secrets exec",
        "git secrets example --check",
    ] {
        assert!(stderr.contains(step), "{step} not shown:\n{stderr}");
    }
    // No secret value on a command line the demo shows (and runs): a value
    // in argv is visible in `ps` and kept in shell history (issue 16.11).
    let shown_commands: Vec<&str> = stderr.lines().filter(|l| l.starts_with("$ ")).collect();
    assert!(
        shown_commands
            .iter()
            .any(|l| l.contains("--set-from hcloud_token=-")),
        "{shown_commands:?}"
    );
    assert!(
        !shown_commands.iter().any(|l| l.contains("hc0Rotated")),
        "a token in argv: {shown_commands:?}"
    );
    // Data (show, exec's CMD) goes to stdout, status to stderr.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("current-context: admin@kubenix"),
        "exec printed nothing:\n{stdout}"
    );
    // The user's HOME and config are untouched: the demo has its own.
    assert!(
        files_under(&env.home()).is_empty(),
        "HOME touched: {:?}",
        files_under(&env.home())
    );
    assert!(
        files_under(&env.config()).is_empty(),
        "config touched: {:?}",
        files_under(&env.config())
    );
    // The demo's parent passes doctor (with the demo's own HOME, where its key is).
    let parent = dir.join("kubenix-cluster");
    let mut doctor = env.cmd(["doctor"]);
    doctor
        .current_dir(&parent)
        .env("HOME", dir.join("home"))
        .env("XDG_CONFIG_HOME", dir.join("home/.config"))
        .env("GIT_CONFIG_GLOBAL", dir.join("gitconfig"));
    let bin_dir = common::bin().parent().unwrap().to_path_buf();
    let base = path
        .map(Path::to_path_buf)
        .map(|p| p.into_os_string())
        .unwrap_or_else(|| std::env::var_os("PATH").unwrap());
    let path =
        std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(&base))).unwrap();
    doctor.env("PATH", path);
    let out = doctor.output().unwrap();
    assert_success("doctor on the demo", &out);
}

#[test]
#[cfg_attr(missing_nix, ignore = "needs nix")]
fn demo_runs_end_to_end_with_nix() {
    require_tool("nix");
    require_tool("git");
    let env = TestEnv::new();
    run_demo(&env, None);
    assert!(env.work().join("demo/kubenix-cluster/flake.lock").is_file());
}

#[test]
fn demo_runs_end_to_end_without_nix() {
    require_tool("git");
    let env = TestEnv::new();
    let path = path_without_nix(&env);
    run_demo(&env, Some(&path));
    assert!(!env.work().join("demo/kubenix-cluster/flake.lock").exists());
}

#[test]
fn demo_refuses_a_non_empty_dir() {
    let env = TestEnv::new();
    let dir = env.work().join("full");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("x"), "x").unwrap();
    let out = env.cmd(["demo", dir.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("hint:"));
}
