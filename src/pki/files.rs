//! Files of the generated PKI: written atomically (a temporary file renamed over the target, so
//! a crash never leaves half a key), keys readable by the owner only (0600), the directory 0700.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::PkiError;

/// Creates `dir` (and parents) if missing and restricts it to its owner.
pub fn ensure_private_dir(dir: &Path) -> Result<(), PkiError> {
    fs::create_dir_all(dir).map_err(|e| PkiError::io(dir, e))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(|e| PkiError::io(dir, e))
}

/// Writes a private key: mode 0600 from the moment the file exists.
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), PkiError> {
    write_atomic(path, contents, 0o600)
}

/// Writes a certificate or public key: mode 0644.
pub fn write_public(path: &Path, contents: &[u8]) -> Result<(), PkiError> {
    write_atomic(path, contents, 0o644)
}

fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<(), PkiError> {
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("pki");
    let tmp = path.with_file_name(format!(".{file_name}.tmp"));
    let result = (|| {
        let _ = fs::remove_file(&tmp);
        let mut file = fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(|e| PkiError::io(path, e))
}

/// Reads a file that may be absent: `Ok(None)` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, PkiError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(PkiError::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_owner_only_and_certificates_world_readable() {
        let dir = tempfile::tempdir().unwrap();
        let pki = dir.path().join("pki");
        ensure_private_dir(&pki).unwrap();
        write_private(&pki.join("a.key"), b"secret").unwrap();
        write_public(&pki.join("a.crt"), b"public").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&pki), 0o700);
        assert_eq!(mode(&pki.join("a.key")), 0o600);
        assert_eq!(mode(&pki.join("a.crt")), 0o644);
        assert_eq!(fs::read(pki.join("a.key")).unwrap(), b"secret");
        // Rewriting replaces the contents and leaves no temporary file behind.
        write_private(&pki.join("a.key"), b"other").unwrap();
        assert_eq!(fs::read(pki.join("a.key")).unwrap(), b"other");
        assert_eq!(fs::read_dir(&pki).unwrap().count(), 2);
        assert_eq!(read_optional(&pki.join("missing")).unwrap(), None);
    }
}
