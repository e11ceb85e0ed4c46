//! Test support shared by the integration tests: the storage conformance suite, a launcher for
//! a real etcd on loopback, and one for the real kube-ledger binary.
#![allow(dead_code)] // Each test crate uses its own part of the support code.

pub mod etcd;
pub mod events;
pub mod http;
pub mod prometheus;
pub mod router;
pub mod server;
pub mod suite;
