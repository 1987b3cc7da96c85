//! Interop with the real sops: every case in `fixtures/sops/` (made by `make.sh` with the
//! sops Go binary) must decrypt with `git-secrets decrypt` to exactly what sops prints, and
//! what `git-secrets encrypt` writes must decrypt with the real sops to the same bytes.
//! Negative cases must be refused: exit 1, `error:` on stderr, nothing on stdout.
//!
//! Each case runs in a fresh `TestEnv` holding only the identities its `keys` file names,
//! with the current dir inside the case (sops reads `.sops.yaml` from the current dir, for
//! creation rules *and* for `stores.yaml.indent` on decrypt).

mod common;

use common::{assert_same_bytes, require_tool, sops_fixtures, TestEnv};
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
}

impl Case {
    fn load(name: &'static str) -> Case {
        let dir = sops_fixtures().join(name);
        let ext = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
            .filter_map(|e| e.ok())
            .find_map(|e| {
                let file = e.file_name().to_string_lossy().into_owned();
                file.strip_prefix("encrypted.").map(str::to_owned)
            })
            .unwrap_or_else(|| panic!("fixture {name} has no encrypted.* file"));
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
        Case {
            name,
            ext,
            keys,
            args,
        }
    }

    fn encrypted(&self) -> String {
        format!("encrypted.{}", self.ext)
    }
    fn input(&self) -> String {
        format!("input.{}", self.ext)
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

/// The error contract: exit 1, `error: …` on stderr, empty stdout.
fn expect_refused(what: &str, out: &Output) {
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what}: want exit 1, got {}\n--- stderr\n{stderr}",
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

/// `git-secrets decrypt` == stored `sops decrypt` output == live `sops decrypt`, for every
/// identity that should work; and with only part of an `all:` set (or none), a refusal.
fn check_decrypt(name: &'static str) {
    let case = Case::load(name);
    let expected = case.fixture_file(&format!("decrypted.{}", case.ext));
    let have_sops = require_tool("sops");
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
        expect_refused(&format!("{name}: decrypt with only {ids:?}"), &out);
    }
}

/// `git-secrets encrypt` of the input, then the real `sops decrypt` (and ours) of that ==
/// the stored `decrypted` file, for every identity that should work.
fn check_encrypt(name: &'static str) {
    let case = Case::load(name);
    let expected = case.fixture_file(&format!("decrypted.{}", case.ext));
    let input = case.fixture_file(&case.input());
    let ours_file = format!("ours.{}", case.ext);

    let (env, leaf) = case.env(&[]);
    let mut args: Vec<&str> = vec!["encrypt"];
    args.extend(case.args.iter().map(String::as_str));
    let input_name = case.input();
    args.push(&input_name);
    let encrypted = expect_ok(
        &format!("{name}: git-secrets encrypt"),
        &ours(&env, &leaf, &args),
    );
    assert_ne!(encrypted, input, "{name}: encrypt printed its input");
    assert!(
        text(&encrypted).contains("ENC[AES256_GCM,data:"),
        "{name}: no ENC[] value in our output:\n{}",
        text(&encrypted)
    );
    // The input file itself is untouched without -i.
    assert_eq!(fs::read(leaf.join(&input_name)).unwrap(), input);

    let have_sops = require_tool("sops");
    for ids in case.keys.sets() {
        let (env, leaf) = case.env(&ids);
        fs::write(leaf.join(&ours_file), &encrypted).unwrap();
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
            fs::write(leaf.join(&ours_file), &encrypted).unwrap();
            let out = sops_decrypt(&env, &leaf, &[&ours_file]).unwrap();
            assert!(
                !out.status.success(),
                "{name}: sops decrypted our key-group file with only {id}"
            );
        }
    }
}

/// A negative case: sops refuses it, and so must we (exit 1, `error:`, empty stdout).
fn check_refused(name: &'static str) {
    let case = Case::load(name);
    for ids in case.keys.sets() {
        let (env, leaf) = case.env(&ids);
        if require_tool("sops") {
            let out = sops_decrypt(&env, &leaf, &[&case.encrypted()]).unwrap();
            assert!(!out.status.success(), "{name}: live sops accepted it");
        }
        let out = ours(&env, &leaf, &["decrypt", &case.encrypted()]);
        expect_refused(&format!("{name}: git-secrets decrypt"), &out);
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
    key_groups_shamir => "key-groups-shamir",
    tree_prod => "tree/prod",
    tree_dev => "tree/dev",
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
    expect_refused("pgp-only", &out);
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
fn extract_and_output_type_match_sops() {
    if !require_tool("sops") {
        return;
    }
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
    if require_tool("git") {
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
