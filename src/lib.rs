//! git-secrets: a private sops/age secrets repo nested in a public Nix flake.
//!
//! The library never prints; `commands/` is the only place that talks to the
//! user, and `main.rs` renders errors.

pub mod error;
pub mod git;
pub mod layout;
pub mod sops;

pub use error::{Error, Result};
