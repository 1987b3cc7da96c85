//! The repo's `flake.nix`, evaluated by the real `nix eval` (Nix 2.8 here) against a
//! small stand-in for nixpkgs (`fixtures/nixpkgs-stand-in`): this machine has no
//! nixpkgs, so nothing is built. What is checked is what the flake hands to nixpkgs
//! (the package's arguments, the source it builds, the lock file) and the exact
//! wrapper scripts it writes; one wrapper is then run for real with our binary.
//! On a machine with nixpkgs, `nix build` / `nix run` (README) do the build.

mod common;

use common::{assert_success, TestEnv};
use std::fs;
use std::path::{Path, PathBuf};

const REPO: &str = env!("CARGO_MANIFEST_DIR");

fn stand_in() -> PathBuf {
    Path::new(REPO).join("fixtures/nixpkgs-stand-in")
}

/// The repo as Nix sees it from a user's `inputs.git-secrets.url`: its tracked files.
fn repo_ref() -> String {
    assert!(
        Path::new(REPO).join(".git").exists(),
        "{REPO} is not a git checkout: the flake is evaluated as git+file: (its tracked files)"
    );
    format!("git+file://{REPO}")
}

/// `nix eval --json <args>`, hermetic; panics with Nix's stderr unless it succeeds.
fn nix_eval(env: &TestEnv, dir: &Path, args: &[&str]) -> serde_json::Value {
    common::require_tool("nix");
    let mut cmd = env.nix().unwrap();
    cmd.current_dir(dir).args(["eval", "--json"]).args(args);
    let out = cmd.output().unwrap();
    assert_success(&format!("{cmd:?}"), &out);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn current_system(env: &TestEnv) -> String {
    let v = nix_eval(
        env,
        &env.work(),
        &["--impure", "--expr", "builtins.currentSystem"],
    );
    v.as_str().unwrap().to_string()
}

/// `version = "…"` of Cargo.toml's [package].
fn cargo_version() -> String {
    let toml = fs::read_to_string(Path::new(REPO).join("Cargo.toml")).unwrap();
    toml.lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap()
        .to_string()
}

fn is_store_path(p: &str, suffix: &str) -> bool {
    p.strip_prefix("/nix/store/")
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(hash, name)| {
            hash.len() == 32 && hash.bytes().all(|b| b.is_ascii_alphanumeric()) && name == suffix
        })
}

#[test]
#[cfg_attr(missing_nix, ignore = "needs nix on PATH (CI=true runs it)")]
fn flake_outputs_evaluate_against_a_nixpkgs_stand_in() {
    let env = TestEnv::new();
    let system = current_system(&env);
    let flake = repo_ref();
    let override_ = stand_in().display().to_string();
    let eval = |attr: &str, apply: &str, impure: bool| {
        let installable = format!("{flake}#{attr}");
        let standin = format!("path:{override_}");
        let mut args = vec![
            installable.as_str(),
            "--override-input",
            "nixpkgs",
            standin.as_str(),
            "--apply",
            apply,
        ];
        if impure {
            args.push("--impure");
        }
        nix_eval(&env, &env.work(), &args)
    };

    // The package: the crate at Cargo.toml's version, from Cargo.lock, with the
    // man page and completions, for every system.
    let pkg = eval(
        &format!("packages.{system}"),
        r#"ps: let p = ps.default; in {
            names = builtins.attrNames ps;
            inherit (p) pname version meta postInstall;
            lock = toString p.cargoLock.lockFile;
            src = "${p.src}";
            out = p.outPath;
            inputs = map (d: d.name) p.nativeBuildInputs;
            describe = p.standInArgs.env.GIT_SECRETS_DESCRIBE;
            doCheck = p.standInArgs.doCheck;
            builds = map (d: d.name) p.buildInputs;
            rustflags = p.standInArgs.env.RUSTFLAGS or null;
        }"#,
        false,
    );
    assert_eq!(pkg["names"], serde_json::json!(["default", "git-secrets"]));
    assert_eq!(pkg["pname"], "git-secrets");
    assert_eq!(pkg["version"], cargo_version().as_str());
    assert_eq!(pkg["meta"]["mainProgram"], "git-secrets");
    assert_eq!(
        pkg["meta"]["license"],
        serde_json::json!([{"spdxId": "MIT"}, {"spdxId": "Apache-2.0"}])
    );
    let out = pkg["out"].as_str().unwrap();
    assert!(
        is_store_path(out, &format!("git-secrets-{}", cargo_version())),
        "{out}"
    );
    // The lock file is the repo's own, byte for byte (in the flake's source).
    let lock = pkg["lock"].as_str().unwrap();
    assert!(
        lock.starts_with("/nix/store/") && lock.ends_with("-source/Cargo.lock"),
        "{lock}"
    );
    assert_eq!(
        fs::read(lock).unwrap(),
        fs::read(Path::new(REPO).join("Cargo.lock")).unwrap()
    );
    // The source the build sees: what cargo needs, nothing else (no target/).
    let src = PathBuf::from(pkg["src"].as_str().unwrap());
    let mut top: Vec<String> = fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(
        top,
        [
            "Cargo.lock",
            "Cargo.toml",
            "build.rs",
            "man",
            "secrets-example",
            "src"
        ]
    );
    for f in [
        "src/main.rs",
        "man/man1/git-secrets.1",
        "secrets-example/key.txt",
    ] {
        assert_eq!(
            fs::read(src.join(f)).unwrap(),
            fs::read(Path::new(REPO).join(f)).unwrap(),
            "{f}"
        );
    }
    let post = pkg["postInstall"].as_str().unwrap();
    assert!(
        post.contains("installManPage man/man1/git-secrets.1\n"),
        "{post}"
    );
    for sh in ["bash", "zsh", "fish"] {
        assert!(
            post.contains(&format!("--{sh} <($out/bin/git-secrets completions {sh})")),
            "{post}"
        );
    }
    assert_eq!(pkg["inputs"], serde_json::json!(["install-shell-files"]));
    assert_eq!(pkg["doCheck"], false);
    // x86_64 glibc Linux gets the static PIE that scripts/build.sh makes; other systems
    // the plain build (crt-static would be a static non-PIE or unsupported there).
    let static_pie = |pkg: &serde_json::Value| (pkg["builds"].clone(), pkg["rustflags"].clone());
    let spie = (
        serde_json::json!(["glibc-static"]),
        serde_json::json!(
            "-C target-feature=+crt-static -C link-arg=-Wl,-z,pack-relative-relocs \
             -C link-arg=-Wl,-e,git_secrets_entry"
        ),
    );
    let plain = (serde_json::json!([]), serde_json::Value::Null);
    let expect = |system: &str| {
        if system == "x86_64-linux" {
            spie.clone()
        } else {
            plain.clone()
        }
    };
    assert_eq!(static_pie(&pkg), expect(&system), "{system}");
    for other in ["x86_64-linux", "aarch64-linux", "aarch64-darwin"] {
        let p = eval(
            &format!("packages.{other}.default"),
            r#"p: { builds = map (d: d.name) p.buildInputs; rustflags = p.standInArgs.env.RUSTFLAGS or null; }"#,
            false,
        );
        assert_eq!(static_pie(&p), expect(other), "{other}");
    }
    // A dirty tree has no rev; build.rs takes this instead of `git describe`.
    assert_eq!(pkg["describe"], "dirty");

    // The app runs the package's binary.
    let app = eval(&format!("apps.{system}.default"), "a: a", false);
    assert_eq!(
        app,
        serde_json::json!({"type": "app", "program": format!("{out}/bin/git-secrets")})
    );

    // The overlay adds the same package, built with the overlaid set.
    let standin_pkgs = format!(r#"(builtins.getFlake "path:{override_}").legacyPackages.{system}"#);
    let overlaid = eval(
        "overlays",
        &format!(
            "os: let pkgs = {standin_pkgs}; in {{ names = builtins.attrNames os; \
             added = builtins.attrNames (os.default pkgs pkgs); \
             out = (os.default pkgs pkgs).git-secrets.outPath; }}"
        ),
        true,
    );
    assert_eq!(overlaid["names"], serde_json::json!(["default"]));
    assert_eq!(overlaid["added"], serde_json::json!(["git-secrets"]));
    assert_eq!(overlaid["out"], out);

    // Nix's own checks of the output shapes (apps, overlays, packages), no build.
    let mut cmd = env.nix().unwrap();
    let out = cmd
        .current_dir(env.work())
        .args([
            "flake",
            "check",
            "--no-build",
            &flake,
            "--override-input",
            "nixpkgs",
        ])
        .arg(format!("path:{override_}"))
        .output()
        .unwrap();
    assert_success("nix flake check", &out);

    // The module is there for flake-parts.
    let modules = eval("flakeModules", "builtins.attrNames", false);
    assert_eq!(modules, serde_json::json!(["default"]));
}

/// A consumer flake, the way a user writes one: git-secrets as an input that follows
/// the consumer's nixpkgs (the stand-in), and the secrets flake (our example) as
/// `git+file:`-style input beside it.
fn consumer(env: &TestEnv) -> PathBuf {
    let dir = env.work().join("cluster");
    let secrets = dir.join("secrets");
    fs::create_dir_all(secrets.join("secrets")).unwrap();
    let example = Path::new(REPO).join("secrets-example");
    fs::copy(example.join("flake.nix"), secrets.join("flake.nix")).unwrap();
    for name in ["kubeconfig.yaml", "hcloud-token.yaml"] {
        fs::copy(
            example.join("secrets").join(name),
            secrets.join("secrets").join(name),
        )
        .unwrap();
    }
    let flake = r#"{
  inputs.nixpkgs.url = "path:@STANDIN@";
  inputs.git-secrets.url = "@REPO@";
  inputs.git-secrets.inputs.nixpkgs.follows = "nixpkgs";
  inputs.kubenix-secrets.url = "path:./secrets";

  outputs = { self, nixpkgs, git-secrets, kubenix-secrets }:
    let
      system = "@SYSTEM@";
      pkgs = nixpkgs.legacyPackages.${system};
      secrets = kubenix-secrets.lib.secrets;
      wrappers = {
        kubectl = { secret = "kubeconfig"; file = "KUBECONFIG"; };
        hcloud = { secret = "hcloud-token"; field = "hcloud_token"; env = "HCLOUD_TOKEN"; };
      };
      texts = builtins.mapAttrs (_: p: p.text);

      # The flake-parts module, called the way flake-parts calls a perSystem
      # module; its option declarations reduced to their arguments, the
      # submodule values filled in as the module system would (nulls).
      lib = {
        mkOption = o: o;
        literalExpression = text: { _type = "literalExpression"; inherit text; };
        types = {
          str = "str"; path = "path"; package = "package";
          nullOr = t: "nullOr ${t}"; attrsOf = t: { attrsOf = t; }; submodule = m: m;
        };
      };
      nulls = { file = null; env = null; field = null; package = null; command = null; help = null; };
      module = options: git-secrets.flakeModules.default.perSystem {
        inherit lib pkgs system options;
        config.gitSecrets = {
          package = git-secrets.packages.${system}.default;
          inherit secrets;
          wrappers = builtins.mapAttrs (_: w: nulls // w) wrappers;
        };
      };
      withDevshell = module { devshells = { }; };
      plain = module { };
    in
    {
      summary.gitSecrets = git-secrets.packages.${system}.default.outPath;
      summary.kubectl = pkgs.kubectl.outPath;
      summary.hcloud = pkgs.hcloud.outPath;
      summary.scripts = texts (git-secrets.lib.mkWrappers { inherit pkgs secrets wrappers; });
      summary.devshell = git-secrets.lib.devshellCommands { inherit pkgs secrets wrappers; };
      summary.module = {
        options = builtins.attrNames withDevshell.options.gitSecrets;
        wrapperOptions = builtins.attrNames withDevshell.options.gitSecrets.wrappers.type.attrsOf.options;
        packages = texts withDevshell.config.gitSecrets.wrapperPackages;
        devshell = withDevshell.config.devshells.default.commands;
        plain = builtins.attrNames plain.config;
      };
      # The secrets flake's own helper, given the package: its absolute binary.
      summary.secretsFlakeWrapper = (kubenix-secrets.lib.mkSecretWrapper {
        inherit pkgs; name = "kubectl"; secret = secrets.kubeconfig; file = "KUBECONFIG";
        command = "${pkgs.kubectl}/bin/kubectl";
        gitSecrets = git-secrets.packages.${system}.default;
      }).text;
      bad = {
        both = (git-secrets.lib.wrapperScripts { inherit pkgs secrets;
          wrappers.kubectl = wrappers.kubectl // { env = "KUBECONFIG"; }; }).kubectl;
        missing = (git-secrets.lib.wrapperScripts { inherit pkgs secrets;
          wrappers.kubectl = wrappers.kubectl // { secret = "kubeconfg"; }; }).kubectl;
        var = (git-secrets.lib.wrapperScripts { inherit pkgs secrets;
          wrappers.kubectl = wrappers.kubectl // { file = "KUBE CONFIG"; }; }).kubectl;
      };
      # The same scripts around our test binary and a shell command, to run.
      summary.runnable = git-secrets.lib.wrapperScripts {
        inherit pkgs secrets;
        gitSecrets = "@BIN@";
        wrappers = {
          kubectl = wrappers.kubectl // { command = "sh -c 'cat \"$KUBECONFIG\"' kubectl"; };
          hcloud = wrappers.hcloud // { command = "sh -c 'printf %s \"$HCLOUD_TOKEN\"' hcloud"; };
        };
      };
    };
}
"#;
    let text = flake
        .replace("@STANDIN@", &stand_in().display().to_string())
        .replace("@REPO@", &repo_ref())
        .replace("@SYSTEM@", &current_system(env))
        .replace("@BIN@", &common::bin().display().to_string());
    fs::write(dir.join("flake.nix"), text).unwrap();
    dir
}

#[test]
#[cfg_attr(missing_nix, ignore = "needs nix on PATH (CI=true runs it)")]
fn wrappers_from_lib_and_flake_module_evaluate_against_a_nixpkgs_stand_in() {
    let env = TestEnv::new();
    let dir = consumer(&env);
    let v = nix_eval(&env, &dir, &[".#summary"]);
    let (gs, kubectl, hcloud) = (
        v["gitSecrets"].as_str().unwrap(),
        v["kubectl"].as_str().unwrap(),
        v["hcloud"].as_str().unwrap(),
    );
    assert!(
        is_store_path(gs, &format!("git-secrets-{}", cargo_version())),
        "{gs}"
    );
    let scripts = &v["scripts"];

    // The README's wrappers, word for word: absolute paths, the encrypted file's
    // own store path, no quoting a store path does not need.
    let expect = |name: &str, secret: &str, how: &str, exe: &str| -> String {
        let text = scripts[name].as_str().unwrap();
        let prefix = format!("#!/bin/sh\nexec {gs}/bin/git-secrets exec /nix/store/");
        let rest = text
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("{text}"));
        let (hash, rest) = rest.split_at(32);
        let store = format!("/nix/store/{hash}-{secret}.yaml");
        assert!(is_store_path(&store, &format!("{secret}.yaml")), "{text}");
        assert_eq!(
            rest,
            format!("-{secret}.yaml {how} -- {exe} \"$@\"\n"),
            "{text}"
        );
        // The store file is the encrypted secret itself (still ciphertext).
        assert_eq!(
            fs::read(&store).unwrap(),
            fs::read(Path::new(REPO).join(format!("secrets-example/secrets/{secret}.yaml")))
                .unwrap()
        );
        text.to_string()
    };
    let kube = expect(
        "kubectl",
        "kubeconfig",
        "--file KUBECONFIG",
        &format!("{kubectl}/bin/kubectl"),
    );
    let hc = expect(
        "hcloud",
        "hcloud-token",
        "--field hcloud_token --env HCLOUD_TOKEN",
        &format!("{hcloud}/bin/hcloud"),
    );
    for text in [&kube, &hc] {
        let out = env
            .command("bash")
            .args(["-n", "-c", text])
            .output()
            .unwrap();
        assert_success("bash -n", &out);
    }

    // devshell commands carry the same scripts (without the shebang devshell adds).
    let devshell = v["devshell"].as_array().unwrap();
    let names: Vec<&str> = devshell
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["hcloud", "kubectl"]);
    assert_eq!(
        devshell[1]["command"].as_str().unwrap(),
        kube.strip_prefix("#!/bin/sh\n").unwrap()
    );
    assert_eq!(
        devshell[1]["help"],
        "kubectl with kubeconfig as a file in $KUBECONFIG (git secrets exec)"
    );
    assert_eq!(
        devshell[0]["help"],
        "hcloud with the hcloud_token field of hcloud-token in $HCLOUD_TOKEN (git secrets exec)"
    );
    assert_eq!(devshell[0]["category"], "secrets");

    // The flake-parts module is a thin shell over the same functions: the same
    // packages and commands, devshell's only when devshell's module is there.
    let module = &v["module"];
    assert_eq!(
        module["options"],
        serde_json::json!(["package", "secrets", "wrapperPackages", "wrappers"])
    );
    assert_eq!(
        module["wrapperOptions"],
        serde_json::json!(["command", "env", "field", "file", "help", "package", "secret"])
    );
    assert_eq!(&module["packages"], scripts);
    assert_eq!(&module["devshell"], &v["devshell"]);
    assert_eq!(module["plain"], serde_json::json!(["gitSecrets"]));

    // Run the same scripts, around our binary, with the example's public key: the
    // command sees the decrypted kubeconfig through $KUBECONFIG and the token in
    // $HCLOUD_TOKEN.
    let key = Path::new(REPO).join("secrets-example/key.txt");
    let run = |name: &str| {
        let text = v["runnable"][name].as_str().unwrap();
        let out = env
            .command("bash")
            .args(["-c", text, name])
            .env("SOPS_AGE_KEY_FILE", &key)
            .output()
            .unwrap();
        assert_success(text, &out);
        String::from_utf8(out.stdout).unwrap()
    };
    let decrypted = env
        .cmd(["decrypt", "secrets-example/secrets/kubeconfig.yaml"])
        .current_dir(REPO)
        .env("SOPS_AGE_KEY_FILE", &key)
        .output()
        .unwrap();
    assert_success("decrypt", &decrypted);
    assert_eq!(run("kubectl").as_bytes(), decrypted.stdout.as_slice());
    // The secrets flake's mkSecretWrapper, given the package, runs its binary (it
    // used to write `exec /nix/store/…-git-secrets-0.1.0 exec`, a directory).
    assert_eq!(v["secretsFlakeWrapper"].as_str().unwrap(), kube);

    // Mistakes are named at evaluation time, with the wrapper's name.
    for (attr, message) in [
        ("both", "git-secrets wrapper 'kubectl': give exactly one of file"),
        ("missing", "git-secrets wrapper 'kubectl': no secret 'kubeconfg' in the secrets given (have: hcloud-token, kubeconfig)"),
        ("var", "git-secrets wrapper 'kubectl': 'KUBE CONFIG' is not an environment variable name"),
    ] {
        let mut cmd = env.nix().unwrap();
        let out = cmd
            .current_dir(&dir)
            .args(["eval", "--raw", &format!(".#bad.{attr}")])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(message), "{attr}: {stderr}");
    }
    assert_eq!(
        run("hcloud"),
        "hc0ExampleExampleExampleExampleExampleExampleExampleExampleEx"
    );
}

/// `scripts/build.sh` (install.sh, benches) and the Nix package link the same binary:
/// the static-PIE flags of the one are the `RUSTFLAGS` of the other, the entry point
/// of src/entry.rs included (a binary linked without it still runs, only slower); the
/// script's musl build links with the same flags but `crt-static`, musl's default.
#[test]
fn build_script_and_nix_package_link_with_the_same_flags() {
    let script = fs::read_to_string(Path::new(REPO).join("scripts/build.sh")).unwrap();
    let array = |name: &str| -> Vec<&str> {
        let start = script.find(&format!("{name}=(")).unwrap() + name.len() + 2;
        let end = start + script[start..].find(')').unwrap();
        script[start..end].split_whitespace().collect()
    };
    let script_flags = array("static_pie_flags");
    // The musl build (static by default) links with the same relocations and entry.
    let musl_flags = array("musl_flags");
    assert_eq!(musl_flags, script_flags[2..], "{musl_flags:?}");
    let nix = fs::read_to_string(Path::new(REPO).join("nix/package.nix")).unwrap();
    let line = nix
        .lines()
        .find_map(|l| l.trim().strip_prefix("RUSTFLAGS = \""))
        .unwrap();
    let nix_flags: Vec<&str> = line.trim_end_matches("\";").split_whitespace().collect();
    assert_eq!(script_flags, nix_flags);
    assert!(
        script_flags.contains(&"link-arg=-Wl,-e,git_secrets_entry"),
        "{script_flags:?}"
    );
    let entry = fs::read_to_string(Path::new(REPO).join("src/entry.rs")).unwrap();
    assert!(entry.contains("\".globl git_secrets_entry\""));
}
