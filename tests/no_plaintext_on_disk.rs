//! No plaintext on disk: every command that handles plaintext runs under
//! `strace -f`; no file may be opened for writing outside memory (/dev/shm,
//! memfd, /dev) except the encrypted outputs a command exists to write (its
//! atomic temp file and git's own files). Afterwards no file anywhere the
//! command could have written holds the plaintext marker.
//! (`exec` in every mode is covered the same way in tests/exec.rs.)

mod common;

use common::cluster::Cluster;
use common::{assert_success, files_holding, marker, require_tool, writes_outside_memory, TestEnv};
use std::path::{Path, PathBuf};
use std::process::Stdio;

struct World {
    env: TestEnv,
    repo: PathBuf,
    marker: String,
}

/// The unlocked world with one secret `app.yaml` holding a marker, committed. The
/// parent's flake has no secrets input, so a change never runs Nix (whose own writes
/// are not ours to check).
fn world() -> World {
    let c = Cluster::builder()
        .parent_flake("{ outputs = { self }: { }; }\n")
        .unlocked()
        .build();
    let m = marker("disk");
    // The plaintext reaches the tool on stdin only, never as a file of the test.
    c.encrypt_with_ours(
        "app.yaml",
        "yaml",
        &format!("token: {m}\nother: plain-enough-{m}\n"),
    );
    c.commit_inner_changes("app");
    let Cluster { env, parent, .. } = c;
    World {
        env,
        repo: parent,
        marker: m,
    }
}

impl World {
    /// Runs `git-secrets args` under strace; returns the disallowed opens.
    fn traced(&self, args: &[&str], extra_env: &[(&str, String)]) -> Vec<String> {
        self.traced_with_stdin(args, extra_env, None)
    }

    /// Like [`World::traced`], feeding `stdin` to the command.
    fn traced_with_stdin(
        &self,
        args: &[&str],
        extra_env: &[(&str, String)],
        stdin: Option<&str>,
    ) -> Vec<String> {
        let log = self.env.root().join("strace.log");
        let mut cmd = self.env.command("strace");
        cmd.current_dir(&self.repo)
            .args(["-f", "-qq", "-e", "trace=openat,open,creat", "-o"])
            .arg(&log)
            .arg(common::bin())
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        if let Some(text) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert_success(&format!("strace git-secrets {args:?}"), &out);
        let text = std::fs::read_to_string(&log).unwrap();
        std::fs::remove_file(&log).unwrap();
        // glibc opens with openat(2), musl (the shipped static binary) with open(2).
        assert!(
            text.contains("openat(") || text.contains("open("),
            "strace logged no opens"
        );
        writes_outside_memory(&text, &["/dev/"])
            .into_iter()
            // Encrypted outputs: the atomic temp file, git's internals, the lock file.
            .filter(|l| !(l.contains("/.git-secrets-") && l.contains(".tmp\"")))
            .filter(|l| !(l.contains("/.git/") || l.contains("\".git/")))
            .collect()
    }

    fn assert_no_file_holds_marker(&self) {
        let roots = [
            std::env::temp_dir(),
            PathBuf::from("/dev/shm"),
            self.env.runtime(),
            self.env.root().to_path_buf(),
        ];
        let found = files_holding(self.marker.as_bytes(), &roots);
        assert!(found.is_empty(), "plaintext left in files: {found:?}");
    }
}

fn need_tools() {
    require_tool("strace");
    require_tool("git");
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn show_and_decrypt_write_nothing_to_disk() {
    need_tools();
    let w = world();
    for args in [
        &["show", "app"][..],
        &["show", "app", "--field", "token"],
        &["decrypt", "secrets/secrets/app.yaml"],
        &[
            "decrypt",
            "--extract",
            "[\"token\"]",
            "secrets/secrets/app.yaml",
        ],
    ] {
        let bad = w.traced(args, &[]);
        assert!(bad.is_empty(), "{args:?} opened for writing: {bad:#?}");
    }
    w.assert_no_file_holds_marker();
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn edit_works_on_tmpfs_only_and_leaves_nothing() {
    need_tools();
    let w = world();
    let before = std::fs::read(w.repo.join("secrets/secrets/app.yaml")).unwrap();
    // An editor that changes one value in place (on the tmpfs copy).
    let editor = "sed -i s/plain-enough/changed/".to_string();
    let bad = w.traced(&["edit", "app"], &[("EDITOR", editor)]);
    assert!(bad.is_empty(), "edit opened for writing: {bad:#?}");
    let after = std::fs::read(w.repo.join("secrets/secrets/app.yaml")).unwrap();
    assert_ne!(before, after, "the edit was not saved");
    let out = w
        .env
        .cmd(["show", "app", "--field", "other"])
        .current_dir(&w.repo)
        .output()
        .unwrap();
    assert_success("show", &out);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("changed-"));
    w.assert_no_file_holds_marker();
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn example_writes_only_placeholders() {
    need_tools();
    let w = world();
    let bad: Vec<String> = w
        .traced(&["example"], &[])
        .into_iter()
        // example writes the public files of secrets-example/ (placeholders only).
        .filter(|l| !l.contains("/secrets-example/"))
        .collect();
    assert!(bad.is_empty(), "example opened for writing: {bad:#?}");
    w.assert_no_file_holds_marker();
    assert!(Path::new(&w.repo.join("secrets-example/secrets/app.yaml")).is_file());
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn add_and_rotate_from_stdin_write_only_ciphertext() {
    need_tools();
    let w = world();
    let m = &w.marker;
    // --no-lock: Nix's own cache writes are not ours to judge here.
    let bad = w.traced_with_stdin(
        &["add", "db", "--from", "-", "--no-lock"],
        &[],
        Some(&format!("password: db-{m}\n")),
    );
    assert!(bad.is_empty(), "add opened for writing: {bad:#?}");
    let bad = w.traced_with_stdin(
        &["rotate", "app", "--from", "-", "--no-lock"],
        &[],
        Some(&format!("token: rotated-{m}\n")),
    );
    assert!(bad.is_empty(), "rotate opened for writing: {bad:#?}");
    let out = w
        .env
        .cmd(["show", "db", "--field", "password"])
        .current_dir(&w.repo)
        .output()
        .unwrap();
    assert_success("show db", &out);
    assert!(String::from_utf8_lossy(&out.stdout).contains(m.as_str()));
    w.assert_no_file_holds_marker();
}
