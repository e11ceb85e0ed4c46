//! Who is asking, as authorization sees it: the one user type is authentication's
//! [`crate::authn::UserInfo`] (the effective user the filters put in the request's extensions);
//! this module adds what authorization needs of it — membership and a short constructor — and
//! the well-known names kube's policy refers to that authentication does not define.

pub use crate::authn::serviceaccount::{
    ALL_SERVICE_ACCOUNTS_GROUP as ALL_SERVICE_ACCOUNTS,
    USERNAME_PREFIX as SERVICE_ACCOUNT_USERNAME_PREFIX,
};
pub use crate::authn::{
    ALL_AUTHENTICATED, ALL_UNAUTHENTICATED, ANONYMOUS_USER as ANONYMOUS, UserInfo,
};

/// `system:masters`: the group every authorizer chain lets do anything, and that RBAC's
/// escalation checks let grant anything (kube's `user.SystemPrivilegedGroup`).
pub const SYSTEM_PRIVILEGED_GROUP: &str = "system:masters";
/// The user the server's own writes are made as (bootstrap policy, ClusterRole aggregation).
pub const APISERVER_USER: &str = "system:apiserver";
/// The group of users allowed to read `/metrics` by the bootstrap policy.
pub const MONITORING_GROUP: &str = "system:monitoring";

impl UserInfo {
    /// A user with a name and groups.
    pub fn new(name: impl Into<String>, groups: &[&str]) -> UserInfo {
        UserInfo {
            name: name.into(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            ..UserInfo::default()
        }
    }

    /// Whether the user is in `group`.
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}

/// Whether `username` is the service account `namespace/name`, without building the name
/// (kube's `serviceaccount.MatchesUsername`, on the authorizer's hot path).
pub fn matches_service_account(namespace: &str, name: &str, username: &str) -> bool {
    username
        .strip_prefix(SERVICE_ACCOUNT_USERNAME_PREFIX)
        .and_then(|rest| rest.strip_prefix(namespace))
        .and_then(|rest| rest.strip_prefix(':'))
        .is_some_and(|rest| rest == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_account_matching() {
        assert!(matches_service_account("ns", "sa", "system:serviceaccount:ns:sa"));
        assert!(!matches_service_account("ns", "sa", "system:serviceaccount:ns:sa2"));
        assert!(!matches_service_account("n", "s:sa", "system:serviceaccount:ns:sa"));
        assert!(!matches_service_account("ns", "sa", "system:serviceaccount:nsx:sa"));
    }

    #[test]
    fn anonymous_and_groups() {
        let anonymous = UserInfo::anonymous();
        assert_eq!(anonymous.name, ANONYMOUS);
        assert!(anonymous.in_group(ALL_UNAUTHENTICATED) && !anonymous.in_group(ALL_AUTHENTICATED));
        assert!(UserInfo::new("root", &[SYSTEM_PRIVILEGED_GROUP]).in_group("system:masters"));
    }
}
