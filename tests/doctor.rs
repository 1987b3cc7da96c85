//! `git secrets doctor`: every broken state built for real (git, Nix 2.8 offline, the
//! real sops), the check that must fail with its hint, and `--fix` where it promises a
//! repair. A healthy cluster passes with exit 0.

mod common;

use common::cluster::{assert_check, check, key_text, public_key, Cluster, INPUT, TOKEN};
use common::{assert_success, TestEnv};
use std::fs;
use std::os::unix::fs::PermissionsExt;

fn failing(report: &serde_json::Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| format!("{}: {}", c["id"], c["message"]))
        .collect()
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_healthy_cluster_passes_with_exit_0() {
    let c = Cluster::builder()
        .with_kubeconfig()
        .with_example()
        .with_hooks()
        .build();
    let (code, report, stderr) = c.doctor(&["--history"]);
    assert_eq!(failing(&report), Vec::<String>::new(), "{stderr}");
    assert_eq!(code, 0);
    assert!(report["checks"].as_array().unwrap().len() >= 18);
    for id in [
        "parent.repo",
        "parent.locks",
        "parent.flake",
        "dir.ignored",
        "dir.gitlink",
        "dir.tracked",
        "flake.input",
        "flake.follows",
        "lock.fresh",
        "dir.repo",
        "inner.head",
        "inner.untracked",
        "inner.unstaged",
        "inner.staged",
        "inner.locks",
        "secrets.plaintext",
        "secrets.valid",
        "key.identity",
        "key.permissions",
        "secrets.mac",
        "example.matches",
        "nix.version",
        "awslabs.path",
        "awslabs.hooks",
        "hooks.installed",
        "history.dir",
        "history.sops",
        "history.age-key",
        "history.private-key",
        "history.plaintext",
        "history.names",
        "allow.list",
    ] {
        assert_check(&report, id, "ok", None);
    }
    // the text form: one mark per check and the summary, nothing secret
    let out = c.cmd(&["doctor", "--color", "never"]).output().unwrap();
    assert_success("doctor", &out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("✓ lock.fresh"), "{text}");
    assert!(text.contains(" 0 failed"), "{text}");
    assert!(!text.contains(TOKEN));
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_staged_gitlink_fails_and_fix_drops_it_from_the_index() {
    let c = Cluster::healthy();
    c.git(&c.parent, &["add", "-f", "secrets"]);
    assert!(c
        .git(&c.parent, &["ls-files", "-s", "secrets"])
        .starts_with("160000"));
    c.doctor_fails("dir.gitlink", Some("git rm --cached secrets"));
    let (code, report, stderr) = c.doctor(&["--fix"]);
    assert_check(&report, "dir.gitlink", "ok", None);
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_eq!(c.git(&c.parent, &["ls-files", "secrets"]), "");
    assert!(c.inner.join(".git").is_dir(), "the inner repo stays");
}

/// A gitlink the parent committed, then dropped from its index: the first hint is a
/// command that works (it once began with `git rm --cached`, which fails on a path the
/// index no longer holds), the second the purge `--history` names as well.
#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_committed_gitlink_fails_with_a_removal_command_that_works() {
    let c = Cluster::healthy();
    c.git(&c.parent, &["add", "-f", "secrets"]);
    c.git(&c.parent, &["commit", "-q", "-m", "oops"]);
    c.git(&c.parent, &["rm", "-q", "--cached", "secrets"]);
    let purge = "git filter-repo --path secrets --invert-paths";
    let report = c.doctor_fails("dir.gitlink", Some(purge));
    let hints = check(&report, "dir.gitlink")["hints"].clone();
    let (_, command) = hints[0].as_str().unwrap().split_once(": ").unwrap();
    let out = c
        .env
        .command("sh")
        .args(["-c", command])
        .current_dir(&c.parent)
        .output()
        .unwrap();
    assert_success(command, &out);
    let (_, report, _) = c.doctor(&["--history"]);
    assert_check(&report, "dir.gitlink", "ok", None);
    assert_check(&report, "history.dir", "fail", Some(purge));
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_dir_not_ignored_fails_and_fix_ignores_it() {
    let c = Cluster::healthy();
    fs::write(c.parent.join(".gitignore"), "result\n").unwrap();
    c.doctor_fails("dir.ignored", Some("/secrets/"));
    let (code, report, _) = c.doctor(&["--fix"]);
    assert_check(&report, "dir.ignored", "ok", None);
    assert_eq!(code, 0);
    assert_eq!(
        fs::read_to_string(c.parent.join(".gitignore")).unwrap(),
        "result\n# private secrets repo (git secrets)\n/secrets/\n",
        "the same text init writes"
    );
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_path_input_fails_with_the_git_file_url_in_the_hint() {
    let c = Cluster::healthy();
    let flake = c.parent.join("flake.nix");
    let src = fs::read_to_string(&flake).unwrap();
    fs::write(&flake, src.replace("git+file:./secrets", "path:./secrets")).unwrap();
    c.doctor_fails("flake.input", Some("git+file:./secrets"));
    let (_, report, _) = c.doctor(&["--fix"]);
    assert_check(&report, "flake.input", "ok", None);
    assert!(fs::read_to_string(&flake)
        .unwrap()
        .contains("\"git+file:./secrets\""));
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn untracked_unstaged_and_staged_secrets_in_the_inner_repo_fail() {
    let c = Cluster::healthy();
    c.encrypt_in_place(&c.inner, "secrets/new.json", r#"{"a":"b"}"#);
    let report = c.doctor_fails("inner.untracked", Some("commit"));
    assert!(check(&report, "inner.untracked")["message"]
        .as_str()
        .unwrap()
        .contains("secrets/new.json"));
    assert_check(&report, "inner.unstaged", "ok", None);
    // staged, not committed
    c.git(&c.inner, &["add", "secrets/new.json"]);
    let (_, report, _) = c.doctor(&[]);
    assert_check(&report, "inner.untracked", "ok", None);
    assert_check(&report, "inner.staged", "fail", Some("commit"));
    // a committed file changed in the work tree
    c.git(&c.inner, &["commit", "-qm", "new"]);
    c.encrypt_in_place(&c.inner, "secrets/new.json", r#"{"a":"c"}"#);
    let (_, report, _) = c.doctor(&[]);
    assert_check(&report, "inner.unstaged", "fail", Some("commit"));
    // the lock cannot be fixed while the repo is dirty: no fix is offered
    assert_check(&report, "lock.fresh", "fail", Some("commit every change"));
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_stale_lock_after_a_plain_git_commit_fails_and_fix_relocks() {
    let c = Cluster::healthy();
    c.encrypt_in_place(
        &c.inner,
        "secrets/db.json",
        r#"{"password":"correct-horse-battery"}"#,
    );
    c.commit_inner_changes("db");
    c.doctor_fails("lock.fresh", Some("nix flake lock --update-input"));
    let (code, report, stderr) = c.doctor(&["--fix"]);
    assert_check(&report, "lock.fresh", "ok", None);
    assert!(stderr.contains("fixed:"), "{stderr}");
    let head = c.git(&c.inner, &["rev-parse", "HEAD"]);
    let lock: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(c.parent.join("flake.lock")).unwrap()).unwrap();
    assert_eq!(lock["nodes"][INPUT]["locked"]["rev"], head.as_str());
    // the example now lacks `db`: reported, not fixed behind the user's back
    assert_check(
        &report,
        "example.matches",
        "fail",
        Some("git secrets example"),
    );
    assert_eq!(code, 1);
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn plaintext_committed_among_the_secrets_fails() {
    let c = Cluster::healthy();
    fs::write(
        c.inner.join("secrets/oops.yaml"),
        "password: plain-as-day-123\n",
    )
    .unwrap();
    c.commit_inner_changes("oops");
    let report = c.doctor_fails("secrets.plaintext", Some("git secrets encrypt -i"));
    assert_check(&report, "secrets.plaintext", "fail", Some("filter-repo"));
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn recipient_drift_fails_with_rekey_in_the_hint() {
    let c = Cluster::healthy();
    fs::write(
        c.inner.join(".sops.yaml"),
        format!(
            "creation_rules:\n    - path_regex: ^secrets/\n      age: {},{}\n",
            public_key("age-a"),
            public_key("age-b")
        ),
    )
    .unwrap();
    c.git(&c.inner, &["commit", "-qam", "add a recipient"]);
    c.doctor_fails("secrets.recipients", Some("git secrets rekey"));
    // --fix --yes rekeys (the same rekey as `git secrets rekey`, in this process: its
    // commit shows in doctor's own stderr), commits and relocks.
    let (_, report, stderr) = c.doctor(&["--fix", "--yes"]);
    assert!(
        stderr.contains("committed ") && stderr.contains(": rekey"),
        "{stderr}"
    );
    assert_check(&report, "secrets.recipients", "ok", None);
    assert_check(&report, "lock.fresh", "ok", None);
    let text = fs::read_to_string(c.inner.join("secrets/kubeconfig.json")).unwrap();
    assert!(text.contains(&public_key("age-b")), "not rekeyed: {stderr}");
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_tampered_mac_fails_and_names_the_file() {
    let c = Cluster::healthy();
    let f = c.inner.join("secrets/kubeconfig.json");
    let text = fs::read_to_string(&f).unwrap();
    assert!(text.contains("not a secret"));
    fs::write(&f, text.replace("not a secret", "not a secreT")).unwrap();
    c.doctor_fails("secrets.mac", Some("checkout -- secrets/kubeconfig.json"));
    // without a key, the MAC check is skipped with a reason, not failed
    fs::remove_file(c.env.config().join("sops/age/keys.txt")).unwrap();
    let (_, report, _) = c.doctor(&[]);
    assert_check(&report, "secrets.mac", "skip", None);
    assert_check(
        &report,
        "key.identity",
        "warn",
        Some("keys.txt (no such file)"),
    );
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_key_file_readable_by_others_fails_and_fix_chmods_it() {
    let c = Cluster::healthy();
    let key = c.env.config().join("sops/age/keys.txt");
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    c.doctor_fails("key.permissions", Some("chmod 600"));
    let (code, report, _) = c.doctor(&["--fix"]);
    assert_eq!(code, 0);
    assert_check(&report, "key.permissions", "ok", None);
    assert_eq!(
        fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_plaintext_value_in_an_old_parent_commit_is_found_only_with_history() {
    let c = Cluster::healthy();
    fs::write(
        c.parent.join("notes.txt"),
        format!("token for ci: {TOKEN}\n"),
    )
    .unwrap();
    c.git(&c.parent, &["add", "notes.txt"]);
    c.git(&c.parent, &["commit", "-qm", "notes"]);
    let leaked = c.git(&c.parent, &["rev-parse", "--short=12", "HEAD"]);
    c.git(&c.parent, &["rm", "-q", "notes.txt"]);
    c.git(&c.parent, &["commit", "-qm", "remove notes"]);
    let (code, report, _) = c.doctor(&[]);
    assert_eq!(code, 0, "{report:#}");
    let (code, report, _) = c.doctor(&["--history"]);
    assert_eq!(code, 1);
    assert_check(&report, "history.plaintext", "fail", Some(&leaked));
    assert_check(&report, "history.plaintext", "fail", Some("notes.txt"));
    assert_check(
        &report,
        "history.plaintext",
        "fail",
        Some("git secrets rotate kubeconfig"),
    );
    let all = report.to_string();
    assert!(!all.contains(TOKEN), "the value is printed: {all}");
    assert!(all.contains("'hu…', 31 bytes"), "{all}");
    // --min-length above the value's length skips it
    let (code, _, _) = c.doctor(&["--history", "--min-length", "64"]);
    assert_eq!(code, 0);
}

/// Stages a private age key (fixture key A) as `deploy-key.txt` in the parent.
fn stage_a_key_in_the_parent(c: &Cluster) {
    fs::write(c.parent.join("deploy-key.txt"), key_text("age-a")).unwrap();
    c.git(&c.parent, &["add", "deploy-key.txt"]);
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_private_age_key_committed_in_the_parent_is_found() {
    let c = Cluster::healthy();
    stage_a_key_in_the_parent(&c);
    c.git(&c.parent, &["commit", "-qm", "key"]);
    let commit = c.git(&c.parent, &["rev-parse", "--short=12", "HEAD"]);
    let (code, report, _) = c.doctor(&["--history"]);
    assert_eq!(code, 1);
    assert_check(&report, "history.age-key", "fail", Some("deploy-key.txt"));
    assert!(check(&report, "history.age-key")["message"]
        .as_str()
        .unwrap()
        .contains(&commit));
    // the example's own key is committed on purpose and is not reported
    assert_check(&report, "history.sops", "ok", None);
}

/// A key staged and then unstaged (what a commit blocked by the hook leaves) is only in an
/// unreachable blob: found, but not called burnt, since it was never committed or pushed.
#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_key_only_in_an_unreachable_blob_is_found_but_not_called_burnt() {
    let c = Cluster::healthy();
    stage_a_key_in_the_parent(&c);
    c.git(&c.parent, &["reset", "-q", "deploy-key.txt"]);
    fs::remove_file(c.parent.join("deploy-key.txt")).unwrap();
    let (code, report, _) = c.doctor(&["--history"]);
    assert_eq!(code, 1);
    let hints = check(&report, "history.age-key")["hints"].to_string();
    assert!(hints.contains("never committed"), "{hints}");
    assert!(!hints.contains("burnt"), "{hints}");
    // committed, it is burnt
    stage_a_key_in_the_parent(&c);
    c.git(&c.parent, &["commit", "-qm", "key"]);
    let (_, report, _) = c.doctor(&["--history"]);
    let hints = check(&report, "history.age-key")["hints"].to_string();
    assert!(hints.contains("burnt"), "{hints}");
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn another_git_secrets_earlier_on_path_fails() {
    let c = Cluster::healthy();
    let other = c.env.root().join("awslabs-bin");
    fs::create_dir_all(&other).unwrap();
    let fake = other.join("git-secrets");
    common::write_script(&fake, "#!/bin/sh\necho awslabs\n");
    let mut cmd = c.cmd(&[]);
    cmd.env("PATH", c.path_var(Some(&other)));
    let (code, report, _) = c.doctor_with(cmd, &[]);
    assert_eq!(code, 1);
    assert_check(&report, "awslabs.path", "fail", Some("before"));
    // later on PATH it is fine: its options are forwarded there
    let mut dirs = vec![c.bin_dir(), other.clone()];
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let mut cmd = c.cmd(&[]);
    cmd.env("PATH", std::env::join_paths(dirs).unwrap());
    let (_, report, _) = c.doctor_with(cmd, &[]);
    assert_check(&report, "awslabs.path", "ok", None);
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn awslabs_hook_lines_are_reported() {
    let c = Cluster::healthy();
    let hook = c.parent.join(".git/hooks/commit-msg");
    fs::write(
        &hook,
        "#!/usr/bin/env bash\ngit secrets --commit_msg_hook -- \"$@\"\n",
    )
    .unwrap();
    let (code, report, _) = c.doctor(&[]);
    let me = fs::canonicalize(common::BIN).unwrap();
    let awslabs_installed = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("git-secrets"))
        .any(|p| p.is_file() && fs::canonicalize(&p).unwrap() != me);
    if awslabs_installed {
        // its options are forwarded to the installed awslabs binary: worth a warning
        assert_eq!(code, 0);
        assert_check(
            &report,
            "awslabs.hooks",
            "warn",
            Some("forwards its options"),
        );
    } else {
        // no awslabs binary: these hooks fail every commit, so it is a failure
        assert_eq!(code, 1);
        assert_check(
            &report,
            "awslabs.hooks",
            "fail",
            Some("apt install git-secrets"),
        );
    }
    assert!(check(&report, "awslabs.hooks")["message"]
        .as_str()
        .unwrap()
        .contains("commit-msg"));
}

#[test]
fn outside_any_repo_doctor_fails_with_a_json_report() {
    let env = TestEnv::new();
    let out = env.cmd(["doctor", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], 1);
    assert_check(&v, "parent.repo", "fail", Some("git init"));
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_reader_that_goes_away_ends_doctor_quietly() {
    let c = Cluster::healthy();
    // `true` exits without reading: doctor's report meets a closed pipe (EPIPE).
    let out = c
        .env
        .command("bash")
        .current_dir(&c.parent)
        .env("PATH", c.path_var(None))
        .args([
            "-c",
            "set -o pipefail; git-secrets doctor --offline | true; echo \"exit=$?\"",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("exit=0"), "{stdout}\n{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}

/// `--history` finds what pre-commit finds: a lowercase age key, a base64-encoded value
/// and an OpenSSH private key committed past the hook, each under its own check.
#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn history_finds_lowercase_keys_base64_values_and_ssh_keys() {
    use base64::Engine;
    let c = Cluster::healthy();
    let ssh = common::ssh_key_text();
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("x{TOKEN}"));
    for (file, text) in [
        ("key.txt", key_text("age-a").to_lowercase()),
        ("secret.yaml", format!("data:\n  token: {b64}\n")),
        ("id_ed25519", ssh),
    ] {
        fs::write(c.parent.join(file), text).unwrap();
        c.git(&c.parent, &["add", file]);
        c.git(&c.parent, &["commit", "-qm", file, "--no-verify"]);
        c.git(&c.parent, &["rm", "-q", file]);
        c.git(&c.parent, &["commit", "-qm", "rm", "--no-verify"]);
    }
    let (code, report, _) = c.doctor(&["--history"]);
    assert_eq!(code, 1);
    assert_check(&report, "history.age-key", "fail", Some("key.txt"));
    assert_check(&report, "history.plaintext", "fail", Some("secret.yaml"));
    assert_check(&report, "history.plaintext", "fail", Some("base64-encoded"));
    assert_check(&report, "history.private-key", "fail", Some("id_ed25519"));
    assert!(!report.to_string().contains(TOKEN));
}

/// A real key as the example's key.txt fails `example.matches`, naming what it opens.
#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_real_key_as_the_examples_key_fails_doctor() {
    let c = Cluster::healthy();
    fs::write(c.parent.join("secrets-example/key.txt"), key_text("age-a")).unwrap();
    let report = c.doctor_fails("example.matches", Some("git secrets example"));
    assert!(check(&report, "example.matches")["message"]
        .as_str()
        .unwrap()
        .contains("is a real key: it decrypts the secret kubeconfig"));
}

/// Untracked files in the secrets repo are invisible to Nix, so they do not stop
/// `--fix` from relocking a lock that is behind; doctor commits nothing on its own,
/// but names each file with the exact command: `git add` for a sops file, a warning
/// (Nix copies committed files to the world-readable store) for anything else.
#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn fix_relocks_past_untracked_files_and_names_them_with_the_command() {
    let c = Cluster::healthy();
    c.encrypt_in_place(
        &c.inner,
        "secrets/db.json",
        r#"{"password":"correct-horse-battery"}"#,
    );
    let head = c.commit_inner_changes("db");
    c.encrypt_in_place(&c.inner, "secrets/new.json", r#"{"a":"b"}"#);
    fs::write(c.inner.join("notes.txt"), "call Bob about the rotation\n").unwrap();
    let report = c.doctor_fails("lock.fresh", Some("git secrets doctor --fix"));
    assert_check(
        &report,
        "lock.fresh",
        "fail",
        Some("nix flake lock --update-input"),
    );

    let (code, report, stderr) = c.doctor(&["--fix", "--yes"]);
    assert_eq!(code, 1, "the untracked files are still there\n{stderr}");
    assert!(stderr.contains("fixed: locked kubenix-secrets"), "{stderr}");
    assert_eq!(c.locked_rev(), head, "relocked to HEAD: {stderr}");
    assert_check(&report, "lock.fresh", "ok", None);
    let add = "git -C secrets add -- secrets/new.json && git -C secrets commit -m 'add new'";
    assert_check(&report, "inner.untracked", "fail", Some(add));
    assert_check(
        &report,
        "inner.untracked",
        "fail",
        Some("not sops-encrypted: notes.txt"),
    );
    let hints = check(&report, "inner.untracked")["hints"].to_string();
    assert!(!hints.contains("add -- notes.txt"), "{hints}");
    assert!(
        stderr.contains(&format!(
            "inner.untracked: commit it (sops-encrypted): {add}"
        )),
        "{stderr}"
    );
    // nothing left that doctor may do: it says so, and claims no fix
    let (_, _, stderr) = c.doctor(&["--fix", "--yes"]);
    assert!(
        stderr.contains("nothing doctor can fix on its own"),
        "{stderr}"
    );
    assert!(!stderr.contains("fixed"), "{stderr}");
    // the hint's command, as written, then --fix relocks to the new commit
    let out = std::process::Command::new("sh")
        .args(["-c", add])
        .current_dir(&c.parent)
        .envs(c.env.env_vars())
        .output()
        .unwrap();
    common::assert_success(add, &out);
    let (_, report, stderr) = c.doctor(&["--fix", "--yes"]);
    assert_eq!(c.locked_rev(), c.inner_head(), "{stderr}");
    assert_check(
        &report,
        "inner.untracked",
        "fail",
        Some("not sops-encrypted: notes.txt"),
    );
    assert!(!check(&report, "inner.untracked")["message"]
        .as_str()
        .unwrap()
        .contains("new.json"));
}

/// A fix that ran but did not make its check pass is not reported as fixed: here a
/// commit lands in the secrets repo while Nix relocks (a fake `nix` makes it), so the
/// lock is behind again when doctor looks.
#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn fix_says_not_fixed_when_the_check_still_fails_after_it() {
    let c = Cluster::healthy();
    c.encrypt_in_place(&c.inner, "secrets/db.json", r#"{"password":"x"}"#);
    c.commit_inner_changes("db");
    let (fake, _) = c.fake_nix_running(
        "nix (Nix) 2.8.0",
        &format!(
            "rev=$(git -C secrets rev-parse HEAD)\ncat > flake.lock <<EOF\n{}\nEOF\n\
             git -C secrets commit -q --allow-empty -m meanwhile",
            common::cluster::lock_file_for("$rev")
        ),
    );
    let mut cmd = c.cmd(&[]);
    cmd.env("GIT_SECRETS_NIX", &fake);
    let (code, report, stderr) = c.doctor_with(cmd, &["--fix", "--yes"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        !stderr.replace("not fixed:", "").contains("fixed:"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "not fixed: relock the flake input to the secrets repo's HEAD (locked kubenix-secrets"
        ) && stderr.contains("but lock.fresh still fails: flake.lock is behind"),
        "{stderr}"
    );
    assert_check(&report, "lock.fresh", "fail", None);
}

/// With a key that opens nothing here, a key file that could not be read is named
/// first: it may be where the right key is.
#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn key_identity_names_an_unreadable_key_file_when_no_key_decrypts() {
    let c = Cluster::healthy();
    fs::write(
        c.env.config().join("sops/age/keys.txt"),
        common::key_text("age-b"),
    )
    .unwrap();
    let mut cmd = c.cmd(&[]);
    cmd.env("SOPS_AGE_KEY_FILE", "/nonexistent/keys.txt");
    let (_, report, _) = c.doctor_with(cmd, &[]);
    assert_check(
        &report,
        "key.identity",
        "warn",
        Some("SOPS_AGE_KEY_FILE=/nonexistent/keys.txt: cannot read it: No such file"),
    );
}

/// `doctor --fix` keeps the `next-index-<pid>.lock` of a git that runs as a Nix
/// `wrapProgram` wrapper (`exec -a git …/.git-wrapped`: /proc/PID/comm shows
/// `.git-wrapped`): that git commit still reads it as its index.
#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn fix_keeps_the_next_index_lock_of_a_git_run_through_a_nix_wrapper() {
    let c = Cluster::builder().with_kubeconfig().build();
    let git = common::process_named(c.env.root(), ".git-wrapped");
    let live = c.inner.join(format!(".git/next-index-{}.lock", git.id()));
    fs::write(&live, "").unwrap();
    let (_, report, stderr) = c.doctor(&["--fix", "--yes"]);
    let kept = live.exists();
    drop(git);
    assert!(kept, "a running git's index was removed: {stderr}");
    assert_eq!(check(&report, "inner.locks")["status"], "ok", "{stderr}");
}

/// A key file with a line that is no key is refused whole, as sops refuses it (so the
/// user's `sops` wrappers fail on it): key.identity fails with the words `decrypt` uses,
/// naming the file and the line, never the line, even though the good key in it would
/// decrypt. The example's key.txt with such a line fails example.matches the same way,
/// and one that holds a real key next to such a line is still caught as a real key.
#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_key_file_with_a_line_that_is_no_key_fails_like_sops_refuses_it() {
    let c = Cluster::healthy();
    let keys_txt = c.env.config().join("sops/age/keys.txt");
    let line = key_text("age-a").lines().count() + 1;
    c.env.install_age_identity("not-a-key-Zq9\n");
    let (code, report, stderr) = c.doctor(&[]);
    assert_eq!(code, 1, "{stderr}\n{report:#}");
    let refused = format!(
        "{} is refused (line {line} is not an age secret key)",
        keys_txt.display()
    );
    assert_check(
        &report,
        "key.identity",
        "fail",
        Some(&format!(
            "fix or delete line {line} of {}",
            keys_txt.display()
        )),
    );
    assert_eq!(check(&report, "key.identity")["message"], refused.as_str());
    // the same words as a command that needs the key
    let out = c.cmd(&["show", "kubeconfig"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let shown = String::from_utf8_lossy(&out.stderr);
    assert!(
        shown.starts_with("error: no age identity found to decrypt this file: "),
        "{shown}"
    );
    assert!(shown.contains(&refused), "{shown}");
    assert!(
        !format!("{report}{stderr}{shown}").contains("Zq9"),
        "the line is shown"
    );

    // the example's key, with a stray line after it
    let c = Cluster::healthy();
    let example_key = c.parent.join("secrets-example/key.txt");
    let line = key_text("age-b").lines().count() + 1;
    fs::write(&example_key, format!("{}  # indented\n", key_text("age-b"))).unwrap();
    let (code, report, _) = c.doctor(&[]);
    assert_eq!(code, 1, "{report:#}");
    assert_check(
        &report,
        "example.matches",
        "fail",
        Some(&format!("line {line} of")),
    );
    assert_eq!(
        check(&report, "example.matches")["message"],
        format!(
            "secrets-example/key.txt is refused (line {line} is not an age secret key): the example cannot be decrypted"
        )
        .as_str()
    );
    // a real key next to a stray line is still a real key
    fs::write(&example_key, format!("{}junk\n", key_text("age-a"))).unwrap();
    let (_, report, _) = c.doctor(&[]);
    let m = check(&report, "example.matches")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(m.contains("key.txt is a real key"), "{m}");
}
