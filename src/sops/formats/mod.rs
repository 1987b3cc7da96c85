//! File formats sops reads and writes. Each format turns bytes into the
//! neutral [`Node`] tree and back, in exactly the layout sops 3.11 writes.
//!
//! Encrypted files carry sops' metadata: YAML and JSON as a top-level `sops`
//! key (per document), dotenv as flattened `sops_*` keys, INI as a `[sops]`
//! section, binary files as JSON. Each format moves it between its own shape
//! and the nested metadata map (`metadata` below) so the core never sees the
//! difference.

pub mod binary;
mod cursor;
pub mod dotenv;
mod flatten;
pub mod ini;
pub mod json;
pub mod yaml;

use crate::error::{Error, Result};
use crate::sops::error::SopsError;
use crate::sops::tree::Node;
use flatten::put_metadata;
use std::path::Path;

/// How files are indented: `.sops.yaml`'s `stores` settings, which sops applies when
/// it writes (encrypted or decrypted) YAML, JSON and binary (JSON) files. A plain
/// number is a YAML indent with the JSON defaults, so callers that only know the YAML
/// indent keep working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Indent {
    /// Spaces per YAML level (go-yaml's range 2–9; sops' default 4).
    pub yaml: usize,
    /// `stores.json.indent`: `None` is a tab (sops' default), `Some(n)` n spaces.
    pub json: Option<usize>,
    /// `stores.json_binary.indent`, the same for the binary store's JSON.
    pub json_binary: Option<usize>,
}

impl From<usize> for Indent {
    fn from(yaml: usize) -> Indent {
        Indent {
            yaml,
            json: None,
            json_binary: None,
        }
    }
}

impl Default for Indent {
    fn default() -> Indent {
        Indent::from(yaml::DEFAULT_INDENT)
    }
}

impl Indent {
    /// The indent a file sops wrote in `format` was written with, read back from its
    /// layout: for YAML the first line under `sops:` (one level in, 2–9 spaces), for JSON
    /// and binary the first line after the opening `{` (a tab, or n spaces); the
    /// defaults for dotenv and INI, which have none. `None` when the layout does not say
    /// (a hand-written or damaged file). The other stores' indents are the defaults.
    pub fn of_written(bytes: &[u8], format: Format) -> Option<Indent> {
        let text = std::str::from_utf8(bytes).ok()?;
        let d = Indent::default();
        match format {
            Format::Yaml => {
                let mut lines = text.lines().skip_while(|l| *l != "sops:");
                lines.next()?;
                let first = lines.find(|l| !l.trim().is_empty())?;
                let n = first.len() - first.trim_start_matches(' ').len();
                (2..=9).contains(&n).then_some(Indent { yaml: n, ..d })
            }
            Format::Json | Format::Binary => {
                let mut lines = text.lines();
                if lines.next()? != "{" {
                    return None;
                }
                let first = lines.next()?;
                let lead = &first[..first.len() - first.trim_start().len()];
                let unit = if lead == "\t" {
                    None
                } else if lead.bytes().all(|b| b == b' ') {
                    Some(lead.len())
                } else {
                    return None;
                };
                Some(match format {
                    Format::Json => Indent { json: unit, ..d },
                    _ => Indent {
                        json_binary: unit,
                        ..d
                    },
                })
            }
            Format::Dotenv | Format::Ini => Some(d),
        }
    }
}

/// The formats sops knows, named as sops' input and output type options name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
    Dotenv,
    Ini,
    Binary,
}

impl Format {
    /// The format sops picks from a file name: by the suffix of the path (`.yaml`,
    /// `.yml`, `.json`, `.env`, `.ini`), binary otherwise. A suffix, not an extension: a
    /// file named only `.yaml` or `.env` is YAML or dotenv to sops, as it is here.
    pub fn from_path(path: &Path) -> Format {
        let name = path.to_string_lossy();
        if name.ends_with(".yaml") || name.ends_with(".yml") {
            Format::Yaml
        } else if name.ends_with(".json") {
            Format::Json
        } else if name.ends_with(".env") {
            Format::Dotenv
        } else if name.ends_with(".ini") {
            Format::Ini
        } else {
            Format::Binary
        }
    }

    /// Parses an input or output type name (sops' names).
    pub fn parse(name: &str) -> Result<Format> {
        match name {
            "yaml" => Ok(Format::Yaml),
            "json" => Ok(Format::Json),
            "dotenv" => Ok(Format::Dotenv),
            "ini" => Ok(Format::Ini),
            "binary" => Ok(Format::Binary),
            other => Err(SopsError::UnknownFormat(other.to_string()).into()),
        }
    }

    /// The format's name in prose: `YAML`, `JSON`, `dotenv`, `INI`, `binary`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Yaml => "YAML",
            Format::Json => "JSON",
            Format::Dotenv => "dotenv",
            Format::Ini => "INI",
            Format::Binary => "binary",
        }
    }

    /// The file extension sops associates with the format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
            Format::Dotenv => "env",
            Format::Ini => "ini",
            Format::Binary => "bin",
        }
    }

    /// Parses a plaintext file into documents (only YAML has more than one).
    /// A YAML file with no document (empty, or only comments and blank lines) is refused
    /// as sops refuses it: encrypting it would write a file that is not a sops file.
    pub fn parse_plain(self, input: &[u8]) -> Result<Vec<Node>> {
        match self {
            Format::Yaml => {
                let docs = yaml::parse(input)?;
                if docs.is_empty() {
                    return Err(no_document(input.is_empty()));
                }
                // A document that is only `~` (or empty between `---` lines) is an empty
                // map to sops: it encrypts it as `{}`.
                Ok(docs
                    .into_iter()
                    .map(|d| match d {
                        Node::Scalar(crate::sops::tree::Scalar::Null) => Node::Map(Vec::new()),
                        other => other,
                    })
                    .collect())
            }
            Format::Json => json::parse(input).map(|d| vec![d]),
            Format::Dotenv => dotenv::parse(input).map(|d| vec![d]),
            Format::Ini => ini::parse(input).map(|d| vec![d]),
            Format::Binary => Ok(vec![binary::wrap(input)]),
        }
    }

    /// Writes plaintext documents the way `sops decrypt` prints them.
    /// `indent`: the `stores` indents (see `rules::store_indent`); a number is YAML only.
    pub fn emit_plain(self, docs: &[Node], indent: impl Into<Indent>) -> Result<Vec<u8>> {
        let indent = indent.into();
        match self {
            Format::Yaml => yaml::emit(docs, indent.yaml),
            Format::Json => json::emit_indented(one(docs)?, indent.json),
            Format::Dotenv => dotenv::emit(one(docs)?),
            Format::Ini => ini::emit(one(docs)?),
            Format::Binary => binary::unwrap(one(docs)?),
        }
    }

    /// For tests: `input` read and written back as this format's plaintext.
    #[cfg(test)]
    pub(crate) fn round_trip(self, input: &str) -> String {
        let docs = self
            .parse_plain(input.as_bytes())
            .expect("a test's input parses");
        let out = self
            .emit_plain(&docs, Indent::default())
            .expect("and is written back");
        String::from_utf8(out).expect("as UTF-8")
    }

    /// Parses an encrypted file into its documents (still holding `ENC[…]`
    /// strings) and the nested metadata map.
    pub fn parse_encrypted(self, input: &[u8]) -> Result<(Vec<Node>, Node)> {
        let mut docs = match self {
            Format::Yaml => yaml::parse(input)?,
            Format::Json | Format::Binary => vec![json::parse(input)?],
            Format::Dotenv => vec![dotenv::parse(input)?],
            Format::Ini => vec![ini::parse(input)?],
        };
        let metadata = match self {
            Format::Dotenv => dotenv::take_metadata(&mut docs[0])?,
            Format::Ini => ini::take_metadata(&mut docs[0])?,
            _ => {
                let mut found = None;
                for doc in docs.iter_mut() {
                    if let Some(m) = doc.remove("sops") {
                        found.get_or_insert(m);
                    }
                }
                found
            }
        };
        let metadata = metadata.ok_or(SopsError::NotEncryptedFile)?;
        Ok((docs, metadata))
    }

    /// Writes encrypted documents plus metadata in sops 3.11's layout.
    /// `indent` applies to YAML only (`.sops.yaml` `stores.yaml.indent`).
    pub fn emit_encrypted(
        self,
        docs: &[Node],
        metadata: &Node,
        indent: impl Into<Indent>,
    ) -> Result<Vec<u8>> {
        let indent = indent.into();
        use crate::sops::tree::MapItem;
        let last = || MapItem::Entry("sops".into(), metadata.clone());
        match self {
            // The metadata is appended while writing: copying every document to append
            // it cost as much as a second parse of a large file.
            Format::Yaml => yaml::emit_with_last(docs, &last(), indent.yaml),
            Format::Json => json::emit_indented_with_last(one(docs)?, &last(), indent.json),
            Format::Binary => {
                json::emit_indented_with_last(one(docs)?, &last(), indent.json_binary)
            }
            Format::Dotenv => dotenv::emit(&put_metadata(one(docs)?, metadata, dotenv::METADATA)?),
            Format::Ini => ini::emit(&put_metadata(one(docs)?, metadata, ini::METADATA)?),
        }
    }
}

/// The refusal for a plaintext with no document to encrypt, with sops' exit status.
pub fn no_document(empty: bool) -> Error {
    if empty {
        SopsError::EmptyFile.into()
    } else {
        SopsError::NoYamlDocument.into()
    }
}

fn one(docs: &[Node]) -> Result<&Node> {
    match docs {
        [d] => Ok(d),
        _ => Err(SopsError::NotOneDocument(docs.len()).into()),
    }
}

#[cfg(test)]
mod indent_tests {
    use super::*;

    #[test]
    fn the_indent_a_file_was_written_with_is_read_back_from_its_layout() {
        let yaml = |n: usize| format!("a: 1\nsops:\n{}age: []\n", " ".repeat(n));
        assert_eq!(
            Indent::of_written(yaml(2).as_bytes(), Format::Yaml)
                .unwrap()
                .yaml,
            2
        );
        assert_eq!(
            Indent::of_written(yaml(4).as_bytes(), Format::Yaml)
                .unwrap()
                .yaml,
            4
        );
        assert_eq!(Indent::of_written(yaml(0).as_bytes(), Format::Yaml), None);
        assert_eq!(Indent::of_written(b"a: 1\n", Format::Yaml), None);
        let json = Indent::of_written(b"{\n\t\"a\": 1\n}\n", Format::Json).unwrap();
        assert_eq!(json.json, None);
        let json = Indent::of_written(b"{\n  \"a\": 1\n}\n", Format::Json).unwrap();
        assert_eq!(json.json, Some(2));
        let bin = Indent::of_written(b"{\n   \"data\": 1\n}\n", Format::Binary).unwrap();
        assert_eq!((bin.json, bin.json_binary), (None, Some(3)));
        assert_eq!(Indent::of_written(b"{\"a\": 1}", Format::Json), None);
        assert_eq!(
            Indent::of_written(b"A=1\n", Format::Dotenv),
            Some(Indent::default())
        );
    }
}
