//! One file per subcommand; the only place that talks to the user.

pub mod add;
pub mod allow;
pub mod awslabs;
pub mod completions;
pub mod decrypt;
pub mod demo;
pub mod doctor;
pub mod edit;
pub mod encrypt;
pub mod example;
pub mod exec;
pub mod hooks;
pub mod init;
pub mod list;
pub mod log;
pub mod merge_driver;
pub mod pull;
pub mod push;
pub mod rekey;
pub mod rotate;
pub mod show;
pub mod textconv;

use crate::cli::{Cli, Command, GlobalArgs};
use crate::error::{Error, Result};
use crate::ui::Ui;
use std::path::PathBuf;

/// What every command gets: output settings, the global flags, and the
/// directory it runs in (after `-C`).
pub struct Ctx {
    pub ui: Ui,
    pub global: GlobalArgs,
    pub cwd: PathBuf,
}

/// Runs the parsed command line; returns the exit code.
pub fn run(cli: Cli) -> Result<i32> {
    // Before anything is read: almost every command decrypts (doctor and list
    // check every secret, example and the leak guards compare values, init
    // may generate a key), and a crash must not write any of it to a core file.
    crate::plaintext::disable_core_dumps();
    let cwd = match &cli.global.chdir {
        Some(p) => std::fs::canonicalize(p).map_err(|e| {
            Error::usage(format!("cannot change to '{}': {e}", p.display()))
                .hint("check the path given to -C")
        })?,
        None => std::env::current_dir()
            .map_err(|e| Error::new(format!("cannot read the current directory: {e}")))?,
    };
    if !cwd.is_dir() {
        return Err(
            Error::usage(format!("'{}' is not a directory", cwd.display()))
                .hint("-C takes a directory"),
        );
    }
    let ctx = Ctx {
        ui: Ui {
            quiet: cli.global.quiet,
            verbose: cli.global.verbose,
            yes: cli.global.yes,
        },
        global: cli.global.clone(),
        cwd,
    };
    match cli.command {
        Command::Decrypt(a) => decrypt::run(&ctx, a),
        Command::Encrypt(a) => encrypt::run(&ctx, a),
        Command::Show(a) => show::run(&ctx, a),
        Command::Edit(a) => edit::run(&ctx, a),
        Command::Exec(a) => exec::run(&ctx, a),
        Command::Init(a) => init::run(&ctx, a),
        Command::Example(a) => example::run(&ctx, a),
        Command::Demo(a) => demo::run(&ctx, a),
        Command::Completions(a) => completions::run(&ctx, a),
        Command::Doctor(a) => doctor::run(&ctx, a),
        Command::Hooks(a) => hooks::run(&ctx, a),
        Command::Allow(a) => allow::run(&ctx, a),
        Command::Add(a) => add::run(&ctx, a),
        Command::Rotate(a) => rotate::run(&ctx, a),
        Command::Rekey(a) => rekey::run(&ctx, a),
        Command::List(a) => list::run(&ctx, a),
        Command::Push(a) => push::run(&ctx, a),
        Command::Pull(a) => pull::run(&ctx, a),
        Command::Log(a) => log::run(&ctx, a),
        Command::MergeDriver(a) => merge_driver::run(&ctx, a),
        Command::Textconv(a) => textconv::run(&ctx, a),
    }
}

/// Resolves `NAME|PATH`: an argument with a `/` is a file and needs no repository; a bare
/// word is always a secret name in the secrets dir (see `Layout::resolve` for why).
pub fn resolve_secret(ctx: &Ctx, arg: &crate::layout::SecretArg) -> Result<PathBuf> {
    let target = crate::layout::resolve_arg(arg, &ctx.cwd, || ctx.layout())?;
    Ok(target.path().to_path_buf())
}

impl Ctx {
    /// Finds the parent repo, secrets dir and example dir from the current dir.
    pub fn layout(&self) -> Result<crate::layout::Layout> {
        crate::layout::Layout::discover(
            &self.cwd,
            &crate::layout::Overrides {
                dir: self.global.dir.clone(),
                input: None,
            },
        )
    }
}

/// Shows who gains and who loses access (by key and by the name `.sops.yaml`
/// gives it; even with --quiet and --yes) and asks when a recipient changes
/// that the user did not name on the command line (rekey, doctor --fix).
pub fn confirm_recipient_change(
    ctx: &Ctx,
    change: &crate::recipient_change::RecipientChange,
) -> Result<bool> {
    ctx.ui.notice("this changes who can decrypt the secrets:");
    for line in change.summary_lines() {
        ctx.ui.notice(line);
    }
    if !change.needs_confirmation() {
        return Ok(true);
    }
    ctx.ui.confirm(&change.question(), "--yes")
}
