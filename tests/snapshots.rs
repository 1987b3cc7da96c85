//! What every command prints, on the fixture cluster: each command and subcommand on
//! its happy path and its main error paths (not a repo, unknown secret, bad
//! `.sops.yaml`, missing key), as exit code + stdout + stderr in insta snapshots
//! (tests/snapshots/snapshots__*.snap), so a wording change shows in review.
//!
//! What varies between runs and machines is redacted (see [`redact`]): temp paths,
//! commit ids, age keys, timestamps, ciphertext, Nix's hashes, version and lock
//! command. Commands run without a terminal and without NO_COLOR (colors must stay
//! off by themselves), with a PATH of only the tools they need (so the host's other
//! `git-secrets` or `man` does not change doctor's report).
//!
//! Updating: a changed message fails the test and prints the diff. Accept it with
//! `cargo insta review` (cargo-insta, after `INSTA_UPDATE=new cargo test --test
//! snapshots` wrote `.snap.new` files), or overwrite with `INSTA_UPDATE=always cargo
//! test --test snapshots`, then read the diff in `git diff tests/snapshots/`. Under
//! `CI=true` insta never writes: a mismatch (or a missing snapshot) fails.

mod common;

use common::cluster::{age_a, age_b, Cluster};
use regex::Regex;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const KUBECONFIG: &str = "apiVersion: v1\nclusters:\n    - name: prod\n      server: https://k8s.example.invalid:6443\nusers:\n    - name: admin\n      token: old-token-value-0123\n";
const DB: &str = "user: admin\npassword: db-password-value\n";

/// The fixture cluster with `kubeconfig` and `db`, and a PATH of symlinks to the tools
/// only (plus our binary as `git-secrets`).
struct World {
    c: Cluster,
    bin: PathBuf,
}

impl World {
    fn new() -> World {
        World::from(Cluster::builder())
    }

    /// With bare remotes for both repos (pushed, upstreams set).
    fn with_remotes() -> World {
        World::from(Cluster::builder().with_remotes())
    }

    fn from(builder: common::cluster::ClusterBuilder) -> World {
        let c = builder
            .secrets(&[("kubeconfig.yaml", KUBECONFIG), ("db.yaml", DB)])
            .build();
        let bin = c.env.root().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let tools = ["git", "nix", "sh", "sed", "cat", "env", "true", "printenv"];
        for tool in tools {
            let path = common::tool_path(tool).unwrap_or_else(|| panic!("no {tool} on PATH"));
            std::os::unix::fs::symlink(path, bin.join(tool)).unwrap();
        }
        std::os::unix::fs::symlink(common::bin(), bin.join("git-secrets")).unwrap();
        World { c, bin }
    }

    /// Runs our binary in `dir` with `args` and returns its transcript.
    fn run_in(&self, dir: &Path, args: &[&str]) -> String {
        self.run_with(dir, args, &[], None)
    }

    /// Runs in the parent root.
    fn run(&self, args: &[&str]) -> String {
        self.run_in(&self.c.parent, args)
    }

    /// Runs with extra env (a value of "" removes the variable) and stdin.
    fn run_with(
        &self,
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
        stdin: Option<&str>,
    ) -> String {
        let mut cmd = self.c.env.cmd(args);
        cmd.current_dir(dir)
            .env("PATH", &self.bin)
            .env_remove("NO_COLOR");
        for (k, v) in env {
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        if let Some(input) = stdin {
            cmd.write_stdin(input);
        }
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stdout.contains('\x1b') && !stderr.contains('\x1b'),
            "{args:?}: colors without a terminal:\n{stdout}\n{stderr}"
        );
        let shown_dir = match dir.strip_prefix(&self.c.parent) {
            Ok(rel) if rel.as_os_str().is_empty() => String::new(),
            Ok(rel) => format!("({}) ", rel.display()),
            Err(_) => format!("({}) ", dir.display()),
        };
        let shown_args: Vec<String> = args.iter().map(|a| shell_word(a)).collect();
        let mut t = format!("{shown_dir}$ git secrets {}\n", shown_args.join(" "));
        let code = out.status.code().map_or("signal".into(), |c| c.to_string());
        let _ = writeln!(t, "exit: {code}");
        for (name, text) in [("stdout", stdout), ("stderr", stderr)] {
            if !text.is_empty() {
                let _ = write!(t, "--- {name}\n{text}");
                if !text.ends_with('\n') {
                    t.push_str("\n[no newline at end]\n");
                }
            }
        }
        redact(&t, self.c.env.root())
    }

    /// Writes a plaintext input file in the temp root; returns its path as a string.
    fn input(&self, name: &str, text: &str) -> String {
        self.c
            .env
            .write(format!("input/{name}"), text)
            .display()
            .to_string()
    }
}

/// `arg` as a shell word, quoted when it needs to be (for reading the transcript).
fn shell_word(arg: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c);
    if !arg.is_empty() && arg.chars().all(plain) {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// `regex` is built as shipped, without Unicode Perl classes (Cargo.toml): `[0-9]`,
/// `(?s:.)` and `(?-u:\b)`, not `\d`, `[\s\S]` and `\b`.
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap()
}

/// Replaces what varies by run or machine with stable words.
fn redact(text: &str, root: &Path) -> String {
    static RULES: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    let rules = RULES.get_or_init(|| {
        vec![
            // sops values and the age-armored data keys
            (re(r"ENC\[AES256_GCM,[^\]]*\]"), "ENC[…]"),
            (
                re(r"-----BEGIN AGE ENCRYPTED FILE-----(?s:.)*?-----END AGE ENCRYPTED FILE-----"),
                "[AGE ARMOR]",
            ),
            // sops' lastmodified and other RFC 3339 times
            (
                re(r"[0-9]{4}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9](\.[0-9]+)?(Z|[+-][0-9][0-9]:[0-9][0-9])"),
                "[TIME]",
            ),
            // the time of a secret's last change shown by nix (lastModified)
            (re(r"[0-9]{4}-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9] UTC"), "[TIME]"),
            (re(r"sha256-[A-Za-z0-9+/]{43}="), "[NARHASH]"),
            (re(r#""lastModified": [0-9]+"#), r#""lastModified": [N]"#),
            // generated age keys (the fixture keys are named before this)
            (re(r"age1[0-9a-z]{58}"), "[AGE-KEY]"),
            (re(r"age1[0-9a-z]{4}…[0-9a-z]{4}"), "[AGE-KEY…]"),
            // commit ids, full or short, and git's pid-named temp files
            (re(r"(?-u:\b)[0-9a-f]{7,40}(?-u:\b)"), "[ID]"),
            // which Nix, which version, and so which lock command
            (re(r"nix \(Nix\) [0-9][0-9.a-z+-]*"), "nix (Nix) [VERSION]"),
            (
                re(r"flake lock --update-input|flake update"),
                "[LOCK-COMMAND]",
            ),
            (re(r"`--update-input`|`update`"), "[LOCK-COMMAND]"),
        ]
    });
    let mut text = text.replace(&root.display().to_string(), "[ROOT]");
    text = text
        .replace(&age_a(), "[age-a]")
        .replace(&age_b(), "[age-b]");
    for key in [age_a(), age_b()] {
        text = text.replace(
            &format!("{}…{}", &key[..8], &key[key.len() - 4..]),
            if key == age_a() {
                "[age-a…]"
            } else {
                "[age-b…]"
            },
        );
    }
    if let Some(nix) = common::tool_path("nix") {
        text = text.replace(&nix.display().to_string(), "[NIX]");
    }
    for (pattern, with) in rules {
        text = pattern.replace_all(&text, *with).into_owned();
    }
    // Nix's own warnings, which we relay as `warning: nix: …`, depend on the host and
    // its load (a missing nixbld group, "SQLite database is busy"): they are not ours.
    text.lines()
        .filter(|l| !l.contains("warning: the group 'nixbld'") && !l.starts_with("warning: nix:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

macro_rules! snap {
    ($name:expr, $($part:expr),+ $(,)?) => {
        insta::assert_snapshot!($name, [$($part),+].join("\n"))
    };
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn reading_commands() {
    let w = World::new();
    snap!("list", w.run(&["list"]), w.run(&["list", "--json"]));
    snap!(
        "show",
        w.run(&["show", "kubeconfig"]),
        w.run(&["show", "kubeconfig", "--field", "users.0.token"]),
        w.run(&[
            "show",
            "kubeconfig",
            "--extract",
            r#"["clusters"][0]["server"]"#
        ]),
        w.run(&["show", "./secrets/secrets/db.yaml"]),
        w.run(&["show", "kubeconfig", "--field", "users.7"]),
    );
    snap!(
        "exec",
        w.run(&["exec", "db", "--field", "password", "--env", "PW", "--", "printenv", "PW"]),
        w.run(&[
            "exec",
            "kubeconfig",
            "--file",
            "KUBECONFIG",
            "--",
            "sh",
            "-c",
            "cat \"$KUBECONFIG\" | sed -n 1p"
        ]),
        w.run(&[
            "exec",
            "--env",
            "U=db:user",
            "--",
            "sh",
            "-c",
            "echo \"$U\"; exit 3"
        ]),
        w.run(&["exec", "db", "--env", "PW", "--", "no-such-command"]),
    );
    let plain = w.input("plain.yaml", DB);
    let file = w.input("file.yaml", DB);
    snap!(
        "encrypt_decrypt",
        w.run(&["encrypt", "--age", &age_a(), &plain]),
        w.run(&["encrypt", "--age", &age_a(), "-i", &file]),
        w.run(&["decrypt", &file]),
        w.run(&["decrypt", "--extract", r#"["user"]"#, &file]),
        w.run(&["decrypt", "--output-type", "json", &file]),
        w.run(&["decrypt", &plain]),
        w.run(&["encrypt", &file]),
    );
    snap!(
        "example",
        w.run(&["example", "--check"]),
        w.run(&["example"]),
        w.run(&["example", "--check"]),
        w.run(&["example"]),
    );
    snap!(
        "allow",
        w.run(&["allow"]),
        w.run(&["allow", "kubeconfig:clusters.0.name"]),
        w.run(&["allow"]),
        w.run(&["allow", "kubeconfig:users.0.token"]),
        w.run(&["allow", "--remove", "kubeconfig:clusters.0.name"]),
        w.run(&["allow", "nope:a.b"]),
    );
    snap!(
        "hooks",
        w.run(&["hooks", "install"]),
        w.run(&["hooks", "install"]),
        w.run(&["hooks", "uninstall"]),
        w.run(&["hooks", "uninstall"]),
    );
    // Completions are long and checked by tests/completions.rs: their size and start.
    let completions: Vec<String> = ["bash", "zsh", "fish"]
        .iter()
        .map(|sh| {
            let t = w.run(&["completions", sh]);
            let lines = t.lines().count();
            let head: Vec<&str> = t.lines().take(4).collect();
            format!("{}\n[{lines} lines]\n", head.join("\n"))
        })
        .collect();
    snap!("completions", completions.join("\n"));
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn doctor() {
    let w = World::new();
    let c = &w.c;
    w.run(&["example"]);
    w.run(&["hooks", "install"]);
    snap!("doctor", w.run(&["doctor"]), w.run(&["doctor", "--json"]));
    // The snapshots are taken without NO_COLOR: with it, and with --color never, the
    // words are the same (without a terminal no color is used either way).
    for args in [&["doctor"][..], &["show", "nope"], &["list"]] {
        let plain = w.run(args);
        let no_color = w.run_with(&c.parent, args, &[("NO_COLOR", "1")], None);
        assert_eq!(no_color, plain, "{args:?} with NO_COLOR");
        let never: Vec<&str> = [&["--color", "never"][..], args].concat();
        let never = w.run(&never).replacen(" --color never", "", 1);
        assert_eq!(never, plain, "{args:?} with --color never");
    }
    snap!(
        "doctor_staged_history",
        w.run(&["doctor", "--staged"]),
        w.run(&["doctor", "--history"]),
    );
    // a broken wiring: the ignore line gone, a commit in the secrets repo not locked,
    // a file not committed, the example out of date
    std::fs::write(c.parent.join(".gitignore"), "").unwrap();
    std::fs::write(
        c.secret("db.yaml"),
        std::fs::read(c.secret("kubeconfig.yaml")).unwrap(),
    )
    .unwrap();
    c.git(&c.inner, &["commit", "-qam", "db by hand"]);
    std::fs::write(c.inner.join("secrets/notes.txt"), "todo\n").unwrap();
    snap!(
        "doctor_fix",
        w.run(&["doctor", "--quiet"]),
        w.run(&["doctor", "--fix", "--yes", "--offline"]),
    );
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn changing_commands() {
    let w = World::with_remotes();
    let c = &w.c;
    let token = w.input("token.yaml", "token: new-token-value-4567\n");
    snap!(
        "add",
        w.run(&["add", "hcloud", "--from", &token, "--offline"]),
        w.run(&["add", "hcloud", "--from", &token, "--offline"]),
        w.run(&[
            "add",
            "env-file",
            "--format",
            "dotenv",
            "--from",
            "-",
            "--no-lock"
        ]),
        w.run_with(
            &c.parent,
            &[
                "add",
                "piped",
                "--from",
                "-",
                "--offline",
                "--commit-parent"
            ],
            &[],
            Some("a: 1\n"),
        ),
    );
    snap!(
        "rotate",
        w.run(&["rotate", "hcloud", "--offline"]),
        w.run(&["rotate", "hcloud", "--from", &token, "--offline"]),
        w.run(&[
            "rotate",
            "db",
            "--set",
            "user=root",
            "--offline",
            "-m",
            "db: user root"
        ]),
        w.run(&["rotate", "db", "--set", "nope.deeper=1", "--offline"]),
        w.run(&["rotate", "db", "--from", &token, "--set", "user=x"]),
    );
    snap!(
        "edit",
        w.run_with(
            &c.parent,
            &["edit", "kubeconfig", "--offline"],
            &[("EDITOR", "sed -i s/old-token/edited-token/")],
            None
        ),
        w.run_with(
            &c.parent,
            &["edit", "kubeconfig"],
            &[("EDITOR", "true")],
            None
        ),
        w.run_with(
            &c.parent,
            &["edit", "kubeconfig", "--no-commit"],
            &[("EDITOR", "sed -i s/edited-token/again-token/")],
            None
        ),
        w.run_with(
            &c.parent,
            &["edit", "kubeconfig", "--offline"],
            &[("EDITOR", "true")],
            None
        ),
        w.run_with(
            &c.parent,
            &["edit", "kubeconfig"],
            &[("EDITOR", "sed -i s/^users:/users/")],
            None
        ),
        w.run_with(
            &c.parent,
            &["edit", "kubeconfig"],
            &[("EDITOR", "false")],
            None
        ),
    );
    // (the whole log starts with the template flake.nix; one secret's is enough)
    // The textconv's `# sops: …; lastmodified …` line is context or a -/+ pair,
    // depending on whether two changes fell in the same second: left out.
    let log: String = w
        .run(&["log", "db"])
        .lines()
        .filter(|l| {
            !l.get(1..)
                .is_some_and(|l| l.starts_with("# sops: recipients"))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    snap!("log", log, w.run(&["log", "nope"]));
    let b = age_b();
    snap!(
        "rekey",
        w.run(&["rekey", "--offline"]),
        w.run(&["rekey", "--add-recipient", &b, "--offline"]),
        w.run(&["rekey", "--add-recipient", &b, "--offline", "--yes"]),
        w.run(&["rekey", "--remove-recipient", &b, "--offline", "--yes"]),
        w.run(&[
            "rekey",
            "--remove-recipient",
            "age1notakey",
            "--offline",
            "--yes"
        ]),
    );
    snap!(
        "push_pull",
        w.run(&["push"]),
        w.run(&["push"]),
        w.run(&["pull", "--offline"]),
        w.run(&["push", "--parent"]),
    );
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn error_paths() {
    let w = World::new();
    let c = &w.c;
    let outside = c.env.work();
    let value = w.input("v.yaml", "a: 1\n");
    snap!(
        "not_a_repo",
        w.run_in(&outside, &["list"]),
        w.run_in(&outside, &["show", "kubeconfig"]),
        w.run_in(&outside, &["add", "x", "--from", &value]),
        w.run_in(&outside, &["doctor"]),
        w.run_in(&outside, &["push"]),
        w.run_in(&outside, &["hooks", "install"]),
    );
    snap!(
        "unknown_secret",
        w.run(&["show", "nope"]),
        w.run(&["show", "kubeconfg"]),
        w.run(&["rotate", "nope", "--from", &value]),
        w.run_with(&c.parent, &["edit", "nope"], &[("EDITOR", "true")], None),
        w.run(&["exec", "nope", "--env", "X", "--", "true"]),
        w.run(&["log", "nope"]),
        w.run(&["add", "kubeconfig", "--from", &value]),
    );
    // a key that decrypts nothing: the fixture identity removed
    let keys = c.env.config().join("sops/age/keys.txt");
    let saved = std::fs::read(&keys).unwrap();
    std::fs::remove_file(&keys).unwrap();
    snap!(
        "missing_key",
        w.run(&["show", "kubeconfig"]),
        w.run(&["list"]),
        w.run(&["rotate", "db", "--set", "user=x", "--offline"]),
        w.run_with(&c.parent, &["edit", "db"], &[("EDITOR", "true")], None),
        w.run(&["exec", "db", "--env", "X", "--", "true"]),
        w.run(&["decrypt", "secrets/secrets/db.yaml"]),
    );
    std::fs::write(&keys, saved).unwrap();
    // .sops.yaml that is not YAML, then one without a rule for the secrets
    let sops_yaml = c.inner.join(".sops.yaml");
    std::fs::write(&sops_yaml, "creation_rules: [\n").unwrap();
    let broken = [
        w.run(&["add", "x", "--from", &value, "--offline"]),
        w.run(&["rekey", "--offline", "--yes"]),
        w.run_in(&c.inner, &["encrypt", &value]),
    ];
    std::fs::write(
        &sops_yaml,
        format!(
            "creation_rules:\n  - path_regex: ^other/\n    age: {}\n",
            age_a()
        ),
    )
    .unwrap();
    snap!(
        "bad_sops_yaml",
        broken.join("\n"),
        w.run(&["add", "x", "--from", &value, "--offline"]),
        w.run(&["rekey", "--offline", "--yes"]),
    );
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn init() {
    let w = World::with_remotes();
    let c = &w.c;
    // a teammate's clone of the parent, without the secrets repo yet
    let clone = c.clone_parent("teammate");
    let url = c.inner_remote().display().to_string();
    // a new cluster, not yet wired
    let fresh = c
        .env
        .parent_repo("{\n  outputs = { self, ... }@inputs: { };\n}\n");
    snap!(
        "init",
        w.run_in(&clone, &["init", &url, "--dry-run", "--offline"]),
        w.run_in(&clone, &["init", &url, "--yes", "--offline"]),
        w.run_in(&clone, &["init", &url, "--yes", "--offline"]),
        w.run_in(&fresh, &["init", "--new", "--dry-run", "--offline"]),
        w.run_in(&fresh, &["init", "--new", "--yes", "--offline"]),
        w.run_in(&fresh, &["init", "--new", "--yes", "--offline"]),
        w.run(&["init", "--yes", "--offline"]),
        w.run_in(&c.env.work(), &["init", "--new", "--yes"]),
    );
}
