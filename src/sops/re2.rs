//! Go's RE2 regular expressions (what sops uses for `path_regex` and the four
//! `*_regex` rules), translated into an equivalent pattern for the `regex` crate.
//!
//! The two dialects look alike but differ where it matters for which values get
//! encrypted: in RE2 `\w \d \s \b` are ASCII-only (the `regex` crate makes them
//! Unicode), `\Q…\E` quotes, a `{` that does not start a valid repeat (`a{,2}`) is a
//! literal, `&&`/`--`/`~~`/`[` inside a class are literals, and RE2 rejects what the
//! `regex` crate accepts (`a**`, `(?x)`, repeats over 1000). Rather than approximate,
//! the pattern is parsed with RE2's rules and every piece re-emitted in a form whose
//! meaning is the same in both: literals as `\x{…}`, Perl classes as explicit ASCII
//! sets, word boundaries as `(?-u:\b)`. A pattern RE2 rejects is an error here, so a
//! config that sops reads differently (it ignores the error and matches nothing) is
//! refused instead of silently encrypting something else.

use regex::Regex;
use std::fmt::Write;

/// Compiles an RE2 pattern with RE2's semantics.
pub fn compile(pattern: &str) -> Result<Regex, String> {
    let translated = translate(pattern)?;
    Regex::new(&translated).map_err(|e| {
        e.to_string()
            .lines()
            .rfind(|l| l.starts_with("error:"))
            .unwrap_or("not a valid regular expression")
            .trim_start_matches("error: ")
            .to_string()
    })
}

/// Translates an RE2 pattern into a `regex` crate pattern that matches the same strings.
pub fn translate(pattern: &str) -> Result<String, String> {
    Translator {
        chars: pattern.chars().collect(),
        pos: 0,
        out: String::with_capacity(pattern.len() * 2),
    }
    .run()
}

const DIGIT: &str = "0-9";
const WORD: &str = "0-9A-Za-z_";
const SPACE: &str = r"\t\n\x0C\r ";
const POSIX: [&str; 14] = [
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
];

struct Translator {
    chars: Vec<char>,
    pos: usize,
    out: String,
}

/// What the last emitted piece was, for RE2's repetition rules.
#[derive(Clone, Copy, PartialEq)]
enum Last {
    /// Nothing a repetition could apply to (start, `(`, `|`).
    Nothing,
    Atom,
    Repeat,
}

fn literal(out: &mut String, c: char) {
    let _ = write!(out, "\\x{{{:X}}}", c as u32);
}

impl Translator {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }
    fn peek_at(&self, n: usize) -> Option<char> {
        self.chars.get(self.pos + n).copied()
    }
    fn rest_starts_with(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(i, c)| self.peek_at(i) == Some(c))
    }

    fn run(mut self) -> Result<String, String> {
        let mut depth = 0usize;
        let mut last = Last::Nothing;
        while let Some(c) = self.peek() {
            self.pos += 1;
            match c {
                '\\' => last = self.escape_outside(last)?,
                '[' => {
                    self.class()?;
                    last = Last::Atom;
                }
                '(' => {
                    if self.group_open()? {
                        depth += 1;
                        last = Last::Nothing;
                    }
                }
                ')' => {
                    if depth == 0 {
                        return Err("unexpected ): unbalanced parentheses".into());
                    }
                    depth -= 1;
                    self.out.push(')');
                    last = Last::Atom;
                }
                '|' => {
                    self.out.push('|');
                    last = Last::Nothing;
                }
                '*' | '+' | '?' => {
                    self.repeat_check(last, &c.to_string())?;
                    self.out.push(c);
                    self.lazy();
                    last = Last::Repeat;
                }
                '{' => match self.counted()? {
                    Some(text) => {
                        self.repeat_check(last, &text)?;
                        self.out.push_str(&text);
                        self.lazy();
                        last = Last::Repeat;
                    }
                    None => {
                        literal(&mut self.out, '{');
                        last = Last::Atom;
                    }
                },
                '^' | '$' => {
                    self.out.push(c);
                    last = Last::Atom;
                }
                '.' => {
                    self.out.push('.');
                    last = Last::Atom;
                }
                other => {
                    literal(&mut self.out, other);
                    last = Last::Atom;
                }
            }
        }
        if depth > 0 {
            return Err("missing closing ): unbalanced parentheses".into());
        }
        Ok(self.out)
    }

    /// RE2: a repetition needs something to repeat, and may not follow another one.
    fn repeat_check(&self, last: Last, op: &str) -> Result<(), String> {
        match last {
            Last::Nothing => Err(format!("missing argument to repetition operator: `{op}`")),
            Last::Repeat => Err(format!("invalid nested repetition operator: `{op}`")),
            Last::Atom => Ok(()),
        }
    }

    fn lazy(&mut self) {
        if self.peek() == Some('?') {
            self.pos += 1;
            self.out.push('?');
        }
    }

    /// `{n}`, `{n,}`, `{n,m}` after the `{`: the repeat text, or `None` when RE2 reads
    /// the `{` as a literal.
    fn counted(&mut self) -> Result<Option<String>, String> {
        let start = self.pos;
        let num = |t: &mut Translator| -> Option<u32> {
            let s = t.pos;
            while t.peek().is_some_and(|c| c.is_ascii_digit()) {
                t.pos += 1;
            }
            if t.pos == s {
                return None;
            }
            let digits: String = t.chars[s..t.pos].iter().collect();
            // Longer than RE2 would accept anyway: clamp so the size check below fails.
            Some(digits.parse().unwrap_or(u32::MAX))
        };
        let Some(min) = num(self) else {
            self.pos = start;
            return Ok(None);
        };
        let max = if self.peek() == Some(',') {
            self.pos += 1;
            if self.peek() == Some('}') {
                None
            } else {
                match num(self) {
                    Some(m) => Some(m),
                    None => {
                        self.pos = start;
                        return Ok(None);
                    }
                }
            }
        } else {
            Some(min)
        };
        if self.peek() != Some('}') {
            self.pos = start;
            return Ok(None);
        }
        self.pos += 1;
        let text: String = self.chars[start - 1..self.pos].iter().collect();
        if min > 1000 || max.is_some_and(|m| m > 1000 || m < min) {
            return Err(format!("invalid repeat count: `{text}`"));
        }
        Ok(Some(text))
    }

    /// After a `(`: whether it opened a group (`(?i)` only sets flags).
    fn group_open(&mut self) -> Result<bool, String> {
        if self.peek() != Some('?') {
            self.out.push('(');
            return Ok(true);
        }
        // Named groups: (?P<name>…) and (?<name>…).
        let named = if self.rest_starts_with("?P<") {
            Some(3)
        } else if self.rest_starts_with("?<") && !matches!(self.peek_at(2), Some('=' | '!')) {
            Some(2)
        } else {
            None
        };
        if let Some(skip) = named {
            self.pos += skip;
            let s = self.pos;
            while self.peek().is_some_and(|c| c != '>') {
                self.pos += 1;
            }
            let name: String = self.chars[s..self.pos].iter().collect();
            if self.peek() != Some('>')
                || name.is_empty()
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(format!("invalid named capture: `{name}`"));
            }
            self.pos += 1;
            let _ = write!(self.out, "(?P<{name}>");
            return Ok(true);
        }
        // Flags: (?imsU-imsU) or (?imsU-imsU:…); nothing else (no lookaround, no x).
        self.pos += 1;
        let s = self.pos;
        let mut negated = false;
        let mut any = false;
        loop {
            match self.peek() {
                Some('i' | 'm' | 's' | 'U') => {
                    self.pos += 1;
                    any = true;
                }
                Some('-') if !negated => {
                    self.pos += 1;
                    negated = true;
                    any = false;
                }
                Some(':') | Some(')') if any => {
                    let group = self.peek() == Some(':');
                    let flags: String = self.chars[s..self.pos].iter().collect();
                    self.pos += 1;
                    let _ = write!(self.out, "(?{flags}{}", if group { ":" } else { ")" });
                    return Ok(group);
                }
                _ => {
                    let bad: String = self.chars[s - 2..self.pos.min(self.chars.len())]
                        .iter()
                        .collect();
                    return Err(format!(
                        "invalid or unsupported Perl syntax: `{bad}` (RE2 has no lookaround, \
                         no (?x), no comments)"
                    ));
                }
            }
        }
    }

    /// An escape outside a class.
    fn escape_outside(&mut self, last: Last) -> Result<Last, String> {
        let Some(c) = self.peek() else {
            return Err("trailing backslash at end of expression".into());
        };
        self.pos += 1;
        match c {
            'Q' => {
                // Literal text up to \E (or the end).
                let mut any = false;
                while self.peek().is_some() {
                    if self.rest_starts_with("\\E") {
                        self.pos += 2;
                        break;
                    }
                    if let Some(ch) = self.peek() {
                        literal(&mut self.out, ch);
                        any = true;
                    }
                    self.pos += 1;
                }
                Ok(if any { Last::Atom } else { last })
            }
            'E' => Ok(last),
            'b' => {
                self.out.push_str(r"(?-u:\b)");
                Ok(Last::Atom)
            }
            'B' => {
                self.out.push_str(r"(?-u:\B)");
                Ok(Last::Atom)
            }
            'A' | 'z' => {
                let _ = write!(self.out, "\\{c}");
                Ok(Last::Atom)
            }
            'd' | 'w' | 's' | 'D' | 'W' | 'S' => {
                let set = perl_set(c);
                let neg = if c.is_ascii_uppercase() { "^" } else { "" };
                let _ = write!(self.out, "[{neg}{set}]");
                Ok(Last::Atom)
            }
            'p' | 'P' => {
                let text = self.unicode_class(c)?;
                self.out.push_str(&text);
                Ok(Last::Atom)
            }
            _ => {
                let ch = self.escaped_char(c)?;
                literal(&mut self.out, ch);
                Ok(Last::Atom)
            }
        }
    }

    /// `\pL`, `\p{Greek}`, `\P{^L}` after the backslash and `p`/`P`: the class RE2
    /// (Go 1.25) knows by that name, re-emitted under its canonical name, or an error.
    fn unicode_class(&mut self, p: char) -> Result<String, String> {
        let start = self.pos - 2;
        let name: String = match self.peek() {
            Some('{') => {
                self.pos += 1;
                let s = self.pos;
                while self.peek().is_some_and(|c| c != '}') {
                    self.pos += 1;
                }
                if self.peek() != Some('}') {
                    return Err("invalid character class range: unclosed \\p{".into());
                }
                self.pos += 1;
                self.chars[s..self.pos - 1].iter().collect()
            }
            Some(c) => {
                self.pos += 1;
                c.to_string()
            }
            None => return Err("invalid character class range: \\p at the end".into()),
        };
        let (negated, bare) = match name.strip_prefix('^') {
            Some(rest) => (p == 'p', rest),
            None => (p == 'P', name.as_str()),
        };
        let canonical = go_canonical_name(bare);
        if !is_re2_class_name(&canonical) {
            let written: String = self.chars[start..self.pos].iter().collect();
            return Err(format!(
                "invalid character class range: `{written}` (RE2 knows the general \
                 categories, as in \\pL, \\p{{Lu}}, \\p{{Letter}}, the scripts with a one-word \
                 name, as in \\p{{Greek}}, and Any, ASCII, Assigned; no Unicode properties, \
                 script codes or multi-word script names)"
            ));
        }
        if canonical == "Cs" || canonical == "Surrogate" {
            // No `char` is a surrogate: the `regex` crate has no such class, and RE2's
            // matches nothing in valid UTF-8 (Go reads a stray surrogate's bytes as U+FFFD).
            let neg = if negated { "" } else { "^" };
            return Ok(format!("[{neg}\\x{{0}}-\\x{{10FFFF}}]"));
        }
        let p = if negated { 'P' } else { 'p' };
        Ok(format!("\\{p}{{{canonical}}}"))
    }

    /// The character an escape stands for (octal, hex, C escapes, punctuation).
    fn escaped_char(&mut self, c: char) -> Result<char, String> {
        let from_code = |n: u32| char::from_u32(n).ok_or_else(|| format!("invalid escape: {n:#x}"));
        match c {
            '1'..='7' if !self.peek().is_some_and(|d| ('0'..='7').contains(&d)) => Err(format!(
                "invalid escape sequence: `\\{c}` (RE2 has no backreferences)"
            )),
            '0'..='7' => {
                let mut n = c.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match self.peek().and_then(|d| d.to_digit(8)) {
                        Some(d) => {
                            n = n * 8 + d;
                            self.pos += 1;
                        }
                        None => break,
                    }
                }
                from_code(n)
            }
            'x' => {
                if self.peek() == Some('{') {
                    self.pos += 1;
                    let s = self.pos;
                    while self.peek().is_some_and(|d| d.is_ascii_hexdigit()) {
                        self.pos += 1;
                    }
                    let hex: String = self.chars[s..self.pos].iter().collect();
                    if self.peek() != Some('}') || hex.is_empty() {
                        return Err("invalid escape sequence: bad \\x{…}".into());
                    }
                    self.pos += 1;
                    let n = u32::from_str_radix(&hex, 16)
                        .map_err(|_| "invalid escape sequence: \\x{…} too large".to_string())?;
                    from_code(n)
                } else {
                    let h: String = (0..2).filter_map(|i| self.peek_at(i)).collect();
                    if h.len() != 2 || !h.chars().all(|d| d.is_ascii_hexdigit()) {
                        return Err("invalid escape sequence: bad \\x".into());
                    }
                    self.pos += 2;
                    from_code(u32::from_str_radix(&h, 16).unwrap_or(0))
                }
            }
            'a' => Ok('\x07'),
            'f' => Ok('\x0C'),
            'n' => Ok('\n'),
            'r' => Ok('\r'),
            't' => Ok('\t'),
            'v' => Ok('\x0B'),
            c if c.is_ascii() && !c.is_ascii_alphanumeric() => Ok(c),
            c => Err(format!("invalid escape sequence: `\\{c}`")),
        }
    }

    /// A bracket class after the `[`, re-emitted item by item.
    fn class(&mut self) -> Result<(), String> {
        self.out.push('[');
        if self.peek() == Some('^') {
            self.pos += 1;
            self.out.push('^');
        }
        let mut first = true;
        let mut items = 0;
        loop {
            let Some(c) = self.peek() else {
                return Err("missing closing ]".into());
            };
            if c == ']' && !first {
                self.pos += 1;
                break;
            }
            first = false;
            // POSIX [:name:] / [:^name:]
            if c == '[' && self.peek_at(1) == Some(':') {
                let rest: String = self.chars[self.pos + 2..].iter().collect();
                if let Some(end) = rest.find(":]") {
                    let name = &rest[..end];
                    let bare = name.strip_prefix('^').unwrap_or(name);
                    if !POSIX.contains(&bare) {
                        return Err(format!("invalid character class range: `[:{name}:]`"));
                    }
                    self.pos += 2 + name.chars().count() + 2;
                    let _ = write!(self.out, "[:{name}:]");
                    items += 1;
                    continue;
                }
            }
            if c == '\\' {
                match self.peek_at(1) {
                    Some(p @ ('d' | 'w' | 's')) => {
                        self.pos += 2;
                        self.out.push_str(perl_set(p));
                        items += 1;
                        continue;
                    }
                    Some(p @ ('D' | 'W' | 'S')) => {
                        self.pos += 2;
                        let _ = write!(self.out, "[^{}]", perl_set(p));
                        items += 1;
                        continue;
                    }
                    Some(p @ ('p' | 'P')) => {
                        self.pos += 2;
                        let text = self.unicode_class(p)?;
                        self.out.push_str(&text);
                        items += 1;
                        continue;
                    }
                    _ => {}
                }
            }
            let lo = self.class_char()?;
            let mut hi = lo;
            if self.peek() == Some('-') && self.peek_at(1).is_some_and(|n| n != ']') {
                self.pos += 1;
                hi = self.class_char()?;
                if hi < lo {
                    return Err(format!("invalid character class range: `{lo}-{hi}`"));
                }
            }
            literal(&mut self.out, lo);
            if hi != lo {
                self.out.push('-');
                literal(&mut self.out, hi);
            }
            items += 1;
        }
        if items == 0 {
            return Err("missing closing ]".into());
        }
        self.out.push(']');
        Ok(())
    }

    /// One character inside a class (an escape, or the character itself).
    fn class_char(&mut self) -> Result<char, String> {
        let Some(c) = self.peek() else {
            return Err("missing closing ]".into());
        };
        self.pos += 1;
        if c != '\\' {
            return Ok(c);
        }
        let Some(e) = self.peek() else {
            return Err("trailing backslash at end of expression".into());
        };
        self.pos += 1;
        self.escaped_char(e)
    }
}

/// Go's `regexp/syntax.canonicalName`: spaces, `_` and `-` dropped, the first letter
/// upper case and the rest lower case (`lowercase_letter` → `Lowercaseletter`).
fn go_canonical_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().filter(|c| !matches!(c, ' ' | '_' | '-')) {
        if out.is_empty() {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Every `\p{…}` name Go 1.25's RE2 accepts (sops 3.11 is built with it), after
/// [`go_canonical_name`]: `Any`, `Assigned`, `ASCII`, `LC`, the general categories and
/// their Unicode aliases (`Letter`, `digit`, …), and the scripts of Go's table whose name
/// is already canonical. Go looks a script up by its canonical name, so it finds no
/// multi-word script (`Old_Italic` becomes `Olditalic`), nor `SignWriting`; it knows no
/// 4-letter script codes (`Grek`), no binary properties (`Alphabetic`, `White_Space`)
/// and none of Unicode 16's new scripts. Checked name by name against sops 3.11
/// (`^(?:\p{NAME}|a)$` as `encrypted_regex`: a name it rejects leaves `a` plain).
/// One string, not a slice of names: a table of `&str` is pointers that every start
/// of the program relocates.
const RE2_CLASS_NAMES: &str = "\
    Any Assigned Ascii Lc \
    C Cc Cf Cn Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No \
    P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs \
    Casedletter Closepunctuation Combiningmark Connectorpunctuation Control \
    Currencysymbol Dashpunctuation Decimalnumber Enclosingmark Finalpunctuation Format \
    Initialpunctuation Letter Letternumber Lineseparator Lowercaseletter Mark Mathsymbol \
    Modifierletter Modifiersymbol Nonspacingmark Number Openpunctuation Other Otherletter \
    Othernumber Otherpunctuation Othersymbol Paragraphseparator Privateuse Punctuation \
    Separator Spaceseparator Spacingmark Surrogate Symbol Titlecaseletter Unassigned \
    Uppercaseletter Cntrl Digit Punct \
    Adlam Ahom Arabic Armenian Avestan Balinese Bamum Batak Bengali Bhaiksuki Bopomofo \
    Brahmi Braille Buginese Buhid Carian Chakma Cham Cherokee Chorasmian Common Coptic \
    Cuneiform Cypriot Cyrillic Deseret Devanagari Dogra Duployan Elbasan Elymaic Ethiopic \
    Georgian Glagolitic Gothic Grantha Greek Gujarati Gurmukhi Han Hangul Hanunoo Hatran \
    Hebrew Hiragana Inherited Javanese Kaithi Kannada Katakana Kawi Kharoshthi Khmer \
    Khojki Khudawadi Lao Latin Lepcha Limbu Lisu Lycian Lydian Mahajani Makasar Malayalam \
    Mandaic Manichaean Marchen Medefaidrin Miao Modi Mongolian Mro Multani Myanmar \
    Nabataean Nandinagari Newa Nko Nushu Ogham Oriya Osage Osmanya Palmyrene Phoenician \
    Rejang Runic Samaritan Saurashtra Sharada Shavian Siddham Sinhala Sogdian Soyombo \
    Sundanese Syriac Tagalog Tagbanwa Takri Tamil Tangsa Tangut Telugu Thaana Thai Tibetan \
    Tifinagh Tirhuta Toto Ugaritic Vai Vithkuqi Wancho Yezidi Yi";

fn is_re2_class_name(canonical: &str) -> bool {
    RE2_CLASS_NAMES.split(' ').any(|n| n == canonical)
}

fn perl_set(c: char) -> &'static str {
    match c.to_ascii_lowercase() {
        'd' => DIGIT,
        'w' => WORD,
        _ => SPACE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (pattern, text, does RE2 match) — RE2 semantics as Go's regexp documents them.
    const TABLE: &[(&str, &str, bool)] = &[
        // Perl classes are ASCII-only in RE2.
        (r"^\w+$", "pass", true),
        (r"^\w+$", "päss", false),
        (r"^\d+$", "123", true),
        (r"^\d+$", "١٢٣", false),
        (r"^\s$", " ", true),
        (r"^\s$", "\u{a0}", false),
        (r"^\s$", "\x0B", false),
        (r"^\W$", "ä", true),
        (r"^\D$", "١", true),
        (r"^\S$", "\u{2003}", true),
        (r"^[\w-]+$", "a-b_c", true),
        (r"^[\w]+$", "é", false),
        (r"^[^\d]$", "٣", true),
        (r"^[\D]$", "5", false),
        // \b is an ASCII word boundary.
        (r"\bkey\b", "a key here", true),
        (r"\bkey\b", "ékeyé", true),
        (r"\bkey\b", "akey", false),
        (r"x\B", "xé", false),
        // \Q…\E quotes.
        (r"^\Qa.b*\E$", "a.b*", true),
        (r"^\Qa.b*\E$", "aXbbb", false),
        (r"^\Qa.b", "a.b", true),
        (r"^a\Q\E*$", "aaa", true),
        // A { that does not start a valid repeat is a literal.
        (r"^a{,2}$", "a{,2}", true),
        (r"^a{,2}$", "aa", false),
        (r"^a{$", "a{", true),
        (r"^a{x}$", "a{x}", true),
        (r"^a{2}$", "aa", true),
        (r"^a{2,}$", "aaaa", true),
        (r"^a{1,2}$", "aaa", false),
        (r"^}$", "}", true),
        // Class syntax: ] first is literal, && -- ~~ [ are literals.
        (r"^[]a]+$", "]a", true),
        (r"^[a&&b]+$", "&", true),
        (r"^[-a-]+$", "-", true),
        (r"^[a~~b]+$", "~", true),
        (r"^[[a]+$", "[", true),
        (r"^[a-]+$", "-a", true),
        (r"^[[:alpha:]]+$", "abc", true),
        (r"^[[:alpha:]]+$", "äbc", false),
        (r"^[[:^digit:]]$", "a", true),
        // Escapes.
        (r"^\x41\x{42}\101$", "ABA", true),
        (r"^\#\&\~$", "#&~", true),
        (r"^\pL+$", "päss", true),
        (r"^\p{Greek}$", "α", true),
        // Class names as Go 1.25 looks them up: case, spaces, `_` and `-` ignored,
        // category aliases, `^` negates.
        (r"^\p{greek}$", "α", true),
        (r"^\pl$", "a", true),
        (r"^\p{Lowercase-Letter}$", "a", true),
        (r"^\p{lowercase letter}$", "A", false),
        (r"^\p{digit}$", "٣", true),
        (r"^\p{^Greek}$", "α", false),
        (r"^\P{^Greek}$", "α", true),
        (r"^[\P{L}x]$", "x", true),
        (r"^\p{Any}$", "\u{10FFFF}", true),
        (r"^\p{ascii}+$", "abc", true),
        (r"^\p{ASCII}$", "é", false),
        (r"^\p{LC}$", "ǅ", true),
        (r"^\p{Assigned}$", "\u{E0080}", false),
        (r"^\p{Nko}$", "\u{7C0}", true),
        (r"^\p{Cs}$", "\u{FFFD}", false),
        (r"^\P{Surrogate}$", "a", true),
        (r"^[a\p{Cs}]$", "a", true),
        // Flags RE2 has.
        (r"(?i)^PASS$", "pass", true),
        (r"(?i:P)ass", "pass", true),
        (r"(?s)a.b", "a\nb", true),
        (r"a.b", "a\nb", false),
        (r"(?m)^b$", "a\nb", true),
        (r"a$", "a\n", false),
        (r"(?U)a+", "aaa", true),
        (r"(?P<n>a)(?<m>b)", "ab", true),
        // Unicode case folding as in RE2.
        (r"(?i)^k$", "\u{212A}", true),
        // Alternation, groups, lazy.
        (r"^(data|stringData)$", "stringData", true),
        (r"^(data|stringData)$", "metadata", false),
        (r"^a*?$", "aa", true),
        (r"", "anything", true),
    ];

    #[test]
    fn matches_like_re2() {
        for (pattern, text, want) in TABLE {
            let re = compile(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
            assert_eq!(
                re.is_match(text),
                *want,
                "{pattern:?} on {text:?} (translated {:?})",
                translate(pattern)
            );
        }
    }

    /// Patterns Go's regexp.Compile rejects (its error kind in the comment).
    #[test]
    fn refuses_what_re2_refuses() {
        for pattern in [
            "a**",       // invalid nested repetition operator
            "a*+",       // invalid nested repetition operator
            "a+*",       // invalid nested repetition operator
            "a*??",      // invalid nested repetition operator
            "a{2}{3}",   // invalid nested repetition operator
            "a{2}*",     // invalid nested repetition operator
            "*a",        // missing argument to repetition operator
            "(*a)",      // missing argument to repetition operator
            "a|*",       // missing argument to repetition operator
            "a{1001}",   // invalid repeat count
            "a{3,2}",    // invalid repeat count
            "(?x) a",    // invalid or unsupported Perl syntax
            "(?=a)",     // lookahead
            "(?!a)",     // negative lookahead
            "(?<=a)b",   // lookbehind
            "(?#c)",     // comment group
            r"(a)\1",    // backreference
            r"\Z",       // invalid escape
            r"\C",       // invalid escape
            r"\e",       // invalid escape
            r"\é",       // invalid escape
            "a\\",       // trailing backslash
            "(a",        // missing )
            "a)",        // unexpected )
            "[a",        // missing ]
            "[]",        // missing ]
            "[z-a]",     // invalid character class range
            "[a--b]",    // invalid character class range (a to -)
            "[[:foo:]]", // invalid character class range
            "(?P<>a)",   // invalid named capture
            "(?i",       // missing )
            // Names Go 1.25 does not know (sops 3.11 ignores such a rule).
            r"\p{Alphabetic}", // a binary property
            r"\p{White_Space}",
            r"\p{Grek}",       // a script code
            r"\p{Old_Italic}", // a multi-word script (Go looks up `Olditalic`)
            r"\p{SignWriting}",
            r"\p{Garay}", // Unicode 16, after Go's tables
            r"\p{Unknown}",
            r"[\p{Latn}]",
            r"\p{^Alphabetic}",
            r"\p{}",
            r"\p^",
        ] {
            assert!(compile(pattern).is_err(), "{pattern:?} should be refused");
        }
    }

    /// Every class name RE2 knows compiles with the `regex` features this crate is built
    /// with (`Cargo.toml` keeps only case folding, general categories and scripts), both
    /// as `\p` and `\P`, outside and inside a bracket class, with and without `(?i)`.
    #[test]
    fn every_class_name_re2_knows_compiles() {
        for name in RE2_CLASS_NAMES.split(' ') {
            for pattern in [
                format!(r"\p{{{name}}}"),
                format!(r"\P{{{name}}}"),
                format!(r"[a\p{{{name}}}]"),
                format!(r"(?i)\p{{{name}}}"),
            ] {
                if let Err(e) = compile(&pattern) {
                    panic!("{pattern}: {e}");
                }
            }
        }
    }

    /// The refusal names the class and says what RE2 has instead.
    #[test]
    fn an_unknown_class_name_is_named_in_the_error() {
        let e = compile(r"^\p{Alphabetic}+$").unwrap_err();
        assert!(e.contains(r"`\p{Alphabetic}`"), "{e}");
        assert!(e.contains("general categories"), "{e}");
    }
}
