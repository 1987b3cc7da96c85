//! The lock step against the real Nix (2.8 on the dev machine) and against
//! fake `nix` scripts that pretend to be newer versions or fail.
//!
//! Every test builds its own parent repo (a flake with the input
//! `git+file:./secrets`) and inner secrets repo in a temp dir, with a temp
//! HOME and XDG dirs; the Nix store is the machine's real /nix/store.

mod common;
use common::cluster::{lock_file_for, Cluster, INPUT};
use std::path::{Path, PathBuf};

use git_secrets::nix::flake_nix::{find_secrets_input, insert_input, rewrite_url};
use git_secrets::nix::lock::LockRequest;
use git_secrets::nix::template::parent_flake;
use git_secrets::nix::{LockCommand, Nix, UrlKind};

const KUBECONFIG: &str = "apiVersion: v1\nkind: Config\n# pretend this is sops-encrypted\n";

/// The unlocked world (parent flake with the input `git+file:./secrets`, nested
/// secrets repo) whose one secret is a plain file: Nix only copies it.
fn cluster() -> Cluster {
    Cluster::builder()
        .plain_file("kubeconfig.yaml", KUBECONFIG)
        .unlocked()
        .build()
}

/// Fails unless the error's message holds `text`.
fn assert_message(err: &git_secrets::Error, text: &str) {
    assert!(err.message.contains(text), "{}", err.message);
}

/// Fails unless one of the error's hints holds `text`.
fn assert_hint(err: &git_secrets::Error, text: &str) {
    assert!(
        err.hints.iter().any(|h| h.contains(text)),
        "{:?}",
        err.hints
    );
}

/// What the lock step's tests do in the world.
trait LockWorld {
    /// `nix` with the world's environment: nothing from the user, and no
    /// NIX_CONFIG, so flakes come from the flags the code passes.
    fn configure(&self, nix: Nix) -> Nix;
    fn nix_at(&self, program: &Path) -> Nix {
        self.configure(Nix::at(program))
    }
    /// Commits `text` as `file` in the inner repo; returns the new HEAD.
    fn commit_inner(&self, file: &str, text: &str) -> String;
    /// A lock request for INPUT at `expected_rev`, offline.
    fn request<'a>(&'a self, expected_rev: &'a str) -> LockRequest<'a>;
    fn lock_path(&self) -> PathBuf;
    fn lock_json(&self) -> serde_json::Value;
    fn tracked_in_parent(&self, path: &str) -> bool;
    /// `nix eval` in the parent, as a user would run it.
    fn eval(&self, nix: &Nix, args: &[&str]) -> std::process::Output;
}

impl LockWorld for Cluster {
    fn configure(&self, nix: Nix) -> Nix {
        self.env
            .env_vars()
            .into_iter()
            .map(|(k, v)| match k {
                "NIX_CONFIG" => (k, "".into()),
                _ => (k, v),
            })
            .chain([(
                "NIX_USER_CONF_FILES",
                self.env.home().join("nix.conf").into(),
            )])
            .fold(nix, |n, (k, v)| n.env(k, v))
    }

    fn commit_inner(&self, file: &str, text: &str) -> String {
        std::fs::write(self.inner.join(file), text).unwrap();
        self.commit_inner_changes(file)
    }

    fn request<'a>(&'a self, expected_rev: &'a str) -> LockRequest<'a> {
        LockRequest {
            parent_root: &self.parent,
            parent_git_dir: Path::new(".git"),
            input: INPUT,
            expected_rev,
            offline: true,
        }
    }

    fn lock_path(&self) -> PathBuf {
        self.parent.join("flake.lock")
    }

    fn lock_json(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.lock_path()).unwrap()).unwrap()
    }

    fn tracked_in_parent(&self, path: &str) -> bool {
        !self.git(&self.parent, &["ls-files", "--", path]).is_empty()
    }

    fn eval(&self, nix: &Nix, args: &[&str]) -> std::process::Output {
        nix.command()
            .arg("eval")
            .args(args)
            .current_dir(&self.parent)
            .output()
            .unwrap()
    }
}

/// The real `nix`; fails the test when it is missing (the tests that call it carry
/// `#[cfg_attr(missing_nix, ignore)]`, so that only happens under CI).
fn real_nix() -> PathBuf {
    match Nix::discover() {
        Ok(n) => n.program().to_path_buf(),
        Err(e) => panic!("nix is needed by this test: {}", e.message),
    }
}

/// The world and the real `nix` in its environment.
fn cluster_with_real_nix() -> (Cluster, Nix) {
    let program = real_nix();
    let c = cluster();
    let nix = c.nix_at(&program);
    (c, nix)
}

#[test]
#[cfg_attr(missing_nix, ignore = "needs nix")]
fn real_nix_locks_the_inner_head_and_relocks_when_it_moves() {
    let (c, nix) = cluster_with_real_nix();
    let first = c.inner_head();

    let out = nix.lock(&c.request(&first)).unwrap();
    assert!(out.created && out.changed);
    assert_eq!(out.previous_rev, None);
    assert_eq!(out.locked.rev.as_deref(), Some(first.as_str()));
    assert!(out
        .locked
        .nar_hash
        .as_deref()
        .unwrap()
        .starts_with("sha256-"));
    let json = c.lock_json();
    assert_eq!(json["nodes"][INPUT]["locked"]["rev"], first.as_str());
    assert_eq!(json["nodes"][INPUT]["locked"]["type"], "git");
    // Nix reads the parent through git: the new lock must be in its index.
    assert!(c.tracked_in_parent("flake.lock"));

    // The parent reads the file through inputs.<input>.lib.secrets.kubeconfig.
    let eval = c.eval(&nix, &["--raw", ".#secretText.kubeconfig"]);
    assert!(
        eval.status.success(),
        "{}",
        String::from_utf8_lossy(&eval.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&eval.stdout), KUBECONFIG);
    let path = c.eval(&nix, &["--raw", ".#secretFiles.kubeconfig"]);
    assert!(String::from_utf8_lossy(&path.stdout).starts_with("/nix/store/"));

    // Locking again with nothing new changes nothing.
    let again = nix.lock(&c.request(&first)).unwrap();
    assert!(!again.changed && !again.created);
    assert_eq!(again.previous_rev.as_deref(), Some(first.as_str()));

    // A new inner commit moves the lock, and eval sees the new content.
    let second = c.commit_inner("secrets/kubeconfig.yaml", "rotated: true\n");
    assert_ne!(first, second);
    let moved = nix.lock(&c.request(&second)).unwrap();
    assert!(moved.changed);
    assert_eq!(moved.previous_rev.as_deref(), Some(first.as_str()));
    assert_eq!(moved.locked.rev.as_deref(), Some(second.as_str()));
    assert_eq!(
        c.lock_json()["nodes"][INPUT]["locked"]["rev"],
        second.as_str()
    );
    let eval = c.eval(&nix, &["--raw", ".#secretText.kubeconfig"]);
    assert_eq!(String::from_utf8_lossy(&eval.stdout), "rotated: true\n");
}

#[test]
#[cfg_attr(missing_nix, ignore = "needs nix")]
fn real_nix_gets_the_lock_command_for_its_version_only() {
    let program = real_nix();
    let c = cluster();
    let (wrapper, log) = c.env.recording_wrapper("recording-nix", &program);
    let nix = c.nix_at(&wrapper);
    let version = nix.version().unwrap();
    let head = c.inner_head();
    nix.lock(&c.request(&head)).unwrap();
    let head = c.commit_inner("secrets/new.yaml", "x: 1\n");
    nix.lock(&c.request(&head)).unwrap();

    let calls = std::fs::read_to_string(&log).unwrap();
    let locks: Vec<&str> = calls.lines().filter(|l| l.contains(" flake ")).collect();
    assert_eq!(locks.len(), 2, "{calls}");
    let expected = match version.lock_command() {
        LockCommand::LockUpdateInput => "flake lock --update-input kubenix-secrets --offline",
        LockCommand::FlakeUpdate => "flake update kubenix-secrets --offline",
    };
    for l in &locks {
        assert!(l.ends_with(expected), "{l}");
        assert!(
            l.starts_with("--extra-experimental-features nix-command flakes "),
            "{l}"
        );
    }
    if (version.major, version.minor) <= (2, 18) {
        // On ≤ 2.18 `flake update X` reads X as a flake ref and goes to the
        // network; it must never run there.
        assert!(!calls.contains("flake update"), "{calls}");
    }
}

#[test]
#[cfg_attr(missing_nix, ignore = "needs nix")]
fn real_nix_dirty_inner_repo_is_refused_and_the_lock_restored() {
    let (c, nix) = cluster_with_real_nix();
    let head = c.inner_head();
    nix.lock(&c.request(&head)).unwrap();
    let before = std::fs::read(c.lock_path()).unwrap();

    // Modified but not committed: Nix 2.8 warns and writes a lock without rev.
    std::fs::write(c.inner.join("secrets/kubeconfig.yaml"), "uncommitted: 1\n").unwrap();
    let err = nix.lock(&c.request(&head)).unwrap_err();
    assert_message(&err, "without a commit id");
    assert_hint(&err, "commit");
    assert!(
        err.hints.iter().any(|h| h == "flake.lock is unchanged"),
        "{:?}",
        err.hints
    );
    assert_eq!(std::fs::read(c.lock_path()).unwrap(), before);
}

#[test]
#[cfg_attr(missing_nix, ignore = "needs nix")]
fn real_nix_path_url_fails_with_a_git_file_hint_and_leaves_no_lock() {
    let program = real_nix();
    let c = cluster();
    std::fs::write(
        c.parent.join("flake.nix"),
        parent_flake(INPUT, "path:./secrets"),
    )
    .unwrap();
    c.git(&c.parent, &["commit", "-q", "-am", "path url"]);
    let nix = c.nix_at(&program);
    let err = nix.lock(&c.request(&c.inner_head())).unwrap_err();
    // 2.8: "getting status of '/nix/store/…-source/secrets'"; newer: "not tracked by Git".
    assert!(
        err.message.contains("getting status of") || err.message.contains("not tracked by Git"),
        "{}",
        err.message
    );
    assert!(err.hints[0].contains("git+file:"), "{:?}", err.hints);
    assert!(!c.lock_path().exists());
    assert!(!c.tracked_in_parent("flake.lock"));

    // The fix the tool offers: rewrite only that url to git+file:, then lock.
    let src = std::fs::read_to_string(c.parent.join("flake.nix")).unwrap();
    let input = find_secrets_input(&src, "secrets").unwrap().unwrap();
    assert_eq!(
        input.url_kind(),
        Some(UrlKind::Path {
            path: "./secrets".into()
        })
    );
    let fixed = rewrite_url(&src, &input, "git+file:./secrets").unwrap();
    assert_eq!(fixed, parent_flake(INPUT, "git+file:./secrets"));
    std::fs::write(c.parent.join("flake.nix"), fixed).unwrap();
    nix.lock(&c.request(&c.inner_head())).unwrap();
}

#[test]
#[cfg_attr(missing_nix, ignore = "needs nix")]
fn real_nix_locks_an_input_added_by_insert_input() {
    let program = real_nix();
    let c = cluster();
    let bare = "{\n  description = \"no inputs yet\";\n\n  outputs = { self }: {\n    answer = 42;\n  };\n}\n";
    let with_input = insert_input(bare, INPUT, "git+file:./secrets").unwrap();
    std::fs::write(c.parent.join("flake.nix"), &with_input).unwrap();
    c.git(&c.parent, &["commit", "-q", "-am", "add the secrets input"]);

    let nix = c.nix_at(&program);
    let head = c.inner_head();
    nix.lock(&c.request(&head)).unwrap();
    // Nix accepted the edited outputs arguments: the flake still evaluates.
    let eval = c.eval(&nix, &[".#answer"]);
    assert!(
        eval.status.success(),
        "{}\n{with_input}",
        String::from_utf8_lossy(&eval.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&eval.stdout).trim(), "42");
}

#[test]
#[cfg_attr(missing_nix, ignore = "needs nix")]
fn real_nix_unknown_input_name_is_an_error_not_a_silent_success() {
    let (c, nix) = cluster_with_real_nix();
    let head = c.inner_head();
    let req = LockRequest {
        input: "no-such-input",
        ..c.request(&head)
    };
    let err = nix.lock(&req).unwrap_err();
    assert_message(&err, "no-such-input");
    assert_hint(&err, "git config secrets.input");
    assert!(!c.lock_path().exists());
}

/// Nix ≤ 2.18 only warns about an input name flake.nix does not have, and exits 0
/// (without touching flake.lock): still a failure, with the hint to check the name,
/// and the previous lock stays as it was.
#[test]
fn old_nix_warning_of_an_unknown_input_is_a_failure_and_keeps_the_lock() {
    let c = cluster();
    let head = c.inner_head();
    let previous = lock_file_for(&head);
    std::fs::write(c.lock_path(), &previous).unwrap();
    let (fake, _) = c.fake_nix_running(
        "nix (Nix) 2.18.1",
        "echo \"warning: the flag '--update-input kubenix-secrets' does not match any input\" >&2",
    );
    let err = c.nix_at(&fake).lock(&c.request(&head)).unwrap_err();
    assert_message(&err, "does not match any input");
    assert_message(&err, "exit code 0");
    assert_hint(&err, "git config secrets.input");
    assert_eq!(std::fs::read_to_string(c.lock_path()).unwrap(), previous);
}

/// A Nix that exits 0 but writes no flake.lock is a failure too, not a lock.
#[test]
fn nix_exiting_0_without_writing_flake_lock_is_a_failure() {
    let c = cluster();
    let head = c.inner_head();
    let (fake, _) = c.fake_nix_running("nix (Nix) 2.24.9", "exit 0");
    let err = c.nix_at(&fake).lock(&c.request(&head)).unwrap_err();
    assert_message(&err, "wrote no flake.lock");
    assert_hint(&err, "run the command yourself");
    assert!(!c.lock_path().exists());
    assert_eq!(c.git(&c.parent, &["status", "--porcelain"]), "");
}

#[test]
fn new_nix_and_lix_use_flake_update() {
    for version in ["nix (Nix) 2.24.9", "nix (Lix, like Nix) 2.91.1"] {
        let c = cluster();
        let head = c.inner_head();
        let (fake, log) = c.fake_nix_running(
            version,
            &format!("cat > flake.lock <<'EOF'\n{}\nEOF", lock_file_for(&head)),
        );
        // Found through GIT_SECRETS_NIX, as a user would point at it.
        let found =
            Nix::discover_with(|k| (k == "GIT_SECRETS_NIX").then(|| fake.clone().into())).unwrap();
        let nix = c.configure(found);
        let out = nix.lock(&c.request(&head)).unwrap();
        assert_eq!(out.command, LockCommand::FlakeUpdate);
        let calls = std::fs::read_to_string(&log).unwrap();
        assert_eq!(
            calls,
            "--extra-experimental-features nix-command flakes flake update kubenix-secrets --offline\n",
            "{version}"
        );
        assert!(!calls.contains("--allow-dirty-locks"));
        // The fake did not `git add -N`; the lock step did.
        assert!(out.intent_added);
        assert!(c.tracked_in_parent("flake.lock"));
    }
}

#[test]
fn old_nix_uses_lock_update_input_and_online_by_default() {
    let c = cluster();
    let head = c.inner_head();
    let (fake, log) = c.fake_nix_running(
        "nix (Nix) 2.18.1",
        &format!("cat > flake.lock <<'EOF'\n{}\nEOF", lock_file_for(&head)),
    );
    let nix = c.nix_at(&fake);
    let req = LockRequest {
        offline: false,
        ..c.request(&head)
    };
    nix.lock(&req).unwrap();
    let calls = std::fs::read_to_string(&log).unwrap();
    assert_eq!(calls, "--extra-experimental-features nix-command flakes flake lock --update-input kubenix-secrets\n");
}

#[test]
fn failing_nix_restores_flake_lock_byte_for_byte() {
    let c = cluster();
    let head = c.inner_head();
    // A previous lock with bytes Nix would not write (no trailing newline,
    // odd spacing): restoring must not re-serialise it.
    let previous = format!(
        "{}  ",
        lock_file_for("1111111111111111111111111111111111111111")
    );
    std::fs::write(c.lock_path(), &previous).unwrap();
    c.git(&c.parent, &["add", "flake.lock"]);
    c.git(&c.parent, &["commit", "-q", "-m", "lock"]);

    let (fake, _) = c.fake_nix_running(
        "nix (Nix) 2.24.9",
        "echo 'garbage' > flake.lock\necho 'error: cannot lock: boom' >&2\nexit 1",
    );
    let err = c.nix_at(&fake).lock(&c.request(&head)).unwrap_err();
    assert_message(&err, "error: cannot lock: boom");
    assert!(!err.hints.is_empty());
    assert_eq!(std::fs::read_to_string(c.lock_path()).unwrap(), previous);
    assert_eq!(c.git(&c.parent, &["status", "--porcelain"]), "");
}

#[test]
fn failing_first_lock_removes_the_new_file_and_its_index_entry() {
    let c = cluster();
    let head = c.inner_head();
    // Like Nix: write the new lock, `git add -N` it, then fail.
    let (fake, _) = c.fake_nix_running(
        "nix (Nix) 2.24.9",
        "echo '{}' > flake.lock\ngit add --intent-to-add flake.lock\necho 'error: boom' >&2\nexit 1",
    );
    c.nix_at(&fake).lock(&c.request(&head)).unwrap_err();
    assert!(!c.lock_path().exists());
    assert!(!c.tracked_in_parent("flake.lock"));
    assert_eq!(c.git(&c.parent, &["status", "--porcelain"]), "");
}

#[test]
fn nix_exiting_0_with_the_wrong_rev_is_an_error_and_restores() {
    let c = cluster();
    let head = c.inner_head();
    let previous = lock_file_for(&head);
    std::fs::write(c.lock_path(), &previous).unwrap();
    let stale = "2222222222222222222222222222222222222222";
    let (fake, _) = c.fake_nix_running(
        "nix (Nix) 2.26.0",
        &format!("cat > flake.lock <<'EOF'\n{}\nEOF", lock_file_for(stale)),
    );
    let err = c.nix_at(&fake).lock(&c.request(&head)).unwrap_err();
    assert_message(&err, "222222222222");
    assert_eq!(std::fs::read_to_string(c.lock_path()).unwrap(), previous);
}

#[test]
#[cfg_attr(missing_nix, ignore = "needs nix")]
fn the_secrets_template_evaluates_names_duplicates_wrapper_and_module() {
    let (c, nix) = cluster_with_real_nix();
    c.commit_inner("secrets/hcloud-token.json", "{}\n");
    c.commit_inner("secrets/.gitkeep", "");
    let flake = format!("builtins.getFlake \"git+file://{}\"", c.inner.display());
    let eval = |expr: &str| {
        let out = nix
            .command()
            .args(["eval", "--impure", "--json", "--expr"])
            .arg(expr)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    // name = file name without its extension; dot files are not secrets.
    let (ok, names, err) = eval(&format!("builtins.attrNames ({flake}).lib.secrets"));
    assert!(ok, "{err}");
    assert_eq!(names, r#"["hcloud-token","kubeconfig"]"#);

    // A wrapper built with the consumer's pkgs (stubbed: evaluate only).
    let stub = r#"{ lib.escapeShellArg = s: "'" + s + "'"; writeShellScriptBin = name: text: { inherit name text; }; }"#;
    let (ok, wrapper, err) = eval(&format!(
        "(({flake}).lib.mkSecretWrapper {{ pkgs = {stub}; name = \"kubectl\"; secret = \"kubeconfig\"; file = \"KUBECONFIG\"; command = \"/bin/kubectl\"; }}).text"
    ));
    assert!(ok, "{err}");
    assert!(
        wrapper.contains(
            r#"exec git-secrets exec 'kubeconfig' --file 'KUBECONFIG' -- /bin/kubectl \"$@\""#
        ),
        "{wrapper}"
    );
    let (ok, _, err) = eval(&format!(
        "(({flake}).lib.mkSecretWrapper {{ pkgs = {stub}; name = \"x\"; secret = \"s\"; env = \"A\"; file = \"B\"; command = \"c\"; }}).text"
    ));
    assert!(!ok && err.contains("exactly one of env or file"), "{err}");

    // The flake module, with numtide devshell present and without it.
    let pkgs = r#"{ sops = "sops"; age = "age"; mkShell = a: a; }"#;
    let module = |options: &str| {
        format!("(({flake}).flakeModules.default.perSystem {{ pkgs = {pkgs}; options = {options}; }}).config")
    };
    let (ok, with_devshell, err) = eval(&module("{ devshells = { }; }"));
    assert!(ok, "{err}");
    assert!(
        with_devshell.contains(r#""devshells":{"default":{"packages":["sops","age"]}}"#),
        "{with_devshell}"
    );
    let (ok, plain, err) = eval(&module("{ }"));
    assert!(ok, "{err}");
    assert_eq!(
        plain,
        r#"{"devShells":{"secrets":{"packages":["sops","age"]}}}"#
    );

    // Two files with the same name: the error names both.
    c.commit_inner("secrets/kubeconfig.json", "{}\n");
    let (ok, _, err) = eval(&format!("builtins.attrNames ({flake}).lib.secrets"));
    assert!(!ok);
    assert!(
        err.contains("kubeconfig.json") && err.contains("kubeconfig.yaml"),
        "{err}"
    );
}
