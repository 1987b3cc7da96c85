//! Nix files the tool writes: the secrets flake for `init --new`, and a
//! minimal parent flake for tests and `demo`.

/// The secrets flake written by `init --new`.
///
/// It has no inputs on purpose: the parent locks it with `git+file:`, and a
/// flake without inputs locks offline with any Nix. Everything that needs
/// packages (`flakeModules.default`, `lib.mkSecretWrapper`) takes them from
/// the consumer, so versions follow the parent's nixpkgs.
pub const SECRETS_FLAKE: &str = r#"{
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
"#;

/// A parent flake with no network inputs at all (not even nixpkgs), so
/// `nix flake lock` and `nix eval` work offline; used by tests and `demo`.
/// Replace [`INPUT_PLACEHOLDER`] and [`URL_PLACEHOLDER`] with
/// [`parent_flake`].
const PARENT_FLAKE: &str = r#"{
  description = "A parent flake that reads its secrets from a nested private repo";

  inputs.@INPUT@.url = "@URL@";

  outputs = { self, @INPUT@ }: {
    # name -> store path of the encrypted file
    secretFiles = builtins.mapAttrs (_: toString) @INPUT@.lib.secrets;
    # name -> the encrypted file's text (still ciphertext)
    secretText = builtins.mapAttrs (_: builtins.readFile) @INPUT@.lib.secrets;
  };
}
"#;

/// The placeholder for the input name in the parent template.
pub const INPUT_PLACEHOLDER: &str = "@INPUT@";
/// The placeholder for the input url in the parent template.
pub const URL_PLACEHOLDER: &str = "@URL@";

/// The parent flake for tests and `demo`: one input `input` at `url`
/// (`git+file:./secrets`), outputs `secretFiles.<name>` and
/// `secretText.<name>` read through `inputs.<input>.lib.secrets`.
pub fn parent_flake(input: &str, url: &str) -> String {
    PARENT_FLAKE
        .replace(INPUT_PLACEHOLDER, input)
        .replace(URL_PLACEHOLDER, url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nix::flake_nix::{FlakeInputs, UrlKind};

    #[test]
    fn the_secrets_flake_has_no_inputs_and_parses() {
        let inputs = FlakeInputs::parse(SECRETS_FLAKE).unwrap();
        assert!(inputs.inputs.is_empty());
        assert!(SECRETS_FLAKE.contains("lib.secrets"));
        assert!(SECRETS_FLAKE.contains("flakeModules.default"));
    }

    #[test]
    fn the_parent_flake_points_at_the_secrets_dir() {
        let src = parent_flake("kubenix-secrets", "git+file:./secrets");
        assert!(!src.contains('@'), "placeholders left: {src}");
        let inputs = FlakeInputs::parse(&src).unwrap();
        assert_eq!(inputs.inputs.len(), 1);
        assert_eq!(
            inputs.get("kubenix-secrets").unwrap().url_kind(),
            Some(UrlKind::GitFile {
                path: "./secrets".into()
            })
        );
    }
}
