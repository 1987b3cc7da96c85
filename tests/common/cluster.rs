//! A complete sandbox for the daily loop: a parent flake repo (`work/cluster`) with
//! the input `kubenix-secrets = git+file:./secrets`, a nested secrets repo with the
//! secrets flake, a `.sops.yaml` for the fixture key `age-a`, and secrets encrypted by
//! the real sops; the input locked by the real Nix and everything committed.
//! Built on [`TestEnv`], so every tool runs hermetic.

use super::{assert_success, require_tool, tool_path, TestEnv};
use std::path::{Path, PathBuf};

/// The parent's flake input name.
pub const INPUT: &str = "kubenix-secrets";

/// The fixture key every secret is encrypted for.
pub fn age_a() -> String {
    std::fs::read_to_string(super::sops_fixtures().join("keys/age-a.pub"))
        .unwrap()
        .trim()
        .to_string()
}

/// A second fixture key (for rekey).
pub fn age_b() -> String {
    std::fs::read_to_string(super::sops_fixtures().join("keys/age-b.pub"))
        .unwrap()
        .trim()
        .to_string()
}

/// The `.sops.yaml` of the secrets repo, with comments that a rekey must keep.
pub fn sops_yaml(recipients: &str) -> String {
    format!(
        "# Who can read the secrets. Keep this comment.\n\
         creation_rules:\n  \
           # every secret\n  \
           - path_regex: secrets/.*\n    \
             age: {recipients} # the team\n"
    )
}

/// The sandbox. `env` is the hermetic world; `parent` and `inner` the two repos.
pub struct Cluster {
    pub env: TestEnv,
    pub parent: PathBuf,
    pub inner: PathBuf,
}

impl Cluster {
    /// Builds the sandbox with `secrets` (file name, plaintext) encrypted by the real
    /// sops; fails the test when sops or nix is missing (see `require_tool`).
    pub fn new(secrets: &[(&str, &str)]) -> Cluster {
        for tool in ["sops", "nix", "git"] {
            require_tool(tool);
        }
        let env = TestEnv::new();
        env.install_fixture_identity("age-a");
        let parent = env.work().join("cluster");
        let inner = parent.join("secrets");
        std::fs::create_dir_all(inner.join("secrets")).unwrap();
        let c = Cluster { env, parent, inner };
        std::fs::write(
            c.inner.join("flake.nix"),
            git_secrets::nix::template::SECRETS_FLAKE,
        )
        .unwrap();
        std::fs::write(c.inner.join(".sops.yaml"), sops_yaml(&age_a())).unwrap();
        for (name, plain) in secrets {
            c.sops_encrypt(name, plain);
        }
        c.git(&c.inner, &["init", "-q"]);
        c.git(&c.inner, &["add", "-A"]);
        c.git(&c.inner, &["commit", "-q", "-m", "secrets"]);

        std::fs::write(
            c.parent.join("flake.nix"),
            git_secrets::nix::template::parent_flake(INPUT, "git+file:./secrets"),
        )
        .unwrap();
        std::fs::write(c.parent.join(".gitignore"), "/secrets/\n").unwrap();
        c.git(&c.parent, &["init", "-q"]);
        c.git(&c.parent, &["add", "flake.nix", ".gitignore"]);
        c.git(&c.parent, &["commit", "-q", "-m", "cluster"]);
        let out = c
            .nix()
            .args(["flake", "lock", "--offline"])
            .current_dir(&c.parent)
            .output()
            .unwrap();
        assert_success("nix flake lock", &out);
        c.git(&c.parent, &["add", "flake.lock"]);
        c.git(&c.parent, &["commit", "-q", "-m", "lock"]);
        assert_eq!(c.locked_rev(), c.inner_head());
        c
    }

    /// Encrypts `plain` with the real sops into `secrets/secrets/<file>` (not committed).
    pub fn sops_encrypt(&self, file: &str, plain: &str) {
        let src = self.env.write(format!("plain/{file}"), plain);
        let out = self
            .env
            .sops()
            .unwrap()
            .args(["encrypt", "--age", &age_a()])
            .arg(&src)
            .output()
            .unwrap();
        assert_success("sops encrypt", &out);
        std::fs::write(self.secret(file), out.stdout).unwrap();
    }

    /// `secrets/secrets/<file>`.
    pub fn secret(&self, file: &str) -> PathBuf {
        self.inner.join("secrets").join(file)
    }

    /// The real `sops decrypt` of `secrets/secrets/<file>`; None when it fails.
    pub fn sops_decrypt(&self, file: &str) -> Option<String> {
        let out = self
            .env
            .sops()
            .unwrap()
            .arg("decrypt")
            .arg(self.secret(file))
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8(out.stdout).unwrap())
    }

    /// `git` in `dir`, hermetic; panics on failure; trimmed stdout.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        self.env.git(dir, args)
    }

    /// The inner repo's HEAD.
    pub fn inner_head(&self) -> String {
        self.git(&self.inner, &["rev-parse", "HEAD"])
    }

    /// The parent repo's HEAD.
    pub fn parent_head(&self) -> String {
        self.git(&self.parent, &["rev-parse", "HEAD"])
    }

    /// The rev `flake.lock` holds for the secrets input.
    pub fn locked_rev(&self) -> String {
        let lock: serde_json::Value =
            serde_json::from_slice(&std::fs::read(self.parent.join("flake.lock")).unwrap())
                .unwrap();
        lock["nodes"][INPUT]["locked"]["rev"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// The real `nix`, hermetic.
    pub fn nix(&self) -> std::process::Command {
        self.env.nix().unwrap()
    }

    /// Our binary in the parent root.
    pub fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        let mut c = self.env.cmd(args);
        c.current_dir(&self.parent);
        c
    }

    /// What `nix eval --raw .#secretText.<name>` prints in the parent (the
    /// ciphertext Nix sees through the lock).
    pub fn nix_eval_text(&self, name: &str) -> String {
        let out = self
            .nix()
            .args(["eval", "--offline", "--raw"])
            .arg(format!(".#secretText.{name}"))
            .current_dir(&self.parent)
            .output()
            .unwrap();
        assert_success("nix eval", &out);
        String::from_utf8(out.stdout).unwrap()
    }

    /// Writes a fake `nix` that claims `version` and appends its argv to the
    /// returned log; on a lock command it writes a flake.lock for the inner HEAD.
    pub fn fake_nix(&self, version: &str) -> (PathBuf, PathBuf) {
        let log = self.env.root().join("nix-argv.log");
        let script = self.env.root().join("fake-nix");
        let body = format!(
            "#!/bin/sh\n\
             if [ \"$1\" = --version ]; then echo '{version}'; exit 0; fi\n\
             echo \"$*\" >> '{log}'\n\
             rev=$(git -C secrets rev-parse HEAD)\n\
             printf '{{\"nodes\":{{\"{INPUT}\":{{\"locked\":{{\"lastModified\":1,\"narHash\":\"sha256-AAAA\",\"rev\":\"%s\",\"type\":\"git\",\"url\":\"file:./secrets\"}},\"original\":{{\"type\":\"git\",\"url\":\"file:./secrets\"}}}},\"root\":{{\"inputs\":{{\"{INPUT}\":\"{INPUT}\"}}}}}},\"root\":\"root\",\"version\":7}}\\n' \"$rev\" > flake.lock\n",
            log = log.display()
        );
        super::write_script(&script, &body);
        (script, log)
    }

    /// The path of the real nix binary (for wrappers).
    pub fn real_nix_path() -> PathBuf {
        tool_path("nix").unwrap()
    }
}
