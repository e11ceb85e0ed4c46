//! The aggregation layer (kube-aggregator): `apiregistration.k8s.io/v1` APIServices say which
//! server answers each group/version.
//!
//! # Layout
//! - [`priority`]: kube's group and version priorities of the built-in group/versions, and the
//!   ones kube-ledger gives its own and CRD groups.
//! - [`autoregister`]: the *local* APIServices (`service: null`, `Available` with reason
//!   `Local`) for every group/version this server serves itself, built-in or from a CRD, kept
//!   in step with the registry (kube's autoregister and crdRegistration controllers).
//!
//! - [`authentication_info`]: the `kube-system/extension-apiserver-authentication` ConfigMap
//!   telling extension API servers which front-proxy CA and headers to trust.
//!
//! The APIService kind itself (strategy, validation, table) is a built-in resource in
//! `crate::registry::builtin::apiservices`.
//!
//! Data flow: the registry (what `--runtime-config` enabled plus the established CRDs) →
//! [`autoregister`] → APIService objects written through the store as `system:apiserver`
//! (admission and the ledger see them as any write) → `kubectl get apiservices`.
//!
//! Not built yet (issue 17, part 1): proxying remote APIServices' paths to extension servers
//! with front-proxy headers, the requestheader authenticator, the availability controller for
//! remote APIServices, and merging their discovery and OpenAPI documents.

pub mod authentication_info;
pub mod autoregister;
pub mod availability;
pub mod discovery;
pub mod priority;
pub mod proxy;
pub mod resolve;
