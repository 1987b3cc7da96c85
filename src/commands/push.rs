//! `git secrets push [--parent]`: push the secrets repo to its upstream with the user's
//! own `git push`, then say what is left for the parent — or, with `--parent`, commit
//! the relocked `flake.lock` alone and push the parent too (its pre-push guard runs).

use super::Ctx;
use crate::cli::PushArgs;
use crate::error::Result;
use crate::relock::inner_repo;

pub fn run(ctx: &Ctx, args: PushArgs) -> Result<i32> {
    let layout = ctx.layout()?;
    let inner = inner_repo(&layout)?;
    super::change::push_then_parent(ctx, &layout, &inner, args.parent)?;
    Ok(0)
}
