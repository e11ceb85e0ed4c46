//! Group and version priorities of the local APIServices: the numbers kube-apiserver gives its
//! built-in group/versions (`apiVersionPriorities` and `DefaultGenericAPIServicePriorities`),
//! which order groups in discovery (`groupPriorityMinimum`, highest first) and versions within
//! a group (`versionPriority`, highest first).

/// A local APIService's `(groupPriorityMinimum, versionPriority)`.
pub type Priority = (i64, i64);

/// kube's priority of a built-in group/version, as of 1.33.
const BUILT_IN: &[(&str, &str, Priority)] = &[
    ("", "v1", (18000, 1)),
    ("apiregistration.k8s.io", "v1", (18000, 15)),
    ("apps", "v1", (17800, 15)),
    ("events.k8s.io", "v1", (17750, 15)),
    ("authentication.k8s.io", "v1", (17700, 15)),
    ("authorization.k8s.io", "v1", (17600, 15)),
    ("autoscaling", "v1", (17500, 15)),
    ("autoscaling", "v2", (17500, 30)),
    ("batch", "v1", (17400, 15)),
    ("certificates.k8s.io", "v1", (17300, 15)),
    ("networking.k8s.io", "v1", (17200, 15)),
    ("policy", "v1", (17100, 15)),
    ("rbac.authorization.k8s.io", "v1", (17000, 15)),
    ("storage.k8s.io", "v1", (16800, 15)),
    ("apiextensions.k8s.io", "v1", (16700, 15)),
    ("admissionregistration.k8s.io", "v1", (16700, 15)),
    ("scheduling.k8s.io", "v1", (16600, 15)),
    ("coordination.k8s.io", "v1", (16500, 15)),
    ("node.k8s.io", "v1", (16300, 15)),
    ("discovery.k8s.io", "v1", (16200, 15)),
    ("flowcontrol.apiserver.k8s.io", "v1", (16100, 21)),
];

/// kube-ledger's own group: below every kube group (kube's rule for a new group is the lowest
/// existing priority minus 100).
const LEDGER: (&str, Priority) = ("ledger.kube-ledger.io", (15700, 9));

/// kube's crdRegistrationController: every CRD group/version gets group priority 1000 and
/// version priority 100 (kube orders CRD versions within a group by version name).
pub const CRD: Priority = (1000, 100);

/// The priority of a group/version built into this server, `None` for one that is not (a CRD's).
pub fn built_in(group: &str, version: &str) -> Option<Priority> {
    if group == LEDGER.0 {
        return Some(LEDGER.1);
    }
    BUILT_IN.iter().find(|(g, v, _)| *g == group && *v == version).map(|(_, _, p)| *p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_priorities_and_ours() {
        assert_eq!(built_in("", "v1"), Some((18000, 1)));
        assert_eq!(built_in("autoscaling", "v2"), Some((17500, 30)));
        assert_eq!(built_in("ledger.kube-ledger.io", "v1"), Some((15700, 9)));
        assert_eq!(built_in("example.com", "v1"), None);
    }
}
