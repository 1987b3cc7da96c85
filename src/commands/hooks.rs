//! `git secrets hooks install|uninstall`: the parent's pre-commit and pre-push guards.

use super::Ctx;
use crate::cli::{HooksAction, HooksArgs};
use crate::error::Result;

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
