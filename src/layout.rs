//! Finds the parent repo root, the secrets dir, the flake input and the example dir. (in progress)
