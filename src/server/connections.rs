//! The table of open connections and what each is doing: waiting for a request (its first, or the
//! next on a kept-alive connection) or serving some. It is what lets the server close a
//! connection that waits too long for a request head (a slow or stalled client), and, at the
//! connection cap, admit a new one by closing the one that has waited longest instead of refusing
//! it — so health checks and API calls keep being answered while thousands of connections stall.
//!
//! Flow: the accept loop [`Connections::admit`]s a connection, which starts out waiting → each
//! request on it holds an [`InFlight`] guard (from [`ConnectionHandle::request_started`]) until
//! its response body has been sent, then the connection waits again, from that moment →
//! [`Connections::close_expired`] (the sweeper) and admission at the cap close waiting connections
//! by waking their task → the task ends and [`ConnectionHandle::remove`]s its entry, and the
//! reason it closed is counted then, once.
//!
//! Waiting connections are kept in the order they started waiting, so the longest wait is the
//! first entry: finding what to close is O(log n) however many connections are open.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use metrics::{Gauge, counter, gauge};
use tokio::sync::Notify;

/// How the server treats connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionConfig {
    /// How long a connection may wait for a request head — from accepting it, or from the end of
    /// its previous response — before it is closed (`--request-header-timeout`; kube-apiserver's
    /// HTTP server uses 32 s).
    pub request_header_timeout: Duration,
    /// Most connections open at once (`--max-connections`); kept below the open-file limit by
    /// [`super::limits::connection_cap`].
    pub max_connections: usize,
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            request_header_timeout: Duration::from_secs(32),
            max_connections: super::limits::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Why a connection closed: the `reason` of `ledger_http_connections_closed_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client closed it, or it ended after a graceful shutdown.
    Done,
    /// An I/O or protocol error (a malformed request, a reset).
    Error,
    /// It waited for a request head longer than the header timeout.
    HeaderTimeout,
    /// It was the longest-waiting connection when a new one arrived at the cap, or when accepting
    /// failed for want of descriptors.
    Evicted,
    /// It arrived at the cap while every open connection was serving a request.
    Refused,
    /// It was waiting for its first request when the server shut down.
    Shutdown,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Done => "done",
            CloseReason::Error => "error",
            CloseReason::HeaderTimeout => "request_header_timeout",
            CloseReason::Evicted => "evicted",
            CloseReason::Refused => "refused",
            CloseReason::Shutdown => "shutdown",
        }
    }
}

fn count_closed(reason: CloseReason) {
    counter!("ledger_http_connections_closed_total", "reason" => reason.as_str()).increment(1);
}

/// The open connections of one server.
#[derive(Debug)]
pub struct Connections {
    table: Mutex<Table>,
    header_timeout: Duration,
    max: usize,
    /// `ledger_http_open_connections`.
    open: Gauge,
}

#[derive(Debug, Default)]
struct Table {
    next_id: u64,
    /// Orders waits: a connection that started waiting earlier has a smaller number.
    next_wait: u64,
    entries: HashMap<u64, Entry>,
    /// The waiting connections by wait number: the first has waited longest.
    waiting: BTreeMap<u64, Waiting>,
    /// Entries asked to close whose task has not ended yet: they no longer count against the cap.
    closing: usize,
}

#[derive(Debug, Clone, Copy)]
struct Waiting {
    id: u64,
    since: Instant,
}

#[derive(Debug)]
struct Entry {
    /// Requests being served on it, until their response bodies have been sent.
    in_flight: u32,
    /// Whether a request ever arrived: one that never sent any is closed outright on shutdown.
    served: bool,
    /// Its key in `waiting` while it waits for a request.
    wait: Option<u64>,
    /// Set once the server decided to close it, with the reason to count when it ends.
    closing: Option<CloseReason>,
    /// Wakes the connection's task to close it.
    close: Arc<Notify>,
}

/// A connection let in: its handle, and what wakes its task when the server closes it.
#[derive(Debug)]
pub struct Admitted {
    pub handle: ConnectionHandle,
    pub close: Arc<Notify>,
}

impl Connections {
    pub fn new(config: ConnectionConfig, max: usize) -> Connections {
        Connections {
            table: Mutex::new(Table::default()),
            header_timeout: config.request_header_timeout,
            max,
            open: gauge!("ledger_http_open_connections"),
        }
    }

    /// The table; a panic elsewhere while it was held cannot leave it inconsistent in a way that
    /// matters more than refusing to serve, so a poisoned lock is taken over.
    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Lets a new connection in, waiting for its first request from now. At the cap, closes the
    /// longest-waiting connection to make room; `None` (counted as refused) when every open
    /// connection is serving a request.
    pub fn admit(self: &Arc<Self>) -> Option<Admitted> {
        let mut table = self.table();
        if table.entries.len() - table.closing >= self.max
            && !table.close_longest_waiting(CloseReason::Evicted)
        {
            drop(table);
            count_closed(CloseReason::Refused);
            return None;
        }
        let id = table.next_id;
        table.next_id += 1;
        let close = Arc::new(Notify::new());
        let entry =
            Entry { in_flight: 0, served: false, wait: None, closing: None, close: close.clone() };
        table.entries.insert(id, entry);
        table.start_waiting(id, Instant::now());
        drop(table);
        self.open.increment(1.0);
        Some(Admitted { handle: ConnectionHandle { connections: self.clone(), id }, close })
    }

    /// Closes the connection that has waited longest for a request, if any: accepting failed
    /// (out of descriptors, most likely), and this frees one.
    pub fn evict_one(&self) -> bool {
        self.table().close_longest_waiting(CloseReason::Evicted)
    }

    /// Closes every connection that has waited for a request longer than the header timeout.
    /// Returns how many.
    pub fn close_expired(&self) -> usize {
        let now = Instant::now();
        let mut table = self.table();
        let mut closed = 0;
        while let Some((_, waiting)) = table.waiting.first_key_value()
            && now.duration_since(waiting.since) >= self.header_timeout
        {
            table.close_longest_waiting(CloseReason::HeaderTimeout);
            closed += 1;
        }
        closed
    }

    /// On shutdown: closes the connections that never got a request (a graceful HTTP/1.1
    /// shutdown would wait for their head); the others finish what they serve.
    pub fn close_unserved(&self) {
        let mut table = self.table();
        let unserved: Vec<u64> = table
            .waiting
            .iter()
            .filter(|(_, w)| table.entries.get(&w.id).is_some_and(|e| !e.served))
            .map(|(&wait, _)| wait)
            .collect();
        for wait in unserved {
            table.close_waiting(wait, CloseReason::Shutdown);
        }
    }

    /// How often to look for expired waits: often enough that a connection is closed within an
    /// eighth of the timeout after it expires, at most once a second.
    pub fn sweep_interval(&self) -> Duration {
        (self.header_timeout / 8).clamp(Duration::from_millis(10), Duration::from_secs(1))
    }

    /// Connections open now (those being closed included).
    pub fn open(&self) -> usize {
        self.table().entries.len()
    }
}

impl Table {
    fn start_waiting(&mut self, id: u64, since: Instant) {
        let wait = self.next_wait;
        self.next_wait += 1;
        if let Some(entry) = self.entries.get_mut(&id) {
            entry.wait = Some(wait);
            self.waiting.insert(wait, Waiting { id, since });
        }
    }

    fn close_longest_waiting(&mut self, reason: CloseReason) -> bool {
        match self.waiting.first_key_value() {
            Some((&wait, _)) => {
                self.close_waiting(wait, reason);
                true
            }
            None => false,
        }
    }

    fn close_waiting(&mut self, wait: u64, reason: CloseReason) {
        let Some(waiting) = self.waiting.remove(&wait) else { return };
        if let Some(entry) = self.entries.get_mut(&waiting.id) {
            entry.wait = None;
            entry.closing = Some(reason);
            entry.close.notify_one();
            self.closing += 1;
        }
    }
}

/// One connection's place in the table; held by its task and its requests.
#[derive(Debug, Clone)]
pub struct ConnectionHandle {
    connections: Arc<Connections>,
    id: u64,
}

impl ConnectionHandle {
    /// A request arrived: the connection is busy until the returned guard is dropped (with the
    /// response body, once sent).
    pub fn request_started(&self) -> InFlight {
        let mut table = self.connections.table();
        let table = &mut *table;
        if let Some(entry) = table.entries.get_mut(&self.id) {
            entry.in_flight += 1;
            entry.served = true;
            if let Some(wait) = entry.wait.take() {
                table.waiting.remove(&wait);
            }
        }
        InFlight(self.clone())
    }

    fn request_finished(&self) {
        let mut table = self.connections.table();
        let Some(entry) = table.entries.get_mut(&self.id) else { return };
        entry.in_flight = entry.in_flight.saturating_sub(1);
        if entry.in_flight == 0 && entry.closing.is_none() {
            table.start_waiting(self.id, Instant::now());
        }
    }

    /// The connection's task ended with `outcome`; counts the reason it closed (the server's own
    /// reason if it closed it) and forgets it.
    pub fn remove(self, outcome: CloseReason) {
        let mut table = self.connections.table();
        let Some(entry) = table.entries.remove(&self.id) else { return };
        if let Some(wait) = entry.wait {
            table.waiting.remove(&wait);
        }
        if entry.closing.is_some() {
            table.closing -= 1;
        }
        drop(table);
        self.connections.open.decrement(1.0);
        count_closed(entry.closing.unwrap_or(outcome));
    }
}

/// A request being served; the connection waits for its next request once every guard is gone.
#[derive(Debug)]
pub struct InFlight(ConnectionHandle);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_finished();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connections(max: usize, timeout: Duration) -> Arc<Connections> {
        let config = ConnectionConfig { request_header_timeout: timeout, max_connections: max };
        Arc::new(Connections::new(config, max))
    }

    fn closing(c: &Connections, handle: &ConnectionHandle) -> Option<CloseReason> {
        c.table().entries.get(&handle.id).and_then(|e| e.closing)
    }

    #[test]
    fn at_the_cap_the_longest_waiting_connection_makes_room() {
        let c = connections(3, Duration::from_secs(60));
        let a = c.admit().unwrap().handle;
        let b = c.admit().unwrap().handle;
        let d = c.admit().unwrap().handle;
        // `a` is busy; of the waiting ones, `b` has waited longest.
        let request = a.request_started();
        let e = c.admit().unwrap().handle;
        assert_eq!(closing(&c, &b), Some(CloseReason::Evicted));
        assert_eq!((closing(&c, &a), closing(&c, &d), closing(&c, &e)), (None, None, None));
        // `a` finished its response: it waits again, from now, behind `d` and `e`.
        drop(request);
        let _f = c.admit().unwrap();
        assert_eq!(closing(&c, &d), Some(CloseReason::Evicted));
        assert_eq!(closing(&c, &a), None);
        b.remove(CloseReason::Done);
        assert_eq!(c.open(), 4);
    }

    #[test]
    fn a_full_table_of_busy_connections_refuses() {
        let c = connections(2, Duration::from_secs(60));
        let a = c.admit().unwrap().handle;
        let b = c.admit().unwrap().handle;
        let _busy = (a.request_started(), b.request_started());
        assert!(c.admit().is_none());
        assert!(!c.evict_one());
        assert_eq!(c.open(), 2);
    }

    #[test]
    fn waits_longer_than_the_timeout_are_closed_and_busy_ones_are_not() {
        let c = connections(10, Duration::ZERO);
        let waiting = c.admit().unwrap();
        let busy = c.admit().unwrap().handle;
        let _request = busy.request_started();
        assert_eq!(c.close_expired(), 1);
        assert_eq!(closing(&c, &waiting.handle), Some(CloseReason::HeaderTimeout));
        assert_eq!(closing(&c, &busy), None);
        // Woken: the task's `notified()` completes at once.
        let woken = waiting.close.notified();
        futures::executor::block_on(woken);
    }

    #[test]
    fn shutdown_closes_only_connections_that_never_sent_a_request() {
        let c = connections(10, Duration::from_secs(60));
        let fresh = c.admit().unwrap().handle;
        let used = c.admit().unwrap().handle;
        drop(used.request_started());
        c.close_unserved();
        assert_eq!(closing(&c, &fresh), Some(CloseReason::Shutdown));
        assert_eq!(closing(&c, &used), None);
    }
}
