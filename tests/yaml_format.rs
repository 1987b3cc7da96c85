//! The YAML format against golden files made by the real sops 3.11
//! (`fixtures/yaml/make.sh`): for every case, reading the input and writing
//! it back gives what `sops decrypt` printed, and the encrypted file sops
//! wrote round-trips byte for byte. No external tool is needed.

use git_secrets::sops::formats::yaml::{emit, parse, DEFAULT_INDENT};
use git_secrets::sops::tree::{MapItem, Node, Scalar, SeqItem};
use std::path::{Path, PathBuf};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/yaml")
}

fn cases() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture_dir())
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().into_string().unwrap();
            n.strip_suffix(".in.yaml").map(str::to_string)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 25, "expected at least 25 YAML fixtures");
    names
}

fn read(name: &str, ext: &str) -> Vec<u8> {
    std::fs::read(fixture_dir().join(format!("{name}.{ext}.yaml"))).unwrap()
}

fn roundtrip(input: &[u8]) -> Result<String, String> {
    let docs = parse(input).map_err(|e| format!("parse: {}", e.message))?;
    let out = emit(&docs, DEFAULT_INDENT).map_err(|e| format!("emit: {}", e.message))?;
    Ok(String::from_utf8(out).unwrap())
}

fn check_all(ext: &str, expected_ext: &str, skip: &[&str]) {
    let mut failures = Vec::new();
    for name in cases().into_iter().filter(|n| !skip.contains(&n.as_str())) {
        let expected = String::from_utf8(read(&name, expected_ext)).unwrap();
        match roundtrip(&read(&name, ext)) {
            Ok(got) if got == expected => {}
            Ok(got) => failures.push(format!(
                "--- {name}: {ext} -> expected {expected_ext}\n{expected}\n--- got\n{got}"
            )),
            Err(e) => failures.push(format!("--- {name}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn plaintext_reads_and_writes_like_sops_decrypt() {
    check_all("in", "out", &[]);
}

/// Not a sops guarantee, but holds except where sops' own output reads
/// back differently: `-0.0` prints as `-0`, which reads as the int 0, and a
/// raw U+2028 in a single-quoted string is a line break to go-yaml.
#[test]
fn sops_output_is_a_fixed_point() {
    check_all("out", "out", &["floats", "unicode"]);
}

#[test]
fn encrypted_files_round_trip_byte_for_byte() {
    check_all("enc", "enc", &[]);
}

fn doc(input: &str) -> Vec<MapItem> {
    match parse(input.as_bytes()).unwrap().remove(0) {
        Node::Map(items) => items,
        other => panic!("not a map: {other:?}"),
    }
}

fn entry<'a>(items: &'a [MapItem], key: &str) -> &'a Node {
    items
        .iter()
        .find_map(|i| match i {
            MapItem::Entry(k, v) if k == key => Some(v),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no key {key}"))
}

#[test]
fn scalars_get_go_yaml_types() {
    let d = doc("i: 0x10\nf: 1e6\nb: True\nn: ~\nt: 2024-01-02\ns: \"12\"\ny: yes\nx: !!float 2\n");
    assert_eq!(entry(&d, "i"), &Node::Scalar(Scalar::Int(16)));
    assert_eq!(entry(&d, "f"), &Node::Scalar(Scalar::Float(1e6)));
    assert_eq!(entry(&d, "b"), &Node::Scalar(Scalar::Bool(true)));
    assert_eq!(entry(&d, "n"), &Node::Scalar(Scalar::Null));
    assert_eq!(
        entry(&d, "t"),
        &Node::Scalar(Scalar::Time("2024-01-02T00:00:00Z".into()))
    );
    assert_eq!(entry(&d, "s"), &Node::str("12"));
    assert_eq!(entry(&d, "y"), &Node::str("yes"));
    assert_eq!(entry(&d, "x"), &Node::Scalar(Scalar::Float(2.0)));
}

#[test]
fn comments_become_items_where_sops_puts_them() {
    let d = doc("# top\na: 1 # line\nb:\n  c: 2\n  # foot of c\n# before d\nd: [x] # flow\n");
    assert_eq!(d[0], MapItem::Comment(" top".into()));
    // A line comment moves before its entry.
    assert_eq!(d[1], MapItem::Comment(" line".into()));
    assert!(matches!(&d[2], MapItem::Entry(k, _) if k == "a"));
    match entry(&d, "b") {
        Node::Map(items) => assert_eq!(items.last(), Some(&MapItem::Comment(" foot of c".into()))),
        other => panic!("{other:?}"),
    }
    assert!(d.contains(&MapItem::Comment(" before d".into())));
    // A line comment after a flow collection goes inside it.
    assert_eq!(
        entry(&d, "d"),
        &Node::Seq(vec![
            SeqItem::Comment(" flow".into()),
            SeqItem::Value(Node::str("x"))
        ])
    );
}

#[test]
fn encrypted_comments_in_lists_are_plain_string_items() {
    // sops writes a comment inside a list as `- ENC[…,type:comment]`; it
    // reads back as a string item, which decryption turns into a comment.
    let enc = "l:\n    - ENC[AES256_GCM,data:x,iv:y,tag:z,type:comment]\n    - a\n";
    let d = doc(enc);
    match entry(&d, "l") {
        Node::Seq(items) => assert_eq!(
            items[0],
            SeqItem::Value(Node::str("ENC[AES256_GCM,data:x,iv:y,tag:z,type:comment]"))
        ),
        other => panic!("{other:?}"),
    }
    let d = doc("#ENC[AES256_GCM,data:x,iv:y,tag:z,type:comment]\na: 1\n");
    assert_eq!(
        d[0],
        MapItem::Comment("ENC[AES256_GCM,data:x,iv:y,tag:z,type:comment]".into())
    );
}

#[test]
fn sops_rejections_are_errors() {
    // sops: "Tree contains a non-string key (type int)".
    assert!(parse(b"1: a\n").is_err());
    // sops: "Cannot walk value, unknown type: uint64".
    assert!(parse(b"a: 9223372036854775808\n").is_err());
    assert!(parse(b"a: 1\na: 2\n").is_err());
    // A top-level list parses; the core rejects it.
    assert!(matches!(parse(b"- a\n").unwrap()[0], Node::Seq(_)));
}

#[test]
fn indent_setting_changes_nesting() {
    let docs = parse(b"a:\n  b:\n    - c\n").unwrap();
    let out = String::from_utf8(emit(&docs, 2).unwrap()).unwrap();
    assert_eq!(out, "a:\n  b:\n    - c\n");
}

/// Debug aid: `YAML_FILE=path cargo test --test yaml_format dump -- --ignored --nocapture`.
#[test]
#[ignore]
fn dump() {
    let path = std::env::var("YAML_FILE").unwrap();
    match roundtrip(&std::fs::read(path).unwrap()) {
        Ok(s) => print!("{s}"),
        Err(e) => print!("ERROR {e}"),
    }
}
