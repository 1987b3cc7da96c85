//! sops metadata: a whole encrypted file parsed from arbitrary YAML/JSON
//! never panics, and the metadata writer accepts whatever the reader made.
#![no_main]
use git_secrets::sops::file::SopsFile;
use git_secrets::sops::formats::Format;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let format = if sel % 2 == 0 {
        Format::Yaml
    } else {
        Format::Json
    };
    if let Ok(file) = SopsFile::parse(rest, format) {
        let _ = file.to_bytes(4);
        let _ = file.metadata.mac_aad();
    }
});
