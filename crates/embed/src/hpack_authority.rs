//! Fixes the one malformed request header etcd 3.4's clients send: an HTTP/2 `:authority`
//! carrying a scheme (`http://127.0.0.1:2379`), which etcdctl sends when it dials a member
//! for `endpoint status` / `endpoint hashkv`. Go's server tolerates it; h2 resets the
//! stream. The value is rewritten to an authority of the SAME length
//! (`http:x@127.0.0.1:2379`, userinfo syntax), so the HPACK dynamic table entry it may
//! create has the same size on both sides and every later index stays valid. Nothing
//! else in the block changes.

use httlib_huffman::{DecoderSpeed, decode};

/// Static-table index of `:authority` (RFC 7541 appendix A).
const AUTHORITY_INDEX: u64 = 1;

/// Decodes an HPACK integer with an `n`-bit prefix at `buf[*pos]`.
fn read_int(buf: &[u8], pos: &mut usize, n: u8) -> Option<u64> {
    let mask = (1u16 << n) as u8 - 1;
    let mut value = u64::from(*buf.get(*pos)? & mask);
    *pos += 1;
    if value < u64::from(mask) {
        return Some(value);
    }
    let mut shift = 0u32;
    loop {
        let b = *buf.get(*pos)?;
        *pos += 1;
        value = value.checked_add(u64::from(b & 0x7f).checked_shl(shift)?)?;
        if b & 0x80 == 0 {
            return Some(value);
        }
        shift += 7;
        if shift > 56 {
            return None;
        }
    }
}

fn write_int(out: &mut Vec<u8>, first_bits: u8, n: u8, value: u64) {
    let mask = (1u16 << n) as u8 - 1;
    if value < u64::from(mask) {
        out.push(first_bits | value as u8);
        return;
    }
    out.push(first_bits | mask);
    let mut rest = value - u64::from(mask);
    while rest >= 0x80 {
        out.push((rest as u8 & 0x7f) | 0x80);
        rest >>= 7;
    }
    out.push(rest as u8);
}

/// A string literal at `buf[*pos]`: (decoded bytes, byte range it occupied).
fn read_string(buf: &[u8], pos: &mut usize) -> Option<(Vec<u8>, std::ops::Range<usize>)> {
    let start = *pos;
    let huffman = *buf.get(*pos)? & 0x80 != 0;
    let len = usize::try_from(read_int(buf, pos, 7)?).ok()?;
    let raw = buf.get(*pos..pos.checked_add(len)?)?;
    *pos += len;
    let decoded = if huffman {
        let mut out = Vec::with_capacity(len * 2);
        decode(raw, &mut out, DecoderSpeed::FourBits).ok()?;
        out
    } else {
        raw.to_vec()
    };
    Some((decoded, start..*pos))
}

/// Steps over a string literal at `buf[*pos]` without decoding it.
fn skip_string(buf: &[u8], pos: &mut usize) -> Option<()> {
    let len = usize::try_from(read_int(buf, pos, 7)?).ok()?;
    let end = pos.checked_add(len)?;
    (end <= buf.len()).then(|| *pos = end)
}

/// `scheme://rest` -> `scheme:x@rest` (same length), or None if `value` has no scheme.
fn fixed_authority(value: &[u8]) -> Option<Vec<u8>> {
    let at = value.windows(3).position(|w| w == b"://")?;
    let (scheme, rest) = (&value[..at], &value[at + 3..]);
    if scheme.is_empty()
        || !scheme
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(c))
    {
        return None;
    }
    let mut fixed = Vec::with_capacity(value.len());
    fixed.extend_from_slice(scheme);
    fixed.extend_from_slice(b":x@");
    fixed.extend_from_slice(rest);
    Some(fixed)
}

/// Returns the header block with scheme-prefixed `:authority` values fixed, or None when
/// nothing needs fixing (or the block cannot be parsed: then h2 judges it unchanged).
pub fn fix_header_block(block: &[u8]) -> Option<Vec<u8>> {
    let mut pos = 0;
    // (range in block, replacement bytes) for each value to rewrite.
    let mut edits: Vec<(std::ops::Range<usize>, Vec<u8>)> = Vec::new();
    while pos < block.len() {
        let b = block[pos];
        if b & 0x80 != 0 {
            read_int(block, &mut pos, 7)?; // indexed field
            continue;
        }
        if b & 0xe0 == 0x20 {
            read_int(block, &mut pos, 5)?; // dynamic table size update
            continue;
        }
        // Literal: with incremental indexing (6-bit name index) or without/never indexed (4-bit).
        let prefix = if b & 0xc0 == 0x40 { 6 } else { 4 };
        let name_index = read_int(block, &mut pos, prefix)?;
        let is_authority = if name_index == 0 {
            read_string(block, &mut pos)?.0 == b":authority"
        } else {
            name_index == AUTHORITY_INDEX
        };
        if !is_authority {
            // Only `:authority` values are decoded: a request's other values (path,
            // content-type, user-agent...) stay Huffman-coded.
            skip_string(block, &mut pos)?;
            continue;
        }
        let (value, range) = read_string(block, &mut pos)?;
        if let Some(fixed) = fixed_authority(&value) {
            let mut enc = Vec::with_capacity(fixed.len() + 4);
            write_int(&mut enc, 0x00, 7, fixed.len() as u64); // plain (not Huffman) string
            enc.extend_from_slice(&fixed);
            edits.push((range, enc));
        }
    }
    if edits.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(block.len() + 16);
    let mut last = 0;
    for (range, enc) in edits {
        out.extend_from_slice(&block[last..range.start]);
        out.extend_from_slice(&enc);
        last = range.end;
    }
    out.extend_from_slice(&block[last..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(index: u8, value: &[u8]) -> Vec<u8> {
        let mut b = vec![0x40 | index];
        write_int(&mut b, 0, 7, value.len() as u64);
        b.extend_from_slice(value);
        b
    }

    #[test]
    fn scheme_prefixed_authority_becomes_a_same_length_valid_one() {
        let mut block = vec![0x83]; // :method POST (indexed)
        block.extend(literal(1, b"http://127.0.0.1:2379"));
        block.push(0x86); // :scheme http
        let fixed = fix_header_block(&block).expect("rewritten");
        let mut pos = 1;
        assert_eq!(read_int(&fixed, &mut pos, 6), Some(1));
        let (value, _) = read_string(&fixed, &mut pos).unwrap();
        assert_eq!(value, b"http:x@127.0.0.1:2379");
        assert_eq!(value.len(), "http://127.0.0.1:2379".len());
        assert_eq!(fixed[pos], 0x86, "the rest of the block is untouched");
        let authority: http::uri::Authority = std::str::from_utf8(&value)
            .unwrap()
            .parse()
            .expect("valid authority");
        assert_eq!(authority.host(), "127.0.0.1");
        assert_eq!(authority.port_u16(), Some(2379));
    }

    #[test]
    fn huffman_coded_and_literal_name_forms_are_found() {
        // "http://a:1" Huffman-coded, as grpc-go sends it.
        let mut huff = Vec::new();
        httlib_huffman::encode(b"http://a:1", &mut huff).unwrap();
        let mut block = vec![0x01]; // without indexing, name index 1
        write_int(&mut block, 0x80, 7, huff.len() as u64);
        block.extend_from_slice(&huff);
        let fixed = fix_header_block(&block).unwrap();
        let mut pos = 0;
        read_int(&fixed, &mut pos, 4).unwrap();
        assert_eq!(read_string(&fixed, &mut pos).unwrap().0, b"http:x@a:1");

        let mut block = vec![0x40];
        block.extend(literal(0, b":authority")[1..].to_vec());
        block.extend(literal(0, b"https://b:2")[1..].to_vec());
        let fixed = fix_header_block(&block).unwrap();
        assert!(fixed.windows(10).any(|w| w == b"https:x@b:"));
    }

    #[test]
    fn an_authority_after_other_literal_values_is_found() {
        let mut block = literal(4, b"/etcdserverpb.KV/Put"); // :path, plain
        let mut huff = Vec::new();
        httlib_huffman::encode(b"grpc-go/1.26.0", &mut huff).unwrap();
        block.push(0x40 | 58); // user-agent, Huffman-coded value
        write_int(&mut block, 0x80, 7, huff.len() as u64);
        block.extend_from_slice(&huff);
        let before = block.len();
        block.extend(literal(1, b"http://c:3"));
        let fixed = fix_header_block(&block).expect("rewritten");
        assert_eq!(fixed[..before], block[..before]);
        assert!(fixed.ends_with(b"http:x@c:3"));
    }

    #[test]
    fn good_blocks_are_left_alone() {
        let mut block = vec![0x83];
        block.extend(literal(1, b"127.0.0.1:2379"));
        block.extend(literal(4, b"/etcdserverpb.KV/Put")); // :path
        assert_eq!(fix_header_block(&block), None);
        assert_eq!(
            fix_header_block(&[0xff]),
            None,
            "truncated input is not touched"
        );
    }
}
