//! Every format parser (plain and encrypted) on arbitrary bytes: no panic,
//! and what parses as plaintext can be written back out. The first byte
//! picks the format (mod 5) and the YAML indent (the rest, 0..=11: go-yaml
//! clamps what is outside 2..=9, so both sides of the clamp are covered).
#![no_main]
use git_secrets::sops::formats::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let format = [
        Format::Yaml,
        Format::Json,
        Format::Dotenv,
        Format::Ini,
        Format::Binary,
    ][sel as usize % 5];
    let indent = (sel / 5) as usize % 12;
    if let Ok(docs) = format.parse_plain(rest) {
        let _ = format.emit_plain(&docs, indent);
    }
    let _ = format.parse_encrypted(rest);
});
