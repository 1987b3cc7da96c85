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

/// `git help -m secrets` and `git secrets --help` open our man page when
/// MANPATH points at the repo's `man/` (real git and man-db).
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
        assert!(
            text.contains("GIT-SECRETS") && text.contains("decrypt"),
            "git {args:?}: {text}"
        );
    }
}
