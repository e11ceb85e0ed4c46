//! The open-file limit and the connection cap: every connection is a file descriptor, and
//! running out of them (EMFILE) stops the server from accepting anyone — health checks included —
//! and from opening anything else. At start the soft limit is raised to the hard limit (through the
//! `rlimit` crate: this workspace forbids unsafe code); the connection cap then stays below it,
//! keeping descriptors for everything that is not a client connection.

/// `--max-connections`' default: room for thousands of watch connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 16_000;

/// Descriptors kept for what is not a client connection: the listener, storage (SQLite's
/// database, WAL and reader connections, or the etcd client's channels), webhook clients, logs.
pub const RESERVED_DESCRIPTORS: u64 = 256;

/// Raises the soft open-file limit to the hard limit; returns the soft limit now in force, or
/// `None` (with a warning) if it cannot be read or raised.
pub fn raise_open_file_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(err) => {
            tracing::warn!(%err, "cannot raise the open-file limit");
            None
        }
    }
}

/// The soft open-file limit in force, if it can be read.
pub fn open_file_limit() -> Option<u64> {
    rlimit::getrlimit(rlimit::Resource::NOFILE).ok().map(|(soft, _hard)| soft)
}

/// The connection cap: `wanted`, lowered to the open-file limit minus [`RESERVED_DESCRIPTORS`]
/// (but at least 1) when the limit is known.
pub fn connection_cap(wanted: usize, open_file_limit: Option<u64>) -> usize {
    let Some(limit) = open_file_limit else { return wanted.max(1) };
    let room = usize::try_from(limit.saturating_sub(RESERVED_DESCRIPTORS)).unwrap_or(usize::MAX);
    wanted.min(room).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_stays_below_the_open_file_limit() {
        assert_eq!(connection_cap(16_000, Some(1_048_576)), 16_000);
        assert_eq!(connection_cap(16_000, Some(20_000)), 16_000);
        assert_eq!(connection_cap(16_000, Some(1024)), 768);
        assert_eq!(connection_cap(16_000, Some(100)), 1);
        assert_eq!(connection_cap(50, None), 50);
    }

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_limit() {
        let raised = raise_open_file_limit().expect("readable on Linux");
        let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
        assert_eq!((raised, soft), (hard, hard));
        assert_eq!(open_file_limit(), Some(soft));
    }
}
