//! The data key wrapping interoperates with the `age` CLI both ways: the
//! CLI opens what we wrote, and we open what the CLI wrote.

mod common;

use common::{assert_success, require_tool, sops_fixtures, TestEnv};
use git_secrets::sops::cipher::new_data_key;
use git_secrets::sops::keys::{wrap_data_key, Identities, Recipient};
use std::io::Write;
use std::process::Stdio;

fn key_a() -> (String, String) {
    let text = std::fs::read_to_string(sops_fixtures().join("keys/age-a.txt")).unwrap();
    let public = text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_string();
    (text, public)
}

#[test]
#[cfg_attr(missing_age, ignore = "needs age")]
fn the_age_cli_opens_our_wrapped_data_key() {
    require_tool("age");
    let env = TestEnv::new();
    let (_, public) = key_a();
    let key = new_data_key();
    let armored = wrap_data_key(&key, &Recipient::parse(&public).unwrap()).unwrap();
    let out = env
        .age()
        .unwrap()
        .args(["--decrypt", "-i"])
        .arg(sops_fixtures().join("keys/age-a.txt"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(armored.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    assert_success("age --decrypt", &out);
    assert_eq!(out.stdout, key[..]);
}

#[test]
#[cfg_attr(missing_age, ignore = "needs age")]
fn we_open_a_data_key_the_age_cli_wrapped() {
    require_tool("age");
    let env = TestEnv::new();
    let (text, public) = key_a();
    let key = new_data_key();
    let out = env
        .age()
        .unwrap()
        .args(["--encrypt", "--armor", "-r", &public])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(&key[..])?;
            c.wait_with_output()
        })
        .unwrap();
    assert_success("age --encrypt", &out);
    let ids = Identities::from_age_text(&text, "fixture key A");
    let opened = ids
        .unwrap_data_key(&String::from_utf8(out.stdout).unwrap())
        .expect("our unwrap failed");
    assert_eq!(opened[..], key[..]);
}
