# The flake-parts module: `imports = [ inputs.git-secrets.flakeModules.default ];`
#
#   perSystem = { ... }: {
#     gitSecrets.secrets = inputs.kubenix-secrets.lib.secrets;
#     gitSecrets.wrappers = {
#       kubectl = { secret = "kubeconfig"; file = "KUBECONFIG"; };
#       hcloud = { secret = "hcloud-token"; field = "hcloud_token"; env = "HCLOUD_TOKEN"; };
#     };
#   };
#
# adds the `git secrets exec` wrappers to numtide devshell's
# `devshells.default.commands` when that module is imported, and always
# offers them as `gitSecrets.wrapperPackages` (for mkShell:
# `packages = builtins.attrValues config.gitSecrets.wrapperPackages;`).
# Only options and wiring here; the scripts come from `lib` (nix/lib.nix).
{ self }:
{
  perSystem = { config, lib, pkgs, system, options, ... }:
    let
      cfg = config.gitSecrets;
      t = lib.types;
      opt = type: default: description: lib.mkOption { inherit type default description; };
      wrapper = t.submodule {
        options = {
          secret = lib.mkOption {
            type = t.str;
            description = "The secret's name in `gitSecrets.secrets` (`kubeconfig`).";
          };
          file = opt (t.nullOr t.str) null
            "Pass the secret as a file (a memfd, never on disk); this variable holds its path.";
          env = opt (t.nullOr t.str) null
            "Pass the secret (or `field` of it) as the value of this variable.";
          field = opt (t.nullOr t.str) null
            "Only this field of the secret, as a dotted path (`hcloud_token`, `a.b.0`).";
          package = opt (t.nullOr t.package) null
            "The package whose main program the wrapper runs (default: `pkgs.<name>`).";
          command = opt (t.nullOr t.str) null
            "The command the wrapper runs, as shell words (default: the main program of `package`).";
          help = opt (t.nullOr t.str) null "The line devshell's menu shows.";
        };
      };
      args = { inherit pkgs; gitSecrets = cfg.package; inherit (cfg) secrets wrappers; };
    in
    {
      options.gitSecrets = {
        package = lib.mkOption {
          type = t.package;
          default = self.packages.${system}.default;
          defaultText = lib.literalExpression "inputs.git-secrets.packages.\${system}.default";
          description = "The git-secrets package the wrappers run.";
        };
        secrets = opt (t.attrsOf t.path) { }
          "Secret name -> encrypted file: the secrets flake's `lib.secrets`.";
        wrappers = opt (t.attrsOf wrapper) { }
          "Command name -> how it gets its secret through `git secrets exec`.";
        wrapperPackages = lib.mkOption {
          type = t.attrsOf t.package;
          readOnly = true;
          description = "The wrappers as packages with bin/<name>.";
        };
      };

      # Under `config`, so asking `options ? devshells` does not make the
      # module system recurse into this module's own shape.
      config = {
        gitSecrets.wrapperPackages = self.lib.mkWrappers args;
      } // (if options ? devshells then {
        devshells.default.commands = self.lib.devshellCommands args;
      } else { });
    };
}
