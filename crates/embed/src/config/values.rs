//! Go's value syntax as etcd's flags parse it: `strconv.ParseBool`, `strconv.ParseUint`
//! and `ParseInt` with base 0, `time.ParseDuration`, and `%q` quoting for messages. The
//! error words are the ones Go's `flag` package prints ("parse error", "value out of range").

use std::time::Duration;

/// What Go's `flag` package reports for a value that does not parse.
pub(crate) const PARSE_ERROR: &str = "parse error";
/// What Go's `flag` package reports for a number that does not fit.
pub(crate) const RANGE_ERROR: &str = "value out of range";

/// `strconv.ParseBool`.
pub(crate) fn parse_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(PARSE_ERROR.to_string()),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum NumError {
    Syntax,
    Range,
}

impl NumError {
    fn flag_message(&self) -> String {
        match self {
            NumError::Syntax => PARSE_ERROR.to_string(),
            NumError::Range => RANGE_ERROR.to_string(),
        }
    }
}

/// `strconv.ParseUint(s, 0, 64)`: decimal, `0x`, `0o`, `0b` or leading-`0` octal, with
/// `_` separators allowed only where Go allows them.
fn parse_uint_base0(s: &str) -> Result<u64, NumError> {
    if s.is_empty() {
        return Err(NumError::Syntax);
    }
    let bytes = s.as_bytes();
    let (base, digits): (u64, &str) = if bytes[0] == b'0' {
        match bytes.get(1).map(u8::to_ascii_lowercase) {
            Some(b'b') if s.len() >= 3 => (2, &s[2..]),
            Some(b'o') if s.len() >= 3 => (8, &s[2..]),
            Some(b'x') if s.len() >= 3 => (16, &s[2..]),
            _ => (8, &s[1..]),
        }
    } else {
        (10, s)
    };
    let mut value: u64 = 0;
    let mut underscores = false;
    for c in digits.chars() {
        if c == '_' {
            underscores = true;
            continue;
        }
        let d = match c.to_digit(16) {
            Some(d) if u64::from(d) < base => u64::from(d),
            _ => return Err(NumError::Syntax),
        };
        // Go reports overflow as soon as it happens, before looking at later digits.
        value = value
            .checked_mul(base)
            .and_then(|v| v.checked_add(d))
            .ok_or(NumError::Range)?;
    }
    if underscores && !underscore_ok(s) {
        return Err(NumError::Syntax);
    }
    Ok(value)
}

/// Go's `underscoreOK`: underscores only between digits or after a base prefix.
fn underscore_ok(s: &str) -> bool {
    let s = s.strip_prefix(['-', '+']).unwrap_or(s);
    let b = s.as_bytes();
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1].to_ascii_lowercase(), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1].eq_ignore_ascii_case(&b'x');
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

/// Go's `flag.Uint64Var` / `UintVar` (64-bit `uint`).
pub(crate) fn parse_u64(s: &str) -> Result<u64, String> {
    parse_uint_base0(s).map_err(|e| e.flag_message())
}

/// A Go `uint` flag stored in 32 bits: larger values are out of range.
pub(crate) fn parse_u32(s: &str) -> Result<u32, String> {
    let v = parse_u64(s)?;
    u32::try_from(v).map_err(|_| RANGE_ERROR.to_string())
}

/// Go's `flag.Int64Var` / `IntVar` (64-bit `int`).
pub(crate) fn parse_i64(s: &str) -> Result<i64, String> {
    let (neg, rest) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if rest.contains('_') && !underscore_ok(s) {
        return Err(PARSE_ERROR.to_string());
    }
    let un = parse_uint_base0(rest).map_err(|e| e.flag_message())?;
    let cutoff = 1u64 << 63;
    if (!neg && un >= cutoff) || (neg && un > cutoff) {
        return Err(RANGE_ERROR.to_string());
    }
    if neg {
        // un <= 2^63, so the negation fits.
        Ok((un as i128).wrapping_neg() as i64)
    } else {
        Ok(un as i64)
    }
}

/// etcd's `flags.Uint32Value`, which calls `strconv.ParseUint(s, 10, 32)` and passes its
/// error text through unchanged.
pub(crate) fn parse_u32_strconv(s: &str) -> Result<u32, String> {
    let syntax = || format!("strconv.ParseUint: parsing {}: invalid syntax", go_quote(s));
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(syntax());
    }
    match s.parse::<u64>() {
        Ok(v) => u32::try_from(v).map_err(|_| {
            format!(
                "strconv.ParseUint: parsing {}: value out of range",
                go_quote(s)
            )
        }),
        Err(_) => Err(format!(
            "strconv.ParseUint: parsing {}: value out of range",
            go_quote(s)
        )),
    }
}

/// `time.ParseDuration`. Go accepts negative durations, which etcd treats like zero
/// ("disabled") wherever it takes one; they become zero here.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    go_duration_nanos(s)
        .map(Duration::from_nanos)
        .ok_or_else(|| PARSE_ERROR.to_string())
}

/// Nanoseconds of a Go duration string (0 for a negative one), or None when Go would
/// reject it.
fn go_duration_nanos(orig: &str) -> Option<u64> {
    let mut s = orig;
    let mut neg = false;
    if let Some(rest) = s.strip_prefix(['-', '+']) {
        neg = s.starts_with('-');
        s = rest;
    }
    if s == "0" {
        return Some(0);
    }
    if s.is_empty() {
        return None;
    }
    let max: u64 = 1 << 63;
    let mut total: u64 = 0;
    while !s.is_empty() {
        let first = s.as_bytes()[0];
        if !(first == b'.' || first.is_ascii_digit()) {
            return None;
        }
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let mut whole: u64 = 0;
        for b in s[..int_len].bytes() {
            whole = whole.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
            if whole > max {
                return None;
            }
        }
        s = &s[int_len..];
        let mut frac: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut frac_len = 0;
        if let Some(rest) = s.strip_prefix('.') {
            s = rest;
            frac_len = s.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflow = false;
            for b in s[..frac_len].bytes() {
                if overflow {
                    continue;
                }
                match frac
                    .checked_mul(10)
                    .and_then(|f| f.checked_add(u64::from(b - b'0')))
                {
                    Some(f) if f <= max => {
                        frac = f;
                        scale *= 10.0;
                    }
                    _ => overflow = true,
                }
            }
            s = &s[frac_len..];
        }
        if int_len == 0 && frac_len == 0 {
            return None;
        }
        let unit_len = s
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return None;
        }
        let unit: u64 = match &s[..unit_len] {
            "ns" => 1,
            "us" | "\u{00b5}s" | "\u{03bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60 * 1_000_000_000,
            "h" => 3_600 * 1_000_000_000,
            _ => return None,
        };
        s = &s[unit_len..];
        if whole > max / unit {
            return None;
        }
        let mut v = whole * unit;
        if frac > 0 {
            v += (frac as f64 * (unit as f64 / scale)) as u64;
            if v > max {
                return None;
            }
        }
        total = total.checked_add(v)?;
        if total > max {
            return None;
        }
    }
    if neg {
        return Some(0);
    }
    if total > max - 1 {
        return None;
    }
    Some(total)
}

/// Go's `%q`, shared with the transport crate's messages.
pub(crate) use etcd_transport::go_quote;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_follow_strconv() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_bool(t), Ok(true), "{t}");
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_bool(f), Ok(false), "{f}");
        }
        for bad in ["", "yes", "tRUE", "2", " true"] {
            assert_eq!(parse_bool(bad), Err("parse error".to_string()), "{bad}");
        }
    }

    #[test]
    fn unsigned_numbers_accept_go_bases() {
        assert_eq!(parse_u64("100000"), Ok(100_000));
        assert_eq!(parse_u64("0x10"), Ok(16));
        assert_eq!(parse_u64("0X10"), Ok(16));
        assert_eq!(parse_u64("010"), Ok(8));
        assert_eq!(parse_u64("0o10"), Ok(8));
        assert_eq!(parse_u64("0b101"), Ok(5));
        assert_eq!(parse_u64("0"), Ok(0));
        assert_eq!(parse_u64("1_000"), Ok(1000));
        assert_eq!(parse_u64("0x_1f"), Ok(31));
        assert_eq!(parse_u64("18446744073709551615"), Ok(u64::MAX));
    }

    #[test]
    fn unsigned_numbers_reject_like_go() {
        for bad in [
            "", "abc", "-1", "+1", "1.5", "0x", "09", "1__0", "_1", "1_", " 1",
        ] {
            assert_eq!(parse_u64(bad), Err("parse error".to_string()), "{bad}");
        }
        assert_eq!(
            parse_u64("18446744073709551616"),
            Err("value out of range".to_string())
        );
        assert_eq!(
            parse_u32("4294967296"),
            Err("value out of range".to_string())
        );
        assert_eq!(parse_u32("4294967295"), Ok(u32::MAX));
    }

    #[test]
    fn signed_numbers() {
        assert_eq!(parse_i64("-5"), Ok(-5));
        assert_eq!(parse_i64("+5"), Ok(5));
        assert_eq!(parse_i64("-0x10"), Ok(-16));
        assert_eq!(parse_i64("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(parse_i64("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(
            parse_i64("9223372036854775808"),
            Err("value out of range".to_string())
        );
        assert_eq!(parse_i64("--5"), Err("parse error".to_string()));
        assert_eq!(parse_i64("-"), Err("parse error".to_string()));
    }

    #[test]
    fn uint32_value_passes_strconv_messages_through() {
        assert_eq!(parse_u32_strconv("123"), Ok(123));
        assert_eq!(
            parse_u32_strconv("abc"),
            Err("strconv.ParseUint: parsing \"abc\": invalid syntax".to_string())
        );
        assert_eq!(
            parse_u32_strconv("4294967296"),
            Err("strconv.ParseUint: parsing \"4294967296\": value out of range".to_string())
        );
        assert!(parse_u32_strconv("0x10").is_err(), "base 10 only");
    }

    #[test]
    fn durations_follow_time_parse_duration() {
        let ms = Duration::from_millis;
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("100ms"), Ok(ms(100)));
        assert_eq!(parse_duration("1h2m3.5s"), Ok(ms(3_723_500)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration(".5s"), Ok(ms(500)));
        assert_eq!(parse_duration("10us"), Ok(Duration::from_micros(10)));
        assert_eq!(parse_duration("10\u{b5}s"), Ok(Duration::from_micros(10)));
        assert_eq!(parse_duration("7ns"), Ok(Duration::from_nanos(7)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("+0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("-0s"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("-1s"), Ok(Duration::ZERO));
        for bad in [
            "",
            "5",
            "-5",
            "-",
            "abc",
            "5x",
            ".s",
            "1h-2m",
            "s",
            "9999999999999h",
        ] {
            assert_eq!(parse_duration(bad), Err("parse error".to_string()), "{bad}");
        }
    }

    #[test]
    fn quoting_matches_go() {
        assert_eq!(go_quote("abc"), "\"abc\"");
        assert_eq!(go_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(go_quote("tab\there\n"), "\"tab\\there\\n\"");
        assert_eq!(go_quote("\u{1}"), "\"\\x01\"");
        assert_eq!(go_quote("héllo"), "\"héllo\"");
    }
}
