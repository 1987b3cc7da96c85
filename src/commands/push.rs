//! `git secrets push [--parent]`: push the secrets repo to its upstream with the user's
//! own `git push`, then say what is left for the parent — or, with `--parent`, commit
//! the relocked `flake.lock` alone and push the parent too (its pre-push guard runs).

use super::Ctx;
use crate::error::Result;
use clap::Args;

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Then commit the relocked flake.lock alone in the parent and push the parent.
    #[arg(long)]
    pub parent: bool,
}

pub fn run(ctx: &Ctx, args: PushArgs) -> Result<i32> {
    let layout = ctx.layout()?;
    let inner = crate::wiring::inner_repo(&layout)?;
    crate::change::push::push_then_parent(&layout, &inner, args.parent, &ctx.ui)?;
    Ok(0)
}
