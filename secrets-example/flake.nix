{
  description = "Private secrets (sops/age), used by the parent flake as a git+file: input";

  # No inputs: the parent flake locks this one offline. Packages come from
  # the consumer (its pkgs), never from here.
  outputs = { self }:
    let
      dir = ./secrets;
      entries = if builtins.pathExists dir then builtins.readDir dir else { };
      # Plain files only, no dot files (.gitkeep).
      files = builtins.filter
        (f: entries.${f} == "regular" && builtins.substring 0 1 f != ".")
        (builtins.attrNames entries);
      # kubeconfig.yaml -> kubeconfig; a.b.json -> a.b
      stem = f:
        let m = builtins.match "(.+)\\.[^.]*" f;
        in if m == null then f else builtins.head m;
      byName = builtins.foldl'
        (acc: f:
          let name = stem f; in
          if acc ? ${name} then
            throw "secrets: ${acc.${name}} and ${f} both define the secret '${name}'; rename one of them"
          else acc // { ${name} = f; })
        { }
        files;
    in
    {
      # name -> path of the encrypted file (copied into the store with this
      # flake's source); decryption happens at run time, never at eval time.
      lib.secrets = builtins.mapAttrs (_: f: dir + "/${f}") byName;

      # The packages a shell needs to work with the secrets.
      lib.tools = pkgs: [ pkgs.sops pkgs.age ];

      # A command that runs `command` with one secret decrypted by
      # `git secrets exec`, as a file (`file = "KUBECONFIG"`) or as the value
      # of an environment variable (`env = "HCLOUD_TOKEN"`), never on disk.
      # Pass `gitSecrets` (the git-secrets package, or its binary's path): the
      # default, `git-secrets` looked up on PATH when the wrapper runs, can be
      # awslabs/git-secrets, which has the same name. git-secrets' own flake
      # module (flakeModules.default) writes these wrappers with absolute paths.
      lib.mkSecretWrapper =
        { pkgs, name, secret, command, env ? null, file ? null, field ? null, gitSecrets ? "git-secrets" }:
        let
          q = pkgs.lib.escapeShellArg;
          exe =
            if builtins.isString gitSecrets then gitSecrets
            else "${gitSecrets}/bin/git-secrets";
          how =
            if env != null && file == null then "--env ${q env}"
            else if file != null && env == null then "--file ${q file}"
            else throw "mkSecretWrapper ${name}: give exactly one of env or file";
          pick = if field == null then "" else "--field ${q field} ";
        in
        pkgs.writeShellScriptBin name ''
          exec ${exe} exec ${q "${secret}"} ${pick}${how} -- ${command} "$@"
        '';

      # For flake-parts consumers: `imports = [ inputs.<this>.flakeModules.default ];`
      # adds sops and age to numtide devshell's `devshells.default`, and
      # offers `devShells.secrets` for plain mkShell users
      # (`inputsFrom = [ config.devShells.secrets ];`).
      flakeModules.default = {
        perSystem = { pkgs, options, ... }: {
          # Under `config`, so asking `options ? devshells` does not make
          # the module system recurse into this module's own shape.
          config = {
            devShells.secrets = pkgs.mkShell { packages = self.lib.tools pkgs; };
          } // (if options ? devshells then {
            devshells.default.packages = self.lib.tools pkgs;
          } else { });
        };
      };
    };
}
