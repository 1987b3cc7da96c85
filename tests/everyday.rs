//! Issue 18, rough edges of everyday use: `edit` of a secret commits and relocks
//! like `rotate --edit`, an interrupted edit exits 130 without leaving plaintext,
//! and a change prints one summary line (the steps under `-v`). Wording is held
//! in insta snapshots, with commit ids masked.

mod common;

use common::cluster::Cluster;
use std::path::Path;
use std::time::{Duration, Instant};

const KUBE_YAML: &str = "apiVersion: v1\nusers:\n    - name: admin\n      token: old-token\n";

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Stderr as a snapshot sees it: commit ids (12 or 40 hex digits) become `<id>`,
/// the temp root `<root>`, and Nix's own warnings about this machine's nix.conf
/// (`warning: nix: …`, present or not depending on the host) are dropped.
fn normalized(text: &str, root: &Path) -> String {
    let text = text.replace(&root.display().to_string(), "<root>");
    let mut out = String::new();
    for line in text.lines().filter(|l| !l.starts_with("warning: nix:")) {
        let mut word = String::new();
        for c in line.chars().chain(std::iter::once('\n')) {
            if c.is_ascii_hexdigit() {
                word.push(c);
                continue;
            }
            let is_id = (word.len() == 12 || word.len() == 40)
                && word.chars().any(|c| c.is_ascii_digit())
                && word.chars().all(|c| !c.is_ascii_uppercase());
            out.push_str(if is_id { "<id>" } else { &word });
            word.clear();
            out.push(c);
        }
    }
    out
}

/// `git secrets edit ARGS` in the parent with `editor` as EDITOR.
fn edit(c: &Cluster, args: &[&str], editor: &str) -> std::process::Output {
    c.cmd(&[&["edit"], args].concat())
        .env("EDITOR", editor)
        .output()
        .unwrap()
}

/// The editor `sed -i s/old-token/edited-token/`, which [`assert_token_edited`] checks.
const EDIT_TOKEN: &str = "sed -i s/old-token/edited-token/";

/// Asserts that kubeconfig.yaml now holds the edited token (the real sops decrypts it).
#[track_caller]
fn assert_token_edited(c: &Cluster) {
    assert_eq!(
        c.sops_decrypt("kubeconfig.yaml").unwrap(),
        KUBE_YAML.replace("old-token", "edited-token")
    );
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn edit_of_a_secret_commits_relocks_and_says_so_in_one_line() {
    let c = Cluster::new(&[("kubeconfig.yaml", KUBE_YAML)]);
    let before = c.inner_head();
    let out = edit(&c, &["kubeconfig", "--offline"], EDIT_TOKEN);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_token_edited(&c);
    // committed in the secrets repo, the lock follows, Nix sees the new ciphertext
    assert_ne!(c.inner_head(), before);
    assert_eq!(c.git(&c.inner, &["status", "--porcelain"]), "");
    assert_eq!(
        c.git(&c.inner, &["log", "-1", "--format=%s"]),
        "edit kubeconfig"
    );
    assert_eq!(c.locked_rev(), c.inner_head());
    let on_disk = std::fs::read_to_string(c.secret("kubeconfig.yaml")).unwrap();
    assert_eq!(c.nix_eval_text("kubeconfig"), on_disk);
    insta::assert_snapshot!(
        "edit_commits_and_relocks",
        normalized(&stderr(&out), c.env.root())
    );
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn edit_no_commit_saves_and_says_what_is_left() {
    let c = Cluster::new(&[("kubeconfig.yaml", KUBE_YAML)]);
    let before = c.inner_head();
    let lock = std::fs::read(c.parent.join("flake.lock")).unwrap();
    let out = edit(
        &c,
        &["kubeconfig", "--no-commit", "-m", "new token"],
        EDIT_TOKEN,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_token_edited(&c);
    assert_eq!(c.inner_head(), before);
    assert_eq!(std::fs::read(c.parent.join("flake.lock")).unwrap(), lock);
    insta::assert_snapshot!("edit_no_commit", normalized(&stderr(&out), c.env.root()));

    // An edit that changes nothing finishes what --no-commit left, and says so.
    let out = c
        .cmd(&["edit", "kubeconfig", "--no-lock"])
        .env("EDITOR", "true")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_ne!(c.inner_head(), before);
    assert_eq!(c.git(&c.inner, &["status", "--porcelain"]), "");
    // And with nothing left to commit (nor to lock: --no-lock again; a plain edit would
    // now relock, see tests/crash.rs), nothing happens.
    let head = c.inner_head();
    let again = c
        .cmd(&["edit", "kubeconfig", "--no-lock"])
        .env("EDITOR", "true")
        .output()
        .unwrap();
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(c.inner_head(), head);
    insta::assert_snapshot!(
        "edit_finishes_then_nothing",
        normalized(
            &format!("{}---\n{}", stderr(&out), stderr(&again)),
            c.env.root()
        )
    );
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn edit_of_a_file_outside_the_secrets_repo_only_saves_and_says_so() {
    let c = Cluster::new(&[("kubeconfig.yaml", KUBE_YAML)]);
    // A sops file of the parent's work tree, not of the secrets repo.
    let elsewhere = c.parent.join("other.yaml");
    std::fs::copy(c.secret("kubeconfig.yaml"), &elsewhere).unwrap();
    let before = c.inner_head();
    let out = edit(&c, &["./other.yaml"], EDIT_TOKEN);
    assert!(out.status.success(), "{}", stderr(&out));
    let sops = c
        .env
        .sops()
        .unwrap()
        .arg("decrypt")
        .arg(&elsewhere)
        .output();
    assert!(String::from_utf8_lossy(&sops.unwrap().stdout).contains("edited-token"));
    assert_eq!(c.inner_head(), before);
    // the commit flags make no sense there: refused, nothing changed
    let bytes = std::fs::read(&elsewhere).unwrap();
    let refused = edit(
        &c,
        &["./other.yaml", "--no-commit"],
        "sed -i s/edited-token/x/",
    );
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(std::fs::read(&elsewhere).unwrap(), bytes);
    insta::assert_snapshot!(
        "edit_elsewhere",
        normalized(
            &format!("{}---\n{}", stderr(&out), stderr(&refused)),
            c.env.root()
        )
    );
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn sigint_while_the_editor_runs_exits_130_and_removes_the_plaintext_copy() {
    let c = Cluster::new(&[("kubeconfig.yaml", KUBE_YAML)]);
    let before = std::fs::read(c.secret("kubeconfig.yaml")).unwrap();
    let head = c.inner_head();
    let seen = c.env.root().join("editor-saw");
    // The "editor" records the plaintext copy's path, then waits to be interrupted
    // (exec: the signal we forward goes to the program the editor's shell runs;
    // `#` drops the path argument the tool appends).
    let editor = format!("printf %s \"$1\" > '{}'; exec sleep 60 #", seen.display());
    let child = c
        .env
        .command(common::bin())
        .args(["edit", "kubeconfig"])
        .current_dir(&c.parent)
        .env("EDITOR", editor)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !seen.exists() || std::fs::read(&seen).unwrap().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "editor never ran"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let copy = std::path::PathBuf::from(std::fs::read_to_string(&seen).unwrap());
    assert!(
        copy.exists(),
        "the editor's copy should exist while it runs"
    );
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(!copy.exists(), "plaintext copy left at {}", copy.display());
    assert!(!copy.parent().unwrap().exists(), "its private dir is left");
    assert_eq!(std::fs::read(c.secret("kubeconfig.yaml")).unwrap(), before);
    assert_eq!(c.inner_head(), head);
    insta::assert_snapshot!("edit_interrupted", stderr(&out));
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn a_change_prints_one_summary_line_and_the_steps_under_verbose() {
    let c = Cluster::new(&[("kubeconfig.yaml", KUBE_YAML)]);
    let quiet = c
        .cmd(&["rotate", "kubeconfig", "--offline"])
        .output()
        .unwrap();
    assert!(quiet.status.success(), "{}", stderr(&quiet));
    let ticks = |o: &std::process::Output| stderr(o).lines().filter(|l| l.starts_with('✓')).count();
    assert_eq!(ticks(&quiet), 1, "{}", stderr(&quiet));
    let verbose = c
        .cmd(&["-v", "rotate", "kubeconfig", "--offline"])
        .output()
        .unwrap();
    assert!(verbose.status.success(), "{}", stderr(&verbose));
    assert!(ticks(&verbose) >= 3, "{}", stderr(&verbose));
    insta::assert_snapshot!(
        "change_summary",
        normalized(
            &format!("{}--- -v\n{}", stderr(&quiet), stderr(&verbose)),
            c.env.root()
        )
    );
}

#[test]
fn init_dry_run_says_what_it_would_do_in_the_future_tense() {
    common::require_tool("git");
    let env = common::TestEnv::new();
    let flake = "{ outputs = { self }: { }; }\n";
    let parent = env.flake_repo("cluster", flake);
    let upstream = env.flake_repo("upstream", flake);

    let out = env
        .cmd(["init", upstream.to_str().unwrap(), "--dry-run"])
        .current_dir(&parent)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!parent.join("secrets").exists());
    assert!(!parent.join(".gitignore").exists());
    let text = stderr(&out);
    assert!(!text.contains("would:"), "{text}");
    assert!(text.contains("would clone "), "{text}");
    insta::assert_snapshot!("init_dry_run", normalized(&text, env.root()));
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn doctor_quiet_prints_only_failures_with_the_same_exit_code() {
    let c = Cluster::new(&[("kubeconfig.yaml", KUBE_YAML)]);
    let failed = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with('✗'))
            .map(str::to_string)
            .collect()
    };
    // Twice: as built (only a warning, or a host-dependent failure such as another
    // git-secrets first on PATH), then with a failure of our making.
    for broken in [false, true] {
        if broken {
            std::fs::write(c.parent.join(".gitignore"), "").unwrap();
        }
        let loud = c.cmd(&["doctor"]).output().unwrap();
        let quiet = c.cmd(&["-q", "doctor"]).output().unwrap();
        let (loud_out, quiet_out) = (
            String::from_utf8_lossy(&loud.stdout).into_owned(),
            String::from_utf8_lossy(&quiet.stdout).into_owned(),
        );
        assert_eq!(loud.status.code(), quiet.status.code(), "{quiet_out}");
        assert!(loud_out.contains(" ok, "), "{loud_out}");
        assert!(loud_out.contains("! inner.upstream"), "{loud_out}");
        // only failures (and their hints), no summary, no warnings, nothing on stderr
        assert_eq!(failed(&quiet_out), failed(&loud_out));
        assert!(
            quiet_out
                .lines()
                .all(|l| l.starts_with('✗') || l.trim_start().starts_with("hint:")),
            "{quiet_out}"
        );
        assert_eq!(stderr(&quiet), "");
        if broken {
            assert_eq!(quiet.status.code(), Some(1));
            assert!(quiet_out.contains("✗ dir.ignored"), "{quiet_out}");
        } else if failed(&loud_out).is_empty() {
            assert_eq!(quiet_out, "");
        }
    }
    // JSON is data: whole with or without -q
    let json = c.cmd(&["doctor", "--json"]).output().unwrap();
    let json_q = c.cmd(&["-q", "doctor", "--json"]).output().unwrap();
    assert_eq!(json.stdout, json_q.stdout);
}

/// Runs our binary on a pseudo-terminal (util-linux `script`), so colors are
/// decided as for a user; returns what it wrote (stdout and stderr merged).
fn on_a_terminal(env: &common::TestEnv, args: &str) -> String {
    let bin = common::bin();
    let out = env
        .command("script")
        .args(["-qec", &format!("'{}' {args}", bin.display()), "/dev/null"])
        .env_remove("NO_COLOR")
        .env("TERM", "xterm")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn git_config_color_never_is_honoured_like_color_never() {
    common::require_tool("script");
    common::require_tool("git");
    let env = common::TestEnv::new();
    let escape = "\u{1b}[";
    // an error on a terminal is in color (the check below means something)
    let colored = on_a_terminal(&env, "show nope");
    assert!(colored.contains("error:"), "{colored}");
    assert!(
        colored.contains(escape),
        "no colors on a terminal: {colored:?}"
    );
    for (key, value) in [("color.ui", "never"), ("color.secrets", "false")] {
        let config = env.root().join("gitconfig");
        std::fs::write(&config, "").unwrap();
        env.git(&env.work(), ["config", "--global", key, value]);
        if key == "color.secrets" {
            // ours wins over color.ui
            env.git(&env.work(), ["config", "--global", "color.ui", "auto"]);
        }
        let plain = on_a_terminal(&env, "show nope");
        assert!(plain.contains("error:"), "{plain}");
        assert!(!plain.contains(escape), "{key}={value} ignored: {plain:?}");
    }
}

#[test]
#[cfg_attr(any(missing_nix, missing_sops), ignore = "needs nix and sops")]
fn history_scan_says_how_many_objects_it_read_and_ranges_are_short() {
    let c = Cluster::new(&[("kubeconfig.yaml", KUBE_YAML)]);
    let out = c.cmd(&["doctor", "--history"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text
        .lines()
        .find(|l| l.contains("history.sops"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains("scanned "), "{line}");
    assert!(line.ends_with(" objects in history; none found"), "{line}");
    assert!(!text.contains("objects)"), "{text}");

    let a = c.git(&c.parent, &["rev-parse", "HEAD~1"]);
    let b = c.parent_head();
    let range = format!("{a}..{b}");
    let out = c.cmd(&["doctor", "--range", &range]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains(&format!("the pushed range {}..{}", &a[..12], &b[..12])),
        "{text}"
    );
    assert!(!text.contains(&a) && !text.contains(&b), "full ids: {text}");
}
