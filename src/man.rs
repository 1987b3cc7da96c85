//! The man page, generated from the CLI definition (clap_mangen). The
//! committed `man/man1/git-secrets.1` (linked as `man/git-secrets.1`, so
//! `MANPATH=<repo>/man` works) is checked against it by a test.

use crate::cli::Cli;
use clap::CommandFactory;

/// Renders `git-secrets(1)` with one section per visible subcommand.
pub fn render() -> Vec<u8> {
    // The plain crate version: a build hash would make the page drift every commit.
    let cmd = Cli::command()
        .name("git-secrets")
        .bin_name("git secrets")
        .version(env!("CARGO_PKG_VERSION"));
    let mut out = Vec::new();
    let man = clap_mangen::Man::new(cmd.clone())
        .title("GIT-SECRETS")
        .section("1")
        .manual("Git Manual");
    // ok: writing to a Vec cannot fail
    let _ = man.render(&mut out);
    for sub in cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        out.extend_from_slice(
            format!(".SH \"GIT SECRETS {}\"\n", sub.get_name().to_uppercase()).as_bytes(),
        );
        let sub_man = clap_mangen::Man::new(
            sub.clone()
                .bin_name(format!("git secrets {}", sub.get_name())),
        );
        let _ = sub_man.render_description_section(&mut out);
        let _ = sub_man.render_synopsis_section(&mut out);
        let _ = sub_man.render_options_section(&mut out);
    }
    out
}
