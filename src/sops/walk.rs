//! Walks a document tree the way sops does, encrypting or decrypting each
//! leaf with its key path as additional data and hashing the plaintext into
//! the MAC (`Tree.Encrypt` / `Tree.Decrypt` in sops.go).

use crate::error::Result;
use crate::sops::cipher::{Cipher, Plain};
use crate::sops::error::SopsError;
use crate::sops::metadata::EncryptionRules;
use crate::sops::re2;
use crate::sops::rules::{check_one_rule_option, with_default_suffix};
use crate::sops::tree::{MapItem, Node, Scalar, SeqItem};
use regex::Regex;
use sha2::{Digest, Sha512};

/// The bytes a MAC with `mac_only_encrypted` starts from: sha256("sops").
const MAC_ONLY_ENCRYPTED_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// The compiled form of a file's encryption rules.
pub struct Rules {
    unencrypted_suffix: Option<String>,
    encrypted_suffix: Option<String>,
    unencrypted_regex: Option<Regex>,
    encrypted_regex: Option<Regex>,
    unencrypted_comment_regex: Option<Regex>,
    encrypted_comment_regex: Option<Regex>,
    mac_only_encrypted: bool,
}

/// Compiles a rule's regex with RE2's semantics (sops is written in Go). sops ignores a
/// pattern RE2 rejects and then matches nothing; we refuse it instead, so that what we
/// write never differs from what sops would read.
fn compile(name: &str, re: &Option<String>) -> Result<Option<Regex>> {
    match re.as_deref().filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(r) => re2::compile(r).map(Some).map_err(|e| {
            SopsError::BadRegex {
                name: name.to_string(),
                pattern: r.to_string(),
                detail: e.to_string(),
            }
            .into()
        }),
    }
}

impl Rules {
    /// Compiles a file's rules as sops reads them: at most one what-to-encrypt option,
    /// and `_unencrypted` as the unencrypted suffix when there is none (a file whose
    /// metadata names no rule still decrypts with sops).
    pub fn new(r: &EncryptionRules) -> Result<Rules> {
        check_one_rule_option(r).map_err(|e| SopsError::BadFileRules(e.message))?;
        let r = &with_default_suffix(r.clone());
        let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        Ok(Rules {
            unencrypted_suffix: nonempty(&r.unencrypted_suffix),
            encrypted_suffix: nonempty(&r.encrypted_suffix),
            unencrypted_regex: compile("unencrypted_regex", &r.unencrypted_regex)?,
            encrypted_regex: compile("encrypted_regex", &r.encrypted_regex)?,
            unencrypted_comment_regex: compile(
                "unencrypted_comment_regex",
                &r.unencrypted_comment_regex,
            )?,
            encrypted_comment_regex: compile(
                "encrypted_comment_regex",
                &r.encrypted_comment_regex,
            )?,
            mac_only_encrypted: r.mac_only_encrypted,
        })
    }

    /// sops' `shouldBeEncrypted`, rule by rule in the same order.
    fn should_encrypt(&self, path: &[String], comments: &[Vec<String>], is_comment: bool) -> bool {
        let mut enc = true;
        if let Some(sfx) = &self.unencrypted_suffix {
            if path.iter().any(|p| p.ends_with(sfx.as_str())) {
                enc = false;
            }
        }
        if let Some(sfx) = &self.encrypted_suffix {
            enc = path.iter().any(|p| p.ends_with(sfx.as_str()));
        }
        if let Some(re) = &self.unencrypted_regex {
            if path.iter().any(|p| re.is_match(p)) {
                enc = false;
            }
        }
        if let Some(re) = &self.encrypted_regex {
            enc = path.iter().any(|p| re.is_match(p));
        }
        if let Some(re) = &self.unencrypted_comment_regex {
            if comments.iter().flatten().any(|c| re.is_match(c)) {
                enc = false;
            }
        }
        if let Some(re) = &self.encrypted_comment_regex {
            let last_stack = comments.len().saturating_sub(1);
            let last_len = comments.last().map_or(0, Vec::len);
            enc = false;
            'outer: for (i, cs) in comments.iter().enumerate() {
                for (j, c) in cs.iter().enumerate() {
                    // The comment line that matches is itself not encrypted.
                    if is_comment && i == last_stack && j + 1 == last_len {
                        continue;
                    }
                    if re.is_match(c) {
                        enc = true;
                        break 'outer;
                    }
                }
            }
        }
        enc
    }
}

/// The hash over plaintext leaves that becomes a file's MAC.
pub struct Mac(Sha512);

impl Mac {
    fn new(rules: &Rules) -> Mac {
        let mut h = Sha512::new();
        if rules.mac_only_encrypted {
            h.update(MAC_ONLY_ENCRYPTED_INIT);
        }
        Mac(h)
    }

    /// The MAC as sops stores it: 128 uppercase hex characters.
    pub fn finish(self) -> String {
        hex::encode_upper(self.0.finalize())
    }
}

enum Mode<'a> {
    Encrypt(&'a mut Cipher),
    Decrypt(&'a mut Cipher),
}

struct Walk<'a> {
    rules: &'a Rules,
    mode: Mode<'a>,
    mac: Mac,
}

fn aad(path: &[String]) -> String {
    let mut s = path.join(":");
    s.push(':');
    s
}

impl Walk<'_> {
    fn hash(&mut self, encrypted: bool, plain: &Plain) {
        if let Plain::Value(v) = plain {
            if !matches!(v, Scalar::Null) && (!self.rules.mac_only_encrypted || encrypted) {
                match v {
                    // The common case, hashed in place (no copy per value).
                    Scalar::Str(s) => self.mac.0.update(s.as_bytes()),
                    _ => {
                        let (bytes, _) = plain.to_bytes();
                        self.mac.0.update(&bytes[..]);
                    }
                }
            }
        }
    }

    /// Handles one leaf; returns the new leaf (encrypted string or plaintext).
    fn leaf(
        &mut self,
        plain_or_enc: Plain,
        path: &[String],
        comments: &[Vec<String>],
    ) -> Result<Plain> {
        let is_comment = matches!(plain_or_enc, Plain::Comment(_));
        let encrypted = self.rules.should_encrypt(path, comments, is_comment);
        match &mut self.mode {
            Mode::Encrypt(cipher) => {
                let out = if encrypted {
                    let s = cipher.encrypt(&plain_or_enc, &aad(path))?;
                    if is_comment {
                        Plain::Comment(s)
                    } else {
                        Plain::Value(Scalar::Str(s))
                    }
                } else {
                    plain_or_enc.clone()
                };
                self.hash(encrypted, &plain_or_enc);
                Ok(out)
            }
            Mode::Decrypt(cipher) => {
                let out = if !encrypted {
                    plain_or_enc
                } else {
                    match plain_or_enc {
                        // sops keeps a comment that does not decrypt (older files).
                        Plain::Comment(c) => {
                            cipher.decrypt(&c, &aad(path)).unwrap_or(Plain::Comment(c))
                        }
                        Plain::Value(Scalar::Str(s)) => {
                            cipher.decrypt(&s, &aad(path)).map_err(|e| {
                                if crate::sops::cipher::is_encrypted(&s) {
                                    e
                                } else {
                                    SopsError::NotEncrypted { at: path.join(".") }.into()
                                }
                            })?
                        }
                        Plain::Value(other) => {
                            return Err(SopsError::PlainWhereEncrypted {
                                at: path.join("."),
                                type_name: other.type_name().to_string(),
                            }
                            .into())
                        }
                    }
                };
                self.hash(encrypted, &out);
                Ok(out)
            }
        }
    }

    fn node(
        &mut self,
        node: &Node,
        path: &mut Vec<String>,
        comments: &mut Vec<Vec<String>>,
    ) -> Result<Node> {
        match node {
            Node::Map(items) => self.map(items, path, comments),
            Node::Seq(items) => self.seq(items, path, comments),
            Node::Scalar(Scalar::Null) => Ok(node.clone()),
            Node::Scalar(s) => match self.leaf(Plain::Value(s.clone()), path, comments)? {
                Plain::Value(v) => Ok(Node::Scalar(v)),
                Plain::Comment(c) => Ok(Node::Scalar(Scalar::Str(c))),
            },
        }
    }

    /// A comment of the map or list being walked: kept for the values after it (their
    /// comment rules see it), then passed through the cipher like a value.
    fn comment(&mut self, c: &str, path: &[String], comments: &mut [Vec<String>]) -> Result<Plain> {
        if let Some(last) = comments.last_mut() {
            last.push(c.to_string());
        }
        self.leaf(Plain::Comment(c.to_string()), path, comments)
    }

    fn map(
        &mut self,
        items: &[MapItem],
        path: &mut Vec<String>,
        comments: &mut Vec<Vec<String>>,
    ) -> Result<Node> {
        comments.push(Vec::new());
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                MapItem::Comment(c) => {
                    let new = match self.comment(c, path, comments)? {
                        Plain::Comment(c) => c,
                        Plain::Value(Scalar::Str(s)) => s,
                        Plain::Value(_) => return Err(SopsError::CommentDecryptedToValue.into()),
                    };
                    out.push(MapItem::Comment(new));
                }
                MapItem::Entry(k, v) => {
                    path.push(k.clone());
                    let new = self.node(v, path, comments);
                    path.pop();
                    out.push(MapItem::Entry(k.clone(), new?));
                    if let Some(last) = comments.last_mut() {
                        last.clear();
                    }
                }
            }
        }
        comments.pop();
        Ok(Node::Map(out))
    }

    fn seq(
        &mut self,
        items: &[SeqItem],
        path: &mut Vec<String>,
        comments: &mut Vec<Vec<String>>,
    ) -> Result<Node> {
        comments.push(Vec::new());
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match item {
                SeqItem::Comment(c) => {
                    // An encrypted comment in a list is written as a plain string item.
                    out.push(match self.comment(c, path, comments)? {
                        Plain::Comment(c)
                            if matches!(self.mode, Mode::Encrypt(_))
                                && crate::sops::cipher::is_encrypted(&c) =>
                        {
                            SeqItem::Value(Node::Scalar(Scalar::Str(c)))
                        }
                        Plain::Comment(c) => SeqItem::Comment(c),
                        Plain::Value(v) => SeqItem::Value(Node::Scalar(v)),
                    });
                }
                SeqItem::Value(v) => {
                    let new = match v {
                        Node::Scalar(s) if !matches!(s, Scalar::Null) => {
                            match self.leaf(Plain::Value(s.clone()), path, comments)? {
                                Plain::Comment(c) => SeqItem::Comment(c),
                                Plain::Value(v) => SeqItem::Value(Node::Scalar(v)),
                            }
                        }
                        other => SeqItem::Value(self.node(other, path, comments)?),
                    };
                    out.push(new);
                    if let Some(last) = comments.last_mut() {
                        last.clear();
                    }
                }
            }
        }
        comments.pop();
        Ok(Node::Seq(out))
    }

    fn docs(&mut self, docs: &[Node]) -> Result<Vec<Node>> {
        docs.iter()
            .map(|d| match d {
                Node::Map(_) => self.node(d, &mut Vec::new(), &mut Vec::new()),
                _ => Err(SopsError::TopLevelNotMap.into()),
            })
            .collect()
    }
}

/// Encrypts every leaf the rules select; returns the new documents and the MAC.
pub fn encrypt(docs: &[Node], rules: &Rules, cipher: &mut Cipher) -> Result<(Vec<Node>, String)> {
    let mut w = Walk {
        rules,
        mode: Mode::Encrypt(cipher),
        mac: Mac::new(rules),
    };
    let out = w.docs(docs)?;
    Ok((out, w.mac.finish()))
}

/// Decrypts every leaf the rules select; returns plaintext documents and the
/// MAC computed over them (to compare with the stored one).
pub fn decrypt(docs: &[Node], rules: &Rules, cipher: &mut Cipher) -> Result<(Vec<Node>, String)> {
    let mut w = Walk {
        rules,
        mode: Mode::Decrypt(cipher),
        mac: Mac::new(rules),
    };
    let out = w.docs(docs)?;
    Ok((out, w.mac.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sops::cipher::new_data_key;

    fn doc() -> Node {
        Node::Map(vec![
            MapItem::Comment(" top".into()),
            MapItem::Entry("a".into(), Node::str("x")),
            MapItem::Entry("n_unencrypted".into(), Node::Scalar(Scalar::Int(5))),
            MapItem::Entry(
                "l".into(),
                Node::Seq(vec![
                    SeqItem::Value(Node::Scalar(Scalar::Bool(true))),
                    SeqItem::Comment(" c".into()),
                ]),
            ),
        ])
    }

    #[test]
    fn encrypt_then_decrypt_round_trips_with_equal_macs() {
        let rules = Rules::new(&EncryptionRules {
            unencrypted_suffix: Some("_unencrypted".into()),
            ..Default::default()
        })
        .unwrap();
        let mut c = Cipher::new(new_data_key());
        let (enc, mac1) = encrypt(&[doc()], &rules, &mut c).unwrap();
        assert_eq!(
            enc[0].get("n_unencrypted"),
            Some(&Node::Scalar(Scalar::Int(5)))
        );
        assert!(enc[0]
            .get("a")
            .and_then(Node::as_str)
            .unwrap()
            .starts_with("ENC["));
        let (dec, mac2) = decrypt(&enc, &rules, &mut c).unwrap();
        assert_eq!(dec[0], doc());
        assert_eq!(mac1, mac2);
        assert_eq!(mac1.len(), 128);
    }

    #[test]
    fn mac_only_encrypted_init_is_sha256_of_sops() {
        use sha2::Sha256;
        assert_eq!(Sha256::digest(b"sops")[..], MAC_ONLY_ENCRYPTED_INIT[..]);
    }
}
