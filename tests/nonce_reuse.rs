//! Issue 16.3: a (data key, IV) pair must never encrypt two different plaintexts. The
//! IV of an unchanged value is reused on purpose (small diffs, as `sops edit` does), so
//! "unchanged" must mean the exact bytes that were decrypted, not a re-serialisation:
//! a file written by another tool may store `int "007"`, `bool "true"` or
//! `float "1e+16"`, which read back as 7, true and 1e16 and would be written as "7",
//! "True" and "10000000000000000" — under the old IV, leaking the XOR of the two
//! plaintexts and GCM's authentication key.
//!
//! The file is built here with `aes-gcm` directly (known data key, fixed IVs), then
//! changed with `rotate --set` and `rotate --edit`; every ciphertext of every version is
//! decrypted with the known key and no IV may carry two plaintexts.

mod common;

use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::Aes256;
use aes_gcm::AesGcm;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use common::cluster::{age_a, Cluster};
use git_secrets::sops::file::SopsFile;
use git_secrets::sops::formats::Format;
use git_secrets::sops::keys::{wrap_data_key, Recipient};
use git_secrets::sops::metadata::{AgeStanza, EncryptionRules, KeyGroup, Metadata};
use git_secrets::sops::tree::{MapItem, Node};
use sha2::{Digest, Sha512};
use std::collections::HashMap;

type Gcm32 = AesGcm<Aes256, aes_gcm::aead::consts::U32>;

const KEY: [u8; 32] = [7; 32];
const LASTMODIFIED: &str = "2024-01-01T00:00:00Z";

fn seal(plain: &[u8], aad: &str, iv: [u8; 32], kind: &str) -> String {
    let sealed = Gcm32::new(GenericArray::from_slice(&KEY))
        .encrypt(
            GenericArray::from_slice(&iv),
            Payload {
                msg: plain,
                aad: aad.as_bytes(),
            },
        )
        .unwrap();
    let (data, tag) = sealed.split_at(sealed.len() - 16);
    format!(
        "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{kind}]",
        B64.encode(data),
        B64.encode(iv),
        B64.encode(tag)
    )
}

/// (iv, plaintext) of one `ENC[…]` value, opened with the known key.
fn open(value: &str, aad: &str) -> (Vec<u8>, Vec<u8>) {
    let field = |name: &str| {
        let start = value.find(&format!("{name}:")).unwrap() + name.len() + 1;
        let end = value[start..].find([',', ']']).unwrap() + start;
        B64.decode(&value[start..end]).unwrap()
    };
    let (iv, mut ct) = (field("iv"), field("data"));
    ct.extend(field("tag"));
    let plain = Gcm32::new(GenericArray::from_slice(&KEY))
        .decrypt(
            GenericArray::from_slice(&iv),
            Payload {
                msg: &ct,
                aad: aad.as_bytes(),
            },
        )
        .unwrap_or_else(|_| panic!("{value} does not open with the known key"));
    (iv, plain)
}

/// A sops file whose stored plaintexts are not in the form we would write them.
fn non_canonical_file() -> Vec<u8> {
    let values = [
        ("count", b"007".as_slice(), "int", [1u8; 32]),
        ("flag", b"true", "bool", [2; 32]),
        ("big", b"1e+16", "float", [3; 32]),
        ("other", b"x", "str", [4; 32]),
    ];
    let docs = vec![Node::Map(
        values
            .iter()
            .map(|(k, p, t, iv)| {
                MapItem::Entry(k.to_string(), Node::str(seal(p, &format!("{k}:"), *iv, t)))
            })
            .collect(),
    )];
    // The MAC is over the values as read (7, True, 1e16 as Go prints it, x).
    let mac = hex::encode_upper(Sha512::digest(b"7True10000000000000000x"));
    let recipient = Recipient::parse(&age_a()).unwrap();
    let metadata = Metadata {
        shamir_threshold: 0,
        key_groups: vec![KeyGroup {
            age: vec![AgeStanza {
                recipient: age_a(),
                enc: wrap_data_key(&zeroize::Zeroizing::new(KEY), &recipient).unwrap(),
            }],
            other: vec![],
        }],
        lastmodified: LASTMODIFIED.into(),
        mac: seal(mac.as_bytes(), LASTMODIFIED, [5; 32], "str"),
        rules: EncryptionRules {
            unencrypted_suffix: Some("_unencrypted".into()),
            ..Default::default()
        },
        version: "3.11.0".into(),
    };
    SopsFile {
        format: Format::Yaml,
        docs,
        metadata,
    }
    .to_bytes(4)
    .unwrap()
}

/// Every (iv → plaintext) of a file version, added to `seen`; panics on a reused IV.
fn record(seen: &mut HashMap<Vec<u8>, (Vec<u8>, String)>, text: &str, when: &str) {
    let lastmodified = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("lastmodified: "))
        .unwrap()
        .trim_matches('"')
        .to_string();
    for line in text.lines() {
        let (aad, value) = if let Some(v) = line.trim().strip_prefix("mac: ") {
            (lastmodified.clone(), v)
        } else if let Some((k, _)) = line.split_once(": ENC[") {
            if k.starts_with(' ') {
                continue;
            }
            (format!("{k}:"), &line[k.len() + 2..])
        } else {
            continue;
        };
        assert!(value.starts_with("ENC[AES256_GCM,"), "{value}");
        let (iv, plain) = open(value, &aad);
        let what = format!("{when}: {aad}");
        if let Some((old, first)) = seen.get(&iv) {
            assert_eq!(
                old,
                &plain,
                "IV reused for two plaintexts: {first} {:?} and {what} {:?}",
                String::from_utf8_lossy(old),
                String::from_utf8_lossy(&plain)
            );
        } else {
            seen.insert(iv, (plain, what));
        }
    }
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn no_iv_ever_encrypts_two_plaintexts_after_rotate_set_and_edit() {
    let c = Cluster::new(&[("app.yaml", "other: placeholder\n")]);
    std::fs::write(c.secret("app.yaml"), non_canonical_file()).unwrap();
    c.git(
        &c.inner,
        &["commit", "-qam", "a file from another sops implementation"],
    );
    // The file is valid: we and sops read it.
    let plain = c
        .sops_decrypt("app.yaml")
        .expect("sops decrypts the hand-made file");
    assert_eq!(plain, "count: 7\nflag: true\nbig: 1e+16\nother: x\n");

    let mut seen = HashMap::new();
    let text = |c: &Cluster| std::fs::read_to_string(c.secret("app.yaml")).unwrap();
    record(&mut seen, &text(&c), "original");

    c.cmd(&["rotate", "app", "--set", "other=changed", "--no-lock"])
        .assert()
        .success();
    record(&mut seen, &text(&c), "after rotate --set");

    c.cmd(&["rotate", "app", "--edit", "--no-lock"])
        .env("EDITOR", "sed -i s/changed/edited/")
        .assert()
        .success();
    record(&mut seen, &text(&c), "after rotate --edit");

    assert_eq!(
        c.sops_decrypt("app.yaml").unwrap(),
        "count: 7\nflag: true\nbig: 1e+16\nother: edited\n"
    );
}
