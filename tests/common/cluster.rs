//! The one test world: a parent flake repo (`work/cluster`) with the input
//! `kubenix-secrets = git+file:./secrets`, a nested secrets repo (the secrets flake, a
//! `.sops.yaml` for the fixture key `age-a`, secrets encrypted by the real sops), the
//! input locked by the real Nix and everything committed. Built on [`TestEnv`], so every
//! tool runs hermetic.
//!
//! [`Cluster::new`] builds that world; [`Cluster::builder`] adds or leaves out parts:
//!
//! ```ignore
//! let c = Cluster::builder()
//!     .secret("kubeconfig.yaml", KUBE)     // encrypted by the real sops
//!     .fixture_secret("app.yaml", "yaml-simple") // a stored sops file from fixtures/sops
//!     .plain_file("notes.yaml", "x: 1\n")  // as it is, for Nix and git only
//!     .with_kubeconfig()                   // kubeconfig.json holding TOKEN
//!     .with_example()                      // secrets-example/ with its own key (age-b)
//!     .with_remotes()                      // bare remotes for both repos, pushed
//!     .with_hooks()                        // `git secrets hooks install` in the parent
//!     .parent_flake(TEXT)                  // another parent flake.nix
//!     .unlocked()                          // no Nix: no flake.lock
//!     .in_parent_worktree()                // work in a `git worktree add` of the parent
//!     .build();
//! let bob = c.teammate("bob");             // a second clone through the remotes
//! let p = c.encrypt_with_ours("tok.yaml", "json", PLAIN); // no sops needed
//! ```
//!
//! Worlds that start before the secrets repo exists (where `init` starts) come from
//! [`TestEnv::parent_repo`], [`TestEnv::flake_repo`], [`TestEnv::secrets_repo`] and
//! [`TestEnv::bare_remote`]. Fixture keys come through `key_file`, `key_text`,
//! `public_key` and `ssh_key_text` in `tests/common`.
//!
//! A world needs only the tools its parts need: sops for `.secret`/`.with_example`,
//! nix unless `.unlocked()`; a missing one fails the test (see [`require_tool`]).

#![allow(dead_code)]

use super::{assert_success, require_tool, sops_fixtures, tool_path, TestEnv};
pub use super::{key_text, public_key};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

/// The parent's flake input name.
pub const INPUT: &str = "kubenix-secrets";

/// A secret value long enough to be searched for; never printed in full by doctor.
pub const TOKEN: &str = "hunter2-very-secret-token-value";

/// The kubeconfig of [`Cluster::healthy`]; holds [`TOKEN`].
pub const KUBECONFIG_JSON: &str = r#"{"server":"https://k8s.example.invalid:6443","token":"hunter2-very-secret-token-value","note_unencrypted":"not a secret"}"#;

/// Its public twin in `secrets-example/`.
const EXAMPLE_JSON: &str =
    r#"{"server":"example-server","token":"example-token","note_unencrypted":"example"}"#;

/// A parent flake with no secrets input yet (for `init`): `names` lists the secrets of
/// `kubenix-cluster-secrets` once init has added it.
pub const PARENT_FLAKE: &str = r#"{
  description = "kubenix-cluster (test)";

  outputs = { self, ... }@inputs: {
    names = builtins.attrNames inputs.kubenix-cluster-secrets.lib.secrets;
  };
}
"#;

/// The fixture key every secret is encrypted for.
pub fn age_a() -> String {
    public_key("age-a")
}

/// A second fixture key (for rekey, and the example's own key).
pub fn age_b() -> String {
    public_key("age-b")
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

/// The rev `parent/flake.lock` holds for `input` ("" when none).
pub fn locked_rev_of(parent: &Path, input: &str) -> String {
    let lock: serde_json::Value =
        serde_json::from_slice(&fs::read(parent.join("flake.lock")).unwrap()).unwrap();
    lock["nodes"][input]["locked"]["rev"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// The rev `parent/flake.lock` holds for [`INPUT`].
pub fn locked_rev(parent: &Path) -> String {
    locked_rev_of(parent, INPUT)
}

/// A flake.lock that locks [`INPUT`] to `rev`, as a fake Nix writes it.
pub fn lock_file_for(rev: &str) -> String {
    format!(
        r#"{{"nodes":{{"{INPUT}":{{"locked":{{"lastModified":1,"narHash":"sha256-AAAA","rev":"{rev}","type":"git","url":"file:./secrets"}},"original":{{"type":"git","url":"file:./secrets"}}}},"root":{{"inputs":{{"{INPUT}":"{INPUT}"}}}}}},"root":"root","version":7}}"#
    )
}

/// The dir of the binary under test (GIT_SECRETS_TEST_BIN, to run against another build).
pub fn bin_dir() -> PathBuf {
    super::bin().parent().unwrap().to_path_buf()
}

/// PATH with `first` (if any), then our binary's dir, then the caller's PATH: what a
/// hook or a script needs to find `git secrets`.
pub fn path_with_bin(first: Option<&Path>) -> OsString {
    let mut dirs: Vec<PathBuf> = first.into_iter().map(Path::to_path_buf).collect();
    dirs.push(bin_dir());
    dirs.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    std::env::join_paths(dirs).unwrap()
}

/// One file of the inner repo's `secrets/` dir, as the builder makes it.
enum Part {
    /// Encrypted by the real sops for `age-a`.
    Sops(String, String),
    /// Copied from `fixtures/sops/<case>/encrypted.yaml`.
    Fixture(String, String),
    /// Written as it is, not encrypted (where only Nix or git reads it).
    Plain(String, String),
}

/// What [`Cluster::builder`] puts in the world; [`ClusterBuilder::build`] makes it.
#[must_use]
pub struct ClusterBuilder {
    secrets: Vec<Part>,
    parent_flake: Option<String>,
    example: bool,
    lock: bool,
    remotes: bool,
    hooks: bool,
    parent_worktree: bool,
}

impl ClusterBuilder {
    /// A secret `secrets/<file>` with `plain` encrypted by the real sops (needs sops).
    pub fn secret(mut self, file: &str, plain: &str) -> Self {
        self.secrets.push(Part::Sops(file.into(), plain.into()));
        self
    }

    /// The secret `kubeconfig.json` holding [`TOKEN`] (needs sops).
    pub fn with_kubeconfig(self) -> Self {
        self.secret("kubeconfig.json", KUBECONFIG_JSON)
    }

    /// Several [`secret`](Self::secret)s.
    pub fn secrets(mut self, secrets: &[(&str, &str)]) -> Self {
        for (file, plain) in secrets {
            self = self.secret(file, plain);
        }
        self
    }

    /// A secret `secrets/<file>` copied from the stored sops file of a fixture case
    /// (`fixtures/sops/<case>/encrypted.yaml`): no sops needed.
    pub fn fixture_secret(mut self, file: &str, case: &str) -> Self {
        self.secrets.push(Part::Fixture(file.into(), case.into()));
        self
    }

    /// A file `secrets/<file>` holding `text` as it is, not encrypted: for tests of
    /// the lock step, where only Nix and git read it.
    pub fn plain_file(mut self, file: &str, text: &str) -> Self {
        self.secrets.push(Part::Plain(file.into(), text.into()));
        self
    }

    /// The parent's `flake.nix` (default: [`parent_flake`] with [`INPUT`] =
    /// `git+file:./secrets`).
    ///
    /// [`parent_flake`]: git_secrets::nix::template::parent_flake
    pub fn parent_flake(mut self, text: &str) -> Self {
        self.parent_flake = Some(text.into());
        self
    }

    /// The public `secrets-example/` in the parent, with its own key (age-b) in
    /// `key.txt` and a `kubeconfig.json` encrypted for it (needs sops).
    pub fn with_example(mut self) -> Self {
        self.example = true;
        self
    }

    /// No Nix: no `flake.lock` (the parent's input stays unlocked).
    pub fn unlocked(mut self) -> Self {
        self.lock = false;
        self
    }

    /// Bare remotes `remotes/secrets.git` and `remotes/cluster.git` for the two repos,
    /// everything pushed, upstreams set.
    pub fn with_remotes(mut self) -> Self {
        self.remotes = true;
        self
    }

    /// `git secrets hooks install` in the parent.
    pub fn with_hooks(mut self) -> Self {
        self.hooks = true;
        self
    }

    /// Then a linked worktree of the parent (`git worktree add ../cluster-wt`, whose
    /// `.git` is a file) with a copy of the secrets repo in it, and the world's
    /// `parent`/`inner` are those: the user works in the worktree.
    pub fn in_parent_worktree(mut self) -> Self {
        self.parent_worktree = true;
        self
    }

    /// Makes the world; fails the test when a tool a part needs is missing.
    pub fn build(self) -> Cluster {
        require_tool("git");
        let needs_sops = self.example || self.secrets.iter().any(|p| matches!(p, Part::Sops(..)));
        if needs_sops {
            require_tool("sops");
        }
        if self.lock {
            require_tool("nix");
        }
        let env = TestEnv::new();
        env.install_fixture_identity("age-a");
        let parent = env.work().join("cluster");
        let inner = parent.join("secrets");
        let c = Cluster { env, parent, inner };

        // the secrets repo
        c.env.secrets_repo(&c.inner);
        for part in &self.secrets {
            match part {
                Part::Sops(file, plain) => c.sops_encrypt(file, plain),
                Part::Fixture(file, case) => {
                    fs::copy(
                        sops_fixtures().join(case).join("encrypted.yaml"),
                        c.secret(file),
                    )
                    .unwrap();
                }
                Part::Plain(file, text) => fs::write(c.secret(file), text).unwrap(),
            }
        }
        c.commit_inner_changes("secrets");

        // the public example, with its own throwaway key
        if self.example {
            let ex = c.parent.join("secrets-example");
            fs::create_dir_all(ex.join("secrets")).unwrap();
            fs::write(ex.join("key.txt"), key_text("age-b")).unwrap();
            fs::write(ex.join(".sops.yaml"), sops_yaml(&age_b())).unwrap();
            c.encrypt_in_place(&ex, "secrets/kubeconfig.json", EXAMPLE_JSON);
        }

        // the parent
        let flake = self.parent_flake.unwrap_or_else(|| {
            git_secrets::nix::template::parent_flake(INPUT, "git+file:./secrets")
        });
        fs::write(c.parent.join("flake.nix"), flake).unwrap();
        fs::write(c.parent.join(".gitignore"), "/secrets/\n").unwrap();
        c.git(&c.parent, &["init", "-q", "-b", "main"]);
        c.git(&c.parent, &["add", "-A"]);
        c.git(&c.parent, &["commit", "-q", "-m", "cluster"]);
        if self.lock {
            c.lock();
            c.git(&c.parent, &["add", "flake.lock"]);
            c.git(&c.parent, &["commit", "-q", "-m", "lock"]);
            assert_eq!(c.locked_rev(), c.inner_head());
        }

        if self.remotes {
            for (repo, bare) in [(&c.inner, "secrets"), (&c.parent, "cluster")] {
                c.add_remote(repo, "origin", bare);
                c.git(repo, &["push", "-q", "-u", "origin", "main"]);
            }
        }
        if self.hooks {
            c.cmd(&["hooks", "install"]).assert().success();
        }
        if self.parent_worktree {
            return c.into_parent_worktree();
        }
        c
    }
}

/// The world. `env` is the hermetic machine; `parent` and `inner` the two repos.
pub struct Cluster {
    pub env: TestEnv,
    pub parent: PathBuf,
    pub inner: PathBuf,
}

impl Cluster {
    /// What to build: by default the secrets repo (no secrets), the parent, locked.
    pub fn builder() -> ClusterBuilder {
        ClusterBuilder {
            secrets: Vec::new(),
            parent_flake: None,
            example: false,
            lock: true,
            remotes: false,
            hooks: false,
            parent_worktree: false,
        }
    }

    /// The same world seen from a new linked worktree of the parent (branch `wt`) that
    /// holds a copy of the secrets repo.
    fn into_parent_worktree(self) -> Cluster {
        let wt = self.parent.with_file_name("cluster-wt");
        let wt_arg = wt.to_str().unwrap();
        self.git(&self.parent, &["worktree", "add", "-q", "-b", "wt", wt_arg]);
        assert!(
            wt.join(".git").is_file(),
            "a linked worktree's .git is a file"
        );
        super::copy_dir(&self.inner, &wt.join("secrets"));
        Cluster {
            inner: wt.join("secrets"),
            parent: wt,
            env: self.env,
        }
    }

    /// The parent's git dir (for a linked worktree: its own, under the main `.git`).
    pub fn parent_git_dir(&self) -> PathBuf {
        PathBuf::from(self.git(&self.parent, &["rev-parse", "--absolute-git-dir"]))
    }

    /// The world with `secrets` (file name, plaintext) encrypted by the real sops,
    /// locked by the real Nix; fails the test when sops or nix is missing.
    pub fn new(secrets: &[(&str, &str)]) -> Cluster {
        Cluster::builder().secrets(secrets).build()
    }

    /// doctor's and the hooks' world: one secret `kubeconfig.json` holding [`TOKEN`],
    /// and the public example; healthy, every check passes.
    pub fn healthy() -> Cluster {
        Cluster::builder().with_kubeconfig().with_example().build()
    }

    /// Encrypts `plain` with the real sops for `age-a` into `secrets/secrets/<file>`
    /// (not committed).
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
        fs::write(self.secret(file), out.stdout).unwrap();
    }

    /// Encrypts `plain` with our own `encrypt` for `age-a` into `secrets/secrets/<file>`
    /// (output format from the extension; not committed). The plaintext goes in through
    /// stdin, so it never lands in a file of the test; no sops needed.
    pub fn encrypt_with_ours(&self, file: &str, input_type: &str, plain: &str) -> PathBuf {
        let ext = Path::new(file).extension().unwrap().to_str().unwrap();
        let out = self
            .env
            .cmd([
                "encrypt",
                "--age",
                &age_a(),
                "--input-type",
                input_type,
                "--output-type",
                ext,
                "/dev/stdin",
            ])
            .write_stdin(plain)
            .output()
            .unwrap();
        assert_success("encrypt", &out);
        let path = self.secret(file);
        fs::write(&path, &out.stdout).unwrap();
        path
    }

    /// Writes `plain` to `dir/rel` and encrypts it in place with the real sops (which
    /// reads `dir/.sops.yaml`).
    pub fn encrypt_in_place(&self, dir: &Path, rel: &str, plain: &str) {
        let path = dir.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, plain).unwrap();
        let out = self
            .env
            .sops()
            .unwrap()
            .current_dir(dir)
            .args(["encrypt", "-i", rel])
            .output()
            .unwrap();
        assert_success("sops encrypt", &out);
    }

    /// `secrets/secrets/<file>`.
    pub fn secret(&self, file: &str) -> PathBuf {
        self.inner.join("secrets").join(file)
    }

    /// The real `sops decrypt` of `secrets/secrets/<file>`; None when it fails.
    pub fn sops_decrypt(&self, file: &str) -> Option<String> {
        self.sops_decrypt_path(&self.secret(file))
    }

    /// The real `sops decrypt` of any file; None when it fails.
    pub fn sops_decrypt_path(&self, path: &Path) -> Option<String> {
        let out = self
            .env
            .sops()
            .unwrap()
            .arg("decrypt")
            .arg(path)
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

    /// `git ARGS` in `dir` with our binary first on PATH (hooks run `git secrets`).
    pub fn git_hooked(&self, dir: &Path, args: &[&str]) -> Output {
        self.env
            .git_cmd(dir, args)
            .env("PATH", path_with_bin(None))
            .output()
            .unwrap()
    }

    /// `git add -A` and `git commit -m MSG` in the inner repo; returns the new HEAD.
    pub fn commit_inner_changes(&self, msg: &str) -> String {
        self.git(&self.inner, &["add", "-A"]);
        self.git(&self.inner, &["commit", "-q", "-m", msg]);
        self.inner_head()
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
        locked_rev(&self.parent)
    }

    /// `nix flake lock --offline --update-input` in the parent (Nix 2.8).
    pub fn lock(&self) {
        let out = self
            .nix()
            .current_dir(&self.parent)
            .args(["flake", "lock", "--offline", "--update-input", INPUT])
            .output()
            .unwrap();
        assert_success("nix flake lock", &out);
    }

    /// The real `nix`, hermetic.
    pub fn nix(&self) -> std::process::Command {
        self.env.nix().unwrap()
    }

    /// The dir of our binary (first on PATH of [`cmd`](Self::cmd)).
    pub fn bin_dir(&self) -> PathBuf {
        bin_dir()
    }

    /// See [`path_with_bin`].
    pub fn path_var(&self, first: Option<&Path>) -> OsString {
        path_with_bin(first)
    }

    /// Our binary in the parent root, with our dir first on PATH.
    pub fn cmd(&self, args: &[&str]) -> assert_cmd::Command {
        self.cmd_in(&self.parent, args)
    }

    /// Our binary as a `std::process::Command` (to spawn, to signal) in the parent
    /// root, our dir first on PATH.
    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut c = self.env.command(super::bin());
        c.current_dir(&self.parent)
            .env("PATH", path_with_bin(None))
            .args(args);
        c
    }

    /// Spawns `exec --tmpfs kubeconfig --file K -- sh -c 'printf "%s\n" "$K"; exec sleep
    /// 30'` in the parent, reads the tmpfs file CMD names and checks it holds `marker`
    /// while CMD runs; returns the running tool and that file.
    pub fn spawn_sleeping_exec(&self, marker: &str) -> (std::process::Child, PathBuf) {
        use std::io::BufRead;
        let script = r#"printf '%s\n' "$K"; exec sleep 30"#;
        let mut child = self
            .command(&file_for_sh(&["--tmpfs"], "K", script))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let file = PathBuf::from(line.trim());
        let held = fs::read_to_string(&file).unwrap();
        assert!(
            held.contains(marker),
            "the file holds the plaintext while CMD runs"
        );
        (child, file)
    }

    /// Our binary in `dir` (a teammate's clone, the inner repo), our dir first on PATH.
    pub fn cmd_in(&self, dir: &Path, args: &[&str]) -> assert_cmd::Command {
        let mut c = self.env.cmd(args);
        c.current_dir(dir).env("PATH", path_with_bin(None));
        c
    }

    /// Runs `doctor --json --offline ARGS`; returns (exit code, report, stderr).
    pub fn doctor(&self, args: &[&str]) -> (i32, serde_json::Value, String) {
        self.doctor_with(self.cmd(&[]), args)
    }

    /// Runs `doctor --json --offline`; asserts it exits 1 and check `id` fails (with a
    /// hint containing `hint`, if given); returns the report.
    #[track_caller]
    pub fn doctor_fails(&self, id: &str, hint: Option<&str>) -> serde_json::Value {
        let (code, report, stderr) = self.doctor(&[]);
        assert_eq!(code, 1, "{stderr}\n{report:#}");
        assert_check(&report, id, "fail", hint);
        report
    }

    /// [`doctor`](Self::doctor) through a prepared command (other env, other dir).
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
        // An unquoted here-document: the shell puts the inner HEAD in for $rev.
        self.fake_nix_running(
            version,
            &format!(
                "rev=$(git -C secrets rev-parse HEAD)\ncat > flake.lock <<EOF\n{}\nEOF",
                lock_file_for("$rev")
            ),
        )
    }

    /// Writes a fake `nix` (`fake-nix` in the temp root) that claims `version`,
    /// appends its argv (one line a call) to the returned log (`nix-argv.log`), then
    /// runs `action` (shell).
    pub fn fake_nix_running(&self, version: &str, action: &str) -> (PathBuf, PathBuf) {
        let log = self.env.root().join("nix-argv.log");
        let body = format!(
            "if [ \"$1\" = --version ]; then echo '{version}'; exit 0; fi\n\
             echo \"$*\" >> '{log}'\n{action}\n",
            log = log.display()
        );
        (self.env.script("fake-nix", &body), log)
    }

    /// The path of the real nix binary (for wrappers).
    pub fn real_nix_path() -> PathBuf {
        tool_path("nix").unwrap()
    }

    // ---- remotes and teammates (built with `.with_remotes()`)

    /// An empty bare repo `remotes/<bare>.git`, added to `repo` as remote `name` (not
    /// pushed); returns its path.
    pub fn add_remote(&self, repo: &Path, name: &str, bare: &str) -> PathBuf {
        let url = self.env.bare_remote(bare);
        self.git(repo, &["remote", "add", name, url.to_str().unwrap()]);
        url
    }

    /// The inner repo's bare remote, `remotes/secrets.git`.
    pub fn inner_remote(&self) -> PathBuf {
        self.env.root().join("remotes/secrets.git")
    }

    /// The parent's bare remote, `remotes/cluster.git`.
    pub fn parent_remote(&self) -> PathBuf {
        self.env.root().join("remotes/cluster.git")
    }

    /// A clone of the parent's remote at `work/<name>` on this machine, without its
    /// secrets repo yet; returns its root.
    pub fn clone_parent(&self, name: &str) -> PathBuf {
        clone_into(&self.env, &self.parent_remote(), name)
    }

    /// `main` on the inner repo's remote.
    pub fn inner_remote_head(&self) -> String {
        self.git(&self.inner_remote(), &["rev-parse", "main"])
    }

    /// `main` on the parent's remote.
    pub fn parent_remote_head(&self) -> String {
        self.git(&self.parent_remote(), &["rev-parse", "main"])
    }

    /// `git secrets init <inner remote> --offline` in the clone `dir`; its output.
    pub fn init_from_remote(&self, dir: &Path) -> Output {
        self.cmd_in(
            dir,
            &["init", self.inner_remote().to_str().unwrap(), "--offline"],
        )
        .output()
        .unwrap()
    }

    /// A teammate on this machine (same key): a clone of the parent at `work/<name>`,
    /// with the inner repo cloned by `git secrets init <inner remote>`; returns its root.
    pub fn teammate(&self, name: &str) -> PathBuf {
        let dir = self.clone_parent(name);
        assert_success(
            "teammate's git secrets init URL",
            &self.init_from_remote(&dir),
        );
        dir
    }
}

/// `git clone -q REMOTE work/<name>` in `env`; returns the clone.
pub fn clone_into(env: &TestEnv, remote: &Path, name: &str) -> PathBuf {
    let dir = env.work().join(name);
    env.git(
        &env.work(),
        [
            OsString::from("clone"),
            "-q".into(),
            remote.into(),
            dir.clone().into(),
        ],
    );
    dir
}

/// `exec [OPTS] kubeconfig --file VAR -- sh -c SCRIPT`: the kubeconfig as a file named
/// in VAR, for a shell script.
pub fn file_for_sh<'a>(opts: &[&'a str], var: &'a str, script: &'a str) -> Vec<&'a str> {
    let mut argv = vec!["exec"];
    argv.extend_from_slice(opts);
    argv.extend_from_slice(&["kubeconfig", "--file", var, "--", "sh", "-c", script]);
    argv
}

/// The check `id` of a doctor `--json` report.
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

/// The line of check `id` in doctor's text report.
#[track_caller]
pub fn check_line<'a>(report: &'a str, id: &str) -> &'a str {
    report
        .lines()
        .find(|l| l.contains(id))
        .unwrap_or_else(|| panic!("no check {id} in:\n{report}"))
}

/// Asserts that the line of check `id` in doctor's text report contains `text`.
#[track_caller]
pub fn assert_says(report: &str, id: &str, text: &str) {
    assert!(
        check_line(report, id).contains(text),
        "{id}: {text:?}\n{report}"
    );
}

impl TestEnv {
    /// A parent repo `work/kubenix-cluster` with `flake` committed as its flake.nix
    /// and nothing else: where `init` starts.
    pub fn parent_repo(&self, flake: &str) -> PathBuf {
        self.flake_repo("kubenix-cluster", flake)
    }

    /// A git repo `work/<name>` with `flake` committed as its flake.nix.
    pub fn flake_repo(&self, name: &str, flake: &str) -> PathBuf {
        let dir = self.work().join(name);
        fs::create_dir_all(&dir).unwrap();
        self.git(&dir, ["init", "-q"]);
        fs::write(dir.join("flake.nix"), flake).unwrap();
        self.git(&dir, ["add", "flake.nix"]);
        self.git(&dir, ["commit", "-qm", name]);
        dir
    }

    /// A secrets repo at `dir` as `init --new` makes one: the secrets flake, a
    /// `.sops.yaml` for the fixture key `age-a`, an empty `secrets/`; `git init`ed,
    /// nothing committed.
    pub fn secrets_repo(&self, dir: &Path) {
        fs::create_dir_all(dir.join("secrets")).unwrap();
        fs::write(
            dir.join("flake.nix"),
            git_secrets::nix::template::SECRETS_FLAKE,
        )
        .unwrap();
        fs::write(dir.join(".sops.yaml"), sops_yaml(&age_a())).unwrap();
        self.git(dir, ["init", "-q", "-b", "main"]);
    }

    /// An empty bare repo at `remotes/<name>.git`.
    pub fn bare_remote(&self, name: &str) -> PathBuf {
        let remote = self.root().join(format!("remotes/{name}.git"));
        fs::create_dir_all(&remote).unwrap();
        self.git(&remote, ["init", "-q", "--bare"]);
        remote
    }
}
