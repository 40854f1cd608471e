//! Values of fields: what a normalized field or a raw path yields for one event.
//!
//! A [`FieldValue`] borrows from the event it was read from: strings are `Cow::Borrowed`
//! slices of the parsed record, objects are references into it. Only values that must
//! be computed (a lower-cased transport, a protocol number written as text) own their
//! text. Times are unix milliseconds; [`parse_rfc3339`] and [`format_millis`] convert
//! them from and to the `2024-05-01T12:34:56Z` form AWS logs use.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use sonic_rs::{JsonNumberTrait, ValueRef};

/// The value of a field for one event.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue<'a> {
    /// JSON `null` (raw paths only: normalized fields are missing instead).
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// Text, borrowed from the event whenever possible.
    Str(Cow<'a, str>),
    /// An IP address.
    Ip(IpAddr),
    /// A point in time, in milliseconds since the unix epoch (UTC).
    Time(i64),
    /// Several values: a JSON array, or every value a path reached across an array.
    List(Vec<FieldValue<'a>>),
    /// A JSON object of the raw record.
    Object(&'a sonic_rs::Value),
}

impl<'a> FieldValue<'a> {
    /// Converts a JSON value of a record: arrays become [`FieldValue::List`], objects
    /// stay references, strings are borrowed.
    pub fn from_json(v: &'a sonic_rs::Value) -> FieldValue<'a> {
        match v.as_ref() {
            ValueRef::Null => FieldValue::Null,
            ValueRef::Bool(b) => FieldValue::Bool(b),
            ValueRef::Number(n) => match n.as_i64() {
                Some(i) => FieldValue::Int(i),
                None => FieldValue::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            ValueRef::String(s) => FieldValue::Str(Cow::Borrowed(s)),
            ValueRef::Array(a) => FieldValue::List(a.iter().map(FieldValue::from_json).collect()),
            ValueRef::Object(_) => FieldValue::Object(v),
        }
    }

    /// A borrowed string value.
    pub fn str(s: &'a str) -> FieldValue<'a> {
        FieldValue::Str(Cow::Borrowed(s))
    }

    /// True for [`FieldValue::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, FieldValue::Null)
    }

    /// The text of a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            FieldValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A boolean value.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            FieldValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// An integer value (a float with no fractional part counts).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            FieldValue::Int(i) => Some(*i),
            FieldValue::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            _ => None,
        }
    }

    /// A numeric value as a float (integers convert).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            FieldValue::Int(i) => Some(*i as f64),
            FieldValue::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// An IP address value.
    pub fn as_ip(&self) -> Option<IpAddr> {
        match self {
            FieldValue::Ip(ip) => Some(*ip),
            _ => None,
        }
    }

    /// A time value, in unix milliseconds.
    pub fn as_time(&self) -> Option<i64> {
        match self {
            FieldValue::Time(t) => Some(*t),
            _ => None,
        }
    }

    /// The elements of a list value.
    pub fn as_list(&self) -> Option<&[FieldValue<'a>]> {
        match self {
            FieldValue::List(l) => Some(l),
            _ => None,
        }
    }

    /// The raw JSON object of an object value.
    pub fn as_object(&self) -> Option<&'a sonic_rs::Value> {
        match self {
            FieldValue::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The name of the value's kind, for messages: `null`, `bool`, `int`, `float`,
    /// `str`, `ip`, `time`, `list`, `object`.
    pub fn kind(&self) -> &'static str {
        match self {
            FieldValue::Null => "null",
            FieldValue::Bool(_) => "bool",
            FieldValue::Int(_) => "int",
            FieldValue::Float(_) => "float",
            FieldValue::Str(_) => "str",
            FieldValue::Ip(_) => "ip",
            FieldValue::Time(_) => "time",
            FieldValue::List(_) => "list",
            FieldValue::Object(_) => "object",
        }
    }

    /// A copy that owns its text, detached from the event.
    pub fn into_owned(self) -> FieldValue<'static> {
        match self {
            FieldValue::Null => FieldValue::Null,
            FieldValue::Bool(b) => FieldValue::Bool(b),
            FieldValue::Int(i) => FieldValue::Int(i),
            FieldValue::Float(f) => FieldValue::Float(f),
            FieldValue::Str(s) => FieldValue::Str(Cow::Owned(s.into_owned())),
            FieldValue::Ip(ip) => FieldValue::Ip(ip),
            FieldValue::Time(t) => FieldValue::Time(t),
            FieldValue::List(l) => {
                FieldValue::List(l.into_iter().map(FieldValue::into_owned).collect())
            }
            // An object cannot be detached without a copy of the record; its JSON text is
            // the most faithful owned form.
            FieldValue::Object(o) => FieldValue::Str(Cow::Owned(o.to_string())),
        }
    }

    /// The value as JSON, for findings and explanations: IPs and times become strings
    /// (`"2024-05-01T12:34:56Z"`), non-finite floats `null`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            FieldValue::Null => J::Null,
            FieldValue::Bool(b) => J::Bool(*b),
            FieldValue::Int(i) => J::from(*i),
            FieldValue::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            FieldValue::Str(s) => J::String(s.to_string()),
            FieldValue::Ip(ip) => J::String(ip.to_string()),
            FieldValue::Time(t) => J::String(format_millis(*t)),
            FieldValue::List(l) => J::Array(l.iter().map(FieldValue::to_json).collect()),
            FieldValue::Object(o) => sonic_to_serde(o),
        }
    }
}

/// Converts a sonic-rs JSON value to a serde_json one (key order kept).
pub fn sonic_to_serde(v: &sonic_rs::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v.as_ref() {
        ValueRef::Null => J::Null,
        ValueRef::Bool(b) => J::Bool(b),
        ValueRef::Number(n) => {
            if let Some(i) = n.as_i64() {
                J::from(i)
            } else if let Some(u) = n.as_u64() {
                J::from(u)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(J::Null, J::Number)
            }
        }
        ValueRef::String(s) => J::String(s.to_owned()),
        ValueRef::Array(a) => J::Array(a.iter().map(sonic_to_serde).collect()),
        ValueRef::Object(o) => J::Object(
            o.iter()
                .map(|(k, v)| (k.to_owned(), sonic_to_serde(v)))
                .collect(),
        ),
    }
}

impl fmt::Display for FieldValue<'_> {
    /// Strings print bare, times as RFC 3339, lists and objects as JSON.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Null => f.write_str("null"),
            FieldValue::Bool(b) => write!(f, "{b}"),
            FieldValue::Int(i) => write!(f, "{i}"),
            FieldValue::Float(x) => write!(f, "{x}"),
            FieldValue::Str(s) => f.write_str(s),
            FieldValue::Ip(ip) => write!(f, "{ip}"),
            FieldValue::Time(t) => f.write_str(&format_millis(*t)),
            FieldValue::List(_) | FieldValue::Object(_) => write!(f, "{}", self.to_json()),
        }
    }
}

/// Parses an IP address as [`IpAddr`]'s `FromStr` does, with a fast path for the
/// common case (a dotted-quad IPv4 address, which every flow record holds twice).
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    fast_ipv4(s.as_bytes())
        .map(IpAddr::V4)
        .or_else(|| s.parse().ok())
}

/// Four decimal octets of 1–3 digits, no leading zeros, each at most 255; `None` for
/// anything else (which the standard parser then decides). One pass over the bytes.
pub(crate) fn fast_ipv4(b: &[u8]) -> Option<std::net::Ipv4Addr> {
    if !(7..=15).contains(&b.len()) {
        return None;
    }
    let mut octets = [0u8; 4];
    let mut index = 0;
    let mut n: u32 = 0;
    let mut digits = 0u32;
    for &c in b {
        if c == b'.' {
            if digits == 0 || index == 3 {
                return None;
            }
            octets[index] = n as u8;
            index += 1;
            n = 0;
            digits = 0;
            continue;
        }
        let d = u32::from(c.wrapping_sub(b'0'));
        // Not a digit, or a digit after a leading zero.
        if d > 9 || (digits == 1 && n == 0) {
            return None;
        }
        n = n * 10 + d;
        digits += 1;
        if n > 255 {
            return None;
        }
    }
    if digits == 0 || index != 3 {
        return None;
    }
    octets[3] = n as u8;
    Some(std::net::Ipv4Addr::from(octets))
}

/// Parses an RFC 3339 timestamp as AWS writes them (`2024-05-01T12:34:56Z`,
/// `2024-05-01T12:34:56.123456Z`, `2024-05-01T12:34:56+02:00`) into unix milliseconds.
/// Fractions beyond milliseconds are truncated. Returns `None` for anything else.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let mut n = 0i64;
        for &c in b.get(r)? {
            if !c.is_ascii_digit() {
                return None;
            }
            n = n * 10 + i64::from(c - b'0');
        }
        Some(n)
    };
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 {
        return None;
    }
    if sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 3 {
                millis = millis * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        let digits = i - start;
        if digits == 0 {
            return None;
        }
        for _ in digits..3 {
            millis *= 10;
        }
    }
    let offset_secs = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if i + 6 == b.len() && b[i + 3] == b':' => {
            let (oh, om) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            let off = oh * 3600 + om * 60;
            if sign == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec - offset_secs;
    Some(secs * 1000 + millis)
}

/// Formats unix milliseconds as RFC 3339 in UTC: `2024-05-01T12:34:56Z`, with `.mmm`
/// only when the milliseconds are not zero.
pub fn format_millis(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss) = (rem / 3600, rem % 3600 / 60, rem % 60);
    if millis == 0 {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
    } else {
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{millis:03}Z")
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01 (inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ip_fast_path_agrees_with_the_standard_parser() {
        for text in [
            "10.1.2.3",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "1..3.4",
            "1.2.3.4 ",
            "",
            "::1",
            "2001:db8::5",
            "1.2.3.x",
            "1234.1.1.1",
            "10.0.0.010",
            "ec2.amazonaws.com",
        ] {
            assert_eq!(super::parse_ip(text), text.parse().ok(), "{text:?}");
        }
        // Random strings of digits and dots (fixed seed), most of them near misses.
        let mut seed: u64 = 0x1234_5678;
        let alphabet = b"0125.9.";
        for _ in 0..200_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = 5 + (seed >> 60) as usize;
            let text: String = (0..len)
                .map(|k| alphabet[((seed >> (k * 3 % 56)) & 0x7) as usize % alphabet.len()] as char)
                .collect();
            assert_eq!(super::parse_ip(&text), text.parse().ok(), "{text:?}");
        }
    }

    use super::*;

    #[test]
    fn rfc3339_round_trips() {
        let t = parse_rfc3339("2024-05-01T12:34:56Z").unwrap();
        assert_eq!(t, 1_714_566_896_000);
        assert_eq!(format_millis(t), "2024-05-01T12:34:56Z");
        let t = parse_rfc3339("2024-05-01T12:34:56.123456Z").unwrap();
        assert_eq!(format_millis(t), "2024-05-01T12:34:56.123Z");
        let t = parse_rfc3339("2024-05-01T14:34:56+02:00").unwrap();
        assert_eq!(format_millis(t), "2024-05-01T12:34:56Z");
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(format_millis(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(
            parse_rfc3339("2000-02-29T00:00:00.5Z"),
            Some(951_782_400_500)
        );
    }

    #[test]
    fn rfc3339_rejects_junk() {
        for s in [
            "",
            "2024-05-01",
            "2024-05-01T12:34:56",
            "2024-13-01T12:34:56Z",
            "2024-05-01T12:34:56.Z",
            "2024-05-01T12:34:56Zjunk",
            "2024-05-01X12:34:56Z",
            "20x4-05-01T12:34:56Z",
        ] {
            assert_eq!(parse_rfc3339(s), None, "{s}");
        }
    }

    #[test]
    fn display_and_json() {
        let v: sonic_rs::Value = sonic_rs::from_str(r#"{"a":[1,"x"],"b":null}"#).unwrap();
        let fv = FieldValue::from_json(&v);
        assert_eq!(fv.kind(), "object");
        assert_eq!(fv.to_string(), r#"{"a":[1,"x"],"b":null}"#);
        let list = FieldValue::List(vec![FieldValue::str("a"), FieldValue::Int(2)]);
        assert_eq!(list.to_string(), r#"["a",2]"#);
        assert_eq!(
            FieldValue::Time(0).to_json(),
            serde_json::json!("1970-01-01T00:00:00Z")
        );
        assert_eq!(
            FieldValue::Float(f64::NAN).to_json(),
            serde_json::Value::Null
        );
        assert_eq!(FieldValue::str("x").to_string(), "x");
        assert_eq!(
            FieldValue::Ip("10.0.0.1".parse().unwrap()).to_string(),
            "10.0.0.1"
        );
        assert_eq!(FieldValue::Float(2.0).as_i64(), Some(2));
        assert_eq!(FieldValue::Int(2).as_f64(), Some(2.0));
        assert!(FieldValue::Null.is_null());
        let owned = FieldValue::from_json(&v).into_owned();
        assert_eq!(owned.as_str(), Some(r#"{"a":[1,"x"],"b":null}"#));
    }
}
