//! Finds the parent repo root, the secrets dir, the flake input and the example dir. (interim)
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// A validated secret name.
pub struct SecretName(String);
impl SecretName {
    pub fn parse(s: &str) -> Result<SecretName> {
        let ok = s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if !ok {
            return Err(Error::usage(format!("'{s}' is not a valid secret name"))
                .hint("names match [A-Za-z0-9][A-Za-z0-9._-]*"));
        }
        Ok(SecretName(s.to_string()))
    }
}
/// Where things are.
pub struct Layout {
    pub secrets_dir: PathBuf,
}
impl Layout {
    pub fn discover(start: &Path, dir: Option<&Path>) -> Result<Layout> {
        let root = start
            .ancestors()
            .find(|a| a.join(".git").exists())
            .unwrap_or(start);
        Ok(Layout {
            secrets_dir: root.join(dir.unwrap_or(Path::new("secrets"))),
        })
    }
    pub fn secret_path(&self, name: &SecretName) -> Result<PathBuf> {
        for ext in ["yaml", "yml", "json", "env", "ini"] {
            let p = self
                .secrets_dir
                .join("secrets")
                .join(format!("{}.{ext}", name.0));
            if p.is_file() {
                return Ok(p);
            }
        }
        Err(Error::new(format!("no secret named '{}'", name.0))
            .hint("git secrets list shows the secrets"))
    }
}
