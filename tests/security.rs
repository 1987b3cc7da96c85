//! Issue 16 (security hardening): one regression test per item this file
//! covers, each written to fail on the code before its fix. A refusal prints
//! nothing on stdout and leaves every file as it was.

mod common;

use common::cluster::{age_a, age_b, Cluster};
use common::{
    assert_success, assert_unchanged, files_holding, marker, snapshot, wait_for_exit, TestEnv,
};

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts a refusal: exit 1 or 2, `error:` and `hint:` on stderr, nothing on stdout.
fn assert_refused(what: &str, out: &Output) {
    let err = stderr(out);
    assert!(
        matches!(out.status.code(), Some(1) | Some(2)),
        "{what}: exit {:?}\n{err}",
        out.status
    );
    assert!(err.contains("error:"), "{what}: no error line\n{err}");
    assert!(err.contains("hint:"), "{what}: no hint\n{err}");
    assert!(
        out.stdout.is_empty(),
        "{what}: stdout not empty: {}",
        stdout(out)
    );
}

// ---- 16.8: every command that holds plaintext runs without core dumps

/// A SOPS_AGE_KEY_CMD that records the core-file limit of the process that
/// started it (the tool) and prints key A: run while the tool decrypts.
fn limit_recording_key_cmd(env: &TestEnv) -> (PathBuf, PathBuf) {
    let log = env.root().join("core-limits.log");
    let key = common::key_file("age-a");
    let cmd = env.script(
        "keycmd",
        &format!(
            "grep '^Max core file size' /proc/$PPID/limits >> '{}'\ncat '{}'\n",
            log.display(),
            key.display()
        ),
    );
    (cmd, log)
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn doctor_list_and_every_decrypting_command_run_without_core_dumps() {
    let c = Cluster::new(&[("db.yaml", "password: hunter2hunter2\n")]);
    let (keycmd, log) = limit_recording_key_cmd(&c.env);
    for args in [
        &["doctor"][..],
        &["list"],
        &["show", "db"],
        &["decrypt", "secrets/secrets/db.yaml"],
        &["exec", "db", "--env", "X", "--", "true"],
    ] {
        let _ = std::fs::remove_file(&log);
        let out = c
            .cmd(args)
            .env("SOPS_AGE_KEY_CMD", &keycmd)
            .output()
            .unwrap();
        let limits = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(
            !limits.is_empty(),
            "{args:?} never ran the key command\n{}",
            stderr(&out)
        );
        for line in limits.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // "Max core file size <soft> <hard> bytes"
            assert_eq!(fields[4..6], ["0", "0"], "{args:?}: {line}");
        }
    }
}

// ---- 16.12: exec and the editor never pass the identity on

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn exec_and_the_editor_get_no_identity_variables() {
    let c = Cluster::new(&[("db.yaml", "password: hunter2hunter2\n")]);
    let key_file = common::key_file("age-a");
    let key_text = std::fs::read_to_string(&key_file).unwrap();
    let keycmd = c
        .env
        .script("keycmd", &format!("cat '{}'\n", key_file.display()));
    let with_identities = |args: &[&str]| {
        let mut cmd = c.cmd(args);
        cmd.env("SOPS_AGE_KEY", &key_text)
            .env("SOPS_AGE_KEY_FILE", &key_file)
            .env("SOPS_AGE_KEY_CMD", &keycmd)
            .env("SOPS_AGE_SSH_PRIVATE_KEY_FILE", "/nonexistent/id_ed25519");
        cmd
    };
    let names = [
        "SOPS_AGE_KEY=",
        "SOPS_AGE_KEY_FILE=",
        "SOPS_AGE_KEY_CMD=",
        "SOPS_AGE_SSH_PRIVATE_KEY_FILE=",
    ];
    for tmpfs in [false, true] {
        let mut args = vec!["exec"];
        if tmpfs {
            args.push("--tmpfs");
        }
        args.extend(["db", "--file", "F", "--", "env"]);
        let out = with_identities(&args).output().unwrap();
        assert_success("exec env", &out);
        let env = stdout(&out);
        assert!(env.contains("F=/"), "{env}");
        for n in names {
            assert!(
                !env.lines().any(|l| l.starts_with(n)),
                "exec (tmpfs: {tmpfs}) passed {n}…"
            );
        }
        assert!(
            !env.contains("AGE-SECRET-KEY-"),
            "the key itself reached CMD"
        );
    }
    let seen = c.env.root().join("editor-env");
    let editor = c
        .env
        .script("editor", &format!("env > '{}'\n", seen.display()));
    let out = with_identities(&["edit", "db"])
        .env("EDITOR", &editor)
        .output()
        .unwrap();
    assert_success("edit", &out);
    let env = std::fs::read_to_string(&seen).unwrap();
    for n in names {
        assert!(
            !env.lines().any(|l| l.starts_with(n)),
            "the editor got {n}…"
        );
    }
}

// ---- 16.9: exec --tmpfs removes its file on every catchable ending

/// The unlocked world with `secrets/secrets/kubeconfig.yaml` holding `m`, encrypted
/// for key A (installed). No Nix, no sops needed.
fn exec_world(m: &str) -> Cluster {
    let c = Cluster::builder().unlocked().build();
    c.encrypt_with_ours("kubeconfig.yaml", "yaml", &format!("token: {m}\n"));
    c
}

fn leak_roots(env: &TestEnv) -> Vec<PathBuf> {
    vec![
        std::env::temp_dir(),
        PathBuf::from("/dev/shm"),
        env.runtime(),
        env.root().to_path_buf(),
    ]
}

/// Runs `exec --tmpfs` with a sleeping CMD, sends signal `sig` to the tool
/// and checks the file is gone and the tool ends with 128+sig.
fn tool_gets_signal(sig: i32) {
    let m = marker("sig");
    let c = exec_world(&m);
    let (mut child, file) = c.spawn_sleeping_exec(&m);
    // SAFETY: plain kill(2) of our own child.
    assert_eq!(unsafe { nix::libc::kill(child.id() as i32, sig) }, 0);
    let status = wait_for_exit(&mut child, &format!("signal {sig}"));
    assert!(
        !file.exists(),
        "signal {sig}: {} left behind",
        file.display()
    );
    assert!(!file.parent().unwrap().exists(), "signal {sig}: dir left");
    assert!(
        files_holding(m.as_bytes(), &leak_roots(&c.env)).is_empty(),
        "signal {sig}: plaintext left"
    );
    assert_eq!(status.code(), Some(128 + sig), "signal {sig}: {status:?}");
}

#[test]
fn tmpfs_file_is_removed_after_every_catchable_terminating_signal() {
    use nix::libc;
    for sig in [
        libc::SIGALRM,
        libc::SIGXCPU,
        libc::SIGVTALRM,
        libc::SIGPROF,
        libc::SIGXFSZ,
        libc::SIGIO,
        libc::SIGPWR,
        libc::SIGABRT,
        // The lowest real-time signals are the C library's own: glibc keeps 32–33 (its
        // SIGRTMIN is 34), musl, which the shipped binary uses, 32–34. 35 is the first
        // one an application may catch under both.
        libc::SIGRTMIN().max(35),
        libc::SIGRTMAX(),
    ] {
        tool_gets_signal(sig);
    }
}

/// Signals 32–34 sit below the real-time signals an application may catch: glibc keeps
/// 32–33 (a handler that ignores them when another process sends them) and calls 34 its
/// SIGRTMIN (what `kill -RTMIN` sends from a glibc shell); musl, the shipped binary's C
/// library, keeps all three and refuses `sigaction` for them, so without more they end
/// the process the default way, with no cleanup. Sent to the tool, none may end it with
/// the plaintext file left behind, whichever C library it was linked with.
#[test]
fn the_c_librarys_own_signals_leave_no_plaintext_behind() {
    for sig in 32..=34 {
        let m = marker("libc-sig");
        let c = exec_world(&m);
        let (mut child, file) = c.spawn_sleeping_exec(&m);
        // SAFETY: plain kill(2) of our own child.
        assert_eq!(unsafe { nix::libc::kill(child.id() as i32, sig) }, 0);
        std::thread::sleep(Duration::from_millis(300));
        // Ignored (glibc 32–33, musl 32–34) or taken like any real-time signal (glibc
        // 34): either way the tool ends through its cleanup.
        if child.try_wait().unwrap().is_none() {
            // SAFETY: as above.
            assert_eq!(
                unsafe { nix::libc::kill(child.id() as i32, nix::libc::SIGTERM) },
                0
            );
        }
        let status = wait_for_exit(&mut child, &format!("signal {sig}"));
        assert_eq!(
            status.signal(),
            None,
            "signal {sig} ended the tool: {status:?}"
        );
        assert!(!file.exists(), "signal {sig}: {} left", file.display());
        assert!(
            files_holding(m.as_bytes(), &leak_roots(&c.env)).is_empty(),
            "signal {sig}: plaintext left"
        );
    }
}

#[test]
fn tmpfs_file_is_removed_when_the_tool_aborts() {
    let m = marker("abort");
    let c = exec_world(&m);
    let out = c
        .command(&["exec", "--tmpfs", "kubeconfig", "--file", "K", "--", "true"])
        .env("GIT_SECRETS_FAILPOINT", "exec.after-tmpfs-file:abort")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.signal(), Some(nix::libc::SIGABRT), "{out:?}");
    assert!(
        files_holding(m.as_bytes(), &leak_roots(&c.env)).is_empty(),
        "plaintext left after abort"
    );
}

// ---- 16.10: CLI errors name positions and keys, never values

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn cli_errors_never_echo_a_value() {
    let c = Cluster::new(&[("db.yaml", "password: hunter2hunter2\n")]);
    let value = "Sup3rS3cretValue";
    let cases: Vec<Vec<String>> = vec![
        // --set without '=': the whole argument may be the value
        vec!["rotate".into(), "db".into(), "--set".into(), value.into()],
        vec![
            "rotate".into(),
            "db".into(),
            "--set".into(),
            "a=b".into(),
            "--set".into(),
            format!("password{value}"),
        ],
        // the value as a stray argument after an option that took one word
        vec![
            "rotate".into(),
            "db".into(),
            "--set".into(),
            "password".into(),
            value.into(),
        ],
        vec![
            "rotate".into(),
            "db".into(),
            "--set-from".into(),
            value.into(),
        ],
        // a value given docker-style where exec wants a secret name
        vec![
            "exec".into(),
            "--env".into(),
            format!("TOKEN=p@ss!{value}"),
            "--".into(),
            "true".into(),
        ],
        // a value pasted where exec wants a variable name
        vec![
            "exec".into(),
            "db".into(),
            "--env".into(),
            format!("{value}!"),
            "--".into(),
            "true".into(),
        ],
    ];
    for args in cases {
        let before = snapshot(c.env.root());
        let out = c
            .cmd(&args.iter().map(String::as_str).collect::<Vec<_>>())
            .output()
            .unwrap();
        assert_refused(&format!("{args:?}"), &out);
        assert!(
            !stderr(&out).contains(value),
            "{args:?} echoes the value:\n{}",
            stderr(&out)
        );
        assert_unchanged(&format!("{args:?}"), &before, c.env.root());
    }
    // the position is named instead
    let out = c
        .cmd(&["rotate", "db", "--set", "a=b", "--set", value])
        .output()
        .unwrap();
    assert!(
        stderr(&out).contains("--set <PATH=VALUE>' (number 2)"),
        "{}",
        stderr(&out)
    );
}

// ---- 16.11: --set-from PATH=FILE|- keeps values out of argv

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn rotate_set_from_reads_values_from_stdin_and_files() {
    let c = Cluster::new(&[("db.yaml", "user: app\npassword: hunter2hunter2\n")]);
    let token_file = c.env.write("token.txt", "fromAFileValue\n");
    let out = c
        .cmd(&[
            "rotate",
            "db",
            "--set-from",
            "password=-",
            "--set-from",
            &format!("extra.token={}", token_file.display()),
            "--no-lock",
        ])
        .write_stdin("fromStdinValue\n")
        .output()
        .unwrap();
    assert_success("rotate --set-from", &out);
    assert!(out.stdout.is_empty());
    let plain = c.sops_decrypt("db.yaml").unwrap();
    assert_eq!(
        plain,
        "user: app\npassword: fromStdinValue\nextra:\n    token: fromAFileValue\n"
    );
    // Refusals: stdin twice, a missing file, no '='. Nothing changes.
    for args in [
        &["rotate", "db", "--set-from", "a=-", "--set-from", "b=-"][..],
        &["rotate", "db", "--set-from", "a=/nonexistent/token"],
        &["rotate", "db", "--set-from", "a="],
        &["rotate", "db", "--set-from", "a", "--set", "b=c"],
        &["rotate", "db", "--set-from", "a=-", "--edit"],
    ] {
        let before = snapshot(c.env.root());
        let out = c.cmd(args).write_stdin("x\n").output().unwrap();
        assert_refused(&format!("{args:?}"), &out);
        assert_unchanged(&format!("{args:?}"), &before, c.env.root());
    }
}

// ---- 16.4: edit never writes back over a change made while the editor was open

/// An EDITOR that says it started (creates `<root>/editor-started`), waits
/// until `<root>/editor-go` exists, optionally runs `meanwhile`, then saves
/// `new` as the plaintext.
fn slow_editor(env: &TestEnv, new: &str, meanwhile: &str) -> PathBuf {
    let root = env.root();
    env.script(
        "slow-editor",
        &format!(
            "touch '{r}/editor-started'\n\
             while [ ! -e '{r}/editor-go' ]; do sleep 0.05; done\n\
             {meanwhile}\n\
             printf '%s' '{new}' > \"$1\"\n",
            r = root.display()
        ),
    )
}

fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The age recipients named in an encrypted file.
fn recipients_in(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut out: Vec<String> = text
        .split_whitespace()
        .filter(|w| w.starts_with("age1") && w.len() > 50)
        .map(String::from)
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_rekey_while_the_editor_is_open_is_not_undone_by_the_save() {
    let c = Cluster::new(&[("db.yaml", "password: hunter2hunter2\n")]);
    let out = c
        .cmd(&["rekey", "--add-recipient", &age_b(), "--yes", "--no-lock"])
        .output()
        .unwrap();
    assert_success("rekey --add-recipient B", &out);
    let file = c.secret("db.yaml");
    assert_eq!(recipients_in(&file).len(), 2);

    let editor = slow_editor(&c.env, "password: editedValue\n", "");
    let edit = c
        .env
        .command(common::bin())
        .current_dir(&c.parent)
        .env("EDITOR", &editor)
        .args(["edit", "db"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&c.env.root().join("editor-started"));
    // B leaves the team while the editor is open.
    let rekey = c
        .env
        .command(common::bin())
        .current_dir(&c.parent)
        .env("GIT_SECRETS_LOCK_TIMEOUT", "60")
        .args([
            "rekey",
            "--remove-recipient",
            &age_b(),
            "--yes",
            "--no-lock",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    std::fs::write(c.env.root().join("editor-go"), "").unwrap();
    let edit = edit.wait_with_output().unwrap();
    let rekey = rekey.wait_with_output().unwrap();
    assert_success("edit", &edit);
    assert_success("rekey --remove-recipient B", &rekey);
    // Both changes stand: the edited value, and B is no recipient.
    assert_eq!(recipients_in(&file), vec![age_a()], "B can still decrypt");
    assert_eq!(
        c.sops_decrypt("db.yaml").unwrap(),
        "password: editedValue\n"
    );
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn edit_refuses_to_save_over_a_file_another_tool_changed_meanwhile() {
    let c = Cluster::new(&[("db.yaml", "password: hunter2hunter2\n")]);
    let file = c.secret("db.yaml");
    // What another writer (sops, git checkout) puts there while the editor is open.
    c.sops_encrypt("other.yaml", "password: theirValue\n");
    let theirs = std::fs::read(c.secret("other.yaml")).unwrap();
    std::fs::remove_file(c.secret("other.yaml")).unwrap();
    let other = c.env.write("theirs.yaml", &theirs);
    let editor = slow_editor(
        &c.env,
        "password: ourValue\n",
        &format!("cp '{}' '{}'", other.display(), file.display()),
    );
    std::fs::write(c.env.root().join("editor-go"), "").unwrap();
    let before_inner = c.inner_head();
    let out = c
        .cmd(&["edit", "db"])
        .env("EDITOR", &editor)
        .output()
        .unwrap();
    assert_refused("edit over a changed file", &out);
    assert_eq!(
        std::fs::read(&file).unwrap(),
        theirs,
        "their change was overwritten"
    );
    assert_eq!(c.inner_head(), before_inner);
    assert!(!stderr(&out).contains("ourValue"));
}

// ---- 16.5: a recipient slipped into .sops.yaml is named and confirmed

/// A `.sops.yaml` naming A (alice) and, on its own line, B (mallory).
fn sops_yaml_with_mallory() -> String {
    format!(
        "creation_rules:\n  - path_regex: secrets/.*\n    age:\n      - {} # alice\n      - {} # mallory\n",
        age_a(),
        age_b()
    )
}

/// A cluster whose `.sops.yaml` gained B in a commit; the secret is for A only.
fn cluster_with_slipped_recipient() -> Cluster {
    let c = Cluster::new(&[("db.yaml", "password: hunter2hunter2\n")]);
    std::fs::write(c.inner.join(".sops.yaml"), sops_yaml_with_mallory()).unwrap();
    c.git(&c.inner, &["commit", "-qam", "a harmless-looking change"]);
    // The parent follows (as after a pull), so only the recipients are off.
    let out = c
        .nix()
        .args(["flake", "lock", "--offline", "--update-input"])
        .arg(common::cluster::INPUT)
        .current_dir(&c.parent)
        .output()
        .unwrap();
    assert_success("nix flake lock", &out);
    c.git(&c.parent, &["commit", "-qam", "lock"]);
    assert_eq!(c.locked_rev(), c.inner_head());
    c
}

/// Asserts that `err` says `+ <age-b> (mallory)` on a line and that db.yaml is now
/// encrypted for both keys.
#[track_caller]
fn assert_mallory_added(c: &Cluster, err: &str, what: &str) {
    assert!(
        err.lines()
            .any(|l| l.contains(&format!("+ {} (mallory)", age_b()))),
        "{what}:\n{err}"
    );
    let mut both = vec![age_a(), age_b()];
    both.sort();
    assert_eq!(recipients_in(&c.secret("db.yaml")), both);
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn rekey_names_a_slipped_in_recipient_and_needs_a_yes() {
    let c = cluster_with_slipped_recipient();
    let before = snapshot(c.env.root());
    let out = c.cmd(&["rekey", "--no-lock"]).output().unwrap();
    assert_refused("rekey without --yes", &out);
    let err = stderr(&out);
    assert!(err.contains(&age_b()) && err.contains("mallory"), "{err}");
    assert_unchanged("rekey without --yes", &before, c.env.root());
    assert_eq!(recipients_in(&c.secret("db.yaml")), vec![age_a()]);

    let out = c.cmd(&["rekey", "--yes", "--no-lock"]).output().unwrap();
    assert_success("rekey --yes", &out);
    assert!(out.stdout.is_empty());
    assert_mallory_added(&c, &stderr(&out), "the summary is printed with --yes too");
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn doctor_fix_names_a_slipped_in_recipient_before_rekeying() {
    let c = cluster_with_slipped_recipient();
    // Without --yes and without a terminal the rekey is skipped, naming them.
    let before = snapshot(c.env.root());
    let out = c.cmd(&["doctor", "--fix"]).output().unwrap();
    let err = stderr(&out);
    assert!(err.contains(&age_b()) && err.contains("mallory"), "{err}");
    assert!(err.contains("skipped"), "{err}");
    assert_unchanged("doctor --fix without --yes", &before, c.env.root());

    let out = c.cmd(&["doctor", "--fix", "--yes"]).output().unwrap();
    assert_mallory_added(
        &c,
        &stderr(&out),
        "doctor --fix --yes does not say who gets access",
    );
}

// ---- 16.13: the example publishes only what it needs, and never over the secrets

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn example_sops_yaml_holds_only_the_rules_and_the_example_key() {
    let c = Cluster::new(&[("db.yaml", "password: hunter2hunter2\n")]);
    let private = format!(
        "# Company secrets. Ops contact: ops-oncall@corp.example\n\
         creation_rules:\n  \
           # production, shared with the AWS account\n  \
           - path_regex: secrets/.*\n    \
             encrypted_regex: ^(password|token)$\n    \
             kms: arn:aws:kms:us-east-1:123456789012:key/0a1b2c3d-private\n    \
             pgp: FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4\n    \
             hc_vault_transit_uri: https://vault.corp.example:8200/v1/sops/keys/prod\n    \
             age: {} # alice's laptop\n",
        age_a()
    );
    std::fs::write(c.inner.join(".sops.yaml"), &private).unwrap();
    c.git(&c.inner, &["commit", "-qam", "rules"]);
    let out = c.cmd(&["example"]).output().unwrap();
    assert_success("example", &out);
    let public = std::fs::read_to_string(c.parent.join("secrets-example/.sops.yaml")).unwrap();
    for private_bit in [
        "arn:aws",
        "123456789012",
        "FBC7B9E2",
        "vault.corp.example",
        "ops-oncall",
        "alice",
        "AWS account",
        &age_a(),
    ] {
        assert!(
            !public.contains(private_bit),
            "{private_bit} published:\n{public}"
        );
    }
    // What the example needs stays: which files, which values, its own key.
    assert!(public.contains("secrets/.*"), "{public}");
    assert!(public.contains("^(password|token)$"), "{public}");
    let key = std::fs::read_to_string(c.parent.join("secrets-example/key.txt")).unwrap();
    let example_recipient = key
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .map(str::to_string)
        .unwrap_or_else(|| {
            // the header may not carry it: derive it with age-keygen -y
            let out = c
                .env
                .command("age-keygen")
                .arg("-y")
                .arg(c.parent.join("secrets-example/key.txt"))
                .output()
                .unwrap();
            String::from_utf8(out.stdout).unwrap().trim().to_string()
        });
    assert!(public.contains(&example_recipient), "{public}");
    // sops itself reads it: a new file in the example gets the example key.
    let out = c
        .env
        .sops()
        .unwrap()
        .current_dir(c.parent.join("secrets-example"))
        .args([
            "encrypt",
            "--filename-override",
            "secrets/new.yaml",
            "/dev/stdin",
        ])
        .stdin(std::fs::File::open(c.env.write("new.yaml", "password: x\n")).unwrap())
        .output()
        .unwrap();
    assert_success("sops encrypt with the example's .sops.yaml", &out);
    assert!(stdout(&out).contains(&example_recipient));
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn example_refuses_a_dir_that_is_inside_or_holds_the_secrets() {
    let c = Cluster::new(&[("db.yaml", "password: hunter2hunter2\n")]);
    for dir in ["secrets", "secrets/secrets", "secrets/x", "."] {
        c.git(&c.parent, &["config", "secrets.example", dir]);
        let before = snapshot(c.env.root());
        for args in [&["example"][..], &["example", "--check"]] {
            let out = c.cmd(args).output().unwrap();
            assert_refused(&format!("secrets.example={dir} {args:?}"), &out);
            assert_unchanged(&format!("secrets.example={dir}"), &before, c.env.root());
        }
    }
    assert_eq!(
        c.sops_decrypt("db.yaml").unwrap(),
        "password: hunter2hunter2\n"
    );
}

// ---- 16.14: names in hints are shell words; the dir in .gitignore is escaped

/// A parent flake repo (no inputs) with a committed flake.nix.
fn parent_repo(env: &TestEnv) -> PathBuf {
    env.parent_repo("{\n  outputs = { self, ... }: { };\n}\n")
}

/// A parent repo where a pull request registered the secrets dir as a submodule with
/// the crafted `name` (staged, not committed).
fn parent_with_submodule(env: &TestEnv, name: &str) -> PathBuf {
    let p = parent_repo(env);
    let inner = p.join("secrets");
    std::fs::create_dir_all(&inner).unwrap();
    env.git(&inner, ["init", "-q"]);
    env.git(&inner, ["commit", "-q", "--allow-empty", "-m", "x"]);
    env.git(
        &p,
        [
            "config",
            "-f",
            ".gitmodules",
            &format!("submodule.{name}.path"),
            "secrets",
        ],
    );
    env.git(&p, ["add", ".gitmodules", "secrets"]);
    p
}

#[test]
fn a_hostile_submodule_name_in_a_hint_stays_one_shell_word() {
    let env = TestEnv::new();
    let name = "x;touch PWNED;#";
    let p = parent_with_submodule(&env, name);
    env.git(&p, ["commit", "-qm", "submodule"]);
    let before = snapshot(env.root());
    let out = env
        .cmd(["init", "--no-lock"])
        .current_dir(&p)
        .output()
        .unwrap();
    assert_refused("init over a submodule", &out);
    assert_unchanged("init over a submodule", &before, env.root());
    let err = stderr(&out);
    let hint = err
        .lines()
        .find_map(|l| l.strip_prefix("hint: keep the files and unregister it: "))
        .unwrap_or_else(|| panic!("no unregister hint:\n{err}"));
    // The user copies the hint into a shell.
    let run = env
        .command("sh")
        .arg("-c")
        .arg(hint)
        .current_dir(&p)
        .output()
        .unwrap();
    assert!(
        !p.join("PWNED").exists(),
        "the hint ran a command from the submodule name: {hint}"
    );
    // It did what it says (the last step, in .git/config, has nothing to remove here).
    let left = std::fs::read_to_string(p.join(".gitmodules")).unwrap_or_default();
    assert!(!left.contains("PWNED"), "{left}\n{}", stderr(&run));

    // doctor's hint for the same thing quotes the name too.
    let env = TestEnv::new();
    let p = parent_with_submodule(&env, name);
    let out = env.cmd(["doctor"]).current_dir(&p).output().unwrap();
    let report = stdout(&out);
    assert!(
        report.contains("'submodule.x;touch PWNED;#'"),
        "doctor's hint does not quote the name:\n{report}"
    );
}

/// `git secrets --dir DIR init --new` in the parent `p`, which must succeed.
fn init_with_dir(env: &TestEnv, p: &Path, dir: &str) {
    let out = env
        .cmd(["--dir", dir, "init", "--new", "--yes", "--no-lock"])
        .current_dir(p)
        .output()
        .unwrap();
    assert_success(&format!("init --dir {dir}"), &out);
}

/// A secrets dir named with a space and a `'` is one shell word in doctor's hints, once:
/// inner.upstream's `git -C` quoted it twice (the quotes became part of the name), and
/// staged.dir's `.gitignore` line put the quoted name inside quotes again. Pasted, the
/// gitignore hint ignores exactly that dir.
#[test]
fn a_secrets_dir_with_a_space_and_a_quote_is_one_word_in_doctor_hints() {
    let dir = "my secret's";
    let env = TestEnv::new();
    let p = parent_repo(&env);
    init_with_dir(&env, &p, dir);
    let word = r"'my secret'\''s'";
    let report = stdout(
        &env.cmd(["--dir", dir, "doctor"])
            .current_dir(&p)
            .output()
            .unwrap(),
    );
    assert!(
        report.contains(&format!("git -C {word} remote add origin <URL>")),
        "{report}"
    );
    // stage it in the parent (a gitlink), and drop the ignore line, as a mistaken
    // `git add` would
    std::fs::write(p.join(".gitignore"), "").unwrap();
    env.git(&p, ["add", "-f", "--", dir]);
    let out = env
        .cmd(["--dir", dir, "doctor", "--staged"])
        .current_dir(&p)
        .output()
        .unwrap();
    let report = stdout(&out);
    let hint = report
        .lines()
        .find_map(|l| l.split("and ignore it: ").nth(1))
        .unwrap_or_else(|| panic!("no gitignore hint:\n{report}"));
    assert_eq!(hint, r"echo '/my secret'\''s/' >> .gitignore");
    let run = env
        .command("sh")
        .args(["-c", hint])
        .current_dir(&p)
        .output()
        .unwrap();
    assert_success("the pasted hint", &run);
    let check = env
        .git_cmd(
            &p,
            ["check-ignore", "-q", "--no-index", &format!("{dir}/x")],
        )
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        std::fs::read_to_string(p.join(".gitignore")).unwrap()
    );
}

#[test]
fn a_dir_with_glob_characters_is_escaped_in_gitignore() {
    for dir in ["sec[1]", "s*"] {
        let env = TestEnv::new();
        let p = parent_repo(&env);
        init_with_dir(&env, &p, dir);
        let check = env
            .git_cmd(&p, ["check-ignore", "-q", &format!("{dir}/flake.nix")])
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{dir}/ is not ignored by the parent:\n{}",
            std::fs::read_to_string(p.join(".gitignore")).unwrap()
        );
        // ... and nothing else is: `sec1` or `src` would be hidden by a glob.
        for other in ["sec1/x", "src/x"] {
            let check = env
                .git_cmd(&p, ["check-ignore", "-q", other])
                .output()
                .unwrap();
            assert!(
                !check.status.success(),
                "{other} is ignored by the pattern for {dir}:\n{}",
                std::fs::read_to_string(p.join(".gitignore")).unwrap()
            );
        }
    }
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn add_names_a_recipient_no_secret_had_before_encrypting_for_it() {
    let c = cluster_with_slipped_recipient();
    let before = snapshot(c.env.root());
    let out = c
        .cmd(&["add", "token", "--from", "-", "--no-lock"])
        .write_stdin("token: newSecretValue\n")
        .output()
        .unwrap();
    assert_refused("add for a new recipient without --yes", &out);
    let err = stderr(&out);
    assert!(err.contains(&age_b()) && err.contains("mallory"), "{err}");
    assert!(!err.contains("newSecretValue"));
    assert_unchanged("add without --yes", &before, c.env.root());

    let out = c
        .cmd(&["add", "token", "--from", "-", "--no-lock", "--yes"])
        .write_stdin("token: newSecretValue\n")
        .output()
        .unwrap();
    assert_success("add --yes", &out);
    assert!(
        stderr(&out)
            .lines()
            .any(|l| l.contains(&format!("+ {} (mallory)", age_b()))),
        "{}",
        stderr(&out)
    );
}

/// An age *secret* key pasted where a recipient goes (`--add-recipient`, `--age`,
/// `SOPS_AGE_RECIPIENTS`, `.sops.yaml`) is refused without showing any of it: the
/// error used to quote its first 24 characters, 9 of them key material.
#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_secret_key_given_as_a_recipient_is_refused_without_a_character_of_it() {
    let c = Cluster::new(&[("db.yaml", "password: hunter2hunter2\n")]);
    let key = common::key_text("age-b")
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .unwrap()
        .to_string();
    let body = key.strip_prefix("AGE-SECRET-KEY-1").unwrap();
    let plain = c.env.write("plain.yaml", "a: 1\n");
    let plain = plain.to_str().unwrap();
    let lower = key.to_lowercase();
    type Case<'a> = (Vec<&'a str>, Option<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (vec!["rekey", "--add-recipient", &key], None),
        (vec!["rekey", "--remove-recipient", &lower], None),
        (vec!["encrypt", "--age", &key, plain], None),
        (
            vec!["encrypt", plain],
            Some(("SOPS_AGE_RECIPIENTS", key.as_str())),
        ),
    ];
    for (args, env) in cases {
        let before = snapshot(c.env.root());
        let mut cmd = c.cmd(&args);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert_refused(&format!("{args:?}"), &out);
        let err = stderr(&out);
        for shown in [&body[..5], &body[..5].to_lowercase()] {
            assert!(!err.contains(shown), "{args:?} shows the key:\n{err}");
        }
        assert!(err.contains("secret key"), "{args:?}:\n{err}");
        assert_unchanged(&format!("{args:?}"), &before, c.env.root());
    }
}
