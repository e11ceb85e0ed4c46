//! Object history and audit replay (issue 15): the log's retained events read back as the kinds
//! of `ledger.kube-ledger.io/v1` (docs/history.md has the API).
//!
//! Data flows up: storage events ([`crate::storage::Storage::history_page`], `replay`) → the
//! registry's conversion to the served version → [`record`] items → the endpoints under
//! `src/api`. Nothing here writes, except a restore, which goes through the registry's store
//! like any write.
//!
//! One object: [`diff`] (two revisions as RFC 6902 and a unified YAML diff), [`blame`] (who last
//! set each field) and [`restore`] (an old revision written back as a new write).
//!
//! Across objects: [`position`] (a time → the log's revision then), [`deleted`] (the deletes of a
//! time range), [`replay`] (every event of a range as JSON lines or audit events, these written
//! by `audit_line`), with [`scope`] saying what each key is and whether the caller may see it,
//! and [`time`] reading the query's times.

mod audit_line;
pub mod blame;
pub mod deleted;
pub mod diff;
pub mod position;
pub mod record;
pub mod replay;
pub mod restore;
pub mod scope;
pub mod time;

/// The API group of the history kinds.
pub const GROUP: &str = "ledger.kube-ledger.io";
/// Its only version.
pub const VERSION: &str = "v1";
/// `apiVersion` of the history kinds.
pub const API_VERSION: &str = "ledger.kube-ledger.io/v1";
