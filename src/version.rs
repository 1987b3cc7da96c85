//! The version string: the crate version plus `git describe` of the build
//! (set by build.rs).

/// `0.1.0 (abc1234)`.
pub const LONG: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("GIT_SECRETS_DESCRIBE"),
    ")"
);
