//! Which Nix is installed, and which command locks one flake input with it.
//!
//! `nix flake update X` only means "update input X" from Nix 2.19 on; on 2.18
//! and older it reads X as a flake reference and goes to the network (the
//! flake registry), so the version decides the command, never a guess.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::Result;
use crate::nix::error::NixError;

/// The environment variable that names the `nix` binary to use (tests point
/// it at a fake script; users with several Nix installs pick one).
pub const NIX_ENV: &str = "GIT_SECRETS_NIX";

/// The flags every `nix` call gets, so a Nix without flakes enabled in its
/// config still works and the user's config is not touched.
pub const EXPERIMENTAL_FLAGS: [&str; 2] = ["--extra-experimental-features", "nix-command flakes"];

/// Which implementation printed the version line; Lix numbers its releases
/// past Nix's (2.90+) and has the new `flake update` form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NixFlavor {
    /// CppNix (`nix (Nix) 2.18.1`).
    Nix,
    /// Lix (`nix (Lix, like Nix) 2.91.1`).
    Lix,
    /// Determinate Nix (`nix (Determinate Nix 3.6.2) 2.29.0`); the upstream
    /// Nix version is the last number on the line.
    Determinate,
}

/// A parsed `nix --version`: the implementation and the Nix version it
/// claims (the last version number on the line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NixVersion {
    /// Which implementation.
    pub flavor: NixFlavor,
    /// Major version (2 for every Nix so far).
    pub major: u32,
    /// Minor version; 19 is where `nix flake update X` appeared.
    pub minor: u32,
    /// Patch version (0 when the line has none).
    pub patch: u32,
    /// The whole line, for messages and `doctor`.
    pub line: String,
}

impl NixVersion {
    /// Parses the output of `nix --version`, e.g. `nix (Nix) 2.18.1`.
    ///
    /// The last version-looking number wins: Determinate Nix prints its own
    /// version first and the upstream Nix version last.
    pub fn parse(output: &str) -> Result<NixVersion> {
        let line = output
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("");
        let (major, minor, patch) =
            last_version_number(line).ok_or_else(|| NixError::UnreadableVersion {
                line: line.to_string(),
            })?;
        let flavor = if line.contains("Lix") {
            NixFlavor::Lix
        } else if line.contains("Determinate") {
            NixFlavor::Determinate
        } else {
            NixFlavor::Nix
        };
        Ok(NixVersion {
            flavor,
            major,
            minor,
            patch,
            line: line.to_string(),
        })
    }

    /// The command that relocks one input with this Nix.
    pub fn lock_command(&self) -> LockCommand {
        if self.flavor == NixFlavor::Lix || (self.major, self.minor) >= (2, 19) {
            LockCommand::FlakeUpdate
        } else {
            LockCommand::LockUpdateInput
        }
    }
}

impl fmt::Display for NixVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.flavor {
            NixFlavor::Nix => "Nix",
            NixFlavor::Lix => "Lix",
            NixFlavor::Determinate => "Determinate Nix",
        };
        write!(f, "{name} {}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Finds the last `N.N` or `N.N.N` in `line`, ignoring anything glued on
/// after it (`2.19.0pre2023…`, `2.90.0-beta.1`).
fn last_version_number(line: &str) -> Option<(u32, u32, u32)> {
    let bytes = line.as_bytes();
    let mut found = None;
    let mut i = 0;
    while i < bytes.len() {
        let starts_number = bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_digit());
        if !starts_number {
            i += 1;
            continue;
        }
        let mut parts = Vec::new();
        let mut j = i;
        loop {
            let start = j;
            while j < bytes.len() && bytes[j].is_ascii_digit() {
                j += 1;
            }
            match line[start..j].parse::<u32>() {
                Ok(n) => parts.push(n),
                Err(_) => break,
            }
            let more = parts.len() < 3
                && j + 1 < bytes.len()
                && bytes[j] == b'.'
                && bytes[j + 1].is_ascii_digit();
            if !more {
                break;
            }
            j += 1;
        }
        if parts.len() >= 2 {
            found = Some((parts[0], parts[1], parts.get(2).copied().unwrap_or(0)));
        }
        i = j.max(i + 1);
    }
    found
}

/// How to relock one input, by Nix version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockCommand {
    /// `nix flake lock --update-input X` (Nix ≤ 2.18; deprecated later).
    LockUpdateInput,
    /// `nix flake update X` (Nix ≥ 2.19 and Lix).
    FlakeUpdate,
}

impl LockCommand {
    /// The arguments after `nix` (and the experimental-feature flags) that
    /// relock `input`.
    pub fn args(self, input: &str) -> Vec<String> {
        let words: &[&str] = match self {
            LockCommand::LockUpdateInput => &["flake", "lock", "--update-input"],
            LockCommand::FlakeUpdate => &["flake", "update"],
        };
        words
            .iter()
            .map(|w| w.to_string())
            .chain([input.to_string()])
            .collect()
    }
}

impl fmt::Display for LockCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LockCommand::LockUpdateInput => "nix flake lock --update-input",
            LockCommand::FlakeUpdate => "nix flake update",
        })
    }
}

/// The `nix` binary to run, plus environment overrides for it and for the
/// `git` it is paired with (tests pass a temporary HOME this way instead of
/// changing the process environment).
#[derive(Debug, Clone)]
pub struct Nix {
    program: PathBuf,
    envs: Vec<(OsString, OsString)>,
}

impl Nix {
    /// Uses the given binary.
    pub fn at(program: impl Into<PathBuf>) -> Nix {
        Nix {
            program: program.into(),
            envs: Vec::new(),
        }
    }

    /// Finds `nix`: `$GIT_SECRETS_NIX` if set, else the first `nix` on PATH.
    pub fn discover() -> Result<Nix> {
        Nix::discover_with(|key| std::env::var_os(key))
    }

    /// [`Nix::discover`] with an injected environment lookup.
    pub fn discover_with(env: impl Fn(&str) -> Option<OsString>) -> Result<Nix> {
        if let Some(p) = env(NIX_ENV).filter(|p| !p.is_empty()) {
            return Ok(Nix::at(p));
        }
        let path = env("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .map(|dir| dir.join("nix"))
            .find(|candidate| is_executable(candidate))
            .map(Nix::at)
            .ok_or_else(|| NixError::NotInstalled.into())
    }

    /// Adds an environment variable for every process this `Nix` starts.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Nix {
        self.envs
            .push((key.as_ref().to_os_string(), value.as_ref().to_os_string()));
        self
    }

    /// The binary this runs.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// A `nix` command with the experimental-feature flags and our env.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(EXPERIMENTAL_FLAGS);
        self.apply_env(&mut cmd);
        cmd
    }

    /// The env overrides, for the `git` run next to Nix.
    pub(crate) fn envs(&self) -> &[(OsString, OsString)] {
        &self.envs
    }

    /// Applies the env overrides to another command (the `git` we run next
    /// to Nix must see the same HOME and config).
    pub(crate) fn apply_env(&self, cmd: &mut Command) {
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
    }

    /// Runs `nix --version` and parses it.
    pub fn version(&self) -> Result<NixVersion> {
        let mut cmd = Command::new(&self.program);
        cmd.arg("--version").stdin(Stdio::null());
        self.apply_env(&mut cmd);
        let out = cmd.output().map_err(|e| NixError::CannotRun {
            program: self.program.clone(),
            detail: e.to_string(),
        })?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(NixError::VersionFailed {
                program: self.program.clone(),
                status: out.status.to_string(),
                stderr: stderr.trim().to_string(),
            }
            .into());
        }
        NixVersion::parse(&String::from_utf8_lossy(&out.stdout))
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(line: &str) -> NixVersion {
        NixVersion::parse(line).unwrap()
    }

    #[test]
    fn parses_the_last_version_number_on_the_line() {
        let cases = [
            ("nix (Nix) 2.8.0", NixFlavor::Nix, (2, 8, 0)),
            ("nix (Nix) 2.18.1", NixFlavor::Nix, (2, 18, 1)),
            ("nix (Nix) 2.19.0", NixFlavor::Nix, (2, 19, 0)),
            ("nix (Nix) 2.19.2", NixFlavor::Nix, (2, 19, 2)),
            ("nix (Nix) 2.24.9", NixFlavor::Nix, (2, 24, 9)),
            ("nix (Lix, like Nix) 2.91.1", NixFlavor::Lix, (2, 91, 1)),
            (
                "nix (Determinate Nix 3.6.2) 2.29.0",
                NixFlavor::Determinate,
                (2, 29, 0),
            ),
        ];
        for (line, flavor, (major, minor, patch)) in cases {
            let got = v(line);
            assert_eq!(
                (got.flavor, got.major, got.minor, got.patch),
                (flavor, major, minor, patch),
                "{line}"
            );
            assert_eq!(got.line, line);
        }
    }

    #[test]
    fn chooses_the_lock_command_by_version() {
        let old = LockCommand::LockUpdateInput;
        let new = LockCommand::FlakeUpdate;
        assert_eq!(v("nix (Nix) 2.8.0").lock_command(), old);
        assert_eq!(v("nix (Nix) 2.18.1").lock_command(), old);
        assert_eq!(v("nix (Nix) 2.19.0").lock_command(), new);
        assert_eq!(v("nix (Nix) 2.19.2").lock_command(), new);
        assert_eq!(v("nix (Nix) 2.24.9").lock_command(), new);
        assert_eq!(v("nix (Lix, like Nix) 2.91.1").lock_command(), new);
        assert_eq!(v("nix (Determinate Nix 3.6.2) 2.29.0").lock_command(), new);
    }

    #[test]
    fn lock_command_arguments() {
        assert_eq!(
            LockCommand::LockUpdateInput.args("s"),
            ["flake", "lock", "--update-input", "s"]
        );
        assert_eq!(LockCommand::FlakeUpdate.args("s"), ["flake", "update", "s"]);
    }

    #[test]
    fn tolerates_suffixes_trailing_newline_and_single_dot_versions() {
        assert_eq!(v("nix (Nix) 2.19.0pre20231004_dirty\n").minor, 19);
        assert_eq!(v("nix (Lix, like Nix) 2.90.0-beta.1").minor, 90);
        let two = v("nix (Nix) 2.18");
        assert_eq!((two.minor, two.patch), (18, 0));
    }

    #[test]
    fn rejects_output_without_a_version() {
        assert!(NixVersion::parse("").is_err());
        assert!(NixVersion::parse("command not found").is_err());
        assert!(NixVersion::parse("nix (Nix) 3").is_err());
    }

    #[test]
    fn discover_prefers_the_env_override_then_path() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("nix");
        std::fs::write(&fake, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();

        let over = Nix::discover_with(|k| (k == NIX_ENV).then(|| "/opt/nix".into())).unwrap();
        assert_eq!(over.program(), Path::new("/opt/nix"));

        let path = std::env::join_paths(["/nonexistent", dir.path().to_str().unwrap()]).unwrap();
        let found = Nix::discover_with(|k| (k == "PATH").then(|| path.clone())).unwrap();
        assert_eq!(found.program(), fake);

        let err = Nix::discover_with(|k| (k == "PATH").then(|| "/nonexistent".into())).unwrap_err();
        err.assert_says("not installed");
        assert!(!err.hints.is_empty());
    }
}
