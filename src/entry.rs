//! The static-PIE binary's entry point (`-Wl,-e,git_secrets_entry`, set by
//! `scripts/build.sh` and the Nix package): one `madvise(MADV_POPULATE_WRITE)` over the
//! RELRO segment, then the C library's own `_start` (glibc's, or musl's in the musl build).
//!
//! Why: a static PIE relocates itself at start (glibc: `_dl_relocate_static_pie`, in
//! `__libc_start_main`; musl: `_start_c` of `rcrt1.o`), and its relocations write a pointer into every page of
//! `.data.rel.ro` and `.got` (≈ 95 pages: vtables, `&str` tables, panic locations of
//! every crate). Written one by one, each page is a copy-on-write fault; populated in one
//! call, the kernel copies them in a batch: a 17 KB decrypt takes ≈ 95 fewer page faults
//! and ≈ 5 % less CPU (docs/BENCHMARKS.md, "Issue 19, session 4"). It must run before
//! the relocation, that is before any Rust or C code, so it is a few instructions of
//! assembly that touch nothing but registers: the RELRO range comes from the program
//! headers of the image itself (`__ehdr_start`, reached PC-relatively, needs no
//! relocation; in a PIE the header sits at the image's address 0, so the segment's
//! `p_vaddr` is an offset from it). `rdx` (the `atexit` function the kernel passes to
//! `_start`) and `rsp` are kept as the kernel left them. A kernel without
//! `MADV_POPULATE_WRITE` (before Linux 5.14) answers `EINVAL`, which is ignored: the
//! pages then fault as before.
//! Linked without `-e`, as the plain and test builds are, this code is never run.

// PT_GNU_RELRO = 0x6474e552; Elf64_Ehdr: e_phoff at 0x20, e_phnum at 0x38; Elf64_Phdr
// (56 bytes): p_vaddr at 16, p_memsz at 40. madvise is syscall 28, MADV_POPULATE_WRITE 23.
std::arch::global_asm!(
    ".globl git_secrets_entry",
    ".type git_secrets_entry,@function",
    "git_secrets_entry:",
    "    mov r8, rdx",
    "    lea r9, [rip + __ehdr_start]",
    "    mov r10, qword ptr [r9 + 0x20]",
    "    add r10, r9",
    "    movzx ecx, word ptr [r9 + 0x38]",
    "2:",
    "    test ecx, ecx",
    "    jz 4f",
    "    cmp dword ptr [r10], 0x6474e552",
    "    je 3f",
    "    add r10, 56",
    "    dec ecx",
    "    jmp 2b",
    "3:",
    "    mov rdi, qword ptr [r10 + 16]",
    "    add rdi, r9",
    "    mov rsi, qword ptr [r10 + 40]",
    "    mov rax, rdi",
    "    and rdi, -4096",
    "    sub rax, rdi",
    "    add rsi, rax",
    "    mov edx, 23",
    "    mov eax, 28",
    "    syscall",
    "4:",
    "    mov rdx, r8",
    "    jmp _start",
    ".size git_secrets_entry, . - git_secrets_entry",
);
