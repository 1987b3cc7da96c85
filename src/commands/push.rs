//! `git secrets push [--parent]`: push the secrets repo to its upstream with the user's
//! own `git push`, then say what is left for the parent — or, with `--parent`, commit
//! the relocked `flake.lock` alone and push the parent too (its pre-push guard runs).

use super::Ctx;
use crate::cli::PushArgs;
use crate::error::Result;

pub fn run(ctx: &Ctx, args: PushArgs) -> Result<i32> {
    let layout = ctx.layout()?;
    let inner = crate::wiring::inner_repo(&layout)?;
    crate::change::push::push_then_parent(&layout, &inner, args.parent, &ctx.ui)?;
    Ok(0)
}
