#!/usr/bin/env bash
# Builds the git-secrets binary that users get (scripts/install.sh and benches/run use it)
# and prints its path on stdout; cargo's output goes to stderr.
#
# On x86_64 Linux the binary is a static PIE with packed relative relocations (RELR): no
# dynamic loader, no shared libraries to map and bind, and the image still loads at a
# random address (ASLR). The tool resolves no host names (git's network is a `git`
# subprocess) and reads the home directory from $HOME, so a static libc's NSS limits do
# not apply. In order of preference:
#  1. musl (rustup's x86_64-unknown-linux-musl target: `rustup target add
#     x86_64-unknown-linux-musl`; no C toolchain beyond the usual). glibc's start-up asks
#     the CPU for its features and cache sizes with ~70 `cpuid` instructions, and in a
#     virtual machine each one traps to the hypervisor (6.7 µs each on the machine of
#     docs/BENCHMARKS.md): half of a small decrypt. musl asks nothing. Its `memcpy` is
#     slow, so the binary brings its own (src/musl_mem.rs), and decrypt/encrypt allocate
#     from an arena (src/one_shot.rs), not from musl's malloc. A 17 KB decrypt then takes
#     ~45 % less CPU than the glibc static PIE ("Issue 19, session 5").
#  2. glibc's static PIE (glibc's static library; Debian: libc6-dev, Fedora:
#     glibc-static): ~20 % less CPU and 1.2 MiB less memory than `cargo build --release`
#     ("Issue 19: start-up"). The Nix package links this one.
#  3. the plain `cargo build --release`, the portable path: elsewhere, or when a static
#     link fails or its binary does not start.
#
# Usage: bash scripts/build.sh [CARGO-OPTIONS…]    (e.g. --quiet)
# GIT_SECRETS_BUILD=glibc: skip musl; GIT_SECRETS_BUILD=plain: the plain build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$PWD/$target_dir" ;; esac

# The flags apply to the final link of the binary only: `cargo rustc` hands them to the
# last rustc call, so dependencies, build scripts and proc-macros are the ones
# `cargo build --release` made (and the test build is untouched).
# The entry point `git_secrets_entry` (src/entry.rs) pre-faults the pages the start-up
# relocation writes in one madvise, then jumps to the C library's `_start` (glibc or musl).
static_pie_flags=(-C target-feature=+crt-static -C link-arg=-Wl,-z,pack-relative-relocs
    -C link-arg=-Wl,-e,git_secrets_entry)

# musl: the same relocations and entry point; the C runtime is static by default there.
musl_target=x86_64-unknown-linux-musl
musl_flags=(-C link-arg=-Wl,-z,pack-relative-relocs -C link-arg=-Wl,-e,git_secrets_entry)

musl_possible() {
    [ "$(rustc -vV | sed -n 's/^host: //p')" = x86_64-unknown-linux-gnu ] || return 1
    [ -d "$(rustc --print sysroot)/lib/rustlib/$musl_target/lib" ]
}

static_pie_possible() {
    [ "$(rustc -vV | sed -n 's/^host: //p')" = x86_64-unknown-linux-gnu ] || return 1
    local libc
    libc="$("${CC:-cc}" -print-file-name=libc.a 2>/dev/null)" || return 1
    # cc prints the bare name when it has no such file
    [[ "$libc" == /* && -f "$libc" ]]
}

if [ -z "${GIT_SECRETS_BUILD:-}" ] && musl_possible; then
    if cargo rustc --release --locked --target "$musl_target" --bin git-secrets "$@" -- "${musl_flags[@]}" >&2 &&
        "$target_dir/$musl_target/release/git-secrets" --version > /dev/null; then
        echo "$target_dir/$musl_target/release/git-secrets"
        exit 0
    fi
    echo "build: the musl build failed or its binary does not start; trying glibc's static PIE" >&2
fi

if [ "${GIT_SECRETS_BUILD:-}" != plain ] && static_pie_possible; then
    if cargo rustc --release --locked --bin git-secrets "$@" -- "${static_pie_flags[@]}" >&2 &&
        "$target_dir/release/git-secrets" --version > /dev/null; then
        echo "$target_dir/release/git-secrets"
        exit 0
    fi
    echo "build: the static-pie link failed or its binary does not start; building the plain (dynamically linked) binary" >&2
fi
cargo build --release --locked "$@" >&2
echo "$target_dir/release/git-secrets"
