//! Fault injection for the crash-safety tests. In debug builds only, when
//! `GIT_SECRETS_FAILPOINT` names a point, the command stops there: with an
//! error (`NAME`) or as if killed, without any cleanup (`NAME:abort`).
//! Release builds compile every point to nothing.

use crate::error::Result;

/// The environment variable that names the point to stop at.
pub const ENV: &str = "GIT_SECRETS_FAILPOINT";

/// Stops here when the test asked for this point.
#[inline]
pub fn hit(name: &str) -> Result<()> {
    #[cfg(debug_assertions)]
    if let Ok(wanted) = std::env::var(ENV) {
        if wanted == format!("{name}:abort") {
            std::process::abort();
        }
        if wanted == name {
            return Err(
                crate::error::Error::new(format!("injected failure at {name}"))
                    .hint(format!("fault injection for tests ({ENV}); unset it")),
            );
        }
    }
    let _ = name;
    Ok(())
}
