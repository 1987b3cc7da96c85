//! flake.lock reading and input resolution (follows lists, cycles) never panic.
#![no_main]
use git_secrets::nix::FlakeLock;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(lock) = FlakeLock::parse(data) {
        for input in lock.root_inputs() {
            let _ = lock.input(&input);
            let _ = lock.verify(&input, "0123456789abcdef0123456789abcdef01234567");
        }
    }
});
