//! The ENC[…] codec: parsing never panics, and a parsed value prints back
//! to a string that parses to the same parts.
#![no_main]
use git_secrets::sops::cipher::EncValue;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(v) = EncValue::parse(s) {
            let again = EncValue::parse(&v.to_string_sops()).expect("re-parse");
            assert_eq!(v, again);
        }
    }
});
