//! A log file that rotates itself as kube-apiserver's (lumberjack's) does, for
//! `--audit-log-maxsize`, `--audit-log-maxbackup` and `--audit-log-maxage`.
//!
//! Before a line would take the file past `max_size` bytes, the file is renamed to
//! `<name>-<UTC time as 2006-01-02T15-04-05.000><ext>` in the same directory (`audit.log` →
//! `audit-2024-12-19T01-40-10.502.log`) and a new one is started. Then backups are pruned: only
//! the `max_backups` newest are kept (0: all), and those whose name is older than `max_age`
//! are removed (none: kept whatever their age). A line longer than `max_size` is refused. An
//! existing file is appended to. Files are created `0600` in a directory created `0700`.
//!
//! Unlike lumberjack, a rotation within the same millisecond as the last one moves its backup's
//! time on by a millisecond instead of overwriting that backup.
//!
//! Blocking I/O: callers run it off the async workers.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// lumberjack's size when `--audit-log-maxsize` is 0: 100 MB.
pub const DEFAULT_MAX_SIZE: u64 = 100 * MEGABYTE;

/// lumberjack's megabyte.
pub const MEGABYTE: u64 = 1024 * 1024;

/// When and how a file rotates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Bytes a file may hold.
    pub max_size: u64,
    /// Backups kept, newest first; 0 keeps all.
    pub max_backups: usize,
    /// Backups older than this are removed; `None` keeps them.
    pub max_age: Option<Duration>,
}

impl Default for Rotation {
    fn default() -> Self {
        Rotation { max_size: DEFAULT_MAX_SIZE, max_backups: 0, max_age: None }
    }
}

/// An append-only file with rotation.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    rotation: Rotation,
    file: BufWriter<File>,
    /// Bytes in the current file, written or buffered.
    size: u64,
    /// The time in the last backup's name, so the next one is always later.
    last_backup: Option<SystemTime>,
}

impl RotatingFile {
    /// Opens (or creates) `path` for appending; rotates it at once if it is already full.
    pub fn open(path: &Path, rotation: Rotation) -> io::Result<RotatingFile> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        }
        let file = open_append(path)?;
        let size = file.metadata()?.len();
        let mut rotating = RotatingFile {
            path: path.to_owned(),
            rotation,
            file: BufWriter::new(file),
            size,
            last_backup: None,
        };
        if size >= rotation.max_size {
            rotating.rotate()?;
        } else {
            rotating.prune()?;
        }
        Ok(rotating)
    }

    /// Appends one line (rotating first if it would not fit).
    pub fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        let length = line.len() as u64;
        if length > self.rotation.max_size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "write length {length} exceeds maximum file size {}",
                    self.rotation.max_size
                ),
            ));
        }
        if self.size + length > self.rotation.max_size {
            self.rotate()?;
        }
        self.file.write_all(line)?;
        self.size += length;
        Ok(())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }

    /// Renames the current file to a backup, starts a new one, prunes the backups.
    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        let mut at = SystemTime::now();
        if let Some(last) = self.last_backup.filter(|last| *last >= at) {
            at = last + Duration::from_millis(1);
        }
        let mut backup = backup_name(&self.path, at);
        while backup.exists() {
            at += Duration::from_millis(1);
            backup = backup_name(&self.path, at);
        }
        fs::rename(&self.path, &backup)?;
        self.last_backup = Some(at);
        self.file = BufWriter::new(open_append(&self.path)?);
        self.size = 0;
        self.prune()
    }

    /// Removes the backups beyond `max_backups` and older than `max_age`.
    fn prune(&self) -> io::Result<()> {
        let mut backups = backups(&self.path)?;
        backups.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
        let mut remove = Vec::new();
        if self.rotation.max_backups > 0 && backups.len() > self.rotation.max_backups {
            remove.extend(backups.drain(self.rotation.max_backups..));
        }
        if let Some(max_age) = self.rotation.max_age {
            let cutoff = SystemTime::now().checked_sub(max_age).unwrap_or(SystemTime::UNIX_EPOCH);
            remove.extend(backups.into_iter().filter(|(at, _)| *at < cutoff));
        }
        for (_, path) in remove {
            if let Err(err) = fs::remove_file(&path)
                && err.kind() != io::ErrorKind::NotFound
            {
                tracing::warn!(path = %path.display(), %err, "could not remove an old audit log");
            }
        }
        Ok(())
    }
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).mode(0o600).open(path)
}

/// `dir/name.ext` → (`name`, `.ext`), as Go's `filepath.Ext` splits a name.
fn split_name(path: &Path) -> (String, String) {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match name.rfind('.') {
        Some(dot) => (name[..dot].to_owned(), name[dot..].to_owned()),
        None => (name, String::new()),
    }
}

/// `dir/name-2006-01-02T15-04-05.000.ext`, in UTC.
pub fn backup_name(path: &Path, at: SystemTime) -> PathBuf {
    let (prefix, ext) = split_name(path);
    let stamp = humantime::format_rfc3339_millis(at).to_string();
    let stamp = stamp.trim_end_matches('Z').replace(':', "-");
    path.with_file_name(format!("{prefix}-{stamp}{ext}"))
}

/// The time in a backup's file name, if it is one of `path`'s backups.
fn backup_time(file_name: &str, prefix: &str, ext: &str) -> Option<SystemTime> {
    let stamp = file_name.strip_prefix(prefix)?.strip_prefix('-')?;
    let stamp = stamp.strip_suffix(".gz").unwrap_or(stamp).strip_suffix(ext)?;
    // 2006-01-02T15-04-05.000 → 2006-01-02T15:04:05.000Z
    let (date, time) = stamp.split_once('T')?;
    humantime::parse_rfc3339(&format!("{date}T{}Z", time.replacen('-', ":", 2))).ok()
}

/// `path`'s backups with their times.
fn backups(path: &Path) -> io::Result<Vec<(SystemTime, PathBuf)>> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let (prefix, ext) = split_name(path);
    let mut found = Vec::new();
    for entry in fs::read_dir(&dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(at) = backup_time(&name, &prefix, &ext) {
            found.push((at, entry.path()));
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn backup_names_are_lumberjacks() {
        let at = UNIX_EPOCH + Duration::from_millis(1_734_572_410_502);
        let name = backup_name(Path::new("/var/log/kube-apiserver-audit.log"), at);
        assert_eq!(name, Path::new("/var/log/kube-apiserver-audit-2024-12-19T01-40-10.502.log"));
        assert_eq!(
            backup_time(
                "kube-apiserver-audit-2024-12-19T01-40-10.502.log",
                "kube-apiserver-audit",
                ".log"
            ),
            Some(at)
        );
        assert_eq!(backup_name(Path::new("audit"), at), Path::new("audit-2024-12-19T01-40-10.502"));
        assert_eq!(backup_time("audit-2024-12-19T01-40-10.502.log.gz", "audit", ".log"), Some(at));
        assert_eq!(backup_time("audit-notatime.log", "audit", ".log"), None);
        assert_eq!(backup_time("other-2024-12-19T01-40-10.502.log", "audit", ".log"), None);
    }

    #[test]
    fn the_file_rotates_before_a_line_would_overflow_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/audit.log");
        let rotation = Rotation { max_size: 25, ..Rotation::default() };
        let mut file = RotatingFile::open(&path, rotation).unwrap();
        for line in ["line 1 of ten\n", "line 2 of ten\n", "line 3 of ten\n"] {
            file.write_line(line.as_bytes()).unwrap();
        }
        file.flush().unwrap();
        // 14 bytes per line: one line per file; two backups and the current file.
        let logs = dir.path().join("logs");
        let all = names(&logs);
        assert_eq!(all.len(), 3, "{all:?}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "line 3 of ten\n");
        let backups: Vec<&String> = all.iter().filter(|n| n.as_str() != "audit.log").collect();
        assert!(backups.iter().all(|n| n.starts_with("audit-") && n.ends_with(".log")), "{all:?}");
        assert_eq!(fs::read_to_string(logs.join(backups[0])).unwrap(), "line 1 of ten\n");
        assert_eq!(fs::read_to_string(logs.join(backups[1])).unwrap(), "line 2 of ten\n");
        let mode = fs::metadata(&path).unwrap().permissions();
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777, 0o600);

        let too_long = file.write_line(&[b'x'; 26]).unwrap_err();
        assert!(too_long.to_string().contains("exceeds maximum file size 25"), "{too_long}");
    }

    #[test]
    fn max_backups_keeps_the_newest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let rotation = Rotation { max_size: 10, max_backups: 2, max_age: None };
        let mut file = RotatingFile::open(&path, rotation).unwrap();
        for i in 0..6 {
            file.write_line(format!("line {i}\n").as_bytes()).unwrap();
        }
        file.flush().unwrap();
        let all = names(dir.path());
        assert_eq!(all.len(), 3, "{all:?}");
        let contents: Vec<String> =
            all.iter().map(|n| fs::read_to_string(dir.path().join(n)).unwrap()).collect();
        // Sorted by name: the two newest backups (their times increase), then audit.log.
        assert_eq!(contents, ["line 3\n", "line 4\n", "line 5\n"]);
    }

    #[test]
    fn max_age_removes_old_backups_and_leaves_other_files_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let old = backup_name(&path, UNIX_EPOCH + Duration::from_secs(86_400 * 365 * 30));
        fs::write(&old, "old\n").unwrap();
        fs::write(dir.path().join("unrelated.log"), "keep\n").unwrap();
        fs::write(dir.path().join("audit-notes.log"), "keep\n").unwrap();
        let rotation =
            Rotation { max_size: 100, max_backups: 0, max_age: Some(Duration::from_secs(86_400)) };
        let mut file = RotatingFile::open(&path, rotation).unwrap();
        assert!(!old.exists(), "pruned when the file is opened, as lumberjack does");
        fs::write(&old, "old\n").unwrap();
        file.write_line(&[b'x'; 60]).unwrap();
        file.write_line(&[b'y'; 60]).unwrap();
        file.flush().unwrap();
        assert!(!old.exists(), "pruned after a rotation");
        let all = names(dir.path());
        assert_eq!(all.len(), 4, "a fresh backup, audit.log and the two unrelated files: {all:?}");
        assert!(
            all.contains(&"unrelated.log".to_owned())
                && all.contains(&"audit-notes.log".to_owned())
        );
    }

    #[test]
    fn an_existing_file_is_appended_to_or_rotated_when_full() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        fs::write(&path, "before\n").unwrap();
        let mut file =
            RotatingFile::open(&path, Rotation { max_size: 100, ..Rotation::default() }).unwrap();
        file.write_line(b"after\n").unwrap();
        file.flush().unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "before\nafter\n");
        drop(file);

        let file =
            RotatingFile::open(&path, Rotation { max_size: 13, ..Rotation::default() }).unwrap();
        drop(file);
        assert_eq!(fs::read_to_string(&path).unwrap(), "");
        assert_eq!(names(dir.path()).len(), 2);
    }
}
