//! dotenv as sops 3.11 reads and writes it. STUB.
use crate::error::{Error, Result};
use crate::sops::tree::Node;

pub fn parse(_input: &[u8]) -> Result<Node> {
    Err(Error::new("dotenv support is not built yet"))
}
pub fn emit(_doc: &Node) -> Result<Vec<u8>> {
    Err(Error::new("dotenv support is not built yet"))
}
/// Removes the flattened `sops_*` keys and returns them as the nested metadata map.
pub fn take_metadata(_doc: &mut Node) -> Option<Node> {
    None
}
/// Adds the metadata map as flattened, sorted `sops_*` keys.
pub fn put_metadata(_doc: &Node, _metadata: &Node) -> Result<Node> {
    Err(Error::new("dotenv support is not built yet"))
}
