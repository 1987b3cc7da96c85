# Plain Nix functions behind the flake's outputs. Only `builtins` here, so
# they evaluate anywhere (and against a small nixpkgs stand-in in the tests);
# what needs packages takes `pkgs` from the caller.
#
# `packageFor pkgs` builds git-secrets with that package set (the flake
# passes nix/package.nix with its source and version).
{ packageFor }:
let
  # Like nixpkgs' lib.escapeShellArg: words that need no quoting stay bare
  # (store paths, variable names), so the scripts read like hand-written ones.
  escapeShellArg = s:
    let str = toString s; in
    if builtins.match "[[:alnum:],._+:@%/-]+" str != null then str
    else "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] str + "'";

  # Like nixpkgs' lib.getExe: the main program of a package's bin output.
  # A string is taken as the path of the executable itself.
  getExe = p:
    if builtins.isString p then p
    else
      let
        bin = if p.outputSpecified or false then p else p.bin or p.out or p;
        main = p.meta.mainProgram or (p.pname or (builtins.parseDrvName p.name).name);
      in
      "${bin}/bin/${main}";

  isVarName = v: builtins.match "[A-Za-z_][A-Za-z0-9_]*" v != null;

  showNames = names:
    if names == [ ] then "none" else builtins.concatStringsSep ", " names;

  # The one wrapper script: `git secrets exec` with the secret's store path.
  wrapperScript =
    { name
    , gitSecrets
    , secrets
    , secret
    , command
    , file ? null
    , env ? null
    , field ? null
    , ...
    }:
    let
      where = "git-secrets wrapper '${name}'";
      path =
        if !(builtins.isString secret) then
          throw "${where}: secret must be a secret's name (a string), like \"kubeconfig\""
        else if secrets ? ${secret} then secrets.${secret}
        else
          throw "${where}: no secret '${secret}' in the secrets given (have: ${showNames (builtins.attrNames secrets)}); pass the secrets flake's lib.secrets";
      var = v:
        if isVarName v then v
        else throw "${where}: '${v}' is not an environment variable name";
      how =
        if file != null && env == null then "--file ${var file}"
        else if env != null && file == null then "--env ${var env}"
        else throw "${where}: give exactly one of file (the secret as a file, its path in that variable) or env (the value in that variable)";
      pick = if field == null then "" else "--field ${escapeShellArg field} ";
    in
    # "${path}" copies the encrypted file into the store (a path) or keeps
    # the store path it already is; decryption happens only when the
    # wrapper runs.
    ''
      exec ${getExe gitSecrets} exec ${escapeShellArg "${path}"} ${pick}${how} -- ${command} "$@"
    '';

  # The command a wrapper runs: `command` as given, else the main program of
  # `package`, else of `pkgs.<name>`.
  commandOf = pkgs: name: w:
    if w.command or null != null then w.command
    else if w.package or null != null then getExe w.package
    else if pkgs != null && pkgs ? ${name} then getExe pkgs.${name}
    else throw "git-secrets wrapper '${name}': no package '${name}' in pkgs; set package or command";

  helpOf = name: w:
    if w.help or null != null then w.help
    else
      let
        what = if w.field or null != null then "the ${w.field} field of ${w.secret}" else w.secret;
        how =
          if w.file or null != null then "as a file in \$${w.file}"
          else if w.env or null != null then "in \$${w.env}"
          else "";
      in
      "${name} with ${what} ${how} (git secrets exec)";

  # name -> script text, for every wrapper.
  wrapperScripts = { pkgs ? null, gitSecrets ? packageFor pkgs, secrets, wrappers }:
    builtins.mapAttrs
      (name: w: wrapperScript (w // {
        inherit name gitSecrets secrets;
        command = commandOf pkgs name w;
      }))
      wrappers;
in
{
  inherit escapeShellArg getExe wrapperScript wrapperScripts;

  # The git-secrets package for a nixpkgs package set.
  package = packageFor;

  # name -> a package with bin/<name>, the wrapper script.
  #   mkWrappers {
  #     inherit pkgs;
  #     secrets = inputs.kubenix-secrets.lib.secrets;
  #     wrappers = {
  #       kubectl = { secret = "kubeconfig"; file = "KUBECONFIG"; };
  #       hcloud = { secret = "hcloud-token"; field = "hcloud_token"; env = "HCLOUD_TOKEN"; };
  #     };
  #   }
  # Each wrapper: secret (a name in secrets), exactly one of file or env,
  # optionally field (a dotted path), package (default pkgs.<name>) or
  # command (shell words; default the package's main program), help.
  mkWrappers = { pkgs, gitSecrets ? packageFor pkgs, secrets, wrappers }:
    builtins.mapAttrs pkgs.writeShellScriptBin
      (wrapperScripts { inherit pkgs gitSecrets secrets wrappers; });

  # The same wrappers as numtide devshell commands ({ name, help, command }).
  devshellCommands = { pkgs, gitSecrets ? packageFor pkgs, secrets, wrappers, category ? "secrets" }:
    let scripts = wrapperScripts { inherit pkgs gitSecrets secrets wrappers; }; in
    map
      (name: {
        inherit name category;
        help = helpOf name wrappers.${name};
        command = scripts.${name};
      })
      (builtins.attrNames wrappers);
}
