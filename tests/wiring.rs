//! One model of the wiring (`src/wiring/`): for each broken state of the parent ↔
//! inner relationship, `doctor` names it, `doctor --fix` repairs it, and `init` on the
//! same state does the same thing in the same words.

mod common;

use common::cluster::{assert_check, Cluster, INPUT};
use std::fs;

/// What a run said it did: the `✓ ` lines (doctor's `fixed: ` prefix dropped), with
/// commit ids masked so two clusters compare equal.
fn done(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("✓ "))
        .map(|l| l.strip_prefix("fixed: ").unwrap_or(l))
        .map(mask_revs)
        .collect()
}

fn mask_revs(line: &str) -> String {
    line.split(' ')
        .map(|w| {
            if w.len() >= 7 && w.chars().all(|c| c.is_ascii_hexdigit()) {
                "<rev>"
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Breaks a fresh cluster with `break_it`, checks doctor fails `id`, `--fix` repairs
/// it, then breaks another cluster the same way and checks `init --yes` repairs it
/// with the same words.
fn doctor_fix_and_init_agree(id: &str, break_it: impl Fn(&Cluster)) {
    let c = Cluster::healthy();
    break_it(&c);
    let (code, report, stderr) = c.doctor(&[]);
    assert_eq!(code, 1, "{stderr}");
    assert_check(&report, id, "fail", None);
    let (_, report, fix_err) = c.doctor(&["--fix"]);
    assert_check(&report, id, "ok", None);
    let fixed = done(&fix_err);
    assert!(!fixed.is_empty(), "doctor --fix said nothing: {fix_err}");

    let c = Cluster::healthy();
    break_it(&c);
    let out = c.cmd(&["init", "--yes"]).output().unwrap();
    let init_err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{init_err}");
    let said = done(&init_err);
    for f in &fixed {
        assert!(said.contains(f), "init did not say {f:?}:\n{init_err}");
    }
    let (_, report, _) = c.doctor(&[]);
    assert_check(&report, id, "ok", None);
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_dir_not_ignored() {
    doctor_fix_and_init_agree("dir.ignored", |c| {
        fs::write(c.parent.join(".gitignore"), "result\n").unwrap();
    });
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_staged_gitlink() {
    doctor_fix_and_init_agree("dir.gitlink", |c| {
        c.git(&c.parent, &["add", "-f", "secrets"]);
    });
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_path_input() {
    doctor_fix_and_init_agree("flake.input", |c| {
        let flake = c.parent.join("flake.nix");
        let src = fs::read_to_string(&flake).unwrap();
        fs::write(&flake, src.replace("git+file:./secrets", "path:./secrets")).unwrap();
    });
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_missing_input() {
    doctor_fix_and_init_agree("flake.input", |c| {
        let flake = c.parent.join("flake.nix");
        let src = fs::read_to_string(&flake).unwrap();
        let url_line = src
            .lines()
            .find(|l| l.contains("git+file:./secrets"))
            .unwrap()
            .to_string();
        fs::write(&flake, src.replace(&url_line, "")).unwrap();
        // the name init and --fix give the new input (else `<dir name>-secrets`)
        c.git(&c.parent, &["config", "secrets.input", INPUT]);
        assert!(!fs::read_to_string(&flake).unwrap().contains("secrets\""));
    });
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_stale_lock() {
    doctor_fix_and_init_agree("lock.fresh", |c| {
        c.encrypt_in_place(
            &c.inner,
            "secrets/db.json",
            r#"{"password":"correct-horse"}"#,
        );
        c.commit_inner_changes("db");
    });
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn tracked_files_are_untracked_by_fix_and_refused_by_init_with_the_same_command() {
    let c = Cluster::healthy();
    fs::write(c.inner.join("notes.txt"), "x").unwrap();
    // what a parent that tracked the dir before it became a repo holds
    let blob = c.git(&c.parent, &["hash-object", "-w", "secrets/notes.txt"]);
    let info = format!("100644,{},secrets/notes.txt", blob.trim());
    c.git(&c.parent, &["update-index", "--add", "--cacheinfo", &info]);
    c.doctor_fails("dir.tracked", Some("git rm --cached -r secrets"));
    let out = c.cmd(&["init", "--yes"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("git rm --cached -r secrets"), "{stderr}");
    let (_, report, _) = c.doctor(&["--fix"]);
    assert_check(&report, "dir.tracked", "ok", None);
    assert_eq!(c.git(&c.parent, &["ls-files", "secrets"]), "");
    assert!(c.inner.join("notes.txt").is_file(), "files stay on disk");
}

/// A linked worktree of the parent (`.git` is a file): the wiring is read and changed
/// through the real git dirs. doctor finds nothing wrong, hooks go where git runs
/// them (the common dir), and a change leaves nothing in the work tree.
#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_parent_worktree_is_wired_like_the_main_one() {
    let c = Cluster::builder()
        .with_kubeconfig()
        .with_example()
        .in_parent_worktree()
        .build();
    let (code, report, stderr) = c.doctor(&[]);
    let failing: Vec<_> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["status"] == "fail")
        .collect();
    assert_eq!((code, failing.len()), (0, 0), "{failing:#?}\n{stderr}");

    c.cmd(&["hooks", "install"]).assert().success();
    let (_, report, _) = c.doctor(&[]);
    assert_check(&report, "hooks.installed", "ok", None);
    let hooks = c.env.work().join("cluster/.git/hooks");
    assert!(
        hooks.join("pre-commit").is_file(),
        "hook not in {}",
        hooks.display()
    );

    let new = c.env.write("db.yaml", "password: db-password-value\n");
    c.cmd(&["add", "db", "--from", new.to_str().unwrap(), "--offline"])
        .assert()
        .success();
    assert_eq!(common::cluster::locked_rev(&c.parent), c.inner_head());
    let status = c.git(&c.parent, &["status", "--porcelain", "--ignored"]);
    assert_eq!(
        status.trim(),
        "M flake.lock\n!! secrets/",
        "work tree after add"
    );
    assert!(!c
        .parent_git_dir()
        .join("git-secrets-flake.lock.prev")
        .exists());
    // the guards run from the worktree (its index is under its own git dir)
    let out = c.git_hooked(&c.parent, &["commit", "-qam", "relock"]);
    common::assert_success("commit through the pre-commit guard", &out);
    std::fs::write(
        c.parent.join("leak.yaml"),
        fs::read(c.inner.join("secrets/kubeconfig.json")).unwrap(),
    )
    .unwrap();
    c.git(&c.parent, &["add", "leak.yaml"]);
    let out = c.git_hooked(&c.parent, &["commit", "-qm", "leak"]);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !out.status.success() && said.contains("leak.yaml"),
        "the guard let a sops file through in a worktree:\n{said}"
    );
    // git's lock files: the main work tree's own index.lock is not this worktree's
    // business; a lock on what all worktrees share is
    let main_git = c.env.work().join("cluster/.git");
    std::fs::write(main_git.join("index.lock"), "").unwrap();
    let (_, report, _) = c.doctor(&[]);
    assert_check(&report, "parent.locks", "ok", None);
    std::fs::write(main_git.join("packed-refs.lock"), "").unwrap();
    let (_, report, _) = c.doctor(&[]);
    assert_check(&report, "parent.locks", "warn", Some("packed-refs.lock"));
}
