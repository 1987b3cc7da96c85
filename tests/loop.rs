//! The daily loop against real tools: `rotate`, `add`, `rekey`, `list` in a parent
//! flake with a nested secrets repo (real git, real sops 3.11, real Nix 2.8 offline),
//! plus a fake newer `nix` that records how it is called.

mod common;

use common::cluster::{age_a, age_b, Cluster, INPUT};
use git_secrets::repo_lock::RepoLock;
use git_secrets::sops::file::load;
use git_secrets::sops::keys::Identities;
use std::path::Path;
use std::time::Duration;

const KUBE_JSON: &str = "{\n\t\"apiVersion\": \"v1\",\n\t\"token\": \"old-token\",\n\t\"server\": \"https://old.example.invalid\"\n}\n";
const KUBE_JSON_NEW: &str = "{\n\t\"apiVersion\": \"v1\",\n\t\"token\": \"new-token\",\n\t\"server\": \"https://new.example.invalid\"\n}\n";
const DB_JSON: &str = "{\n\t\"password\": \"hunter2\",\n\t\"user\": \"app\"\n}\n";

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn identities(key: &str) -> Identities {
    Identities::from_age_text(&common::key_text(key), key)
}

/// Every `ENC[…]` value of a file, in order.
fn enc_values(text: &str) -> Vec<String> {
    text.match_indices("ENC[AES256_GCM")
        .map(|(i, _)| text[i..].split(']').next().unwrap().to_string())
        .collect()
}

/// The state an error must leave untouched.
struct Snapshot {
    inner_head: String,
    lock: Vec<u8>,
    files: Vec<(String, Vec<u8>)>,
}

impl Snapshot {
    fn take(c: &Cluster, files: &[&str]) -> Snapshot {
        Snapshot {
            inner_head: c.inner_head(),
            lock: std::fs::read(c.parent.join("flake.lock")).unwrap(),
            files: files
                .iter()
                .map(|f| (f.to_string(), std::fs::read(c.secret(f)).unwrap()))
                .collect(),
        }
    }

    fn assert_unchanged(&self, c: &Cluster, what: &str) {
        assert_eq!(c.inner_head(), self.inner_head, "{what}: inner HEAD moved");
        assert_eq!(
            std::fs::read(c.parent.join("flake.lock")).unwrap(),
            self.lock,
            "{what}: flake.lock changed"
        );
        for (f, bytes) in &self.files {
            assert_eq!(
                &std::fs::read(c.secret(f)).unwrap(),
                bytes,
                "{what}: {f} changed"
            );
        }
    }
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn rotate_from_file_commits_relocks_and_nix_sees_the_new_ciphertext() {
    let c = Cluster::new(&[("kubeconfig.json", KUBE_JSON)]);
    let before = c.inner_head();
    let new = c.env.write("new.json", KUBE_JSON_NEW);
    let out = c
        .cmd(&[
            "rotate",
            "kubeconfig",
            "--from",
            new.to_str().unwrap(),
            "--offline",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(out.stdout.is_empty());

    // real sops reads the new value
    assert_eq!(c.sops_decrypt("kubeconfig.json").unwrap(), KUBE_JSON_NEW);
    // the inner repo moved by one commit holding only that file, and is clean
    let head = c.inner_head();
    assert_ne!(head, before);
    assert_eq!(c.git(&c.inner, &["rev-parse", "HEAD~1"]), before);
    assert_eq!(
        c.git(&c.inner, &["log", "-1", "--format=%s"]),
        "rotate kubeconfig"
    );
    assert_eq!(
        c.git(&c.inner, &["show", "--name-only", "--format=", "HEAD"]),
        "secrets/kubeconfig.json"
    );
    assert_eq!(c.git(&c.inner, &["status", "--porcelain"]), "");
    // the lock follows, the parent's flake.lock is left modified with a hint
    assert_eq!(c.locked_rev(), head);
    assert_eq!(
        c.git(&c.parent, &["status", "--porcelain"]),
        " M flake.lock"
    );
    assert!(err.contains("--commit-parent"), "{err}");
    // and Nix, reading through the lock, sees the new ciphertext
    let on_disk = std::fs::read_to_string(c.secret("kubeconfig.json")).unwrap();
    assert_eq!(c.nix_eval_text("kubeconfig"), on_disk);
    assert!(on_disk.contains("ENC["));
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn rotate_without_a_source_changes_the_data_key_and_ciphertext_not_the_value() {
    let c = Cluster::new(&[("kubeconfig.json", KUBE_JSON)]);
    let ids = identities("age-a");
    let old = load(&c.secret("kubeconfig.json"), None).unwrap();
    let old_key = old.data_key(&ids).unwrap();
    let old_text = std::fs::read_to_string(c.secret("kubeconfig.json")).unwrap();

    c.cmd(&["rotate", "kubeconfig", "--offline"])
        .assert()
        .success();

    let new = load(&c.secret("kubeconfig.json"), None).unwrap();
    assert_ne!(&new.data_key(&ids).unwrap()[..], &old_key[..]);
    assert_eq!(new.metadata.age_recipients(), vec![age_a().as_str()]);
    let new_text = std::fs::read_to_string(c.secret("kubeconfig.json")).unwrap();
    let (a, b) = (enc_values(&old_text), enc_values(&new_text));
    assert_eq!(a.len(), b.len());
    assert!(
        a.iter().zip(&b).all(|(x, y)| x != y),
        "every value re-encrypted"
    );
    assert_eq!(c.sops_decrypt("kubeconfig.json").unwrap(), KUBE_JSON);
    assert_eq!(c.locked_rev(), c.inner_head());
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn rotate_set_changes_one_field_and_keeps_the_others_ciphertext() {
    let c = Cluster::new(&[("db.json", DB_JSON)]);
    let old_text = std::fs::read_to_string(c.secret("db.json")).unwrap();
    c.cmd(&[
        "rotate",
        "db",
        "--set",
        "password=s3cret",
        "--set",
        r#"["port"]=5432"#,
        "--no-lock",
    ])
    .assert()
    .success();
    let plain: serde_json::Value =
        serde_json::from_str(&c.sops_decrypt("db.json").unwrap()).unwrap();
    assert_eq!(plain["password"], "s3cret");
    assert_eq!(plain["user"], "app");
    assert_eq!(plain["port"], 5432.0);
    let new_text = std::fs::read_to_string(c.secret("db.json")).unwrap();
    let user = |t: &str| {
        t.lines()
            .find(|l| l.contains("\"user\""))
            .unwrap()
            .to_string()
    };
    assert_eq!(
        user(&old_text),
        user(&new_text),
        "unchanged value keeps its ciphertext"
    );
    assert_eq!(c.git(&c.inner, &["status", "--porcelain"]), "");
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn newer_nix_gets_flake_update_and_nix_2_8_never_does() {
    let c = Cluster::new(&[("kubeconfig.json", KUBE_JSON)]);
    for version in ["nix (Nix) 2.24.9", "nix (Lix, like Nix) 2.91.1"] {
        let (fake, log) = c.fake_nix(version);
        let _ = std::fs::remove_file(&log);
        c.cmd(&["rotate", "kubeconfig"])
            .env("GIT_SECRETS_NIX", &fake)
            .assert()
            .success();
        let calls = std::fs::read_to_string(&log).unwrap();
        assert_eq!(
            calls,
            format!("--extra-experimental-features nix-command flakes flake update {INPUT}\n"),
            "{version}"
        );
        assert_eq!(c.locked_rev(), c.inner_head());
    }
    // the fakes' lock files are not real ones; start the real Nix from the committed lock
    c.git(&c.parent, &["checkout", "flake.lock"]);
    // the real Nix 2.8 behind a recording wrapper: the old form only
    let (wrapper, log) = c
        .env
        .recording_wrapper("real-nix", &Cluster::real_nix_path());
    c.cmd(&["rotate", "kubeconfig", "--offline"])
        .env("GIT_SECRETS_NIX", &wrapper)
        .assert()
        .success();
    let calls = std::fs::read_to_string(&log).unwrap();
    let version = c.nix().arg("--version").output().unwrap();
    if String::from_utf8_lossy(&version.stdout).contains(" 2.8.") {
        assert!(
            calls.contains(&format!("flake lock --update-input {INPUT} --offline")),
            "{calls}"
        );
        assert!(!calls.contains("flake update"), "{calls}");
    }
    assert_eq!(c.locked_rev(), c.inner_head());
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn bad_input_is_refused_before_anything_changes() {
    let c = Cluster::new(&[("kubeconfig.json", KUBE_JSON), ("db.json", DB_JSON)]);
    let snap = Snapshot::take(&c, &["kubeconfig.json", "db.json"]);
    c.env.write("bad.json", "{ not json");
    let bad = c.env.root().join("bad.json");
    let missing = c.env.root().join("missing.json");
    let cases: Vec<(&str, Vec<&str>, i32, &str)> = vec![
        (
            "unknown name",
            vec!["rotate", "nope", "--offline"],
            2,
            "no secret named 'nope'",
        ),
        (
            "invalid name",
            vec!["rotate", "../x"],
            2,
            "invalid secret name",
        ),
        (
            "invalid content",
            vec!["rotate", "kubeconfig", "--from", bad.to_str().unwrap()],
            1,
            "is not valid",
        ),
        (
            "missing file",
            vec!["rotate", "kubeconfig", "--from", missing.to_str().unwrap()],
            1,
            "cannot read",
        ),
        (
            "bad --set",
            vec!["rotate", "db", "--set", "password"],
            2,
            "has no '='",
        ),
        (
            "add an existing name",
            vec!["add", "db", "--from", bad.to_str().unwrap()],
            2,
            "already exists",
        ),
    ];
    for (what, args, code, needle) in cases {
        let out = c.cmd(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{what}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(needle), "{what}: {err}");
        assert!(err.contains("hint:"), "{what}: {err}");
        snap.assert_unchanged(&c, what);
    }
    // unrelated staged changes in the inner repo: refused, and left staged
    std::fs::write(c.inner.join("notes.txt"), "wip\n").unwrap();
    c.git(&c.inner, &["add", "notes.txt"]);
    let out = c
        .cmd(&["rotate", "kubeconfig", "--offline"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("other staged changes: notes.txt"), "{err}");
    snap.assert_unchanged(&c, "foreign staged");
    assert_eq!(c.git(&c.inner, &["status", "--porcelain"]), "A  notes.txt");
}

/// Runs `rotate kubeconfig --from FROM --offline`; asserts it succeeds saying `says`.
#[track_caller]
fn rotate_from_says(c: &Cluster, from: &str, says: &str) {
    let out = c
        .cmd(&["rotate", "kubeconfig", "--from", from, "--offline"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains(says), "{}", stderr(&out));
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_rerun_finishes_what_a_crash_left_undone() {
    let c = Cluster::new(&[("kubeconfig.json", KUBE_JSON)]);
    let new = c.env.write("new.json", KUBE_JSON_NEW);
    let from = new.to_str().unwrap();
    // killed between write and commit (what --no-commit leaves behind)
    let before = c.inner_head();
    c.cmd(&["rotate", "kubeconfig", "--from", from, "--no-commit"])
        .assert()
        .success();
    assert_eq!(c.inner_head(), before);
    assert_eq!(
        c.git(&c.inner, &["status", "--porcelain"]),
        " M secrets/kubeconfig.json"
    );
    let written = std::fs::read(c.secret("kubeconfig.json")).unwrap();
    // the same command again commits it (without re-encrypting) and locks
    rotate_from_says(&c, from, "already holds this value");
    assert_eq!(std::fs::read(c.secret("kubeconfig.json")).unwrap(), written);
    assert_ne!(c.inner_head(), before);
    assert_eq!(c.git(&c.inner, &["status", "--porcelain"]), "");
    assert_eq!(c.locked_rev(), c.inner_head());

    // killed between commit and lock (what --no-lock leaves): the rerun relocks
    let newer = c.env.write("newer.json", KUBE_JSON);
    let from = newer.to_str().unwrap();
    c.cmd(&["rotate", "kubeconfig", "--from", from, "--no-lock"])
        .assert()
        .success();
    assert_ne!(c.locked_rev(), c.inner_head());
    let head = c.inner_head();
    rotate_from_says(&c, from, "already committed");
    assert_eq!(c.inner_head(), head);
    assert_eq!(c.locked_rev(), head);
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn commit_parent_commits_only_flake_lock() {
    let c = Cluster::new(&[("kubeconfig.json", KUBE_JSON)]);
    std::fs::write(c.parent.join("README"), "wip\n").unwrap();
    c.git(&c.parent, &["add", "README"]);
    let before = c.parent_head();
    c.cmd(&["rotate", "kubeconfig", "--offline", "--commit-parent"])
        .assert()
        .success();
    assert_eq!(c.git(&c.parent, &["rev-parse", "HEAD~1"]), before);
    assert_eq!(
        c.git(&c.parent, &["show", "--name-only", "--format=", "HEAD"]),
        "flake.lock"
    );
    assert_eq!(c.git(&c.parent, &["status", "--porcelain"]), "A  README");
    assert_eq!(c.locked_rev(), c.inner_head());
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn list_json_names_files_recipients_last_change_and_decryptability() {
    let c = Cluster::new(&[("kubeconfig.json", KUBE_JSON), ("db.json", DB_JSON)]);
    c.cmd(&[
        "rotate",
        "db",
        "--set",
        "user=ops",
        "--no-lock",
        "-m",
        "db user",
    ])
    .assert()
    .success();
    std::fs::write(c.secret("broken.json"), "{}\n").unwrap();
    let out = c.cmd(&["list", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], 1);
    let s = v["secrets"].as_array().unwrap();
    let names: Vec<&str> = s.iter().map(|x| x["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["broken", "db", "kubeconfig"]);
    let db = &s[1];
    assert_eq!(db["file"], "secrets/secrets/db.json");
    assert_eq!(db["format"], "json");
    assert_eq!(db["recipients"], serde_json::json!([age_a()]));
    assert_eq!(db["can_decrypt"], true);
    assert_eq!(db["last_change"]["summary"], "db user");
    assert_eq!(db["last_change"]["commit"], c.inner_head());
    assert_eq!(db["last_change"]["time"], "2023-11-14T22:13:20Z");
    assert_eq!(s[2]["last_change"]["summary"], "secrets");
    assert!(s[0]["error"]
        .as_str()
        .unwrap()
        .contains("metadata not found"));
    assert_eq!(s[0]["last_change"], serde_json::Value::Null);
    assert_eq!(s[0]["can_decrypt"], false);

    // without the key: listed, but not decryptable
    std::fs::remove_file(c.env.config().join("sops/age/keys.txt")).unwrap();
    let out = c.cmd(&["list"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let header = text.lines().next().unwrap();
    assert!(
        header.starts_with("NAME") && header.contains("LAST CHANGE"),
        "{text}"
    );
    let db = text.lines().find(|l| l.starts_with("db ")).unwrap();
    assert!(db.contains(" no ") && db.contains("db user"), "{text}");
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_second_command_waits_for_the_lock_then_fails_clearly() {
    let c = Cluster::new(&[("kubeconfig.json", KUBE_JSON)]);
    let snap = Snapshot::take(&c, &["kubeconfig.json"]);
    let held = RepoLock::acquire(&c.inner.join(".git"), Duration::ZERO, || {}).unwrap();
    let out = c
        .cmd(&["rotate", "kubeconfig", "--offline"])
        .env("GIT_SECRETS_LOCK_TIMEOUT", "0.5")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("waiting for another git-secrets command"),
        "{err}"
    );
    assert!(
        err.contains("another git-secrets command is still changing"),
        "{err}"
    );
    snap.assert_unchanged(&c, "lock held");
    drop(held);
    c.cmd(&["rotate", "kubeconfig", "--offline"])
        .assert()
        .success();
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn two_concurrent_rotates_of_different_secrets_both_land() {
    let c = Cluster::new(&[("kubeconfig.json", KUBE_JSON), ("db.json", DB_JSON)]);
    c.env.write("k.json", KUBE_JSON_NEW);
    c.env.write("d.json", "{\n\t\"password\": \"changed\"\n}\n");
    let k = c.env.root().join("k.json");
    let d = c.env.root().join("d.json");
    let spawn = |name: &str, from: &Path| {
        let mut cmd = c.env.command(common::bin());
        cmd.current_dir(&c.parent)
            .args(["rotate", name, "--offline", "--from"])
            .arg(from)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd.spawn().unwrap()
    };
    let (a, b) = (spawn("kubeconfig", &k), spawn("db", &d));
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(c.sops_decrypt("kubeconfig.json").unwrap(), KUBE_JSON_NEW);
    assert_eq!(
        c.sops_decrypt("db.json").unwrap(),
        "{\n\t\"password\": \"changed\"\n}\n"
    );
    let log = c.git(&c.inner, &["log", "--format=%s"]);
    assert!(
        log.contains("rotate kubeconfig") && log.contains("rotate db"),
        "{log}"
    );
    assert_eq!(c.git(&c.inner, &["status", "--porcelain"]), "");
    assert_eq!(c.locked_rev(), c.inner_head());
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn rotate_kubeconfig_yaml_from_file_end_to_end() {
    let old = "apiVersion: v1\nkind: Config\nusers:\n    admin:\n        token: old-token\n";
    let new =
        "apiVersion: v1\nkind: Config\n# rotated\nusers:\n    admin:\n        token: new-token\n";
    let c = Cluster::new(&[("kubeconfig.yaml", old)]);
    let before = c.inner_head();
    let from = c.env.write("new.yaml", new);
    c.cmd(&[
        "rotate",
        "kubeconfig",
        "--from",
        from.to_str().unwrap(),
        "--offline",
    ])
    .assert()
    .success();
    assert_eq!(c.sops_decrypt("kubeconfig.yaml").unwrap(), new);
    assert_ne!(c.inner_head(), before);
    assert_eq!(c.git(&c.inner, &["status", "--porcelain"]), "");
    assert_eq!(c.locked_rev(), c.inner_head());
    let on_disk = std::fs::read_to_string(c.secret("kubeconfig.yaml")).unwrap();
    assert_eq!(c.nix_eval_text("kubeconfig"), on_disk);
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn rotate_edit_runs_the_editor_and_commits() {
    let c = Cluster::new(&[("kubeconfig.json", KUBE_JSON)]);
    let before = c.inner_head();
    c.cmd(&["rotate", "kubeconfig", "--edit", "--no-lock"])
        .env("EDITOR", "sed -i s/old-token/edited-token/")
        .assert()
        .success();
    assert_eq!(
        c.sops_decrypt("kubeconfig.json").unwrap(),
        KUBE_JSON.replace("old-token", "edited-token")
    );
    assert_ne!(c.inner_head(), before);
    // an editor that changes nothing: nothing to commit
    let head = c.inner_head();
    c.cmd(&["rotate", "kubeconfig", "--edit", "--no-lock"])
        .env("EDITOR", "true")
        .assert()
        .success();
    assert_eq!(c.inner_head(), head);
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn add_encrypts_per_sops_yaml_commits_and_relocks() {
    let c = Cluster::new(&[("kubeconfig.json", KUBE_JSON)]);
    c.env.write("db.json", DB_JSON);
    let from = c.env.root().join("db.json");
    let out = c
        .cmd(&["add", "db", "--from", from.to_str().unwrap(), "--offline"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(c.sops_decrypt("db.json").unwrap(), DB_JSON);
    assert_eq!(c.git(&c.inner, &["log", "-1", "--format=%s"]), "add db");
    assert_eq!(c.git(&c.inner, &["status", "--porcelain"]), "");
    assert_eq!(c.locked_rev(), c.inner_head());
    // the same add again finishes nothing new; a different value is refused
    c.cmd(&["add", "db", "--from", from.to_str().unwrap(), "--offline"])
        .assert()
        .success();
    c.env.write("other.json", KUBE_JSON);
    let other = c.env.root().join("other.json");
    let out = c
        .cmd(&["add", "db", "--from", other.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("already exists"));
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn rekey_adds_and_removes_recipients_keeping_sops_yaml_comments() {
    let c = Cluster::new(&[("kubeconfig.json", KUBE_JSON), ("db.json", DB_JSON)]);
    let (a, b) = (age_a(), age_b());
    let old_key = load(&c.secret("db.json"), None)
        .unwrap()
        .data_key(&identities("age-a"))
        .unwrap();
    // add b: files re-wrapped for both, same data key, comments kept
    let out = c
        .cmd(&["rekey", "--add-recipient", &b, "--offline"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let yaml = std::fs::read_to_string(c.inner.join(".sops.yaml")).unwrap();
    assert_eq!(yaml, common::cluster::sops_yaml(&format!("{a},{b}")));
    for f in ["db.json", "kubeconfig.json"] {
        let file = load(&c.secret(f), None).unwrap();
        assert_eq!(file.metadata.age_recipients(), vec![a.as_str(), b.as_str()]);
        file.decrypt(&identities("age-b")).unwrap();
    }
    let key = load(&c.secret("db.json"), None)
        .unwrap()
        .data_key(&identities("age-b"))
        .unwrap();
    assert_eq!(&key[..], &old_key[..], "updatekeys keeps the data key");
    assert_eq!(c.git(&c.inner, &["status", "--porcelain"]), "");
    assert_eq!(c.locked_rev(), c.inner_head());

    // remove a: a can no longer decrypt, b can, every data key is new
    c.cmd(&["rekey", "--remove-recipient", &a, "--offline"])
        .assert()
        .success();
    let yaml = std::fs::read_to_string(c.inner.join(".sops.yaml")).unwrap();
    assert_eq!(yaml, common::cluster::sops_yaml(&b));
    for f in ["db.json", "kubeconfig.json"] {
        let file = load(&c.secret(f), None).unwrap();
        assert!(file.decrypt(&identities("age-a")).is_err(), "{f}");
        file.decrypt(&identities("age-b")).unwrap();
    }
    let key = load(&c.secret("db.json"), None)
        .unwrap()
        .data_key(&identities("age-b"))
        .unwrap();
    assert_ne!(&key[..], &old_key[..]);
    assert_eq!(c.git(&c.inner, &["log", "-1", "--format=%s"]), "rekey");
    assert_eq!(c.locked_rev(), c.inner_head());
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn the_inner_commit_runs_the_users_hooks_and_a_rerun_finishes_after_a_refusal() {
    let c = Cluster::new(&[("kubeconfig.json", KUBE_JSON)]);
    let snap = Snapshot::take(&c, &[]);
    let hook = c.inner.join(".git/hooks/pre-commit");
    common::write_script(
        &hook,
        "#!/bin/sh\necho 'pre-commit: no rotations on Fridays' >&2\nexit 1\n",
    );
    let from = c.env.write("new.json", KUBE_JSON_NEW);
    let from = from.to_str().unwrap();
    let out = c
        .cmd(&["rotate", "kubeconfig", "--from", from, "--offline"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no rotations on Fridays"),
        "{}",
        stderr(&out)
    );
    snap.assert_unchanged(&c, "hook refused");
    // the new value is written but not committed; once the hook agrees, a rerun commits it
    std::fs::remove_file(&hook).unwrap();
    c.cmd(&["rotate", "kubeconfig", "--from", from, "--offline"])
        .assert()
        .success();
    assert_eq!(c.sops_decrypt("kubeconfig.json").unwrap(), KUBE_JSON_NEW);
    assert_eq!(c.git(&c.inner, &["status", "--porcelain"]), "");
    assert_eq!(c.locked_rev(), c.inner_head());
}
