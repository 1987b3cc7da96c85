//! `git secrets demo [DIR]`: a complete sandbox from the embedded example —
//! a public parent flake, a private secrets repo with its own throwaway key
//! (never the user's), then init → add → rotate → list → show → exec →
//! example → doctor, each printed as the command a user would type.

use super::Ctx;
use crate::error::{Error, Result};
use crate::sops::file::SopsFile;
use crate::sops::formats::Format;
use crate::sops::keys::Identities;
use clap::Args;
use console::style;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The tool's public example, embedded: (name, encrypted file).
const EXAMPLE_SECRETS: [(&str, &[u8]); 4] = [
    (
        "kubeconfig",
        include_bytes!("../../secrets-example/secrets/kubeconfig.yaml"),
    ),
    (
        "hcloud-token",
        include_bytes!("../../secrets-example/secrets/hcloud-token.yaml"),
    ),
    (
        "talosconfig",
        include_bytes!("../../secrets-example/secrets/talosconfig.yaml"),
    ),
    (
        "argocd-admin",
        include_bytes!("../../secrets-example/secrets/argocd-admin.yaml"),
    ),
];
/// The example's public-on-purpose key.
const EXAMPLE_KEY: &str = include_str!("../../secrets-example/key.txt");

const PARENT_FLAKE: &str = r#"{
  description = "kubenix-cluster: a public cluster flake (git secrets demo)";

  # The secrets input is added by `git secrets init`.
  outputs = { self, ... }@inputs:
    let
      secrets = inputs.kubenix-cluster-secrets.lib.secrets;
    in
    {
      # Paths to encrypted files, never plaintext: decryption happens at run time.
      secretFiles = builtins.mapAttrs (_: toString) secrets;
      hcloudTokenCiphertext = builtins.readFile secrets.hcloud-token;
    };
}
"#;

const SERVICE: &str = r#"# services/argocd.nix — a public service definition (demo)
{ secrets, ... }: {
  argocd.adminSecretFile = secrets.argocd-admin;
}
"#;

/// Runs the demo's steps with a scrubbed environment rooted in DIR.
struct Sandbox {
    dir: PathBuf,
    exe: PathBuf,
    nix: bool,
}

impl Sandbox {
    fn env(&self, cmd: &mut Command) {
        let home = self.dir.join("home");
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().into_owned();
            if k.starts_with("SOPS_") || k.starts_with("GIT_") {
                cmd.env_remove(&k);
            }
        }
        // `git secrets` in hooks and on the command line must be this binary.
        let bin_dir = self.exe.parent().map(Path::to_path_buf).unwrap_or_default();
        let path = std::env::var_os("PATH").unwrap_or_default();
        let path =
            std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(&path)))
                .unwrap_or(path);
        cmd.env("PATH", path);
        cmd.env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.dir.join("gitconfig"))
            .env("NO_COLOR", "1")
            .env("EDITOR", "false")
            .env("NIX_CONFIG", "experimental-features = nix-command flakes");
    }

    /// Prints `$ git secrets ARGS` and runs it in `cwd`, stdin from `input`.
    fn step(&self, cwd: &Path, args: &[&str], input: Option<&[u8]>) -> Result<()> {
        // shell-quoted, so the line can be copied and run as shown
        let shown = format!("git secrets {}", crate::quote::command_line(args));
        eprintln!("\n{} {}", style("$").cyan().bold(), style(&shown).bold());
        let mut cmd = Command::new(&self.exe);
        self.env(&mut cmd);
        cmd.current_dir(cwd).args(args);
        self.run(cmd, input, &shown)
    }

    fn shell(&self, cwd: &Path, shown: &str, program: &str, args: &[&str]) -> Result<()> {
        eprintln!("\n{} {}", style("$").cyan().bold(), style(shown).bold());
        let mut cmd = Command::new(program);
        self.env(&mut cmd);
        cmd.current_dir(cwd).args(args);
        self.run(cmd, None, shown)
    }

    fn run(&self, mut cmd: Command, input: Option<&[u8]>, shown: &str) -> Result<()> {
        use std::io::Write;
        cmd.stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = cmd
            .spawn()
            .map_err(|e| Error::new(format!("cannot run {shown}: {e}")))?;
        if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin
                .write_all(bytes)
                .map_err(|e| Error::new(format!("cannot feed {shown}: {e}")))?;
        }
        let status = child
            .wait()
            .map_err(|e| Error::new(format!("{shown}: {e}")))?;
        if !status.success() {
            return Err(Error::new(format!(
                "demo step failed: {shown} ({})",
                crate::error::exit_status(status)
            ))
            .hint(format!(
                "the sandbox is kept for a look: {}",
                self.dir.display()
            )));
        }
        Ok(())
    }

    fn git(&self, cwd: &Path, args: &[&str]) -> Result<()> {
        let mut cmd = crate::git::command();
        self.env(&mut cmd);
        let out = cmd
            .current_dir(cwd)
            .args(args)
            .output()
            .map_err(|e| Error::new(format!("cannot run git: {e}")).hint("install git"))?;
        if !out.status.success() {
            return Err(Error::new(format!(
                "git {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(())
    }
}

/// The one shell line that makes the sandbox usable from the user's shell.
fn sandbox_line(key: &Path, parent: &Path) -> String {
    format!(
        "export SOPS_AGE_KEY_FILE={} && cd {}",
        crate::quote::shell(&key.to_string_lossy()),
        crate::quote::shell(&parent.to_string_lossy())
    )
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to build the demo (default: a new temp dir, kept and printed).
    pub dir: Option<PathBuf>,
}

pub fn run(ctx: &Ctx, args: DemoArgs) -> Result<i32> {
    let dir = match &args.dir {
        Some(d) => {
            let d = ctx.cwd.join(d);
            if d.exists()
                && std::fs::read_dir(&d)
                    .map_err(|e| Error::io("read", &d, e))?
                    .next()
                    .is_some()
            {
                return Err(Error::usage(format!("{} is not empty", d.display()))
                    .hint("give a new or empty directory, or none for a fresh temp dir"));
            }
            std::fs::create_dir_all(&d).map_err(|e| Error::io("create", &d, e))?;
            d.canonicalize().map_err(|e| Error::io("resolve", &d, e))?
        }
        None => tempfile::Builder::new()
            .prefix("git-secrets-demo.")
            .tempdir()
            .map_err(|e| Error::new(format!("cannot create a temp dir: {e}")))?
            .keep(),
    };
    let exe = std::env::current_exe()
        .map_err(|e| Error::new(format!("cannot find this program: {e}")))?;
    let nix = crate::nix::Nix::discover().is_ok();
    let sb = Sandbox {
        dir: dir.clone(),
        exe,
        nix,
    };
    ctx.ui.status(format!("demo sandbox: {}", dir.display()));
    ctx.ui
        .status("(its own HOME and age key; your ~/.config and keys are not touched)");
    if !sb.nix {
        ctx.ui
            .status("note: nix is not installed, so the lock steps are skipped (--no-lock)");
    }

    // The public parent flake.
    std::fs::write(
        dir.join("gitconfig"),
        "[user]\n\tname = Demo User\n\temail = demo@example.invalid\n[init]\n\tdefaultBranch = main\n",
    )
    .map_err(|e| Error::io("write", &dir.join("gitconfig"), e))?;
    let parent = dir.join("kubenix-cluster");
    std::fs::create_dir_all(parent.join("services"))
        .map_err(|e| Error::io("create", &parent, e))?;
    std::fs::write(parent.join("flake.nix"), PARENT_FLAKE)
        .map_err(|e| Error::io("write", &parent, e))?;
    std::fs::write(parent.join("services/argocd.nix"), SERVICE)
        .map_err(|e| Error::io("write", &parent, e))?;
    sb.git(&parent, &["init", "-q"])?;
    sb.git(&parent, &["add", "flake.nix", "services"])?;
    sb.git(&parent, &["commit", "-qm", "kubenix-cluster: public flake"])?;
    ctx.ui.ok(format!(
        "created the public parent repo {}",
        parent.display()
    ));

    let lock_flag: &[&str] = if sb.nix {
        &["--offline"]
    } else {
        &["--no-lock"]
    };
    let with = |base: &[&'static str]| -> Vec<&'static str> {
        let mut v = base.to_vec();
        v.extend_from_slice(lock_flag);
        v
    };
    sb.step(&parent, &with(&["init", "--new", "--yes"]), None)?;

    // The example's placeholder secrets become the sandbox's "real" ones.
    let example_ids = Identities::from_age_text(EXAMPLE_KEY, "embedded example key");
    for (name, enc) in EXAMPLE_SECRETS {
        let file = SopsFile::parse(enc, Format::Yaml)?;
        let plain = file.decrypt(&example_ids)?;
        let bytes = zeroize::Zeroizing::new(Format::Yaml.emit_plain(&plain.docs.0, 4)?);
        sb.step(&parent, &with(&["add", name, "--from", "-"]), Some(&bytes))?;
    }
    // The new token comes in on stdin, as a user would pipe it from a password
    // manager: a value in argv is visible in `ps` and kept in shell history.
    sb.step(
        &parent,
        &with(&["rotate", "hcloud-token", "--set-from", "hcloud_token=-"]),
        Some(b"hc0RotatedRotatedRotatedRotatedRotatedRotatedRotatedRotatedRo\n"),
    )?;
    sb.step(&parent, &with(&["rotate", "kubeconfig"]), None)?;
    sb.step(&parent, &["list"], None)?;
    sb.step(
        &parent,
        &["show", "hcloud-token", "--field", "hcloud_token"],
        None,
    )?;
    sb.step(
        &parent,
        &[
            "exec",
            "kubeconfig",
            "--file",
            "KUBECONFIG",
            "--",
            "sh",
            "-c",
            "grep current-context \"$KUBECONFIG\"",
        ],
        None,
    )?;
    sb.step(&parent, &["example"], None)?;
    sb.step(&parent, &["hooks", "install"], None)?;
    sb.git(&parent, &["add", "-A"])?;
    sb.git(
        &parent,
        &[
            "commit",
            "-qm",
            "wire in the private secrets repo, publish secrets-example/",
        ],
    )?;
    sb.step(&parent, &["example", "--check"], None)?;
    if sb.nix {
        sb.shell(
            &parent,
            "nix eval --offline .#secretFiles",
            "nix",
            &["eval", "--offline", ".#secretFiles"],
        )?;
    }
    sb.step(&parent, &["doctor"], None)?;
    eprintln!();
    ctx.ui
        .ok(format!("demo done; look around in {}", parent.display()));
    // The demo's key lives in the sandbox's own HOME: without this line, `git
    // secrets show` there finds no identity in the user's.
    let key = dir.join("home/.config/sops/age/keys.txt");
    ctx.ui.status(format!(
        "the sandbox's age key is not in your HOME; to use the sandbox, run:\n  {}",
        sandbox_line(&key, &parent)
    ));
    ctx.ui.status("  git secrets show kubeconfig");
    Ok(0)
}
