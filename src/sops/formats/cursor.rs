//! A read position in a byte string: what the hand-written readers step through
//! (the JSON parser, the YAML timestamp resolver).

/// The input and how far it is read.
pub(crate) struct Cursor<'a> {
    pub(crate) bytes: &'a [u8],
    /// The offset of the next byte to read.
    pub(crate) i: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Cursor { bytes, i: 0 }
    }

    /// The next byte, left unread.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.i).copied()
    }

    /// The byte `n` after the next one, left unread.
    pub(crate) fn peek_at(&self, n: usize) -> Option<u8> {
        self.bytes.get(self.i + n).copied()
    }

    /// Reads the next byte.
    pub(crate) fn next(&mut self) -> Option<u8> {
        let c = self.peek()?;
        self.i += 1;
        Some(c)
    }

    /// Whether every byte is read.
    pub(crate) fn done(&self) -> bool {
        self.i == self.bytes.len()
    }

    /// Reads the byte `c`; `None` when the next byte is another one.
    pub(crate) fn lit(&mut self, c: u8) -> Option<()> {
        (self.next()? == c).then_some(())
    }

    /// Reads exactly `n` decimal digits as a number.
    pub(crate) fn fixed_digits(&mut self, n: usize) -> Option<u32> {
        let mut v = 0;
        for _ in 0..n {
            let c = self.next().filter(u8::is_ascii_digit)?;
            v = v * 10 + u32::from(c - b'0');
        }
        Some(v)
    }

    /// Reads one or two decimal digits as a number (Go's non-padded layout fields
    /// `1`, `2`, `15`, `4`, `5`).
    pub(crate) fn num12(&mut self) -> Option<u32> {
        let first = self.next().filter(u8::is_ascii_digit)?;
        let mut v = u32::from(first - b'0');
        if let Some(c) = self.peek().filter(u8::is_ascii_digit) {
            self.i += 1;
            v = v * 10 + u32::from(c - b'0');
        }
        Some(v)
    }
}
