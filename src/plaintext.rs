//! Where plaintext may live outside memory: a 0600 file in a 0700 directory
//! on tmpfs (checked with statfs), or a sealed memfd. Files are removed when
//! their guard drops and, through the signal thread, on SIGINT/SIGTERM/SIGHUP.

use crate::error::{Error, Result};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

const TMPFS_MAGIC: i64 = 0x0102_1994;
const RAMFS_MAGIC: i64 = 0x8584_58f6;

/// Paths to remove if a signal ends the process.
static CLEANUP: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// True when `dir` is on tmpfs or ramfs (memory, never a disk).
pub fn is_memory_fs(dir: &Path) -> bool {
    match ::nix::sys::statfs::statfs(dir) {
        Ok(s) => {
            let t = s.filesystem_type().0 as i64;
            t == TMPFS_MAGIC || t == RAMFS_MAGIC
        }
        Err(_) => false,
    }
}

/// The tmpfs directory plaintext files go to: `$XDG_RUNTIME_DIR`, else
/// `/dev/shm`. Refuses anything that is not memory-backed.
pub fn tmpfs_root() -> Result<PathBuf> {
    let mut tried = Vec::new();
    let candidates = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .into_iter()
        .chain(std::iter::once(PathBuf::from("/dev/shm")));
    for dir in candidates {
        if dir.is_dir() && is_memory_fs(&dir) {
            return Ok(dir);
        }
        tried.push(dir.display().to_string());
    }
    Err(Error::new(format!(
        "no tmpfs directory for plaintext (tried {})",
        tried.join(", ")
    ))
    .hint("set XDG_RUNTIME_DIR to a tmpfs directory (e.g. /run/user/$UID); plaintext is never written to disk"))
}

/// A plaintext file on tmpfs, removed (with its private directory) on drop.
pub struct PlainFile {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl PlainFile {
    /// Creates `<tmpfs>/git-secrets.XXXX/<name>` (dir 0700, file 0600) holding `bytes`.
    pub fn create(name: &str, bytes: &[u8]) -> Result<PlainFile> {
        use std::io::Write;
        let root = tmpfs_root()?;
        let dir = tempfile::Builder::new()
            .prefix("git-secrets.")
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir_in(&root)
            .map_err(|e| Error::io("create a private directory in", &root, e))?;
        let path = dir.path().join(name);
        register(dir.path());
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| Error::io("create", &path, e))?;
        f.write_all(bytes)
            .map_err(|e| Error::io("write", &path, e))?;
        Ok(PlainFile {
            dir: Some(dir),
            path,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PlainFile {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take() {
            let p = dir.path().to_path_buf();
            // Overwrite before unlinking: tmpfs pages may be reused by others.
            if let Ok(meta) = std::fs::metadata(&self.path) {
                let _ = std::fs::write(&self.path, vec![0u8; meta.len() as usize]);
            }
            let _ = dir.close();
            unregister(&p);
        }
    }
}

fn register(p: &Path) {
    if let Ok(mut v) = CLEANUP.lock() {
        v.push(p.to_path_buf());
    }
}

fn unregister(p: &Path) {
    if let Ok(mut v) = CLEANUP.lock() {
        v.retain(|x| x != p);
    }
}

/// Removes every registered plaintext directory (called from the signal path).
pub fn cleanup_all() {
    if let Ok(mut v) = CLEANUP.lock() {
        for p in v.drain(..) {
            let _ = std::fs::remove_dir_all(&p);
        }
    }
}

/// Turns off core dumps for this process: no plaintext in a core file.
pub fn disable_core_dumps() {
    use ::nix::sys::resource::{setrlimit, Resource};
    let _ = setrlimit(Resource::RLIMIT_CORE, 0, 0);
    #[cfg(target_os = "linux")]
    let _ = ::nix::sys::prctl::set_dumpable(false);
}

/// Blocks SIGINT/SIGTERM/SIGHUP in this thread (and threads it spawns) and
/// starts a thread that, on one of them, removes plaintext files and exits
/// with 128+n. While a foreground child runs (`child` set), SIGINT is left
/// to the child, and SIGTERM/SIGHUP are forwarded to it first.
pub fn install_signal_cleanup() {
    use ::nix::sys::signal::{SigSet, Signal};
    let mut set = SigSet::empty();
    for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        set.add(s);
    }
    if set.thread_block().is_err() {
        return;
    }
    std::thread::spawn(move || loop {
        let Ok(sig) = set.wait() else { return };
        let child = CHILD.load(std::sync::atomic::Ordering::SeqCst);
        if child > 0 {
            if sig == Signal::SIGINT {
                continue; // the child got it too (same process group); it decides
            }
            let _ = ::nix::sys::signal::kill(::nix::unistd::Pid::from_raw(child), sig);
        }
        cleanup_all();
        std::process::exit(128 + sig as i32);
    });
}

/// The pid of the foreground child, 0 when none.
pub static CHILD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// Unblocks the signals in a child before exec (the mask is inherited).
pub fn unblock_signals_in_child(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    unsafe {
        cmd.pre_exec(|| {
            let _ = ::nix::sys::signal::SigSet::all().thread_unblock();
            Ok(())
        });
    }
}

/// Runs `cmd` in the foreground with signal forwarding; returns its status.
pub fn run_foreground(
    cmd: &mut std::process::Command,
) -> std::io::Result<std::process::ExitStatus> {
    unblock_signals_in_child(cmd);
    let mut child = cmd.spawn()?;
    CHILD.store(child.id() as i32, std::sync::atomic::Ordering::SeqCst);
    let status = child.wait();
    CHILD.store(0, std::sync::atomic::Ordering::SeqCst);
    status
}
