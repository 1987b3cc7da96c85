//! Fault injection for the crash-safety tests. In debug builds only, when
//! `GIT_SECRETS_FAILPOINT` names a point, the command stops there: with an
//! error (`NAME`), killed by SIGKILL like `kill -9` (`NAME:kill`), or aborted
//! (`NAME:abort`); the last two run no cleanup at all. Release builds compile
//! every point to nothing.

use crate::error::Result;

/// The environment variable that names the point to stop at.
#[cfg_attr(not(debug_assertions), allow(dead_code))]
pub const ENV: &str = "GIT_SECRETS_FAILPOINT";

/// Stops here when the test asked for this point.
#[inline]
pub fn hit(name: &str) -> Result<()> {
    #[cfg(debug_assertions)]
    if let Ok(wanted) = std::env::var(ENV) {
        if wanted == format!("{name}:kill") {
            // SIGKILL cannot be caught: no destructor, no signal handler runs.
            let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
            std::process::abort();
        }
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
