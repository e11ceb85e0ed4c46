//! kube's bootstrap RBAC policy (`plugin/pkg/auth/authorizer/rbac/bootstrappolicy`), as the
//! objects kube-apiserver creates at start and reconciles on every start after: the roles a
//! server without nodes or controllers needs, with kube's rules, labels and annotations.
//!
//! - `cluster-admin` (everything), bound to the group `system:masters`;
//! - the user-facing `admin`, `edit` and `view`, aggregated from ClusterRoles labelled
//!   `rbac.authorization.k8s.io/aggregate-to-<role>: "true"` — kube's
//!   `system:aggregate-to-{admin,edit,view}` among them, and `view` aggregates into `edit`,
//!   `edit` into `admin`;
//! - `system:discovery` and `system:basic-user` bound to `system:authenticated`;
//!   `system:public-info-viewer` (health and version) to `system:authenticated` and
//!   `system:unauthenticated` — what anonymous requests may reach;
//! - `kube-ledger:ledger-reader` (kube-ledger's: `deletedobjects`, `logpositions` and `replay` of
//!   `ledger.kube-ledger.io`, which show only what the user's `get` on `<resource>/history`
//!   allows) bound to `system:authenticated`;
//! - `system:monitoring` (health and `/metrics`) bound to the group `system:monitoring`,
//!   `system:service-account-issuer-discovery` (the OIDC documents) to
//!   `system:serviceaccounts`, and `system:auth-delegator` (TokenReview and
//!   SubjectAccessReview, for servers that delegate to this one; bound by whoever needs it);
//! - `system:persistent-volume-provisioner` (PersistentVolumes and the claims and classes they
//!   serve, for an external provisioner; bound by whoever runs one, as in kube);
//! - around CertificateSigningRequests: `system:node-bootstrapper`, the
//!   `system:certificates.k8s.io:*-approver` roles (`approve` on one signer, bound by whoever
//!   approves), and `system:controller:certificate-controller` bound to the service account the
//!   in-process signer acts as (`sign` on the `kubernetes.io` signers);
//! - kube-ledger's own `kube-ledger:timeline-viewer` (the history timeline page under
//!   `/ledger/ui`), bound to `system:authenticated`, and the roles that aggregate reading and
//!   restoring object history into `view`, `edit` and `admin` ([`super::history_roles`]).

use serde_json::{Value, json};

use super::rule::{GROUP, PolicyRule, Subject};
use super::user::{
    ALL_AUTHENTICATED, ALL_SERVICE_ACCOUNTS, ALL_UNAUTHENTICATED, SYSTEM_PRIVILEGED_GROUP,
};

/// The label on every bootstrap object: `kubernetes.io/bootstrapping: rbac-defaults`.
pub const BOOTSTRAPPING_LABEL: (&str, &str) = ("kubernetes.io/bootstrapping", "rbac-defaults");
/// Set to `"false"` on an object to keep reconciliation from changing it.
pub const AUTOUPDATE_ANNOTATION: &str = "rbac.authorization.kubernetes.io/autoupdate";
/// The label prefix of the aggregated roles: `rbac.authorization.k8s.io/aggregate-to-`.
pub const AGGREGATE_TO: &str = "rbac.authorization.k8s.io/aggregate-to-";

/// The ClusterRole (and binding to `system:authenticated`) that lets users load the timeline page.
pub const TIMELINE_VIEWER: &str = "kube-ledger:timeline-viewer";

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];
const READ_WRITE: &[&str] =
    &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
    PolicyRule::resource(verbs, groups, resources)
}

/// A bootstrap ClusterRole: its rules, extra labels, and the label its aggregation selects.
pub(super) fn cluster_role(
    name: &str,
    rules: &[PolicyRule],
    aggregate_to: Option<&str>,
    aggregates: Option<&str>,
) -> Value {
    let mut labels = json!({BOOTSTRAPPING_LABEL.0: BOOTSTRAPPING_LABEL.1});
    if let Some(target) = aggregate_to {
        labels[format!("{AGGREGATE_TO}{target}")] = json!("true");
    }
    let rules: Vec<Value> = rules.iter().map(PolicyRule::to_json).collect();
    let mut role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {AUTOUPDATE_ANNOTATION: "true"},
        },
        "rules": if rules.is_empty() { Value::Null } else { rules.into() },
    });
    if let Some(source) = aggregates {
        role["aggregationRule"] = json!({"clusterRoleSelectors": [
            {"matchLabels": {format!("{AGGREGATE_TO}{source}"): "true"}}]});
    }
    role
}

/// The bootstrap ClusterRoles.
/// kube-ledger's role for the resources of `ledger.kube-ledger.io` that read across objects,
/// bound to every authenticated user: what each answer shows is limited by the user's `get` on
/// each resource's `history` subresource, which the endpoints ask themselves.
pub const LEDGER_READER: &str = "kube-ledger:ledger-reader";

pub fn cluster_roles() -> Vec<Value> {
    vec![
        cluster_role("admin", &[], None, Some("admin")),
        cluster_role(
            "cluster-admin",
            &[rule(&["*"], &["*"], &["*"]), PolicyRule::urls(&["*"], &["*"])],
            None,
            None,
        ),
        cluster_role("edit", &[], Some("admin"), Some("edit")),
        cluster_role("system:aggregate-to-admin", &aggregate_to_admin(), Some("admin"), None),
        cluster_role("system:aggregate-to-edit", &aggregate_to_edit(), Some("edit"), None),
        cluster_role("system:aggregate-to-view", &aggregate_to_view(), Some("view"), None),
        cluster_role(
            "system:auth-delegator",
            &[
                rule(&["create"], &["authentication.k8s.io"], &["tokenreviews"]),
                rule(&["create"], &["authorization.k8s.io"], &["subjectaccessreviews"]),
            ],
            None,
            None,
        ),
        cluster_role(
            "system:basic-user",
            &[
                rule(
                    &["create"],
                    &["authorization.k8s.io"],
                    &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                ),
                rule(&["create"], &["authentication.k8s.io"], &["selfsubjectreviews"]),
            ],
            None,
            None,
        ),
        cluster_role(
            "system:discovery",
            &[PolicyRule::urls(
                &["get"],
                &[
                    "/api",
                    "/api/*",
                    "/apis",
                    "/apis/*",
                    "/healthz",
                    "/livez",
                    "/openapi",
                    "/openapi/*",
                    "/readyz",
                    "/version",
                    "/version/",
                ],
            )],
            None,
            None,
        ),
        cluster_role(
            "system:monitoring",
            &[PolicyRule::urls(
                &["get"],
                &[
                    "/healthz",
                    "/healthz/*",
                    "/livez",
                    "/livez/*",
                    "/metrics",
                    "/metrics/slis",
                    "/readyz",
                    "/readyz/*",
                ],
            )],
            None,
            None,
        ),
        cluster_role(
            "system:persistent-volume-provisioner",
            &[
                rule(&["create", "delete", "get", "list", "watch"], &[""], &["persistentvolumes"]),
                rule(&["get", "list", "update", "watch"], &[""], &["persistentvolumeclaims"]),
                rule(READ, &["storage.k8s.io"], &["storageclasses"]),
                rule(&["watch"], &[""], &["events"]),
                rule(&["create", "patch", "update"], &["", "events.k8s.io"], &["events"]),
            ],
            None,
            None,
        ),
        cluster_role(
            LEDGER_READER,
            &[rule(
                &["get", "list"],
                &[crate::history::GROUP],
                &["deletedobjects", "logpositions", "replay"],
            )],
            None,
            None,
        ),
        cluster_role(
            "system:public-info-viewer",
            &[PolicyRule::urls(
                &["get"],
                &["/healthz", "/livez", "/readyz", "/version", "/version/"],
            )],
            None,
            None,
        ),
        cluster_role(
            "system:service-account-issuer-discovery",
            &[PolicyRule::urls(
                &["get"],
                &["/.well-known/openid-configuration", "/openid/v1/jwks"],
            )],
            None,
            None,
        ),
        cluster_role("view", &[], Some("edit"), Some("view")),
        // kube-ledger's own: the history timeline page (src/ui). The page reads the API with the
        // viewer's credentials, so loading it shows nothing the viewer may not read.
        cluster_role(
            TIMELINE_VIEWER,
            &[PolicyRule::urls(&["get"], &[crate::ui::PATH, &format!("{}/*", crate::ui::PATH)])],
            None,
            None,
        ),
    ]
    .into_iter()
    .chain(certificate_roles())
    .chain(super::history_roles::cluster_roles())
    .collect()
}

/// kube's roles around CertificateSigningRequests: those an administrator binds (who may
/// request, who may approve for which signer) and the certificate controller's own, which the
/// in-process signer acts as.
fn certificate_roles() -> Vec<Value> {
    const CERTIFICATES: &str = "certificates.k8s.io";
    let csrs = |verbs: &[&str], resource: &str| rule(verbs, &[CERTIFICATES], &[resource]);
    let signers = |verb: &str, names: &[&str]| {
        PolicyRule::resource(&[verb], &[CERTIFICATES], &["signers"]).names(names)
    };
    let approver = |signer: &str| {
        let name = format!(
            "system:certificates.k8s.io:{}-approver",
            signer.trim_start_matches("kubernetes.io/")
        );
        cluster_role(&name, &[signers("approve", &[signer])], None, None)
    };
    vec![
        cluster_role(
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
            &[csrs(&["create"], "certificatesigningrequests/nodeclient")],
            None,
            None,
        ),
        cluster_role(
            "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
            &[csrs(&["create"], "certificatesigningrequests/selfnodeclient")],
            None,
            None,
        ),
        approver("kubernetes.io/kube-apiserver-client"),
        approver("kubernetes.io/kube-apiserver-client-kubelet"),
        approver("kubernetes.io/kubelet-serving"),
        approver("kubernetes.io/legacy-unknown"),
        cluster_role(
            "system:controller:certificate-controller",
            &[
                csrs(&["delete", "get", "list", "watch"], "certificatesigningrequests"),
                rule(
                    &["update"],
                    &[CERTIFICATES],
                    &["certificatesigningrequests/approval", "certificatesigningrequests/status"],
                ),
                signers("approve", &["kubernetes.io/kube-apiserver-client-kubelet"]),
                signers(
                    "sign",
                    &[
                        "kubernetes.io/kube-apiserver-client",
                        "kubernetes.io/kube-apiserver-client-kubelet",
                        "kubernetes.io/kubelet-serving",
                        "kubernetes.io/legacy-unknown",
                    ],
                ),
                rule(&["create"], &["authorization.k8s.io"], &["subjectaccessreviews"]),
                rule(&["create", "patch", "update"], &["", "events.k8s.io"], &["events"]),
            ],
            None,
            None,
        ),
        cluster_role(
            "system:node-bootstrapper",
            &[csrs(&["create", "get", "list", "watch"], "certificatesigningrequests")],
            None,
            None,
        ),
    ]
}

pub(super) fn aggregate_to_admin() -> Vec<PolicyRule> {
    vec![
        rule(&["create"], &["authorization.k8s.io"], &["localsubjectaccessreviews"]),
        rule(READ_WRITE, &[GROUP], &["rolebindings", "roles"]),
    ]
}

pub(super) fn aggregate_to_edit() -> Vec<PolicyRule> {
    vec![
        rule(
            READ,
            &[""],
            &[
                "pods/attach",
                "pods/exec",
                "pods/portforward",
                "pods/proxy",
                "secrets",
                "services/proxy",
            ],
        ),
        rule(&["impersonate"], &[""], &["serviceaccounts"]),
        rule(WRITE, &[""], &["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"]),
        rule(&["create"], &[""], &["pods/eviction"]),
        rule(
            WRITE,
            &[""],
            &[
                "configmaps",
                "events",
                "persistentvolumeclaims",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "secrets",
                "serviceaccounts",
                "services",
                "services/proxy",
            ],
        ),
        rule(&["create"], &[""], &["serviceaccounts/token"]),
        rule(
            WRITE,
            &["apps"],
            &[
                "daemonsets",
                "deployments",
                "deployments/rollback",
                "deployments/scale",
                "replicasets",
                "replicasets/scale",
                "statefulsets",
                "statefulsets/scale",
            ],
        ),
        rule(WRITE, &["autoscaling"], &["horizontalpodautoscalers"]),
        rule(WRITE, &["batch"], &["cronjobs", "jobs"]),
        rule(
            WRITE,
            &["extensions"],
            &[
                "daemonsets",
                "deployments",
                "deployments/rollback",
                "deployments/scale",
                "ingresses",
                "networkpolicies",
                "replicasets",
                "replicasets/scale",
                "replicationcontrollers/scale",
            ],
        ),
        rule(WRITE, &["policy"], &["poddisruptionbudgets"]),
        rule(WRITE, &["networking.k8s.io"], &["ingresses", "networkpolicies"]),
        rule(READ_WRITE, &["coordination.k8s.io"], &["leases"]),
    ]
}

pub(super) fn aggregate_to_view() -> Vec<PolicyRule> {
    vec![
        rule(
            READ,
            &[""],
            &[
                "configmaps",
                "endpoints",
                "persistentvolumeclaims",
                "persistentvolumeclaims/status",
                "pods",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/status",
            ],
        ),
        rule(
            READ,
            &[""],
            &[
                "bindings",
                "events",
                "limitranges",
                "namespaces/status",
                "pods/log",
                "pods/status",
                "replicationcontrollers/status",
                "resourcequotas",
                "resourcequotas/status",
            ],
        ),
        rule(READ, &[""], &["namespaces"]),
        rule(READ, &["discovery.k8s.io"], &["endpointslices"]),
        rule(
            READ,
            &["apps"],
            &[
                "controllerrevisions",
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
                "statefulsets",
                "statefulsets/scale",
                "statefulsets/status",
            ],
        ),
        rule(
            READ,
            &["autoscaling"],
            &["horizontalpodautoscalers", "horizontalpodautoscalers/status"],
        ),
        rule(READ, &["batch"], &["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
        rule(
            READ,
            &["extensions"],
            &[
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "ingresses",
                "ingresses/status",
                "networkpolicies",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
                "replicationcontrollers/scale",
            ],
        ),
        rule(READ, &["policy"], &["poddisruptionbudgets", "poddisruptionbudgets/status"]),
        rule(READ, &["networking.k8s.io"], &["ingresses", "ingresses/status", "networkpolicies"]),
    ]
}

/// A bootstrap ClusterRoleBinding of the ClusterRole `role` (named alike) to groups.
fn cluster_role_binding(role: &str, groups: &[&str]) -> Value {
    let subjects: Vec<Value> = groups
        .iter()
        .map(|g| {
            Subject {
                kind: "Group".into(),
                api_group: GROUP.into(),
                name: (*g).into(),
                namespace: String::new(),
            }
            .to_json()
        })
        .collect();
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {
            "name": role,
            "labels": {BOOTSTRAPPING_LABEL.0: BOOTSTRAPPING_LABEL.1},
            "annotations": {AUTOUPDATE_ANNOTATION: "true"},
        },
        "roleRef": {"apiGroup": GROUP, "kind": "ClusterRole", "name": role},
        "subjects": subjects,
    })
}

/// The bootstrap ClusterRoleBindings.
pub fn cluster_role_bindings() -> Vec<Value> {
    vec![
        cluster_role_binding("cluster-admin", &[SYSTEM_PRIVILEGED_GROUP]),
        cluster_role_binding("system:basic-user", &[ALL_AUTHENTICATED]),
        cluster_role_binding("system:discovery", &[ALL_AUTHENTICATED]),
        cluster_role_binding(LEDGER_READER, &[ALL_AUTHENTICATED]),
        cluster_role_binding(TIMELINE_VIEWER, &[ALL_AUTHENTICATED]),
        cluster_role_binding("system:monitoring", &["system:monitoring"]),
        cluster_role_binding(
            "system:public-info-viewer",
            &[ALL_AUTHENTICATED, ALL_UNAUTHENTICATED],
        ),
        cluster_role_binding("system:service-account-issuer-discovery", &[ALL_SERVICE_ACCOUNTS]),
        controller_binding("certificate-controller"),
    ]
}

/// kube's binding of the controller role `system:controller:<name>` to the service account
/// `kube-system/<name>` the controller runs as.
fn controller_binding(name: &str) -> Value {
    let role = format!("system:controller:{name}");
    let mut binding = cluster_role_binding(&role, &[]);
    binding["subjects"] =
        json!([{"kind": "ServiceAccount", "name": name, "namespace": "kube-system"}]);
    binding
}
