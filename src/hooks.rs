//! The parent's git hooks: a `pre-commit` guard that runs `git secrets doctor --staged`
//! and a `pre-push` guard that scans the pushed range. An existing hook is never
//! overwritten: it moves aside to `<hook>.git-secrets-saved`, our hook runs it first,
//! and `uninstall` moves it back, leaving exactly what was there.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::git::Repo;

/// The line that marks a hook as ours.
pub const MARKER: &str = "# git-secrets hook: installed by `git secrets hooks install`";
/// The suffix an existing hook gets when ours takes its place.
pub const SAVED_SUFFIX: &str = ".git-secrets-saved";
/// The hooks we install.
pub const HOOKS: [&str; 2] = ["pre-commit", "pre-push"];

/// Lines of awslabs/git-secrets hooks (they call its hook options).
pub const AWSLABS_HOOK_LINES: [&str; 3] = [
    "git secrets --pre_commit_hook",
    "git secrets --commit_msg_hook",
    "git secrets --prepare_commit_msg_hook",
];

/// The line of a hook that holds the binary it runs.
const BIN_VAR: &str = "git_secrets=";

/// The hook script `name`, running the binary at `bin`. The path is baked in at install
/// time: a hook must not depend on PATH (GUI clients and shells without ~/.cargo/bin
/// have another one, and on it awslabs/git-secrets may answer `git secrets`).
fn script(name: &str, bin: &Path) -> String {
    let body = match name {
        "pre-commit" => "exec \"$git_secrets\" doctor --staged\n".to_string(),
        // $1: the remote's name (or its URL); stdin:
        // `<local ref> <local sha> <remote ref> <remote sha>` per pushed ref
        _ => "zero_or_empty() { case \"$1\" in *[!0]*) return 1 ;; esac; return 0; }\n\
              remote=\"$1\"\n\
              printf '%s\\n' \"$input\" | {\n\
              \x20   status=0\n\
              \x20   while read -r local_ref local_sha remote_ref remote_sha; do\n\
              \x20       # a deleted ref pushes nothing\n\
              \x20       zero_or_empty \"$local_sha\" && continue\n\
              \x20       \"$git_secrets\" doctor --range \"$remote_sha..$local_sha\" --remote \"$remote\" || status=1\n\
              \x20   done\n\
              \x20   exit $status\n\
              }\n"
        .to_string(),
    };
    let read_stdin = if name == "pre-push" {
        "input=$(cat)\n"
    } else {
        ""
    };
    let run_saved = if name == "pre-push" {
        "    printf '%s\\n' \"$input\" | \"$saved\" \"$@\" || exit $?\n"
    } else {
        "    \"$saved\" \"$@\" || exit $?\n"
    };
    let bin = sh_quote(&bin.to_string_lossy());
    format!(
        "#!/bin/sh\n{MARKER}; `git secrets hooks uninstall` restores what was here.\n\
         # The binary it runs, baked in by `git secrets hooks install` (run it again after\n\
         # moving the binary); PATH at commit time does not matter.\n\
         {BIN_VAR}{bin}\n\
         {read_stdin}saved=\"$0{SAVED_SUFFIX}\"\n\
         if [ -x \"$saved\" ]; then\n{run_saved}fi\n\
         if [ ! -x \"$git_secrets\" ]; then\n\
         \x20   echo \"error: git-secrets is not at $git_secrets, where this hook was installed from\" >&2\n\
         \x20   echo \"hint: install the hooks again with the binary you use now: git secrets hooks install\" >&2\n\
         \x20   exit 1\n\
         fi\n{body}"
    )
}

/// `s` single-quoted for sh.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The binary a hook of ours runs, as baked in at install; None for a hook that is
/// not ours or predates baking (it runs whatever `git secrets` PATH finds).
pub fn baked_binary(path: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(path).ok()?;
    if !text.contains(MARKER) {
        return None;
    }
    let line = text.lines().find_map(|l| l.strip_prefix(BIN_VAR))?;
    // undo sh_quote: 'a'\''b' → a'b
    let inner = line.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(PathBuf::from(inner.replace("'\\''", "'")))
}

/// The path to bake into the hooks for the running binary: the first `git-secrets` on
/// PATH that is this binary (a stable name like ~/.nix-profile/bin/git-secrets, which
/// survives an upgrade), else the binary's own path.
pub fn binary_to_bake() -> Result<PathBuf> {
    let me = std::env::current_exe()
        .map_err(|e| Error::new(format!("cannot find the running binary: {e}")))?;
    let real = me.canonicalize().unwrap_or_else(|_| me.clone());
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let p = dir.join("git-secrets");
            if p.is_absolute() && is_executable(&p) && p.canonicalize().is_ok_and(|c| c == real) {
                return Ok(p);
            }
        }
    }
    Ok(real)
}

/// Where git looks for the repo's hooks: `core.hooksPath` (relative to the work tree
/// root) or `<common git dir>/hooks`.
pub fn hooks_dir(repo: &Repo) -> Result<PathBuf> {
    match repo.config_path("core.hooksPath")? {
        Some(p) if p.is_absolute() => Ok(p),
        Some(p) => Ok(repo.root().join(p)),
        None => Ok(repo.common_dir().join("hooks")),
    }
}

/// Whether the hook file at `path` is one of ours.
pub fn is_ours(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.contains(MARKER))
}

/// Installs both hooks into `dir`, running the binary at `bin`; a hook of ours already
/// there is refreshed (a new binary path, a newer script). Returns what was done, one
/// line each.
pub fn install(dir: &Path, bin: &Path) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let mut done = Vec::new();
    for name in HOOKS {
        let path = dir.join(name);
        let saved = dir.join(format!("{name}{SAVED_SUFFIX}"));
        let text = script(name, bin);
        if is_ours(&path) {
            if std::fs::read_to_string(&path).is_ok_and(|t| t == text) {
                done.push(format!("{name}: already installed"));
            } else {
                crate::atomic::write(&path, text.as_bytes(), 0o755)?;
                done.push(format!(
                    "{name}: refreshed {} (runs {})",
                    path.display(),
                    bin.display()
                ));
            }
            continue;
        }
        // symlink_metadata: a dangling symlink hook is still the user's hook
        if path.symlink_metadata().is_ok() {
            if saved.symlink_metadata().is_ok() {
                return Err(Error::new(format!(
                    "cannot install {name}: both {} and {} exist",
                    path.display(),
                    saved.display()
                ))
                .hint("merge or remove one of them by hand, then install again"));
            }
            std::fs::rename(&path, &saved).map_err(|e| Error::io("move", &path, e))?;
            done.push(format!(
                "{name}: moved the existing hook to {} (it still runs first)",
                saved.display()
            ));
        }
        crate::atomic::write(&path, text.as_bytes(), 0o755)?;
        done.push(format!("{name}: installed {}", path.display()));
    }
    Ok(done)
}

/// Removes our hooks from `dir` and moves saved ones back; a hook that is not ours is
/// left alone.
pub fn uninstall(dir: &Path) -> Result<Vec<String>> {
    let mut done = Vec::new();
    for name in HOOKS {
        let path = dir.join(name);
        let saved = dir.join(format!("{name}{SAVED_SUFFIX}"));
        if !is_ours(&path) {
            if path.symlink_metadata().is_ok() {
                done.push(format!("{name}: not ours, left alone"));
            } else {
                done.push(format!("{name}: not installed"));
            }
            continue;
        }
        std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
        if saved.symlink_metadata().is_ok() {
            std::fs::rename(&saved, &path).map_err(|e| Error::io("move", &saved, e))?;
            done.push(format!("{name}: removed ours, restored the previous hook"));
        } else {
            done.push(format!("{name}: removed"));
        }
    }
    Ok(done)
}

/// Files in `dir` that call awslabs/git-secrets hook options.
pub fn awslabs_hooks_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            std::fs::read_to_string(p)
                .is_ok_and(|t| AWSLABS_HOOK_LINES.iter().any(|l| t.contains(l)))
        })
        .collect();
    out.sort();
    out
}

/// Whether `path` is an executable file.
pub fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_moves_aside_and_uninstall_restores_exactly() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("hooks");
        std::fs::create_dir_all(&dir).unwrap();
        let mine = dir.join("pre-commit");
        std::fs::write(&mine, "#!/bin/sh\necho mine\n").unwrap();
        std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o750)).unwrap();
        let bin = Path::new("/opt/it's here/git-secrets");
        install(&dir, bin).unwrap();
        assert!(is_ours(&mine));
        assert_eq!(baked_binary(&dir.join("pre-push")).as_deref(), Some(bin));
        assert!(is_ours(&dir.join("pre-push")));
        assert!(dir.join("pre-commit.git-secrets-saved").is_file());
        // a second install changes nothing
        let again = install(&dir, bin).unwrap();
        assert!(
            again.iter().all(|l| l.contains("already installed")),
            "{again:?}"
        );
        // another binary: refreshed in place, the saved hook stays saved
        let moved = Path::new("/usr/local/bin/git-secrets");
        let again = install(&dir, moved).unwrap();
        assert!(again.iter().all(|l| l.contains("refreshed")), "{again:?}");
        assert_eq!(baked_binary(&mine).as_deref(), Some(moved));
        assert!(dir.join("pre-commit.git-secrets-saved").is_file());
        uninstall(&dir).unwrap();
        assert_eq!(
            std::fs::read_to_string(&mine).unwrap(),
            "#!/bin/sh\necho mine\n"
        );
        let mode = std::fs::metadata(&mine).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o750);
        assert!(!dir.join("pre-push").exists());
        assert!(!dir.join("pre-commit.git-secrets-saved").exists());
    }

    #[test]
    fn scripts_are_valid_sh() {
        for name in HOOKS {
            let out = std::process::Command::new("sh")
                .arg("-n")
                .arg("-c")
                .arg(script(name, Path::new("/x/git-secrets")))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}
