//! The server's side of RBAC: what ties the pure building blocks of [`crate::authz`] to the
//! store and its views.
//!
//! - [`source`]: [`ViewRules`], the [`RuleSource`](crate::authz::RuleSource) the authorizer
//!   reads — the four RBAC resources' views, followed by one watch each into an in-memory index
//!   whose generation moves on every change (so the decision cache is dropped then, and only
//!   then).
//! - [`bootstrap`]: kube's bootstrap policy created on the first start and reconciled on every
//!   later one, written through the store as `system:apiserver`.
//! - [`escalation`]: the `escalate` / `bind` checks on RBAC writes, as a validating admission
//!   plugin ([`escalation::RbacEscalation`]).
//! - [`aggregation`]: the ClusterRole aggregation controller — on every ClusterRole change,
//!   the aggregated roles' `rules` are recomputed and written when they differ.
//!
//! ```text
//! store writes ─▶ log ─▶ views (roles, clusterroles, rolebindings, clusterrolebindings)
//!                          ├▶ ViewRules (watch → InMemoryRules, generation) ─▶ RBAC authorizer
//!                          └▶ aggregation (clusterroles watch) ─▶ store updates
//! ```

pub mod aggregation;
pub mod bootstrap;
pub mod escalation;
pub mod source;

pub use source::ViewRules;

use crate::registry::{Operation, Resource};
use crate::storage::Verb;

/// The API group of the four kinds.
pub const GROUP: &str = crate::authz::rule::GROUP;

/// The server's own RBAC write of `name` (bootstrap, reconciliation, aggregation), made as
/// `system:apiserver`.
pub fn apiserver(verb: Verb, resource: &Resource, name: &str) -> Operation {
    Operation::internal(crate::authz::user::APISERVER_USER, verb, resource).named(name)
}
