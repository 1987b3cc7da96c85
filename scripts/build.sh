#!/usr/bin/env bash
# Builds the git-secrets binary that users get (scripts/install.sh and benches/run use it)
# and prints its path on stdout; cargo's output goes to stderr.
#
# On x86_64 Linux with glibc's static library (Debian: libc6-dev; Fedora: glibc-static)
# the binary is a static PIE with packed relative relocations (RELR): no dynamic loader,
# no shared libraries to map and bind, and the image still loads at a random address
# (ASLR). A small decrypt then takes ~20 % less CPU and 1.2 MiB less memory than with
# `cargo build --release` (docs/BENCHMARKS.md, "Issue 19: start-up"). The tool resolves
# no host names (git's network is a `git` subprocess) and reads the home directory
# from $HOME, so static glibc's NSS limits do not apply. Elsewhere, or when the static
# link fails, it is the plain `cargo build --release`, which stays the portable path.
#
# Usage: bash scripts/build.sh [CARGO-OPTIONS…]    (e.g. --quiet)
# GIT_SECRETS_BUILD=plain: the plain build, whatever the platform.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
case "$target_dir" in /*) ;; *) target_dir="$PWD/$target_dir" ;; esac

# The flags apply to the final link of the binary only: `cargo rustc` hands them to the
# last rustc call, so dependencies, build scripts and proc-macros are the ones
# `cargo build --release` made (and the test build is untouched).
# The entry point `git_secrets_entry` (src/entry.rs) pre-faults the pages the start-up
# relocation writes in one madvise, then jumps to glibc's `_start`.
static_pie_flags=(-C target-feature=+crt-static -C link-arg=-Wl,-z,pack-relative-relocs
    -C link-arg=-Wl,-e,git_secrets_entry)

static_pie_possible() {
    [ "$(rustc -vV | sed -n 's/^host: //p')" = x86_64-unknown-linux-gnu ] || return 1
    local libc
    libc="$("${CC:-cc}" -print-file-name=libc.a 2>/dev/null)" || return 1
    # cc prints the bare name when it has no such file
    [[ "$libc" == /* && -f "$libc" ]]
}

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
