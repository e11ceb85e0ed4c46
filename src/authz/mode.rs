//! `--authorization-mode`: kube-apiserver's comma-separated, ordered list of authorizers, its
//! validation messages, and the chain it builds — the `system:masters` superuser authorizer
//! first, then each mode in order.
//!
//! kube-ledger implements `RBAC` (the default here, as in every kube distribution),
//! `AlwaysAllow` and `AlwaysDeny`. kube's other modes (`ABAC`, `Webhook`, `Node`) are named as
//! valid kube modes this server does not implement, rather than as unknown ones.

use std::sync::Arc;

use super::attributes::{AlwaysAllow, AlwaysDeny, Authorizer, PrivilegedGroups, Union};
use super::rbac::RbacAuthorizer;
use super::rule::go_quote_list;
use super::source::RuleSource;
use super::user::SYSTEM_PRIVILEGED_GROUP;
use crate::meta::validation::go_quote;

/// One authorization mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthorizationMode {
    AlwaysAllow,
    AlwaysDeny,
    Rbac,
}

impl AuthorizationMode {
    /// The flag's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorizationMode::AlwaysAllow => "AlwaysAllow",
            AuthorizationMode::AlwaysDeny => "AlwaysDeny",
            AuthorizationMode::Rbac => "RBAC",
        }
    }
}

/// Every mode kube-apiserver accepts (`authzmodes.AuthorizationModeChoices`).
const KUBE_MODES: &[&str] = &["AlwaysAllow", "AlwaysDeny", "ABAC", "Webhook", "RBAC", "Node"];

/// The parsed `--authorization-mode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationConfig {
    pub modes: Vec<AuthorizationMode>,
}

impl Default for AuthorizationConfig {
    /// `RBAC`.
    fn default() -> Self {
        AuthorizationConfig { modes: vec![AuthorizationMode::Rbac] }
    }
}

impl AuthorizationConfig {
    /// Parses the flag's value as pflag's string slice does (split on `,`, nothing trimmed) and
    /// validates it as kube-apiserver does; every problem is one message.
    pub fn parse(flag: &str) -> Result<AuthorizationConfig, Vec<String>> {
        let given: Vec<&str> = if flag.is_empty() { Vec::new() } else { flag.split(',').collect() };
        let mut errors = Vec::new();
        if given.is_empty() {
            errors.push("at least one authorization-mode must be passed".to_owned());
        }
        let mut modes = Vec::new();
        for name in &given {
            match *name {
                "AlwaysAllow" => modes.push(AuthorizationMode::AlwaysAllow),
                "AlwaysDeny" => modes.push(AuthorizationMode::AlwaysDeny),
                "RBAC" => modes.push(AuthorizationMode::Rbac),
                known if KUBE_MODES.contains(&known) => errors.push(format!(
                    "authorization-mode {} is not supported by kube-ledger (supported: \
                     AlwaysAllow, AlwaysDeny, RBAC)",
                    go_quote(known)
                )),
                unknown => errors
                    .push(format!("authorization-mode {} is not a valid mode", go_quote(unknown))),
            }
        }
        let mut distinct = given.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() != given.len() {
            let given: Vec<String> = given.iter().map(|s| (*s).to_owned()).collect();
            errors.push(format!(
                "authorization-mode {} has mode specified more than once",
                go_quote_list(&given)
            ));
        }
        if errors.is_empty() { Ok(AuthorizationConfig { modes }) } else { Err(errors) }
    }

    /// Whether RBAC is among the modes (and so its objects and bootstrap policy matter).
    pub fn uses_rbac(&self) -> bool {
        self.modes.contains(&AuthorizationMode::Rbac)
    }

    /// The chain: `system:masters` first, then each mode in order. RBAC reads `source`; the
    /// RBAC authorizer is returned too, for escalation checks and rules reviews.
    pub fn build(&self, source: Arc<dyn RuleSource>) -> Chain {
        let mut authorizers: Vec<Arc<dyn Authorizer>> =
            vec![Arc::new(PrivilegedGroups { groups: vec![SYSTEM_PRIVILEGED_GROUP.to_owned()] })];
        let mut rbac = None;
        for mode in &self.modes {
            authorizers.push(match mode {
                AuthorizationMode::AlwaysAllow => Arc::new(AlwaysAllow),
                AuthorizationMode::AlwaysDeny => Arc::new(AlwaysDeny),
                AuthorizationMode::Rbac => rbac
                    .get_or_insert_with(|| Arc::new(RbacAuthorizer::new(source.clone())))
                    .clone(),
            });
        }
        Chain { authorizer: Arc::new(Union { authorizers }), rbac }
    }
}

/// What [`AuthorizationConfig::build`] gives the server.
#[derive(Debug, Clone)]
pub struct Chain {
    /// Asked for every request.
    pub authorizer: Arc<dyn Authorizer>,
    /// The RBAC authorizer of the chain, if RBAC is a mode.
    pub rbac: Option<Arc<RbacAuthorizer>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::authz::attributes::{Attributes, Decision};
    use crate::authz::source::InMemoryRules;
    use crate::authz::user::UserInfo;

    #[test]
    fn modes_parse_as_kube_parses_them() {
        assert_eq!(AuthorizationConfig::default().modes, [AuthorizationMode::Rbac]);
        assert_eq!(
            AuthorizationConfig::parse("RBAC,AlwaysAllow").unwrap().modes,
            [AuthorizationMode::Rbac, AuthorizationMode::AlwaysAllow]
        );
        assert_eq!(
            AuthorizationConfig::parse("").unwrap_err(),
            ["at least one authorization-mode must be passed"]
        );
        assert_eq!(
            AuthorizationConfig::parse("RBAC, AlwaysAllow").unwrap_err(),
            ["authorization-mode \" AlwaysAllow\" is not a valid mode"]
        );
        assert_eq!(
            AuthorizationConfig::parse("rbac,RBAC,RBAC").unwrap_err(),
            [
                "authorization-mode \"rbac\" is not a valid mode",
                "authorization-mode [\"rbac\" \"RBAC\" \"RBAC\"] has mode specified more than once",
            ]
        );
        assert_eq!(
            AuthorizationConfig::parse("Node,RBAC").unwrap_err(),
            [
                "authorization-mode \"Node\" is not supported by kube-ledger (supported: AlwaysAllow, \
              AlwaysDeny, RBAC)"
            ]
        );
        assert!(AuthorizationConfig::parse("AlwaysAllow").unwrap().modes.len() == 1);
        assert!(!AuthorizationConfig::parse("AlwaysAllow").unwrap().uses_rbac());
    }

    #[test]
    fn the_chain_lets_system_masters_through_first() {
        let source = Arc::new(InMemoryRules::new());
        let chain = AuthorizationConfig::parse("RBAC").unwrap().build(source.clone());
        assert!(chain.rbac.is_some());
        let get = |user: UserInfo| {
            Attributes::resource(Arc::new(user), "get", "", "v1", "secrets").namespace("ns")
        };
        assert!(
            chain
                .authorizer
                .authorize(&get(UserInfo::new("root", &["system:masters"])))
                .is_allowed()
        );
        assert_eq!(
            chain.authorizer.authorize(&get(UserInfo::new("alice", &[]))),
            Decision::NoOpinion(String::new())
        );
        let open = AuthorizationConfig::parse("AlwaysAllow").unwrap().build(source.clone());
        assert!(open.rbac.is_none());
        assert!(open.authorizer.authorize(&get(UserInfo::anonymous())).is_allowed());
        let closed = AuthorizationConfig::parse("AlwaysDeny").unwrap().build(source);
        assert_eq!(
            closed.authorizer.authorize(&get(UserInfo::anonymous())),
            Decision::NoOpinion("Everything is forbidden.".into())
        );
    }
}
