//! flake.nix input discovery and editing never panic; an insertion that
//! succeeds yields a file that still parses and has the input.
#![no_main]
use git_secrets::nix::flake_nix::{find_secrets_input, insert_input, FlakeInputs};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        let _ = find_secrets_input(src, "./secrets");
        if let Ok(out) = insert_input(src, "fuzz-secrets", "git+file:./secrets") {
            let inputs = FlakeInputs::parse(&out).expect("edited flake.nix parses");
            assert!(inputs.get("fuzz-secrets").is_some());
        }
    }
});
