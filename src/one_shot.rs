//! Memory habits of a command that reads one file, writes one result and exits
//! (`decrypt`, `encrypt`): set up at its start ([`use_arena_for`]), applied at its end
//! ([`release_at_exit`]). Never for a command that runs on (a loop over files, a child it
//! waits for) or for tests in-process. [`ArenaFirst`] is the binary's global allocator.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

/// The arena the binary's allocator ([`ArenaFirst`]) serves from once a command asks for it.
static ARENA: Arena = Arena::new();

/// Address space the arena reserves: no memory until touched, and past it allocations go
/// to the ordinary allocator, so a larger input only costs what it uses.
const RESERVE: usize = 1 << 30;

/// From here to the end of the process, memory comes from one bump arena: an allocation
/// is the next bytes of one mapping, and a free gives nothing back (except for the last
/// block, which a growing buffer then extends in place). The pages the run is expected to
/// write are faulted in by one `madvise` up front, sized from the input; for a large
/// input as huge pages. For `decrypt` and `encrypt`, which read one file, write one
/// result and exit: what a general allocator does besides (size classes, free lists,
/// locks) is work such a run never gets back, and the pages it faults one by one at
/// scattered addresses were a third of a small decrypt's faults (docs/BENCHMARKS.md,
/// "Issue 19, session 5"). The kernel takes the whole mapping back at exit.
///
/// Plaintext: the allocator sees a block only after its owner's `drop` ran, so a
/// `Zeroizing` buffer is wiped as before; a block freed unwiped (a `String` of plaintext, the
/// old copy a growing buffer moved out of) keeps its bytes until the exit, where a general
/// allocator would have handed them to a later allocation. Either way they stay inside the
/// process, which dumps no core and is not ptrace-readable ([`release_at_exit`]).
/// Memory: a freed block is not reused (only the last one), so the peak is what the run
/// allocated in all, not what it held at once: a 1 MiB decrypt 47 MB and a 10 MiB one
/// 363 MB (glibc's static PIE: 26 and 210 MB).
///
/// `input`: the file the command reads (stdin, `-`, counts as empty). `per_input_byte`:
/// the bytes the command allocates per input byte, measured (decrypt ≈ 11: the bytes
/// read, the tree, the decoded and opened values, the output and the buffers' growth).
/// Without the binary's allocator (tests in-process) this only reserves address space;
/// the kernel refusing the mapping (strict overcommit) leaves the ordinary allocator.
pub fn use_arena_for(input: &std::path::Path, per_input_byte: usize) {
    let input_len = std::fs::metadata(input).map_or(0, |m| m.len());
    // 64 KiB: what a run takes besides its input (age's buffers, the key file, the
    // command line); 64 MiB: past that, populating ahead stops paying for itself.
    let expected = usize::try_from(input_len)
        .unwrap_or(usize::MAX)
        .saturating_mul(per_input_byte)
        .saturating_add(64 << 10)
        .min(64 << 20);
    ARENA.start(RESERVE, expected, expected >= HUGE_FROM);
}

/// From this many expected bytes on, the arena asks for huge pages: a 1 MiB decrypt then
/// zeroes tens of 2 MiB pages in bulk instead of faulting ten thousand 4 KiB ones. Below
/// it a huge page would zero more than the run uses.
const HUGE_FROM: usize = 8 << 20;

/// The global allocator of the binary: serves from the arena while one is in use (see
/// [`use_arena_for`]), from `A` before that and once the arena is full; a block goes back to
/// the allocator it came from.
pub struct ArenaFirst<A>(pub A);

// SAFETY: every block is either the arena's (its address lies in the arena's mapping,
// which is never unmapped) or `A`'s, and each call hands it back to the one it came from;
// the arena's blocks are disjoint (see `Arena::alloc`) and as large and aligned as asked.
unsafe impl<A: GlobalAlloc> GlobalAlloc for ArenaFirst<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match ARENA.alloc(layout) {
            Some(block) => block.ptr,
            // SAFETY: the caller's contract, passed on.
            None => unsafe { self.0.alloc(layout) },
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        match ARENA.alloc(layout) {
            Some(block) => {
                // SAFETY: the block is `layout.size()` bytes, of which `reused` may hold
                // an earlier block's bytes; the rest is fresh from the kernel, zeroed.
                unsafe { std::ptr::write_bytes(block.ptr, 0, block.reused) };
                block.ptr
            }
            // SAFETY: the caller's contract, passed on.
            None => unsafe { self.0.alloc_zeroed(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARENA.owns(ptr) {
            ARENA.release(ptr, layout.size());
        } else {
            // SAFETY: not the arena's, so `A` handed it out with this layout.
            unsafe { self.0.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !ARENA.owns(ptr) {
            // SAFETY: `A`'s block, with the caller's contract passed on.
            return unsafe { self.0.realloc(ptr, layout, new_size) };
        }
        if ARENA.resize_in_place(ptr, layout.size(), new_size) {
            return ptr;
        }
        // SAFETY: the caller guarantees that `new_size`, rounded up to the alignment,
        // does not overflow `isize`.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: a non-zero size, as the caller guarantees.
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: two live, distinct blocks, each at least this long.
            unsafe { std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
            ARENA.release(ptr, layout.size());
        }
        new
    }
}

/// One mapping handed out front to back, shared by all threads through atomics.
struct Arena {
    claimed: AtomicBool,
    /// The mapping's first address; 0 while the arena is not in use.
    base: AtomicUsize,
    end: AtomicUsize,
    /// Where the next block starts.
    next: AtomicUsize,
    /// The highest end of a block ever handed out: below it, a block given back and handed
    /// out again still holds its earlier bytes; above it, memory is as the kernel zeroed it.
    used: AtomicUsize,
}

/// A block of the arena, and how many of its first bytes are not known to be zero.
struct Block {
    ptr: *mut u8,
    reused: usize,
}

impl Arena {
    const fn new() -> Arena {
        Arena {
            claimed: AtomicBool::new(false),
            base: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            next: AtomicUsize::new(0),
            used: AtomicUsize::new(0),
        }
    }

    /// Maps `reserve` bytes (as huge pages if `huge`) and starts serving from them, the
    /// first `populate` of them faulted in by one call. False when already started or
    /// when the kernel says no.
    fn start(&self, reserve: usize, populate: usize, huge: bool) -> bool {
        use ::nix::libc;
        if self.claimed.swap(true, SeqCst) {
            return false;
        }
        // SAFETY: a new private anonymous mapping, touching no existing memory.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                reserve,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return false;
        }
        if huge {
            // Best effort: without transparent huge pages it changes nothing.
            // SAFETY: advice on the mapping just made, which nothing uses yet.
            unsafe { libc::madvise(map, reserve, libc::MADV_HUGEPAGE) };
        }
        let populate = populate.min(reserve) & !4095;
        if populate > 0 {
            // Best effort: before Linux 5.14 (EINVAL) the pages fault in one by one.
            // SAFETY: a range inside the mapping just made, which nothing uses yet.
            unsafe { libc::madvise(map, populate, libc::MADV_POPULATE_WRITE) };
        }
        let base = map as usize;
        self.end.store(base + reserve, SeqCst);
        self.next.store(base, SeqCst);
        self.used.store(base, SeqCst);
        self.base.store(base, SeqCst);
        true
    }

    /// The next free bytes for `layout`, or None when not started or full.
    fn alloc(&self, layout: Layout) -> Option<Block> {
        if self.base.load(SeqCst) == 0 {
            return None;
        }
        let end = self.end.load(SeqCst);
        let mut next = self.next.load(SeqCst);
        loop {
            let start = next.checked_add(layout.align() - 1)? & !(layout.align() - 1);
            let stop = start.checked_add(layout.size())?;
            if stop > end {
                return None;
            }
            match self.next.compare_exchange_weak(next, stop, SeqCst, SeqCst) {
                Ok(_) => {
                    // Between `start` and the old high mark, a block given back earlier
                    // left its bytes (see `release`).
                    let used = self.used.fetch_max(stop, SeqCst);
                    return Some(Block {
                        ptr: start as *mut u8,
                        reused: used.min(stop).saturating_sub(start),
                    });
                }
                Err(now) => next = now,
            }
        }
    }

    fn owns(&self, ptr: *mut u8) -> bool {
        let base = self.base.load(SeqCst);
        let at = ptr as usize;
        base != 0 && at >= base && at < self.end.load(SeqCst)
    }

    /// Gives a block back: only the last one handed out can be reused (by the next block),
    /// any other stays where it is until the process exits.
    fn release(&self, ptr: *mut u8, size: usize) {
        let start = ptr as usize;
        let _ = self
            .next
            .compare_exchange(start + size, start, SeqCst, SeqCst);
    }

    /// Gives the block `new_size` bytes where it is: always when it shrinks, and when it
    /// grows if it is the last block and the arena has room.
    fn resize_in_place(&self, ptr: *mut u8, size: usize, new_size: usize) -> bool {
        let start = ptr as usize;
        let Some(stop) = start.checked_add(new_size) else {
            return false;
        };
        if new_size <= size {
            // The tail of the last block goes back; any other block keeps its length.
            let _ = self
                .next
                .compare_exchange(start + size, stop, SeqCst, SeqCst);
            return true;
        }
        if stop > self.end.load(SeqCst) {
            return false;
        }
        let grown = self
            .next
            .compare_exchange(start + size, stop, SeqCst, SeqCst)
            .is_ok();
        if grown {
            self.used.fetch_max(stop, SeqCst);
        }
        grown
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

#[cfg(test)]
mod tests {
    use super::*;

    fn started(bytes: usize) -> Arena {
        let arena = Arena::new();
        assert!(arena.start(bytes, 4096, false));
        arena
    }

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn an_arena_serves_nothing_until_started_and_starts_once() {
        let arena = Arena::new();
        assert!(arena.alloc(layout(8, 8)).is_none());
        assert!(!arena.owns(8 as *mut u8));
        assert!(arena.start(1 << 16, 0, false));
        assert!(!arena.start(1 << 16, 0, false));
        assert!(arena.alloc(layout(8, 8)).is_some());
    }

    #[test]
    fn blocks_are_aligned_disjoint_and_end_where_the_arena_ends() {
        let arena = started(1 << 16);
        let a = arena.alloc(layout(3, 1)).unwrap().ptr as usize;
        let b = arena.alloc(layout(16, 64)).unwrap().ptr as usize;
        assert_eq!(b % 64, 0);
        assert!(b >= a + 3);
        let c = arena.alloc(layout(100, 8)).unwrap().ptr as usize;
        assert_eq!(c % 8, 0);
        assert!(c >= b + 16);
        assert!(arena.owns(c as *mut u8) && !arena.owns(std::ptr::null_mut()));
        // Full: the next block comes from the other allocator.
        assert!(arena.alloc(layout(1 << 16, 1)).is_none());
        assert!(arena.alloc(layout(1000, 8)).is_some());
    }

    #[test]
    fn only_the_last_block_is_reused_and_then_counts_as_written() {
        let arena = started(1 << 16);
        let first = arena.alloc(layout(64, 8)).unwrap();
        assert_eq!(first.reused, 0);
        let last = arena.alloc(layout(64, 8)).unwrap();
        // SAFETY: 64 bytes of the arena's mapping, handed out above.
        unsafe { std::ptr::write_bytes(last.ptr, 0xAB, 64) };
        arena.release(first.ptr, 64); // not the last: stays where it is
        arena.release(last.ptr, 64);
        let again = arena.alloc(layout(100, 8)).unwrap();
        assert_eq!(again.ptr, last.ptr);
        assert_eq!(
            again.reused, 64,
            "the first 64 bytes hold the old block's bytes"
        );
        let fresh = arena.alloc(layout(8, 8)).unwrap();
        assert_eq!(fresh.reused, 0);
    }

    #[test]
    fn the_last_block_grows_and_shrinks_in_place_others_only_shrink() {
        let arena = started(1 << 16);
        let a = arena.alloc(layout(32, 8)).unwrap().ptr;
        assert!(arena.resize_in_place(a, 32, 4096));
        let b = arena.alloc(layout(8, 8)).unwrap().ptr;
        assert_eq!(b as usize, a as usize + 4096);
        assert!(
            !arena.resize_in_place(a, 4096, 8192),
            "no longer the last block"
        );
        assert!(arena.resize_in_place(a, 4096, 16));
        assert!(
            arena.resize_in_place(b, 8, 4),
            "the last block gives its tail back"
        );
        let c = arena.alloc(layout(1, 1)).unwrap().ptr;
        assert_eq!(c as usize, b as usize + 4);
        assert!(
            !arena.resize_in_place(c, 1, 1 << 17),
            "past the end of the arena"
        );
    }

    /// What `alloc_zeroed` relies on, under contention: threads that each write a block
    /// full, give it back (it is the last block now and then, so the next one reuses it)
    /// and grow or shrink others in place never leave a byte past `reused` that is not
    /// zero in a block handed out.
    #[test]
    fn blocks_past_reused_are_zero_while_threads_write_and_give_back() {
        let arena = started(1 << 24);
        std::thread::scope(|s| {
            for t in 0..4usize {
                let arena = &arena;
                s.spawn(move || {
                    for i in 0..20_000usize {
                        let size = 1 + (i * 31 + t * 7) % 300;
                        let l = layout(size, 1 << (i % 5));
                        let block = arena.alloc(l).unwrap();
                        // SAFETY: the block is `size` bytes, this thread's alone until
                        // given back below.
                        unsafe {
                            let bytes = std::slice::from_raw_parts(block.ptr, size);
                            assert!(
                                bytes[block.reused..].iter().all(|&b| b == 0),
                                "stale bytes past reused={} of {size}",
                                block.reused
                            );
                            let mut size = size;
                            if i % 3 == 0 && arena.resize_in_place(block.ptr, size, size * 2) {
                                size *= 2;
                            } else if i % 3 == 1 && size > 1 {
                                assert!(arena.resize_in_place(block.ptr, size, size / 2));
                                size /= 2;
                            }
                            block.ptr.write_bytes(0xA5, size);
                            if i % 2 == 0 {
                                arena.release(block.ptr, size);
                            }
                        }
                    }
                });
            }
        });
    }

    #[test]
    fn threads_get_disjoint_blocks() {
        let arena = started(1 << 24);
        let mut spans: Vec<(usize, usize)> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|t| {
                    let arena = &arena;
                    s.spawn(move || {
                        (0..2000)
                            .map(|i| {
                                let size = 1 + (i * 7 + t) % 97;
                                let at = arena.alloc(layout(size, 8)).unwrap().ptr as usize;
                                (at, at + size)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap())
                .collect()
        });
        spans.sort();
        assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0), "blocks overlap");
    }

    /// The allocator keeps each block's bytes across moves and hands blocks back to the
    /// allocator they came from: `System`'s from before the arena, the arena's after.
    #[test]
    fn the_allocator_keeps_bytes_and_owners_across_reallocs() {
        let alloc = ArenaFirst(std::alloc::System);
        let l = layout(24, 8);
        // SAFETY (all blocks below): each pointer is used within its layout's size and
        // handed back with the layout it has at that moment.
        unsafe {
            let before = alloc.alloc(l);
            before.write_bytes(7, 24);
            ARENA.start(1 << 20, 0, false);
            assert!(!ARENA.owns(before));
            let a = alloc.alloc(l);
            assert!(ARENA.owns(a));
            a.write_bytes(1, 24);
            let b = alloc.alloc_zeroed(l);
            assert_eq!(std::slice::from_raw_parts(b, 24), &[0; 24]);
            // `a` is not the last block: growing it moves it, with its bytes.
            let a2 = alloc.realloc(a, l, 4000);
            assert_ne!(a2, a);
            assert_eq!(std::slice::from_raw_parts(a2, 24), &[1; 24]);
            // `a2` is the last block now: it grows in place.
            assert_eq!(alloc.realloc(a2, layout(4000, 8), 8000), a2);
            let before2 = alloc.realloc(before, l, 4000);
            assert!(!ARENA.owns(before2), "a block of System's stays System's");
            assert_eq!(std::slice::from_raw_parts(before2, 24), &[7; 24]);
            alloc.dealloc(before2, layout(4000, 8));
            alloc.dealloc(a2, layout(8000, 8));
            alloc.dealloc(b, l);
        }
    }
}
