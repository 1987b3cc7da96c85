//! `abort` for the static musl binary (`scripts/build.sh`), in place of musl's.
//!
//! Why: every thread of a command that keeps plaintext files blocks SIGABRT, so that one
//! sent by another process goes to the cleanup thread (`plaintext::install_signal_cleanup`),
//! and `abort()` (`std::process::abort`: an allocation failure, a panic in a release
//! build, a `:abort` fail point) must still run the fatal-signal handler that removes the
//! files. glibc's `abort` unblocks SIGABRT in the calling thread before it raises it;
//! musl's raises it while it is still blocked, then resets the handler to the default and
//! raises it again, so the handler never runs and the plaintext file stays on tmpfs
//! (`tests/security.rs`, `tmpfs_file_is_removed_when_the_tool_aborts`). This one does
//! what glibc does: unblock, raise (a handler runs, then ends the process the default
//! way); should the process still live (SIGABRT ignored, or a handler that returned), the
//! default action, raised again; should even that return, `_exit(127)`, as musl does.
//!
//! Defined in the binary, so the linker takes it instead of libc.a's `abort.o`. Every call
//! in it is async-signal-safe and allocates nothing.

use ::nix::libc;

/// C's `abort`: callable from anywhere, never returns.
#[unsafe(no_mangle)]
pub extern "C" fn abort() -> ! {
    // SAFETY: sigset and sigaction values built in place and handed to the C library's
    // own signal calls; no memory but these locals is touched.
    unsafe {
        let mut abrt: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut abrt);
        libc::sigaddset(&mut abrt, libc::SIGABRT);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &abrt, std::ptr::null_mut());
        libc::raise(libc::SIGABRT);
        let mut default: libc::sigaction = std::mem::zeroed();
        default.sa_sigaction = libc::SIG_DFL;
        libc::sigaction(libc::SIGABRT, &default, std::ptr::null_mut());
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &abrt, std::ptr::null_mut());
        libc::raise(libc::SIGABRT);
        libc::_exit(127)
    }
}
