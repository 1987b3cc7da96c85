//! Every occurrence of many byte strings in a text, in one pass, at a cost per byte that
//! does not grow with their number: the leak scanner's search (issue 19).
//!
//! Why not Aho-Corasick: its automaton follows one transition per byte, each a load that
//! depends on the one before. With a few patterns the table sits in L1 and that is about
//! 2 ns a byte; with the ≈ 1300 patterns of 300 known values (four forms each) the
//! table is megabytes, the hot rows no longer stay cached, and on a history of random
//! base64 (where no prefilter skips a byte) the scan took 6× longer — it was most of
//! `doctor --history`'s time, with the DFA or the NFA alike.
//!
//! Here every pattern is keyed by its first `width` bytes (8, or the shortest pattern's
//! length when one is shorter). At each position the `width` bytes there are hashed and
//! one bit of a small bitmap (≤ 128 KiB, ≈ 64 bits per pattern, so ~1.5 % of random
//! positions pass) says whether any pattern can start there; only then are the patterns
//! of that hash slot compared in full. The positions do not depend on each other, so the
//! CPU overlaps their loads; the cost per byte is a few instructions whatever the count.

use zeroize::{Zeroize, Zeroizing};

/// Fibonacci hashing: the top bits of `word * K` spread any 8 bytes well.
const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// A compiled set of byte strings.
pub struct MultiFind {
    /// How many leading bytes of a pattern key it (1..=8).
    width: usize,
    /// Keeps the low `width` bytes of a little-endian word.
    mask: u64,
    /// The bitmap has `1 << bits` bits.
    bits: u32,
    bitmap: Vec<u64>,
    /// Slots of the exact index: the top `slot_bits` of the same hash.
    slot_bits: u32,
    /// `prefixes[starts[s]..starts[s + 1]]` (and `ids`) are the patterns of slot `s`.
    starts: Vec<u32>,
    /// Each pattern's first `width` bytes as a word, ordered by slot; zeroized on drop
    /// like the patterns, since they are the first bytes of secret values.
    prefixes: Zeroizing<Vec<u64>>,
    /// The pattern index of each prefix.
    ids: Vec<u32>,
    patterns: Vec<Zeroizing<Vec<u8>>>,
}

impl MultiFind {
    /// Compiles `patterns`; empty ones never match.
    pub fn new(patterns: Vec<Vec<u8>>) -> MultiFind {
        let patterns: Vec<Zeroizing<Vec<u8>>> = patterns.into_iter().map(Zeroizing::new).collect();
        let width = patterns
            .iter()
            .map(|p| p.len())
            .filter(|&n| n > 0)
            .min()
            .unwrap_or(8)
            .min(8);
        let mask = if width == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * width)) - 1
        };
        let bits = (patterns.len() * 64)
            .next_power_of_two()
            .clamp(1 << 12, 1 << 20)
            .trailing_zeros();
        let slot_bits = bits - 5;
        let mut bitmap = vec![0u64; 1 << (bits - 6)];
        let mut keyed: Vec<(usize, u64, u32)> = Vec::with_capacity(patterns.len());
        for (i, p) in patterns.iter().enumerate() {
            if p.is_empty() {
                continue;
            }
            let word = load(p, 0) & mask;
            let h = word.wrapping_mul(K);
            let b = (h >> (64 - bits)) as usize;
            bitmap[b >> 6] |= 1 << (b & 63);
            let slot = (h >> (64 - slot_bits)) as usize;
            keyed.push((slot, word, i as u32));
        }
        keyed.sort_unstable_by_key(|&(slot, _, i)| (slot, i));
        let mut starts = vec![0u32; (1 << slot_bits) + 1];
        for &(slot, _, _) in &keyed {
            starts[slot + 1] += 1;
        }
        for s in 1..starts.len() {
            starts[s] += starts[s - 1];
        }
        let prefixes = Zeroizing::new(keyed.iter().map(|&(_, w, _)| w).collect());
        let ids = keyed.iter().map(|&(_, _, i)| i).collect();
        for k in &mut keyed {
            k.1.zeroize();
        }
        MultiFind {
            width,
            mask,
            bits,
            bitmap,
            slot_bits,
            starts,
            prefixes,
            ids,
            patterns,
        }
    }

    /// Calls `each(pattern index, start)` for every occurrence of every pattern in
    /// `data`, overlapping ones included, in order of their start.
    pub fn find_all(&self, data: &[u8], mut each: impl FnMut(usize, usize)) {
        let Some(last) = data.len().checked_sub(self.width) else {
            return;
        };
        // positions with 8 bytes to read, then the last few from a padded copy
        for (i, win) in data.windows(8).enumerate() {
            let word = u64::from_le_bytes(win.try_into().unwrap_or([0; 8])) & self.mask;
            self.probe(word, data, i, &mut each);
        }
        for i in data.len().saturating_sub(7)..=last {
            let word = load(data, i) & self.mask;
            self.probe(word, data, i, &mut each);
        }
    }

    #[inline(always)]
    fn probe(&self, word: u64, data: &[u8], at: usize, each: &mut impl FnMut(usize, usize)) {
        let h = word.wrapping_mul(K);
        let b = (h >> (64 - self.bits)) as usize;
        if self.bitmap[b >> 6] & (1 << (b & 63)) != 0 {
            self.confirm(h, word, data, at, each);
        }
    }

    #[inline(never)]
    fn confirm(
        &self,
        h: u64,
        word: u64,
        data: &[u8],
        at: usize,
        each: &mut impl FnMut(usize, usize),
    ) {
        let slot = (h >> (64 - self.slot_bits)) as usize;
        let (from, to) = (self.starts[slot] as usize, self.starts[slot + 1] as usize);
        for (prefix, &p) in self.prefixes[from..to].iter().zip(&self.ids[from..to]) {
            if *prefix == word && data[at..].starts_with(&self.patterns[p as usize]) {
                each(p as usize, at);
            }
        }
    }
}

/// The (up to) 8 bytes at `at` as a little-endian word, zero-padded past the end.
fn load(data: &[u8], at: usize) -> u64 {
    let mut buf = [0u8; 8];
    let tail = data.get(at..).unwrap_or(&[]);
    let n = tail.len().min(8);
    buf[..n].copy_from_slice(&tail[..n]);
    u64::from_le_bytes(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (pattern, start) a plain search finds.
    fn naive(patterns: &[Vec<u8>], data: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for at in 0..data.len() {
            for (p, pat) in patterns.iter().enumerate() {
                if !pat.is_empty() && data[at..].starts_with(pat) {
                    out.push((p, at));
                }
            }
        }
        out
    }

    fn found(patterns: &[Vec<u8>], data: &[u8]) -> Vec<(usize, usize)> {
        let m = MultiFind::new(patterns.to_vec());
        let mut out = Vec::new();
        m.find_all(data, |p, at| out.push((p, at)));
        out.sort_by_key(|&(p, at)| (at, p));
        out
    }

    /// A small xorshift, so the test needs no crate and is the same every run.
    fn random_bytes(seed: u64, n: usize, alphabet: &[u8]) -> Vec<u8> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                alphabet[(x % alphabet.len() as u64) as usize]
            })
            .collect()
    }

    #[test]
    fn finds_every_overlapping_occurrence_a_plain_search_finds() {
        let pats: Vec<Vec<u8>> = [
            "secret-one",
            "one-two-three",
            "two-three",
            "two-three",
            "abababab",
            "ENC[AES256_GCM,",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        let text = b"x secret-one-two-three y abababababab ENC[AES256_GCM,";
        assert_eq!(found(&pats, text), naive(&pats, text));
        assert!(
            found(&pats, text).contains(&(5, text.len() - 15)),
            "at the very end"
        );
        assert!(found(&pats, b"").is_empty());
        assert!(found(&pats, b"abababa").is_empty());
    }

    #[test]
    fn short_patterns_and_random_text_agree_with_a_plain_search() {
        let alphabet = b"ab";
        for (seed, min) in [(1, 1), (2, 3), (3, 7), (4, 8), (5, 12)] {
            let pats: Vec<Vec<u8>> = (0..40)
                .map(|i| random_bytes(seed * 100 + i, min + (i as usize % 5), alphabet))
                .chain([Vec::new()])
                .collect();
            for n in [0, 1, 5, 8, 9, 200] {
                let text = random_bytes(seed, n, alphabet);
                assert_eq!(
                    found(&pats, &text),
                    naive(&pats, &text),
                    "seed {seed}, n {n}"
                );
            }
        }
        // many patterns over the base64 alphabet, as 300 known values give
        let b64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let pats: Vec<Vec<u8>> = (0..1300)
            .map(|i| random_bytes(i + 7, 10 + (i as usize % 20), b64))
            .collect();
        let mut text = random_bytes(99, 20_000, b64);
        for (k, p) in pats.iter().enumerate().step_by(97) {
            let at = k * 13 % (text.len() - 40);
            text[at..at + p.len()].copy_from_slice(p);
        }
        let want = naive(&pats, &text);
        assert!(want.len() >= 13);
        assert_eq!(found(&pats, &text), want);
    }
}
