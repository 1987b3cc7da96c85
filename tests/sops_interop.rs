//! Interop with the real sops: every case in `fixtures/sops/` (made by `make.sh` with the
//! sops Go binary) must decrypt with `git-secrets decrypt` to exactly what sops prints, and
//! what `git-secrets encrypt` writes must decrypt with the real sops to the same bytes.
//! Negative cases must be refused: exit 1, `error:` on stderr, nothing on stdout.
//!
//! Each case runs in a fresh `TestEnv` holding only the identities its `keys` file names,
//! with the current dir inside the case (sops reads `.sops.yaml` from the current dir, for
//! creation rules *and* for `stores.yaml.indent` on decrypt).

mod common;

use common::{assert_same_bytes, has_tool, require_tool, sops_fixtures, TestEnv};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Which identities decrypt a case (the `keys` file).
#[derive(Debug)]
enum Keys {
    /// Each one alone decrypts.
    Any(Vec<String>),
    /// Only all together decrypt (key groups with a Shamir threshold).
    All(Vec<String>),
    /// No identity we hold decrypts it.
    None,
    /// Only a PGP key group.
    Pgp,
}

impl Keys {
    /// The identity sets to try, each in its own environment.
    fn sets(&self) -> Vec<Vec<String>> {
        match self {
            Keys::Any(ids) => ids.iter().map(|id| vec![id.clone()]).collect(),
            Keys::All(ids) => vec![ids.clone()],
            // Negative cases still get an identity, so they fail for the right reason.
            Keys::None | Keys::Pgp => vec![vec!["age-a".to_string()]],
        }
    }
}

/// One fixture case, read from `fixtures/sops/<name>/`.
struct Case {
    name: &'static str,
    /// File extension shared by input/encrypted/decrypted.
    ext: String,
    keys: Keys,
    /// Extra `encrypt` arguments (`--age R`), one per line in `args`.
    args: Vec<String>,
    /// A file name that is only a suffix (`.yaml`): the files are then `in/NAME`,
    /// `enc/NAME` and `dec/NAME` (the `name` file).
    dot_name: Option<String>,
    /// Where `encrypt` runs, relative to the case dir (`cwd`), and the input path as
    /// given there (`input-arg`).
    cwd: Option<String>,
    input_arg: Option<String>,
    /// Extra environment for `encrypt` (`env`: KEY=VALUE lines).
    env: Vec<(String, String)>,
}

impl Case {
    fn load(name: &'static str) -> Case {
        let dir = sops_fixtures().join(name);
        let line = |file: &str| {
            fs::read_to_string(dir.join(file))
                .ok()
                .map(|t| t.trim_end_matches('\n').to_string())
        };
        let dot_name = line("name");
        let ext = match &dot_name {
            Some(n) => n.rsplit('.').next().unwrap().to_string(),
            None => fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
                .filter_map(|e| e.ok())
                .find_map(|e| {
                    let file = e.file_name().to_string_lossy().into_owned();
                    file.strip_prefix("encrypted.").map(str::to_owned)
                })
                .unwrap_or_else(|| panic!("fixture {name} has no encrypted.* file")),
        };
        let keys_text = fs::read_to_string(dir.join("keys")).unwrap();
        let keys_line = keys_text.trim();
        let ids = |rest: &str| rest.split_whitespace().map(str::to_owned).collect();
        let keys = if let Some(rest) = keys_line.strip_prefix("any:") {
            Keys::Any(ids(rest))
        } else if let Some(rest) = keys_line.strip_prefix("all:") {
            Keys::All(ids(rest))
        } else if keys_line == "none" {
            Keys::None
        } else if keys_line == "pgp" {
            Keys::Pgp
        } else {
            panic!("fixture {name}: bad keys line {keys_line:?}")
        };
        let args = fs::read_to_string(dir.join("args"))
            .map(|t| t.lines().map(str::to_owned).collect())
            .unwrap_or_default();
        let env = line("env")
            .map(|t| {
                t.lines()
                    .filter_map(|l| l.split_once('='))
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        Case {
            name,
            ext,
            keys,
            args,
            cwd: line("cwd"),
            input_arg: line("input-arg"),
            dot_name,
            env,
        }
    }

    fn encrypted(&self) -> String {
        match &self.dot_name {
            Some(n) => format!("enc/{n}"),
            None => format!("encrypted.{}", self.ext),
        }
    }
    fn input(&self) -> String {
        match &self.dot_name {
            Some(n) => format!("in/{n}"),
            None => format!("input.{}", self.ext),
        }
    }
    fn decrypted(&self) -> String {
        match &self.dot_name {
            Some(n) => format!("dec/{n}"),
            None => format!("decrypted.{}", self.ext),
        }
    }
    /// Where our encryption is written for sops to read (same name rules as the input).
    fn ours(&self) -> String {
        match &self.dot_name {
            Some(n) => format!("ours/{n}"),
            None => format!("ours.{}", self.ext),
        }
    }
    fn fixture_file(&self, file: &str) -> Vec<u8> {
        fs::read(sops_fixtures().join(self.name).join(file)).unwrap()
    }

    /// A fresh env with the case copied into `work/` and `ids` installed.
    fn env(&self, ids: &[String]) -> (TestEnv, PathBuf) {
        let env = TestEnv::new();
        let leaf = env.copy_fixture(self.name);
        for id in ids {
            env.install_fixture_identity(id);
        }
        (env, leaf)
    }
}

fn ours(env: &TestEnv, dir: &Path, args: &[&str]) -> Output {
    env.cmd(args).current_dir(dir).output().unwrap()
}

fn sops_decrypt(env: &TestEnv, dir: &Path, args: &[&str]) -> Option<Output> {
    let mut cmd = env.sops()?;
    Some(
        cmd.arg("decrypt")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap(),
    )
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Exit 0 and nothing alarming; returns stdout.
fn expect_ok(what: &str, out: &Output) -> Vec<u8> {
    common::assert_success(what, out);
    out.stdout.clone()
}

/// `git-secrets decrypt` == stored `sops decrypt` output == live `sops decrypt`, for every
/// identity that should work; and with only part of an `all:` set (or none), a refusal.
fn check_decrypt(name: &'static str) {
    let case = Case::load(name);
    let expected = case.fixture_file(&case.decrypted());
    let have_sops = has_tool("sops");
    for ids in case.keys.sets() {
        let (env, leaf) = case.env(&ids);
        let what = format!("{name}: git-secrets decrypt with {ids:?}");
        let got = expect_ok(&what, &ours(&env, &leaf, &["decrypt", &case.encrypted()]));
        assert_same_bytes(&what, &expected, &got);
        if have_sops {
            let live = sops_decrypt(&env, &leaf, &[&case.encrypted()]).unwrap();
            let live = expect_ok(&format!("{name}: live sops decrypt"), &live);
            assert_same_bytes(&format!("{name}: stored vs live sops"), &expected, &live);
            assert_same_bytes(&format!("{what} vs live sops"), &live, &got);
        }
    }
    // Without the right identities it must fail closed.
    let partial: Vec<Vec<String>> = match &case.keys {
        Keys::All(ids) => ids.iter().map(|id| vec![id.clone()]).collect(),
        _ => vec![],
    };
    for ids in partial.into_iter().chain([vec![]]) {
        let (env, leaf) = case.env(&ids);
        let out = ours(&env, &leaf, &["decrypt", &case.encrypted()]);
        // sops' "could not retrieve the data key".
        expect_refused_with(&format!("{name}: decrypt with only {ids:?}"), &out, 128);
    }
}

/// `git-secrets encrypt` of the input, then the real `sops decrypt` (and ours) of that ==
/// the stored `decrypted` file, for every identity that should work; and the layout of
/// our file == sops' with the ciphertext masked.
fn check_encrypt(name: &'static str) {
    let case = Case::load(name);
    let expected = case.fixture_file(&case.decrypted());
    let input = case.fixture_file(&case.input());
    let ours_file = case.ours();

    let (env, leaf) = case.env(&[]);
    let mut args: Vec<&str> = vec!["encrypt"];
    args.extend(case.args.iter().map(String::as_str));
    let input_name = case.input();
    args.push(case.input_arg.as_deref().unwrap_or(&input_name));
    let run_dir = leaf.join(case.cwd.as_deref().unwrap_or("."));
    let mut cmd = env.cmd(&args);
    cmd.current_dir(&run_dir);
    for (k, v) in &case.env {
        cmd.env(k, v);
    }
    let encrypted = expect_ok(
        &format!("{name}: git-secrets encrypt"),
        &cmd.output().unwrap(),
    );
    assert_ne!(encrypted, input, "{name}: encrypt printed its input");
    assert!(
        text(&encrypted).contains("ENC[AES256_GCM,data:"),
        "{name}: no ENC[] value in our output:\n{}",
        text(&encrypted)
    );
    // The input file itself is untouched without -i.
    assert_eq!(fs::read(leaf.join(&input_name)).unwrap(), input);
    // Same layout as sops' own encryption of the same input (unless make.sh edited
    // sops' file by hand: a NOTE says so).
    let theirs = case.fixture_file(&case.encrypted());
    let hand_edited = sops_fixtures().join(name).join("NOTE").exists();
    assert!(
        hand_edited || mask(&text(&encrypted)) == mask(&text(&theirs)),
        "{name}: our layout differs from sops' (ciphertext masked)\n--- ours\n{}\n--- sops\n{}",
        mask(&text(&encrypted)),
        mask(&text(&theirs))
    );

    let have_sops = has_tool("sops");
    for ids in case.keys.sets() {
        let (env, leaf) = case.env(&ids);
        let ours_path = leaf.join(&ours_file);
        fs::create_dir_all(ours_path.parent().unwrap()).unwrap();
        fs::write(&ours_path, &encrypted).unwrap();
        if have_sops {
            let what = format!("{name}: live sops decrypt of our encrypt with {ids:?}");
            let out = sops_decrypt(&env, &leaf, &[&ours_file]).unwrap();
            assert_same_bytes(&what, &expected, &expect_ok(&what, &out));
        }
        let what = format!("{name}: git-secrets decrypt of our encrypt with {ids:?}");
        let out = ours(&env, &leaf, &["decrypt", &ours_file]);
        assert_same_bytes(&what, &expected, &expect_ok(&what, &out));
    }
    // Key groups: one group alone must not be enough for sops either.
    if let (Keys::All(ids), true) = (&case.keys, have_sops) {
        for id in ids {
            let (env, leaf) = case.env(std::slice::from_ref(id));
            let ours_path = leaf.join(&ours_file);
            fs::create_dir_all(ours_path.parent().unwrap()).unwrap();
            fs::write(&ours_path, &encrypted).unwrap();
            let out = sops_decrypt(&env, &leaf, &[&ours_file]).unwrap();
            assert!(
                !out.status.success(),
                "{name}: sops decrypted our key-group file with only {id}"
            );
        }
    }
}

/// An encrypted file with everything random masked: each `ENC[…]` keeps only its type,
/// each armored age file becomes `AGE`, and timestamps become `TIME`.
fn mask(file: &str) -> String {
    let enc =
        regex::Regex::new(r"ENC\[AES256_GCM,data:[^,]*,iv:[^,]*,tag:[^,]*,type:([0-9A-Za-z_]+)\]")
            .unwrap();
    let age = regex::Regex::new(
        r"-----BEGIN AGE ENCRYPTED FILE-----(?s:.)*?-----END AGE ENCRYPTED FILE-----",
    )
    .unwrap();
    let time =
        regex::Regex::new(r"[0-9]{4}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]Z")
            .unwrap();
    let s = enc.replace_all(file, "ENC[$1]");
    let s = age.replace_all(&s, "AGE");
    let s = time.replace_all(&s, "TIME").into_owned();
    // sops 3.11 writes an INI file's [sops] section in random order: compare it sorted.
    match s.split_once("\n[sops]\n") {
        Some((body, meta)) => {
            let mut lines: Vec<&str> = meta.lines().collect();
            lines.sort_unstable();
            format!("{body}\n[sops]\n{}", lines.join("\n"))
        }
        None => s,
    }
}

/// A negative case: sops refuses it, and so must we (`error:`, empty stdout), with the
/// exit status sops gives (`sops-exit`, recorded by make.sh, and live).
fn check_refused(name: &'static str) {
    let case = Case::load(name);
    let want = sops_exit(&sops_fixtures().join(name));
    for ids in case.keys.sets() {
        let (env, leaf) = case.env(&ids);
        if has_tool("sops") {
            let out = sops_decrypt(&env, &leaf, &[&case.encrypted()]).unwrap();
            assert_eq!(out.status.code(), Some(want), "{name}: live sops exit");
        }
        let out = ours(&env, &leaf, &["decrypt", &case.encrypted()]);
        expect_refused_with(&format!("{name}: git-secrets decrypt"), &out, want);
    }
}

fn sops_exit(dir: &Path) -> i32 {
    let t = fs::read_to_string(dir.join("sops-exit"))
        .unwrap_or_else(|e| panic!("{}: no sops-exit: {e}", dir.display()));
    t.trim().parse().unwrap()
}

/// The error contract with a given exit status: `error: …` on stderr, empty stdout.
fn expect_refused_with(what: &str, out: &Output, code: i32) {
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{what}: want exit {code}, got {}\n--- stderr\n{stderr}",
        out.status
    );
    assert!(
        stderr.lines().any(|l| l.starts_with("error: ")),
        "{what}: no `error: ` line on stderr:\n{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "{what}: stdout must be empty on error, got:\n{}",
        text(&out.stdout)
    );
}

/// `encrypt-refused/*`: inputs sops refuses to encrypt (empty or comment-only YAML,
/// conflicting rule options, a bad path_regex, no matching rule, an encrypted file). We
/// refuse each with sops' exit status, print nothing, and leave the file as it was, even
/// with `-i` (issue 17.1: never a 0-byte or otherwise non-sops file).
#[test]
#[cfg_attr(missing_sops, ignore = "needs sops")]
fn encrypt_refusals_match_sops() {
    let root = sops_fixtures().join("encrypt-refused");
    let mut names: Vec<String> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(
        names.len() >= 9,
        "want the encrypt-refused cases, have {names:?}"
    );
    for name in names {
        let dir = root.join(&name);
        let file = fs::read_to_string(dir.join("name"))
            .unwrap()
            .trim()
            .to_string();
        let args: Vec<String> = fs::read_to_string(dir.join("args"))
            .map(|t| t.lines().map(str::to_owned).collect())
            .unwrap_or_default();
        let want = sops_exit(&dir);
        let env = TestEnv::new();
        let leaf = env.copy_fixture("encrypt-refused").join(&name);
        let before = fs::read(leaf.join(&file)).unwrap();
        for in_place in [false, true] {
            let mut argv: Vec<&str> = vec!["encrypt"];
            if in_place {
                argv.push("-i");
            }
            argv.extend(args.iter().map(String::as_str));
            argv.push(&file);
            let out = ours(&env, &leaf, &argv);
            expect_refused_with(&format!("encrypt-refused/{name} {argv:?}"), &out, want);
            assert_eq!(
                fs::read(leaf.join(&file)).unwrap(),
                before,
                "encrypt-refused/{name}: the input changed"
            );
        }
        if let Some(mut sops) = env.sops() {
            let out = sops
                .arg("encrypt")
                .args(&args)
                .arg(&file)
                .current_dir(&leaf)
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(want),
                "encrypt-refused/{name}: live sops"
            );
        } else {
            assert!(!has_tool("sops"));
        }
    }
}

/// A file that does not exist: sops' status 100 for both commands.
#[test]
fn missing_file_exits_like_sops() {
    let env = TestEnv::new();
    for cmd in ["decrypt", "encrypt"] {
        let age = common::public_key("age-a");
        let argv: Vec<&str> = match cmd {
            "decrypt" => vec![cmd, "nope.yaml"],
            _ => vec![cmd, "--age", age.trim(), "nope.yaml"],
        };
        let out = ours(&env, &env.work(), &argv);
        expect_refused_with(&format!("{cmd} of a missing file"), &out, 100);
    }
}

macro_rules! positive_cases {
    ($($module:ident => $case:literal,)*) => {
        $(
            mod $module {
                #[test]
                fn decrypt_matches_sops() {
                    super::check_decrypt($case);
                }
                #[test]
                fn encrypt_decrypts_with_sops() {
                    super::check_encrypt($case);
                }
            }
        )*
        const POSITIVE: &[&str] = &[$($case),*];
    };
}

macro_rules! negative_cases {
    ($($module:ident => $case:literal,)*) => {
        mod refused {
            $(
                #[test]
                fn $module() {
                    super::check_refused($case);
                }
            )*
        }
        const NEGATIVE: &[&str] = &[$($case),*];
    };
}

positive_cases! {
    yaml_simple => "yaml-simple",
    yaml_nested => "yaml-nested",
    yaml_lists => "yaml-lists",
    yaml_list_of_maps => "yaml-list-of-maps",
    yaml_comments => "yaml-comments",
    yaml_block_scalars => "yaml-block-scalars",
    yaml_unicode => "yaml-unicode",
    yaml_scalar_types => "yaml-scalar-types",
    yaml_multi_doc => "yaml-multi-doc",
    yaml_anchors => "yaml-anchors",
    yaml_explicit_key => "yaml-explicit-key",
    yaml_alias_key => "yaml-alias-key",
    yaml_null_doc => "yaml-null-doc",
    yaml_empty_doc => "yaml-empty-doc",
    yaml_flow_comments => "yaml-flow-comments",
    json_nested => "json-nested",
    json_numbers => "json-numbers",
    json_arrays => "json-arrays",
    json_unicode => "json-unicode",
    dotenv_comments => "dotenv-comments",
    ini_sections => "ini-sections",
    binary_random => "binary-random",
    binary_text => "binary-text",
    opt_encrypted_regex => "opt-encrypted-regex",
    opt_unencrypted_regex => "opt-unencrypted-regex",
    opt_encrypted_suffix => "opt-encrypted-suffix",
    opt_unencrypted_suffix => "opt-unencrypted-suffix",
    opt_mac_only_encrypted => "opt-mac-only-encrypted",
    opt_encrypted_comment_regex => "opt-encrypted-comment-regex",
    opt_unencrypted_comment_regex => "opt-unencrypted-comment-regex",
    two_recipients => "two-recipients",
    age_b_only => "age-b-only",
    ssh_ed25519 => "ssh-ed25519",
    ssh_rsa => "ssh-rsa",
    ssh_ed25519_comment => "ssh-ed25519-comment",
    store_json_indent_2 => "store-json-indent-2",
    store_json_indent_0 => "store-json-indent-0",
    store_yaml_indent_12 => "store-yaml-indent-12",
    store_yaml_indent_1 => "store-yaml-indent-1",
    key_groups_shamir => "key-groups-shamir",
    tree_prod => "tree/prod",
    tree_dev => "tree/dev",
    re2_ascii_word => "re2-ascii-word",
    re2_ascii_digit => "re2-ascii-digit",
    re2_ascii_space => "re2-ascii-space",
    re2_word_boundary => "re2-word-boundary",
    re2_quote => "re2-quote",
    re2_literal_brace => "re2-literal-brace",
    re2_class_literals => "re2-class-literals",
    rule_empty_regex => "rule-empty-regex",
    rule_missing_in_metadata => "rule-missing-in-metadata",
    path_norm => "path-norm/b",
    recipients_given_flag => "recipients-given/flag",
    recipients_given_env => "recipients-given/env",
    dotname_yaml => "dotname-yaml",
    dotname_json => "dotname-json",
    dotname_env => "dotname-env",
    dotname_ini => "dotname-ini",
    key_groups_default_threshold => "key-groups-default-threshold",
}

negative_cases! {
    tampered_value => "bad-tampered-value",
    tampered_mac => "bad-tampered-mac",
    tampered_plain_value => "bad-tampered-plain-value",
    swapped_values => "bad-swapped-values",
    removed_key => "bad-removed-key",
    truncated => "bad-truncated",
    not_sops => "bad-not-sops",
    not_our_key => "bad-not-our-key",
}

/// A file whose only key group is PGP: we do not do PGP, so we say so and point at sops.
#[test]
fn pgp_only_file_is_refused_with_a_hint_to_use_sops() {
    let case = Case::load("pgp-only");
    assert!(matches!(case.keys, Keys::Pgp));
    let (env, leaf) = case.env(&["age-a".to_string()]);
    let out = ours(&env, &leaf, &["decrypt", &case.encrypted()]);
    expect_refused_with(
        "pgp-only",
        &out,
        sops_exit(&sops_fixtures().join("pgp-only")),
    );
    let stderr = text(&out.stderr);
    let error_line = stderr.lines().find(|l| l.starts_with("error: ")).unwrap();
    assert!(
        error_line.to_lowercase().contains("pgp"),
        "error should name pgp: {stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("hint: ") && l.contains("sops")),
        "a hint should point at sops: {stderr}"
    );
}

/// `--extract` and `--output-type` give what sops gives.
#[test]
#[cfg_attr(missing_sops, ignore = "needs sops")]
fn extract_and_output_type_match_sops() {
    require_tool("sops");
    let variants: &[(&str, &[&str])] = &[
        (
            "yaml-nested",
            &[
                "--extract",
                r#"["database"]["primary"]["credentials"]["password"]"#,
            ],
        ),
        ("yaml-nested", &["--extract", r#"["database"]["replica"]"#]),
        ("yaml-lists", &["--extract", r#"["hosts"][1]"#]),
        ("yaml-list-of-maps", &["--extract", r#"["users"][0]"#]),
        ("yaml-scalar-types", &["--extract", r#"["float_exp"]"#]),
        ("json-nested", &["--extract", r#"["database"]["options"]"#]),
        // Issue 17.9: JSON lists and non-string scalars end without a newline; quotes
        // may be single.
        ("json-arrays", &["--extract", r#"["list"]"#]),
        ("json-arrays", &["--extract", r#"["matrix"]"#]),
        ("json-arrays", &["--extract", r#"["list"][2]"#]),
        ("json-arrays", &["--extract", r#"["list"][3]"#]),
        ("json-arrays", &["--extract", r#"["list"][4]"#]),
        ("json-numbers", &["--extract", r#"["exp"]"#]),
        ("json-arrays", &["--extract", "['list'][0]"]),
        ("yaml-nested", &["--extract", "['database']['replica']"]),
        ("yaml-lists", &["--extract", r#"["nested"]"#]),
        ("yaml-scalar-types", &["--extract", r#"["bool_true"]"#]),
        ("yaml-nested", &["--output-type", "json"]),
        ("json-arrays", &["--output-type", "yaml"]),
        ("dotenv-comments", &["--output-type", "json"]),
    ];
    for (name, extra) in variants {
        let case = Case::load(name);
        let ids = case.keys.sets().remove(0);
        let (env, leaf) = case.env(&ids);
        let mut args: Vec<&str> = extra.to_vec();
        let file = case.encrypted();
        args.push(&file);
        let live = sops_decrypt(&env, &leaf, &args).unwrap();
        let live = expect_ok(&format!("{name} {extra:?}: live sops"), &live);
        let mut our_args = vec!["decrypt"];
        our_args.extend(&args);
        let what = format!("{name} {extra:?}: git-secrets decrypt");
        let got = expect_ok(&what, &ours(&env, &leaf, &our_args));
        assert_same_bytes(&what, &live, &got);
    }
}

/// No fixture case is forgotten: every dir under fixtures/sops with a `keys` file has a
/// test above.
#[test]
fn every_fixture_case_has_a_test() {
    fn walk(dir: &Path, rel: &str, found: &mut Vec<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            if !entry.file_type().unwrap().is_dir() {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if entry.path().join("keys").is_file() {
                found.push(rel.clone());
            }
            walk(&entry.path(), &rel, found);
        }
    }
    let mut found = Vec::new();
    walk(&sops_fixtures(), "", &mut found);
    found.sort();
    let mut tested: Vec<String> = POSITIVE
        .iter()
        .chain(NEGATIVE)
        .chain(&["pgp-only"])
        .map(|s| s.to_string())
        .collect();
    tested.sort();
    assert_eq!(found, tested);
    assert!(
        found.len() >= 30,
        "want at least 30 cases, have {}",
        found.len()
    );
}

/// The harness itself: children see only the scrubbed env, and git reads only our config.
#[test]
fn test_env_is_hermetic() {
    let env = TestEnv::new();
    let out = env.command("env").output().unwrap();
    let allowed: Vec<&str> = env.env_vars().iter().map(|(k, _)| *k).collect();
    for line in text(&out.stdout).lines() {
        let key = line.split('=').next().unwrap();
        assert!(allowed.contains(&key), "leaked into the test env: {key}");
        assert!(!key.starts_with("SOPS_"), "leaked into the test env: {key}");
    }
    if has_tool("git") {
        let origins = env.git(&env.work(), ["config", "--list", "--show-origin"]);
        let ours = format!("file:{}", env.root().join("gitconfig").display());
        for line in origins.lines() {
            assert!(line.starts_with(&ours), "git config from elsewhere: {line}");
        }
        assert_eq!(
            env.git(&env.work(), ["config", "user.name"]),
            common::GIT_NAME
        );
    }
}

/// `SOPS_AGE_KEY_CMD` is split into words as sops splits it (quotes, backslashes, a
/// trailing comment; no shell): a key file whose path holds a space, quoted three ways,
/// decrypts with both, and an unclosed quote is refused by both.
#[test]
#[cfg_attr(missing_sops, ignore = "needs sops")]
fn the_key_command_is_split_like_sops_splits_it() {
    require_tool("sops");
    let env = TestEnv::new();
    let dir = env.copy_fixture("age-b-only");
    let key = env.write("my keys/age b.txt", common::key_text("age-b"));
    let k = key.display().to_string();
    let spaced = k.replace(' ', "\\ ");
    for (cmd, works) in [
        (format!("cat '{k}'"), true),
        (format!("cat \"{k}\" # the key"), true),
        (format!("cat {spaced}"), true),
        (format!("cat \"{k}"), false),
    ] {
        let ours = env
            .cmd(["decrypt", "encrypted.yaml"])
            .current_dir(&dir)
            .env("SOPS_AGE_KEY_CMD", &cmd)
            .output()
            .unwrap();
        let sops = env
            .sops()
            .unwrap()
            .args(["decrypt", "encrypted.yaml"])
            .current_dir(&dir)
            .env("SOPS_AGE_KEY_CMD", &cmd)
            .output()
            .unwrap();
        assert_eq!(
            sops.status.success(),
            works,
            "sops with {cmd}: {}",
            text(&sops.stderr)
        );
        assert_eq!(
            ours.status.success(),
            works,
            "ours with {cmd}: {}",
            text(&ours.stderr)
        );
        assert_eq!(ours.stdout, sops.stdout, "{cmd}");
        if !works {
            assert!(
                text(&ours.stderr).contains("cannot split the command"),
                "{}",
                text(&ours.stderr)
            );
        }
    }
}

/// A key source holding one line that is not empty, not a `#` comment and not a key
/// (spaces only, an indented comment, spaces around the key, a lower-case or a damaged
/// key, any other text) is refused whole by sops 3.11, the good key on the next line
/// too: for `SOPS_AGE_KEY_FILE`, the default keys.txt, `SOPS_AGE_KEY` and
/// `SOPS_AGE_KEY_CMD`'s output. Ours refuses it too, naming the source and the line,
/// never the line. A `\r\n` line end is no such line; and a refused source does not stop
/// a key from another source (sops uses it too).
#[test]
#[cfg_attr(missing_sops, ignore = "needs sops")]
fn a_key_source_with_a_line_that_is_no_key_is_refused_whole_like_sops() {
    require_tool("sops");
    let key_line = common::key_text("age-b")
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap()
        .to_string();
    let tail = &key_line[key_line.len() - 12..];
    let bad_lines = [
        "  \t".to_string(),
        "  # an indented comment".to_string(),
        format!("{key_line} "),
        key_line.to_lowercase(),
        key_line[..key_line.len() - 3].to_string(),
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
            .to_string(),
    ];
    for bad in &bad_lines {
        // the bad line is line 2, the good key line 3
        let keys = format!("# a comment\n{bad}\n{key_line}\n");
        for source in [
            "SOPS_AGE_KEY_FILE",
            "keys.txt",
            "SOPS_AGE_KEY",
            "SOPS_AGE_KEY_CMD",
        ] {
            let env = TestEnv::new();
            let dir = env.copy_fixture("age-b-only");
            let file = env.write("k/keys.txt", &keys);
            let (var, value, place) = match source {
                "SOPS_AGE_KEY_FILE" => (
                    Some("SOPS_AGE_KEY_FILE"),
                    file.display().to_string(),
                    format!("SOPS_AGE_KEY_FILE={}", file.display()),
                ),
                "keys.txt" => {
                    env.install_age_identity(&keys);
                    let p = env.config().join("sops/age/keys.txt");
                    (None, String::new(), p.display().to_string())
                }
                "SOPS_AGE_KEY" => (Some("SOPS_AGE_KEY"), keys.clone(), "SOPS_AGE_KEY".into()),
                _ => (
                    Some("SOPS_AGE_KEY_CMD"),
                    format!("cat {}", file.display()),
                    "SOPS_AGE_KEY_CMD=cat …".into(),
                ),
            };
            let run = |mut cmd: std::process::Command| {
                if let Some(var) = var {
                    cmd.env(var, &value);
                }
                cmd.current_dir(&dir).output().unwrap()
            };
            let mut ours_cmd = env.command(common::bin());
            ours_cmd.args(["decrypt", "encrypted.yaml"]);
            let ours = run(ours_cmd);
            let mut sops_cmd = env.sops().unwrap();
            sops_cmd.args(["decrypt", "encrypted.yaml"]);
            let sops = run(sops_cmd);
            let what = format!("{source} with line 2 {bad:?}");
            assert_eq!(
                sops.status.code(),
                Some(128),
                "sops, {what}: {}",
                text(&sops.stderr)
            );
            assert_eq!(
                ours.status.code(),
                Some(128),
                "ours, {what}: {}",
                text(&ours.stderr)
            );
            assert!(ours.stdout.is_empty(), "{what}");
            let stderr = text(&ours.stderr);
            assert!(
                stderr.starts_with(&format!(
                    "error: no age identity found to decrypt this file: {place} is refused (line 2 is not an age secret key)\n"
                )),
                "{what}:\n{stderr}"
            );
            assert!(
                stderr.contains("hint: ") && stderr.contains("fix") && stderr.contains("line 2"),
                "{what}:\n{stderr}"
            );
            assert!(
                !stderr.contains(tail)
                    && !stderr.contains(&tail.to_lowercase())
                    && !stderr.contains("AAAAC3"),
                "{what}: the line is shown:\n{stderr}"
            );
        }
    }
    // `\r\n` ends a line for both; and a refused file does not stop another source's key
    let env = TestEnv::new();
    let dir = env.copy_fixture("age-b-only");
    let crlf = env.write("crlf.txt", format!("# c\r\n{key_line}\r\n"));
    let bad = env.write("bad.txt", format!("{key_line}\nnot a key\n"));
    for (vars, what) in [
        (
            vec![("SOPS_AGE_KEY_FILE", crlf.display().to_string())],
            "CRLF",
        ),
        (
            vec![
                ("SOPS_AGE_KEY_FILE", bad.display().to_string()),
                ("SOPS_AGE_KEY", key_line.clone()),
            ],
            "a refused file and a good SOPS_AGE_KEY",
        ),
    ] {
        let mut ours = env.command(common::bin());
        let mut sops = env.sops().unwrap();
        for cmd in [&mut ours, &mut sops] {
            cmd.args(["decrypt", "encrypted.yaml"]).current_dir(&dir);
            cmd.envs(vars.iter().map(|(k, v)| (k, v)));
        }
        let (ours, sops) = (ours.output().unwrap(), sops.output().unwrap());
        let sops_out = expect_ok(&format!("sops, {what}"), &sops);
        assert_eq!(
            expect_ok(&format!("ours, {what}"), &ours),
            sops_out,
            "{what}"
        );
    }
}
