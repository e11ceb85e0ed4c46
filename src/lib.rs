//! kube-ledger: a Kubernetes-compatible API server whose source of truth is an append-only log of
//! revisioned events.
//!
//! # Layout
//! Layered like k8s.io/apiserver; each layer only calls the one below it.
//! - [`api`]: the endpoints — path and query parsing, content negotiation (JSON, YAML, Table),
//!   discovery, watch streams, and `metav1.Status` errors.
//! - [`registry`]: which resources are served ([`registry::Registry`], open to runtime
//!   registration) and the one generic store with per-kind strategies.
//! - [`storage`]: the log contract ([`storage::Storage`]) and its backends — embedded SQLite
//!   (the default) and etcd — plus the compactor that keeps `--history-retention` of history,
//!   at most `--history-max-revisions` revisions of it.
//! - [`meta`] and [`patch`]: object-model building blocks without I/O — selectors, validation,
//!   JSON/merge/strategic-merge patches.
//! - [`filters`]: the filter chain before every handler, in kube-apiserver's order (panic
//!   recovery, request info, metrics, in-flight limits).
//! - [`server`] and [`options`]: the HTTP server, health endpoints, flags and start-up.
//! - [`leader`]: leader election among replicas over one etcd (a `coordination.k8s.io/v1`
//!   Lease, as kube-controller-manager): which replica runs the singleton controllers.
//! - [`metrics`]: Prometheus metrics under kube-apiserver's names, served at `/metrics`.
//! - [`authz`]: authorization without I/O — the authorizer contract, RBAC with its decision
//!   cache, escalation checks, kube's bootstrap policy, its reconciliation and aggregation.
//! - [`audit`]: the audit log (`audit.k8s.io/v1`) — policy, per-request events, and the
//!   buffered log-file and webhook backends.
//! - [`pki`] and [`authn`]: the secure default — generated certificates and the rustls server
//!   configuration, and who a request is (client certificates, static and ServiceAccount
//!   tokens, anonymous, impersonation headers).
//! - [`schema`]: one schema per built-in type (JSON names and types, descriptions, list/map/patch
//!   semantics, protobuf numbers), generated at build time from k8s-openapi and k8s-pb; OpenAPI,
//!   protobuf, strategic merge and field validation are derived from it.
//! - [`apply`]: server-side apply and `metadata.managedFields` — which manager owns which
//!   field, computed by the object's type schema; pure, called by the store on every write.
//! - [`apiextensions`]: CustomResourceDefinitions — the structural-schema engine that checks a
//!   CRD's schemas and prunes, defaults and validates custom resources against them.
//!
//! Data flows down on writes (HTTP → registry → storage, which appends an event and assigns the
//! next revision, the resourceVersion) and up on reads and watches (storage → registry → HTTP).

pub mod admission;
pub mod api;
pub mod apiextensions;
pub mod apply;
pub mod audit;
pub mod authn;
pub mod authz;
pub mod filters;
pub mod history;
pub mod leader;
pub mod meta;
pub mod metrics;
pub mod options;
pub mod patch;
pub mod pki;
pub mod registry;
pub mod schema;
pub mod server;
pub mod storage;
pub mod ui;
