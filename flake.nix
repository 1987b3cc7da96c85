{
  description = "git secrets: a git porcelain for a private sops/age secrets repo nested in a public Nix flake";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  # Only builtins up here: nixpkgs is used through `pkgs` alone (nix/package.nix,
  # writeShellScriptBin), so the outputs evaluate against any package set.
  outputs = { self, nixpkgs }:
    let
      cargo = (builtins.fromTOML (builtins.readFile ./Cargo.toml)).package;

      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      eachSystem = f: builtins.listToAttrs
        (map (system: { name = system; value = f system; }) systems);

      # What the build reads: no target/, tests, fixtures or benches.
      src = builtins.path {
        name = "git-secrets-source";
        path = ./.;
        filter = path: type:
          let
            root = toString ./.;
            rel = builtins.substring (builtins.stringLength root + 1) (-1) (toString path);
            top = builtins.head (builtins.split "/" rel);
          in
          builtins.elem rel [ "Cargo.toml" "Cargo.lock" "build.rs" ]
          || builtins.elem top [ "src" "man" "secrets-example" ];
      };

      packageFor = pkgs: import ./nix/package.nix {
        inherit pkgs src cargo;
        describe = self.shortRev or "dirty";
      };
    in
    {
      # Plain functions: package, mkWrappers, wrapperScripts, devshellCommands, …
      lib = import ./nix/lib.nix { inherit packageFor; };

      packages = eachSystem (system:
        let git-secrets = packageFor nixpkgs.legacyPackages.${system}; in
        { default = git-secrets; inherit git-secrets; });

      apps = eachSystem (system: {
        default = {
          type = "app";
          program = self.lib.getExe self.packages.${system}.default;
        };
      });

      # `git-secrets` (this tool, not awslabs/git-secrets, which nixpkgs
      # ships under the same name) built with the overlaid package set.
      overlays.default = final: _prev: { git-secrets = packageFor final; };

      flakeModules.default = import ./nix/flake-module.nix { inherit self; };
    };
}
