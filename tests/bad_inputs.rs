//! A table of bad inputs across commands. Each must exit 1 or 2 with an
//! `error:` line and a `hint:`, print nothing on stdout, not panic, and
//! leave every file byte for byte as it was. All error texts are kept in
//! one snapshot (tests/snapshots/) so a reviewer reads them in one place.

mod common;

use common::cluster::{age_a, Cluster};
use common::{assert_unchanged, require_tool, snapshot, sops_fixtures, TestEnv};
use std::fs;
use std::path::Path;

/// The unlocked world (input `c-secrets`) whose secrets repo holds two fixture secrets,
/// with fixture key A installed, and bad sops files beside it in the parent.
fn world() -> Cluster {
    let c = Cluster::builder()
        .parent_flake(
            "{\n  inputs.c-secrets.url = \"git+file:./secrets\";\n  outputs = { self, ... }: { };\n}\n",
        )
        .fixture_secret("app.yaml", "yaml-simple")
        .fixture_secret("nested.yaml", "yaml-nested")
        .unlocked()
        .build();
    let fx = sops_fixtures();
    for (name, case) in [
        ("truncated", "bad-truncated"),
        ("notsops", "bad-not-sops"),
        ("tampered", "bad-tampered-value"),
        ("tamperedmac", "bad-tampered-mac"),
        ("foreign", "bad-not-our-key"),
        ("swapped", "bad-swapped-values"),
        ("pgp", "pgp-only"),
    ] {
        fs::copy(
            fx.join(case).join("encrypted.yaml"),
            c.parent.join(format!("{name}.yaml")),
        )
        .unwrap();
    }
    fs::write(c.parent.join("plain.yaml"), "password: hunter2hunter2\n").unwrap();
    c
}

/// What `age-keygen` writes around a key, without the key.
const NO_KEY: &str = "# created: 2024-01-01T00:00:00Z\n# public key: age1c2e72kjzelwls697s5udv9g9kkn9y06hww3fzn52spn98u064q7qh0vk7x\n";
/// A key line cut short.
const DAMAGED_KEY: &str = "# public key: age1…\nAGE-SECRET-KEY-1QQQQ\n";

struct Case {
    name: &'static str,
    args: Vec<String>,
    /// Runs before the command (may change files; the snapshot is taken after).
    setup: fn(&TestEnv, &Path),
    env: Vec<(&'static str, String)>,
    stdin: Option<Vec<u8>>,
}

fn case(name: &'static str, args: &[&str]) -> Case {
    Case {
        name,
        args: args.iter().map(|s| s.to_string()).collect(),
        setup: |_, _| {},
        env: Vec::new(),
        stdin: None,
    }
}

/// A `.sops.yaml` in the secrets repo whose one rule matches no file.
fn sops_yaml_matching_nothing(_: &TestEnv, dir: &Path) {
    let cfg = format!(
        "creation_rules:\n    - path_regex: ^nothing/\n      age: {}\n",
        age_a()
    );
    fs::write(dir.join("secrets/.sops.yaml"), cfg).unwrap()
}

/// Decrypting the app secret with `key_file` as the only place for keys (no config dir).
fn decrypt_with_only(name: &'static str, key_file: &str) -> Case {
    Case {
        env: vec![
            ("SOPS_AGE_KEY_FILE", key_file.into()),
            ("XDG_CONFIG_HOME", "/nonexistent".into()),
        ],
        ..case(name, &["decrypt", "secrets/secrets/app.yaml"])
    }
}

fn cases() -> Vec<Case> {
    let mut v = vec![
        case("unknown command", &["shwo"]),
        case("name with ..", &["show", "../etc"]),
        case("name with a slash that does not exist", &["show", "a/b"]),
        case("name starting with a dot", &["show", ".hidden"]),
        case("name that is ..", &["show", ".."]),
        case("unknown secret name", &["show", "nope"]),
        case("misspelled secret name", &["show", "nestd"]),
        case("add without a value and no terminal", &["add", "newone"]),
        case(
            "add a name with an extension",
            &["add", "talos.yaml", "--from", "plain.yaml"],
        ),
        case(
            "-C to a missing dir",
            &["-C", "/nonexistent/dir", "show", "app"],
        ),
        case("-C to a file", &["-C", "plain.yaml", "show", "app"]),
        case("decrypt a missing file", &["decrypt", "missing.yaml"]),
        case("decrypt a truncated file", &["decrypt", "truncated.yaml"]),
        case(
            "decrypt a file that is not sops",
            &["decrypt", "notsops.yaml"],
        ),
        case("decrypt a tampered value", &["decrypt", "tampered.yaml"]),
        case("decrypt a tampered MAC", &["decrypt", "tamperedmac.yaml"]),
        case("decrypt swapped values", &["decrypt", "swapped.yaml"]),
        case(
            "decrypt a file for another key",
            &["decrypt", "foreign.yaml"],
        ),
        case("decrypt a PGP-only file", &["decrypt", "pgp.yaml"]),
        case(
            "decrypt with an unknown type",
            &[
                "decrypt",
                "--input-type",
                "toml",
                "secrets/secrets/app.yaml",
            ],
        ),
        case(
            "decrypt with a bad extract path",
            &["decrypt", "--extract", "data.x", "secrets/secrets/app.yaml"],
        ),
        case(
            "decrypt with a missing extract key",
            &[
                "decrypt",
                "--extract",
                "[\"nope\"]",
                "secrets/secrets/app.yaml",
            ],
        ),
        case("decrypt a directory", &["decrypt", "secrets"]),
        case("decrypt a non-UTF-8 path", &["decrypt", "caf\u{FFFD}.yaml"]),
        case(
            "encrypt an encrypted file",
            &["encrypt", "secrets/secrets/app.yaml"],
        ),
        case(
            "encrypt with a bad recipient",
            &["encrypt", "--age", "age1notakey", "plain.yaml"],
        ),
        case(
            "encrypt without .sops.yaml or --age",
            &["encrypt", "plain.yaml"],
        ),
        case(
            "show a field that does not exist",
            &["show", "app", "--field", "no.such.field"],
        ),
        case(
            "show with an empty field path",
            &["show", "app", "--field", "a..b"],
        ),
        case(
            "exec without --file or --env",
            &["exec", "app", "--", "true"],
        ),
        case(
            "exec with a bad variable name",
            &["exec", "app", "--env", "1BAD", "--", "true"],
        ),
        case(
            "example --check before any example exists",
            &["example", "--check"],
        ),
        case(
            "init outside a git repo",
            &["-C", "/", "init", "--new", "--yes"],
        ),
        case("hooks with an unknown action", &["hooks", "frobnicate"]),
        case("allow a pattern without NAME:", &["allow", "namespace"]),
        case(
            "allow a pattern that matches no value",
            &["allow", "app:no.such.key"],
        ),
        case(
            "allow --remove of a pattern not in the list",
            &["allow", "--remove", "app:x"],
        ),
    ];
    v.push(decrypt_with_only(
        "decrypt with no key at all",
        "/nonexistent/keys.txt",
    ));
    // A key file that is there but gives no key: the error names it and says why.
    v.push(Case {
        setup: |_, dir| fs::write(dir.join("nokey.txt"), NO_KEY).unwrap(),
        ..decrypt_with_only("decrypt with a key file that holds no key", "nokey.txt")
    });
    v.push(decrypt_with_only(
        "decrypt with a key file that cannot be read (a directory)",
        "secrets",
    ));
    // A key that decrypts nothing here, and the key file meant to hold the right one
    // cannot be read: the error names that file first.
    v.push(Case {
        env: vec![("SOPS_AGE_KEY_FILE", "missing-key.txt".into())],
        ..case(
            "decrypt a file for another key while SOPS_AGE_KEY_FILE is missing",
            &["decrypt", "foreign.yaml"],
        )
    });
    // Go's os.UserConfigDir (so sops) refuses a relative XDG_CONFIG_HOME: no keys.txt
    // is read there, even when one exists
    v.push(Case {
        setup: |_, dir| {
            fs::create_dir_all(dir.join("rel/sops/age")).unwrap();
            fs::copy(common::key_file("age-a"), dir.join("rel/sops/age/keys.txt")).unwrap();
        },
        env: vec![("XDG_CONFIG_HOME", "rel".into())],
        ..case("show with a relative XDG_CONFIG_HOME", &["show", "app"])
    });
    v.push(Case {
        setup: |env, _| fs::write(env.config().join("sops/age/keys.txt"), DAMAGED_KEY).unwrap(),
        ..case("show with a damaged key in keys.txt", &["show", "app"])
    });
    v.push(Case {
        setup: |_, dir| {
            fs::write(
                dir.join("secrets/.sops.yaml"),
                "creation_rules: [ {path_regex: \"(\"} ]\n",
            )
            .unwrap()
        },
        ..case(
            "encrypt with a malformed .sops.yaml",
            &["-C", "secrets", "encrypt", "../plain.yaml"],
        )
    });
    v.push(Case {
        setup: sops_yaml_matching_nothing,
        ..case(
            "encrypt with no matching rule",
            &["-C", "secrets", "encrypt", "../plain.yaml"],
        )
    });
    v.push(Case {
        env: vec![("EDITOR", "false".into())],
        ..case("edit with an editor that fails", &["edit", "app"])
    });
    v.push(Case {
        env: vec![("EDITOR", "sh -c 'printf \"a: [\" > \"$0\"'".into())],
        ..case("edit leaving YAML that does not parse", &["edit", "app"])
    });
    v.push(Case {
        setup: |_, dir| fs::rename(dir.join("secrets"), dir.join("elsewhere")).unwrap(),
        ..case("list with no secrets repo", &["list"])
    });
    v.push(Case {
        setup: |_, dir| fs::rename(dir.join("secrets"), dir.join("elsewhere")).unwrap(),
        ..case("show with no secrets repo", &["show", "app"])
    });
    // A value typed on a key's line must not become a (never encrypted) map key.
    v.push(Case {
        stdin: Some(b"password: SuperSecretP4ss: x\n".to_vec()),
        ..case(
            "add a value with ': ' on a key's line",
            &["add", "leak", "--from", "-", "--no-lock"],
        )
    });
    v.push(Case {
        env: vec![(
            "EDITOR",
            "sh -c 'printf \"password: SuperSecretP4ss: x\\n\" > \"$0\"'".into(),
        )],
        ..case(
            "edit leaving a value with ': ' on a key's line",
            &["edit", "app"],
        )
    });
    v.push(Case {
        setup: |_, dir| fs::write(dir.join("flake.nix"), "{ inputs = ; }").unwrap(),
        ..case(
            "init with a flake.nix that does not parse",
            &["init", "--no-lock"],
        )
    });
    // add, rotate and set with input that is not YAML/JSON, a file in the current dir
    // named like the secret, and a .sops.yaml whose rule matches nothing
    v.push(Case {
        setup: |_, dir| fs::write(dir.join("bad.yaml"), "a: [\n").unwrap(),
        ..case(
            "add from a file that is not YAML",
            &["add", "newone", "--from", "bad.yaml", "--no-lock"],
        )
    });
    v.push(Case {
        setup: |_, dir| fs::write(dir.join("bad.yaml"), "a: [\n").unwrap(),
        ..case(
            "rotate from a file that is not YAML",
            &["rotate", "app", "--from", "bad.yaml", "--no-lock"],
        )
    });
    v.push(case(
        "rotate --set a value that opens like JSON but does not parse",
        &["rotate", "app", "--set", "a={\"k\": 1", "--no-lock"],
    ));
    v.push(Case {
        setup: |_, dir| fs::write(dir.join("app.yaml"), "local: file\n").unwrap(),
        ..case(
            "rotate a secret's file name that is also a file in the current dir",
            &["rotate", "app.yaml", "--from", "plain.yaml", "--no-lock"],
        )
    });
    v.push(Case {
        setup: sops_yaml_matching_nothing,
        ..case(
            "add with a .sops.yaml whose rule matches nothing",
            &["add", "newone", "--from", "plain.yaml", "--no-lock"],
        )
    });
    // a .sops.yaml that does not parse: sops refuses every command; a rewrite must not
    // drop what it sets (the indent) without a word
    v.push(Case {
        setup: |_, dir| fs::write(dir.join("secrets/.sops.yaml"), "creation_rules: [\n").unwrap(),
        ..case(
            "rotate with a .sops.yaml that does not parse",
            &["rotate", "app", "--from", "plain.yaml", "--no-lock"],
        )
    });
    v.push(Case {
        setup: |_, dir| fs::write(dir.join("secrets/.sops.yaml"), "creation_rules: [\n").unwrap(),
        env: vec![("EDITOR", "sh -c 'printf \"z: 9\\n\" >> \"$0\"'".into())],
        ..case(
            "edit with a .sops.yaml that does not parse",
            &["edit", "app", "--no-lock"],
        )
    });
    v.push(Case {
        setup: |_, dir| fs::write(dir.join("secrets/.sops.yaml"), "creation_rules: [\n").unwrap(),
        ..case(
            "rotate --set with a .sops.yaml that does not parse",
            &["rotate", "app", "--set", "port=1", "--no-lock"],
        )
    });
    v.push(Case {
        stdin: Some(format!("{{\"a\":{}}}", "[".repeat(100_000)).into_bytes()),
        ..case(
            "encrypt deeply nested JSON from stdin",
            &["encrypt", "--age", &age_a(), "--input-type", "json", "-"],
        )
    });
    v
}

#[test]
#[cfg_attr(missing_sops, ignore = "needs sops")]
fn bad_inputs_fail_clearly_and_change_nothing() {
    require_tool("git");
    require_tool("sops");
    let mut report = String::new();
    let all = cases();
    assert!(all.len() >= 30, "only {} cases", all.len());
    for c in all {
        let w = world();
        let (env, dir) = (&w.env, &w.parent);
        (c.setup)(env, dir);
        let before = snapshot(env.root());
        let mut cmd = env.cmd(&c.args);
        cmd.current_dir(dir);
        for (k, v) in &c.env {
            cmd.env(k, v);
        }
        if let Some(input) = &c.stdin {
            cmd.write_stdin(input.clone());
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr)
            .replace(&env.root().display().to_string(), "[ROOT]");
        let code = out.status.code();
        // `decrypt`/`encrypt` exit with sops' status codes (src/sops/codes.rs); every
        // other command with 1 (failure) or 2 (usage).
        let sops_like = c.args.iter().any(|a| *a == "decrypt" || *a == "encrypt");
        let sops_codes = [1, 2, 3, 4, 5, 8, 23, 25, 51, 91, 92, 100, 128, 203];
        assert!(
            matches!(code, Some(1) | Some(2))
                || sops_like && code.is_some_and(|c| sops_codes.contains(&c)),
            "{}: exit {code:?}\n{stderr}",
            c.name
        );
        assert!(
            stderr.contains("error:"),
            "{}: no error line\n{stderr}",
            c.name
        );
        assert!(stderr.contains("hint:"), "{}: no hint\n{stderr}", c.name);
        assert!(!stderr.contains("panicked"), "{}: panic\n{stderr}", c.name);
        assert!(out.stdout.is_empty(), "{}: stdout not empty", c.name);
        assert!(
            !stderr.contains("SuperSecretP4ss"),
            "{}: the error echoes a value\n{stderr}",
            c.name
        );
        assert_unchanged(c.name, &before, env.root());
        report.push_str(&format!(
            "## {} (exit {})\n$ git secrets {}\n{}\n",
            c.name,
            code.unwrap_or(-1),
            c.args.join(" "),
            stderr.trim_end()
        ));
    }
    insta::assert_snapshot!("bad_input_errors", report);
}

/// "no age identity found" names every place sops 3.11 looks, in its order, says why
/// each held no key, and what to do.
#[test]
fn no_identity_names_where_it_looked_and_why() {
    require_tool("git");
    let w = world();
    let (env, dir) = (&w.env, &w.parent);
    fs::write(dir.join("nokey.txt"), NO_KEY).unwrap();
    fs::write(env.config().join("sops/age/keys.txt"), DAMAGED_KEY).unwrap();
    let out = env
        .cmd(["show", "app"])
        .current_dir(dir)
        .env("SOPS_AGE_KEY_FILE", "nokey.txt")
        .env("SOPS_AGE_KEY_CMD", "printf AGE-SECRET-KEY-1DAMAGED")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let keys_txt = env.config().join("sops/age/keys.txt");
    for said in [
        "error: no age identity found".to_string(),
        "hint: SOPS_AGE_KEY_FILE=nokey.txt: holds no age secret key".to_string(),
        "hint: SOPS_AGE_KEY_CMD=printf …: line 1 is not an age secret key".to_string(),
        format!(
            "hint: {}: line 2 is not an age secret key",
            keys_txt.display()
        ),
        "SOPS_AGE_SSH_PRIVATE_KEY_FILE (not set)".to_string(),
        format!(
            "{} (no such file)",
            env.home().join(".ssh/id_ed25519").display()
        ),
        format!(
            "{} (no such file)",
            env.home().join(".ssh/id_rsa").display()
        ),
        "SOPS_AGE_KEY (not set)".to_string(),
        "hint: no key yet? mkdir -p".to_string(),
    ] {
        assert!(stderr.contains(&said), "missing {said:?} in:\n{stderr}");
    }
    // never the damaged line itself, nor the command's arguments: either may be a key
    assert!(
        !stderr.contains("QQQQ") && !stderr.contains("DAMAGED"),
        "{stderr}"
    );
}

/// A .sops.yaml whose rule matches no secret does not stop rotate or edit (sops, too,
/// keeps an existing file's recipients), but they say so, with what to do if the
/// recipients were meant to change.
#[test]
fn rotate_and_edit_with_no_matching_rule_keep_the_recipients_and_say_so() {
    require_tool("git");
    for (args, editor) in [
        (
            vec!["rotate", "app", "--from", "plain.yaml", "--no-lock"],
            None,
        ),
        (vec!["rotate", "app", "--set", "port=1", "--no-lock"], None),
        (
            vec!["edit", "app", "--no-lock"],
            Some("sh -c 'printf \"z: 9\\n\" >> \"$0\"'"),
        ),
    ] {
        let w = world();
        let (env, dir) = (&w.env, &w.parent);
        let cfg = format!(
            "creation_rules:\n    - path_regex: ^nothing/\n      age: {}\n",
            age_a()
        );
        fs::write(dir.join("secrets/.sops.yaml"), cfg).unwrap();
        env.git(&dir.join("secrets"), ["commit", "-qam", "rules"]);
        let before = fs::read_to_string(dir.join("secrets/secrets/app.yaml")).unwrap();
        let mut cmd = env.cmd(&args);
        cmd.current_dir(dir);
        if let Some(e) = editor {
            cmd.env("EDITOR", e);
        }
        let out = cmd.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}: {stderr}");
        assert!(
            stderr.contains("matches secrets/app.yaml: it keeps the recipients it has")
                && stderr.contains("fix path_regex in .sops.yaml, then: git secrets rekey"),
            "{args:?}: {stderr}"
        );
        let after = fs::read_to_string(dir.join("secrets/secrets/app.yaml")).unwrap();
        assert_ne!(before, after, "{args:?}");
        let recipients = |t: &str| {
            t.lines()
                .filter(|l| l.contains("recipient:"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(recipients(&before), recipients(&after), "{args:?}");
    }
}

/// The no-identity hint's way to make a key works as written on a machine with no sops
/// config dir yet (age-keygen does not create the dirs of `-o`), and puts the key where
/// the next command finds it.
#[test]
fn no_identity_hint_makes_a_key_that_is_then_found() {
    require_tool("git");
    require_tool("age-keygen");
    let w = world();
    let (env, dir) = (&w.env, &w.parent);
    let fresh = env.root().join("fresh-config");
    let show = || {
        env.cmd(["show", "app"])
            .current_dir(dir)
            .env("XDG_CONFIG_HOME", &fresh)
            .output()
            .unwrap()
    };
    let out = show();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let make = stderr
        .lines()
        .find_map(|l| l.strip_prefix("hint: no key yet? "))
        .and_then(|l| l.split_once(" makes one;"))
        .map(|(cmd, _)| cmd.to_string())
        .unwrap_or_else(|| panic!("no 'no key yet?' hint in:\n{stderr}"));
    let ran = env.command("sh").arg("-c").arg(&make).output().unwrap();
    common::assert_success(&make, &ran);
    let key = fs::read_to_string(fresh.join("sops/age/keys.txt")).unwrap();
    assert!(key.contains("AGE-SECRET-KEY-1"), "{key}");
    // found now: no longer 'no age identity', but not a recipient of the file
    let again = String::from_utf8_lossy(&show().stderr).into_owned();
    assert!(!again.contains("no age identity found"), "{again}");
}

/// An age secret key put in SOPS_AGE_KEY_CMD (meant for SOPS_AGE_KEY) is not run and
/// not shown: the no-identity error and doctor printed it whole, twice ("cannot run
/// AGE-SECRET-KEY-1…"), and say which variable takes a key.
#[test]
fn a_key_in_sops_age_key_cmd_is_never_shown() {
    require_tool("git");
    let w = world();
    let (env, dir) = (&w.env, &w.parent);
    let key = common::key_text("age-b")
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap()
        .to_string();
    let body = &key["AGE-SECRET-KEY-1".len()..][..6];
    // siblings: the variables that name a key file, given the key itself
    let ssh_key = common::ssh_key_text();
    let ssh_body = ssh_key.lines().nth(1).unwrap()[20..30].to_string();
    // the command is shown as it is split to run: a `\` sops' splitter drops must not
    // make the shown word differ from the one that is refused
    let escaped = format!("\\{key}");
    for (var, value, secret, says) in [
        (
            "SOPS_AGE_KEY_CMD",
            key.as_str(),
            body,
            "SOPS_AGE_KEY_CMD=AGE-…: an age secret key, not a command",
        ),
        (
            "SOPS_AGE_KEY_CMD",
            escaped.as_str(),
            body,
            "SOPS_AGE_KEY_CMD=AGE-…: an age secret key, not a command",
        ),
        (
            "SOPS_AGE_KEY_FILE",
            key.as_str(),
            body,
            "SOPS_AGE_KEY_FILE=AGE-…: an age secret key, not a path",
        ),
        (
            "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
            ssh_key.as_str(),
            ssh_body.as_str(),
            "SOPS_AGE_SSH_PRIVATE_KEY_FILE=-----BEGIN …: a private key, not a path",
        ),
    ] {
        for args in [&["show", "app"][..], &["doctor"][..]] {
            let out = env
                .cmd(args)
                .current_dir(dir)
                .env(var, value)
                .env("XDG_CONFIG_HOME", env.root().join("no-keys"))
                .output()
                .unwrap();
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                !all.contains(secret),
                "{var} {args:?} shows the key:\n{all}"
            );
            assert!(all.contains(says), "{var} {args:?}:\n{all}");
        }
    }
}
