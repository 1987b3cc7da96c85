//! Shamir secret sharing over GF(2^8) as sops uses it for several key
//! groups (HashiCorp Vault's scheme): each share is the y-values followed by
//! the x coordinate in the last byte.

use crate::error::{Error, Result};
use crate::sops::error::SopsError;
use rand::RngCore;
use zeroize::Zeroizing;

fn gf_mul(mut a: u8, mut b: u8) -> u8 {
    let mut p = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            p ^= a;
        }
        let hi = a & 0x80;
        a <<= 1;
        if hi != 0 {
            a ^= 0x1b; // x^8 + x^4 + x^3 + x + 1 (0x11B)
        }
        b >>= 1;
    }
    p
}

fn gf_inv(a: u8) -> u8 {
    // a^254 = a^-1 in GF(2^8)
    let mut result = 1u8;
    let mut base = a;
    let mut e = 254u32;
    while e > 0 {
        if e & 1 == 1 {
            result = gf_mul(result, base);
        }
        base = gf_mul(base, base);
        e >>= 1;
    }
    result
}

/// Splits `secret` into `parts` shares of which `threshold` recover it.
pub fn split(secret: &[u8], parts: usize, threshold: usize) -> Result<Vec<Zeroizing<Vec<u8>>>> {
    if threshold < 2 || parts < threshold || parts > 255 {
        return Err(SopsError::BadShamirSplit { parts, threshold }.into());
    }
    let mut xs: Vec<u8> = (1..=255u8).collect();
    // Random distinct non-zero x coordinates.
    let mut rng = rand::rngs::OsRng;
    for i in (1..xs.len()).rev() {
        let j = (rng.next_u32() as usize) % (i + 1);
        xs.swap(i, j);
    }
    let mut shares: Vec<Zeroizing<Vec<u8>>> = (0..parts)
        .map(|i| {
            let mut v = Zeroizing::new(vec![0u8; secret.len() + 1]);
            v[secret.len()] = xs[i];
            v
        })
        .collect();
    let mut coeffs = Zeroizing::new(vec![0u8; threshold]);
    for (idx, &byte) in secret.iter().enumerate() {
        coeffs[0] = byte;
        rng.fill_bytes(&mut coeffs[1..]);
        for share in shares.iter_mut() {
            let x = share[secret.len()];
            // Horner's rule
            let mut y = 0u8;
            for c in coeffs.iter().rev() {
                y = gf_mul(y, x) ^ c;
            }
            share[idx] = y;
        }
    }
    Ok(shares)
}

/// Recombines shares (each y-values plus x in the last byte).
pub fn combine(shares: &[Zeroizing<Vec<u8>>]) -> Result<Zeroizing<Vec<u8>>> {
    let bad = || Error::new("the key group shares do not combine into a data key");
    let first = shares.first().ok_or_else(bad)?;
    let len = first.len();
    if len < 2 || shares.iter().any(|s| s.len() != len) {
        return Err(bad());
    }
    let xs: Vec<u8> = shares.iter().map(|s| s[len - 1]).collect();
    let mut secret = Zeroizing::new(vec![0u8; len - 1]);
    for (i, out) in secret.iter_mut().enumerate() {
        // Lagrange interpolation at x = 0
        let mut acc = 0u8;
        for (j, share) in shares.iter().enumerate() {
            let mut basis = 1u8;
            for (m, &xm) in xs.iter().enumerate() {
                if m != j {
                    let denom = xs[j] ^ xm;
                    if denom == 0 {
                        return Err(bad());
                    }
                    basis = gf_mul(basis, gf_mul(xm, gf_inv(denom)));
                }
            }
            acc ^= gf_mul(share[i], basis);
        }
        *out = acc;
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_combine() {
        let secret = b"0123456789abcdef0123456789abcdef";
        let shares = split(secret, 3, 2).unwrap();
        assert_eq!(&combine(&shares[..2]).unwrap()[..], secret);
        assert_eq!(&combine(&shares[1..]).unwrap()[..], secret);
        assert_ne!(&combine(&shares[..1]).unwrap()[..], secret);
    }

    #[test]
    fn inverse() {
        for a in 1..=255u8 {
            assert_eq!(gf_mul(a, gf_inv(a)), 1);
        }
    }
}
