//! `git-secrets`: parse the command line, run, render the error, exit.

use clap::{CommandFactory, FromArgMatches};
use git_secrets::cli::Cli;
use git_secrets::{commands, ui};

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
mod entry;
// The musl build's memcpy/memmove; elsewhere only compiled for its tests.
#[cfg(target_arch = "x86_64")]
#[cfg_attr(not(target_env = "musl"), allow(dead_code))]
mod musl_mem;
// The musl build's abort, which runs the fatal-signal handler as glibc's does.
#[cfg(all(target_os = "linux", target_env = "musl"))]
mod musl_abort;

/// Decrypt, encrypt and the history scan serve their memory from one arena
/// (src/one_shot.rs); everything else from the C library's allocator.
#[global_allocator]
static ALLOCATOR: git_secrets::ArenaFirst<std::alloc::System> =
    git_secrets::ArenaFirst(std::alloc::System);

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(e) = commands::awslabs::forward_if_awslabs(&args) {
        ui::render_error(&e);
        std::process::exit(e.exit_code());
    }
    // Shown as `git secrets` in usage lines, the way git users type it.
    let parsed = match git_secrets::cli::parse_plain(&args) {
        Some(cli) => Ok(cli),
        None => Cli::command()
            .bin_name("git secrets")
            .try_get_matches_from(&args)
            .and_then(|m| Cli::from_arg_matches(&m)),
    };
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help / --version: clap prints them to stdout.
            let _ = e.print();
            std::process::exit(0);
        }
        Err(e) => {
            if let Some(err) = git_secrets::cli::value_error(&e, &args) {
                ui::render_error(&err);
                std::process::exit(2);
            }
            if let Some(text) = git_secrets::cli::redact_usage_error(&e, &args) {
                eprint!("{text}");
                std::process::exit(2);
            }
            ui::render_usage_error(&e);
            std::process::exit(2);
        }
    };
    ui::init_colors(cli.global.color, cli.global.chdir.as_deref());
    match commands::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            ui::render_error(&e);
            std::process::exit(e.exit_code());
        }
    }
}
