//! `memcpy` and `memmove` for the static musl binary (`scripts/build.sh`), in place of
//! musl's own.
//!
//! Why: Rust calls `memcpy` for every copy whose length is not a compile-time constant —
//! a few dozen times per value when a file is parsed, decrypted and printed — and musl's
//! x86_64 `memcpy` moves the bytes an 8-byte unaligned head and tail takes one `movsb` at
//! a time, around a `rep movsq` whose start-up alone is tens of cycles. In a 1 MiB decrypt
//! that was a quarter of the run (10 times glibc's AVX `memcpy` for the same copies;
//! docs/BENCHMARKS.md, "Issue 19, session 5"). Here a copy of up to 64 bytes is a few
//! overlapping unaligned loads and stores, all loads before any store (so it is also a
//! correct `memmove`), and a longer one is one `rep movsb`, which CPUs with ERMS (Intel
//! since 2012, AMD since Zen) run at full width. A `memmove` whose destination lies
//! after an overlapping source copies backwards.
//!
//! Both are defined in the binary, so the linker takes them instead of libc.a's
//! `memcpy.o`/`memmove.o` (defining `memmove` too keeps `memmove.o`, which calls into
//! `memcpy.o`, out of the link). Nothing in them may itself become a call to `memcpy`:
//! the bulk copies are inline assembly, and the small ones fixed-size loads and stores.
//! The copy routines are compiled and tested on every x86_64 build; only the musl build
//! exports them under libc's names.

use std::ptr::{read_unaligned as load, write_unaligned as store};

/// Copies `n` bytes from `src` to `dst`, front to back; for `n <= 64` also correct when the
/// two overlap.
///
/// # Safety
/// `src` readable and `dst` writable for `n` bytes; for `n > 64` they must not overlap
/// unless `dst` comes before `src`.
#[inline(always)]
unsafe fn copy_forward(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY (all blocks): every load and store lies within the first `n` bytes of its
    // buffer, by the size checks that lead to it; all loads come before the stores.
    unsafe {
        if n <= 16 {
            if n >= 8 {
                let (a, b) = (load(src as *const u64), load(src.add(n - 8) as *const u64));
                store(dst as *mut u64, a);
                store(dst.add(n - 8) as *mut u64, b);
            } else if n >= 4 {
                let (a, b) = (load(src as *const u32), load(src.add(n - 4) as *const u32));
                store(dst as *mut u32, a);
                store(dst.add(n - 4) as *mut u32, b);
            } else if n >= 2 {
                let (a, b) = (load(src as *const u16), load(src.add(n - 2) as *const u16));
                store(dst as *mut u16, a);
                store(dst.add(n - 2) as *mut u16, b);
            } else if n == 1 {
                *dst = *src;
            }
        } else if n <= 32 {
            let (a, b) = (
                load(src as *const u128),
                load(src.add(n - 16) as *const u128),
            );
            store(dst as *mut u128, a);
            store(dst.add(n - 16) as *mut u128, b);
        } else if n <= 64 {
            let a = load(src as *const u128);
            let b = load(src.add(16) as *const u128);
            let c = load(src.add(n - 32) as *const u128);
            let d = load(src.add(n - 16) as *const u128);
            store(dst as *mut u128, a);
            store(dst.add(16) as *mut u128, b);
            store(dst.add(n - 32) as *mut u128, c);
            store(dst.add(n - 16) as *mut u128, d);
        } else {
            std::arch::asm!(
                "rep movsb",
                inout("rcx") n => _,
                inout("rdi") dst => _,
                inout("rsi") src => _,
                options(nostack, preserves_flags)
            );
        }
    }
}

/// Copies `n > 64` bytes from `src` to `dst` back to front: for a `dst` after an
/// overlapping `src`.
///
/// # Safety
/// `src` readable and `dst` writable for `n` bytes.
unsafe fn copy_backward(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: `rep movsb` with the direction flag set copies `n` bytes downwards from the
    // last byte of each buffer; the flag is cleared again, as the ABI requires.
    unsafe {
        std::arch::asm!(
            "std",
            "rep movsb",
            "cld",
            inout("rcx") n => _,
            inout("rdi") dst.add(n - 1) => _,
            inout("rsi") src.add(n - 1) => _,
            options(nostack)
        );
    }
}

/// `memmove`: `copy_forward`, unless `dst` starts inside `src` and the copy is longer than
/// the small path (which loads everything before it stores).
///
/// # Safety
/// `src` readable and `dst` writable for `n` bytes.
#[inline(always)]
unsafe fn move_bytes(dst: *mut u8, src: *const u8, n: usize) {
    // `dst - src` wraps around when `dst` comes first: then, or when `dst` starts at or
    // past `src`'s end, copying forwards never reads a byte it has overwritten.
    if n <= 64 || (dst as usize).wrapping_sub(src as usize) >= n {
        // SAFETY: the caller's contract; overlap only as `copy_forward` allows it.
        unsafe { copy_forward(dst, src, n) }
    } else {
        // SAFETY: the caller's contract.
        unsafe { copy_backward(dst, src, n) }
    }
}

#[cfg(target_env = "musl")]
mod exported {
    /// # Safety
    /// C's `memcpy` contract.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        // SAFETY: C's contract: valid, non-overlapping buffers of `n` bytes.
        unsafe { super::copy_forward(dst, src, n) };
        dst
    }

    /// # Safety
    /// C's `memmove` contract.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
        // SAFETY: C's contract: valid buffers of `n` bytes, which may overlap.
        unsafe { super::move_bytes(dst, src, n) };
        dst
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every length up to 300 (each size class and its edges, and `rep movsb`), at every
    /// offset pair within 20 bytes of each other in one buffer, in both directions, is
    /// what `copy_within` (std's own `memmove`) gives.
    #[test]
    fn moves_match_std_for_every_length_and_overlap() {
        let original: Vec<u8> = (0..400u32).map(|i| (i * 7 + 3) as u8).collect();
        for n in 0..300usize {
            for src in 0..20usize {
                for dst in 0..20usize {
                    let mut ours = original.clone();
                    let mut std = original.clone();
                    let base = ours.as_mut_ptr();
                    // SAFETY: both ranges lie within the 400-byte buffer.
                    unsafe { move_bytes(base.add(dst), base.add(src), n) };
                    std.copy_within(src..src + n, dst);
                    assert_eq!(ours, std, "n={n} src={src} dst={dst}");
                }
            }
        }
    }

    #[test]
    fn copies_between_buffers_touch_only_the_n_bytes() {
        let from: Vec<u8> = (0..300u32).map(|i| (i * 13 + 1) as u8).collect();
        for n in 0..300usize {
            let mut to = vec![0xAAu8; 302];
            // SAFETY: `n` bytes of `from`, into `to` after one guard byte.
            unsafe { copy_forward(to.as_mut_ptr().add(1), from.as_ptr(), n) };
            assert_eq!(&to[1..1 + n], &from[..n], "n={n}");
            assert_eq!(to[0], 0xAA, "n={n}");
            assert!(to[1 + n..].iter().all(|&b| b == 0xAA), "n={n}");
        }
    }
}
