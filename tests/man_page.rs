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
