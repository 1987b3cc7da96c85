#!/usr/bin/env bash
# Installs git-secrets where git, man and the shells find it:
#   PREFIX/bin/git-secrets                      (`git secrets …` works when PREFIX/bin is on PATH)
#   PREFIX/share/man/man1/git-secrets.1         (`git secrets --help`, `git help secrets`)
#   PREFIX/share/bash-completion/completions/git-secrets, zsh and fish completions
# Usage: bash scripts/install.sh [PREFIX]   (default: ~/.local)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
prefix="${1:-$HOME/.local}"
cargo build --release --locked
bin=target/release/git-secrets
install -Dm755 "$bin" "$prefix/bin/git-secrets"
install -Dm644 man/man1/git-secrets.1 "$prefix/share/man/man1/git-secrets.1"
"$bin" completions bash | install -Dm644 /dev/stdin "$prefix/share/bash-completion/completions/git-secrets"
"$bin" completions zsh | install -Dm644 /dev/stdin "$prefix/share/zsh/site-functions/_git-secrets"
"$bin" completions fish | install -Dm644 /dev/stdin "$prefix/share/fish/vendor_completions.d/git-secrets.fish"
echo "installed git-secrets into $prefix"
case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "add $prefix/bin to PATH" ;; esac
echo "for the man page: export MANPATH=\"$prefix/share/man:\$MANPATH\""
