//! Living beside awslabs/git-secrets (Debian's `git-secrets`): with our
//! binary first on PATH, its options and its hooks behave exactly as with
//! awslabs alone; without it, its options fail closed.

mod common;

use common::{assert_success, TestEnv};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Output;

const AWSLABS: &str = "/usr/bin/git-secrets";

/// PATH with a dir holding only our binary (as `git-secrets`) first.
fn ours_first(env: &TestEnv) -> OsString {
    let dir = env.root().join("ours");
    std::fs::create_dir_all(&dir).unwrap();
    let link = dir.join("git-secrets");
    if !link.exists() {
        std::os::unix::fs::symlink(common::bin(), &link).unwrap();
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(dir).chain(std::env::split_paths(&path))).unwrap()
}

/// A repo with an awslabs pattern and its hooks installed through `git secrets`.
fn repo(env: &TestEnv, path: &OsString, name: &str) -> PathBuf {
    let dir = env.work().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    env.git(&dir, ["init", "-q"]);
    for args in [
        &["secrets", "--install"][..],
        &["secrets", "--add", "secret-[0-9]+"],
    ] {
        let out = env.git_cmd(&dir, args).env("PATH", path).output().unwrap();
        assert_success(&format!("git {args:?}"), &out);
    }
    std::fs::write(dir.join("leak.txt"), "token = secret-123\n").unwrap();
    std::fs::write(dir.join("clean.txt"), "nothing here\n").unwrap();
    dir
}

fn run(env: &TestEnv, dir: &Path, path: &OsString, args: &[&str]) -> Output {
    env.git_cmd(dir, args).env("PATH", path).output().unwrap()
}

/// Exit code, stdout and stderr with the repo dir name normalised.
fn shape(out: &Output, dir: &Path) -> (Option<i32>, String, String) {
    let norm = |b: &[u8]| String::from_utf8_lossy(b).replace(&dir.display().to_string(), "[REPO]");
    (out.status.code(), norm(&out.stdout), norm(&out.stderr))
}

#[test]
#[cfg_attr(missing_awslabs, ignore = "needs awslabs")]
fn awslabs_options_and_hooks_behave_as_with_awslabs_alone() {
    assert!(
        Path::new(AWSLABS).is_file(),
        "awslabs git-secrets (Debian package git-secrets) is needed at {AWSLABS}"
    );
    let env = TestEnv::new();
    let plain_path = std::env::var_os("PATH").unwrap_or_default();
    let with_ours = ours_first(&env);
    let alone = repo(&env, &plain_path, "alone");
    let beside = repo(&env, &with_ours, "beside");

    // `git secrets` really resolves to our binary in the second setup.
    let v = run(&env, &beside, &with_ours, &["secrets", "--version"]);
    assert!(
        String::from_utf8_lossy(&v.stdout).contains("git-secrets 0."),
        "not ours first"
    );

    for args in [
        &["secrets", "--scan", "leak.txt"][..],
        &["secrets", "--scan", "clean.txt"],
        &["secrets", "--list"],
    ] {
        let a = shape(&run(&env, &alone, &plain_path, args), &alone);
        let b = shape(&run(&env, &beside, &with_ours, args), &beside);
        assert_eq!(a, b, "git {args:?} differs with our binary first");
    }
    // The awslabs pre-commit hook blocks the leak and passes a clean file, the same way.
    for (file, blocked) in [("leak.txt", true), ("clean.txt", false)] {
        let mut results = Vec::new();
        for (dir, path) in [(&alone, &plain_path), (&beside, &with_ours)] {
            env.git(dir, ["add", file]);
            let out = run(&env, dir, path, &["commit", "-qm", file]);
            assert_eq!(
                !out.status.success(),
                blocked,
                "{file}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            results.push(shape(&out, dir));
            if blocked {
                env.git(dir, ["reset", "-q", file]);
            }
        }
        assert_eq!(
            results[0], results[1],
            "commit of {file} differs with our binary first"
        );
    }
}

#[test]
fn awslabs_options_fail_closed_without_awslabs() {
    let env = TestEnv::new();
    // PATH with only our binary's dir and the basics: no other git-secrets.
    let dir = env.root().join("only-ours");
    std::fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(common::bin(), dir.join("git-secrets")).unwrap();
    for args in [["--scan"], ["--pre_commit_hook"], ["--install"]] {
        let out = env.cmd(args).env("PATH", &dir).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?} printed on stdout");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("awslabs/git-secrets") && err.contains("hint:"),
            "{err}"
        );
    }
}
