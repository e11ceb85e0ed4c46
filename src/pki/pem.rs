//! PEM blocks read as Go's `encoding/pem.Decode` reads them, for the API fields that carry PEM
//! (a CertificateSigningRequest's `spec.request` and `status.certificate`): kube's validation
//! decides on the first block's type and on headers, which a reader that skips unknown blocks
//! (rustls' own) cannot tell.

use base64::Engine;

/// One block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The label of `-----BEGIN <label>-----`.
    pub label: String,
    /// Whether the block carries RFC 1421 headers (`Proc-Type: …`) before its data.
    pub has_headers: bool,
    /// The decoded data.
    pub der: Vec<u8>,
}

/// The first well-formed block of `input` and what follows it; `None` when there is none.
/// Text before a block is skipped, as is a malformed block (Go tries the next `BEGIN`).
pub fn decode(mut input: &[u8]) -> Option<(Block, &[u8])> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    loop {
        let start = find(input, BEGIN)?;
        if start > 0 && input[start - 1] != b'\n' {
            input = &input[start + BEGIN.len()..];
            continue;
        }
        let after = &input[start + BEGIN.len()..];
        match block(after) {
            Some(found) => return Some(found),
            None => input = after,
        }
    }
}

/// A block whose `BEGIN ` is just behind `input`.
fn block(input: &[u8]) -> Option<(Block, &[u8])> {
    let line_end = find(input, b"\n").unwrap_or(input.len());
    let label = trim_cr(&input[..line_end]).strip_suffix(b"-----")?;
    let label = std::str::from_utf8(label).ok()?.to_owned();
    let end_marker = format!("-----END {label}-----");
    let body_start = (line_end + 1).min(input.len());
    let end = find(&input[body_start..], end_marker.as_bytes())? + body_start;
    let body = &input[body_start..end];
    let rest = &input[end + end_marker.len()..];
    let rest = rest.strip_prefix(b"\r").unwrap_or(rest);
    let rest = rest.strip_prefix(b"\n").unwrap_or(rest);
    let mut has_headers = false;
    let mut data = Vec::new();
    let mut in_headers = true;
    for line in body.split(|&b| b == b'\n').map(trim_cr) {
        if in_headers && line.contains(&b':') {
            has_headers = true;
            continue;
        }
        in_headers = false;
        data.extend(line.iter().filter(|b| !b.is_ascii_whitespace()));
    }
    let der = base64::engine::general_purpose::STANDARD.decode(&data).ok()?;
    Some((Block { label, has_headers, der }, rest))
}

fn trim_cr(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let end = line.iter().rposition(|b| *b != b' ' && *b != b'\t').map_or(0, |i| i + 1);
    &line[..end]
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_decode_in_order_with_their_labels() {
        let input = b"junk\n-----BEGIN A-----\nAQID\n-----END A-----\n-----BEGIN B C-----\r\nBA==\r\n-----END B C-----\n";
        let (a, rest) = decode(input).unwrap();
        assert_eq!(
            (a.label.as_str(), a.der.as_slice(), a.has_headers),
            ("A", &[1u8, 2, 3][..], false)
        );
        let (b, rest) = decode(rest).unwrap();
        assert_eq!((b.label.as_str(), b.der.as_slice()), ("B C", &[4u8][..]));
        assert!(decode(rest).is_none());
    }

    #[test]
    fn headers_are_noticed_and_malformed_blocks_skipped() {
        let input = b"-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\n\nAQ==\n-----END X-----\n";
        assert!(decode(input).unwrap().0.has_headers);
        assert!(decode(b"-----BEGIN X-----\n!!!\n-----END X-----\n").is_none());
        assert!(decode(b"-----BEGIN X-----\nAQ==\n").is_none());
        assert!(decode(b"").is_none());
    }
}
