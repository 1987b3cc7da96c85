//! A healthy parent flake with its secrets repo (real sops, age keys from the fixtures)
//! and public example, locked by the real Nix; shared by tests/doctor.rs and
//! tests/hooks.rs.

#![allow(dead_code)]

use crate::common::{self, assert_success, require_tool, sops_fixtures, TestEnv};
use std::fs;
use std::path::{Path, PathBuf};

pub const INPUT: &str = "kubenix-secrets";
/// A secret value long enough to be searched for; never printed in full by doctor.
pub const TOKEN: &str = "hunter2-very-secret-token-value";
const KUBECONFIG: &str = r#"{"server":"https://k8s.example.invalid:6443","token":"hunter2-very-secret-token-value","note_unencrypted":"not a secret"}"#;
const EXAMPLE: &str =
    r#"{"server":"example-server","token":"example-token","note_unencrypted":"example"}"#;

pub fn key_text(id: &str) -> String {
    fs::read_to_string(sops_fixtures().join(format!("keys/{id}.txt"))).unwrap()
}

pub fn public_key(id: &str) -> String {
    fs::read_to_string(sops_fixtures().join(format!("keys/{id}.pub")))
        .unwrap()
        .trim()
        .to_string()
}

/// A healthy parent flake with its secrets repo and public example, locked by Nix.
pub struct Cluster {
    pub env: TestEnv,
    pub parent: PathBuf,
    pub inner: PathBuf,
    /// Dir holding our binary, put first on PATH.
    pub bin_dir: PathBuf,
}

impl Cluster {
    /// Fails the test when sops or nix is missing (see `require_tool`).
    pub fn new() -> Cluster {
        for tool in ["sops", "nix", "git"] {
            require_tool(tool);
        }
        let env = TestEnv::new();
        env.install_fixture_identity("age-a");
        let parent = env.work().join("cluster");
        let inner = parent.join("secrets");
        // the binary under test (GIT_SECRETS_TEST_BIN, to run a test against another build)
        let bin_dir = common::bin().parent().unwrap().to_path_buf();
        let c = Cluster {
            env,
            parent,
            inner,
            bin_dir,
        };
        // the secrets repo
        fs::create_dir_all(c.inner.join("secrets")).unwrap();
        fs::write(
            c.inner.join("flake.nix"),
            git_secrets::nix::template::SECRETS_FLAKE,
        )
        .unwrap();
        fs::write(
            c.inner.join(".sops.yaml"),
            format!(
                "creation_rules:\n    - path_regex: ^secrets/\n      age: {}\n",
                public_key("age-a")
            ),
        )
        .unwrap();
        c.encrypt(&c.inner, "secrets/kubeconfig.json", KUBECONFIG);
        c.env.git(&c.inner, ["init", "-q", "-b", "main"]);
        c.env.git(&c.inner, ["add", "-A"]);
        c.env.git(&c.inner, ["commit", "-qm", "secrets"]);
        // the public example, with its own throwaway key
        let ex = c.parent.join("secrets-example");
        fs::create_dir_all(ex.join("secrets")).unwrap();
        fs::write(ex.join("key.txt"), key_text("age-b")).unwrap();
        fs::write(
            ex.join(".sops.yaml"),
            format!(
                "creation_rules:\n    - path_regex: ^secrets/\n      age: {}\n",
                public_key("age-b")
            ),
        )
        .unwrap();
        c.encrypt(&ex, "secrets/kubeconfig.json", EXAMPLE);
        // the parent
        fs::write(
            c.parent.join("flake.nix"),
            git_secrets::nix::template::parent_flake(INPUT, "git+file:./secrets"),
        )
        .unwrap();
        fs::write(c.parent.join(".gitignore"), "/secrets/\n").unwrap();
        c.env.git(&c.parent, ["init", "-q", "-b", "main"]);
        c.env.git(&c.parent, ["add", "-A"]);
        c.env.git(&c.parent, ["commit", "-qm", "cluster"]);
        c.lock();
        c.env.git(&c.parent, ["add", "flake.lock"]);
        c.env.git(&c.parent, ["commit", "-qm", "lock"]);
        c
    }

    /// Writes `plain` to `dir/rel` and encrypts it in place with the real sops (which
    /// reads `dir/.sops.yaml`).
    pub fn encrypt(&self, dir: &Path, rel: &str, plain: &str) {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, plain).unwrap();
        let mut sops = self.env.sops().unwrap();
        let out = sops
            .current_dir(dir)
            .args(["encrypt", "-i", rel])
            .output()
            .unwrap();
        assert_success("sops encrypt", &out);
    }

    /// `nix flake lock --update-input` in the parent (Nix 2.8).
    pub fn lock(&self) {
        let out = self
            .env
            .nix()
            .unwrap()
            .current_dir(&self.parent)
            .args(["flake", "lock", "--offline", "--update-input", INPUT])
            .output()
            .unwrap();
        assert_success("nix flake lock", &out);
    }

    pub fn path_var(&self, first: Option<&Path>) -> std::ffi::OsString {
        let mut dirs: Vec<PathBuf> = first.into_iter().map(Path::to_path_buf).collect();
        dirs.push(self.bin_dir.clone());
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        std::env::join_paths(dirs).unwrap()
    }

    /// Our binary in the parent, with our dir first on PATH.
    pub fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = self.env.cmd(args);
        cmd.current_dir(&self.parent)
            .env("PATH", self.path_var(None));
        cmd
    }

    /// Runs `doctor --json ARGS`; returns (exit code, report, stderr).
    pub fn doctor(&self, args: &[&str]) -> (i32, serde_json::Value, String) {
        self.doctor_with(self.cmd(&[]), args)
    }

    pub fn doctor_with(
        &self,
        mut cmd: assert_cmd::Command,
        args: &[&str],
    ) -> (i32, serde_json::Value, String) {
        let out = cmd
            .args(["doctor", "--json", "--offline"])
            .args(args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let report: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not the JSON report ({e}):\n{stdout}\nstderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (
            out.status.code().unwrap_or(-1),
            report,
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }

    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        self.env.git(dir, args)
    }
}

/// The check `id` of a report.
pub fn check<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {report:#}"))
}

/// Asserts that `id` has `status` and (if given) a hint containing `hint`.
#[track_caller]
pub fn assert_check(report: &serde_json::Value, id: &str, status: &str, hint: Option<&str>) {
    let c = check(report, id);
    assert_eq!(c["status"], status, "{id}: {c:#}\nfull report: {report:#}");
    if let Some(h) = hint {
        let hints = c["hints"].as_array().unwrap();
        assert!(
            hints.iter().any(|x| x.as_str().unwrap().contains(h)),
            "{id}: no hint containing {h:?}: {c:#}"
        );
    }
}
