//! One change at a time per secrets repo: an exclusive `flock` on
//! `<inner git dir>/git-secrets.lock`, held from reading a secret until its
//! lock step is done.
//!
//! Why flock and not a lock file that exists or not (like git's `index.lock`):
//! the kernel drops a flock when its holder dies, so a killed command never
//! leaves a stale lock behind that someone must remove by hand. The file
//! lives in the git dir so it is never committed and never seen by Nix.

use crate::error::{Error, Result};
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The lock file's name inside the inner repo's git dir.
pub const LOCK_FILE: &str = "git-secrets.lock";

/// How long a second command waits for the first by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Environment variable that overrides [`DEFAULT_TIMEOUT`], in seconds
/// (fractions allowed); tests use it to fail fast.
pub const TIMEOUT_ENV: &str = "GIT_SECRETS_LOCK_TIMEOUT";

/// How often a waiting command tries again.
const POLL: Duration = Duration::from_millis(50);

/// Held while one command changes the secrets repo; released on drop (and
/// by the kernel when the process dies).
#[derive(Debug)]
pub struct RepoLock {
    _flock: Flock<File>,
    path: PathBuf,
}

impl RepoLock {
    /// Takes the lock in `git_dir`. When another command holds it, calls
    /// `on_wait` once (so the caller can say why nothing happens) and tries
    /// again until `timeout` has passed.
    pub fn acquire(git_dir: &Path, timeout: Duration, on_wait: impl FnOnce()) -> Result<RepoLock> {
        let path = git_dir.join(LOCK_FILE);
        let mut file = open(&path)?;
        let start = Instant::now();
        let mut on_wait = Some(on_wait);
        loop {
            match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                Ok(flock) => {
                    return Ok(RepoLock {
                        _flock: flock,
                        path,
                    })
                }
                Err((f, Errno::EWOULDBLOCK)) | Err((f, Errno::EINTR)) => file = f,
                Err((_, e)) => {
                    return Err(Error::new(format!("cannot lock {}: {e}", path.display()))
                        .hint("check that the secrets repo's .git dir is writable"))
                }
            }
            if let Some(f) = on_wait.take() {
                f();
            }
            if start.elapsed() >= timeout {
                return Err(Error::new(format!(
                    "another git-secrets command is still changing this secrets repo (waited {}s for {})",
                    timeout.as_secs_f64().round(),
                    path.display()
                ))
                .hint("wait for it to finish and run this command again; nothing was changed")
                .hint(format!(
                    "if none is running, see who holds the lock: fuser -v {}",
                    path.display()
                )));
            }
            std::thread::sleep(POLL.min(timeout.saturating_sub(start.elapsed())));
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn open(path: &Path) -> Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::io("open the lock file", path, e))
}

/// The wait timeout: `$GIT_SECRETS_LOCK_TIMEOUT` seconds when set and valid,
/// else [`DEFAULT_TIMEOUT`].
pub fn timeout_from_env() -> Duration {
    std::env::var(TIMEOUT_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(DEFAULT_TIMEOUT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_waits_then_fails_and_succeeds_once_released() {
        let dir = tempfile::tempdir().unwrap();
        let first = RepoLock::acquire(dir.path(), Duration::ZERO, || {}).unwrap();
        assert_eq!(first.path(), dir.path().join(LOCK_FILE));
        let mut waited = false;
        let start = Instant::now();
        let err = RepoLock::acquire(dir.path(), Duration::from_millis(200), || waited = true)
            .unwrap_err();
        assert!(waited);
        assert!(start.elapsed() >= Duration::from_millis(200));
        err.assert_says("another git-secrets command");
        drop(first);
        let mut waited = false;
        RepoLock::acquire(dir.path(), Duration::ZERO, || waited = true).unwrap();
        assert!(!waited);
    }

    #[test]
    fn a_waiting_lock_gets_it_when_the_holder_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = RepoLock::acquire(dir.path(), Duration::ZERO, || {}).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            drop(first);
        });
        RepoLock::acquire(dir.path(), Duration::from_secs(10), || {}).unwrap();
        releaser.join().unwrap();
    }
}
