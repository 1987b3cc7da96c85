//! The one error type the porcelain shows. Every error carries what went wrong and,
//! where we know it, what the user can do next (`hint:` lines). The plumbing fails with
//! typed errors of its own (`SopsError`, `NixError`, `GitError`, `PlaintextError`) that
//! `crate::hints` turns into this type, hints included. Rendering happens in one place,
//! `ui::render_error`, called from `main.rs`.

use std::fmt;
use std::path::{Path, PathBuf};

/// What kind of failure this is; decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The command could not do its job (exit 1).
    Failure,
    /// The user asked for something that does not make sense (exit 2).
    Usage,
    /// Interrupted by a signal (exit 130).
    Interrupted,
}

/// An error with a message, hints and an exit-code class.
#[derive(Debug)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub hints: Vec<String>,
    pub source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    /// The exit status `sops` gives for this failure (its `cmd/sops/codes`), set by the
    /// engine where sops has a specific one. Only the sops-compatible `decrypt` and
    /// `encrypt` commands exit with it (see [`Error::in_sops_terms`]); the porcelain keeps
    /// 0/1/2/130.
    pub sops_code: Option<i32>,
    /// An exit status that overrides the one of `kind` (set by `in_sops_terms`, and by
    /// [`Error::exit`]).
    pub exit: Option<i32>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A failure (exit 1) with a message.
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Failure,
            message: message.into(),
            hints: Vec::new(),
            source: None,
            sops_code: None,
            exit: None,
        }
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Usage,
            ..Error::new(message)
        }
    }

    /// Interrupted by signal `signal` (exit 128+n: 130 for SIGINT, as a shell reports it).
    pub fn interrupted(message: impl Into<String>, signal: i32) -> Self {
        Error {
            kind: Kind::Interrupted,
            exit: Some(128 + signal),
            ..Error::new(message)
        }
    }

    /// A failure with an exit status of its own: `exec`'s 127 (command not found) and
    /// 126 (cannot run), as shells report them.
    pub fn exit(code: i32, message: impl Into<String>) -> Self {
        Error {
            exit: Some(code),
            ..Error::new(message)
        }
    }

    /// Adds a `hint:` line.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// Attaches the underlying cause (shown after the message).
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// An I/O error on `path`, with the action that failed ("read", "write", …).
    pub fn io(action: &str, path: &Path, err: std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        let hint = match err.kind() {
            K::NotFound => "check the path; it does not exist",
            K::PermissionDenied => "check the file's permissions and owner (ls -l)",
            K::IsADirectory => "give the path of a file, not a directory",
            K::NotADirectory => "a part of the path is a file, not a directory",
            K::StorageFull => "the disk is full; free some space and run the command again",
            K::ReadOnlyFilesystem => "the file system is read-only; work in a writable checkout",
            _ => "check the path, its permissions and the free disk space",
        };
        Error::new(format!("cannot {action} {}: {err}", path.display())).hint(hint)
    }

    /// Records the exit status sops gives for this failure (see `docs/SOPS-COMPAT.md`).
    pub fn sops(mut self, code: i32) -> Self {
        self.sops_code = Some(code);
        self
    }

    /// Sets the sops exit status only when none is set yet (the innermost cause wins).
    pub fn sops_default(mut self, code: i32) -> Self {
        self.sops_code.get_or_insert(code);
        self
    }

    /// Makes the process exit as `sops` would for this error: its recorded sops code, or
    /// sops' generic 1 (a usage error stays 2, an interrupt 130).
    pub fn in_sops_terms(mut self) -> Self {
        self.exit = Some(match (self.sops_code, self.kind) {
            (Some(c), _) => c,
            (None, Kind::Usage) => 2,
            (None, Kind::Interrupted) => 130,
            (None, Kind::Failure) => 1,
        });
        self
    }

    /// The exit code this error maps to.
    pub fn exit_code(&self) -> i32 {
        if let Some(code) = self.exit {
            return code;
        }
        match self.kind {
            Kind::Failure => 1,
            Kind::Usage => 2,
            Kind::Interrupted => 130,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(src) = &self.source {
            write!(f, ": {src}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Adds context to foreign errors: `.context("reading .sops.yaml")?`.
pub trait Context<T> {
    fn context(self, message: impl Into<String>) -> Result<T>;
    fn with_context<F: FnOnce() -> String>(self, f: F) -> Result<T>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> Context<T> for std::result::Result<T, E> {
    fn context(self, message: impl Into<String>) -> Result<T> {
        self.map_err(|e| Error::new(message).with_source(e))
    }
    fn with_context<F: FnOnce() -> String>(self, f: F) -> Result<T> {
        self.map_err(|e| Error::new(f()).with_source(e))
    }
}

/// Reads a file, mapping the error to one with a hint.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io("read", path, e))
}

/// How a child process ended, in the words every message uses: `exit code 1`,
/// `killed by signal 9` (std's `exit status: 1` reads badly inside a sentence).
pub fn exit_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => "killed by a signal".to_string(),
    }
}

/// A path shown to the user, relative to `base` when it is below it.
pub fn display_path(path: &Path, base: &Path) -> PathBuf {
    path.strip_prefix(base)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
impl Error {
    /// For tests: fails, showing the whole message, unless the message says `text`.
    #[track_caller]
    pub(crate) fn assert_says(&self, text: &str) {
        assert!(
            self.message.contains(text),
            "expected {text:?} in the message: {}",
            self.message
        );
    }
}
