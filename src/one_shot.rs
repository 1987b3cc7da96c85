//! Memory habits of a command that reads one file, writes one result and exits
//! (`decrypt`, `encrypt`): set up at its start, applied at its end. Never for a command
//! that runs on (a loop over files, a child it waits for) or for tests in-process.

/// Keeps freed memory in the process for the rest of the run: large buffers come from the
/// heap instead of their own mappings, and nothing is given back to the kernel. A large
/// file's buffers (the file read, the encrypted values, the values opened on threads)
/// are freed mid-run and their pages then serve what comes after (the plaintext, the
/// output) instead of new pages faulted in one by one: a 1 MiB decrypt took 6.4 k page
/// faults, 5.4 k with this. glibc only; elsewhere nothing.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use ::nix::libc::{mallopt, M_MMAP_THRESHOLD, M_TRIM_THRESHOLD};
        // 1 GiB: no buffer of a secrets file gets its own mapping or is trimmed.
        const LIMIT: i32 = 1 << 30;
        // SAFETY: mallopt only changes malloc's tuning, under malloc's own lock; any
        // value is valid for these two parameters.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, LIMIT);
            mallopt(M_TRIM_THRESHOLD, LIMIT);
        }
    }
}

/// Hands `value` to the end of the process instead of dropping it: for a command's large
/// trees and buffers, called as the last thing before it returns its exit code to `main`,
/// which exits at once. Freeing a tree of tens of thousands of strings (and wiping the
/// plaintext ones first) was a tenth of a 1 MiB decrypt; at exit the kernel takes the
/// whole heap back in one go and hands its pages to the next owner zero-filled, and the
/// process dumps no core ([`crate::plaintext::disable_core_dumps`]) and is not
/// ptrace-readable in between, so the wipe would protect nothing that the exit does not.
pub fn release_at_exit<T>(value: T) {
    std::mem::forget(value);
}
