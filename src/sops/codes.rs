//! The exit statuses of the `sops` binary (`cmd/sops/codes/codes.go`, 3.11), for the
//! failures the engine can tell apart. The sops-compatible `decrypt`/`encrypt` exit with them so
//! scripts written for sops keep working; every other command exits 0/1/2/130.
//! The table in `docs/SOPS-COMPAT.md` lists which failure gives which status.

/// Anything without a more specific status (also: not a sops file, bad metadata).
pub const ERROR_GENERIC: i32 = 1;
/// The input could not be read or (encrypt) parsed as its format.
pub const COULD_NOT_READ_INPUT_FILE: i32 = 2;
/// The output could not be written.
pub const COULD_NOT_WRITE_OUTPUT_FILE: i32 = 3;
/// The tree could not be written in the output format.
pub const ERROR_DUMPING_TREE: i32 = 4;
/// `.sops.yaml` could not be read or is invalid.
pub const ERROR_READING_CONFIG: i32 = 5;
/// Options that cannot go together (e.g. more than one encryption rule).
pub const ERROR_CONFLICTING_PARAMETERS: i32 = 8;
/// A value could not be encrypted.
pub const ERROR_ENCRYPTING_TREE: i32 = 23;
/// A value could not be decrypted (bad ciphertext, wrong key path, not encrypted).
pub const ERROR_DECRYPTING_TREE: i32 = 25;
/// The MAC does not decrypt, or does not match the content.
pub const MAC_MISMATCH: i32 = 51;
/// An `--extract` path that does not parse.
pub const INVALID_TREE_PATH_FORMAT: i32 = 91;
/// An empty input file (encrypt).
pub const NEED_AT_LEAST_ONE_DOCUMENT: i32 = 92;
/// The input file does not exist.
pub const NO_FILE_SPECIFIED: i32 = 100;
/// No identity recovers the data key.
pub const COULD_NOT_RETRIEVE_KEY: i32 = 128;
/// The input is already a sops file (encrypt).
pub const FILE_ALREADY_ENCRYPTED: i32 = 203;
