//! Writes: each contract write is exactly one etcd transaction, so it gets exactly one revision
//! (the transaction's) and its precondition is checked atomically by etcd.
//!
//! - create: `If(create_revision(key) == 0) Then(Put key) Else(Get key)` — the same transaction
//!   a raw etcd client sends; a tombstone left by an earlier delete of the key stays until
//!   compaction removes it, and is harmless meanwhile: a tombstone is only believed for the
//!   delete whose revision it carries.
//! - update: `If(mod_revision(key) == expected, key exists) Then(Put key with prev_kv) Else(Get key)`
//! - delete: `If(mod_revision(key) == expected, key exists) Then(Delete key with prev_kv,
//!   Put tombstone) Else(Get key)`
//!
//! The `Else(Get)` hands back the current object of a failed precondition in the same round trip.
//! "Key exists" matters only for an expected revision of 0 or less, since a missing key has
//! `mod_revision` 0: without it an update expecting 0 would create the key. Every stored object
//! has a positive `mod_revision`, so the compare is sent only then: etcd reads the key once per
//! compare, and a second one per update and delete was a third of their reads.

use bytes::Bytes;
use etcd_client::{
    Compare, CompareOp, DeleteOptions, KeyValue, PutOptions, ResponseHeader, Txn, TxnOp,
    TxnOpResponse, TxnResponse,
};

use super::errors::Kind;
use super::{EtcdStorage, envelope};
use crate::storage::{
    Deleted, Object, Provenance, Result, Revision, StorageError, validate_key, validate_value,
};

impl EtcdStorage {
    pub(super) async fn create_object(
        &self,
        key: &str,
        value: Bytes,
        who: Provenance,
    ) -> Result<Object> {
        validate_key(key)?;
        validate_value(&value)?;
        let etcd_key = self.layout.data_key(key);
        let stored = envelope::encode(&who, &value)?;
        let txn = Txn::new()
            .when([Compare::create_revision(etcd_key.as_str(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(etcd_key.as_str(), stored, None)])
            .or_else([TxnOp::get(etcd_key.as_str(), None)]);
        let response = self.txn("create", Kind::Write, txn).await?;
        if !response.succeeded() {
            return match self.else_object(&response)? {
                Some(current) => Err(StorageError::AlreadyExists {
                    key: key.to_owned(),
                    current: Box::new(current),
                }),
                None => Err(StorageError::Internal(format!(
                    "create of {key:?} failed its precondition but the key does not exist"
                ))),
            };
        }
        let revision = committed(&response)?;
        Ok(Object { key: key.to_owned(), value, create_revision: revision, mod_revision: revision })
    }

    pub(super) async fn update_object(
        &self,
        key: &str,
        expected: Revision,
        value: Bytes,
        who: Provenance,
    ) -> Result<Object> {
        validate_key(key)?;
        validate_value(&value)?;
        let etcd_key = self.layout.data_key(key);
        let stored = envelope::encode(&who, &value)?;
        let txn = Txn::new()
            .when(precondition(&etcd_key, expected))
            .and_then([TxnOp::put(
                etcd_key.as_str(),
                stored,
                Some(PutOptions::new().with_prev_key()),
            )])
            .or_else([TxnOp::get(etcd_key.as_str(), None)]);
        let response = self.txn("update", Kind::Write, txn).await?;
        if !response.succeeded() {
            return Err(self.precondition_failed(key, expected, &response)?);
        }
        let revision = committed(&response)?;
        let previous = response.op_responses().into_iter().find_map(|op| match op {
            TxnOpResponse::Put(put) => put.prev_key().map(KeyValue::create_revision),
            _ => None,
        });
        // Unreachable: the precondition proved the key existed, and prev_kv was asked for.
        let create_revision = previous.ok_or_else(|| {
            StorageError::Internal(format!("update of {key:?} at {revision} lost prev_kv"))
        })?;
        Ok(Object { key: key.to_owned(), value, create_revision, mod_revision: revision })
    }

    pub(super) async fn delete_object(
        &self,
        key: &str,
        expected: Revision,
        who: Provenance,
    ) -> Result<Deleted> {
        validate_key(key)?;
        let etcd_key = self.layout.data_key(key);
        let tombstone = envelope::encode(&who, b"")?;
        let txn = Txn::new()
            .when(precondition(&etcd_key, expected))
            .and_then([
                TxnOp::delete(etcd_key.as_str(), Some(DeleteOptions::new().with_prev_key())),
                TxnOp::put(self.layout.tombstone_key(key), tombstone, None),
            ])
            .or_else([TxnOp::get(etcd_key.as_str(), None)]);
        let response = self.txn("delete", Kind::Write, txn).await?;
        if !response.succeeded() {
            return Err(self.precondition_failed(key, expected, &response)?);
        }
        let revision = committed(&response)?;
        let previous = response.op_responses().into_iter().find_map(|op| match op {
            TxnOpResponse::Delete(mut delete) => delete.take_prev_kvs().into_iter().next(),
            _ => None,
        });
        let previous = previous.ok_or_else(|| {
            StorageError::Internal(format!("delete of {key:?} at {revision} lost prev_kv"))
        })?;
        let (object, _) = self.layout.object(previous)?;
        Ok(Deleted { revision, object })
    }

    /// The error of an update or delete whose precondition failed.
    fn precondition_failed(
        &self,
        key: &str,
        expected: Revision,
        response: &TxnResponse,
    ) -> Result<StorageError> {
        Ok(match self.else_object(response)? {
            Some(current) => {
                StorageError::Conflict { key: key.to_owned(), expected, current: Box::new(current) }
            }
            None => StorageError::NotFound { key: key.to_owned() },
        })
    }

    /// The object read by the `Else(Get key)` branch of a failed transaction.
    fn else_object(&self, response: &TxnResponse) -> Result<Option<Object>> {
        for op in response.op_responses() {
            if let TxnOpResponse::Get(mut get) = op {
                return match get.take_kvs().into_iter().next() {
                    Some(kv) => Ok(Some(self.layout.object(kv)?.0)),
                    None => Ok(None),
                };
            }
        }
        Err(StorageError::Internal(
            "etcd answered a failed transaction without its read".to_owned(),
        ))
    }
}

/// `key` exists and was last modified at `expected`. A positive `expected` proves the key exists
/// (a missing key's `mod_revision` is 0); only a non-positive one needs the second compare.
fn precondition(etcd_key: &str, expected: Revision) -> Vec<Compare> {
    let mut compares = vec![Compare::mod_revision(etcd_key, CompareOp::Equal, expected)];
    if expected <= 0 {
        compares.push(Compare::create_revision(etcd_key, CompareOp::NotEqual, 0));
    }
    compares
}

/// The revision an etcd answer was made at: the revision of a write, the read revision of a read.
/// The revision of a successful write Txn; each Txn commits one write (the metric's batch of 1,
/// for dashboards that compare with the embedded store's group commit).
fn committed(response: &etcd_client::TxnResponse) -> Result<Revision> {
    metrics::histogram!("ledger_append_batch_size", "backend" => "etcd").record(1.0);
    header_revision(response.header())
}

pub(super) fn header_revision(header: Option<&ResponseHeader>) -> Result<Revision> {
    header
        .map(ResponseHeader::revision)
        .ok_or_else(|| StorageError::Internal("etcd answered without a header".to_owned()))
}
