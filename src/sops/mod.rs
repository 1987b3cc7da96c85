//! The SOPS file format, read and written natively, byte-compatible with the
//! `sops` 3.x binary. See `shared/SOPS-NOTES.md` for the facts it rests on.

pub mod b64;
pub mod cipher;
pub mod codes;
pub mod config_edit;
pub mod error;
pub mod file;
pub mod formats;
pub mod keys;
pub mod metadata;
pub mod path;
pub mod re2;
pub mod rules;
pub mod shamir;
pub mod tree;
pub mod walk;
