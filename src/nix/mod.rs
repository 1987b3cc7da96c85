//! Nix: find it, pick the lock command its version accepts, lock, verify flake.lock, edit flake.nix inputs. (in progress)
