//! Standard base64 (with padding) for the values of a sops file, by table: every
//! `ENC[…]` value has three fields to decode or encode, and the `base64` crate's general
//! engine was a tenth of a large file's decrypt. Decoding here takes only canonical
//! input, the one form the crate's `STANDARD` engine accepts (length a multiple of four,
//! `=` only as the last one or two characters, zero bits after the last byte); anything
//! else is `None`, and the caller hands it to the crate, whose answer (and error message)
//! is then the one given. Tests hold both equal.

/// The 6-bit value of each base64 character; [`INVALID`] for every other byte (`=` too).
static DECODE: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        t[ENCODE[i] as usize] = i as u8;
        i += 1;
    }
    t
};

const INVALID: u8 = 0xFF;

static ENCODE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// How many bytes canonical base64 of this length decodes to at most.
pub fn decoded_len_max(b64_len: usize) -> usize {
    b64_len / 4 * 3
}

/// Decodes canonical `b64` into the start of `out`; the number of bytes written, or
/// `None` when `b64` is not canonical or `out` is too short (`out` may then hold
/// anything).
pub fn decode_to_slice(b64: &[u8], out: &mut [u8]) -> Option<usize> {
    if b64.len() % 4 != 0 {
        return None;
    }
    let Some((body, last)) = b64.split_last_chunk::<4>() else {
        return Some(0);
    };
    let body_len = decoded_len_max(body.len());
    if out.len() < body_len {
        return None;
    }
    let (head, tail) = out.split_at_mut(body_len);
    // Invalid characters are OR-ed together and checked once at the end: the loop has
    // no branch but its own.
    let mut bad = 0u8;
    for (quad, dst) in body.chunks_exact(4).zip(head.chunks_exact_mut(3)) {
        let [a, b, c, d] = [0, 1, 2, 3].map(|i| DECODE[usize::from(quad[i])]);
        bad |= a | b | c | d;
        let n = u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d);
        dst.copy_from_slice(&n.to_be_bytes()[1..]);
    }
    if bad & 0xC0 != 0 {
        return None;
    }
    let [a, b, c, d] = (*last).map(|x| DECODE[usize::from(x)]);
    if (a | b) & 0xC0 != 0 {
        return None;
    }
    let n = u32::from(a) << 18 | u32::from(b) << 12;
    let written = match (last[2], last[3]) {
        (b'=', b'=') if b & 0x0F == 0 => {
            *tail.first_mut()? = (n >> 16) as u8;
            1
        }
        (_, b'=') if c & 0xC0 == 0 && c & 0x03 == 0 => {
            let n = n | u32::from(c) << 6;
            tail.get_mut(..2)?.copy_from_slice(&n.to_be_bytes()[1..3]);
            2
        }
        _ if (c | d) & 0xC0 == 0 => {
            let n = n | u32::from(c) << 6 | u32::from(d);
            tail.get_mut(..3)?.copy_from_slice(&n.to_be_bytes()[1..]);
            3
        }
        _ => return None,
    };
    Some(body_len + written)
}

/// Appends canonical `b64`, decoded, to `out`; `false` (and `out` as it was) when `b64`
/// is not canonical. Grows `out` only when its spare capacity is too small.
pub fn decode_append(b64: &[u8], out: &mut Vec<u8>) -> bool {
    let start = out.len();
    out.resize(start + decoded_len_max(b64.len()), 0);
    match decode_to_slice(b64, &mut out[start..]) {
        Some(n) => {
            out.truncate(start + n);
            true
        }
        None => {
            out.truncate(start);
            false
        }
    }
}

/// Appends `bytes` as standard base64 with padding.
pub fn encode_append(bytes: &[u8], out: &mut String) {
    out.reserve(bytes.len().div_ceil(3) * 4);
    // Encoded on the stack a block at a time, then appended as one `&str`.
    let mut buf = [0u8; 256];
    for block in bytes.chunks(192) {
        let chunks = block.chunks_exact(3);
        let rest = chunks.remainder();
        let mut n = 0;
        for (c, dst) in chunks.zip(buf.chunks_exact_mut(4)) {
            let v = u32::from(c[0]) << 16 | u32::from(c[1]) << 8 | u32::from(c[2]);
            dst.copy_from_slice(&[18, 12, 6, 0].map(|shift| ENCODE[(v >> shift) as usize & 63]));
            n += 4;
        }
        let pad = match *rest {
            [a] => {
                let v = u32::from(a) << 16;
                Some([
                    ENCODE[(v >> 18) as usize],
                    ENCODE[(v >> 12) as usize & 63],
                    b'=',
                    b'=',
                ])
            }
            [a, b] => {
                let v = u32::from(a) << 16 | u32::from(b) << 8;
                Some([
                    ENCODE[(v >> 18) as usize],
                    ENCODE[(v >> 12) as usize & 63],
                    ENCODE[(v >> 6) as usize & 63],
                    b'=',
                ])
            }
            _ => None,
        };
        if let Some(last) = pad {
            buf[n..n + 4].copy_from_slice(&last);
            n += 4;
        }
        // Only ASCII from ENCODE and `=` is in `buf`.
        out.push_str(std::str::from_utf8(&buf[..n]).unwrap_or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    fn ours(s: &str) -> Option<Vec<u8>> {
        let mut out = vec![7u8; 2];
        decode_append(s.as_bytes(), &mut out).then(|| out.split_off(2))
    }

    #[test]
    fn encoding_matches_the_base64_crate() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for len in 0..300 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            let mut s = String::from("x");
            encode_append(&bytes, &mut s);
            assert_eq!(s[1..], STANDARD.encode(&bytes), "{len}");
            assert_eq!(ours(&s[1..]).as_deref(), Some(&bytes[..]), "{len}");
        }
    }

    #[test]
    fn decoding_accepts_exactly_what_the_base64_crate_accepts_and_agrees() {
        // Every string of up to 8 characters over an alphabet with the characters that
        // matter (pad, trailing bits set or not, invalid bytes, Go's ignored breaks),
        // then longer random ones.
        let alphabet = [
            "A", "B", "Q", "g", "w", "/", "+", "9", "=", "-", "_", " ", "\n", "\r", "é", "AA",
            "AAA=", "QQ==", "AB==", "ABC=",
        ];
        let mut cases: Vec<String> = vec![String::new()];
        let mut layer = vec![String::new()];
        for _ in 0..4 {
            layer = layer
                .iter()
                .flat_map(|p| alphabet.iter().map(move |a| format!("{p}{a}")))
                .filter(|s| s.len() <= 8)
                .collect();
            cases.extend(layer.iter().cloned());
        }
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = (seed % 40) as usize;
            let s: String = (0..len)
                .map(|i| alphabet[((seed >> (i % 50)) as usize + i * 7) % alphabet.len()])
                .collect();
            cases.push(s);
        }
        let mut accepted = 0;
        for s in &cases {
            let theirs = STANDARD.decode(s).ok();
            let mine = ours(s);
            // Canonical input is ours to decode; the rest goes to the crate.
            if mine.is_some() {
                accepted += 1;
                assert_eq!(mine, theirs, "{s:?}");
            } else if s.len() % 4 == 0
                && s.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"+/".contains(&c))
            {
                panic!("{s:?} is canonical and was not decoded");
            }
            let mut small = [0u8; 8];
            if let Some(n) = decode_to_slice(s.as_bytes(), &mut small) {
                assert_eq!(Some(&small[..n]), theirs.as_deref(), "{s:?}");
            }
        }
        assert!(accepted > 1000, "{accepted}");
    }
}
