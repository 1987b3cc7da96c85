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

fn script(name: &str) -> String {
    let body = match name {
        "pre-commit" => "exec git secrets doctor --staged\n".to_string(),
        // stdin: `<local ref> <local sha> <remote ref> <remote sha>` per pushed ref
        _ => "zero_or_empty() { case \"$1\" in *[!0]*) return 1 ;; esac; return 0; }\n\
              printf '%s\\n' \"$input\" | {\n\
              \x20   status=0\n\
              \x20   while read -r local_ref local_sha remote_ref remote_sha; do\n\
              \x20       # a deleted ref pushes nothing\n\
              \x20       zero_or_empty \"$local_sha\" && continue\n\
              \x20       git secrets doctor --range \"$remote_sha..$local_sha\" || status=1\n\
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
    format!(
        "#!/bin/sh\n{MARKER}; `git secrets hooks uninstall` restores what was here.\n\
         {read_stdin}saved=\"$0{SAVED_SUFFIX}\"\n\
         if [ -x \"$saved\" ]; then\n{run_saved}fi\n{body}"
    )
}

/// Where git looks for the repo's hooks: `core.hooksPath` (relative to the work tree
/// root) or `<common git dir>/hooks`.
pub fn hooks_dir(repo: &Repo) -> Result<PathBuf> {
    match repo.config_path("core.hooksPath")? {
        Some(p) if p.is_absolute() => Ok(p),
        Some(p) => Ok(repo.root().join(p)),
        None => Ok(repo.gix().common_dir().join("hooks")),
    }
}

/// Whether the hook file at `path` is one of ours.
pub fn is_ours(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.contains(MARKER))
}

/// Installs both hooks into `dir`; returns what was done, one line each.
pub fn install(dir: &Path) -> Result<Vec<String>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
    let mut done = Vec::new();
    for name in HOOKS {
        let path = dir.join(name);
        let saved = dir.join(format!("{name}{SAVED_SUFFIX}"));
        if is_ours(&path) {
            done.push(format!("{name}: already installed"));
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
        crate::atomic::write(&path, script(name).as_bytes(), 0o755)?;
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
        install(&dir).unwrap();
        assert!(is_ours(&mine));
        assert!(is_ours(&dir.join("pre-push")));
        assert!(dir.join("pre-commit.git-secrets-saved").is_file());
        // a second install changes nothing
        let again = install(&dir).unwrap();
        assert!(
            again.iter().all(|l| l.contains("already installed")),
            "{again:?}"
        );
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
                .arg(script(name))
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
