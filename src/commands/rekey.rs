//! `git secrets rekey [--add-recipient R] [--remove-recipient R]`: wrap
//! every secret's data key for the recipients `.sops.yaml` names now (sops
//! `updatekeys` over the whole tree), commit once, relock. The work is
//! [`crate::change::rekey`], which `doctor --fix` calls too.

use super::Ctx;
use crate::change::{rekey, Transaction};
use crate::cli::ChangeArgs;
use crate::error::{Error, Result};
use crate::sops::config_edit::RecipientEdit;
use crate::sops::keys::Recipient;
use clap::Args;

#[derive(Debug, Args)]
pub struct RekeyArgs {
    /// Add this age recipient to .sops.yaml first.
    #[arg(long = "add-recipient", value_name = "AGE", value_parser = Recipient::parse)]
    pub add: Vec<Recipient>,
    /// Remove this age recipient from .sops.yaml first (also rotates every data key).
    #[arg(long = "remove-recipient", value_name = "AGE", value_parser = Recipient::parse)]
    pub remove: Vec<Recipient>,
    #[command(flatten)]
    pub change: ChangeArgs,
}

pub fn run(ctx: &Ctx, args: RekeyArgs) -> Result<i32> {
    // canonical text, so one key written two ways is one recipient
    let canon = |list: &[Recipient]| list.iter().map(Recipient::to_string).collect();
    let edit = RecipientEdit {
        add: canon(&args.add),
        remove: canon(&args.remove),
    };
    if let Some(r) = edit.add.iter().find(|r| edit.remove.contains(r)) {
        return Err(Error::usage(format!("{r} is both added and removed"))
            .hint("pass it to only one of --add-recipient and --remove-recipient"));
    }
    let tx = Transaction::open(ctx.layout()?, &ctx.ui)?;
    let done = rekey::rekey(&tx, &edit, &ctx.ui, &|change| {
        super::confirm_recipient_change(ctx, change)
    })?;
    let message = args.change.message_or(|| rekey::message(&edit));
    tx.finish(&done.paths, &message, &args.change.options(), &ctx.ui)?;
    Ok(0)
}
