//! Memory habits of a command that reads one file, writes one result and exits
//! (`decrypt`, `encrypt`: [`use_arena_for`] at its start, [`release_at_exit`] at its end),
//! and of the history scan ([`use_arena_for_scan`]). Not for a command that loops over
//! files or waits for a child, nor for tests in-process. [`ArenaFirst`] is the binary's
//! global allocator.

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{
    AtomicBool, AtomicUsize,
    Ordering::{Acquire, Relaxed, Release, SeqCst},
};

/// The arena the binary's allocator ([`ArenaFirst`]) serves from once a command asks for it.
static ARENA: Arena = Arena::new();

/// Address space the arena reserves: four times what the run is expected to use, at least
/// 64 MiB and at most 1 GiB. No memory until touched, and past it allocations go to the
/// ordinary allocator; sized from the input because under strict overcommit
/// (`vm.overcommit_memory=2`, where MAP_NORESERVE is ignored) the whole reservation is
/// charged against the commit limit while the command runs.
fn reserve_for(expected: usize) -> usize {
    expected.saturating_mul(4).clamp(64 << 20, 1 << 30)
}

/// From here to the end of the process, memory comes from one arena: a single mapping
/// handed out front to back, whose freed blocks serve later ones of their size (see
/// [`SMALL_MAX`]), and whose pages the run is expected to write are faulted in by one
/// `madvise` up front, sized from the input (for a large input as huge pages). For
/// `decrypt` and `encrypt` under musl, whose malloc made a 1 MiB decrypt 40 % slower
/// than glibc's; and with either C library, a small run's heap pages were faulted one
/// by one at scattered addresses (docs/BENCHMARKS.md, "Issue 19, session 5"). The kernel
/// takes the whole mapping back at exit.
///
/// Plaintext: the allocator sees a block only after its owner's `drop` ran, so a
/// `Zeroizing` buffer is wiped as before; a block freed unwiped (a `String` of plaintext,
/// the old buffer a growing vector moved out of) keeps its bytes until a later block takes
/// it or the process exits, as under any allocator, in a process that dumps no core and
/// is not ptrace-readable ([`release_at_exit`]).
///
/// `input`: the file the command reads (stdin, `-`, counts as empty). `per_input_byte`:
/// the arena bytes the command uses per input byte, measured (decrypt ≈ 8: the bytes
/// read, the tree, the decoded and opened values, the output; encrypt ≈ 18).
/// Without the binary's allocator (tests in-process) this only reserves address space;
/// the kernel refusing the mapping (strict overcommit) leaves the ordinary allocator.
pub fn use_arena_for(input: &std::path::Path, per_input_byte: usize) {
    let input_len = match input.as_os_str() == "-" {
        true => 0,
        false => std::fs::metadata(input).map_or(0, |m| m.len()),
    };
    // 64 KiB: what a run takes besides its input (age's buffers, the key file, the
    // command line); 64 MiB: past that, populating ahead stops paying for itself.
    let expected = usize::try_from(input_len)
        .unwrap_or(usize::MAX)
        .saturating_mul(per_input_byte)
        .saturating_add(64 << 10)
        .min(64 << 20);
    ARENA.start(reserve_for(expected), expected, expected >= HUGE_FROM);
}

/// The same arena for a scan of the whole history (`doctor --history`, the pre-push
/// scan): no pages populated ahead (the scan's size is not known), 1 GiB of address space.
/// The scan inflates every object into a buffer it frees soon after; musl's malloc maps
/// and unmaps each large one, and the page faults and cross-core TLB flushes that cost
/// made the scan 20 % slower than under glibc (docs/BENCHMARKS.md, "Issue 19, session
/// 5"). The arena's large-block list hands the buffers round instead. What the scan frees
/// serves the rest of the command (doctor's fixes and report); none of it goes back to
/// the kernel before the process exits.
pub fn use_arena_for_scan() {
    ARENA.start(1 << 30, 0, false);
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
                // SAFETY: the block has at least `layout.size()` bytes, of which the first
                // `dirty` may hold an earlier block's bytes; the rest are as the kernel
                // zeroed them.
                unsafe { std::ptr::write_bytes(block.ptr, 0, block.dirty) };
                block.ptr
            }
            // SAFETY: the caller's contract, passed on.
            None => unsafe { self.0.alloc_zeroed(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARENA.owns(ptr) {
            ARENA.free(ptr, layout);
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
        if ARENA.resize_in_place(ptr, layout, new_size) {
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
            ARENA.free(ptr, layout);
        }
        new
    }
}

/// Blocks of up to this size (aligned to at most 16) are rounded up to a size class and,
/// once freed, handed out again for the next block of their class: the values, strings
/// and tree nodes a decrypt frees in passing. Larger blocks are few (the file read, the
/// output, the vectors of a large tree, each buffer a growing vector moved out of) and
/// go to a short list, best fit, or, when it is the last block handed out, back to the
/// bump pointer, which also lets it grow in place.
const SMALL_MAX: usize = 64 << 10;
/// 16, 32, 48, 64 bytes, then four classes per doubling up to SMALL_MAX: a block is at
/// most 15 bytes or a quarter larger than asked for.
const CLASSES: usize = 44;
/// The alignment of every block the arena hands out.
const ALIGN: usize = 16;

/// The class of a small block of `size` bytes (1..=SMALL_MAX).
fn class_of(size: usize) -> usize {
    if size <= 64 {
        return size.saturating_sub(1) / 16;
    }
    // size is in (2^(bits-1), 2^bits]; the class splits that range in four.
    let bits = (usize::BITS - (size - 1).leading_zeros()) as usize;
    4 + (bits - 7) * 4 + (((size - 1) >> (bits - 3)) & 3)
}

/// The bytes of a block of class `class`: the largest size [`class_of`] maps to it.
fn class_size(class: usize) -> usize {
    if class < 4 {
        return (class + 1) * 16;
    }
    let (doubling, quarter) = ((class - 4) / 4, (class - 4) % 4);
    let bits = 7 + doubling;
    (1 << (bits - 1)) + (quarter + 1) * (1 << (bits - 3))
}

/// The class of a block of this layout, if it is small.
fn small_class(layout: Layout) -> Option<usize> {
    (layout.size() <= SMALL_MAX && layout.align() <= ALIGN).then(|| class_of(layout.size()))
}

/// One mapping handed out front to back, shared by all threads through atomics, and the
/// freed small blocks by class.
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
    /// Per class, the first freed block (0: none); each freed block holds the next one's
    /// address in its first word. Guarded by `lists_locked`.
    free: [AtomicUsize; CLASSES],
    /// Freed large blocks as (address, bytes), 0 where empty; guarded by `lists_locked`.
    /// A vector that grows by moving leaves its old buffer here for the next one.
    large: [(AtomicUsize, AtomicUsize); LARGE_SLOTS],
    lists_locked: AtomicBool,
}

/// How many freed large blocks the arena remembers; more are left where they are.
const LARGE_SLOTS: usize = 32;

/// A block of the arena, and how many of its first bytes are not known to be zero.
struct Block {
    ptr: *mut u8,
    dirty: usize,
}

impl Arena {
    const fn new() -> Arena {
        Arena {
            claimed: AtomicBool::new(false),
            base: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            next: AtomicUsize::new(0),
            used: AtomicUsize::new(0),
            free: [const { AtomicUsize::new(0) }; CLASSES],
            large: [const { (AtomicUsize::new(0), AtomicUsize::new(0)) }; LARGE_SLOTS],
            lists_locked: AtomicBool::new(false),
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
        // Huge pages only for a large run: where transparent huge pages are on `always`, a
        // small run would otherwise zero a 2 MiB page for its first few kilobytes. Best
        // effort: without transparent huge pages either advice changes nothing.
        let advice = if huge {
            libc::MADV_HUGEPAGE
        } else {
            libc::MADV_NOHUGEPAGE
        };
        // SAFETY: advice on the mapping just made, which nothing uses yet.
        unsafe { libc::madvise(map, reserve, advice) };
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

    /// A block for `layout`: a freed one of its class, or the next free bytes; None when
    /// not started or full.
    fn alloc(&self, layout: Layout) -> Option<Block> {
        if self.base.load(SeqCst) == 0 {
            return None;
        }
        // A freed block of the right kind, else new bytes of that size.
        let (freed, size, align) = match small_class(layout) {
            Some(class) => (self.pop(class), class_size(class), ALIGN),
            None => {
                let align = layout.align().max(ALIGN);
                (self.take_large(layout.size(), align), layout.size(), align)
            }
        };
        match freed {
            // all of it may hold the earlier block's bytes
            Some(ptr) => Some(Block {
                ptr,
                dirty: layout.size(),
            }),
            None => self.bump(size, align, layout.size()),
        }
    }

    /// The next `size` free bytes at `align`, of which the caller uses `asked`.
    fn bump(&self, size: usize, align: usize, asked: usize) -> Option<Block> {
        let end = self.end.load(SeqCst);
        let mut next = self.next.load(SeqCst);
        loop {
            let start = next.checked_add(align - 1)? & !(align - 1);
            let stop = start.checked_add(size)?;
            if stop > end {
                return None;
            }
            match self.next.compare_exchange_weak(next, stop, SeqCst, SeqCst) {
                Ok(_) => {
                    // Between `start` and the old high mark, a large block given back
                    // earlier left its bytes (see `free`).
                    let used = self.used.fetch_max(stop, SeqCst);
                    let dirty = used.min(stop).saturating_sub(start).min(asked);
                    return Some(Block {
                        ptr: start as *mut u8,
                        dirty,
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

    /// Gives a block back: a small one to its class, a large one to the bump pointer if it
    /// is the last block handed out, else to the large-block list (while it has a free
    /// slot; past that it stays where it is until the process exits).
    fn free(&self, ptr: *mut u8, layout: Layout) {
        match small_class(layout) {
            Some(class) => self.push(class, ptr),
            None => {
                let start = ptr as usize;
                let last = self
                    .next
                    .compare_exchange(start + layout.size(), start, SeqCst, SeqCst)
                    .is_ok();
                if !last {
                    self.keep_large(ptr, layout.size());
                }
            }
        }
    }

    /// Gives the block `new_size` bytes where it is: a small one within its class, a
    /// large one always when it shrinks (its tail is not given back: the block may be
    /// freed later as a small one of a class no larger than what it has), and when it
    /// grows if it is the last block and the arena has room.
    fn resize_in_place(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> bool {
        if let Some(class) = small_class(layout) {
            return new_size <= class_size(class);
        }
        if new_size <= layout.size() {
            return true;
        }
        let start = ptr as usize;
        let Some(stop) = start.checked_add(new_size) else {
            return false;
        };
        if stop > self.end.load(SeqCst) {
            return false;
        }
        let grown = self
            .next
            .compare_exchange(start + layout.size(), stop, SeqCst, SeqCst)
            .is_ok();
        if grown {
            self.used.fetch_max(stop, SeqCst);
        }
        grown
    }

    /// Runs `f` holding the free lists. Held for a few instructions; a thread that finds
    /// them held spins, and yields now and then in case the holder was preempted.
    fn with_lists<R>(&self, f: impl FnOnce() -> R) -> R {
        let mut spins = 0u32;
        while self.lists_locked.swap(true, Acquire) {
            spins = spins.wrapping_add(1);
            if spins % 64 == 0 {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        let result = f();
        self.lists_locked.store(false, Release);
        result
    }

    fn pop(&self, class: usize) -> Option<*mut u8> {
        self.with_lists(|| {
            let head = self.free[class].load(Relaxed);
            if head == 0 {
                return None;
            }
            // SAFETY: a freed block of this class (16-aligned, at least 16 bytes) whose
            // first word `push` wrote; nobody else uses it while it is on the list.
            let next = unsafe { *(head as *const usize) };
            self.free[class].store(next, Relaxed);
            Some(head as *mut u8)
        })
    }

    /// The smallest remembered large block of at least `size` bytes at `align`.
    fn take_large(&self, size: usize, align: usize) -> Option<*mut u8> {
        self.with_lists(|| {
            let fits = |slot: &(AtomicUsize, AtomicUsize)| {
                let (at, bytes) = (slot.0.load(Relaxed), slot.1.load(Relaxed));
                (at != 0 && bytes >= size && at % align == 0).then_some(bytes)
            };
            let best = self
                .large
                .iter()
                .filter_map(|slot| Some((fits(slot)?, slot)))
                .min_by_key(|(bytes, _)| *bytes)?
                .1;
            let at = best.0.swap(0, Relaxed);
            Some(at as *mut u8)
        })
    }

    /// Remembers a freed large block, if a slot is free.
    fn keep_large(&self, ptr: *mut u8, size: usize) {
        self.with_lists(|| {
            if let Some(slot) = self.large.iter().find(|slot| slot.0.load(Relaxed) == 0) {
                slot.1.store(size, Relaxed);
                slot.0.store(ptr as usize, Relaxed);
            }
        })
    }

    fn push(&self, class: usize, ptr: *mut u8) {
        self.with_lists(|| {
            // SAFETY: a block just freed, at least `class_size(class)` bytes and 16-aligned
            // (every arena block is): its first word is free to hold the list's link.
            unsafe { *(ptr as *mut usize) = self.free[class].load(Relaxed) };
            self.free[class].store(ptr as usize, Relaxed);
        })
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
    fn every_small_size_has_a_class_at_most_a_quarter_larger() {
        let mut last = 0;
        for size in 1..=SMALL_MAX {
            let class = class_of(size);
            assert!(class < CLASSES, "{size}");
            assert!(class >= last, "classes grow with the size: {size}");
            last = class;
            let bytes = class_size(class);
            assert!(bytes >= size, "{size} fits class {class} of {bytes}");
            // Up to 64 bytes the classes are 16 apart; above, a quarter of the size.
            assert!(
                bytes <= (size + size / 4).max(size + 15),
                "{size}: class of {bytes}"
            );
            assert_eq!(bytes % ALIGN, 0, "{size}");
        }
        for class in 0..CLASSES {
            assert_eq!(class_of(class_size(class)), class);
        }
        assert_eq!(class_size(CLASSES - 1), SMALL_MAX);
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
        let arena = started(1 << 20);
        let a = arena.alloc(layout(3, 1)).unwrap().ptr as usize;
        let b = arena.alloc(layout(16, 64)).unwrap().ptr as usize;
        assert_eq!((a % ALIGN, b % 64), (0, 0));
        assert!(b >= a + 3);
        let c = arena.alloc(layout(100_000, 8)).unwrap().ptr as usize;
        assert_eq!(c % ALIGN, 0);
        assert!(c >= b + 16);
        assert!(arena.owns(c as *mut u8) && !arena.owns(std::ptr::null_mut()));
        // Full: the next block comes from the other allocator.
        assert!(arena.alloc(layout(1 << 20, 1)).is_none());
        assert!(arena.alloc(layout(1000, 8)).is_some());
    }

    #[test]
    fn a_freed_small_block_serves_the_next_of_its_class_and_counts_as_written() {
        let arena = started(1 << 20);
        let first = arena.alloc(layout(100, 8)).unwrap();
        assert_eq!(first.dirty, 0);
        // SAFETY: 100 bytes of the block handed out above.
        unsafe { std::ptr::write_bytes(first.ptr, 0xAB, 100) };
        arena.free(first.ptr, layout(100, 8));
        let other_class = arena.alloc(layout(20, 8)).unwrap();
        assert_ne!(other_class.ptr, first.ptr);
        let again = arena.alloc(layout(97, 4)).unwrap();
        assert_eq!(again.ptr, first.ptr, "same class (97..=112 bytes)");
        assert_eq!(again.dirty, 97, "all of it may hold the old block's bytes");
        assert_eq!(
            arena.alloc(layout(100, 8)).unwrap().dirty,
            0,
            "list empty: fresh"
        );
    }

    #[test]
    fn only_the_last_large_block_is_reused() {
        let arena = started(1 << 20);
        let big = layout(SMALL_MAX + 1, 8);
        let first = arena.alloc(big).unwrap();
        let last = arena.alloc(big).unwrap();
        // SAFETY: the bytes of the block handed out above.
        unsafe { std::ptr::write_bytes(last.ptr, 0xAB, SMALL_MAX + 1) };
        arena.free(first.ptr, big); // not the last: stays where it is
        arena.free(last.ptr, big);
        let again = arena.alloc(layout(SMALL_MAX + 100, 8)).unwrap();
        assert_eq!(again.ptr, last.ptr);
        assert_eq!(again.dirty, SMALL_MAX + 1);
    }

    #[test]
    fn a_freed_large_block_serves_the_next_that_fits_it_best() {
        let arena = started(1 << 22);
        let (big, bigger) = (layout(SMALL_MAX + 1, 8), layout(3 * SMALL_MAX, 8));
        let a = arena.alloc(bigger).unwrap().ptr;
        let b = arena.alloc(big).unwrap().ptr;
        let _last = arena.alloc(layout(8, 8)).unwrap();
        arena.free(a, bigger);
        arena.free(b, big);
        let fit = arena.alloc(layout(SMALL_MAX + 1, 8)).unwrap();
        assert_eq!(
            (fit.ptr, fit.dirty),
            (b, SMALL_MAX + 1),
            "the smaller block that fits"
        );
        let next = arena.alloc(layout(2 * SMALL_MAX, 8)).unwrap();
        assert_eq!(next.ptr, a);
        let none_left = arena.alloc(layout(2 * SMALL_MAX, 8)).unwrap();
        assert!(none_left.ptr != a && none_left.ptr != b);
        assert_eq!(none_left.dirty, 0);
        // A block is only reused at the alignment asked for.
        let aligned = layout(SMALL_MAX + 1, 1 << 16);
        arena.free(next.ptr, layout(2 * SMALL_MAX, 8));
        let at = arena.alloc(aligned).unwrap().ptr as usize;
        assert_eq!(at % (1 << 16), 0);
    }

    #[test]
    fn blocks_resize_in_place_within_their_class_or_at_the_end() {
        let arena = started(1 << 20);
        let small = arena.alloc(layout(40, 8)).unwrap().ptr;
        assert!(
            arena.resize_in_place(small, layout(40, 8), 48),
            "class of 48"
        );
        assert!(!arena.resize_in_place(small, layout(48, 8), 49));
        assert!(arena.resize_in_place(small, layout(48, 8), 1));
        let big = layout(SMALL_MAX + 16, 8);
        let a = arena.alloc(big).unwrap().ptr;
        assert!(arena.resize_in_place(a, big, 2 * SMALL_MAX));
        let b = arena.alloc(layout(8, 8)).unwrap().ptr;
        assert_eq!(b as usize, a as usize + 2 * SMALL_MAX);
        let grown = layout(2 * SMALL_MAX, 8);
        assert!(
            !arena.resize_in_place(a, grown, 3 * SMALL_MAX),
            "no longer last"
        );
        assert!(
            arena.resize_in_place(a, grown, 16),
            "shrinks, keeping its bytes"
        );
        let last = layout(SMALL_MAX + 1, 16);
        let c = arena.alloc(last).unwrap().ptr;
        assert!(
            !arena.resize_in_place(c, last, 1 << 21),
            "past the end of the arena"
        );
    }

    /// What `alloc_zeroed` relies on, under contention: threads that each write a block
    /// full, give it back (to its class, to the large list, or to the bump pointer when
    /// it is the last one) and grow or shrink others in place never get a block with a
    /// byte past `dirty` that is not zero.
    #[test]
    fn blocks_past_dirty_are_zero_while_threads_write_and_give_back() {
        // Room for every block even if none were reused (~80 MB of large ones): the
        // arena running full would end the test, not test it.
        let arena = started(1 << 28);
        std::thread::scope(|s| {
            for t in 0..4usize {
                let arena = &arena;
                s.spawn(move || {
                    for i in 0..8_000usize {
                        // Small classes, and large blocks (over SMALL_MAX, or aligned
                        // to more than 16) now and then.
                        let size = if i % 29 == 0 {
                            SMALL_MAX + 1 + (i * 13 + t) % 5000
                        } else {
                            1 + (i * 31 + t * 7) % 300
                        };
                        let l = layout(size, 1 << (i % 7));
                        let block = arena.alloc(l).unwrap();
                        // SAFETY: the block is at least `size` bytes, this thread's alone
                        // until given back below.
                        unsafe {
                            let bytes = std::slice::from_raw_parts(block.ptr, size);
                            assert!(
                                bytes[block.dirty..].iter().all(|&b| b == 0),
                                "stale bytes past dirty={} of {size}",
                                block.dirty
                            );
                            let mut l = l;
                            if i % 3 == 0 && arena.resize_in_place(block.ptr, l, size * 2) {
                                l = layout(size * 2, l.align());
                            } else if i % 3 == 1 && size > 1 {
                                assert!(arena.resize_in_place(block.ptr, l, size / 2));
                                l = layout(size / 2, l.align());
                            }
                            block.ptr.write_bytes(0xA5, l.size());
                            // One in ten stays in use: the blocks around it are not last.
                            if i % 10 != 0 {
                                arena.free(block.ptr, l);
                            }
                        }
                    }
                });
            }
        });
    }

    #[test]
    fn threads_allocating_and_freeing_never_share_a_block() {
        let arena = started(1 << 24);
        std::thread::scope(|s| {
            for t in 0..4u8 {
                let arena = &arena;
                s.spawn(move || {
                    let mut live = Vec::new();
                    for i in 0..3000usize {
                        let size = 1 + (i * 7 + t as usize) % 300;
                        let block = arena.alloc(layout(size, 8)).unwrap();
                        // SAFETY: the block handed out above, `size` bytes.
                        unsafe { std::ptr::write_bytes(block.ptr, t, size) };
                        live.push((block.ptr, size));
                        if i % 3 == 0 {
                            let (ptr, size) = live.swap_remove(i % live.len());
                            // SAFETY: a live block of this thread, `size` bytes.
                            let bytes = unsafe { std::slice::from_raw_parts(ptr, size) };
                            assert!(bytes.iter().all(|&b| b == t), "thread {t}: overwritten");
                            arena.free(ptr, layout(size, 8));
                        }
                    }
                    for (ptr, size) in live {
                        // SAFETY: a live block of this thread, `size` bytes.
                        let bytes = unsafe { std::slice::from_raw_parts(ptr, size) };
                        assert!(bytes.iter().all(|&b| b == t), "thread {t}: overwritten");
                    }
                });
            }
        });
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
            // Past its class: `a` moves, with its bytes, and its old block is reused.
            let a2 = alloc.realloc(a, l, 4000);
            assert_ne!(a2, a);
            assert_eq!(std::slice::from_raw_parts(a2, 24), &[1; 24]);
            let c = alloc.alloc_zeroed(l);
            assert_eq!(c, a, "the freed block of the same class");
            assert_eq!(std::slice::from_raw_parts(c, 24), &[0; 24], "zeroed again");
            let before2 = alloc.realloc(before, l, 4000);
            assert!(!ARENA.owns(before2), "a block of System's stays System's");
            assert_eq!(std::slice::from_raw_parts(before2, 24), &[7; 24]);
            alloc.dealloc(before2, layout(4000, 8));
            alloc.dealloc(a2, layout(4000, 8));
            alloc.dealloc(b, l);
            alloc.dealloc(c, l);
        }
    }
}
