//! `git secrets hooks install|uninstall`: the guards block each leak class on a real
//! `git commit` / `git push` and let a clean one through; an existing hook keeps
//! running and comes back on uninstall; core.hooksPath is honoured.

mod common;

use base64::Engine;
use common::cluster::{key_text, Cluster, TOKEN};
use std::fs;
use std::process::Output;

/// Stages `rel` with `text` in the parent of `c` and tries to commit; returns the
/// commit's output.
fn try_commit(c: &Cluster, rel: &str, text: &str) -> Output {
    fs::write(c.parent.join(rel), text).unwrap();
    c.git(&c.parent, &["add", "-f", rel]);
    c.git_hooked(&c.parent, &["commit", "-qm", rel])
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string() + &String::from_utf8_lossy(&o.stdout)
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn pre_commit_blocks_each_leak_class_and_passes_a_clean_commit() {
    let c = Cluster::builder()
        .with_kubeconfig()
        .with_example()
        .with_hooks()
        .build();
    // clean
    let out = try_commit(&c, "README.md", "# cluster\n");
    assert!(out.status.success(), "{}", stderr(&out));
    // a plaintext value of a secret
    let out = try_commit(&c, "ci.env", &format!("TOKEN={TOKEN}\n"));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("staged.plaintext"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains(TOKEN));
    c.git(&c.parent, &["rm", "-q", "--cached", "ci.env"]);
    // a sops-encrypted file copied out of the secrets repo
    let enc = fs::read_to_string(c.inner.join("secrets/kubeconfig.json")).unwrap();
    let out = try_commit(&c, "kubeconfig.json", &enc);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("staged.sops"), "{}", stderr(&out));
    c.git(&c.parent, &["rm", "-q", "--cached", "kubeconfig.json"]);
    // a private age key
    let out = try_commit(&c, "key.txt", &key_text("age-a"));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("staged.age-key"), "{}", stderr(&out));
    c.git(&c.parent, &["rm", "-q", "--cached", "key.txt"]);
    // the nested repo as a gitlink
    c.git(&c.parent, &["add", "-f", "secrets"]);
    let out = c.git_hooked(&c.parent, &["commit", "-qm", "gitlink"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("staged.dir"), "{}", stderr(&out));
    c.git(&c.parent, &["rm", "-q", "-f", "--cached", "secrets"]);
    // the example's own key and sops files are public on purpose
    let ex = c.parent.join("secrets-example/key.txt");
    fs::write(&ex, fs::read_to_string(&ex).unwrap() + "# touched\n").unwrap();
    c.git(&c.parent, &["add", "secrets-example"]);
    let out = c.git_hooked(&c.parent, &["commit", "-qm", "example"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn pre_push_blocks_a_leak_in_the_pushed_range_and_passes_a_clean_push() {
    let c = Cluster::healthy();
    c.add_remote(&c.parent, "origin", "cluster");
    c.cmd(&["hooks", "install"]).assert().success();
    let out = c.git_hooked(&c.parent, &["push", "-q", "origin", "main"]);
    assert!(out.status.success(), "clean first push: {}", stderr(&out));
    // a leak committed without the pre-commit guard, then removed again
    fs::write(c.parent.join("notes.txt"), format!("{TOKEN}\n")).unwrap();
    c.git(&c.parent, &["add", "notes.txt"]);
    c.git(&c.parent, &["commit", "-qm", "notes", "--no-verify"]);
    c.git(&c.parent, &["rm", "-q", "notes.txt"]);
    let out = c.git_hooked(&c.parent, &["commit", "-qm", "rm notes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = c.git_hooked(&c.parent, &["push", "-q", "origin", "main"]);
    assert!(!out.status.success(), "the leak was pushed");
    assert!(
        stderr(&out).contains("history.plaintext"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("notes.txt"), "{}", stderr(&out));
    // a new branch without the leak pushes fine
    c.git(&c.parent, &["switch", "-q", "-c", "clean", "origin/main"]);
    fs::write(c.parent.join("README.md"), "ok\n").unwrap();
    c.git(&c.parent, &["add", "README.md"]);
    let out = c.git_hooked(&c.parent, &["commit", "-qm", "readme"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = c.git_hooked(&c.parent, &["push", "-q", "origin", "clean"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn an_existing_hook_still_runs_and_uninstall_restores_it() {
    let c = Cluster::healthy();
    let hooks = c.parent.join(".git/hooks");
    fs::create_dir_all(&hooks).unwrap();
    let mine = hooks.join("pre-commit");
    let script = "#!/bin/sh\necho ran >> \"$(git rev-parse --git-dir)/mine-ran\"\n";
    common::write_script(&mine, script);
    c.cmd(&["hooks", "install"]).assert().success();
    let out = try_commit(&c, "README.md", "hi\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        c.parent.join(".git/mine-ran").is_file(),
        "the saved hook did not run"
    );
    // the saved hook failing blocks the commit too
    common::write_script(
        &hooks.join("pre-commit.git-secrets-saved"),
        "#!/bin/sh\nexit 3\n",
    );
    let out = try_commit(&c, "README.md", "hi again\n");
    assert!(!out.status.success());
    fs::write(hooks.join("pre-commit.git-secrets-saved"), script).unwrap();
    c.cmd(&["hooks", "uninstall"]).assert().success();
    assert_eq!(fs::read_to_string(&mine).unwrap(), script);
    assert!(!hooks.join("pre-push").exists());
    assert!(!hooks.join("pre-commit.git-secrets-saved").exists());
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn core_hooks_path_is_honoured() {
    let c = Cluster::healthy();
    c.git(&c.parent, &["config", "core.hooksPath", ".githooks"]);
    c.cmd(&["hooks", "install"]).assert().success();
    assert!(c.parent.join(".githooks/pre-commit").is_file());
    assert!(!c.parent.join(".git/hooks/pre-commit").exists());
    let out = try_commit(&c, "ci.env", &format!("TOKEN={TOKEN}\n"));
    assert!(
        !out.status.success(),
        "the guard in core.hooksPath did not run"
    );
    c.cmd(&["hooks", "uninstall"]).assert().success();
    assert!(!c.parent.join(".githooks/pre-commit").exists());
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Each leak that used to get past the pre-commit guard (issue 16.7) is blocked, and by
/// the check that names it; the public example stays committable.
#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn pre_commit_blocks_the_leaks_that_used_to_get_through() {
    let c = Cluster::healthy();
    // a secret whose map key is a value typed where a key goes
    c.encrypt_in_place(&c.inner, "secrets/db.json", r#"{"SuperSecretP4ss": "x"}"#);
    c.cmd(&["hooks", "install"]).assert().success();
    let key = key_text("age-a");
    let key_line = key
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap();
    let (head, tail) = key_line.split_at(38);
    let ssh = common::ssh_key_text();
    let cases: Vec<(&str, String, &str)> = vec![
        ("lower.txt", key.to_lowercase(), "staged.age-key"),
        ("split.txt", format!("{head}\n{tail}\n"), "staged.age-key"),
        (
            "split.nix",
            format!("{{ key = \"{head}\"\n    + \"{tail}\"; }}\n"),
            "staged.age-key",
        ),
        (
            "secret.yaml",
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: ci\ndata:\n  token: {}\n",
                b64(TOKEN)
            ),
            "staged.plaintext",
        ),
        (
            "b64-offset-1.txt",
            b64(&format!("x{TOKEN}\n")),
            "staged.plaintext",
        ),
        (
            "b64-offset-2.txt",
            b64(&format!("t={TOKEN}\n")),
            "staged.plaintext",
        ),
        ("deploy_key", ssh.clone(), "staged.private-key"),
        (
            "flux-sops-age.yaml",
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-age\n  namespace: flux-system\ndata:\n  age.agekey: {}\n",
                b64(&key)
            ),
            "staged.age-key",
        ),
        (
            "db.nix",
            "{ password = \"SuperSecretP4ss\"; }\n".into(),
            "staged.plaintext",
        ),
    ];
    let mut problems: Vec<String> = Vec::new();
    for (file, text, id) in &cases {
        let out = try_commit(&c, file, text);
        let err = stderr(&out);
        if out.status.success() {
            problems.push(format!("{file}: committed"));
            c.git(&c.parent, &["reset", "-q", "--soft", "HEAD~"]);
        } else if !err.contains(id) {
            problems.push(format!("{file}: not blocked by {id}:\n{err}"));
        }
        assert!(
            !err.contains(TOKEN) && !err.contains(tail),
            "{file}: echoed\n{err}"
        );
        c.git(&c.parent, &["rm", "-q", "--cached", file]);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The real key copied into the example's key.txt: nothing of the example is allowed
/// then, and `example` refuses to publish with it.
#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_real_key_as_the_examples_key_is_refused() {
    let c = Cluster::builder()
        .with_kubeconfig()
        .with_example()
        .with_hooks()
        .build();
    let key = key_text("age-a");
    let ex = c.parent.join("secrets-example/key.txt");
    fs::write(&ex, &key).unwrap();
    c.git(&c.parent, &["add", "secrets-example/key.txt"]);
    let out = c.git_hooked(&c.parent, &["commit", "-qm", "example key"]);
    let err = stderr(&out);
    assert!(
        !out.status.success(),
        "the real key was committed as the example's\n{err}"
    );
    assert!(err.contains("staged.age-key"), "{err}");
    assert!(
        err.contains("key.txt decrypts the real secret kubeconfig"),
        "{err}"
    );
    // and `example` refuses to publish with it
    let out = c.cmd(&["example"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("is a real key: it decrypts"),
        "{}",
        stderr(&out)
    );
}

/// The pre-push guard scans what the remote pushed to lacks, not what any remote has:
/// a leak already on a private mirror is still a leak on the public remote (16.6).
#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn pre_push_scans_against_the_remote_pushed_to_not_any_remote() {
    let c = Cluster::healthy();
    c.add_remote(&c.parent, "mirror", "mirror");
    let url = c.add_remote(&c.parent, "public", "public");
    c.cmd(&["hooks", "install"]).assert().success();
    fs::write(c.parent.join("notes.txt"), format!("{TOKEN}\n")).unwrap();
    c.git(&c.parent, &["add", "notes.txt"]);
    c.git(&c.parent, &["commit", "-qm", "notes", "--no-verify"]);
    // on the private mirror already (its hook skipped)
    c.git(&c.parent, &["push", "-q", "--no-verify", "mirror", "main"]);
    let out = c.git_hooked(&c.parent, &["push", "-q", "public", "main"]);
    assert!(
        !out.status.success(),
        "the leak went to the public remote: {}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("history.plaintext"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("notes.txt"), "{}", stderr(&out));
    // pushing it to a URL (no remote-tracking refs) is scanned in full too
    let out = c.git_hooked(&c.parent, &["push", "-q", url.to_str().unwrap(), "main"]);
    assert!(!out.status.success(), "pushed by URL: {}", stderr(&out));
    // what the public remote has is not scanned again: a clean branch on top of it goes
    c.git(&c.parent, &["switch", "-q", "--orphan", "clean"]);
    fs::write(c.parent.join("README.md"), "ok\n").unwrap();
    c.git(&c.parent, &["add", "README.md"]);
    c.git(&c.parent, &["commit", "-qm", "clean", "--no-verify"]);
    let out = c.git_hooked(&c.parent, &["push", "-q", "public", "clean"]);
    assert!(out.status.success(), "{}", stderr(&out));
    fs::write(c.parent.join("README.md"), "ok again\n").unwrap();
    c.git(&c.parent, &["commit", "-qam", "more", "--no-verify"]);
    c.git(&c.parent, &["switch", "-q", "-c", "topic"]);
    let out = c.git_hooked(&c.parent, &["push", "-q", "public", "topic"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // and a clean push by URL goes through (a URL has no remote-tracking refs)
    let out = c.git_hooked(
        &c.parent,
        &["push", "-q", url.to_str().unwrap(), "topic:by-url"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// The hooks run the binary they were installed with, whatever PATH a GUI client or a
/// bare shell gives `git commit` (on it, awslabs/git-secrets may answer `git secrets`).
#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn hooks_work_with_a_bare_path_and_doctor_checks_the_baked_binary() {
    let c = Cluster::healthy();
    // install through a stable name on PATH, as ~/.cargo/bin or a Nix profile gives
    let bin = c.env.root().join("bin");
    fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(common::bin(), bin.join("git-secrets")).unwrap();
    let mut install = c.cmd(&["hooks", "install"]);
    install.env("PATH", c.path_var(Some(&bin)));
    install.assert().success();
    let bare = |args: &[&str]| {
        c.env
            .git_cmd(&c.parent, args)
            .env("PATH", "/usr/bin:/bin")
            .output()
            .unwrap()
    };
    fs::write(c.parent.join("README.md"), "# cluster\n").unwrap();
    c.git(&c.parent, &["add", "README.md"]);
    let out = bare(&["commit", "-qm", "readme"]);
    assert!(
        out.status.success(),
        "clean commit blocked: {}",
        stderr(&out)
    );
    fs::write(c.parent.join("ci.env"), format!("TOKEN={TOKEN}\n")).unwrap();
    c.git(&c.parent, &["add", "ci.env"]);
    let out = bare(&["commit", "-qm", "leak"]);
    assert!(!out.status.success(), "leak committed: {}", stderr(&out));
    assert!(
        stderr(&out).contains("staged.plaintext"),
        "{}",
        stderr(&out)
    );
    c.git(&c.parent, &["rm", "-q", "--cached", "ci.env"]);
    let hook = fs::read_to_string(c.parent.join(".git/hooks/pre-commit")).unwrap();
    assert!(
        hook.contains(&bin.join("git-secrets").display().to_string()),
        "{hook}"
    );
    let (_, report, _) = c.doctor(&[]);
    let hooks = common::cluster::check(&report, "hooks.installed");
    assert_eq!(hooks["status"], "ok", "{hooks:#}");
    // the binary moved away: the hook fails closed and says why; doctor names it
    fs::remove_file(bin.join("git-secrets")).unwrap();
    let out = bare(&["commit", "-qm", "readme", "--allow-empty"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("git secrets hooks install"),
        "{}",
        stderr(&out)
    );
    let (code, report, _) = c.doctor(&[]);
    assert_eq!(code, 1);
    common::cluster::assert_check(
        &report,
        "hooks.installed",
        "fail",
        Some("git secrets hooks install"),
    );
    // installing again bakes the binary in use now
    c.cmd(&["hooks", "install"]).assert().success();
    let out = bare(&["commit", "-qm", "empty", "--allow-empty"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A value that looks like a name (a URL, a namespace) only warns, with the command that
/// marks it public; `allow` records it in the committed allowlist, which the hooks and
/// doctor then honour; a credential keeps blocking and cannot be allowed by accident.
#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn names_warn_and_allow_marks_them_public_while_credentials_block() {
    let c = Cluster::builder()
        .with_kubeconfig()
        .with_example()
        .with_hooks()
        .build();
    let server = "https://k8s.example.invalid:6443";
    let nix = format!("{{ kubernetes.api.server = \"{server}\"; }}\n");
    let out = try_commit(&c, "api.nix", &nix);
    let err = stderr(&out);
    assert!(out.status.success(), "a name blocked the commit: {err}");
    assert!(err.contains("staged.names"), "{err}");
    assert!(err.contains("git secrets allow kubeconfig:server"), "{err}");
    // allow it: the file is written and staged, and the warning is gone
    let out = c.cmd(&["allow", "kubeconfig:server"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        c.git(&c.parent, &["diff", "--cached", "--name-only"]),
        ".git-secrets-allow"
    );
    assert!(fs::read_to_string(c.parent.join(".git-secrets-allow"))
        .unwrap()
        .contains("\nkubeconfig:server\n"));
    let (code, report, _) = c.doctor(&["--staged"]);
    assert_eq!(code, 0);
    common::cluster::assert_check(&report, "staged.names", "ok", None);
    let (_, report, _) = c.doctor(&["--history"]);
    common::cluster::assert_check(&report, "history.names", "ok", None);
    let allow = common::cluster::check(&report, "allow.list");
    assert_eq!(allow["status"], "ok", "{allow:#}");
    assert!(allow["message"]
        .as_str()
        .unwrap()
        .contains("kubeconfig:server"));
    let out = c.cmd(&["allow"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "kubeconfig:server\n");
    // a credential: blocks, says to revoke, and `allow` refuses it without --force
    let out = try_commit(&c, "ci.env", &format!("TOKEN={TOKEN}\n"));
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("revoke the old value at its provider"),
        "{}",
        stderr(&out)
    );
    c.git(&c.parent, &["rm", "-q", "--cached", "ci.env"]);
    let before = fs::read(c.parent.join(".git-secrets-allow")).unwrap();
    for args in [
        &["allow", "kubeconfig:token"][..],
        &["allow", "kubeconfig:nope"],
        &["allow", "no-colon"],
    ] {
        let out = c.cmd(args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(stderr(&out).contains("hint:"), "{args:?}: {}", stderr(&out));
    }
    assert_eq!(
        fs::read(c.parent.join(".git-secrets-allow")).unwrap(),
        before
    );
    c.cmd(&["allow", "--remove", "kubeconfig:server"])
        .assert()
        .success();
    let (_, report, _) = c.doctor(&[]);
    common::cluster::assert_check(&report, "allow.list", "ok", None);
}

/// The `git restore --staged` hints of `doctor --staged` work when pasted into a shell
/// for staged paths with a space, a `'`, or a leading `-`: each path is one quoted word
/// after `--` (staged.age-key and staged.plaintext both).
#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn the_unstage_hint_works_pasted_for_a_path_with_a_space_and_a_quote() {
    let c = Cluster::builder().with_kubeconfig().with_example().build();
    fs::create_dir_all(c.parent.join("my dir")).unwrap();
    for (rel, text) in [
        ("my dir/it's a key.txt", key_text("age-a")),
        ("-n.env", format!("TOKEN={TOKEN}\n")),
    ] {
        fs::write(c.parent.join(rel), text).unwrap();
        c.git(&c.parent, &["add", "-f", "--", rel]);
    }
    let (code, report, _) = c.doctor(&["--staged"]);
    assert_eq!(code, 1, "{report:#}");
    for id in ["staged.age-key", "staged.plaintext"] {
        let hints = common::cluster::check(&report, id)["hints"].clone();
        let hint = hints
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|h| h.as_str())
            .find_map(|h| h.strip_prefix("unstage: "))
            .unwrap_or_else(|| panic!("{id}: no unstage hint: {hints:#}"))
            .to_string();
        let out = c
            .env
            .command("sh")
            .args(["-c", &hint])
            .current_dir(&c.parent)
            .output()
            .unwrap();
        assert!(out.status.success(), "{id}: {hint}: {}", stderr(&out));
    }
    assert_eq!(c.git(&c.parent, &["diff", "--cached", "--name-only"]), "");
    assert!(c.parent.join("my dir/it's a key.txt").exists());
}
