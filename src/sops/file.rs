//! A whole sops file: parse it, get its data key from the user's identities,
//! decrypt and verify the MAC, or encrypt plaintext into a new file.

use crate::error::{Error, Result};
use crate::sops::cipher::{new_data_key, Cipher, DataKey, Plain};
use crate::sops::codes;
use crate::sops::error::SopsError;
use crate::sops::formats::Format;
use crate::sops::keys::{wrap_data_key, Identities, Recipient};
use crate::sops::metadata::{AgeStanza, EncryptionRules, KeyGroup, Metadata, SOPS_VERSION};
use crate::sops::shamir;
use crate::sops::tree::{Node, PlainDocs, Scalar};
use crate::sops::walk::{self, Rules};
use zeroize::Zeroizing;

/// An encrypted sops file in memory.
#[derive(Debug, Clone)]
pub struct SopsFile {
    pub format: Format,
    /// The documents, values still `ENC[…]`.
    pub docs: Vec<Node>,
    pub metadata: Metadata,
}

/// A decrypted file: its plaintext and the cipher that remembers each
/// value's IV, so re-encrypting unchanged values keeps their ciphertext.
pub struct Decrypted {
    pub docs: PlainDocs,
    pub cipher: Cipher,
}

/// Who a new file is encrypted for: one or more key groups of recipients.
#[derive(Debug, Clone, Default)]
pub struct KeyPlan {
    pub groups: Vec<Vec<Recipient>>,
    pub shamir_threshold: i64,
}

impl KeyPlan {
    /// Every recipient of every group, as `.sops.yaml` writes it (`age1…`, `ssh-…`).
    pub fn recipients(&self) -> Vec<String> {
        self.groups
            .iter()
            .flatten()
            .map(|r| r.to_string())
            .collect()
    }

    /// One group with these recipients.
    pub fn single(recipients: Vec<Recipient>) -> KeyPlan {
        KeyPlan {
            groups: vec![recipients],
            shamir_threshold: 0,
        }
    }
}

impl SopsFile {
    /// Parses an encrypted file.
    pub fn parse(input: &[u8], format: Format) -> Result<SopsFile> {
        let (docs, meta) = format.parse_encrypted(input)?;
        let metadata = Metadata::from_node(&meta)?;
        Ok(SopsFile {
            format,
            docs,
            metadata,
        })
    }

    /// Writes the file in sops 3.11's layout.
    pub fn to_bytes(&self, indent: impl Into<crate::sops::formats::Indent>) -> Result<Vec<u8>> {
        self.format
            .emit_encrypted(&self.docs, &self.metadata.to_node(self.format), indent)
    }

    /// Recovers the data key with the user's identities.
    pub fn data_key(&self, ids: &Identities) -> Result<DataKey> {
        self.data_key_inner(ids)
            .map_err(|e| e.sops_default(codes::COULD_NOT_RETRIEVE_KEY))
    }

    fn data_key_inner(&self, ids: &Identities) -> Result<DataKey> {
        let groups = &self.metadata.key_groups;
        let age_count: usize = groups.iter().map(|g| g.age.len()).sum();
        if age_count == 0 {
            let mut types: Vec<&str> = groups.iter().flat_map(KeyGroup::other_types).collect();
            types.sort_unstable();
            types.dedup();
            return Err(SopsError::OnlyForeignKeys {
                types: if types.is_empty() {
                    "unknown".to_string()
                } else {
                    types.join(", ")
                },
            }
            .into());
        }
        if ids.is_empty() {
            return Err(SopsError::NoIdentity {
                looked: ids.looked.clone(),
                key_file: crate::sops::keys::default_key_file(),
            }
            .into());
        }
        let mut parts: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        for g in groups {
            if let Some(k) = g.age.iter().find_map(|a| ids.unwrap_bytes(&a.enc)) {
                parts.push(k);
            }
        }
        let needed = if groups.len() > 1 {
            if self.metadata.shamir_threshold > 0 {
                self.metadata.shamir_threshold as usize
            } else {
                groups.len()
            }
        } else {
            1
        };
        if parts.len() < needed {
            return Err(SopsError::NotARecipient {
                unlocked: parts.len(),
                needed,
                recipients: self.metadata.age_recipients().join(", "),
                own_key: ids.recipients().first().map(|r| r.to_string()),
                unusable: ids.unusable(),
            }
            .into());
        }
        if groups.len() == 1 {
            let bytes: [u8; 32] = parts[0][..]
                .try_into()
                .map_err(|_| Error::new("the data key has the wrong length"))?;
            return Ok(Zeroizing::new(bytes));
        }
        let secret = shamir::combine(&parts[..needed])?;
        let bytes: [u8; 32] = secret[..]
            .try_into()
            .map_err(|_| SopsError::SharesDoNotCombine)?;
        Ok(Zeroizing::new(bytes))
    }

    /// Decrypts the file and verifies its MAC.
    pub fn decrypt(&self, ids: &Identities) -> Result<Decrypted> {
        let key = self.data_key(ids)?;
        self.decrypt_with_key(key)
    }

    /// Decrypts with a known data key and verifies the MAC.
    pub fn decrypt_with_key(&self, key: DataKey) -> Result<Decrypted> {
        let mut cipher = Cipher::new(key);
        let rules = Rules::new(&self.metadata.rules)?;
        let (docs, computed) = walk::decrypt(&self.docs, &rules, &mut cipher)
            .map_err(|e| e.sops_default(codes::ERROR_DECRYPTING_TREE))?;
        let docs = PlainDocs(docs);
        let stored = match cipher.decrypt(&self.metadata.mac, &self.metadata.mac_aad()?) {
            Ok(Plain::Value(Scalar::Str(s))) => s,
            _ => return Err(SopsError::MacUndecryptable.into()),
        };
        if !mac_matches(&stored, &computed) {
            return Err(SopsError::MacMismatch.into());
        }
        Ok(Decrypted { docs, cipher })
    }

    /// Re-wraps the data key for `plan` (sops `updatekeys`): values,
    /// `lastmodified`, MAC and version stay as they are.
    pub fn update_keys(&mut self, key: &DataKey, plan: &KeyPlan) -> Result<()> {
        let (groups, threshold) = wrap_for(key, plan)?;
        self.metadata.key_groups = groups;
        self.metadata.shamir_threshold = threshold;
        Ok(())
    }
}

/// Whether a file's stored MAC equals the one computed from its content, compared in
/// constant time: how much of a forged MAC matched must not show in the timing.
pub fn mac_matches(stored: &str, computed: &str) -> bool {
    subtle::ConstantTimeEq::ct_eq(stored.as_bytes(), computed.as_bytes()).into()
}

fn wrap_for(key: &DataKey, plan: &KeyPlan) -> Result<(Vec<KeyGroup>, i64)> {
    if plan.groups.iter().all(Vec::is_empty) {
        return Err(SopsError::NoRecipients.into());
    }
    let wrap_group = |secret: &DataKey, rs: &[Recipient]| -> Result<KeyGroup> {
        Ok(KeyGroup {
            age: rs
                .iter()
                .map(|r| {
                    Ok(AgeStanza {
                        recipient: r.to_string(),
                        enc: wrap_data_key(secret, r)?,
                    })
                })
                .collect::<Result<_>>()?,
            other: Vec::new(),
        })
    };
    if plan.groups.len() == 1 {
        return Ok((vec![wrap_group(key, &plan.groups[0])?], 0));
    }
    let threshold = if plan.shamir_threshold > 0 {
        plan.shamir_threshold as usize
    } else {
        plan.groups.len()
    };
    let shares = shamir::split(&key[..], plan.groups.len(), threshold)?;
    let mut groups = Vec::new();
    for (share, rs) in shares.iter().zip(&plan.groups) {
        // A share is 33 bytes; age wraps any bytes, so wrap the share itself.
        let mut g = KeyGroup::default();
        for r in rs {
            g.age.push(AgeStanza {
                recipient: r.to_string(),
                enc: wrap_bytes(share, r)?,
            });
        }
        groups.push(g);
    }
    // sops writes the threshold it used: with several groups and none given, all of them.
    Ok((groups, threshold as i64))
}

fn wrap_bytes(bytes: &[u8], r: &Recipient) -> Result<String> {
    // wrap_data_key takes exactly 32 bytes; shares are 33, so go through age directly.
    crate::sops::keys::wrap_bytes(bytes, r)
}

/// Encrypts plaintext documents into a new sops file. Pass the cipher of a
/// previous decryption to keep unchanged values' ciphertext and data key
/// (edit); pass `None` for a fresh data key.
pub fn encrypt(
    docs: &[Node],
    format: Format,
    plan: Option<&KeyPlan>,
    previous: Option<(&mut Cipher, &Metadata)>,
    rules: EncryptionRules,
) -> Result<SopsFile> {
    // Never write a file without a document: it would hold no metadata, so it would not
    // be a sops file at all (and its content would be lost).
    if docs.is_empty() {
        return Err(crate::sops::formats::no_document(true));
    }
    // A binary file is one value that is always encrypted: sops drops every rule for it
    // (and writes none into its metadata).
    let rules = if format == Format::Binary {
        EncryptionRules::default()
    } else {
        rules
    };
    // A new file's cipher lives here; an edit's is the caller's.
    let mut fresh: Cipher;
    let (cipher, mut metadata, enc_docs, mac) = match previous {
        Some((c, md)) => {
            let compiled = Rules::new(&md.rules)?;
            let (enc_docs, mac) = walk::encrypt(docs, &compiled, c)?;
            (c, md.clone(), enc_docs, mac)
        }
        None => {
            let key = new_data_key();
            let plan = plan.ok_or_else(|| Error::new("no recipients to encrypt to"))?;
            let mut cipher = Cipher::new(key.clone());
            // The data key is wrapped for the recipients (an X25519 exchange each, a
            // quarter of a small file's encrypt) while the values are encrypted.
            let (wrapped, walked) = beside(
                walk::has_leaves(docs, WRAP_BESIDE_MIN_LEAVES),
                || wrap_for(&key, plan),
                || {
                    let compiled = Rules::new(&rules)?;
                    walk::encrypt(docs, &compiled, &mut cipher)
                },
            );
            // The errors in the order they came before: recipients, then rules, values.
            let (key_groups, shamir_threshold) = wrapped?;
            let (enc_docs, mac) = walked?;
            let metadata = Metadata {
                shamir_threshold,
                key_groups,
                rules,
                ..Default::default()
            };
            fresh = cipher;
            (&mut fresh, metadata, enc_docs, mac)
        }
    };
    metadata.touch();
    metadata.version = SOPS_VERSION.to_string();
    metadata.mac = cipher.encrypt(&Plain::Value(Scalar::Str(mac)), &metadata.mac_aad()?)?;
    Ok(SopsFile {
        format,
        docs: enc_docs,
        metadata,
    })
}

/// From this many leaves a new file's data key is wrapped on a second thread while its
/// values are encrypted: below, the walk is shorter than starting a thread.
const WRAP_BESIDE_MIN_LEAVES: usize = 16;

/// Runs `a` on a second thread while `b` runs on this one when `parallel`, one after the
/// other otherwise (or when no thread can be started).
fn beside<T: Send, B>(
    parallel: bool,
    a: impl FnOnce() -> Result<T> + Send,
    b: impl FnOnce() -> B,
) -> (Result<T>, B) {
    if !parallel {
        return (a(), b());
    }
    // Taken by the thread, or back here when the thread could not be started.
    let slot = std::sync::Mutex::new(Some(a));
    let take = || slot.lock().ok().and_then(|mut a| a.take());
    std::thread::scope(|scope| {
        let started = std::thread::Builder::new().spawn_scoped(scope, || take().map(|a| a()));
        let b = b();
        let a = match started.map(|h| h.join()) {
            Ok(Ok(Some(a))) => a,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            // Not started (or it found nothing to run, which cannot be): run it here.
            Ok(Ok(None)) | Err(_) => match take() {
                Some(a) => a(),
                None => Err(Error::new("the key wrapping thread returned nothing")),
            },
        };
        (a, b)
    })
}

/// Reads and parses an encrypted file (`-` reads stdin).
pub fn load(path: &std::path::Path, format: Option<Format>) -> Result<SopsFile> {
    let format = format.unwrap_or_else(|| Format::from_path(path));
    let bytes = read_input(path)?;
    SopsFile::parse(&bytes, format).map_err(|e| {
        let mut e2 = Error::new(format!("{}: {}", path.display(), e.message));
        e2.hints = e.hints;
        e2.sops_code = e.sops_code;
        e2
    })
}

/// Reads a file, or stdin for `-`.
pub fn read_input(path: &std::path::Path) -> Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        use std::io::Read;
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf).map_err(|e| {
            Error::new(format!("cannot read stdin: {e}")).sops(codes::COULD_NOT_READ_INPUT_FILE)
        })?;
        Ok(buf)
    } else {
        std::fs::read(path).map_err(|e| {
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                codes::NO_FILE_SPECIFIED
            } else {
                codes::COULD_NOT_READ_INPUT_FILE
            };
            Error::io("read", path, e).sops(code)
        })
    }
}

/// What `sops decrypt [--extract PATH]` prints: the whole plaintext in
/// `format`, or the part at `steps` (see [`render_extract`]).
pub fn render_plain(
    docs: &PlainDocs,
    steps: Option<&[crate::sops::path::Step]>,
    format: Format,
    indent: impl Into<crate::sops::formats::Indent>,
) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    let indent = indent.into();
    let bytes = match steps {
        Some(steps) => {
            let first = docs
                .0
                .first()
                .ok_or_else(|| Error::new("the file has no document"))?;
            render_extract(crate::sops::path::lookup(first, steps)?, format, indent)?
        }
        None => format
            .emit_plain(&docs.0, indent)
            .map_err(|e| e.sops_default(codes::ERROR_DUMPING_TREE))?,
    };
    Ok(zeroize::Zeroizing::new(bytes))
}

/// What `sops decrypt --extract` prints for a node: a map as a whole file in
/// the output format, a string as its raw bytes, anything else as a value.
pub fn render_extract(
    node: &Node,
    format: Format,
    indent: impl Into<crate::sops::formats::Indent>,
) -> Result<Vec<u8>> {
    let indent = indent.into();
    match node {
        Node::Map(_) => format.emit_plain(std::slice::from_ref(node), indent),
        Node::Scalar(Scalar::Str(s)) => Ok(s.as_bytes().to_vec()),
        Node::Scalar(Scalar::Bytes(b)) => Ok(b.clone()),
        // sops prints a JSON list or non-string scalar without a final newline.
        _ => match format {
            Format::Json => {
                crate::sops::formats::json::emit_indented(node, indent.json).map(|mut b| {
                    if b.last() == Some(&b'\n') {
                        b.pop();
                    }
                    b
                })
            }
            Format::Yaml => crate::sops::formats::yaml::emit_value(node, indent.yaml),
            _ => Err(SopsError::OnlyStringsPrintable {
                format: format.name().to_string(),
            }
            .into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A map of `n` string values.
    fn values(n: usize) -> Vec<Node> {
        let text: String = (0..n).map(|i| format!("k{i}: v{i}\n")).collect();
        vec![crate::sops::formats::yaml::doc(&text)]
    }

    #[test]
    fn a_new_files_errors_come_in_order_whether_the_key_is_wrapped_beside_or_not() {
        let two_rules = EncryptionRules {
            encrypted_suffix: Some("_e".into()),
            unencrypted_suffix: Some("_u".into()),
            ..Default::default()
        };
        let nobody = KeyPlan::single(Vec::new());
        for n in [1, WRAP_BESIDE_MIN_LEAVES + 4] {
            let docs = values(n);
            // No recipient and conflicting rules: the recipients are reported.
            let e = encrypt(&docs, Format::Yaml, Some(&nobody), None, two_rules.clone())
                .err()
                .unwrap();
            e.assert_says("no recipients");
            let someone = KeyPlan::single(vec![Recipient::parse(
                "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p",
            )
            .unwrap()]);
            let e = encrypt(&docs, Format::Yaml, Some(&someone), None, two_rules.clone())
                .err()
                .unwrap();
            e.assert_says("more than one of");
            let file = encrypt(
                &docs,
                Format::Yaml,
                Some(&someone),
                None,
                EncryptionRules::default(),
            )
            .unwrap();
            assert_eq!(file.metadata.key_groups[0].age.len(), 1);
            assert_eq!(file.docs[0].keys().len(), n);
        }
    }

    #[test]
    fn work_beside_gives_what_work_in_turn_gives() {
        for parallel in [false, true] {
            let (a, b) = beside(parallel, || Ok(1 + 1), || "b");
            assert_eq!((a.unwrap(), b), (2, "b"));
            let (a, _) = beside(parallel, || Err::<(), _>(Error::new("x")), || ());
            a.unwrap_err().assert_says("x");
        }
    }

    #[test]
    fn mac_compare_is_exact() {
        let a = "A".repeat(128);
        assert!(mac_matches(&a, &a));
        assert!(!mac_matches(&a, &"a".repeat(128)));
        assert!(!mac_matches(&a, &"A".repeat(127)));
        assert!(!mac_matches(&a, ""));
    }
}
