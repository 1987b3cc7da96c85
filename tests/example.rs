//! `git secrets example [--check]`: the public twin of the secrets, on real
//! repos with real git, sops and Nix 2.8.

mod common;

use common::cluster::PARENT_FLAKE;
use common::{assert_success, require_tool, TestEnv};
use std::fs;
use std::path::{Path, PathBuf};

const KUBECONFIG: &str = "# the cluster\napiVersion: v1\nclusters:\n    - name: prod\n      server: https://10.9.8.7:6443\ncurrent-context: admin@prod-cluster\nreplicas: 3\nenabled: true\n";
const TOKEN: &str = "hcloud_token: hc0TopSecretTokenValue1234567890\n";

/// A new env with a parent whose secrets repo `init --new` made (with its own key),
/// holding two secrets; fails the test without sops or git.
fn cluster() -> (TestEnv, PathBuf) {
    require_tool("sops");
    require_tool("git");
    let env = TestEnv::new();
    let dir = env.parent_repo(PARENT_FLAKE);
    run_ok(&env, &dir, &["init", "--new", "--yes", "--no-lock"]);
    for (name, text) in [("kubeconfig", KUBECONFIG), ("hcloud-token", TOKEN)] {
        add_secret(&env, &dir, name, text);
    }
    (env, dir)
}

/// Runs our binary with `args` in `dir`; fails the test unless it succeeds.
fn run_ok(env: &TestEnv, dir: &Path, args: &[&str]) {
    let out = env.cmd(args).current_dir(dir).output().unwrap();
    assert_success(&args.join(" "), &out);
}

fn add_secret(env: &TestEnv, dir: &Path, name: &str, text: &str) {
    let inner = dir.join("secrets");
    let rel = format!("secrets/{name}.yaml");
    fs::write(inner.join(&rel), text).unwrap();
    assert_success(
        "encrypt",
        &env.cmd(["encrypt", "-i", &rel])
            .current_dir(&inner)
            .output()
            .unwrap(),
    );
    env.git(&inner, ["add", &rel]);
    env.git(&inner, ["commit", "-qm", name]);
}

fn all_bytes_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(all_bytes_under(&p));
        } else {
            out.push((p.clone(), fs::read(&p).unwrap()));
        }
    }
    out
}

fn sops_decrypt_with_example_key(env: &TestEnv, dir: &Path, file: &str) -> String {
    let out = env
        .sops()
        .unwrap()
        .current_dir(dir)
        .env("SOPS_AGE_KEY_FILE", dir.join("secrets-example/key.txt"))
        .args(["decrypt", file])
        .output()
        .unwrap();
    assert_success("sops decrypt example", &out);
    String::from_utf8(out.stdout).unwrap()
}

#[test]
#[cfg_attr(missing_sops, ignore = "needs sops")]
fn example_has_the_same_shape_no_real_value_and_does_not_churn() {
    let (env, dir) = cluster();
    let out = env.cmd(["example"]).current_dir(&dir).output().unwrap();
    assert_success("example", &out);
    let ex = dir.join("secrets-example");
    assert!(fs::read_to_string(ex.join("key.txt"))
        .unwrap()
        .contains("PUBLIC ON PURPOSE"));
    for f in [
        "flake.nix",
        ".sops.yaml",
        "README.md",
        "secrets/kubeconfig.yaml",
        "secrets/hcloud-token.yaml",
    ] {
        assert!(ex.join(f).is_file(), "{f} missing");
    }

    // No real leaf value anywhere under secrets-example/, in any file, decrypted or not.
    let real_values = [
        "https://10.9.8.7:6443",
        "admin@prod-cluster",
        "hc0TopSecretTokenValue1234567890",
        "prod",
        "v1",
    ];
    let mut texts: Vec<(String, String)> = all_bytes_under(&ex)
        .into_iter()
        .map(|(p, b)| {
            (
                p.display().to_string(),
                String::from_utf8_lossy(&b).into_owned(),
            )
        })
        .collect();
    for f in [
        "secrets-example/secrets/kubeconfig.yaml",
        "secrets-example/secrets/hcloud-token.yaml",
    ] {
        texts.push((
            format!("{f} (decrypted)"),
            sops_decrypt_with_example_key(&env, &dir, f),
        ));
    }
    for (name, text) in &texts {
        for v in real_values {
            assert!(
                !text.contains(&format!(": {v}\n")) && !text.contains(&format!("- {v}\n")),
                "{v} leaked into {name}"
            );
        }
        assert!(
            !text.contains("hc0TopSecret")
                && !text.contains("10.9.8.7")
                && !text.contains("admin@prod"),
            "leak in {name}"
        );
    }

    // Same key paths and types: the decrypted example has the same structure.
    let plain =
        sops_decrypt_with_example_key(&env, &dir, "secrets-example/secrets/kubeconfig.yaml");
    let keys: Vec<&str> = plain
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    let real_keys: Vec<&str> = KUBECONFIG
        .lines()
        .map(|l| l.split(':').next().unwrap())
        .collect();
    assert_eq!(keys.len(), real_keys.len(), "{plain}");
    assert!(
        plain.contains("replicas: 1000") && plain.contains("enabled: false"),
        "types kept: {plain}"
    );

    // Commit it; regenerating changes nothing.
    env.git(&dir, ["add", "secrets-example"]);
    env.git(&dir, ["commit", "-qm", "example"]);
    run_ok(&env, &dir, &["example"]);
    assert_eq!(
        env.git(&dir, ["status", "--porcelain", "secrets-example"]),
        ""
    );
    run_ok(&env, &dir, &["example", "--check"]);
}

fn check_fails_naming(env: &TestEnv, dir: &Path, expect: &str) {
    let out = env
        .cmd(["example", "--check"])
        .current_dir(dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(expect), "expected {expect:?} in {stderr}");
    assert!(
        stderr.contains("hint: regenerate it: git secrets example"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
#[cfg_attr(missing_sops, ignore = "needs sops")]
fn example_check_catches_added_removed_and_changed_secrets() {
    let (env, dir) = cluster();
    run_ok(&env, &dir, &["example"]);

    add_secret(&env, &dir, "talosconfig", "context: prod\n");
    check_fails_naming(&env, &dir, "talosconfig.yaml: missing in the example");
    run_ok(&env, &dir, &["example"]);

    // A new key in one file.
    add_secret(
        &env,
        &dir,
        "hcloud-token",
        "hcloud_token: x\nproject: kubenix\n",
    );
    check_fails_naming(
        &env,
        &dir,
        "hcloud-token.yaml: missing in example: project str",
    );
    run_ok(&env, &dir, &["example"]);

    // A removed secret.
    let inner = dir.join("secrets");
    env.git(&inner, ["rm", "-q", "secrets/talosconfig.yaml"]);
    env.git(&inner, ["commit", "-qm", "drop talosconfig"]);
    check_fails_naming(&env, &dir, "talosconfig.yaml: only in the example");
    run_ok(&env, &dir, &["example"]);
    assert!(!dir
        .join("secrets-example/secrets/talosconfig.yaml")
        .exists());
    run_ok(&env, &dir, &["example", "--check"]);
}

#[test]
#[cfg_attr(missing_sops, ignore = "needs sops")]
fn doctor_and_example_check_name_a_stale_example_in_the_same_words() {
    let (env, dir) = cluster();
    run_ok(&env, &dir, &["example"]);
    add_secret(&env, &dir, "talosconfig", "context: prod\n");
    let words = "talosconfig.yaml: missing in the example (a secret was added)";
    check_fails_naming(&env, &dir, words);
    let out = env
        .cmd(["doctor", "--json"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let check = common::cluster::check(&report, "example.matches");
    assert_eq!(check["status"], "fail", "{check}");
    let message = check["message"].as_str().unwrap();
    assert!(message.contains(words), "{message}");
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn readers_evaluate_the_public_flake_with_the_example() {
    require_tool("nix");
    let (env, dir) = cluster();
    run_ok(&env, &dir, &["init", "--offline"]);
    run_ok(&env, &dir, &["example"]);
    env.git(&dir, ["add", "-A"]);
    env.git(&dir, ["commit", "-qm", "publish"]);
    // A reader's clone has no secrets/: the documented override must work.
    let reader = env.work().join("reader");
    env.git(
        &env.work(),
        ["clone", "-q", dir.to_str().unwrap(), "reader"],
    );
    assert!(!reader.join("secrets").exists());
    let readme = fs::read_to_string(reader.join("secrets-example/README.md")).unwrap();
    assert!(
        readme.contains("--override-input kubenix-cluster-secrets"),
        "{readme}"
    );
    let example = format!("path:{}/secrets-example", reader.display());
    let out = env
        .nix()
        .unwrap()
        .current_dir(&reader)
        .args([
            "eval",
            "--offline",
            "--no-write-lock-file",
            "--json",
            "--override-input",
            "kubenix-cluster-secrets",
            &example,
            ".#names",
        ])
        .output()
        .unwrap();
    assert_success("nix eval with the example", &out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"["hcloud-token","kubeconfig"]"#
    );
}

/// `example` copies the private `.sops.yaml`'s rules and indent into the public example;
/// under one that does not parse it is refused and writes nothing, as the other
/// commands that write refuse it (it wrote the example with sops' default rule and
/// indent, dropping the private rules without a word).
#[test]
#[cfg_attr(missing_sops, ignore = "needs sops")]
fn example_under_an_unparsable_sops_yaml_is_refused_and_writes_nothing() {
    let (env, dir) = cluster();
    let config = dir.join("secrets/.sops.yaml");
    let text = fs::read_to_string(&config).unwrap();
    fs::write(&config, format!("{text}  - age: [unclosed\n")).unwrap();
    let before = common::snapshot(env.root());
    let out = env.cmd(["example"]).current_dir(&dir).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(".sops.yaml is not a valid sops config"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    common::assert_unchanged("example under a broken .sops.yaml", &before, env.root());
}
