#!/usr/bin/env bash
# Installs git-secrets where git, man and the shells find it:
#   PREFIX/bin/git-secrets                      (`git secrets …` works when PREFIX/bin is on PATH)
#   PREFIX/share/man/man1/git-secrets.1         (`man git-secrets`, `git secrets --help`)
#   PREFIX/share/bash-completion/completions/git-secrets, zsh and fish completions
# Usage: bash scripts/install.sh [PREFIX]   (default: ~/.local)
# GIT_SECRETS_BIN=path installs that binary instead of building one (tests).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
prefix="${1:-$HOME/.local}"
bin="${GIT_SECRETS_BIN:-}"
if [ -z "$bin" ]; then
    # static PIE on x86_64 Linux (musl if rustup has the target, else glibc), else the plain
    # `cargo build --release` (see there)
    bin="$(bash scripts/build.sh)"
fi
install -Dm755 "$bin" "$prefix/bin/git-secrets"
install -Dm644 man/man1/git-secrets.1 "$prefix/share/man/man1/git-secrets.1"
"$bin" completions bash | install -Dm644 /dev/stdin "$prefix/share/bash-completion/completions/git-secrets"
"$bin" completions zsh | install -Dm644 /dev/stdin "$prefix/share/zsh/site-functions/_git-secrets"
"$bin" completions fish | install -Dm644 /dev/stdin "$prefix/share/fish/vendor_completions.d/git-secrets.fish"
echo "installed git-secrets into $prefix"
case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "add $prefix/bin to PATH (before any other git-secrets, e.g. awslabs')" ;; esac

# The man page: awslabs/git-secrets ships a page of the same name, often in a
# directory man searches first. Ours wins when its directory comes first in
# MANPATH (a trailing ':' keeps the system's directories after it).
mandir="$prefix/share/man"
manline="export MANPATH=\"$mandir:\$MANPATH\""
if ! command -v man >/dev/null 2>&1; then
    echo "man is not installed; the page is in $mandir/man1/git-secrets.1"
    exit 0
fi
ours() { case "$1" in "$mandir/"*) return 0 ;; *) return 1 ;; esac; }
now="$(man -w git-secrets 2>/dev/null | head -n1 || true)"
with_line="$(MANPATH="$mandir:${MANPATH:-}" man -w git-secrets 2>/dev/null | head -n1 || true)"
if [ -n "$now" ] && ours "$now"; then
    echo "man git-secrets opens this page ($now)"
else
    echo "man git-secrets opens ${now:-nothing} now; to open this tool's page, add to your shell profile:"
    echo "  $manline"
    if ! ours "$with_line"; then
        echo "warning: even then man opens ${with_line:-nothing}; check MANPATH and /etc/manpath.config" >&2
    fi
fi
# `git secrets --help` runs `git help secrets`, which puts git's own man dir first.
if gitman="$(git --man-path 2>/dev/null)" && [ -n "$gitman" ]; then
    via_git="$(MANPATH="$gitman:$mandir:${MANPATH:-}" man -w git-secrets 2>/dev/null | head -n1 || true)"
    if [ -n "$via_git" ] && ! ours "$via_git"; then
        echo "note: \`git secrets --help\` opens $via_git: git puts its own man dir ($gitman) before MANPATH;"
        echo "      use \`man git-secrets\` (or \`git secrets -h\` for the summary)"
    fi
fi
