//! Living beside awslabs/git-secrets, which ships a binary of the same name
//! and whose hooks run `git secrets --pre_commit_hook -- …`: its options are
//! forwarded to the next `git-secrets` on PATH that is not this binary. With
//! none, we fail closed (a hook must never pass silently).

use crate::error::Error;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The options of awslabs/git-secrets.
pub const AWSLABS_FLAGS: [&str; 11] = [
    "--scan",
    "--scan-history",
    "--install",
    "--list",
    "--add",
    "--add-provider",
    "--register-aws",
    "--aws-provider",
    "--pre_commit_hook",
    "--commit_msg_hook",
    "--prepare_commit_msg_hook",
];

/// If `args[1]` is an awslabs option, runs the other binary in place of this one
/// (returning only when it cannot start) or explains there is none; otherwise `None`.
pub fn forward_if_awslabs(args: &[OsString]) -> Option<Error> {
    let first = args.get(1)?.to_str()?;
    if !AWSLABS_FLAGS.contains(&first) {
        return None;
    }
    match other_git_secrets() {
        Some(other) => {
            use std::os::unix::process::CommandExt;
            let err = std::process::Command::new(&other).args(&args[1..]).exec();
            Some(Error::new(format!(
                "cannot run awslabs git-secrets at {}: {err}",
                other.display()
            )))
        }
        None => Some(
            Error::new(format!(
                "'{first}' is an option of awslabs/git-secrets, which is not installed"
            ))
            .hint(
                "this git-secrets (sops/age secrets for Nix flakes) shares its name; install awslabs/git-secrets \
                 (Debian/Ubuntu: apt install git-secrets) and put it on PATH, or remove its hooks from .git/hooks",
            ),
        ),
    }
}

/// The first `git-secrets` on PATH that is not this executable.
pub fn other_git_secrets() -> Option<PathBuf> {
    let me = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok());
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("git-secrets"))
        .filter(|p| is_executable(p))
        .find(|p| p.canonicalize().ok() != me)
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}
