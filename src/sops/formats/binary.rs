//! Binary files: sops stores the whole file as one string value under
//! `data`; the encrypted file is JSON (`{"data": "ENC[…]", "sops": {…}}`),
//! written by the JSON format. Decrypting gives back the raw bytes.
use crate::error::Result;
use crate::sops::error::SopsError;
use crate::sops::tree::{MapItem, Node, Scalar};

/// Wraps raw bytes as the tree `{"data": <bytes>}`.
pub fn wrap(input: &[u8]) -> Node {
    Node::Map(vec![MapItem::Entry(
        "data".into(),
        Node::Scalar(Scalar::Bytes(input.to_vec())),
    )])
}

/// Returns the raw bytes of `{"data": …}`.
pub fn unwrap(doc: &Node) -> Result<Vec<u8>> {
    match doc.get("data") {
        Some(Node::Scalar(Scalar::Bytes(b))) => Ok(b.clone()),
        Some(Node::Scalar(Scalar::Str(s))) => Ok(s.as_bytes().to_vec()),
        _ => Err(SopsError::BinaryWithoutData.into()),
    }
}
