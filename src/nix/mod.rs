//! Nix plumbing for the parent flake: which Nix is installed and how it
//! locks an input, the lock step itself, and readers for `flake.lock` and
//! `flake.nix`. Nothing here prints; callers in `commands/` talk to the user.
//!
//! The facts that shape this module are in DESIGN.md "The lock step": Nix
//! sees only what the inner repo has committed, the lock command changed in
//! Nix 2.19, and a passing `nix eval` proves nothing about the lock, so every
//! lock is checked against the inner HEAD commit.

pub mod error;
pub mod flake_lock;
pub mod flake_nix;
pub mod lock;
pub mod template;
pub mod version;

pub use flake_lock::{FlakeLock, LockedInput};
pub use flake_nix::{FlakeInputs, Input, UrlKind};
pub use lock::{LockOutcome, LockRequest};
pub use version::{LockCommand, Nix, NixFlavor, NixVersion};
