//! The log backend (`--audit-log-path`): one JSON line per event (kube's `json` format, with
//! `kind` and `apiVersion`), to a file that rotates ([`rotate`]) or to standard output (`-`).
//!
//! Data flow: the [`Sink`](super::sink::Sink) hands over batches in order; each batch is
//! serialized and written on the blocking pool, then flushed. A line that cannot be written is
//! counted in `apiserver_audit_error_total{plugin="log"}` and the next one is tried.
//! kube-apiserver's default `blocking` log mode writes in the request; here the request only
//! queues the event.

pub mod rotate;

use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use self::rotate::{RotatingFile, Rotation};
use super::metrics::PLUGIN_LOG;
use super::sink::{Backend, Failure};
use super::types::Event;

/// Where lines go.
#[derive(Debug)]
enum Output {
    Stdout,
    File(RotatingFile),
}

impl Output {
    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        match self {
            Output::Stdout => io::stdout().lock().write_all(line),
            Output::File(file) => file.write_line(line),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout => io::stdout().lock().flush(),
            Output::File(file) => file.flush(),
        }
    }
}

/// The log backend.
#[derive(Debug, Clone)]
pub struct LogBackend {
    /// One batch at a time writes (the sink delivers one at a time; the lock is for the
    /// blocking pool's threads).
    output: Arc<Mutex<Output>>,
}

impl LogBackend {
    /// `-` for standard output; otherwise the file is opened (created `0600`, its directory
    /// `0700`) now, so a path that cannot be written fails at start-up, as kube's does.
    pub fn open(path: &str, rotation: Rotation) -> io::Result<LogBackend> {
        let output = if path == "-" {
            Output::Stdout
        } else {
            Output::File(RotatingFile::open(Path::new(path), rotation).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot open the audit log {path:?}: {e}"))
            })?)
        };
        Ok(LogBackend { output: Arc::new(Mutex::new(output)) })
    }
}

impl Backend for LogBackend {
    fn plugin(&self) -> &'static str {
        PLUGIN_LOG
    }

    async fn deliver(&self, events: Vec<Arc<Event>>) -> Result<(), Failure> {
        let output = self.output.clone();
        let count = events.len();
        let written = tokio::task::spawn_blocking(move || {
            let mut output = output.lock().unwrap_or_else(PoisonError::into_inner);
            let mut failed = 0;
            let mut reason = String::new();
            for event in &events {
                let result = event
                    .to_json_line()
                    .map_err(io::Error::other)
                    .and_then(|line| output.write_line(&line));
                if let Err(err) = result {
                    failed += 1;
                    reason = err.to_string();
                }
            }
            if let Err(err) = output.flush() {
                // What was buffered is lost with the flush: count the whole batch.
                return Err(Failure { events: events.len(), reason: err.to_string() });
            }
            if failed > 0 { Err(Failure { events: failed, reason }) } else { Ok(()) }
        })
        .await;
        written.unwrap_or_else(|err| Err(Failure { events: count, reason: err.to_string() }))
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::audit::sink::{BatchConfig, Sink};
    use crate::audit::types::{Level, Stage};

    #[tokio::test]
    async fn events_become_json_lines_that_rotate() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let line_length = Event::new(Level::Metadata, "0", Stage::ResponseComplete, UNIX_EPOCH)
            .to_json_line()
            .unwrap()
            .len() as u64;
        // Room for two lines per file; keep one backup.
        let rotation = Rotation { max_size: 2 * line_length, max_backups: 1, max_age: None };
        let backend = LogBackend::open(path.to_str().unwrap(), rotation).unwrap();
        let config = BatchConfig {
            buffer_size: 100,
            max_batch_size: 10,
            max_batch_wait: Duration::ZERO,
            throttle: None,
            max_in_flight: 1,
        };
        let sink = Sink::spawn(backend, config);
        for i in 0..7 {
            let at = UNIX_EPOCH + Duration::from_secs(i);
            sink.process(Arc::new(Event::new(
                Level::Metadata,
                i.to_string(),
                Stage::ResponseComplete,
                at,
            )));
        }
        sink.shutdown().await;
        // Files of [0,1] [2,3] [4,5] [6]: one backup ([4,5]) kept, and the current file.
        let current = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> =
            current.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["kind"], "Event");
        assert_eq!(lines[0]["apiVersion"], "audit.k8s.io/v1");
        assert_eq!(lines[0]["auditID"], "6");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "audit.log")
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        let backup = std::fs::read_to_string(dir.path().join(&names[0])).unwrap();
        let ids: Vec<String> =
            backup.lines().map(|l| serde_json::from_str::<Event>(l).unwrap().audit_id).collect();
        assert_eq!(ids, ["4", "5"]);
    }

    #[test]
    fn an_unwritable_path_fails_at_start_up() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, "").unwrap();
        let path = blocker.join("audit.log");
        let err = LogBackend::open(path.to_str().unwrap(), Rotation::default()).unwrap_err();
        assert!(err.to_string().contains("cannot open the audit log"), "{err}");
    }
}
