//! git-secrets: a private sops/age secrets repo nested in a public Nix flake.
//!
//! The library never prints; `commands/` is the only place that talks to the
//! user, and `main.rs` renders errors. See docs/ARCHITECTURE.md for the layers.
//!
//! Public are only what the binary (`cli`, `commands`, `ui`), the integration tests and
//! the fuzz targets (`sops`, `nix`, `repo_lock`, `man`) use; the rest is the crate's own.

mod allowlist;
mod atomic;
mod change;
mod checks;
pub mod cli;
pub mod commands;
mod editor;
mod error;
mod example;
mod failpoint;
mod git;
mod hints;
mod hooks;
mod layout;
mod lock_direction;
pub mod man;
pub mod man_lookup;
pub mod nix;
mod one_shot;
mod plaintext;
mod progress;
mod quote;
mod recipient_change;
pub mod repo_lock;
pub mod sops;
pub mod ui;
mod version;
mod wiring;

pub use error::{Error, Result};
pub use one_shot::ArenaFirst;
