//! YAML as sops 3.11 reads and writes it: go-yaml v3's layout (indent 4 by
//! default, no line folding), comments kept as tree items, anchors expanded.
//!
//! `parse` and `emit` are built so that `emit(parse(x))` prints what
//! `sops encrypt x | sops decrypt` prints, and an encrypted file written by
//! sops reads back and writes out byte for byte. See `fixtures/yaml/`.

mod emit;
mod parse;
mod resolve;

pub use emit::{emit, emit_value, emit_with_last};
pub use parse::parse;
pub(crate) use parse::shown_char;

/// go-yaml v3's default indent, which sops keeps unless `.sops.yaml` says otherwise.
pub const DEFAULT_INDENT: usize = 4;

/// The one document of `text`: tests write the trees they start from as YAML.
#[cfg(test)]
pub(crate) fn doc(text: &str) -> crate::sops::tree::Node {
    let mut docs = parse(text.as_bytes()).expect("a test's YAML parses");
    assert_eq!(docs.len(), 1, "a test's YAML is one document");
    docs.remove(0)
}
