//! String formats (`format: uuid`, `date-time`, …) as kube-apiserver checks them.
//!
//! kube checks formats only on strings and only for the formats its registry knows (kube-openapi's
//! `strfmt`); any other format is accepted unchecked. The numeric formats (`int32`, `int64`,
//! `float`, `double`) constrain nothing beyond the type — kube does not range-check `int32` —
//! and only change the wording of a type error (see `validate.rs`).
//!
//! The checks follow the semantics of the Go functions kube uses (`net.ParseIP`,
//! `net.ParseCIDR`, `url.ParseRequestURI`, `net/mail.ParseAddress`, RFC 3339 timestamps), written
//! here from their specifications.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The numeric formats: recognized, never checked on strings.
pub const NUMERIC: [&str; 4] = ["int32", "int64", "float", "double"];

/// Whether `value` matches `format`. Unknown formats always match.
pub fn matches(format: &str, value: &str) -> bool {
    match format {
        "byte" => is_base64(value),
        "date" => is_date(value),
        "date-time" | "datetime" => is_date_time(value),
        "uuid" => is_uuid(value, None),
        "uuid3" => is_uuid(value, Some(b'3')),
        "uuid4" => is_uuid(value, Some(b'4')),
        "uuid5" => is_uuid(value, Some(b'5')),
        "email" => is_email(value),
        "hostname" => is_hostname(value),
        "ipv4" => value.contains('.') && value.parse::<Ipv4Addr>().is_ok(),
        "ipv6" => value.contains(':') && value.parse::<Ipv6Addr>().is_ok(),
        "cidr" => is_cidr(value),
        "uri" => is_request_uri(value),
        "mac" => is_mac(value),
        "hexcolor" => is_hex_color(value),
        _ => true,
    }
}

/// Standard base64 with padding, at least one quantum (govalidator's `IsBase64`).
fn is_base64(value: &str) -> bool {
    let b = value.as_bytes();
    if b.is_empty() || !b.len().is_multiple_of(4) {
        return false;
    }
    let alphabet = |c: u8| c.is_ascii_alphanumeric() || c == b'+' || c == b'/';
    let padding = b.iter().rev().take_while(|&&c| c == b'=').count();
    padding <= 2 && b[..b.len() - padding].iter().all(|&c| alphabet(c))
}

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|c| c.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// RFC 3339 `full-date`: `YYYY-MM-DD` with a day that exists.
fn is_date(value: &str) -> bool {
    let mut parts = value.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let (Some(year), Some(month), Some(day)) = (digits(y, 4), digits(m, 2), digits(d, 2)) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// RFC 3339 `date-time`: `full-date "T" HH:MM:SS[.frac] ("Z" | ±HH:MM)`.
fn is_date_time(value: &str) -> bool {
    let Some((date, rest)) = value.split_once('T') else {
        return false;
    };
    if !is_date(date) || rest.len() < 8 {
        return false;
    }
    let (time, zone) = match rest.find(['Z', '+', '-']) {
        Some(i) => rest.split_at(i),
        None => return false,
    };
    let (hms, fraction) = match time.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (time, None),
    };
    if fraction.is_some_and(|f| f.is_empty() || !f.bytes().all(|c| c.is_ascii_digit())) {
        return false;
    }
    let clock = |s: &str, max_hour: u32, seconds: bool| {
        let fields: Vec<&str> = s.split(':').collect();
        let want = if seconds { 3 } else { 2 };
        fields.len() == want
            && digits(fields[0], 2).is_some_and(|h| h <= max_hour)
            && digits(fields[1], 2).is_some_and(|m| m <= 59)
            && (!seconds || digits(fields[2], 2).is_some_and(|s| s <= 60))
    };
    if !clock(hms, 23, true) {
        return false;
    }
    zone == "Z" || (zone.len() == 6 && clock(&zone[1..], 23, false))
}

/// 32 hex digits in 8-4-4-4-12 groups, hyphens optional (kube's pattern), case-insensitive;
/// `version` pins the version digit (and the RFC 4122 variant) for uuid3/4/5.
fn is_uuid(value: &str, version: Option<u8>) -> bool {
    let groups = [8, 4, 4, 4, 12];
    let b = value.as_bytes();
    let mut hex = Vec::with_capacity(32);
    let mut i = 0;
    for (n, len) in groups.iter().enumerate() {
        if n > 0 && b.get(i) == Some(&b'-') {
            i += 1;
        }
        let Some(group) = b.get(i..i + len) else {
            return false;
        };
        if !group.iter().all(u8::is_ascii_hexdigit) {
            return false;
        }
        hex.extend_from_slice(group);
        i += len;
    }
    if i != b.len() {
        return false;
    }
    match version {
        None => true,
        Some(v) => {
            hex[12] == v
                && (v == b'3' || matches!(hex[16].to_ascii_lowercase(), b'8' | b'9' | b'a' | b'b'))
        }
    }
}

/// An RFC 5322 address as Go's `mail.ParseAddress` takes it, for the common forms: `a@b.c` or
/// `Name <a@b.c>`; the local part is a dot-atom or a quoted string, the domain a dot-atom.
fn is_email(value: &str) -> bool {
    let address = match (value.find('<'), value.strip_suffix('>')) {
        (Some(open), Some(inner)) => &inner[open + 1..],
        (None, None) => value.trim(),
        _ => return false,
    };
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    let atext =
        |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii();
    let dot_atom =
        |s: &str| !s.is_empty() && s.split('.').all(|a| !a.is_empty() && a.chars().all(atext));
    let quoted = local.len() >= 2 && local.starts_with('"') && local.ends_with('"');
    (quoted || dot_atom(local)) && dot_atom(domain)
}

/// A host name (RFC 1123 labels, letters of any script allowed as kube's pattern allows): at
/// most 255 bytes, labels of 1–63 bytes of letters, digits, symbols and inner hyphens; when
/// there are several labels, the last has at least two characters.
fn is_hostname(value: &str) -> bool {
    if value.is_empty() || value.len() > 255 {
        return false;
    }
    let labels: Vec<&str> = value.split('.').collect();
    let ok_char = |c: char| {
        c.is_alphanumeric() || c == '-' || (!c.is_ascii() && !c.is_whitespace() && !c.is_control())
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(ok_char)
    };
    labels.iter().all(|l| label_ok(l))
        && (labels.len() == 1 || labels[labels.len() - 1].chars().count() >= 2)
}

/// `address/prefix` with an IPv4 or IPv6 address and a prefix length in range, no leading zeros.
fn is_cidr(value: &str) -> bool {
    let Some((address, prefix)) = value.split_once('/') else {
        return false;
    };
    let Some(bits) = (!prefix.is_empty()
        && prefix.len() <= 3
        && prefix.bytes().all(|c| c.is_ascii_digit())
        && (prefix == "0" || !prefix.starts_with('0')))
    .then(|| prefix.parse::<u32>().ok())
    .flatten() else {
        return false;
    };
    if address.parse::<Ipv4Addr>().is_ok() {
        bits <= 32
    } else {
        address.parse::<Ipv6Addr>().is_ok() && bits <= 128
    }
}

/// Go's `url.ParseRequestURI`: an absolute URI (`scheme:…`) or an absolute path, without
/// control characters or spaces in the authority.
fn is_request_uri(value: &str) -> bool {
    if value.is_empty() || value.chars().any(|c| c.is_control()) {
        return false;
    }
    if value.starts_with('/') {
        return true;
    }
    let Some((scheme, rest)) = value.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !scheme_ok {
        return false;
    }
    match rest.strip_prefix("//") {
        Some(after) => {
            let authority = after.split(['/', '?', '#']).next().unwrap_or("");
            !authority.contains(' ')
        }
        None => true,
    }
}

/// A MAC address: six (or eight, or twenty) hex pairs separated by `:` or `-`, or dotted
/// groups of four hex digits (Go's `net.ParseMAC`).
fn is_mac(value: &str) -> bool {
    let pairs_ok = |sep: char| {
        let parts: Vec<&str> = value.split(sep).collect();
        matches!(parts.len(), 6 | 8 | 20)
            && parts.iter().all(|p| p.len() == 2 && p.bytes().all(|c| c.is_ascii_hexdigit()))
    };
    let dotted_ok = {
        let parts: Vec<&str> = value.split('.').collect();
        matches!(parts.len(), 3 | 4 | 10)
            && parts.iter().all(|p| p.len() == 4 && p.bytes().all(|c| c.is_ascii_hexdigit()))
    };
    pairs_ok(':') || pairs_ok('-') || dotted_ok
}

/// `#rgb` or `#rrggbb`.
fn is_hex_color(value: &str) -> bool {
    let hex = value.strip_prefix('#').unwrap_or(value);
    matches!(hex.len(), 3 | 6) && hex.bytes().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(format: &str, good: &[&str], bad: &[&str]) {
        for value in good {
            assert!(matches(format, value), "{format}: {value:?} should match");
        }
        for value in bad {
            assert!(!matches(format, value), "{format}: {value:?} should not match");
        }
    }

    #[test]
    fn byte() {
        check(
            "byte",
            &["aGVsbG8=", "aGk=", "YWJj", "+/+/"],
            &["", "aGVsbG8", "a===", "a*bc", "aGVsbG8=\n"],
        );
    }

    #[test]
    fn date_and_date_time() {
        check(
            "date",
            &["2024-02-29", "1999-12-31"],
            &["2023-02-29", "2024-13-01", "2024-1-01", "20240101", "2024-01-01T00:00:00Z"],
        );
        check(
            "date-time",
            &[
                "2024-01-02T03:04:05Z",
                "2024-01-02T03:04:05.123456789+02:00",
                "2024-01-02T23:59:60-05:30",
            ],
            &[
                "2024-01-02",
                "2024-01-02T03:04:05",
                "2024-01-02 03:04:05Z",
                "2024-01-02T24:00:00Z",
                "2024-01-02T03:04:05.Z",
                "2024-01-02T03:04:05+0200",
            ],
        );
    }

    #[test]
    fn uuids() {
        check(
            "uuid",
            &["123e4567-e89b-12d3-a456-426614174000", "123E4567E89B12D3A456426614174000"],
            &["123e4567-e89b-12d3-a456-42661417400", "123e4567-e89b-12d3-a456-42661417400g", "x"],
        );
        check(
            "uuid4",
            &["123e4567-e89b-42d3-a456-426614174000"],
            &["123e4567-e89b-12d3-a456-426614174000", "123e4567-e89b-42d3-c456-426614174000"],
        );
        check(
            "uuid3",
            &["123e4567-e89b-32d3-8456-426614174000"],
            &["123e4567-e89b-42d3-8456-426614174000"],
        );
        check(
            "uuid5",
            &["123e4567-e89b-52d3-b456-426614174000"],
            &["123e4567-e89b-52d3-0456-426614174000"],
        );
    }

    #[test]
    fn email() {
        check(
            "email",
            &["a@b.c", "first.last+tag@example.com", "Jane <jane@example.com>", "\"a b\"@x.org"],
            &["", "a", "a@", "@b.c", "a@b..c", "a b@c.d", "<a@b.c"],
        );
    }

    #[test]
    fn hostname() {
        check(
            "hostname",
            &["localhost", "example.com", "a-b.example.co", "xn--bcher-kva.ch", "bücher.ch"],
            &[
                "",
                "-a.com",
                "a-.com",
                "a..b",
                "a.b.c.d",
                "a_b.com",
                &format!("{}.com", "a".repeat(64)),
            ],
        );
    }

    #[test]
    fn ips_and_cidrs() {
        check(
            "ipv4",
            &["10.0.0.1", "255.255.255.255"],
            &["256.0.0.1", "010.0.0.1", "1.2.3", "::1"],
        );
        check("ipv6", &["::1", "fe80::1", "::ffff:1.2.3.4"], &["1.2.3.4", "fe80::1%eth0", ":::"]);
        check(
            "cidr",
            &["10.0.0.0/8", "0.0.0.0/0", "::/0", "fe80::/64"],
            &["10.0.0.0", "10.0.0.0/33", "::/129", "10.0.0.0/08", "x/8"],
        );
    }

    #[test]
    fn uri() {
        check(
            "uri",
            &["http://example.com/a?b#c", "/absolute/path", "mailto:a@b.c", "urn:isbn:0451450523"],
            &["", "relative/path", "http://a b/", "1http://x", "a\u{7}b"],
        );
    }

    #[test]
    fn mac_and_hex_color() {
        check(
            "mac",
            &["00:1a:2b:3c:4d:5e", "00-1A-2B-3C-4D-5E", "001a.2b3c.4d5e"],
            &["00:1a:2b:3c:4d", "001a2b3c4d5e"],
        );
        check("hexcolor", &["#fff", "#A0B1C2", "fff"], &["#ffff", "#ggg"]);
    }

    #[test]
    fn unknown_and_numeric_formats_accept_anything() {
        check("int32", &["abc", ""], &[]);
        check("no-such-format", &["anything"], &[]);
    }
}
