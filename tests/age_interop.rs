//! The data key wrapping interoperates with the `age` CLI both ways: the
//! CLI opens what we wrote, and we open what the CLI wrote.

mod common;

use common::{assert_success, key_file, key_text, public_key, require_tool, TestEnv};
use git_secrets::sops::cipher::new_data_key;
use git_secrets::sops::keys::{wrap_data_key, Identities, Recipient};
use std::ffi::OsString;
use std::io::Write;
use std::process::{Output, Stdio};

/// Runs the real `age` with `args`, `input` on its stdin; fails the test unless it
/// succeeds.
fn age(env: &TestEnv, args: &[OsString], input: &[u8]) -> Output {
    let out = env
        .age()
        .unwrap()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(input)?;
            c.wait_with_output()
        })
        .unwrap();
    assert_success(&format!("age {args:?}"), &out);
    out
}

#[test]
#[cfg_attr(missing_age, ignore = "needs age")]
fn the_age_cli_opens_our_wrapped_data_key() {
    require_tool("age");
    let env = TestEnv::new();
    let public = public_key("age-a");
    let key = new_data_key();
    let armored = wrap_data_key(&key, &Recipient::parse(&public).unwrap()).unwrap();
    let out = age(
        &env,
        &["--decrypt".into(), "-i".into(), key_file("age-a").into()],
        armored.as_bytes(),
    );
    assert_eq!(out.stdout, key[..]);
}

#[test]
#[cfg_attr(missing_age, ignore = "needs age")]
fn we_open_a_data_key_the_age_cli_wrapped() {
    require_tool("age");
    let env = TestEnv::new();
    let (text, public) = (key_text("age-a"), public_key("age-a"));
    let key = new_data_key();
    let out = age(
        &env,
        &[
            "--encrypt".into(),
            "--armor".into(),
            "-r".into(),
            public.into(),
        ],
        &key[..],
    );
    let ids = Identities::from_age_text(&text, "fixture key A");
    let opened = ids
        .unwrap_data_key(&String::from_utf8(out.stdout).unwrap())
        .expect("our unwrap failed");
    assert_eq!(opened[..], key[..]);
}
