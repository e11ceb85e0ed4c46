//! kube-ledger: a Kubernetes-compatible API server over a revisioned event log.
pub mod storage;
