//! The etcd baseline of the `writes` scenario: the same creates, updates and deletes sent
//! straight to etcd as the Txns an etcd-backed API server would send (create if absent, update
//! and delete if the key's mod_revision is the one last written), under a prefix private to the
//! run that is deleted at the end. Keys and values go down; revisions come back.

use std::time::Duration;

use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, DeleteOptions, KvClient, Txn, TxnOp,
};

use crate::error::{Error, Result};

/// A connected etcd and the run's key prefix; cheap to clone into tasks (one shared channel).
#[derive(Clone)]
pub struct Etcd {
    kv: KvClient,
    /// `/kube-ledger-loadtest/<run id>/`; every key of the run is under it.
    prefix: String,
}

impl std::fmt::Debug for Etcd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Etcd").field("prefix", &self.prefix).finish()
    }
}

impl Etcd {
    pub async fn connect(endpoints: &[String], run_id: &str) -> Result<Etcd> {
        let options = ConnectOptions::new()
            .with_connect_timeout(Duration::from_secs(5))
            .with_timeout(Duration::from_secs(30));
        let connect = Client::connect(endpoints, Some(options));
        let client = match tokio::time::timeout(Duration::from_secs(10), connect).await {
            Ok(Ok(client)) => client,
            Ok(Err(source)) => {
                return Err(Error::Etcd { what: format!("connect to {endpoints:?}"), source });
            }
            Err(_) => return Err(Error::Run(format!("etcd {endpoints:?} did not answer in 10 s"))),
        };
        let mut kv = client.kv_client();
        // A first read proves etcd answers (connect alone may succeed lazily).
        kv.get("/kube-ledger-loadtest/health", None)
            .await
            .map_err(|source| Error::Etcd { what: format!("read from {endpoints:?}"), source })?;
        Ok(Etcd { kv, prefix: format!("/kube-ledger-loadtest/{run_id}/") })
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Creates `name` if absent; returns the new revision.
    pub async fn create(&mut self, name: &str, value: Vec<u8>) -> Result<i64> {
        let key = self.key(name);
        let txn = Txn::new()
            .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key, value, None)]);
        self.txn(txn, "create", name).await
    }

    /// Replaces `name` if its mod_revision is `revision`; returns the new revision.
    pub async fn update(&mut self, name: &str, value: Vec<u8>, revision: i64) -> Result<i64> {
        let key = self.key(name);
        let txn = Txn::new()
            .when([Compare::mod_revision(key.clone(), CompareOp::Equal, revision)])
            .and_then([TxnOp::put(key, value, None)]);
        self.txn(txn, "update", name).await
    }

    /// Deletes `name` if its mod_revision is `revision`.
    pub async fn delete(&mut self, name: &str, revision: i64) -> Result<i64> {
        let key = self.key(name);
        let txn = Txn::new()
            .when([Compare::mod_revision(key.clone(), CompareOp::Equal, revision)])
            .and_then([TxnOp::delete(key, None)]);
        self.txn(txn, "delete", name).await
    }

    async fn txn(&mut self, txn: Txn, verb: &str, name: &str) -> Result<i64> {
        let response = self
            .kv
            .txn(txn)
            .await
            .map_err(|source| Error::Etcd { what: format!("{verb} {name}"), source })?;
        if !response.succeeded() {
            return Err(Error::Run(format!("etcd {verb} {name}: precondition failed")));
        }
        Ok(response.header().map(|h| h.revision()).unwrap_or_default())
    }

    /// Deletes every key of the run.
    pub async fn cleanup(&mut self) -> Result<()> {
        self.kv
            .delete(self.prefix.clone(), Some(DeleteOptions::new().with_prefix()))
            .await
            .map(drop)
            .map_err(|source| Error::Etcd { what: "delete the run's keys".to_owned(), source })
    }
}
