//! Authorization, as k8s.io/apiserver and kube's RBAC plugin do it. Nothing here touches HTTP or
//! storage: the authorization filter turns a request into [`Attributes`] and asks an
//! [`Authorizer`]; a refused request becomes a [`Forbidden`] status; the registry asks
//! [`escalation`] before writing an RBAC object. RBAC reads its objects through a
//! [`RuleSource`] that the server backs with its views (or feeds, as an [`InMemoryRules`]).
//!
//! ```text
//! request ─▶ Attributes ─▶ Union: system:masters ─▶ RBAC ─▶ … (mode.rs: --authorization-mode)
//!                                                 │
//!                     DecisionCache ◀─────────────┤ (cache.rs: per request shape, per generation)
//!                                                 ▼
//!                    RuleResolver: ClusterRoleBindings, then RoleBindings of the namespace
//!                                  ─▶ role ─▶ rules ─▶ PolicyRule::allows      (rbac.rs, rule.rs)
//!                                                 │
//!                                           RuleSource (source.rs)
//! ```
//!
//! - [`attributes`]: the contract — attributes, decisions, `AlwaysAllow`, `AlwaysDeny`, the
//!   `system:masters` authorizer, the union.
//! - [`rule`]: RBAC's objects and rule matching; [`rbac`]: the RBAC authorizer; [`cache`]: its
//!   decision cache; [`source`]: where it reads; [`forbidden`]: the 403's wording.
//! - [`escalation`]: `covers` and the `escalate` / `bind` checks on RBAC writes.
//! - [`bootstrap`], [`reconcile`], [`aggregate`]: the default policy created at start, its
//!   reconciliation with what is stored, and ClusterRole aggregation.
//! - [`user`]: what authorization adds to [`crate::authn::UserInfo`], and kube's well-known names.

pub mod aggregate;
pub mod attributes;
pub mod bootstrap;
pub mod cache;
pub mod escalation;
pub mod forbidden;
pub mod history_roles;
pub mod mode;
pub mod rbac;
pub mod reconcile;
pub mod rule;
pub mod source;
pub mod user;

#[cfg(test)]
mod tests;

pub use attributes::{
    AlwaysAllow, AlwaysDeny, Attributes, Authorizer, Decision, PrivilegedGroups, Union,
};
pub use forbidden::Forbidden;
pub use mode::{AuthorizationConfig, AuthorizationMode};
pub use rbac::{RbacAuthorizer, RuleResolver};
pub use rule::PolicyRule;
pub use source::{InMemoryRules, RuleSource};
pub use user::UserInfo;
