//! Member IDs as etcd writes them in headers, paths and logs: lower-case hex, no padding.

use std::fmt;

/// Displays a member ID in etcd's form (`types.ID.String()`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hex(pub u64);

impl fmt::Display for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:x}", self.0)
    }
}

impl fmt::Debug for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Parses an ID written in hex (either case, as Go's `strconv.ParseUint(s, 16, 64)`).
pub(crate) fn parse_id(s: &str) -> Option<u64> {
    if s.is_empty() || s.starts_with('+') {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_lower_case_without_padding() {
        assert_eq!(Hex(0x8e9e05c52164694d).to_string(), "8e9e05c52164694d");
        assert_eq!(Hex(1).to_string(), "1");
    }

    #[test]
    fn parses_hex_and_rejects_garbage() {
        assert_eq!(parse_id("8E9E05C52164694D"), Some(0x8e9e05c52164694d));
        assert_eq!(parse_id("1"), Some(1));
        assert_eq!(parse_id(""), None);
        assert_eq!(parse_id("+1"), None);
        assert_eq!(parse_id("xyz"), None);
        assert_eq!(parse_id("1ffffffffffffffff"), None);
    }
}
