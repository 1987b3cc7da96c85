//! `git secrets log [NAME]`: the secrets repo's history with decrypted diffs (values
//! masked unless `--show-values`), through the diff textconv `init` installs — who
//! changed which value when. Runs the user's `git log -p`, pager and all.

use super::Ctx;
use crate::error::{Error, Result};
use clap::Args;

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Only this secret's history (a name, or a path with a `/`).
    pub secret: Option<crate::layout::SecretArg>,
    /// Show the values in clear instead of masked.
    #[arg(long)]
    pub show_values: bool,
}

pub fn run(ctx: &Ctx, args: LogArgs) -> Result<i32> {
    let layout = ctx.layout()?;
    let inner = crate::wiring::inner_repo(&layout)?;
    if let Ok(exe) = std::env::current_exe() {
        if crate::wiring::drivers::install(&inner, &exe)? {
            ctx.ui
                .detail("installed the sops diff textconv in the secrets repo");
        }
    }
    let mut cmd = crate::git::command();
    cmd.arg("-C").arg(inner.root());
    if args.show_values {
        // read by `git secrets textconv`, which git runs for each version
        cmd.env("GIT_SECRETS_SHOW_VALUES", "1");
    }
    cmd.args(["log", "-p", "--textconv"]);
    if let Some(name) = &args.secret {
        let path = super::resolve_secret(ctx, name)?;
        let rela = inner.rela_path(&path)?;
        cmd.args(["--follow", "--", &rela]);
    }
    let status = cmd
        .status()
        .map_err(|e| Error::new(format!("cannot run git log: {e}")))?;
    Ok(if status.success() { 0 } else { 1 })
}
