//! `git secrets init`: clone or create the secrets repo and wire it into the
//! parent flake, on real repos with real git, Nix 2.8 and sops.

mod common;

use common::cluster::PARENT_FLAKE;
use common::{assert_success, require_tool, TestEnv};
use std::fs;
use std::path::{Path, PathBuf};

/// Every file of `dir` (recursively, .git internals of the inner repo
/// excluded) with its bytes, plus both HEADs: equal means nothing changed.
fn snapshot(env: &TestEnv, dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if name == ".git" {
                continue;
            }
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push((
                    p.strip_prefix(base).unwrap().display().to_string(),
                    fs::read(&p).unwrap(),
                ));
            }
        }
    }
    walk(dir, dir, &mut out);
    out.push((
        "parent index".into(),
        env.git(dir, ["ls-files", "-s"]).into_bytes(),
    ));
    if dir.join("secrets/.git").exists() {
        out.push((
            "inner HEAD".into(),
            env.git(&dir.join("secrets"), ["rev-parse", "HEAD"])
                .into_bytes(),
        ));
    }
    out
}

fn need_tools() {
    require_tool("nix");
    require_tool("git");
}

/// A fresh parent (`env.parent_repo(PARENT_FLAKE)`) in a new env; fails the test
/// without nix or git.
fn fresh_parent() -> (TestEnv, PathBuf) {
    need_tools();
    let env = TestEnv::new();
    let dir = env.parent_repo(PARENT_FLAKE);
    (env, dir)
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn init_new_creates_repo_key_ignore_input_and_lock_then_is_idempotent() {
    let (env, dir) = fresh_parent();
    let out = env
        .cmd(["init", "--new", "--yes", "--offline"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_success("init --new", &out);

    // A key was generated where sops looks, private.
    use std::os::unix::fs::PermissionsExt;
    let key = env.config().join("sops/age/keys.txt");
    assert_eq!(
        fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        fs::metadata(key.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );
    let key_text = fs::read_to_string(&key).unwrap();
    let public = common::public_key_in(&key_text);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&public), "public key not printed: {stderr}");

    // The inner repo: committed template with .sops.yaml naming the key.
    let inner = dir.join("secrets");
    assert!(inner.join(".git").is_dir());
    assert!(env.git(&inner, ["status", "--porcelain"]).is_empty());
    assert!(fs::read_to_string(inner.join(".sops.yaml"))
        .unwrap()
        .contains(&public));

    // The parent ignores it: git check-ignore succeeds.
    let ignored = env
        .git_cmd(&dir, ["check-ignore", "-q", "secrets/flake.nix"])
        .status()
        .unwrap();
    assert!(ignored.success(), "secrets/flake.nix is not ignored");

    // The input was added and locked to the inner HEAD with a narHash.
    let flake = fs::read_to_string(dir.join("flake.nix")).unwrap();
    assert!(
        flake.contains(r#"inputs.kubenix-cluster-secrets.url = "git+file:./secrets";"#),
        "{flake}"
    );
    let lock: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("flake.lock")).unwrap()).unwrap();
    let node = &lock["nodes"]["kubenix-cluster-secrets"]["locked"];
    assert_eq!(
        node["rev"].as_str().unwrap(),
        env.git(&inner, ["rev-parse", "HEAD"])
    );
    assert!(node["narHash"].as_str().unwrap().starts_with("sha256-"));

    // A second run changes nothing and says so.
    let before = snapshot(&env, &dir);
    let out = env
        .cmd(["init", "--offline"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_success("second init", &out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing to do"));
    assert_eq!(before, snapshot(&env, &dir));
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn init_new_repo_encrypts_with_its_sops_yaml_and_nix_reads_the_secret() {
    need_tools();
    require_tool("sops");
    let env = TestEnv::new();
    let dir = env.parent_repo(PARENT_FLAKE);
    assert_success(
        "init",
        &env.cmd(["init", "--new", "--yes", "--no-lock"])
            .current_dir(&dir)
            .output()
            .unwrap(),
    );
    let inner = dir.join("secrets");
    fs::write(
        inner.join("secrets/kubeconfig.yaml"),
        "apiVersion: v1\nkind: Config\n",
    )
    .unwrap();
    let out = env
        .cmd(["encrypt", "-i", "secrets/kubeconfig.yaml"])
        .current_dir(&inner)
        .output()
        .unwrap();
    assert_success("encrypt with the template .sops.yaml", &out);
    let out = env
        .sops()
        .unwrap()
        .current_dir(&inner)
        .args(["decrypt", "secrets/kubeconfig.yaml"])
        .output()
        .unwrap();
    assert_success("sops decrypt", &out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "apiVersion: v1\nkind: Config\n"
    );
    env.git(&inner, ["add", "secrets/kubeconfig.yaml"]);
    env.git(&inner, ["commit", "-qm", "kubeconfig"]);

    // init again only locks (the inner HEAD moved) and Nix sees the new file.
    assert_success(
        "relock",
        &env.cmd(["init", "--offline"])
            .current_dir(&dir)
            .output()
            .unwrap(),
    );
    let out = env
        .nix()
        .unwrap()
        .current_dir(&dir)
        .args(["eval", "--offline", "--json", ".#names"])
        .output()
        .unwrap();
    assert_success("nix eval", &out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"["kubeconfig"]"#
    );
}

/// A bare repo holding a secrets flake whose .sops.yaml names fixture key A.
fn bare_secrets_repo(env: &TestEnv) -> PathBuf {
    let src = env.work().join("src-secrets");
    env.secrets_repo(&src);
    fs::write(src.join("secrets/.gitkeep"), "").unwrap();
    env.git(&src, ["add", "-A"]);
    env.git(&src, ["commit", "-qm", "secrets"]);
    let bare = env.work().join("secrets.git");
    env.git(
        &env.work(),
        [
            "clone",
            "-q",
            "--bare",
            src.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    bare
}

/// A bare secrets repo and a fresh parent in `env`; runs `init <bare> FLAG` in the
/// parent and returns the parent and the output.
fn init_from_a_bare_repo(env: &TestEnv, flag: &str) -> (PathBuf, std::process::Output) {
    let bare = bare_secrets_repo(env);
    let dir = env.parent_repo(PARENT_FLAKE);
    let out = env
        .cmd(["init", bare.to_str().unwrap(), flag])
        .current_dir(&dir)
        .output()
        .unwrap();
    (dir, out)
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn init_clones_from_a_local_bare_repo_and_warns_when_our_key_is_not_a_recipient() {
    need_tools();
    let env = TestEnv::new();
    // No identity: the warning names the rekey command a teammate runs.
    let (dir, out) = init_from_a_bare_repo(&env, "--offline");
    assert_success("init URL", &out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("does not name any age key you hold"),
        "{stderr}"
    );
    assert!(dir.join("secrets/.git").is_dir());
    assert!(dir.join("flake.lock").is_file());

    // With key A installed, a clone elsewhere reports the key is named.
    let env2 = TestEnv::new();
    env2.install_fixture_identity("age-a");
    let (_, out) = init_from_a_bare_repo(&env2, "--no-lock");
    assert_success("init URL with key", &out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("names your age key"));
}

/// A parent whose flake input `input` is `path:./secrets`, with the secrets repo
/// cloned into `secrets/` (not ignored yet).
fn parent_with_path_input(env: &TestEnv, input: &str) -> PathBuf {
    let bare = bare_secrets_repo(env);
    let dir = env.parent_repo(&format!(
        "{{\n  inputs.{input}.url = \"path:./secrets\";\n  outputs = {{ self, ... }}@inputs: {{ }};\n}}\n"
    ));
    env.git(&dir, ["clone", "-q", bare.to_str().unwrap(), "secrets"]);
    dir
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn init_removes_a_staged_gitlink_and_rewrites_a_path_input() {
    need_tools();
    let env = TestEnv::new();
    let dir = parent_with_path_input(&env, "kubenix-cluster-secrets");
    // The seed's mistake: `git add secrets/` records a gitlink.
    env.git(&dir, ["add", "secrets"]);
    assert!(env
        .git(&dir, ["ls-files", "-s", "secrets"])
        .starts_with("160000"));

    let out = env
        .cmd(["init", "--yes", "--offline"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_success("init", &out);
    assert_eq!(
        env.git(&dir, ["ls-files", "-s", "secrets"]),
        "",
        "gitlink still staged"
    );
    assert!(
        dir.join("secrets/flake.nix").is_file(),
        "inner files must stay"
    );
    let flake = fs::read_to_string(dir.join("flake.nix")).unwrap();
    assert!(flake.contains("\"git+file:./secrets\""), "{flake}");
    assert!(!flake.contains("path:./secrets"));
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn init_path_input_without_yes_and_without_a_tty_changes_nothing() {
    need_tools();
    let env = TestEnv::new();
    let dir = parent_with_path_input(&env, "s");
    fs::write(dir.join(".gitignore"), "/secrets/\n").unwrap();
    let before = snapshot(&env, &dir);
    let out = env.cmd(["init"]).current_dir(&dir).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error:") && stderr.contains("hint:") && stderr.contains("--yes"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    assert_eq!(before, snapshot(&env, &dir));
}

/// Runs init, expects a failure with `error:` and `hint:`, nothing on stdout
/// and no change in `dir`.
fn refused(env: &TestEnv, dir: &Path, args: &[&str], expect: &str) {
    let before = snapshot(env, dir);
    let out = env.cmd(args).current_dir(dir).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded: {stderr}");
    assert!(
        stderr.contains("error:") && stderr.contains("hint:"),
        "{args:?}: {stderr}"
    );
    assert!(
        stderr.contains(expect),
        "{args:?}: expected {expect:?} in {stderr}"
    );
    assert!(out.stdout.is_empty());
    assert_eq!(before, snapshot(env, dir), "{args:?} changed files");
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn init_refuses_bad_situations_and_changes_nothing() {
    let (env, dir) = fresh_parent();

    // Unreachable URL: no secrets/ left behind.
    refused(
        &env,
        &dir,
        &["init", "/nonexistent/secrets.git"],
        // the remote is asked before anything is cloned or changed
        "does not appear to be a git repository",
    );
    assert!(!dir.join("secrets").exists());

    // No identity, no --yes, no TTY.
    refused(&env, &dir, &["init", "--new"], "--yes");

    // A --recipient that is no age key is refused before anything is made: not even
    // the key init would create for a user without one.
    refused(
        &env,
        &dir,
        &["init", "--new", "--yes", "--recipient", "age1bogus"],
        "--recipient",
    );
    assert!(!env.config().join("sops/age/keys.txt").exists());

    // secrets/ exists with files but is no repo.
    fs::create_dir_all(dir.join("secrets")).unwrap();
    fs::write(dir.join("secrets/notes.txt"), "x").unwrap();
    refused(
        &env,
        &dir,
        &["init", "--new", "--yes"],
        "not a git repository",
    );
    fs::remove_dir_all(dir.join("secrets")).unwrap();

    // flake.nix that does not parse.
    fs::write(dir.join("flake.nix"), "{ inputs = ; }").unwrap();
    let bare = bare_secrets_repo(&env);
    env.git(&dir, ["clone", "-q", bare.to_str().unwrap(), "secrets"]);
    fs::write(dir.join(".gitignore"), "/secrets/\n").unwrap();
    refused(&env, &dir, &["init"], "flake.nix");
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn init_refuses_a_submodule_and_a_non_repo_parent() {
    need_tools();
    let env = TestEnv::new();
    let bare = bare_secrets_repo(&env);
    let dir = env.parent_repo(PARENT_FLAKE);
    env.git(
        &dir,
        [
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            bare.to_str().unwrap(),
            "secrets",
        ],
    );
    refused(&env, &dir, &["init"], "submodule");

    let plain = env.work().join("not-a-repo");
    fs::create_dir_all(&plain).unwrap();
    let out = env
        .cmd(["init", "--new", "--yes"])
        .current_dir(&plain)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error:") && stderr.contains("hint:"),
        "{stderr}"
    );
    assert_eq!(fs::read_dir(&plain).unwrap().count(), 0);
    assert!(!env.config().join("sops").exists(), "no key may be created");
}

/// `init --new` with a key file sops refuses (here: spaces before the key) neither uses
/// the key (sops could not decrypt with that file) nor makes a second one: it names the
/// file and the line, and changes nothing.
#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn init_new_with_a_refused_key_file_names_the_line_and_makes_no_second_key() {
    let (env, dir) = fresh_parent();
    let key = common::key_text("age-a");
    let spaced: String = key
        .lines()
        .map(|l| {
            if l.starts_with("AGE-") {
                format!("  {l}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let line = key.lines().position(|l| l.starts_with("AGE-")).unwrap() + 1;
    env.install_age_identity(&spaced);
    let keys_txt = env.config().join("sops/age/keys.txt");
    refused(
        &env,
        &dir,
        &["init", "--new", "--yes", "--no-lock"],
        &format!(
            "error: no usable age key: {} is refused (line {line} is not an age secret key)",
            keys_txt.display()
        ),
    );
    assert_eq!(fs::read_to_string(&keys_txt).unwrap(), spaced);
    assert!(!dir.join("secrets").exists());
}
