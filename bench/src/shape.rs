//! Checking a JSON reply against the expected one cheaply, so that the load generator can
//! check every reply without becoming the bottleneck, even at 1 MB.
//!
//! [`fingerprint`] reads a JSON text in one pass, without building a value or allocating
//! (but for strings with escapes, decoded into a reused buffer), and folds it into a 64-bit
//! hash of its *meaning*: object members in any order, numbers by value (`1`, `1.0` and
//! `1e0` are the same), strings after unescaping (`"é"` and `"\u00e9"` are the same). Two
//! texts with the same fingerprint are, but for a hash collision (about 2^-64 for
//! unrelated texts), the same JSON value. Servers written in different languages format
//! the same reply differently, so comparing bytes would not do.
//!
//! One number may vary from call to call: the value at a *marker path* (for example
//! `success.score`) is folded in as a constant and returned on its own, so one expected
//! fingerprint serves every call and the call's own number is checked separately.
//!
//! The scanner checks the JSON grammar (it rejects what `serde_json` rejects, except
//! invalid UTF-8 inside strings, which cannot match an expected reply anyway).

use std::fmt;

/// What [`fingerprint`] found.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fingerprint {
    /// The hash of the value, with the marker's value left out.
    pub hash: u64,
    /// The number at the marker path, if there was a number there.
    pub marker: Option<f64>,
}

/// Why a text is not JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotJson {
    /// The byte offset where reading stopped.
    pub at: usize,
    /// What was expected there.
    pub expected: &'static str,
}

impl fmt::Display for NotJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {} at byte {}", self.expected, self.at)
    }
}

impl std::error::Error for NotJson {}

/// How deep arrays and objects may nest (as `serde_json`'s default limit).
const MAX_DEPTH: usize = 128;

/// Fingerprints the JSON text `json`; `marker` is the path of object keys of the number
/// that varies (empty: none).
pub fn fingerprint(json: &[u8], marker: &[&str]) -> Result<Fingerprint, NotJson> {
    let mut scanner = Scanner {
        bytes: json,
        at: 0,
        scratch: Vec::new(),
        last: Last::Scratch,
        marker: None,
        depth: 0,
    };
    let path = if marker.is_empty() {
        Path::Off
    } else {
        Path::On(marker)
    };
    scanner.skip_space();
    let hash = scanner.value(path)?;
    scanner.skip_space();
    if scanner.at != json.len() {
        return Err(scanner.error("the end of the text"));
    }
    Ok(Fingerprint {
        hash,
        marker: scanner.marker,
    })
}

const SEED: u64 = 0x9e37_79b9_7f4a_7c15;
const MULTIPLIER: u64 = 0x517c_c1b7_2722_0a95;

/// Tags keep values of different types apart (`"1"` from `1`, `[]` from `{}`).
const NULL: u64 = 0x6e75_6c6c;
const FALSE: u64 = 0x6661_6c73;
const TRUE: u64 = 0x7472_7565;
const NUMBER: u64 = 0x6e75_6d62;
const STRING: u64 = 0x7374_7269;
const ARRAY: u64 = 0x6172_7261;
const OBJECT: u64 = 0x6f62_6a65;
/// Stands for the marker's value.
const MARKER: u64 = 0x6d61_726b;

/// A 64-bit finalizer (from SplitMix64): every input bit affects every output bit.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Hashes bytes eight at a time.
fn hash_bytes(tag: u64, bytes: &[u8]) -> u64 {
    let mut h = SEED ^ tag ^ (bytes.len() as u64).wrapping_mul(MULTIPLIER);
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        h = (h.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }
    let mut last = [0u8; 8];
    last[..words.remainder().len()].copy_from_slice(words.remainder());
    h = (h.rotate_left(5) ^ u64::from_le_bytes(last)).wrapping_mul(MULTIPLIER);
    mix(h)
}

fn hash_number(value: f64) -> u64 {
    // -0 and 0 are the same number.
    let value = if value == 0.0 { 0.0 } else { value };
    mix(NUMBER ^ mix(value.to_bits()))
}

/// Where a value is relative to the marker path.
#[derive(Clone, Copy)]
enum Path<'p> {
    /// Not on it.
    Off,
    /// On it, with these keys still to go (empty: this value is the marker).
    On(&'p [&'p str]),
}

struct Scanner<'j> {
    bytes: &'j [u8],
    at: usize,
    /// Strings with escapes are decoded here.
    scratch: Vec<u8>,
    /// Where the last string read is.
    last: Last,
    marker: Option<f64>,
    depth: usize,
}

impl Scanner<'_> {
    fn error(&self, expected: &'static str) -> NotJson {
        NotJson {
            at: self.at,
            expected,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.at += 1;
        }
    }

    fn literal(&mut self, text: &'static [u8], hash: u64) -> Result<u64, NotJson> {
        if self.bytes[self.at..].starts_with(text) {
            self.at += text.len();
            Ok(mix(hash))
        } else {
            Err(self.error("a value"))
        }
    }

    fn value(&mut self, path: Path<'_>) -> Result<u64, NotJson> {
        match self.peek() {
            Some(b'{') => self.object(path),
            Some(b'[') => self.array(),
            Some(b'"') => {
                self.string()?;
                Ok(hash_bytes(STRING, self.last_string()))
            }
            Some(b'-' | b'0'..=b'9') => {
                let value = self.number()?;
                if matches!(path, Path::On([])) {
                    self.marker = Some(value);
                    Ok(mix(MARKER))
                } else {
                    Ok(hash_number(value))
                }
            }
            Some(b't') => self.literal(b"true", TRUE),
            Some(b'f') => self.literal(b"false", FALSE),
            Some(b'n') => self.literal(b"null", NULL),
            _ => Err(self.error("a value")),
        }
    }

    fn enter(&mut self) -> Result<(), NotJson> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("less nesting"));
        }
        self.at += 1;
        self.skip_space();
        Ok(())
    }

    fn array(&mut self) -> Result<u64, NotJson> {
        self.enter()?;
        let mut h = SEED ^ ARRAY;
        let mut len = 0u64;
        if self.peek() == Some(b']') {
            self.at += 1;
        } else {
            loop {
                let item = self.value(Path::Off)?;
                h = (h.rotate_left(5) ^ item).wrapping_mul(MULTIPLIER);
                len += 1;
                self.skip_space();
                match self.peek() {
                    Some(b',') => {
                        self.at += 1;
                        self.skip_space();
                    }
                    Some(b']') => {
                        self.at += 1;
                        break;
                    }
                    _ => return Err(self.error("`,` or `]`")),
                }
            }
        }
        self.depth -= 1;
        Ok(mix(h ^ len))
    }

    fn object(&mut self, path: Path<'_>) -> Result<u64, NotJson> {
        self.enter()?;
        let next = match path {
            Path::On([first, rest @ ..]) => Some((first.as_bytes(), rest)),
            _ => None,
        };
        // Members are summed: their order does not matter.
        let mut sum = 0u64;
        let mut len = 0u64;
        if self.peek() == Some(b'}') {
            self.at += 1;
        } else {
            loop {
                if self.peek() != Some(b'"') {
                    return Err(self.error("a key"));
                }
                self.string()?;
                let key = self.last_string();
                let key_hash = hash_bytes(STRING, key);
                let member_path = match next {
                    Some((wanted, rest)) if wanted == key => Path::On(rest),
                    _ => Path::Off,
                };
                self.skip_space();
                if self.peek() != Some(b':') {
                    return Err(self.error("`:`"));
                }
                self.at += 1;
                self.skip_space();
                let value = self.value(member_path)?;
                sum = sum.wrapping_add(mix(key_hash ^ value.rotate_left(17)));
                len += 1;
                self.skip_space();
                match self.peek() {
                    Some(b',') => {
                        self.at += 1;
                        self.skip_space();
                    }
                    Some(b'}') => {
                        self.at += 1;
                        break;
                    }
                    _ => return Err(self.error("`,` or `}`")),
                }
            }
        }
        self.depth -= 1;
        Ok(mix(OBJECT ^ sum ^ len.wrapping_mul(MULTIPLIER)))
    }

    /// Reads a string; its content is then [`Scanner::last_string`]. Without escapes the
    /// content is a slice of the text, `last` records where.
    fn string(&mut self) -> Result<(), NotJson> {
        self.at += 1;
        let start = self.at;
        self.scratch.clear();
        let mut copied_from = start;
        let mut escaped = false;
        loop {
            // Most strings are short: a plain loop beats searching with SIMD.
            let rest = &self.bytes[self.at..];
            let Some(offset) = rest.iter().position(|b| SPECIAL[usize::from(*b)]) else {
                self.at = self.bytes.len();
                return Err(self.error("the end of a string"));
            };
            self.at += offset;
            if self.bytes[self.at] < 0x20 {
                return Err(self.error("no control character in a string"));
            }
            if self.bytes[self.at] == b'"' {
                if escaped {
                    self.scratch
                        .extend_from_slice(&self.bytes[copied_from..self.at]);
                    self.last = Last::Scratch;
                } else {
                    self.last = Last::Text(start, self.at);
                }
                self.at += 1;
                return Ok(());
            }
            // A backslash.
            escaped = true;
            self.scratch
                .extend_from_slice(&self.bytes[copied_from..self.at]);
            self.escape()?;
            copied_from = self.at;
        }
    }

    /// Decodes the escape at the backslash under the cursor into `scratch`.
    fn escape(&mut self) -> Result<(), NotJson> {
        let Some(kind) = self.bytes.get(self.at + 1).copied() else {
            return Err(self.error("an escape"));
        };
        self.at += 2;
        let byte = match kind {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let first = self.hex4()?;
                let code = if (0xd800..0xdc00).contains(&first)
                    && self.bytes[self.at..].starts_with(b"\\u")
                {
                    let save = self.at;
                    self.at += 2;
                    let second = self.hex4()?;
                    if (0xdc00..0xe000).contains(&second) {
                        0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00)
                    } else {
                        self.at = save;
                        first
                    }
                } else {
                    first
                };
                // A lone surrogate cannot be UTF-8: keep it apart as U+FFFD, as lossy
                // decoders do.
                let ch = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
                let mut buf = [0u8; 4];
                self.scratch
                    .extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                return Ok(());
            }
            _ => {
                self.at -= 1;
                return Err(self.error("a valid escape"));
            }
        };
        self.scratch.push(byte);
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, NotJson> {
        let digits = self
            .bytes
            .get(self.at..self.at + 4)
            .ok_or_else(|| self.error("four hex digits"))?;
        let mut value = 0u32;
        for digit in digits {
            let d = (*digit as char)
                .to_digit(16)
                .ok_or_else(|| self.error("four hex digits"))?;
            value = value * 16 + d;
        }
        self.at += 4;
        Ok(value)
    }

    fn last_string(&self) -> &[u8] {
        match self.last {
            Last::Text(start, end) => &self.bytes[start..end],
            Last::Scratch => &self.scratch,
        }
    }

    /// Skips digits; returns how many, and their value (wrapping: meaningful up to 18).
    fn digits(&mut self) -> (usize, u64) {
        let start = self.at;
        let mut value = 0u64;
        while let Some(digit @ b'0'..=b'9') = self.peek() {
            value = value.wrapping_mul(10).wrapping_add(u64::from(digit - b'0'));
            self.at += 1;
        }
        (self.at - start, value)
    }

    fn number(&mut self) -> Result<f64, NotJson> {
        let start = self.at;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let whole_start = self.at;
        let (whole, value) = self.digits();
        if whole == 0 || (whole > 1 && self.bytes[whole_start] == b'0') {
            return Err(self.error("a number"));
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.at += 1;
            integer = false;
            if self.digits().0 == 0 {
                return Err(self.error("digits after `.`"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            integer = false;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            if self.digits().0 == 0 {
                return Err(self.error("an exponent"));
            }
        }
        if integer && whole <= 18 {
            // Correctly rounded, as parsing the text as a float would be.
            let value = value as f64;
            return Ok(if negative { -value } else { value });
        }
        let text = std::str::from_utf8(&self.bytes[start..self.at]).expect("ASCII");
        text.parse::<f64>().map_err(|_| self.error("a number"))
    }
}

/// The bytes that end the plain run of a string: `"`, `\\` and control characters.
const SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = true;
        byte += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Where the content of the last string read is.
#[derive(Clone, Copy)]
enum Last {
    Text(usize, usize),
    Scratch,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(json: &str) -> u64 {
        fingerprint(json.as_bytes(), &[]).unwrap().hash
    }

    #[test]
    fn the_same_value_written_differently_matches() {
        assert_eq!(
            hash(r#"{"a": 1, "b": [true, null, "é\n🎮/"], "c": {"d": 2.5, "e": []}}"#),
            hash(
                r#" {"c":{"e":[ ],"d":25e-1},"b":[true,null,"\u00e9\u000a\ud83c\udfae\/"],"a":1.0} "#
            )
        );
        assert_eq!(hash("-0"), hash("0"));
        assert_eq!(hash("100"), hash("1E2"));
        assert_eq!(
            hash("12345678901234567890"),
            hash("1.2345678901234567890e19")
        );
    }

    /// Every value of the benchmark's payloads, written by serde_json compactly and
    /// pretty, with keys in another order, matches.
    #[test]
    fn payloads_match_in_any_layout() {
        for payload in crate::workload::Payload::ALL {
            let workload = crate::workload::Workload::new(payload);
            let value: serde_json::Value = serde_json::from_slice(&workload.body).unwrap();
            let compact = serde_json::to_vec(&value).unwrap();
            let pretty = serde_json::to_vec_pretty(&value).unwrap();
            assert_eq!(
                fingerprint(&compact, &[]).unwrap(),
                fingerprint(&pretty, &[]).unwrap()
            );
            let mut reversed = value.as_object().unwrap().clone();
            let object = reversed.remove("object");
            let mut map = serde_json::Map::new();
            if let Some(object) = object {
                map.insert("object".to_owned(), object);
            }
            map.extend(reversed);
            let reordered = serde_json::to_vec(&map).unwrap();
            assert_eq!(
                fingerprint(&compact, &[]).unwrap(),
                fingerprint(&reordered, &[]).unwrap()
            );
        }
    }

    #[test]
    fn different_values_differ() {
        let values = [
            "null",
            "true",
            "false",
            "0",
            "1",
            "\"1\"",
            "\"\"",
            "[]",
            "{}",
            "[1,2]",
            "[2,1]",
            "[[1],2]",
            "[1,[2]]",
            r#"{"a":1}"#,
            r#"{"a":2}"#,
            r#"{"b":1}"#,
            r#"{"a":1,"b":1}"#,
            r#"{"a":{"b":1}}"#,
            r#"{"a":[1]}"#,
            "\"abcdefgh\"",
            "\"abcdefgi\"",
            "\"abcdefgh\\u0000\"",
            "\"a\\\"b\"",
            "\"a\\\\b\"",
        ];
        let hashes: Vec<u64> = values.iter().map(|v| hash(v)).collect();
        for (i, a) in hashes.iter().enumerate() {
            for (j, b) in hashes.iter().enumerate().skip(i + 1) {
                assert_ne!(a, b, "{} and {}", values[i], values[j]);
            }
        }
    }

    #[test]
    fn the_marker_is_read_apart() {
        let path = ["success", "n"];
        let a = fingerprint(br#"{"success":{"n":1000000000007,"x":[1]}}"#, &path).unwrap();
        let b = fingerprint(br#"{"success":{"x":[1.0],"n":1000000000008}}"#, &path).unwrap();
        assert_eq!(a.hash, b.hash);
        assert_eq!(
            (a.marker, b.marker),
            (Some(1_000_000_000_007.0), Some(1_000_000_000_008.0))
        );
        // Not a number, or elsewhere: no marker, and a different hash.
        let c = fingerprint(br#"{"success":{"n":"7","x":[1]}}"#, &path).unwrap();
        assert_eq!(c.marker, None);
        assert_ne!(c.hash, a.hash);
        let d = fingerprint(br#"{"n":7,"success":{"x":[1]}}"#, &path).unwrap();
        assert_eq!(d.marker, None);
    }

    #[test]
    fn invalid_json_is_an_error() {
        for text in [
            "",
            "{",
            "{\"a\":",
            "{} {}",
            "[1,]",
            "{\"a\" 1}",
            "{a:1}",
            "01",
            "1.",
            "-",
            "1e",
            "\"abc",
            "\"a\\x\"",
            "\"\\u12\"",
            "tru",
            "nul",
            "[1 2]",
            "\"a\nb\"",
        ] {
            assert!(fingerprint(text.as_bytes(), &[]).is_err(), "{text:?}");
            assert!(
                serde_json::from_str::<serde_json::Value>(text).is_err(),
                "{text:?} is JSON after all"
            );
        }
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(fingerprint(deep.as_bytes(), &[]).is_err());
    }
}
