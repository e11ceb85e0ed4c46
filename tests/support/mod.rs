//! Test support shared by the integration tests: the storage conformance suite, a launcher for
//! a real etcd (or etcd cluster) on loopback, one for the real kube-ledger binary (HTTPS) with its
//! clients' credentials, an in-process server with an admission chain, a TCP proxy that loses answers on purpose, and an HTTPS admission
//! webhook server.
#![allow(dead_code)] // Each test crate uses its own part of the support code.

pub mod admission;
pub mod etcd;
pub mod events;
pub mod extension;
pub mod http;
pub mod prometheus;
pub mod proxy;
pub mod python;
pub mod router;
pub mod server;
pub mod suite;
pub mod suite_history;
pub mod suite_provenance;
pub mod tls;
pub mod webhook;
