//! `git secrets hooks install|uninstall`: the guards block each leak class on a real
//! `git commit` / `git push` and let a clean one through; an existing hook keeps
//! running and comes back on uninstall; core.hooksPath is honoured.

mod cluster;
mod common;

use cluster::{key_text, Cluster, TOKEN};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

impl Cluster {
    /// `git ARGS` in `dir` with our binary first on PATH (hooks run `git secrets`).
    fn git_hooked(&self, dir: &Path, args: &[&str]) -> Output {
        self.env
            .git_cmd(dir, args)
            .env("PATH", self.path_var(None))
            .output()
            .unwrap()
    }

    /// Stages `rel` with `text` and tries to commit; returns the commit's output.
    fn try_commit(&self, rel: &str, text: &str) -> Output {
        fs::write(self.parent.join(rel), text).unwrap();
        self.git(&self.parent, &["add", "-f", rel]);
        self.git_hooked(&self.parent, &["commit", "-qm", rel])
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string() + &String::from_utf8_lossy(&o.stdout)
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn pre_commit_blocks_each_leak_class_and_passes_a_clean_commit() {
    let c = Cluster::new();
    c.cmd(&["hooks", "install"]).assert().success();
    // clean
    let out = c.try_commit("README.md", "# cluster\n");
    assert!(out.status.success(), "{}", stderr(&out));
    // a plaintext value of a secret
    let out = c.try_commit("ci.env", &format!("TOKEN={TOKEN}\n"));
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
    let out = c.try_commit("kubeconfig.json", &enc);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("staged.sops"), "{}", stderr(&out));
    c.git(&c.parent, &["rm", "-q", "--cached", "kubeconfig.json"]);
    // a private age key
    let out = c.try_commit("key.txt", &key_text("age-a"));
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
    let c = Cluster::new();
    let remote = c.env.root().join("remote.git");
    c.git(
        c.env.root(),
        &["init", "-q", "--bare", remote.to_str().unwrap()],
    );
    c.git(
        &c.parent,
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
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
    let c = Cluster::new();
    let hooks = c.parent.join(".git/hooks");
    fs::create_dir_all(&hooks).unwrap();
    let mine = hooks.join("pre-commit");
    let script = "#!/bin/sh\necho ran >> \"$(git rev-parse --git-dir)/mine-ran\"\n";
    fs::write(&mine, script).unwrap();
    fs::set_permissions(&mine, fs::Permissions::from_mode(0o755)).unwrap();
    c.cmd(&["hooks", "install"]).assert().success();
    let out = c.try_commit("README.md", "hi\n");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        c.parent.join(".git/mine-ran").is_file(),
        "the saved hook did not run"
    );
    // the saved hook failing blocks the commit too
    fs::write(
        hooks.join("pre-commit.git-secrets-saved"),
        "#!/bin/sh\nexit 3\n",
    )
    .unwrap();
    let out = c.try_commit("README.md", "hi again\n");
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
    let c = Cluster::new();
    c.git(&c.parent, &["config", "core.hooksPath", ".githooks"]);
    c.cmd(&["hooks", "install"]).assert().success();
    assert!(c.parent.join(".githooks/pre-commit").is_file());
    assert!(!c.parent.join(".git/hooks/pre-commit").exists());
    let out = c.try_commit("ci.env", &format!("TOKEN={TOKEN}\n"));
    assert!(
        !out.status.success(),
        "the guard in core.hooksPath did not run"
    );
    c.cmd(&["hooks", "uninstall"]).assert().success();
    assert!(!c.parent.join(".githooks/pre-commit").exists());
}
