//! `git secrets exec`: CMD gets the secret as a memfd, a tmpfs file or an
//! environment variable; its exit status comes back; and no plaintext is
//! left in a file anywhere afterwards — also when CMD or the tool is killed.

mod common;

use common::cluster::{file_for_sh, Cluster};
use common::{
    assert_success, files_holding, marker, require_tool, wait_for_exit, writes_outside_memory,
};
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

/// The format secrets are stored in (their extension). The plaintexts below
/// are written as JSON, which every YAML parser reads as well, so switching
/// this to "yaml" (the format of real kubeconfigs) changes nothing else.
/// JSON for now: exec itself does not care, and YAML support lands later.
const EXT: &str = "yaml";

/// The unlocked world (no Nix, no sops): secrets are encrypted by our own binary for
/// the fixture key `age-a`, which the scrubbed environment can use.
fn world() -> Cluster {
    Cluster::builder().unlocked().build()
}

/// The world with a kubeconfig whose client key holds a new marker tagged `tag`;
/// returns the world, the marker and the secret's file.
fn world_with_kubeconfig(tag: &str) -> (Cluster, String, PathBuf) {
    let w = world();
    let m = marker(tag);
    let path = w.add("kubeconfig", &kubeconfig(&m));
    (w, m, path)
}

/// What exec's tests do in the world.
trait ExecWorld {
    /// Encrypts `plaintext` (JSON) as secret `name` (never in a file of the test).
    fn add(&self, name: &str, plaintext: &str) -> PathBuf;
    /// `git-secrets <args>` in the parent repo, stdin closed.
    fn run(&self, args: &[&str]) -> Output;
    /// Where plaintext could be left: the temp dir, /dev/shm, the runtime dir and the
    /// repo (most are below the temp dir, listed anyway).
    fn leak_roots(&self) -> Vec<PathBuf>;
    /// Panics naming every file that holds `marker`.
    fn assert_no_file_holds(&self, marker: &str);
}

impl ExecWorld for Cluster {
    fn add(&self, name: &str, plaintext: &str) -> PathBuf {
        self.encrypt_with_ours(&format!("{name}.{EXT}"), "json", plaintext)
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::null());
        cmd.output().unwrap()
    }

    fn leak_roots(&self) -> Vec<PathBuf> {
        vec![
            std::env::temp_dir(),
            PathBuf::from("/dev/shm"),
            self.env.runtime(),
            self.parent.clone(),
        ]
    }

    fn assert_no_file_holds(&self, marker: &str) {
        let found = files_holding(marker.as_bytes(), &self.leak_roots());
        assert!(found.is_empty(), "plaintext left in files: {found:?}");
    }
}

/// `exec tok MODE -- CMD…` for each way to hand the secret `tok` over: a file (memfd),
/// a variable, a tmpfs file.
fn tok_in_every_mode<'a>(cmd: &[&'a str]) -> Vec<Vec<&'a str>> {
    let modes: [&[&str]; 3] = [
        &["--file", "F"],
        &["--env", "F"],
        &["--tmpfs", "--file", "F"],
    ];
    modes
        .iter()
        .map(|mode| [&["exec", "tok"][..], mode, &["--"], cmd].concat())
        .collect()
}

/// A kubeconfig-shaped secret whose client key holds `marker`.
fn kubeconfig(marker: &str) -> String {
    format!(
        r#"{{"apiVersion": "v1", "kind": "Config", "current-context": "prod",
            "clusters": [{{"name": "prod", "cluster": {{"server": "https://prod.example.invalid:6443"}}}}],
            "users": [{{"name": "admin", "user": {{"client-key-data": "{marker}"}}}}]}}"#
    )
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// What `git-secrets decrypt` prints for a secret (the reference value).
fn decrypted(w: &Cluster, path: &Path) -> String {
    let out = w.run(&["decrypt", path.to_str().unwrap()]);
    assert_success("decrypt", &out);
    stdout(&out)
}

#[test]
fn the_leak_scan_finds_a_marker_in_a_file() {
    // The scan below is what proves "nothing left": it must be able to see one.
    let w = world();
    let m = marker("scan");
    w.env.write("work/cluster/leaked.txt", format!("x{m}y"));
    assert_eq!(
        files_holding(m.as_bytes(), &w.leak_roots()),
        vec![w.parent.join("leaked.txt")]
    );
}

#[test]
fn kubectl_style_file_is_a_memfd_that_cmd_reads() {
    let (w, m, path) = world_with_kubeconfig("memfd");
    let out = w.run(&file_for_sh(
        &[],
        "KUBECONFIG",
        r#"cat "$KUBECONFIG"; printf '%s\n' "$KUBECONFIG""#,
    ));
    assert_success("exec", &out);
    let text = stdout(&out);
    let plain = decrypted(&w, &path);
    assert!(plain.contains(&m), "{plain}");
    assert!(text.starts_with(&plain), "{text}");
    let var = text[plain.len()..].trim();
    assert!(var.starts_with("/dev/fd/"), "KUBECONFIG={var}");
    assert_eq!(stderr(&out), "");
    w.assert_no_file_holds(&m);
}

#[test]
fn memfd_is_sealed_and_the_only_fd_cmd_inherits_from_us() {
    let (w, m, _) = world_with_kubeconfig("seal");
    // `ls -l /proc/$$/fd` would list the shell's own fds too; readlink of each
    // shows what they point at. Then try to change the memfd.
    let out = w.run(&file_for_sh(
        &[],
        "KUBECONFIG",
        r#"for f in /proc/$$/fd/*; do echo "$f -> $(readlink "$f")"; done
           if (printf x >> "$KUBECONFIG") 2>/dev/null; then echo WRITABLE; fi
           if (: > "$KUBECONFIG") 2>/dev/null; then echo TRUNCATABLE; fi
           cat "$KUBECONFIG""#,
    ));
    assert_success("exec", &out);
    let text = stdout(&out);
    let links: Vec<&str> = text.lines().filter(|l| l.contains(" -> ")).collect();
    let memfds: Vec<&&str> = links.iter().filter(|l| l.contains("memfd:")).collect();
    assert_eq!(memfds.len(), 1, "{links:#?}");
    let fd = text.lines().find(|l| l.contains("memfd:")).unwrap();
    assert!(
        fd.contains("(deleted)"),
        "a memfd has no name on disk: {fd}"
    );
    for l in &links {
        assert!(
            !l.contains("secrets/") && !l.contains("keys.txt") && !l.contains(".git"),
            "CMD inherited one of our files: {l}"
        );
    }
    assert!(!text.contains("WRITABLE"), "{text}");
    assert!(!text.contains("TRUNCATABLE"), "{text}");
    assert!(
        text.contains(&m),
        "the memfd still holds the plaintext: {text}"
    );
}

#[test]
fn tmpfs_file_is_private_on_tmpfs_and_removed_after() {
    let (w, m, path) = world_with_kubeconfig("tmpfs");
    let out = w.run(&file_for_sh(
        &["--tmpfs"],
        "KUBECONFIG",
        r#"cat "$KUBECONFIG"; printf '%s\n' "$KUBECONFIG"
           stat -c '%a' "$KUBECONFIG" "$(dirname "$KUBECONFIG")""#,
    ));
    assert_success("exec --tmpfs", &out);
    let text = stdout(&out);
    let plain = decrypted(&w, &path);
    assert!(text.starts_with(&plain), "{text}");
    let rest: Vec<&str> = text[plain.len()..].lines().collect();
    // XDG_RUNTIME_DIR of the test env is not tmpfs: /dev/shm is used instead.
    assert!(rest[0].starts_with("/dev/shm/git-secrets."), "{rest:?}");
    assert_eq!(&rest[1..], ["600", "700"]);
    assert!(!Path::new(rest[0]).exists());
    assert!(!Path::new(rest[0]).parent().unwrap().exists());
    w.assert_no_file_holds(&m);
}

#[test]
fn tmpfs_file_goes_to_xdg_runtime_dir_when_that_is_tmpfs() {
    let (w, _, _) = world_with_kubeconfig("xdg");
    let runtime = tempfile::Builder::new()
        .prefix("git-secrets-test-runtime.")
        .tempdir_in("/dev/shm")
        .unwrap();
    let out = w
        .command(&file_for_sh(&["--tmpfs"], "K", r#"printf '%s\n' "$K""#))
        .env("XDG_RUNTIME_DIR", runtime.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_success("exec --tmpfs", &out);
    assert!(
        stdout(&out).starts_with(&format!("{}/git-secrets.", runtime.path().display())),
        "{}",
        stdout(&out)
    );
    assert_eq!(std::fs::read_dir(runtime.path()).unwrap().count(), 0);
}

#[test]
fn tmpfs_file_is_removed_when_cmd_is_killed_by_sigterm() {
    let (w, m, _) = world_with_kubeconfig("cmdterm");
    let out = w.run(&file_for_sh(
        &["--tmpfs"],
        "KUBECONFIG",
        r#"printf '%s\n' "$KUBECONFIG"; kill -TERM $$"#,
    ));
    assert_eq!(out.status.code(), Some(128 + 15), "{}", stderr(&out));
    let file = stdout(&out);
    assert!(file.starts_with("/dev/shm/"), "{file}");
    assert!(!Path::new(file.trim()).exists());
    w.assert_no_file_holds(&m);
}

/// Starts `exec --tmpfs` with a CMD that prints its file and sleeps, checks
/// the file is there, sends `sig` to the tool (not to CMD), and returns the
/// tool's exit status once the file is gone.
fn signal_the_tool(sig: nix::sys::signal::Signal) {
    let (w, m, _) = world_with_kubeconfig("toolsig");
    let (mut child, file) = w.spawn_sleeping_exec(&m);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), sig).unwrap();
    let status = wait_for_exit(&mut child, sig.as_ref());
    // CMD got the signal forwarded and died of it; the tool reports 128+n.
    assert_eq!(status.code(), Some(128 + sig as i32), "{status:?}");
    assert!(!file.exists(), "{} left behind", file.display());
    assert!(!file.parent().unwrap().exists());
    w.assert_no_file_holds(&m);
}

#[test]
fn tmpfs_file_is_removed_when_the_tool_gets_sigint() {
    signal_the_tool(nix::sys::signal::Signal::SIGINT);
}

#[test]
fn tmpfs_file_is_removed_when_the_tool_gets_sigterm() {
    signal_the_tool(nix::sys::signal::Signal::SIGTERM);
}

#[test]
#[cfg_attr(missing_yq, ignore = "needs yq")]
fn field_goes_into_env_like_yq_r() {
    let w = world();
    let m = marker("token");
    let path = w.add(
        "hcloud-token",
        &format!(r#"{{"hcloud_token": "{m}", "other": "x"}}"#),
    );
    for args in [
        &[
            "hcloud-token",
            "--field",
            "hcloud_token",
            "--env",
            "HCLOUD_TOKEN",
        ][..],
        &[
            "hcloud-token",
            "--extract",
            r#"["hcloud_token"]"#,
            "--env",
            "HCLOUD_TOKEN",
        ],
        &["--env", "HCLOUD_TOKEN=hcloud-token:hcloud_token"],
    ] {
        let mut argv = vec!["exec"];
        argv.extend_from_slice(args);
        argv.extend_from_slice(&["--", "printenv", "HCLOUD_TOKEN"]);
        let out = w.run(&argv);
        assert_success(&format!("{argv:?}"), &out);
        assert_eq!(stdout(&out), format!("{m}\n"), "{argv:?}");
    }
    // The seed's wrapper: sops decrypt | yq -r .hcloud_token
    require_tool("yq");
    {
        let plain = decrypted(&w, &path);
        let mut yq = w
            .env
            .command("yq")
            .args(["-r", ".hcloud_token"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        yq.stdin
            .take()
            .unwrap()
            .write_all(plain.as_bytes())
            .unwrap();
        let out = yq.wait_with_output().unwrap();
        assert_success("yq", &out);
        assert_eq!(stdout(&out), format!("{m}\n"));
    }
    w.assert_no_file_holds(&m);
}

#[test]
fn several_secrets_in_one_command_and_a_path_instead_of_a_name() {
    let w = world();
    let m1 = marker("kc");
    let m2 = marker("tok");
    let kc = w.add("kubeconfig", &kubeconfig(&m1));
    let tok = w.add("hcloud-token", &format!(r#"{{"hcloud_token": "{m2}"}}"#));
    let out = w.run(&[
        "exec",
        "--file",
        "KUBECONFIG=kubeconfig",
        "--env",
        "HCLOUD_TOKEN=hcloud-token:hcloud_token",
        "--",
        "sh",
        "-c",
        r#"cat "$KUBECONFIG"; echo "token=$HCLOUD_TOKEN""#,
    ]);
    assert_success("exec", &out);
    assert!(stdout(&out).contains(&m1));
    assert!(stdout(&out).ends_with(&format!("token={m2}\n")));

    // Any sops file by path, e.g. the /nix/store copy a devshell wrapper
    // uses, from a directory that is no repo at all.
    let store = w.env.root().join("store/abc-source/secrets");
    std::fs::create_dir_all(&store).unwrap();
    let copy = store.join(tok.file_name().unwrap());
    std::fs::copy(&tok, &copy).unwrap();
    let mut cmd = w.command(&[
        "exec",
        copy.to_str().unwrap(),
        "--field",
        "hcloud_token",
        "--env",
        "T",
        "--",
        "printenv",
        "T",
    ]);
    let out = cmd
        .current_dir(w.env.root())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_success("exec PATH", &out);
    assert_eq!(stdout(&out), format!("{m2}\n"));
    // The whole file into a variable is the file as decrypted.
    let out = w.run(&["exec", "kubeconfig", "--env", "KC", "--", "printenv", "KC"]);
    assert_success("exec --env whole", &out);
    assert_eq!(stdout(&out), format!("{}\n", decrypted(&w, &kc)));
    w.assert_no_file_holds(&m1);
    w.assert_no_file_holds(&m2);
}

#[test]
fn exit_status_of_cmd_is_passed_through() {
    let w = world();
    w.add("tok", r#"{"t": "v"}"#);
    for argv in tok_in_every_mode(&["sh", "-c", "exit 7"]) {
        let out = w.run(&argv);
        assert_eq!(out.status.code(), Some(7), "{argv:?}: {}", stderr(&out));
    }
    // In place (memfd), CMD is the process: its death by a signal is ours.
    let killed = tok_in_every_mode(&["sh", "-c", "kill -KILL $$"]);
    let out = w.run(&killed[0]);
    assert_eq!(out.status.signal(), Some(9), "{:?}", out.status);
    let out = w.run(&killed[2]);
    assert_eq!(out.status.code(), Some(128 + 9), "{:?}", out.status);
}

#[test]
fn missing_cmd_exits_127_with_error_and_hint() {
    let w = world();
    w.add("tok", r#"{"t": "v"}"#);
    for argv in tok_in_every_mode(&["no-such-command-git-secrets", "arg"]) {
        let out = w.run(&argv);
        assert_eq!(out.status.code(), Some(127), "{argv:?}");
        assert_eq!(stdout(&out), "");
        let err = stderr(&out);
        assert!(
            err.starts_with(
                "error: cannot run 'no-such-command-git-secrets': command not found\nhint: "
            ),
            "{err}"
        );
    }
}

#[test]
fn a_map_field_needs_format_for_env() {
    let w = world();
    let m = marker("map");
    w.add(
        "db",
        &format!(r#"{{"db": {{"user": "u", "password": "{m}"}}}}"#),
    );
    let out = w.run(&["exec", "db", "--field", "db", "--env", "DB", "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.starts_with("error: db[\"db\"] is a map"), "{err}");
    assert!(
        err.contains("hint: add --format yaml or --format json"),
        "{err}"
    );

    let out = w.run(&[
        "exec", "db", "--field", "db", "--format", "json", "--env", "DB", "--", "printenv", "DB",
    ]);
    assert_success("exec --format json", &out);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["password"], m.as_str());
    // As a file a map needs no --format: it is written in the secret's format.
    let out = w.run(&[
        "exec",
        "db",
        "--field",
        "db",
        "--file",
        "DB",
        "--",
        "sh",
        "-c",
        r#"cat "$DB""#,
    ]);
    assert_success("exec --file map", &out);
    assert!(stdout(&out).contains(&m));
}

#[test]
fn bad_arguments_fail_before_cmd_runs() {
    let w = world();
    w.add("tok", r#"{"t": "v"}"#);
    let marker_file = w.env.root().join("ran");
    let touch = format!("touch {}", marker_file.display());
    for argv in [
        &["exec", "tok", "--", "sh", "-c", &touch][..],
        &["exec", "--file", "F", "--", "sh", "-c", &touch],
        &["exec", "tok", "--file", "1F", "--", "sh", "-c", &touch],
        &[
            "exec", "tok", "--field", "nope", "--env", "F", "--", "sh", "-c", &touch,
        ],
    ] {
        let out = w.run(argv);
        assert!(!out.status.success(), "{argv:?}");
        assert!(stderr(&out).contains("error"), "{argv:?}: {}", stderr(&out));
        assert!(!marker_file.exists(), "{argv:?} ran CMD");
    }
}

#[test]
fn the_strace_check_sees_a_write_to_disk() {
    let log = "12 openat(AT_FDCWD, \"/dev/null\", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3\n\
               12 openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY|O_CLOEXEC) = 3\n\
               13 openat(AT_FDCWD, \"/home/u/kubeconfig\", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3\n\
               13 openat(5, \"k\", O_RDWR) = 3\n\
               14 creat(\"/dev/shm/x\", 0600) = 3\n";
    assert_eq!(
        writes_outside_memory(log, &["/dev/"]),
        vec![
            "13 openat(AT_FDCWD, \"/home/u/kubeconfig\", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3",
            "13 openat(5, \"k\", O_RDWR) = 3"
        ]
    );
}

#[test]
#[cfg_attr(missing_strace, ignore = "needs strace")]
fn no_mode_opens_a_file_for_writing_outside_tmpfs_memfd_or_dev() {
    require_tool("strace");
    let (w, m, _) = world_with_kubeconfig("strace");
    w.add("hcloud-token", &format!(r#"{{"hcloud_token": "{m}"}}"#));
    let log = w.env.root().join("strace.log");
    let modes: [&[&str]; 4] = [
        &["kubeconfig", "--file", "KUBECONFIG"],
        &["--tmpfs", "kubeconfig", "--file", "KUBECONFIG"],
        &[
            "hcloud-token",
            "--field",
            "hcloud_token",
            "--env",
            "KUBECONFIG",
        ],
        &[
            "--tmpfs",
            "--file",
            "KUBECONFIG=kubeconfig",
            "--env",
            "T=hcloud-token:hcloud_token",
        ],
    ];
    for mode in modes {
        let mut cmd = w.env.command("strace");
        cmd.current_dir(&w.parent)
            .args(["-f", "-qq", "-e", "trace=openat,open,creat", "-o"])
            .arg(&log)
            .arg(common::bin())
            .arg("exec")
            .args(mode)
            // In env mode the variable holds the value, not a path.
            .args([
                "--",
                "sh",
                "-c",
                r#"if [ -f "$KUBECONFIG" ]; then cat "$KUBECONFIG" > /dev/null; fi"#,
            ])
            .stdin(Stdio::null());
        let out = cmd.output().unwrap();
        assert_success(&format!("strace exec {mode:?}"), &out);
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(
            text.contains("openat(") || text.contains("open("),
            "strace logged no opens: {text}"
        );
        let bad = writes_outside_memory(&text, &["/dev/"]);
        assert!(bad.is_empty(), "{mode:?} wrote outside memory: {bad:#?}");
        if mode.contains(&"--tmpfs") {
            assert!(
                text.contains("\"/dev/shm/git-secrets."),
                "the tmpfs file was not created where expected: {text}"
            );
        }
    }
    std::fs::remove_file(&log).unwrap();
    w.assert_no_file_holds(&m);
}

/// The CMD for the terminal test: blocks SIGINT and reports the `si_code` of
/// every SIGINT it gets (128 = SI_KERNEL, from the terminal; 0 = SI_USER,
/// from `kill`, which is what a forwarding parent sends).
const COUNT_SIGINTS: &str = r#"
import signal
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
print("READY", flush=True)
seen = []
while True:
    info = signal.sigtimedwait({signal.SIGINT}, 1.5)
    if info is None:
        break
    seen.append(info.si_code)
print("SEEN", seen, flush=True)
"#;

#[test]
#[cfg_attr(missing_python3, ignore = "needs python3")]
fn a_terminal_ctrl_c_reaches_cmd_once_with_tmpfs() {
    use std::os::unix::process::CommandExt;
    require_tool("python3");
    let w = world();
    w.add("kubeconfig", &kubeconfig(&marker("pty")));
    let pty = nix::pty::openpty(None, None).unwrap();
    let mut cmd = w.command(&[
        "exec",
        "--tmpfs",
        "kubeconfig",
        "--file",
        "F",
        "--",
        "python3",
        "-c",
        COUNT_SIGINTS,
    ]);
    cmd.stdin(Stdio::from(pty.slave.try_clone().unwrap()))
        .stdout(Stdio::from(pty.slave.try_clone().unwrap()))
        .stderr(Stdio::from(pty.slave));
    // SAFETY: setsid and ioctl are async-signal-safe; nothing is allocated.
    unsafe {
        cmd.pre_exec(|| {
            // A new session whose controlling terminal is the pty, so its
            // ^C goes to the foreground process group: the tool and CMD.
            nix::unistd::setsid()?;
            if nix::libc::ioctl(0, nix::libc::TIOCSCTTY as _, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    drop(cmd); // closes our copies of the slave side
    let mut master = std::fs::File::from(pty.master);
    let mut output = Vec::new();
    let mut buf = [0u8; 512];
    let mut read_until = |master: &mut std::fs::File, output: &mut Vec<u8>, what: &str| {
        use std::io::Read;
        while !String::from_utf8_lossy(output).contains(what) {
            match master.read(&mut buf) {
                Ok(0) | Err(_) => break, // EIO: every slave fd is closed
                Ok(n) => output.extend_from_slice(&buf[..n]),
            }
        }
    };
    read_until(&mut master, &mut output, "READY");
    master.write_all(b"\x03").unwrap();
    read_until(&mut master, &mut output, "]");
    let status = child.wait().unwrap();
    let text = String::from_utf8_lossy(&output).into_owned();
    assert!(text.contains("SEEN [128]"), "{text}");
    assert_eq!(status.code(), Some(0), "{text}");
}

/// Issue 16.2: sops files have integrity, not authenticity — anyone with the user's public
/// key can craft one that decrypts. A file named like a secret in the current directory
/// (a pull-request checkout, `talosctl kubeconfig .`) must never stand in for the secret.
#[test]
fn a_file_in_the_current_dir_never_stands_in_for_a_secret_of_that_name() {
    let w = world();
    let real = marker("real");
    let forged = marker("forged");
    w.add("kubeconfig", &kubeconfig(&real));
    // The forged file decrypts with the same key (like an attacker's, made from a public key).
    let forged_file = w.add("forged", &kubeconfig(&forged));
    std::fs::copy(&forged_file, w.parent.join("kubeconfig")).unwrap();
    std::fs::copy(&forged_file, w.parent.join("kubeconfig.yaml")).unwrap();
    std::fs::copy(&forged_file, w.parent.join("only-here")).unwrap();
    for args in [
        vec!["show", "kubeconfig"],
        file_for_sh(&[], "K", "cat \"$K\""),
        vec![
            "exec",
            "--file",
            "K=kubeconfig",
            "--",
            "sh",
            "-c",
            "cat \"$K\"",
        ],
    ] {
        let out = w.run(&args);
        assert_success(&args.join(" "), &out);
        let text = stdout(&out);
        assert!(
            text.contains(&real),
            "{args:?} did not use the secret: {text}"
        );
        assert!(!text.contains(&forged), "{args:?} used ./kubeconfig");
    }
    // A bare word that is no secret is an error naming the path form, even with the file here.
    let out = w.run(&["show", "only-here"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    assert!(stderr(&out).contains("./only-here"), "{}", stderr(&out));
    // With a `/` it is a path, on purpose.
    let out = w.run(&["show", "./kubeconfig.yaml"]);
    assert_success("show ./kubeconfig.yaml", &out);
    assert!(stdout(&out).contains(&forged));
}
