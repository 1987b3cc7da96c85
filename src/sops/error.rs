//! What can go wrong in the engine, as data. Each variant says what failed and carries
//! what the porcelain needs to say what to do about it (recipients, the user's public
//! key, a path, a line). The engine never words advice: `crate::hints` turns a variant
//! into the `hint:` lines a user reads, in one place. The message (`Display`) is the
//! `error:` line and never holds a secret value.

use crate::sops::codes;

/// A failure of the sops engine (formats, tree walk, cipher, MAC, rules, keys).
#[derive(Debug, thiserror::Error)]
pub enum SopsError {
    // --- the data key ---
    /// Every key group holds only non-age keys (KMS, PGP, …).
    #[error("this file is encrypted only with {types} keys, which git-secrets does not handle")]
    OnlyForeignKeys { types: String },
    /// No identity at all was found; `looked` says what each place sops looks in held,
    /// `key_file` is the default key file (`<config dir>/sops/age/keys.txt`).
    #[error(
        "{}",
        with_refusal("no age identity found to decrypt this file", looked)
    )]
    NoIdentity {
        looked: Vec<crate::sops::keys::Looked>,
        key_file: Option<std::path::PathBuf>,
    },
    /// The identities found unlock fewer key groups than the file needs.
    #[error("{}", with_refusal(&not_recipient(*unlocked, *needed), unusable))]
    NotARecipient {
        unlocked: usize,
        needed: usize,
        /// The file's age recipients, joined by `, `.
        recipients: String,
        /// The user's own public key, when an identity gives one.
        own_key: Option<String>,
        /// Places that held something unusable (an unreadable key file, a damaged
        /// key): perhaps where the right key was meant to come from.
        unusable: Vec<crate::sops::keys::Looked>,
    },
    /// The key group shares do not combine into a data key.
    #[error("the key group shares do not combine into a 32-byte data key")]
    SharesDoNotCombine,
    /// Shamir splitting asked for with impossible numbers.
    #[error("cannot split a key into {parts} parts with threshold {threshold}")]
    BadShamirSplit { parts: usize, threshold: usize },
    /// Nothing to wrap the data key for.
    #[error("no recipients to encrypt to")]
    NoRecipients,
    /// An `ssh-…` recipient that age does not take.
    #[error("'{shown}' is not a usable SSH recipient: {detail}")]
    BadSshRecipient { shown: String, detail: String },
    /// A recipient that does not parse as an age X25519 key.
    #[error("'{shown}' is not a valid age recipient: {detail}")]
    BadAgeRecipient {
        shown: String,
        detail: String,
        shape: RecipientShape,
    },

    // --- MAC ---
    #[error("the file's MAC cannot be decrypted: it was tampered with")]
    MacUndecryptable,
    #[error("MAC mismatch: the file's content was changed after encryption")]
    MacMismatch,

    // --- values ---
    /// A value that is not `ENC[AES256_GCM,…]`.
    #[error("a value is not in sops' ENC[AES256_GCM,…] format")]
    NotEncFormat,
    #[error("the {field} of an encrypted value is not valid base64: {detail}")]
    BadBase64 { field: String, detail: String },
    /// AES-GCM refused the value under its path (`at`).
    #[error("cannot decrypt the value at '{at}': authentication failed")]
    AuthenticationFailed { at: String },
    #[error("unsupported IV length {length} in an encrypted value")]
    UnsupportedIvLength { length: String },
    #[error("unknown value type '{kind}' in an encrypted value")]
    UnknownValueType { kind: String },
    /// A plain string where the walk expects a value it can decrypt.
    #[error("the value at '{at}' is not encrypted")]
    NotEncrypted { at: String },
    #[error("the value at '{at}' is a plain {type_name} where sops expects an encrypted value")]
    PlainWhereEncrypted { at: String, type_name: String },
    #[error("an encrypted comment decrypted to a value")]
    CommentDecryptedToValue,
    #[error("sops files must have a map at the top level")]
    TopLevelNotMap,

    // --- metadata and rules ---
    #[error("the sops metadata is malformed: {0}")]
    BadMetadata(String),
    /// The file's own rules (in its metadata) are contradictory.
    #[error("the file's sops metadata is invalid: {0}")]
    BadFileRules(String),
    /// A flattened metadata key (dotenv, INI) that clashes with another one.
    #[error("{inner}")]
    MetadataKeyClash {
        key: String,
        inner: Box<crate::error::Error>,
    },
    /// A regular expression of a rule that RE2 (and so sops) would not compile.
    #[error("{name} '{pattern}' is not a valid RE2 regular expression: {detail}")]
    BadRegex {
        name: String,
        pattern: String,
        detail: String,
    },
    /// `.sops.yaml` does not parse as a sops config.
    #[error("{} is not a valid sops config: {what}", path.display())]
    BadConfig {
        path: std::path::PathBuf,
        what: String,
    },
    /// The creation rule for a file names more than one what-to-encrypt option.
    #[error("{}: {detail}", config.display())]
    ConflictingRuleOptions {
        config: std::path::PathBuf,
        detail: String,
    },
    #[error("no creation rule in {} matches {file}", config.display())]
    NoMatchingRule {
        config: std::path::PathBuf,
        file: String,
    },

    // --- editing .sops.yaml ---
    #[error("{} uses key_groups; adding a recipient there needs a choice of group", config.display())]
    RecipientsInKeyGroups { config: std::path::PathBuf },
    #[error("editing the recipients of {} would break it: {detail}", config.display())]
    RecipientEditBreaksConfig {
        config: std::path::PathBuf,
        detail: String,
    },
    #[error("could not edit {} reliably: {what}", config.display())]
    RecipientEditUnsure {
        config: std::path::PathBuf,
        what: String,
    },
    #[error("removing {removed} would leave rule {rule} of {} with no age recipient", config.display())]
    RemovalLeavesRuleEmpty {
        removed: String,
        rule: usize,
        config: std::path::PathBuf,
    },

    // --- paths into a tree ---
    #[error("'{0}' is not a valid extract path")]
    BadExtractPath(String),
    #[error("'{0}' is not a valid field path")]
    BadFieldPath(String),
    /// No value at `path`; `keys` are the keys of the deepest map reached.
    #[error("no value at {path}")]
    NoValueAt { path: String, keys: Vec<String> },

    // --- formats ---
    #[error("unknown file type '{0}'")]
    UnknownFormat(String),
    /// A file without sops metadata given where an encrypted one is expected.
    #[error("sops metadata not found: this is not a sops-encrypted file")]
    NotEncryptedFile,
    #[error("sops cannot encrypt a file whose top level is not a map")]
    EncryptTopLevelNotMap,
    #[error("sops YAML documents must be maps at the top level")]
    YamlTopLevelNotMap,
    #[error("the file is empty: there is nothing to encrypt")]
    EmptyFile,
    #[error("the file holds no YAML document, only comments or blank lines")]
    NoYamlDocument,
    #[error("this format holds exactly one document, found {0}")]
    NotOneDocument(usize),
    /// A value of a type the output format cannot print (`--extract` of a list).
    #[error("the {format} format can only print strings")]
    OnlyStringsPrintable { format: String },
    /// A binary file (`{"data": …}`) without its `data` key.
    #[error("binary file has no 'data' key")]
    BinaryWithoutData,
    /// dotenv or INI text that is not UTF-8 (`format` is "dotenv" or "INI").
    #[error("{format} file is not valid UTF-8: {detail}")]
    NotUtf8 {
        format: &'static str,
        detail: String,
    },
    #[error("invalid dotenv line {line}: no '='")]
    DotenvNoEquals { line: usize },
    #[error("cannot use a nested value in a dotenv file (key '{key}')")]
    DotenvNested { key: String },
    #[error("cannot read INI: {0}")]
    IniSyntax(String),
    #[error("cannot read INI: line {line}: no key-value delimiter ('=' or ':')")]
    IniNoDelimiter { line: usize },
    #[error("cannot write INI: '{name}' must be a section (a map of keys)")]
    IniNotSection { name: String },
    #[error("cannot write INI: '{section}.{key}' is nested")]
    IniNested { section: String, key: String },
    #[error("cannot read JSON: sops only supports a top-level object, not an array")]
    JsonTopLevelArray,
    #[error("cannot read JSON: sops only supports a top-level object ('{{…}}')")]
    JsonTopLevelNotObject,
    #[error("cannot read JSON: {what}, found {found} at byte {at}")]
    JsonSyntax {
        what: String,
        found: String,
        at: usize,
    },
    #[error("cannot read JSON: the number at byte {at} does not fit a 64-bit float")]
    JsonNumberTooLarge { at: usize },
    #[error("cannot write {0} as JSON")]
    JsonNotFinite(f64),
    #[error("the YAML file is not valid UTF-8: {0}")]
    YamlNotUtf8(String),
    #[error("the YAML file has a control character (U+{code:04X}) on line {line}")]
    YamlControlCharacter { code: u32, line: usize },
    #[error("the YAML file nests more than {max} levels deep (line {line})")]
    YamlTooDeep { max: usize, line: usize },
    #[error("the YAML aliases expand to more than {max} values (line {line}, *{name})")]
    YamlAliasBomb {
        max: usize,
        line: usize,
        name: String,
    },
    /// A YAML syntax error at a 1-based line and column.
    #[error("YAML syntax error at line {line}, column {column}: {what}")]
    YamlSyntax {
        line: usize,
        column: i64,
        what: String,
        cause: YamlCause,
    },
    #[error("line {line}: the key '{text}' is not a string (it reads as {type_name}); sops only supports string keys")]
    YamlKeyNotString {
        line: usize,
        text: String,
        type_name: String,
    },
    #[error("cannot write non-UTF-8 bytes as a YAML value")]
    YamlNotUtf8Value,
    /// A state the YAML writer should never reach.
    #[error("internal error in the YAML writer: {0}")]
    YamlWriterBug(String),
}

/// What a recipient string that is not an X25519 key looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecipientShape {
    /// `age1pq…`: a post-quantum recipient.
    PostQuantum,
    /// Another `age1…`: a plugin recipient.
    Plugin,
    /// Not `age1…` at all.
    NotAge,
    /// `AGE-…`: an identity (a secret key), never shown.
    SecretKey,
}

/// Which YAML syntax error, where the kind matters for what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YamlCause {
    Other,
    /// `key: - item` on one line.
    SequenceOnKeyLine,
    /// `key: a: b` on one line.
    MapOnKeyLine,
    DuplicateKey,
    /// `*alias : v` where the alias is not a string.
    AliasKeyNotString,
}

/// `message`, and when a key source was refused for a line, which one: the likeliest
/// reason no key opened the file.
fn with_refusal(message: &str, looked: &[crate::sops::keys::Looked]) -> String {
    match crate::sops::keys::first_refusal(looked) {
        Some(refused) => format!("{message}: {refused}"),
        None => message.to_string(),
    }
}

fn not_recipient(unlocked: usize, needed: usize) -> String {
    if unlocked == 0 {
        "none of your age identities can decrypt this file".to_string()
    } else {
        format!("your identities unlock {unlocked} of the {needed} key groups this file needs")
    }
}

impl SopsError {
    /// A usage error (exit 2): the user asked for something that does not make sense.
    pub fn is_usage(&self) -> bool {
        use SopsError::*;
        matches!(
            self,
            BadExtractPath(_)
                | BadFieldPath(_)
                | BadSshRecipient { .. }
                | BadAgeRecipient { .. }
                | RecipientsInKeyGroups { .. }
                | RemovalLeavesRuleEmpty { .. }
                | UnknownFormat(_)
        )
    }

    /// The exit status `sops` gives for this failure, where it has a specific one.
    pub fn sops_code(&self) -> Option<i32> {
        match self {
            SopsError::MacUndecryptable | SopsError::MacMismatch => Some(codes::MAC_MISMATCH),
            SopsError::EmptyFile => Some(codes::NEED_AT_LEAST_ONE_DOCUMENT),
            SopsError::NoYamlDocument => Some(codes::COULD_NOT_READ_INPUT_FILE),
            SopsError::MetadataKeyClash { inner, .. } => inner.sops_code,
            _ => None,
        }
    }
}
