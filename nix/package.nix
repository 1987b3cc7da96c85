# git-secrets for a nixpkgs package set: the crate from Cargo.lock, with its
# man page and shell completions. Called by the flake (packages, overlay);
# `cargo` is Cargo.toml's [package] table.
{ pkgs, src, cargo, describe }:
pkgs.rustPlatform.buildRustPackage {
  pname = "git-secrets";
  inherit (cargo) version;
  inherit src;

  cargoLock.lockFile = ../Cargo.lock;

  nativeBuildInputs = [ pkgs.installShellFiles ];

  # build.rs runs `git describe`; the sandbox has no .git, so say which
  # revision of the flake this is instead.
  env.GIT_SECRETS_DESCRIBE = describe;

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
