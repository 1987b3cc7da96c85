//! `nix --version` parsing never panics, and a parsed version always
//! picks a lock command.
#![no_main]
use git_secrets::nix::NixVersion;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(v) = NixVersion::parse(s) {
            let _ = v.lock_command().args("x");
        }
    }
});
