//! `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` values: AES-256-GCM with a
//! 32-byte nonce, the key path as additional data, and the value's type
//! carried in clear so it can be restored on decryption.

use crate::error::{Error, Result};
use crate::sops::error::SopsError;
use crate::sops::tree::{go_format_float_f, Scalar};
use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::aes::Aes256;
use aes_gcm::AesGcm;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;
use std::collections::HashMap;
use zeroize::{Zeroize, Zeroizing};

/// The 32-byte symmetric key every value of a file is encrypted with.
pub type DataKey = Zeroizing<[u8; 32]>;

/// A leaf as the cipher sees it: a typed scalar, or a comment line.
#[derive(Debug, Clone, PartialEq)]
pub enum Plain {
    Value(Scalar),
    Comment(String),
}

impl Plain {
    /// The bytes that are encrypted and hashed into the MAC, and the `type:`
    /// name (sops' `ToBytes` and `Encrypt`).
    pub fn to_bytes(&self) -> (Zeroizing<Vec<u8>>, &'static str) {
        let (bytes, t) = match self {
            Plain::Comment(c) => (c.as_bytes().to_vec(), "comment"),
            Plain::Value(s) => match s {
                Scalar::Null => (Vec::new(), "str"),
                Scalar::Str(v) => (v.as_bytes().to_vec(), "str"),
                // sops walks raw bytes as a string, so they are typed "str".
                Scalar::Bytes(b) => (b.clone(), "str"),
                Scalar::Int(i) => (i.to_string().into_bytes(), "int"),
                Scalar::Float(f) => (go_format_float_f(*f).into_bytes(), "float"),
                Scalar::Bool(b) => ((if *b { "True" } else { "False" }).into(), "bool"),
                Scalar::Time(t) => (t.as_bytes().to_vec(), "time"),
            },
        };
        (Zeroizing::new(bytes), t)
    }

    fn is_empty(&self) -> bool {
        match self {
            Plain::Comment(c) => c.is_empty(),
            Plain::Value(Scalar::Str(s)) => s.is_empty(),
            Plain::Value(Scalar::Bytes(b)) => b.is_empty(),
            _ => false,
        }
    }
}

/// The parts of an `ENC[…]` string.
#[derive(Debug, Clone, PartialEq)]
pub struct EncValue {
    pub data: Vec<u8>,
    pub iv: Vec<u8>,
    pub tag: Vec<u8>,
    pub kind: String,
}

/// True when `s` looks like a sops-encrypted value.
pub fn is_encrypted(s: &str) -> bool {
    s.starts_with("ENC[AES256_GCM,")
}

impl EncValue {
    /// Parses `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` the way sops'
    /// regular expression does (greedy fields, anchored only at the start).
    pub fn parse(s: &str) -> Result<EncValue> {
        let fields = EncFields::parse(s)?;
        let dec = |field: &str, v: &str| B64.decode(v).map_err(|e| bad_b64(field, e));
        Ok(EncValue {
            data: dec("data", fields.data)?,
            iv: dec("iv", fields.iv)?,
            tag: dec("tag", fields.tag)?,
            kind: fields.kind.to_string(),
        })
    }

    /// Formats the value as sops writes it.
    pub fn to_string_sops(&self) -> String {
        format!(
            "ENC[AES256_GCM,data:{},iv:{},tag:{},type:{}]",
            B64.encode(&self.data),
            B64.encode(&self.iv),
            B64.encode(&self.tag),
            self.kind
        )
    }
}

type Gcm32 = AesGcm<Aes256, aes_gcm::aead::consts::U32>;
type Gcm12 = AesGcm<Aes256, aes_gcm::aead::consts::U12>;
type Gcm16 = AesGcm<Aes256, aes_gcm::aead::consts::U16>;

/// Encrypts and decrypts values with one data key. Remembers the IV of
/// every value it decrypted so that re-encrypting an unchanged value yields
/// the same ciphertext, as `sops edit` does (keeps diffs small).
///
/// The stash is keyed on the key path, the *exact bytes that were decrypted* and the
/// stored `type:`, never on a re-serialisation of the parsed value: a file may store
/// `int "007"` or `bool "true"`, which we would write back as "7" or "True" — under the
/// old IV that is GCM nonce reuse (it leaks the XOR of the plaintexts and the
/// authentication key). An IV is only ever reused for byte-identical plaintext.
pub struct Cipher {
    key: DataKey,
    /// The AES-256 key schedule, expanded once per file rather than once per value.
    gcm: Gcm32,
    /// IVs of decrypted values, indexed for lookup on the first encryption.
    stash: HashMap<StashKey, Vec<u8>>,
    /// IVs recorded since the last lookup, in decryption order. A decrypt-only run (the
    /// common one) never encrypts, so it never pays for hashing and a map entry per value.
    log: StashLog,
    /// Random bytes not yet used as IVs (see [`Cipher::fresh_iv`]).
    ivs: Vec<u8>,
    /// How many IVs the last batch held.
    iv_batch: usize,
}

/// What [`Cipher::decrypt`] records, appended to two arenas: no allocation per value.
#[derive(Default)]
struct StashLog {
    /// The additional data of every entry, one after the other.
    aads: String,
    /// The decrypted bytes of every entry, one after the other; wiped when dropped or
    /// regrown (see [`push_secret`]).
    plains: Zeroizing<Vec<u8>>,
    entries: Vec<LogEntry>,
}

struct LogEntry {
    aad_end: usize,
    plain_end: usize,
    kind: &'static str,
    iv: [u8; 32],
    iv_len: u8,
}

/// Appends secret bytes to `buf`, growing it by hand so that a reallocation never leaves a
/// copy of them in freed memory (`Vec`'s own growth would).
fn push_secret(buf: &mut Zeroizing<Vec<u8>>, bytes: &[u8]) {
    if buf.capacity() - buf.len() < bytes.len() {
        let cap = (buf.capacity() * 2).max(buf.len() + bytes.len()).max(4096);
        let mut grown = Zeroizing::new(Vec::with_capacity(cap));
        grown.extend_from_slice(buf);
        // The old buffer is zeroized (its whole capacity) when `grown` replaces it.
        *buf = grown;
    }
    buf.extend_from_slice(bytes);
}

/// A value opened by [`Cipher::open`]: its bytes, not yet typed, and what the stash
/// records about it.
pub(crate) struct Opened {
    bytes: Zeroizing<Vec<u8>>,
    iv: [u8; 32],
    iv_len: u8,
    kind: &'static str,
}

/// (additional data, decrypted bytes, stored type name).
type StashKey = (String, Vec<u8>, &'static str);

/// The `type:` names sops writes or reads, as static strings (no allocation per value).
fn known_kind(kind: &str) -> Option<&'static str> {
    ["str", "int", "float", "bool", "time", "comment", "bytes"]
        .into_iter()
        .find(|k| *k == kind)
}

/// The fields of an `ENC[…]` value, borrowed from it (still base64).
struct EncFields<'a> {
    data: &'a str,
    iv: &'a str,
    tag: &'a str,
    kind: &'a str,
}

fn bad_enc() -> Error {
    SopsError::NotEncFormat.into()
}

impl<'a> EncFields<'a> {
    /// sops' regular expression: greedy fields, anchored only at the start.
    fn parse(s: &'a str) -> Result<EncFields<'a>> {
        let rest = s.strip_prefix("ENC[AES256_GCM,data:").ok_or_else(bad_enc)?;
        let end = memchr::memrchr(b']', rest.as_bytes()).ok_or_else(bad_enc)?;
        let rest = &rest[..end];
        let (rest, kind) = rsplit_field(rest, ",type:").ok_or_else(bad_enc)?;
        let (rest, tag) = rsplit_field(rest, ",tag:").ok_or_else(bad_enc)?;
        let (data, iv) = rsplit_field(rest, ",iv:").ok_or_else(bad_enc)?;
        Ok(EncFields {
            data,
            iv,
            tag,
            kind,
        })
    }
}

/// `s.rsplit_once(sep)` for a separator that starts with `,`: jumps from comma to comma
/// from the end instead of running the general substring search (which cost more than
/// the AES-GCM of a short value).
fn rsplit_field<'a>(s: &'a str, sep: &str) -> Option<(&'a str, &'a str)> {
    let bytes = s.as_bytes();
    debug_assert!(sep.starts_with(','));
    memchr::memrchr_iter(b',', bytes)
        .find(|&i| bytes[i..].starts_with(sep.as_bytes()))
        // A comma is ASCII, so both ends are character boundaries.
        .map(|i| (&s[..i], &s[i + sep.len()..]))
}

fn bad_b64(field: &str, e: impl std::fmt::Display) -> Error {
    SopsError::BadBase64 {
        field: field.to_string(),
        detail: e.to_string(),
    }
    .into()
}

/// Decodes short base64 (an IV, a tag) into `out` without allocating; `None` when it
/// would not fit.
fn decode_small(field: &str, b64: &str, out: &mut [u8]) -> Result<Option<usize>> {
    if b64.len() / 4 * 3 > out.len() - 3 {
        return Ok(None);
    }
    if let Some(n) = crate::sops::b64::decode_to_slice(b64.as_bytes(), out) {
        return Ok(Some(n));
    }
    match B64.decode_slice(b64, out) {
        Ok(n) => Ok(Some(n)),
        Err(base64::DecodeSliceError::OutputSliceTooSmall) => Ok(None),
        Err(base64::DecodeSliceError::DecodeError(e)) => Err(bad_b64(field, e)),
    }
}

impl Drop for Cipher {
    fn drop(&mut self) {
        for ((_, plain, _), _) in self.stash.drain() {
            let mut p = plain;
            p.zeroize();
        }
    }
}

impl Cipher {
    pub fn new(key: DataKey) -> Cipher {
        let gcm = Gcm32::new(GenericArray::from_slice(&key[..]));
        Cipher {
            key,
            gcm,
            stash: HashMap::new(),
            log: StashLog::default(),
            ivs: Vec::new(),
            iv_batch: 4,
        }
    }

    /// The data key.
    pub fn key(&self) -> &DataKey {
        &self.key
    }

    /// Decrypts one value with `aad` (the key path joined by `:` plus `:`).
    /// An empty string decrypts to an empty string, as in sops.
    pub fn decrypt(&mut self, value: &str, aad: &str) -> Result<Plain> {
        match self.open(value, aad)? {
            Some(opened) => self.accept(opened, aad),
            None => Ok(Plain::Value(Scalar::Str(String::new()))),
        }
    }

    /// Authenticates and decrypts one value without recording anything (`None` for the
    /// empty string): the part of [`Cipher::decrypt`] that may run on several threads
    /// at once. [`Cipher::accept`] finishes it, in document order.
    pub(crate) fn open(&self, value: &str, aad: &str) -> Result<Option<Opened>> {
        if value.is_empty() {
            return Ok(None);
        }
        let enc = EncFields::parse(value)?;
        let mut iv_buf = [0u8; 48];
        let iv_len = decode_small("iv", enc.iv, &mut iv_buf)?.unwrap_or(usize::MAX);
        let mut tag_buf = [0u8; 24];
        let tag_len = decode_small("tag", enc.tag, &mut tag_buf)?;
        let mut bytes = Zeroizing::new(Vec::with_capacity(enc.data.len() / 4 * 3 + 3));
        if !crate::sops::b64::decode_append(enc.data.as_bytes(), &mut bytes) {
            B64.decode_vec(enc.data, &mut bytes)
                .map_err(|e| bad_b64("data", e))?;
        }
        let auth_failed = || {
            Error::from(SopsError::AuthenticationFailed {
                at: display_aad(aad).to_string(),
            })
        };
        if tag_len != Some(16) {
            return Err(auth_failed());
        }
        let tag = GenericArray::from_slice(&tag_buf[..16]);
        let aad_bytes = aad.as_bytes();
        let key = GenericArray::from_slice(&self.key[..]);
        let opened = match iv_len {
            32 => self.gcm.decrypt_in_place_detached(
                GenericArray::from_slice(&iv_buf[..32]),
                aad_bytes,
                &mut bytes,
                tag,
            ),
            12 => Gcm12::new(key).decrypt_in_place_detached(
                GenericArray::from_slice(&iv_buf[..12]),
                aad_bytes,
                &mut bytes,
                tag,
            ),
            16 => Gcm16::new(key).decrypt_in_place_detached(
                GenericArray::from_slice(&iv_buf[..16]),
                aad_bytes,
                &mut bytes,
                tag,
            ),
            n => {
                let n = if n == usize::MAX {
                    "over 32".to_string()
                } else {
                    n.to_string()
                };
                return Err(SopsError::UnsupportedIvLength { length: n }.into());
            }
        };
        opened.map_err(|_| auth_failed())?;
        let Some(kind) = known_kind(enc.kind) else {
            return Err(SopsError::UnknownValueType {
                kind: enc.kind.to_string(),
            }
            .into());
        };
        let mut iv = [0u8; 32];
        iv[..iv_len].copy_from_slice(&iv_buf[..iv_len]);
        Ok(Some(Opened {
            bytes,
            iv,
            // ok: 12, 16 or 32 (the match above).
            iv_len: iv_len as u8,
            kind,
        }))
    }

    /// Types an opened value by its `type:` and records its IV, so that encrypting the
    /// same bytes at the same path again keeps the ciphertext.
    pub(crate) fn accept(&mut self, opened: Opened, aad: &str) -> Result<Plain> {
        let Opened {
            mut bytes,
            iv,
            iv_len,
            kind,
        } = opened;
        let text = |bytes: &[u8]| -> Result<String> {
            std::str::from_utf8(bytes).map(str::to_string).map_err(|_| {
                Error::new(format!(
                    "the value at '{}' is not valid UTF-8",
                    display_aad(aad)
                ))
            })
        };
        let bad = |t: &str| {
            Error::new(format!(
                "the value at '{}' is typed {t} but does not parse as one",
                display_aad(aad)
            ))
        };
        // Typed before it is recorded: a value that fails to type is not stashed.
        let typed = match kind {
            "str" | "bytes" => None,
            "int" => Some(Plain::Value(Scalar::Int(
                text(&bytes)?.parse().map_err(|_| bad("int"))?,
            ))),
            "float" => Some(Plain::Value(Scalar::Float(
                parse_go_float(&text(&bytes)?).ok_or_else(|| bad("float"))?,
            ))),
            "bool" => Some(Plain::Value(Scalar::Bool(
                parse_go_bool(&text(&bytes)?).ok_or_else(|| bad("bool"))?,
            ))),
            "time" => Some(Plain::Value(Scalar::Time(text(&bytes)?))),
            _ => Some(Plain::Comment(text(&bytes)?)),
        };
        let log = &mut self.log;
        log.aads.push_str(aad);
        push_secret(&mut log.plains, &bytes);
        log.entries.push(LogEntry {
            aad_end: log.aads.len(),
            plain_end: log.plains.len(),
            kind,
            iv,
            iv_len,
        });
        Ok(match typed {
            Some(plain) => plain,
            // The bytes move into the tree, which wipes them when dropped.
            None if kind == "bytes" => Plain::Value(Scalar::Bytes(std::mem::take(&mut *bytes))),
            None => match String::from_utf8(std::mem::take(&mut *bytes)) {
                Ok(s) => Plain::Value(Scalar::Str(s)),
                Err(e) => Plain::Value(Scalar::Bytes(e.into_bytes())),
            },
        })
    }

    /// A new random IV from the kernel's generator, drawn in batches (8, 16, … up to 256
    /// IVs per `getrandom` call) rather than one system call per value.
    fn fresh_iv(&mut self) -> [u8; 32] {
        if self.ivs.len() < 32 {
            self.iv_batch = (self.iv_batch * 2).clamp(8, 256);
            self.ivs.resize(self.iv_batch * 32, 0);
            rand::rngs::OsRng.fill_bytes(&mut self.ivs);
        }
        let at = self.ivs.len() - 32;
        let mut iv = [0u8; 32];
        iv.copy_from_slice(&self.ivs[at..]);
        // Each IV is handed out once: taken off the end of the batch.
        self.ivs.truncate(at);
        iv
    }

    /// Moves the IVs recorded since the last call into the lookup map; later entries win,
    /// as they did when every decryption inserted into the map directly.
    fn index_log(&mut self) {
        let log = &mut self.log;
        let (mut aad_start, mut plain_start) = (0, 0);
        for e in log.entries.drain(..) {
            self.stash.insert(
                (
                    log.aads[aad_start..e.aad_end].to_string(),
                    log.plains[plain_start..e.plain_end].to_vec(),
                    e.kind,
                ),
                e.iv[..usize::from(e.iv_len)].to_vec(),
            );
            (aad_start, plain_start) = (e.aad_end, e.plain_end);
        }
        log.aads.clear();
        log.plains.zeroize();
    }

    /// Encrypts one value. Empty strings and comments stay empty, as in sops.
    pub fn encrypt(&mut self, plain: &Plain, aad: &str) -> Result<String> {
        if plain.is_empty() {
            return Ok(String::new());
        }
        let (mut buf, kind) = plain.to_bytes();
        self.index_log();
        // A new file has nothing stashed: no lookup key to build per value.
        let stashed = if self.stash.is_empty() {
            None
        } else {
            let mut stash_key = (aad.to_string(), buf.to_vec(), kind);
            let iv = self
                .stash
                .get(&stash_key)
                .and_then(|iv| <[u8; 32]>::try_from(&iv[..]).ok());
            stash_key.1.zeroize();
            iv
        };
        let iv = match stashed {
            Some(iv) => iv,
            None => self.fresh_iv(),
        };
        let tag = self
            .gcm
            .encrypt_in_place_detached(GenericArray::from_slice(&iv), aad.as_bytes(), &mut buf)
            .map_err(|_| Error::new("AES-GCM encryption failed"))?;
        // `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`, written straight into one string.
        let mut out = String::with_capacity(64 + buf.len() * 4 / 3 + 44 + 24 + kind.len());
        out.push_str("ENC[AES256_GCM,data:");
        crate::sops::b64::encode_append(&buf[..], &mut out);
        out.push_str(",iv:");
        crate::sops::b64::encode_append(&iv, &mut out);
        out.push_str(",tag:");
        crate::sops::b64::encode_append(&tag, &mut out);
        out.push_str(",type:");
        out.push_str(kind);
        out.push(']');
        Ok(out)
    }
}

/// Generates a fresh random data key.
pub fn new_data_key() -> DataKey {
    let mut key = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(&mut key[..]);
    key
}

fn display_aad(aad: &str) -> String {
    let p = aad.trim_end_matches(':');
    if p.is_empty() {
        "(top level)".into()
    } else {
        p.replace(':', ".")
    }
}

/// Go's `strconv.ParseBool`.
pub fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for the forms sops writes.
pub fn parse_go_float(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        "-Inf" | "-inf" => Some(f64::NEG_INFINITY),
        "NaN" | "nan" => Some(f64::NAN),
        _ => s.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aes_gcm::aead::{Aead, Payload};

    #[test]
    fn fresh_ivs_are_never_handed_out_twice() {
        let mut c = Cipher::new(new_data_key());
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            assert!(seen.insert(c.fresh_iv()));
        }
        // The same value at the same path twice, in a new file: two different IVs.
        let p = Plain::Value(Scalar::Str("same".into()));
        assert_ne!(c.encrypt(&p, "a:").unwrap(), c.encrypt(&p, "a:").unwrap());
    }

    #[test]
    fn rsplit_field_is_rsplit_once() {
        for s in [
            "",
            ",",
            ",type:",
            "a,type:b,type:c",
            "a,typ,type:",
            "x,iv:y,iv:",
            "é,tag:ü,tag",
            "data,iv:,tag:t,type:str",
        ] {
            for sep in [",type:", ",tag:", ",iv:"] {
                assert_eq!(rsplit_field(s, sep), s.rsplit_once(sep), "{s:?} {sep:?}");
            }
        }
    }

    #[test]
    fn round_trip_every_type() {
        let mut c = Cipher::new(new_data_key());
        for p in [
            Plain::Value(Scalar::Str("hello".into())),
            Plain::Value(Scalar::Int(-42)),
            Plain::Value(Scalar::Float(1.5)),
            Plain::Value(Scalar::Bool(true)),
            Plain::Value(Scalar::Time("2024-01-01T00:00:00Z".into())),
            Plain::Comment(" a comment".into()),
        ] {
            let enc = c.encrypt(&p, "a:b:").unwrap();
            assert!(is_encrypted(&enc));
            assert_eq!(c.decrypt(&enc, "a:b:").unwrap(), p);
        }
    }

    #[test]
    fn wrong_aad_fails() {
        let mut c = Cipher::new(new_data_key());
        let enc = c
            .encrypt(&Plain::Value(Scalar::Str("x".into())), "a:")
            .unwrap();
        let err = c.decrypt(&enc, "b:").unwrap_err();
        err.assert_says("authentication failed");
    }

    #[test]
    fn unchanged_value_keeps_ciphertext_after_decrypt() {
        let mut c = Cipher::new(new_data_key());
        let p = Plain::Value(Scalar::Str("same".into()));
        let enc = c.encrypt(&p, "k:").unwrap();
        let mut c2 = Cipher::new(c.key().clone());
        c2.decrypt(&enc, "k:").unwrap();
        assert_eq!(c2.encrypt(&p, "k:").unwrap(), enc);
        assert_ne!(c2.encrypt(&p, "other:").unwrap(), enc);
    }

    /// Issue 16.3: a value stored as "007" reads as 7 but is written as "7": that is
    /// a different plaintext, so it must get a fresh IV.
    #[test]
    fn a_non_canonical_stored_value_never_lends_its_iv() {
        let mut c = Cipher::new(new_data_key());
        let iv = [9u8; 32];
        let key = GenericArray::from_slice(&c.key()[..]);
        for (stored, kind, parsed) in [
            ("007", "int", Scalar::Int(7)),
            ("true", "bool", Scalar::Bool(true)),
            ("1e+16", "float", Scalar::Float(1e16)),
        ] {
            let sealed = Gcm32::new(key)
                .encrypt(
                    GenericArray::from_slice(&iv),
                    Payload {
                        msg: stored.as_bytes(),
                        aad: b"k:",
                    },
                )
                .unwrap();
            let (data, tag) = sealed.split_at(sealed.len() - 16);
            let value = EncValue {
                data: data.to_vec(),
                iv: iv.to_vec(),
                tag: tag.to_vec(),
                kind: kind.into(),
            }
            .to_string_sops();
            let mut c2 = Cipher::new(c.key().clone());
            assert_eq!(
                c2.decrypt(&value, "k:").unwrap(),
                Plain::Value(parsed.clone())
            );
            let again = c2.encrypt(&Plain::Value(parsed), "k:").unwrap();
            let again = EncValue::parse(&again).unwrap();
            assert_ne!(
                again.iv,
                iv.to_vec(),
                "{stored}: IV reused for another plaintext"
            );
        }
        // A canonical value keeps its IV (and so its ciphertext).
        let p = Plain::Value(Scalar::Int(7));
        let enc = c.encrypt(&p, "k:").unwrap();
        let mut c3 = Cipher::new(c.key().clone());
        c3.decrypt(&enc, "k:").unwrap();
        assert_eq!(c3.encrypt(&p, "k:").unwrap(), enc);
    }

    #[test]
    fn empty_string_stays_empty() {
        let mut c = Cipher::new(new_data_key());
        assert_eq!(
            c.encrypt(&Plain::Value(Scalar::Str(String::new())), "k:")
                .unwrap(),
            ""
        );
    }
}
