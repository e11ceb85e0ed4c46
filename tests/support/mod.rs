//! Test support shared by the integration tests: the storage conformance suite and a launcher
//! for a real etcd on loopback.
#![allow(dead_code)] // Each test crate uses its own part of the support code.

pub mod etcd;
pub mod suite;
