//! git-secrets: a private sops/age secrets repo nested in a public Nix flake.
//!
//! The library never prints; `commands/` is the only place that talks to the
//! user, and `main.rs` renders errors.

pub mod allowlist;
pub mod atomic;
pub mod change;
pub mod checks;
pub mod cli;
pub mod commands;
pub mod editor;
pub mod error;
pub mod example;
pub mod failpoint;
pub mod git;
pub mod hooks;
pub mod layout;
pub mod lock_direction;
pub mod man;
pub mod man_lookup;
pub mod nix;
pub mod plaintext;
pub mod progress;
pub mod quote;
pub mod recipient_change;
pub mod repo_lock;
pub mod sops;
pub mod ui;
pub mod version;
pub mod wiring;

pub use error::{Error, Result};
