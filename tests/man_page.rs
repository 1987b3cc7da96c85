//! The committed man page must match the CLI; regenerate with
//! `UPDATE_MAN=1 cargo test --test man_page`.

#[test]
fn man_page_matches_the_cli() {
    let fresh = git_secrets::man::render();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/man/git-secrets.1");
    if std::env::var_os("UPDATE_MAN").is_some() {
        std::fs::write(path, &fresh).unwrap();
    }
    let committed = std::fs::read(path)
        .expect("man/git-secrets.1 is missing; run UPDATE_MAN=1 cargo test --test man_page");
    assert!(
        committed == fresh,
        "man/git-secrets.1 drifted from the CLI; run UPDATE_MAN=1 cargo test --test man_page and commit it"
    );
}

#[test]
fn man_page_documents_every_visible_command() {
    let page = String::from_utf8(git_secrets::man::render()).unwrap();
    for cmd in [
        "show", "edit", "decrypt", "encrypt", "add", "rotate", "rekey", "list",
    ] {
        assert!(
            page.contains(&format!("GIT SECRETS {}", cmd.to_uppercase())),
            "{cmd} missing"
        );
    }
}

mod common;

use clap::CommandFactory;
use std::path::Path;

fn page() -> String {
    String::from_utf8(git_secrets::man::render()).unwrap()
}

/// The text of one `.SH` section (up to the next `.SH`).
fn section(page: &str, name: &str) -> String {
    let head = format!(".SH {name}\n");
    let start = page
        .find(&head)
        .unwrap_or_else(|| panic!("no section {name}"));
    let rest = &page[start + head.len()..];
    rest[..rest.find("\n.SH ").unwrap_or(rest.len())].to_string()
}

/// Every synopsis names each option's value: `[-C PATH]`, not clap_mangen's `[-C  ]`
/// and `[--dir]`.
#[test]
fn the_synopsis_names_every_option_value() {
    let page = page();
    let synopsis = section(&page, "SYNOPSIS");
    assert!(
        synopsis.starts_with(
            "\\fBgit secrets\\fR [\\fB\\-C\\fR \\fIPATH\\fR] [\\fB\\-\\-dir\\fR \\fIPATH\\fR] [\\fB\\-\\-color\\fR \\fIWHEN\\fR] "
        ),
        "{synopsis}"
    );
    assert!(
        !page.contains("\\-C \\fR]"),
        "clap_mangen's empty -C value is back"
    );
    let cli = git_secrets::cli::Cli::command();
    let esc = |s: &str| s.replace('-', "\\-");
    for sub in cli
        .get_subcommands()
        .filter(|s| s.get_name() != "help" && !s.is_hide_set())
    {
        // The command's block runs to the next quoted heading; its synopsis is one line.
        let heading = format!(".SH \"GIT SECRETS {}\"\n", sub.get_name().to_uppercase());
        let block = &page[page.find(&heading).unwrap() + heading.len()..];
        let block = &block[..block.find(".SH \"").unwrap_or(block.len())];
        let line = section(block, "SYNOPSIS");
        for arg in sub.get_arguments().filter(|a| a.get_long().is_some()) {
            let long = esc(&format!("--{}", arg.get_long().unwrap()));
            let Some(values) = arg.get_value_names() else {
                assert!(line.contains(&format!("\\fB{long}\\fR")), "{line}");
                continue;
            };
            if !arg.get_num_args().is_some_and(|n| n.takes_values()) {
                continue;
            }
            let want = format!("\\fB{long}\\fR \\fI{}\\fR", esc(values[0].as_str()));
            assert!(
                line.contains(&want),
                "{}: {want} missing in {line}",
                sub.get_name()
            );
        }
    }
    // The command list names real commands, not git-secrets-init(1) pages that do not exist.
    assert!(!page.contains("git\\-secrets\\-init(1)"));
    assert!(section(&page, "COMMANDS").contains("\\fBgit secrets init\\fR"));
}

/// EXIT STATUS, ENVIRONMENT, FILES and EXAMPLES are there, and ENVIRONMENT names
/// every variable the source reads (a new `env::var` without a line here fails).
#[test]
fn the_page_documents_exit_status_environment_files_and_examples() {
    let page = page();
    let exit = section(&page, "\"EXIT STATUS\"");
    for code in ["0", "1", "2", "130"] {
        assert!(exit.contains(&format!(".B {code}\n")), "{code}: {exit}");
    }
    // sops' own codes (cmd/sops/codes/codes.go, v3.11) for decrypt and encrypt.
    for (code, what) in [
        ("24", "error decrypting the MAC"),
        ("51", "MAC mismatch"),
        ("128", "could not retrieve the data key"),
        ("203", "the file is already encrypted"),
    ] {
        assert!(
            exit.contains(&format!(".B {code}\n{what}")),
            "{code}: {exit}"
        );
    }
    let environment = section(&page, "ENVIRONMENT");
    let mut read = std::collections::BTreeSet::new();
    let lit = regex::Regex::new(r#""((?:SOPS|GIT_SECRETS)_[A-Z_]+|EDITOR|VISUAL|NO_COLOR|XDG_[A-Z_]+|HOME|PATH|GIT_INDEX_FILE)""#).unwrap();
    let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                // Test code sets variables for its children; it reads none of the user's.
                let text = text.split("#[cfg(test)]").next().unwrap();
                read.extend(lit.captures_iter(text).map(|c| c[1].to_string()));
            }
        }
    }
    for must in [
        "SOPS_AGE_KEY",
        "SOPS_AGE_KEY_FILE",
        "SOPS_AGE_KEY_CMD",
        "SOPS_AGE_RECIPIENTS",
        "SOPS_AGE_SSH_PRIVATE_KEY_FILE",
        "EDITOR",
        "VISUAL",
        "NO_COLOR",
        "XDG_CONFIG_HOME",
        "XDG_RUNTIME_DIR",
        "GIT_SECRETS_NIX",
        "GIT_SECRETS_LOCK_TIMEOUT",
    ] {
        read.insert(must.to_string());
    }
    // The names in the `.B`/`.BR` lines that head each entry.
    let word = regex::Regex::new(r"[A-Z][A-Z_]+").unwrap();
    let documented: std::collections::BTreeSet<String> = environment
        .lines()
        .filter(|l| l.starts_with(".B ") || l.starts_with(".BR "))
        .flat_map(|l| {
            word.find_iter(l)
                .map(|m| m.as_str().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    let missing: Vec<&String> = read.iter().filter(|v| !documented.contains(*v)).collect();
    assert!(missing.is_empty(), "not in ENVIRONMENT: {missing:?}");
    let files = section(&page, "FILES");
    for f in [
        "secrets/.sops.yaml",
        "sops/age/keys.txt",
        "pre\\-commit",
        "flake.lock",
    ] {
        assert!(files.contains(f), "{f}: {files}");
    }
    let examples = section(&page, "EXAMPLES");
    for e in [
        "git secrets init",
        "\\-\\-file KUBECONFIG",
        "git secrets doctor \\-\\-history",
    ] {
        assert!(examples.contains(e), "{e}: {examples}");
    }
}

/// `git help -m secrets` and `git secrets --help` open our man page when MANPATH
/// points at the repo's `man/` (real git and man-db) — unless git's own man dir
/// (`git --man-path`, which git puts first) holds another git-secrets page, as with
/// Debian's git and git-secrets packages: then git shows that one, and doctor's
/// man.page check says exactly that.
#[test]
#[cfg_attr(missing_man, ignore = "needs man")]
fn git_help_finds_the_man_page() {
    common::require_tool("man");
    let env = common::TestEnv::new();
    let manpath = concat!(env!("CARGO_MANIFEST_DIR"), "/man");
    let bin_dir = common::bin().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let git_man = env.git(&env.work(), ["--man-path"]);
    let shadowed = std::fs::read_dir(Path::new(&git_man).join("man1")).is_ok_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("git-secrets.1"))
    });
    for args in [&["help", "-m", "secrets"][..], &["secrets", "--help"][..]] {
        let out = env
            .command("git")
            .args(args)
            .env("MANPATH", manpath)
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env("PATH", &path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let ours = text.contains("GIT-SECRETS") && text.contains("nested in a public Nix flake");
        assert_eq!(
            ours, !shadowed,
            "git {args:?} (git's man dir {git_man}): {text}"
        );
    }
    if shadowed {
        env.git(&env.work(), ["init", "-q"]);
        let out = env
            .cmd(["doctor", "--json"])
            .env("MANPATH", manpath)
            .env("PATH", &path)
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let check = common::cluster::check(&report, "man.page");
        assert!(
            check["message"]
                .as_str()
                .unwrap()
                .ends_with("but `git secrets --help` does not"),
            "{check:#}"
        );
    }
}

/// A world with awslabs' page (gzipped, as Debian ships it) in its own man dir and a
/// `git` whose `--man-path` is an empty dir of ours (`git/share/man`), first on PATH.
struct ManWorld {
    env: common::TestEnv,
    /// awslabs' man dir.
    other: std::path::PathBuf,
    /// awslabs' page.
    gz: String,
    /// What `git --man-path` prints.
    git_man: std::path::PathBuf,
    /// PATH with the fake git first.
    path: String,
}

/// Fails the test without `man`.
fn man_world() -> ManWorld {
    common::require_tool("man");
    let env = common::TestEnv::new();
    env.git(&env.work(), ["init", "-q"]);
    // Every man dir here ends in `man`, as real ones do: man-db orders same-section
    // pages by the last component of their dir before MANPATH order.
    let other = env.root().join("awslabs/share/man");
    let other_page = other.join("man1/git-secrets.1");
    std::fs::create_dir_all(other_page.parent().unwrap()).unwrap();
    std::fs::write(
        &other_page,
        ".TH GIT-SECRETS 1\n.SH NAME\ngit-secrets \\- prevents you from committing AWS secrets\n",
    )
    .unwrap();
    let out = env.command("gzip").arg(&other_page).output().unwrap();
    common::assert_success("gzip", &out);
    // A `git` whose --man-path we choose; everything else goes to the real git.
    let git_man = env.root().join("git/share/man");
    std::fs::create_dir_all(&git_man).unwrap();
    let fake_bin = env.root().join("bin");
    std::fs::create_dir_all(&fake_bin).unwrap();
    let real_git = common::tool_path("git").unwrap();
    let shim = fake_bin.join("git");
    common::write_script(
        &shim,
        &format!(
            "#!/bin/sh\nif [ \"$1\" = --man-path ]; then echo '{}'; exit 0; fi\nexec '{}' \"$@\"\n",
            git_man.display(),
            real_git.display()
        ),
    );
    let path = format!(
        "{}:{}",
        fake_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let gz = format!("{}.gz", other_page.display());
    ManWorld {
        env,
        other,
        gz,
        git_man,
        path,
    }
}

/// Puts the other page `gz` into git's own man dir `git_man` (Debian: git's and
/// awslabs' pages both in /usr/share/man), which `git help` reads before MANPATH.
fn shadow_in_gits_man_dir(gz: &str, git_man: &Path) {
    std::fs::create_dir_all(git_man.join("man1")).unwrap();
    std::fs::copy(gz, git_man.join("man1/git-secrets.1.gz")).unwrap();
}

/// `doctor` says which page `man git-secrets` and `git secrets --help` open: a fake
/// awslabs page (gzipped, as Debian ships it) first in MANPATH, ours first, and git's
/// own man dir (which `git help` puts before MANPATH) holding the other page.
#[test]
#[cfg_attr(missing_man, ignore = "needs man")]
fn doctor_says_which_man_page_git_secrets_help_opens() {
    let w = man_world();
    let (env, other, gz, git_man, path) = (&w.env, &w.other, &w.gz, &w.git_man, &w.path);
    let ours = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let man_check = |manpath: &str| -> serde_json::Value {
        let out = env
            .cmd(["doctor", "--json"])
            .env("PATH", path)
            .env("MANPATH", manpath)
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        common::cluster::check(&report, "man.page").clone()
    };
    let ours_page = ours.join("man1/git-secrets.1");

    // The other page comes first: a warning that names it and how to put ours first.
    let c = man_check(&format!("{}:{}", other.display(), ours.display()));
    assert_eq!(c["status"], "warn", "{c:#}");
    assert_eq!(
        c["message"],
        format!("`man git-secrets` opens {gz} (another tool's page, likely awslabs/git-secrets')")
    );
    assert!(
        c["hints"][0].as_str().unwrap().contains("export MANPATH="),
        "{c:#}"
    );

    // Ours first: ok, for man and for git help.
    let c = man_check(&format!("{}:{}", ours.display(), other.display()));
    assert_eq!(c["status"], "ok", "{c:#}");
    assert_eq!(
        c["message"],
        format!(
            "`man git-secrets` and `git secrets --help` open {} (this tool's page)",
            ours_page.display()
        )
    );

    // git's own man dir holds the other page (Debian: git's and awslabs' pages both in
    // /usr/share/man): `man` opens ours, `git secrets --help` cannot, and doctor says why.
    shadow_in_gits_man_dir(gz, git_man);
    let c = man_check(&format!("{}:{}", ours.display(), other.display()));
    assert_eq!(c["status"], "warn", "{c:#}");
    assert_eq!(
        c["message"],
        format!(
            "`man git-secrets` opens {} (this tool's page), but `git secrets --help` does not",
            ours_page.display()
        )
    );
    let hint = c["hints"][0].as_str().unwrap();
    assert!(
        hint.contains(&format!(
            "git puts its own man dir {} before MANPATH",
            git_man.display()
        )),
        "{hint}"
    );
}

/// `scripts/install.sh` installs the page and prints the MANPATH line that puts it
/// before awslabs' page, and says when `git secrets --help` still opens the other one.
#[test]
#[cfg_attr(missing_man, ignore = "needs man")]
fn install_script_prints_the_manpath_line_that_puts_our_page_first() {
    let w = man_world();
    let (env, other, gz, git_man, path) = (&w.env, &w.other, &w.gz, &w.git_man, &w.path);
    let prefix = env.root().join("prefix");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install.sh");
    // A small stand-in for the binary (the debug build is ~200 MB to copy).
    let bin = env.script(
        "git-secrets-shim",
        &format!("exec '{}' \"$@\"\n", common::bin().display()),
    );
    let install = || {
        let out = env
            .command("bash")
            .arg(&script)
            .arg(&prefix)
            .env("GIT_SECRETS_BIN", &bin)
            .env("PATH", path)
            .env("MANPATH", other)
            .output()
            .unwrap();
        common::assert_success("install.sh", &out);
        String::from_utf8(out.stdout).unwrap()
    };
    let out = install();
    let mandir = prefix.join("share/man");
    let page = mandir.join("man1/git-secrets.1");
    assert_eq!(
        std::fs::read(&page).unwrap(),
        git_secrets::man::render(),
        "installed page"
    );
    assert!(prefix.join("bin/git-secrets").exists());
    assert!(
        out.contains(&format!("man git-secrets opens {gz} now;")),
        "{out}"
    );
    let line = format!("export MANPATH=\"{}:$MANPATH\"", mandir.display());
    assert!(out.contains(&format!("\n  {line}\n")), "{out}");
    assert!(!out.contains("git secrets --help"), "{out}");
    // The printed line does what it says, in the user's shell.
    let shell = env
        .command("bash")
        .args(["-c", &format!("{line}; man -w git-secrets")])
        .env("MANPATH", other)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&shell.stdout).trim(),
        page.display().to_string()
    );

    // git's own man dir holds the other page: the script says so.
    shadow_in_gits_man_dir(gz, git_man);
    let out = install();
    let note = format!(
        "note: `git secrets --help` opens {}/man1/git-secrets.1.gz: git puts its own man dir ({}) before MANPATH;",
        git_man.display(),
        git_man.display()
    );
    assert!(out.contains(&note), "{out}");
}
