//! The structural scan of JSON: where a value ends and how deep it nests, without
//! parsing it. The reader cuts records out of arrays with it and refuses records
//! nested deeper than [`MAX_DEPTH`] before the parser sees them (sonic-rs recurses and
//! would overflow the stack).
//!
//! Bytes are scanned one at a time at the top level and in tails, and 64 at a time
//! inside containers: bit masks of quotes, backslashes, brackets and newlines (SSE2 on
//! x86_64), escaped characters from runs of backslashes and the inside of strings as
//! the prefix XOR of unescaped quotes, as simdjson does. Both ways share one state, so
//! a scan resumes anywhere, and the tests check they agree.

use memchr::{memchr2, memchr3};

use super::MAX_DEPTH;

/// A resumable byte scan of JSON: nesting depth and string state, enough to find where
/// a value ends and how deep it goes without parsing it.
#[derive(Clone, Default)]
pub(super) struct Scan {
    /// Open arrays and objects.
    pub(super) depth: u32,
    /// Inside a string.
    pub(super) in_str: bool,
    /// Inside a string, just after a `\\`.
    pub(super) escaped: bool,
    /// A value has begun.
    pub(super) started: bool,
    /// The value is a top-level scalar (number, literal).
    pub(super) scalar: bool,
    /// Nested deeper than [`MAX_DEPTH`] somewhere.
    pub(super) too_deep: bool,
    /// JSON lines: a newline outside strings inside the value ends it as broken (the
    /// line was cut), instead of being whitespace.
    pub(super) guard: bool,
    /// Ended by a newline under `guard`.
    pub(super) broken: bool,
}

impl Scan {
    /// Feeds bytes; with `stop`, returns `Some(n)` when a top-level value ends after
    /// `n` of them. Counts newlines outside strings.
    ///
    /// Inside a container, whole 64-byte blocks go through [`Scan::block`]; the rest
    /// (the start of a value, the tail) byte by byte.
    pub(super) fn feed(&mut self, bytes: &[u8], stop: bool, newlines: &mut u64) -> Option<usize> {
        let mut i = 0;
        while i < bytes.len() {
            if BLOCKS && !self.guard && self.depth > 0 && !self.scalar {
                if let Ok(block) = <&[u8; 64]>::try_from(bytes.get(i..i + 64).unwrap_or(&[])) {
                    if let Some(k) = self.block(block, stop, newlines) {
                        return Some(i + k);
                    }
                    i += 64;
                    continue;
                }
            }
            // At the top level (until a container opens) and for the tail.
            let upto = (i + 64).min(bytes.len());
            if let Some(k) = self.feed_bytes(&bytes[i..upto], stop, newlines) {
                return Some(i + k);
            }
            i = upto;
        }
        None
    }

    /// One 64-byte block inside a container, the way simdjson finds structure: bit
    /// masks of quotes, backslashes and brackets; escaped characters from runs of
    /// backslashes; the inside of strings as the prefix XOR of unescaped quotes.
    #[inline]
    fn block(&mut self, block: &[u8; 64], stop: bool, newlines: &mut u64) -> Option<usize> {
        let Masks {
            quote,
            backslash,
            open,
            close,
            newline,
        } = Masks::of(block);
        let escaped = self.escaped_bits(backslash);
        let quote = quote & !escaped;
        let prev_in = if self.in_str { u64::MAX } else { 0 };
        let in_string = prefix_xor(quote) ^ prev_in;
        self.in_str = (in_string >> 63) != 0;
        let outside = !in_string;
        let (open, close, newline) = (open & outside, close & outside, newline & outside);
        let (opens, closes) = (open.count_ones(), close.count_ones());
        if closes < self.depth && self.depth + opens <= MAX_DEPTH {
            // Neither back to the top level nor too deep within this block.
            self.depth = self.depth + opens - closes;
            *newlines += u64::from(newline.count_ones());
            return None;
        }
        let mut structural = open | close;
        while structural != 0 {
            let k = structural.trailing_zeros();
            if open >> k & 1 == 1 {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    self.too_deep = true;
                }
            } else {
                self.depth -= 1;
                if self.depth == 0 {
                    // Back at the top level: the value ends here.
                    let end = k as usize + 1;
                    let before = if end == 64 {
                        u64::MAX
                    } else {
                        (1u64 << end) - 1
                    };
                    *newlines += u64::from((newline & before).count_ones());
                    if stop {
                        return Some(end);
                    }
                    // What follows is top-level text: byte by byte.
                    self.in_str = false;
                    self.escaped = false;
                    return self
                        .feed_bytes(&block[end..], false, newlines)
                        .map(|n| end + n);
                }
            }
            structural &= structural - 1;
        }
        *newlines += u64::from(newline.count_ones());
        None
    }

    /// The escaped characters of a block, given its backslashes (simdjson's
    /// `find_escaped`): the character after an odd-length run of backslashes.
    #[inline]
    fn escaped_bits(&mut self, backslash: u64) -> u64 {
        const EVEN: u64 = 0x5555_5555_5555_5555;
        let prev = u64::from(self.escaped);
        let backslash = backslash & !prev;
        let follows_escape = backslash << 1 | prev;
        let odd_starts = backslash & !EVEN & !follows_escape;
        let (even_starts, overflow) = odd_starts.overflowing_add(backslash);
        self.escaped = overflow;
        let invert = even_starts << 1;
        (EVEN ^ invert) & follows_escape
    }

    /// A newline inside a value under `guard`: the value is broken there.
    fn cut(&mut self, stop: bool, at: usize) -> Option<usize> {
        self.in_str = false;
        self.escaped = false;
        self.broken = true;
        stop.then_some(at)
    }

    /// The byte-by-byte scan (also the reference the block scan is tested against).
    pub(super) fn feed_bytes(
        &mut self,
        bytes: &[u8],
        stop: bool,
        newlines: &mut u64,
    ) -> Option<usize> {
        let mut i = 0;
        if self.in_str {
            // Finish the string the previous bytes left open.
            match skip_string(bytes, 0, self.escaped, self.guard) {
                StrEnd::Open { escaped } => {
                    self.escaped = escaped;
                    return None;
                }
                StrEnd::Newline(at) => return self.cut(stop, at),
                StrEnd::Closed(end) => {
                    self.in_str = false;
                    self.escaped = false;
                    i = end;
                    if stop && self.depth == 0 {
                        return Some(i);
                    }
                }
            }
        }
        while i < bytes.len() {
            let ends_scalar = stop && self.scalar && self.depth == 0;
            match bytes[i] {
                b'"' => {
                    if ends_scalar {
                        return Some(i);
                    }
                    self.started = true;
                    match skip_string(bytes, i + 1, false, self.guard) {
                        StrEnd::Open { escaped } => {
                            self.in_str = true;
                            self.escaped = escaped;
                            return None;
                        }
                        StrEnd::Newline(at) => return self.cut(stop, at),
                        StrEnd::Closed(end) => {
                            i = end;
                            if stop && self.depth == 0 {
                                return Some(i);
                            }
                            continue;
                        }
                    }
                }
                b'{' | b'[' => {
                    if ends_scalar {
                        return Some(i);
                    }
                    self.depth += 1;
                    self.started = true;
                    if self.depth > MAX_DEPTH {
                        self.too_deep = true;
                    }
                }
                b'}' | b']' => {
                    if self.depth == 0 {
                        if stop {
                            // A scalar ends here, or a stray bracket is the value.
                            return Some(if self.started { i } else { i + 1 });
                        }
                    } else {
                        self.depth -= 1;
                        if stop && self.depth == 0 {
                            return Some(i + 1);
                        }
                    }
                }
                b'\n' => {
                    if stop && self.guard && self.depth > 0 {
                        return self.cut(stop, i);
                    }
                    *newlines += 1;
                    if ends_scalar {
                        return Some(i);
                    }
                }
                b' ' | b'\t' | b'\r' | b',' | b':' => {
                    if ends_scalar {
                        return Some(i);
                    }
                }
                _ => {
                    if self.depth == 0 && !self.started {
                        self.scalar = true;
                        self.started = true;
                    }
                }
            }
            i += 1;
        }
        None
    }
}

/// The position of the first `"` or `\\` (the end of a string's plain run). Strings
/// are mostly short: eight bytes at a time without a call, then `memchr2` for long
/// runs.
#[inline]
pub(super) fn string_end(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const QUOTES: u64 = ONES * b'"' as u64;
    const SLASHES: u64 = ONES * b'\\' as u64;
    let mut i = 0;
    for chunk in bytes.chunks_exact(8).take(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let (q, b) = (w ^ QUOTES, w ^ SLASHES);
        // The lowest set high bit marks the first byte equal to `"` or `\\`.
        let hits = (q.wrapping_sub(ONES) & !q | b.wrapping_sub(ONES) & !b) & HIGH;
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    if i == 64 {
        return memchr2(b'"', b'\\', &bytes[i..]).map(|k| i + k);
    }
    bytes[i..]
        .iter()
        .position(|&c| c == b'"' || c == b'\\')
        .map(|k| i + k)
}

/// Whether [`Scan::block`] is used: where building its bit masks is fast (SSE2, on
/// every x86_64). Elsewhere every byte goes through [`Scan::feed_bytes`].
const BLOCKS: bool = cfg!(target_arch = "x86_64");

/// Bit masks of the characters that matter in a 64-byte block (bit `k` = byte `k`).
#[derive(Default)]
struct Masks {
    quote: u64,
    backslash: u64,
    /// `{` and `[`.
    open: u64,
    /// `}` and `]`.
    close: u64,
    newline: u64,
}

impl Masks {
    #[cfg(target_arch = "x86_64")]
    #[inline]
    fn of(block: &[u8; 64]) -> Masks {
        // SAFETY: SSE2 is part of the x86_64 baseline: every x86_64 CPU has it, and
        // the target enables it by default.
        unsafe { Masks::of_sse2(block) }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "sse2")]
    fn of_sse2(block: &[u8; 64]) -> Masks {
        use std::arch::x86_64::{
            _mm_cmpeq_epi8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8, _mm_set_epi64x,
        };
        let mut m = Masks::default();
        for (i, chunk) in block.chunks_exact(16).enumerate() {
            let mut lo = [0u8; 8];
            let mut hi = [0u8; 8];
            lo.copy_from_slice(&chunk[..8]);
            hi.copy_from_slice(&chunk[8..]);
            let v = _mm_set_epi64x(i64::from_le_bytes(hi), i64::from_le_bytes(lo));
            // `{` and `[` are the only bytes that are 0x7B once 0x20 is set; `}` `]` 0x7D.
            let folded = _mm_or_si128(v, _mm_set1_epi8(0x20));
            let masks = [
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8)),
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8)),
                _mm_cmpeq_epi8(folded, _mm_set1_epi8(0x7B)),
                _mm_cmpeq_epi8(folded, _mm_set1_epi8(0x7D)),
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8)),
            ]
            .map(|x| u64::from(_mm_movemask_epi8(x) as u16) << (16 * i));
            m.quote |= masks[0];
            m.backslash |= masks[1];
            m.open |= masks[2];
            m.close |= masks[3];
            m.newline |= masks[4];
        }
        m
    }

    #[cfg(not(target_arch = "x86_64"))]
    #[inline]
    fn of(block: &[u8; 64]) -> Masks {
        let mut m = Masks::default();
        for (k, &c) in block.iter().enumerate() {
            m.quote |= u64::from(c == b'"') << k;
            m.backslash |= u64::from(c == b'\\') << k;
            m.open |= u64::from(c == b'{' || c == b'[') << k;
            m.close |= u64::from(c == b'}' || c == b']') << k;
            m.newline |= u64::from(c == b'\n') << k;
        }
        m
    }
}

/// Bit `k` set when an odd number of bits at or below `k` are set: the inside of
/// strings from the positions of their quotes.
#[inline]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// How the scan of a string ended.
enum StrEnd {
    /// At its closing quote; the index past it.
    Closed(usize),
    /// The bytes ended first, just after a `\\` when `escaped`.
    Open { escaped: bool },
    /// At a raw newline, which no JSON string holds (only looked for under a guard).
    Newline(usize),
}

/// Skips the rest of a string from `from` (just after an escaping `\\` when
/// `escaped`).
#[inline]
fn skip_string(bytes: &[u8], mut from: usize, escaped: bool, guard: bool) -> StrEnd {
    if escaped {
        if from >= bytes.len() {
            return StrEnd::Open { escaped: true };
        }
        from += 1;
    }
    loop {
        let found = if guard {
            memchr3(b'"', b'\\', b'\n', &bytes[from..])
        } else {
            string_end(&bytes[from..])
        };
        let Some(k) = found else {
            return StrEnd::Open { escaped: false };
        };
        let at = from + k;
        match bytes[at] {
            b'"' => return StrEnd::Closed(at + 1),
            b'\n' => return StrEnd::Newline(at),
            _ if at + 1 >= bytes.len() => return StrEnd::Open { escaped: true },
            _ => from = at + 2,
        }
    }
}

/// True when the JSON text nests deeper than [`MAX_DEPTH`].
pub(super) fn too_deep(bytes: &[u8]) -> bool {
    let mut scan = Scan::default();
    scan.feed(bytes, false, &mut 0);
    scan.too_deep
}
