//! `git secrets hooks install|uninstall`: the parent's pre-commit and pre-push guards.

use super::Ctx;
use crate::error::Result;
use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct HooksArgs {
    #[command(subcommand)]
    pub action: HooksAction,
}
#[derive(Debug, Subcommand)]
pub enum HooksAction {
    /// Install pre-commit and pre-push guards (chaining to existing hooks).
    Install,
    /// Remove them, restoring what was there before.
    Uninstall,
}

/// Installs or removes the guards; returns the exit code.
pub fn run(ctx: &Ctx, args: HooksArgs) -> Result<i32> {
    let layout = ctx.layout()?;
    let dir = crate::hooks::hooks_dir(&layout.parent)?;
    let done = match args.action {
        HooksAction::Install => crate::hooks::install(&dir, &crate::hooks::binary_to_bake()?)?,
        HooksAction::Uninstall => crate::hooks::uninstall(&dir)?,
    };
    for line in done {
        ctx.ui.ok(line);
    }
    Ok(0)
}
