//! Where plaintext may live outside this process's memory: a sealed memfd
//! (Linux), or a 0600 file in a 0700 directory on tmpfs (checked with statfs).
//! Files are removed when their guard drops and, through the signal thread,
//! when a signal ends the process; a foreground child gets the signals
//! forwarded and is waited for first, so its file outlives it by no more
//! than the cleanup.

use crate::error::{Error, Result};
use ::nix::sys::signal::{SigSet, Signal};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Mutex, OnceLock};

/// Where plaintext could not be kept in memory; `crate::hints` words the advice.
#[derive(Debug, thiserror::Error)]
pub enum PlaintextError {
    /// Neither `$XDG_RUNTIME_DIR` nor `/dev/shm` is a tmpfs (`tried` lists them).
    #[error("no tmpfs directory for plaintext (tried {tried})")]
    NoTmpfs { tried: String },
    /// A memfd for secret `name` could not be made (`what`: create, write, seal…).
    #[error("cannot {what} a memfd for {name}: {detail}")]
    Memfd {
        what: String,
        name: String,
        detail: String,
    },
}

/// Directories holding plaintext files, removed if a signal ends the process.
static CLEANUP: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The foreground child's pid while one runs. The lock is held while a
/// signal is forwarded and while the pid is cleared, so a signal never goes
/// to a reaped (and possibly reused) pid.
static CHILD: Mutex<Option<i32>> = Mutex::new(None);

/// The signal mask the process started with, restored in children.
static ORIGINAL_MASK: OnceLock<SigSet> = OnceLock::new();

/// Signals whose default action ends the process and that another process
/// (a `kill`, a terminal, `timeout`) or the kernel's limits (RLIMIT_CPU →
/// SIGXCPU, setitimer → SIGALRM/SIGVTALRM/SIGPROF) may send: the cleanup
/// thread takes them, so none ends the process with a plaintext file left.
/// SIGKILL and SIGSTOP cannot be caught; SIGPIPE is ignored by Rust's runtime.
/// On Linux the real-time signals (default action: terminate) are added in
/// [`handled_set`]; those the C library keeps for itself below them, in `musl_reserved`.
const HANDLED: [Signal; 14] = [
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGABRT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGALRM,
    Signal::SIGTERM,
    Signal::SIGXCPU,
    Signal::SIGXFSZ,
    Signal::SIGVTALRM,
    Signal::SIGPROF,
    Signal::SIGIO,
    #[cfg(any(target_os = "linux", target_os = "android"))]
    Signal::SIGPWR,
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    Signal::SIGEMT,
];

/// Signals a fault raises in the thread that caused it (SIGSYS from
/// seccomp, SIGTRAP from a breakpoint), and SIGABRT from `abort()` (which
/// unblocks it first; a panic ends in it in release builds). Blocking does
/// not stop these: the kernel then kills the process the default way. So they
/// stay unblocked (SIGABRT excepted) and a handler removes the files with
/// async-signal-safe calls only ([`remove_files_now`]), then lets the signal
/// end the process as it would have.
const FATAL: [Signal; 7] = [
    Signal::SIGSEGV,
    Signal::SIGBUS,
    Signal::SIGILL,
    Signal::SIGFPE,
    Signal::SIGABRT,
    Signal::SIGSYS,
    Signal::SIGTRAP,
];

/// How many plaintext files the fatal-signal handler can see at once (a
/// command holds one per `--file`; more are still removed by every other path).
const FATAL_SLOTS: usize = 64;

/// The plaintext files and their directories as C strings, for the
/// fatal-signal handler, which may not lock or allocate. A slot is set when
/// a file is created and cleared when it is removed; the strings are leaked
/// (a few bytes per file) so the handler never reads freed memory.
static FATAL_FILES: [AtomicPtr<std::ffi::c_char>; FATAL_SLOTS] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; FATAL_SLOTS];
static FATAL_DIRS: [AtomicPtr<std::ffi::c_char>; FATAL_SLOTS] =
    [const { AtomicPtr::new(std::ptr::null_mut()) }; FATAL_SLOTS];

/// True when `dir` is on tmpfs or ramfs (memory, never a disk).
#[cfg(target_os = "linux")]
pub fn is_memory_fs(dir: &Path) -> bool {
    use ::nix::sys::statfs::{statfs, FsType, TMPFS_MAGIC};
    // Neither nix nor libc names ramfs; the value is RAMFS_MAGIC from the
    // kernel's include/uapi/linux/magic.h.
    let ramfs = FsType(0x8584_58f6_u32 as _);
    match statfs(dir) {
        Ok(s) => s.filesystem_type() == TMPFS_MAGIC || s.filesystem_type() == ramfs,
        Err(_) => false,
    }
}

/// True when `dir` is on tmpfs or ramfs (memory, never a disk).
#[cfg(not(target_os = "linux"))]
pub fn is_memory_fs(dir: &Path) -> bool {
    // statfs reports the type by name elsewhere (f_fstypename).
    match ::nix::sys::statfs::statfs(dir) {
        Ok(s) => s.filesystem_type_name() == "tmpfs",
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
    Err(PlaintextError::NoTmpfs {
        tried: tried.join(", "),
    }
    .into())
}

/// A plaintext file on tmpfs, removed (with its private directory) on drop.
///
/// A SIGKILL of this process cannot be caught: the file then stays in its
/// 0700 directory until the next reboot empties tmpfs. `exec` avoids files
/// by default (memfd) for that reason.
pub struct PlainFile {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
    /// Its slot in the fatal-signal handler's table, if one was free.
    fatal_slot: Option<usize>,
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
        // Registered before the file exists: a signal from here on removes it.
        register(dir.path());
        let path = dir.path().join(name);
        let fatal_slot = register_fatal(&path, dir.path());
        let file = PlainFile {
            path,
            dir: Some(dir),
            fatal_slot,
        };
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&file.path)
            .map_err(|e| Error::io("create", &file.path, e))?;
        f.write_all(bytes)
            .map_err(|e| Error::io("write", &file.path, e))?;
        Ok(file)
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
            // No overwrite first: truncating or unlinking a tmpfs file hands
            // its pages back to the kernel, which zeroes pages before any
            // other process gets them.
            let _ = dir.close();
            unregister(&p);
        }
        if let Some(i) = self.fatal_slot.take() {
            FATAL_FILES[i].store(std::ptr::null_mut(), Ordering::SeqCst);
            FATAL_DIRS[i].store(std::ptr::null_mut(), Ordering::SeqCst);
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

/// Puts `file` and `dir` into a free slot of the fatal-signal handler's
/// table; `None` when the path has a NUL byte or every slot is taken.
fn register_fatal(file: &Path, dir: &Path) -> Option<usize> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).ok();
    let (f, d) = (c(file)?, c(dir)?);
    let i = FATAL_DIRS.iter().position(|slot| {
        slot.compare_exchange(
            std::ptr::null_mut(),
            d.as_ptr().cast_mut(),
            Ordering::SeqCst,
            Ordering::SeqCst,
        )
        .is_ok()
    })?;
    FATAL_FILES[i].store(f.as_ptr().cast_mut(), Ordering::SeqCst);
    // Leaked on purpose: the handler may read them at any moment.
    std::mem::forget(f);
    std::mem::forget(d);
    Some(i)
}

/// Removes every registered plaintext file and its directory with
/// `unlink`/`rmdir` only: no lock, no allocation, so it is safe in a signal
/// handler and after a fault.
fn remove_files_now() {
    for i in 0..FATAL_SLOTS {
        let f = FATAL_FILES[i].load(Ordering::SeqCst);
        let d = FATAL_DIRS[i].load(Ordering::SeqCst);
        // SAFETY: non-null pointers are leaked NUL-terminated strings.
        unsafe {
            if !f.is_null() {
                ::nix::libc::unlink(f);
            }
            if !d.is_null() {
                ::nix::libc::rmdir(d);
            }
        }
    }
}

/// The handler for [`FATAL`] signals: removes the files, then the signal
/// ends the process the default way (SA_RESETHAND restored the default; the
/// signal is blocked in the handler, so the raise is delivered on return, and
/// a fault re-executes and raises it again).
extern "C" fn on_fatal_signal(sig: std::ffi::c_int) {
    remove_files_now();
    // SAFETY: raise is async-signal-safe.
    unsafe {
        ::nix::libc::raise(sig);
    }
}

/// Removes every registered plaintext directory (called from the signal path).
pub fn cleanup_all() {
    if let Ok(mut v) = CLEANUP.lock() {
        for p in v.drain(..) {
            let _ = std::fs::remove_dir_all(&p);
        }
    }
    remove_files_now();
}

/// A memfd holding plaintext, sealed so nobody (not even a child holding the
/// fd read-write) can change, grow or shrink it. Not close-on-exec: a child
/// inherits it and reads it as `/dev/fd/N`. No path names it, so nothing is
/// left to remove: the kernel frees it when the last fd closes.
#[cfg(target_os = "linux")]
pub struct SealedMemfd {
    fd: std::os::fd::OwnedFd,
}

#[cfg(target_os = "linux")]
impl SealedMemfd {
    /// Creates a memfd named `git-secrets:<name>` (the name shows only in
    /// `/proc/*/fd` links), writes `bytes`, rewinds and seals it.
    pub fn create(name: &str, bytes: &[u8]) -> Result<SealedMemfd> {
        use ::nix::fcntl::{fcntl, FcntlArg, SealFlag};
        use ::nix::sys::memfd::{memfd_create, MFdFlags};
        use std::io::{Seek, Write};
        let fail = |what: &str, e: &dyn std::fmt::Display| {
            Error::from(PlaintextError::Memfd {
                what: what.to_string(),
                name: name.to_string(),
                detail: e.to_string(),
            })
        };
        // No MFD_CLOEXEC: inheriting this one fd is the point.
        let fd = memfd_create(
            format!("git-secrets:{name}").as_str(),
            MFdFlags::MFD_ALLOW_SEALING,
        )
        .map_err(|e| fail("create", &e))?;
        let mut file = std::fs::File::from(fd);
        file.write_all(bytes).map_err(|e| fail("write", &e))?;
        // A reader given the fd itself (not a reopened /dev/fd/N) shares
        // this offset.
        file.rewind().map_err(|e| fail("rewind", &e))?;
        let fd = std::os::fd::OwnedFd::from(file);
        let seals = SealFlag::F_SEAL_WRITE
            | SealFlag::F_SEAL_SHRINK
            | SealFlag::F_SEAL_GROW
            | SealFlag::F_SEAL_SEAL;
        fcntl(&fd, FcntlArg::F_ADD_SEALS(seals)).map_err(|e| fail("seal", &e))?;
        Ok(SealedMemfd { fd })
    }

    /// The fd number a child inherits.
    pub fn raw_fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.fd.as_raw_fd()
    }

    /// `/dev/fd/N`: opening it reopens the memfd; a write through any fd
    /// fails (EPERM) because of the seals.
    pub fn dev_path(&self) -> PathBuf {
        PathBuf::from(format!("/dev/fd/{}", self.raw_fd()))
    }
}

/// Turns off core dumps for this process: no plaintext in a core file.
///
/// RLIMIT_CORE 0 is inherited by children and across exec, so a command run
/// with a secret (which then holds it too) dumps no core either unless it
/// raises the limit. PR_SET_DUMPABLE 0 also keeps other processes of the
/// same user from ptrace-attaching or reading `/proc/<pid>/mem`; the kernel
/// resets it to dumpable when the process execs another program, which is
/// fine: from then on the memory is that program's.
pub fn disable_core_dumps() {
    use ::nix::sys::resource::{setrlimit, Resource};
    let _ = setrlimit(Resource::RLIMIT_CORE, 0, 0);
    #[cfg(target_os = "linux")]
    let _ = ::nix::sys::prctl::set_dumpable(false);
}

/// The signals the cleanup thread takes: [`HANDLED`], and on Linux every
/// real-time signal (their default action ends the process too).
fn handled_set() -> SigSet {
    let mut set = SigSet::empty();
    for s in HANDLED {
        set.add(s);
    }
    #[cfg(target_os = "linux")]
    {
        use ::nix::libc;
        let mut raw: libc::sigset_t = *set.as_ref();
        // SIGRTMIN() is above the ones glibc keeps for itself (thread cancellation).
        for n in libc::SIGRTMIN()..=libc::SIGRTMAX() {
            // SAFETY: `raw` is an initialised sigset_t and n a valid signal number.
            unsafe { libc::sigaddset(&mut raw, n) };
        }
        // SAFETY: `raw` was built from a valid set with sigaddset.
        set = unsafe { SigSet::from_sigset_t_unchecked(raw) };
    }
    set
}

/// Blocks every catchable signal that would end the process ([`HANDLED`]
/// and the real-time ones) in this thread and every thread it spawns later,
/// and starts a thread that takes them:
/// - while a foreground child runs ([`run_foreground`]), the signal is
///   forwarded to it and the child decides; the caller cleans up once it
///   has exited. A signal the terminal sent to the whole foreground process
///   group already reached the child and is not sent twice.
/// - otherwise plaintext files are removed and the process exits with 128+n.
///
/// The signals a fault raises ([`FATAL`], and `abort()`) get a handler that
/// removes the files and lets the signal end the process; a panic removes
/// them in the panic hook (before it unwinds, or aborts in release builds).
///
/// Call it before the first plaintext file is created and while no other
/// thread runs: a thread started earlier would not have the signals blocked,
/// and one arriving there would end the process without cleanup. A second
/// call does nothing.
pub fn install_signal_cleanup() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(install_signal_cleanup_once);
}

fn install_signal_cleanup_once() {
    use ::nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler};
    let handler = SigAction::new(
        SigHandler::Handler(on_fatal_signal),
        SaFlags::SA_RESETHAND | SaFlags::SA_ONSTACK,
        SigSet::empty(),
    );
    for sig in FATAL {
        // SAFETY: the handler only calls async-signal-safe functions.
        let _ = unsafe { sigaction(sig, &handler) };
    }
    #[cfg(all(target_os = "linux", target_env = "musl", target_arch = "x86_64"))]
    musl_reserved::ignore_from_others();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        remove_files_now();
        previous(info);
    }));
    let set = handled_set();
    let Ok(old) = set.thread_swap_mask(::nix::sys::signal::SigmaskHow::SIG_BLOCK) else {
        return;
    };
    let _ = ORIGINAL_MASK.set(old);
    std::thread::spawn(move || loop {
        let Some((sig, from_terminal)) = wait_for_signal(&set) else {
            return;
        };
        if let Ok(child) = CHILD.lock() {
            if let Some(pid) = *child {
                let pid = ::nix::unistd::Pid::from_raw(pid);
                let same_group =
                    ::nix::unistd::getpgid(Some(pid)).is_ok_and(|g| g == ::nix::unistd::getpgrp());
                if !(from_terminal && same_group) {
                    // SAFETY: kill with a live (unreaped) child's pid and a signal number.
                    unsafe { ::nix::libc::kill(pid.as_raw(), sig) };
                }
                continue;
            }
        }
        cleanup_all();
        std::process::exit(128 + sig);
    });
}

/// Signals 32–34 in the musl build. Linux numbers its real-time signals from 32, and the
/// C library keeps the lowest for itself: glibc 32–33, with handlers that ignore them when
/// another process sends them, and its SIGRTMIN is 34 (what `kill -RTMIN` sends from a
/// glibc shell), which [`handled_set`] takes like every other real-time signal. musl keeps
/// 32–34 (`SIGEV_THREAD` timers, `pthread_cancel`, `__synccall`), installs its handler
/// for one only while it uses it, and its `sigaction` and `sigaddset` refuse them:
/// left alone, any of the three sent by another process ends the process the default way,
/// with no cleanup, leaving a plaintext file on tmpfs. So they get a handler that does
/// nothing, set with the raw system call: glibc's answer to 32–33 for all three (a 34 is
/// ignored where the glibc build exits through the cleanup). A handler, unlike `SIG_IGN`,
/// is reset by `exec`, so children start with the defaults; and when musl does need one
/// of them it installs its own handler over this one.
#[cfg(all(target_os = "linux", target_env = "musl", target_arch = "x86_64"))]
mod musl_reserved {
    use ::nix::libc;

    /// The kernel's `struct sigaction` on x86_64 (not libc's: handler, flags, restorer,
    /// and a mask of 64 bits).
    #[repr(C)]
    struct KernelSigaction {
        handler: usize,
        flags: libc::c_ulong,
        restorer: usize,
        mask: u64,
    }

    /// `SA_RESTORER` (the kernel's include/uapi/asm-generic/signal-defs.h): on x86_64 the
    /// kernel returns from a handler through `restorer`, which must call `rt_sigreturn`.
    const SA_RESTORER: libc::c_ulong = 0x0400_0000;

    extern "C" fn ignore(_: libc::c_int) {}

    // `rt_sigreturn` (syscall 15), entered with the stack as the kernel left it after the
    // handler returned, as every C library's restorer is.
    std::arch::global_asm!(
        ".globl git_secrets_restore_rt",
        ".hidden git_secrets_restore_rt",
        ".type git_secrets_restore_rt,@function",
        "git_secrets_restore_rt:",
        "    mov eax, 15",
        "    syscall",
        ".size git_secrets_restore_rt, . - git_secrets_restore_rt",
    );

    unsafe extern "C" {
        fn git_secrets_restore_rt();
    }

    pub(super) fn ignore_from_others() {
        let act = KernelSigaction {
            handler: ignore as extern "C" fn(libc::c_int) as usize,
            flags: (libc::SA_RESTART | libc::SA_ONSTACK) as libc::c_ulong | SA_RESTORER,
            restorer: git_secrets_restore_rt as unsafe extern "C" fn() as usize,
            mask: 0,
        };
        for sig in 32..=34 {
            // SAFETY: `act` is a valid kernel sigaction whose handler does nothing and
            // whose restorer returns from it; the old action is not asked for (null).
            unsafe {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    sig,
                    &act as *const KernelSigaction,
                    std::ptr::null_mut::<KernelSigaction>(),
                    std::mem::size_of::<u64>(),
                )
            };
        }
    }
}

/// Waits for one of `set`; returns its number and whether the kernel sent
/// it (a terminal's ^C, ^\ or hangup, which went to the whole foreground
/// process group) rather than a process (`kill`).
#[cfg(target_os = "linux")]
fn wait_for_signal(set: &SigSet) -> Option<(i32, bool)> {
    use ::nix::libc;
    loop {
        let mut info = std::mem::MaybeUninit::<libc::siginfo_t>::zeroed();
        // SAFETY: the set is a valid sigset_t and `info` is writable memory
        // of the right type; sigwaitinfo fills it when it returns a signal.
        let n = unsafe { libc::sigwaitinfo(set.as_ref(), info.as_mut_ptr()) };
        if n < 0 {
            if ::nix::errno::Errno::last() == ::nix::errno::Errno::EINTR {
                continue;
            }
            return None;
        }
        // SAFETY: sigwaitinfo succeeded, so it wrote the siginfo.
        let info = unsafe { info.assume_init() };
        return Some((n, info.si_code == libc::SI_KERNEL));
    }
}

/// Waits for one of `set`. Without sigwaitinfo the sender is unknown; a
/// SIGINT is taken to come from the terminal (the child has it already).
#[cfg(not(target_os = "linux"))]
fn wait_for_signal(set: &SigSet) -> Option<(i32, bool)> {
    let sig = set.wait().ok()?;
    Some((sig as i32, sig == Signal::SIGINT))
}

/// The environment variables that hand sops (and us) an age or SSH identity.
/// A program run with a secret gets that secret, never the key that opens
/// every other one (and the whole history of the secrets repo).
pub const IDENTITY_ENV: [&str; 4] = [
    "SOPS_AGE_KEY",
    "SOPS_AGE_KEY_FILE",
    "SOPS_AGE_KEY_CMD",
    "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
];

/// Removes [`IDENTITY_ENV`] from the environment `cmd` will get.
pub fn remove_identity_env(cmd: &mut std::process::Command) {
    for var in IDENTITY_ENV {
        cmd.env_remove(var);
    }
}

/// Gives a child the signal mask the process started with (the blocked
/// handled signals would otherwise be inherited through exec).
pub fn restore_signal_mask_in_child(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    let Some(mask) = ORIGINAL_MASK.get().copied() else {
        return;
    };
    // SAFETY: the closure runs between fork and exec and only calls
    // pthread_sigmask, which is async-signal-safe; it allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            let _ = mask.thread_set_mask();
            Ok(())
        });
    }
}

/// Runs `cmd` in the foreground with signal forwarding (see
/// [`install_signal_cleanup`]) and returns its status once it has exited.
pub fn run_foreground(
    cmd: &mut std::process::Command,
) -> std::io::Result<std::process::ExitStatus> {
    spawn_foreground(cmd)?.wait()
}

/// Starts `cmd` as the foreground child: from now until [`Foreground::wait`]
/// returns, the handled signals are forwarded to it. The caller may drop
/// `cmd` meanwhile (with the copies of environment values it holds).
pub fn spawn_foreground(cmd: &mut std::process::Command) -> std::io::Result<Foreground> {
    restore_signal_mask_in_child(cmd);
    // Held across spawn: a signal arriving meanwhile waits for the pid and
    // is then forwarded instead of ending us without the child.
    let mut slot = CHILD.lock().unwrap_or_else(|p| p.into_inner());
    let child = cmd.spawn()?;
    *slot = Some(child.id() as i32);
    Ok(Foreground { child })
}

/// The foreground child started by [`spawn_foreground`].
pub struct Foreground {
    child: std::process::Child,
}

impl Foreground {
    /// Waits until the child has exited and returns its status.
    pub fn wait(mut self) -> std::io::Result<std::process::ExitStatus> {
        wait_without_reaping(self.child.id() as i32);
        clear_child();
        self.child.wait()
    }
}

impl Drop for Foreground {
    fn drop(&mut self) {
        // Only reached without `wait` on an early return: stop forwarding.
        clear_child();
    }
}

fn clear_child() {
    *CHILD.lock().unwrap_or_else(|p| p.into_inner()) = None;
}

/// Blocks until the child has exited but leaves it a zombie, so its pid
/// cannot be reused while the signal thread may still send to it.
#[cfg(target_os = "linux")]
fn wait_without_reaping(pid: i32) {
    use ::nix::sys::wait::{waitid, Id, WaitPidFlag};
    let pid = ::nix::unistd::Pid::from_raw(pid);
    while let Err(::nix::errno::Errno::EINTR) =
        waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT)
    {}
}

/// Elsewhere the tiny window between reaping and clearing the pid stays.
#[cfg(not(target_os = "linux"))]
fn wait_without_reaping(_pid: i32) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_shm_is_memory_and_cwd_of_tests_may_not_be() {
        if Path::new("/dev/shm").is_dir() {
            assert!(is_memory_fs(Path::new("/dev/shm")));
        }
        assert!(!is_memory_fs(Path::new("/nonexistent/dir")));
    }

    #[test]
    fn plain_file_is_private_and_removed_on_drop() {
        let f = PlainFile::create("s.yaml", b"marker-1").unwrap();
        let path = f.path().to_path_buf();
        let dir = path.parent().unwrap().to_path_buf();
        assert!(is_memory_fs(&dir));
        assert_eq!(std::fs::read(&path).unwrap(), b"marker-1");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir), 0o700);
        drop(f);
        assert!(!dir.exists());
        assert!(!CLEANUP.lock().unwrap().contains(&dir));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn memfd_is_sealed_inheritable_and_readable_by_path() {
        use ::nix::fcntl::{fcntl, FcntlArg, FdFlag};
        let m = SealedMemfd::create("T", b"marker-2").unwrap();
        let flags = FdFlag::from_bits_truncate(fcntl(&m.fd, FcntlArg::F_GETFD).unwrap());
        assert!(!flags.contains(FdFlag::FD_CLOEXEC));
        assert_eq!(std::fs::read(m.dev_path()).unwrap(), b"marker-2");
        // Seals: opening for writing works, writing does not; no truncation,
        // no growth, no new seals.
        use std::io::Write;
        let mut w = std::fs::OpenOptions::new()
            .write(true)
            .open(m.dev_path())
            .unwrap();
        assert!(w.write_all(b"x").is_err());
        let f = std::fs::File::from(m.fd.try_clone().unwrap());
        assert!(f.set_len(0).is_err());
        assert!(f.set_len(100).is_err());
        let seals = fcntl(&m.fd, FcntlArg::F_GET_SEALS).unwrap();
        assert_ne!(seals & ::nix::libc::F_SEAL_SEAL, 0);
        assert_ne!(seals & ::nix::libc::F_SEAL_WRITE, 0);
    }
}
