//! The JSON, dotenv, INI and binary formats against files made by the real
//! sops 3.11 (`fixtures/formats`, see `make.sh` there): a plaintext file
//! parsed and emitted gives exactly what `sops decrypt` printed, and a
//! sops-encrypted file parsed and emitted again gives the same bytes.

use git_secrets::sops::formats::Format;
use git_secrets::sops::tree::{MapItem, Node, Scalar, SeqItem};
use std::path::{Path, PathBuf};
use std::process::Command;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/formats")
}

struct Case {
    name: String,
    ext: String,
    format: Format,
}

impl Case {
    fn path(&self, kind: &str) -> PathBuf {
        dir().join(format!("{}.{kind}.{}", self.name, self.ext))
    }

    fn read(&self, kind: &str) -> Vec<u8> {
        std::fs::read(self.path(kind)).unwrap()
    }
}

/// Every `NAME.in.EXT` in the fixture dir, in name order.
fn cases() -> Vec<Case> {
    let mut cases: Vec<Case> = std::fs::read_dir(dir())
        .unwrap()
        .filter_map(|e| {
            let file = e.unwrap().file_name().into_string().unwrap();
            let (name, ext) = file.split_once(".in.")?;
            let format = Format::from_path(Path::new(&file));
            Some(Case {
                name: name.into(),
                ext: ext.into(),
                format,
            })
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

/// Shows both sides when bytes differ, as text where possible.
fn mismatch(case: &Case, what: &str, got: &[u8], want: &[u8]) -> String {
    format!(
        "{}.{}: {what}\n--- got\n{}\n--- want\n{}",
        case.name,
        case.ext,
        String::from_utf8_lossy(got).escape_debug(),
        String::from_utf8_lossy(want).escape_debug()
    )
}

#[test]
fn every_format_has_fixtures() {
    let cases = cases();
    assert!(cases.len() >= 20, "only {} cases", cases.len());
    for format in [Format::Json, Format::Dotenv, Format::Ini, Format::Binary] {
        let n = cases.iter().filter(|c| c.format == format).count();
        assert!(n >= 3, "{format:?} has {n} cases");
    }
}

#[test]
fn plaintext_emits_what_sops_decrypt_prints() {
    let mut failures = Vec::new();
    for case in cases() {
        let docs = case
            .format
            .parse_plain(&case.read("in"))
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let got = case.format.emit_plain(&docs, 4).unwrap();
        let want = case.read("out");
        if got != want {
            failures.push(mismatch(
                &case,
                "plaintext differs from sops decrypt",
                &got,
                &want,
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// sops 3.11 writes the INI `[sops]` keys in Go map order (random); we write
/// them sorted, as 3.13 does. Everything else must match byte for byte.
fn sort_ini_sops_section(enc: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(enc).unwrap();
    let start = if text.starts_with("[sops]\n") {
        0
    } else {
        text.find("\n[sops]\n").map(|i| i + 1).unwrap()
    };
    let (body, section) = text.split_at(start);
    let mut lines: Vec<&str> = section["[sops]\n".len()..].lines().collect();
    lines.sort_unstable();
    format!("{body}[sops]\n{}\n", lines.join("\n")).into_bytes()
}

#[test]
fn encrypted_files_round_trip_byte_for_byte() {
    let mut failures = Vec::new();
    for case in cases() {
        let enc = case.read("enc");
        let (docs, metadata) = case
            .format
            .parse_encrypted(&enc)
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let got = case.format.emit_encrypted(&docs, &metadata, 4).unwrap();
        let want = match case.format {
            Format::Ini => sort_ini_sops_section(&enc),
            _ => enc,
        };
        if got != want {
            failures.push(mismatch(
                &case,
                "encrypted file does not round-trip",
                &got,
                &want,
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn plaintext_files_have_no_metadata() {
    for case in cases() {
        let err = case.format.parse_encrypted(&case.read("in"));
        assert!(err.is_err(), "{}: plaintext parsed as encrypted", case.name);
    }
}

/// The keys, order and scalar types of a tree, without the values.
fn shape(node: &Node) -> String {
    match node {
        Node::Map(items) => {
            let inner: Vec<String> = items
                .iter()
                .map(|i| match i {
                    MapItem::Entry(k, v) => format!("{k}:{}", shape(v)),
                    MapItem::Comment(_) => "#".into(),
                })
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Node::Seq(items) => {
            let inner: Vec<String> = items
                .iter()
                .map(|i| match i {
                    SeqItem::Value(v) => shape(v),
                    SeqItem::Comment(_) => "#".into(),
                })
                .collect();
            format!("[{}]", inner.join(","))
        }
        Node::Scalar(s) => s.type_name().into(),
    }
}

/// What the JSON `sops` map differs in from the flat formats' metadata:
/// JSON numbers are floats, and key groups carry `"hc_vault": null`, which
/// the flat formats drop.
fn normalize_json_metadata(node: &mut Node) {
    match node {
        Node::Map(items) => {
            items.retain(|i| !matches!(i, MapItem::Entry(_, Node::Scalar(Scalar::Null))));
            for i in items.iter_mut() {
                if let MapItem::Entry(_, v) = i {
                    normalize_json_metadata(v);
                }
            }
        }
        Node::Seq(items) => {
            for i in items.iter_mut() {
                if let SeqItem::Value(v) = i {
                    normalize_json_metadata(v);
                }
            }
        }
        Node::Scalar(Scalar::Float(f)) if f.fract() == 0.0 => {
            *node = Node::Scalar(Scalar::Int(*f as i64));
        }
        Node::Scalar(_) => {}
    }
}

fn metadata_of(file: &str, format: Format) -> Node {
    let enc = std::fs::read(dir().join(file)).unwrap();
    format.parse_encrypted(&enc).unwrap().1
}

#[test]
fn flat_metadata_has_the_shape_of_the_json_sops_map() {
    let mut json = metadata_of("json-keygroups.enc.json", Format::Json);
    normalize_json_metadata(&mut json);
    let env = metadata_of("env-keygroups.enc.env", Format::Dotenv);
    let ini = metadata_of("ini-keygroups.enc.ini", Format::Ini);
    assert_eq!(shape(&env), shape(&json));
    assert_eq!(shape(&ini), shape(&json));
    assert_eq!(
        shape(&env),
        "{shamir_threshold:int,key_groups:[{age:[{recipient:str,enc:str}]},\
         {age:[{recipient:str,enc:str},{recipient:str,enc:str}]}],lastmodified:str,mac:str,\
         encrypted_regex:str,mac_only_encrypted:bool,version:str}"
    );
    for md in [&env, &ini] {
        assert_eq!(
            md.get("shamir_threshold"),
            Some(&Node::Scalar(Scalar::Int(2)))
        );
        assert_eq!(
            md.get("mac_only_encrypted"),
            Some(&Node::Scalar(Scalar::Bool(true)))
        );
        assert_eq!(md.get("version").and_then(Node::as_str), Some("3.11.0"));
        let Some(Node::Seq(groups)) = md.get("key_groups") else {
            panic!("no key_groups")
        };
        let SeqItem::Value(group) = &groups[0] else {
            panic!()
        };
        let Some(Node::Seq(ages)) = group.get("age") else {
            panic!("no age")
        };
        let SeqItem::Value(age) = &ages[0] else {
            panic!()
        };
        let enc = age.get("enc").and_then(Node::as_str).unwrap();
        assert!(
            enc.starts_with("-----BEGIN AGE ENCRYPTED FILE-----\n"),
            "{enc:?}"
        );
        assert!(
            enc.ends_with("\n-----END AGE ENCRYPTED FILE-----\n"),
            "{enc:?}"
        );
    }
}

/// Whether the committed fixtures are still what sops makes of them: each
/// `.enc` decrypts with the fixture key to its `.out`.
#[test]
#[cfg_attr(missing_sops, ignore = "needs sops")]
fn fixtures_decrypt_with_real_sops() {
    let sops = std::env::var("SOPS").unwrap_or_else(|_| "sops".into());
    assert!(
        Command::new(&sops).arg("--version").output().is_ok(),
        "sops is needed (set SOPS=/path/to/sops)"
    );
    let home = tempfile::tempdir().unwrap();
    for case in cases() {
        let mut cmd = Command::new(&sops);
        cmd.arg("decrypt").arg(case.path("enc"));
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("SOPS_")) {
            cmd.env_remove(k);
        }
        let out = cmd
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("SOPS_AGE_KEY_FILE", dir().join("key.txt"))
            .current_dir(home.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            case.name,
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            out.stdout,
            case.read("out"),
            "{}: fixture drifted; rerun make.sh",
            case.name
        );
    }
}

/// Issue 16.10: a parse error names a line, a position or a key, never the text of a
/// value (a secret file that does not parse would print the secret). Each input puts a
/// marker where a value would be and breaks the syntax around it.
#[test]
fn parse_errors_never_echo_values() {
    const M: &str = "SuperSecretP4ss";
    const N: &str = "98765432109876543210987";
    let cases: &[(Format, String, &str)] = &[
        (Format::Dotenv, format!("{M}\n"), M),
        (Format::Dotenv, format!("A=1\n{M} continued\n"), M),
        (Format::Ini, format!("[sec\n{M}\n"), M),
        (Format::Ini, format!("[{M}\n"), M),
        (Format::Ini, format!("[s]\n{M}\n"), M),
        (Format::Ini, format!("[s]\n\"{M} = x\n"), M),
        (Format::Ini, format!("[s]\nk = \"\"\"{M}\nmore\n"), M),
        (Format::Json, format!("{{\"a\": {M}}}"), M),
        (Format::Json, format!("{{\"a\": \"x\" {M}}}"), M),
        (Format::Json, format!("{{\"a\": {N}e99999}}"), N),
        (Format::Yaml, format!("a: !!int {M}\n"), M),
        (Format::Yaml, format!("a: !!int {N}\n"), N),
        (Format::Yaml, format!("a: \"x\" {M}\n"), M),
        (Format::Yaml, format!("a: \"\\{M}\"\n"), "\\S"),
    ];
    for (format, input, secret) in cases {
        let err = match format.parse_plain(input.as_bytes()) {
            Ok(_) => panic!("{format:?} {input:?} parsed"),
            Err(e) => e,
        };
        let shown = format!("{err}\n{}", err.hints.join("\n"));
        assert!(
            !shown.contains(secret),
            "{format:?} {input:?}: the error shows the value:\n{shown}"
        );
        assert!(
            !shown.contains("'S'"),
            "{format:?} {input:?}: the error shows a character of the value:\n{shown}"
        );
    }
}
