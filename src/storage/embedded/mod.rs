//! STUB — being written by a helper. Embedded backend on SQLite.
use std::path::Path;

use super::Result;

/// The embedded backend.
#[derive(Debug, Clone)]
pub struct EmbeddedStorage {}

impl EmbeddedStorage {
    /// Opens (creating if needed) the database `kube-ledger.db` under `data_dir`.
    pub fn open(_data_dir: &Path) -> Result<EmbeddedStorage> {
        unimplemented!()
    }
}
