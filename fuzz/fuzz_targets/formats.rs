//! Every format parser (plain and encrypted) on arbitrary bytes: no panic,
//! and what parses as plaintext can be written back out.
#![no_main]
use git_secrets::sops::formats::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else { return };
    let format = [Format::Yaml, Format::Json, Format::Dotenv, Format::Ini, Format::Binary][sel as usize % 5];
    if let Ok(docs) = format.parse_plain(rest) {
        let _ = format.emit_plain(&docs);
    }
    let _ = format.parse_encrypted(rest);
});
