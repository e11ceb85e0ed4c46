//! What the contract accepts as keys and values, checked before any backend sees them.

use super::{Result, StorageError};

/// The largest value the contract stores: etcd's default request limit (1.5 MiB) less 64 KiB
/// for the key, the provenance envelope and the request's own framing, so that both backends —
/// etcd with its default settings included — accept exactly the same values.
pub const MAX_VALUE_BYTES: usize = (1536 - 64) * 1024;

/// The longest key accepted (etcd has no hard limit; kube-apiserver keys stay far below this).
const MAX_KEY_BYTES: usize = 4096;

/// Checks an object key: absolute (`/…`), not ending in `/`, no empty, `.` or `..` segments, no
/// control characters.
pub fn validate_key(key: &str) -> Result<()> {
    let invalid = |reason| Err(StorageError::InvalidKey { key: key.to_owned(), reason });
    if key.is_empty() {
        return invalid("empty key");
    }
    check_path(key, invalid)?;
    if key.ends_with('/') {
        return invalid("a key must not end with '/'");
    }
    Ok(())
}

/// Checks a list or watch prefix: `/` alone, or an absolute path ending with `/`.
pub fn validate_prefix(prefix: &str) -> Result<()> {
    let invalid = |reason| Err(StorageError::InvalidKey { key: prefix.to_owned(), reason });
    if !prefix.ends_with('/') {
        return invalid("a prefix must end with '/'");
    }
    if prefix == "/" {
        return Ok(());
    }
    check_path(&prefix[..prefix.len() - 1], invalid)
}

fn check_path(path: &str, invalid: impl Fn(&'static str) -> Result<()>) -> Result<()> {
    if !path.starts_with('/') {
        return invalid("a key must start with '/'");
    }
    if path.len() > MAX_KEY_BYTES {
        return invalid("key too long");
    }
    if path.chars().any(char::is_control) {
        return invalid("control characters are not allowed");
    }
    if path[1..].split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        return invalid("empty, '.' or '..' path segment");
    }
    Ok(())
}

/// Checks a value's size.
pub fn validate_value(value: &[u8]) -> Result<()> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(StorageError::ValueTooLarge { size: value.len(), limit: MAX_VALUE_BYTES });
    }
    Ok(())
}

/// The smallest string greater than every string starting with `prefix` (etcd's range end).
/// `prefix` is a validated prefix ending in `/`, so bumping its last byte stays valid UTF-8.
pub fn prefix_end(prefix: &str) -> String {
    let mut end = prefix.to_owned();
    end.pop();
    end.push('0'); // the byte after '/'
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert!(validate_key("/pods/default/web-0").is_ok());
        for bad in ["", "pods/x", "/pods/", "/pods//x", "/pods/../x", "/a/\u{0}", "/"] {
            assert!(
                matches!(validate_key(bad), Err(StorageError::InvalidKey { .. })),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn prefixes() {
        assert!(validate_prefix("/").is_ok());
        assert!(validate_prefix("/pods/").is_ok());
        assert!(validate_prefix("/pods/default/").is_ok());
        for bad in ["", "/pods", "pods/", "//", "/pods//"] {
            assert!(validate_prefix(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(prefix_end("/pods/"), "/pods0");
        assert_eq!(prefix_end("/"), "0");
    }

    #[test]
    fn values() {
        assert!(validate_value(&vec![0; MAX_VALUE_BYTES]).is_ok());
        assert!(matches!(
            validate_value(&vec![0; MAX_VALUE_BYTES + 1]),
            Err(StorageError::ValueTooLarge { .. })
        ));
    }
}
