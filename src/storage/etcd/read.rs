//! Reads: single keys and list pages as etcd range requests, at the current revision or at a
//! requested one, plus the translation of etcd's revision errors into the contract's.

use etcd_client::{GetOptions, GetResponse};

use super::EtcdStorage;
use super::errors::{self, Kind, RevisionError};
use super::write::header_revision;
use crate::storage::{
    ListOptions, ListPage, Object, Result, Revision, StorageError, validate_key, validate_prefix,
};

impl EtcdStorage {
    pub(super) async fn get_object(
        &self,
        key: &str,
        revision: Option<Revision>,
    ) -> Result<Option<Object>> {
        validate_key(key)?;
        let at = read_revision(revision);
        let options = GetOptions::new().with_revision(at);
        let mut response = self.read("get", at, &self.layout.data_key(key), options).await?;
        response.take_kvs().into_iter().next().map(|kv| Ok(self.layout.object(kv)?.0)).transpose()
    }

    /// One page: the range `[start, end of prefix)` where `start` is the prefix or just after
    /// `start_after`. etcd's `count` covers that whole range at the read revision, so
    /// `remaining` is what follows the page without a second request.
    pub(super) async fn list_objects(
        &self,
        prefix: &str,
        options: ListOptions,
    ) -> Result<ListPage> {
        validate_prefix(prefix)?;
        let (mut start, end) = self.layout.data_range(prefix);
        if let Some(after) = &options.start_after {
            validate_key(after)?;
            let mut just_after = self.layout.data_key(after);
            just_after.push('\0');
            start = start.max(just_after);
        }
        let at = read_revision(options.revision);
        let mut get = GetOptions::new().with_range(end).with_revision(at);
        get = match options.limit {
            // etcd reads a limit of 0 as "no limit".
            Some(0) => get.with_count_only(),
            Some(limit) => get.with_limit(i64::try_from(limit).unwrap_or(i64::MAX)),
            None => get,
        };
        let mut response = self.read("list", at, &start, get).await?;
        let revision = match at {
            0 => header_revision(response.header())?,
            at => at,
        };
        let count = u64::try_from(response.count()).unwrap_or(0);
        let objects = response
            .take_kvs()
            .into_iter()
            .map(|kv| Ok(self.layout.object(kv)?.0))
            .collect::<Result<Vec<_>>>()?;
        Ok(ListPage { remaining: count.saturating_sub(objects.len() as u64), objects, revision })
    }

    /// The revision of the latest write: the header of the cheapest possible read.
    pub(super) async fn head_revision(&self) -> Result<Revision> {
        let options = GetOptions::new().with_count_only();
        let response =
            self.fetch("current revision", &self.layout.compacted_key(), options).await?;
        header_revision(response.header())
    }

    /// A range read at revision `at` (0: current), with etcd's revision errors mapped.
    pub(super) async fn read(
        &self,
        what: &str,
        at: Revision,
        key: &str,
        options: GetOptions,
    ) -> Result<GetResponse> {
        match self.range(what, key, options).await? {
            Ok(response) => Ok(response),
            Err(err) => Err(self.read_error(err, at).await),
        }
    }

    /// Maps an error of a read at `requested`, asking etcd for what the error leaves out.
    pub(super) async fn read_error(
        &self,
        err: etcd_client::Error,
        requested: Revision,
    ) -> StorageError {
        match errors::revision_error(&err) {
            Some(RevisionError::Compacted) => self.compacted_error(requested, requested).await,
            Some(RevisionError::Future) => match self.head_revision().await {
                Ok(current) => StorageError::FutureRevision { requested, current },
                Err(err) => err,
            },
            None => errors::map(err, Kind::Read),
        }
    }

    /// The error for a request at `requested` that etcd refused because `failed_at` is compacted.
    /// etcd does not say up to where; the recorded compaction usually does, and the compacted
    /// revision is past `failed_at` in any case.
    pub(super) async fn compacted_error(
        &self,
        requested: Revision,
        failed_at: Revision,
    ) -> StorageError {
        let recorded = self.recorded_compaction().await.unwrap_or_default();
        StorageError::Compacted { requested, compacted: recorded.max(failed_at + 1) }
    }
}

/// The etcd read revision of a requested one. Like etcd, revision 0 (or less) reads at the current
/// revision: nothing is stored at revision 0, and the API layer's resourceVersion "0" means
/// "any", which the current state satisfies.
fn read_revision(requested: Option<Revision>) -> Revision {
    requested.filter(|&r| r > 0).unwrap_or(0)
}
