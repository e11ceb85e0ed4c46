//! STUB — being written by a helper. etcd backend.
use std::time::Duration;

use super::Result;

/// How to reach etcd.
#[derive(Debug, Clone)]
pub struct EtcdConfig {
    /// `http://host:port` endpoints (kube-apiserver's `--etcd-servers`).
    pub endpoints: Vec<String>,
    /// Prefix of every key (kube-apiserver's `--etcd-prefix`, default `/registry`).
    pub prefix: String,
    /// Deadline of one request; past it an operation fails with `Unavailable`.
    pub request_timeout: Duration,
}

/// The etcd backend.
#[derive(Debug, Clone)]
pub struct EtcdStorage {}

impl EtcdStorage {
    pub async fn connect(_config: EtcdConfig) -> Result<EtcdStorage> {
        unimplemented!()
    }
}
