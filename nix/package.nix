# git-secrets for a nixpkgs package set: the crate from Cargo.lock, with its
# man page and shell completions. Called by the flake (packages, overlay);
# `cargo` is Cargo.toml's [package] table.
{ pkgs, src, cargo, describe }:
let
  # x86_64 glibc Linux: a static PIE with packed relative relocations, as
  # scripts/build.sh makes it: no dynamic loader or shared libraries at start-up
  # (a small decrypt takes ~20 % less CPU and 1.2 MiB less memory) and the image
  # still loads at a random address. buildRustPackage passes `--target`, so these
  # flags reach the target's crates only, not build scripts or proc-macros.
  host = pkgs.stdenv.hostPlatform;
  staticPie = host.isLinux && host.isx86_64 && host.isGnu;
in
pkgs.rustPlatform.buildRustPackage {
  pname = "git-secrets";
  inherit (cargo) version;
  inherit src;

  cargoLock.lockFile = ../Cargo.lock;

  nativeBuildInputs = [ pkgs.installShellFiles ];
  buildInputs = pkgs.lib.optionals staticPie [ pkgs.glibc.static ];

  env = {
    # build.rs runs `git describe`; the sandbox has no .git, so say which
    # revision of the flake this is instead.
    GIT_SECRETS_DESCRIBE = describe;
  } // pkgs.lib.optionalAttrs staticPie {
    # as scripts/build.sh: static PIE, RELR, the entry point of src/entry.rs
    RUSTFLAGS = "-C target-feature=+crt-static -C link-arg=-Wl,-z,pack-relative-relocs -C link-arg=-Wl,-e,git_secrets_entry";
  };

  # The test suite drives real git, sops, age and nix on temp repos (and nix
  # needs a store of its own); CI runs it with `bash .ci/run`.
  doCheck = false;

  postInstall = ''
    installManPage man/man1/git-secrets.1
    installShellCompletion --cmd git-secrets \
      --bash <($out/bin/git-secrets completions bash) \
      --zsh <($out/bin/git-secrets completions zsh) \
      --fish <($out/bin/git-secrets completions fish)
  '';

  meta = {
    inherit (cargo) description;
    license = [ pkgs.lib.licenses.mit pkgs.lib.licenses.asl20 ];
    mainProgram = "git-secrets";
  };
}
