//! Every format parser (plain and encrypted) on arbitrary bytes: no panic,
//! and what parses as plaintext is written back out as a file that parses
//! and writes again (we never write what we cannot read; INI aside, see
//! below). The first byte
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
        if let Ok(out) = format.emit_plain(&docs, indent) {
            // INI is exempt: its writer copies go-ini's, as sops does, and
            // that writes some keys unquoted that read back otherwise (a
            // `-` key is read as `#1` and written as a comment; `[a` as a
            // section header). Not byte-equal either: sops' YAML layout is
            // not a fixed point.
            if format != Format::Ini {
                let again = format.parse_plain(&out).expect("emitted plaintext parses");
                format.emit_plain(&again, indent).expect("re-emits");
            }
        }
    }
    let _ = format.parse_encrypted(rest);
});
