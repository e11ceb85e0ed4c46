//! The policy checker against a table of requests, and the file checks against bad files.

use super::*;
use crate::audit::types::Stage;

/// Modelled on the example policy of kube's auditing documentation, plus rules for each
/// matching form.
const POLICY: &str = r#"
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  # Users and groups.
  - level: None
    users: ["system:kube-proxy"]
    verbs: ["watch"]
    resources:
      - group: ""
        resources: ["endpoints", "services"]
  - level: None
    userGroups: ["system:nodes"]
    verbs: ["get"]
    resources:
      - group: ""
        resources: ["nodes"]
  # Non-resource URLs, exact and by prefix.
  - level: None
    nonResourceURLs: ["/healthz*", "/version"]
  - level: Request
    nonResourceURLs: ["/apis/*"]
  # Subresource forms.
  - level: RequestResponse
    resources:
      - group: ""
        resources: ["pods/log"]
  - level: Request
    resources:
      - group: ""
        resources: ["*/status"]
  - level: Metadata
    resources:
      - group: "apps"
        resources: ["deployments/*"]
  # Names and namespaces.
  - level: RequestResponse
    resources:
      - group: ""
        resources: ["configmaps"]
        resourceNames: ["controller-leader"]
    omitStages: ["ResponseStarted"]
    omitManagedFields: true
  - level: None
    namespaces: ["kube-system"]
  # A whole group.
  - level: Request
    resources:
      - group: "rbac.authorization.k8s.io"
  # Secrets only at Metadata.
  - level: Metadata
    resources:
      - group: ""
        resources: ["secrets", "configmaps"]
  # Everything else.
  - level: Metadata
    verbs: ["get", "list", "watch"]
    omitStages: ["Panic"]
  - level: RequestResponse
"#;

fn policy() -> Policy {
    Policy::from_bytes(POLICY.as_bytes()).unwrap()
}

fn resource<'a>(verb: &'a str, group: &'a str, resource: &'a str) -> Attributes<'a> {
    Attributes {
        user: Some(User { name: "alice", groups: &[] }),
        verb,
        resource_request: true,
        path: "/api/v1/whatever",
        api_group: group,
        resource,
        namespace: "default",
        ..Attributes::default()
    }
}

fn non_resource<'a>(verb: &'a str, path: &'a str) -> Attributes<'a> {
    Attributes {
        user: Some(User { name: "alice", groups: &[] }),
        verb,
        path,
        ..Attributes::default()
    }
}

#[test]
fn the_first_matching_rule_decides_the_level() {
    let nodes = ["system:nodes".to_owned(), "system:authenticated".to_owned()];
    let proxy = User { name: "system:kube-proxy", groups: &[] };
    let node = User { name: "system:node:n1", groups: &nodes };
    let cases: Vec<(&str, Attributes<'_>, Level)> = vec![
        // users
        (
            "proxy watches services",
            Attributes { user: Some(proxy), ..resource("watch", "", "services") },
            Level::None,
        ),
        (
            "proxy lists services",
            Attributes { user: Some(proxy), ..resource("list", "", "services") },
            Level::Metadata,
        ),
        ("someone else watches services", resource("watch", "", "services"), Level::Metadata),
        // groups
        (
            "a node gets a node",
            Attributes { user: Some(node), namespace: "", ..resource("get", "", "nodes") },
            Level::None,
        ),
        (
            "a user gets a node",
            Attributes { namespace: "", ..resource("get", "", "nodes") },
            Level::Metadata,
        ),
        (
            "no user gets a node",
            Attributes { user: None, namespace: "", ..resource("get", "", "nodes") },
            Level::Metadata,
        ),
        // non-resource URLs
        ("/healthz", non_resource("get", "/healthz"), Level::None),
        ("/healthz/etcd by prefix", non_resource("get", "/healthz/etcd"), Level::None),
        ("/healthzfoo by prefix too", non_resource("get", "/healthzfoo"), Level::None),
        ("/version exactly", non_resource("get", "/version"), Level::None),
        ("/version/ is not /version", non_resource("post", "/version/"), Level::RequestResponse),
        ("/apis/apps discovery", non_resource("get", "/apis/apps"), Level::Request),
        ("/apis itself is not /apis/*", non_resource("post", "/apis"), Level::RequestResponse),
        (
            "a resource request never matches nonResourceURLs",
            Attributes { path: "/healthz", ..resource("create", "", "pods") },
            Level::RequestResponse,
        ),
        // subresources
        (
            "pods/log",
            Attributes { subresource: "log", ..resource("get", "", "pods") },
            Level::RequestResponse,
        ),
        (
            "pods/exec is not pods/log",
            Attributes { subresource: "exec", ..resource("create", "", "pods") },
            Level::RequestResponse,
        ),
        (
            "*/status on pods",
            Attributes { subresource: "status", ..resource("update", "", "pods") },
            Level::Request,
        ),
        (
            "*/status on services",
            Attributes { subresource: "status", ..resource("patch", "", "services") },
            Level::Request,
        ),
        ("*/status needs a subresource", resource("update", "", "status"), Level::RequestResponse),
        (
            "deployments/* covers deployments",
            resource("create", "apps", "deployments"),
            Level::Metadata,
        ),
        (
            "deployments/* covers scale",
            Attributes { subresource: "scale", ..resource("update", "apps", "deployments") },
            Level::Metadata,
        ),
        (
            "deployments/* is in group apps only",
            resource("create", "extensions", "deployments"),
            Level::RequestResponse,
        ),
        // names and namespaces
        (
            "the named configmap",
            Attributes { name: "controller-leader", ..resource("update", "", "configmaps") },
            Level::RequestResponse,
        ),
        (
            "another configmap",
            Attributes { name: "other", ..resource("update", "", "configmaps") },
            Level::Metadata,
        ),
        ("a list of configmaps has no name", resource("list", "", "configmaps"), Level::Metadata),
        (
            "anything in kube-system",
            Attributes { namespace: "kube-system", ..resource("create", "", "pods") },
            Level::None,
        ),
        (
            "cluster-scoped is namespace \"\"",
            Attributes { namespace: "", ..resource("create", "", "namespaces") },
            Level::RequestResponse,
        ),
        // whole group
        ("rbac roles", resource("create", "rbac.authorization.k8s.io", "roles"), Level::Request),
        (
            "rbac bindings, any subresource",
            Attributes {
                subresource: "x",
                ..resource("create", "rbac.authorization.k8s.io", "rolebindings")
            },
            Level::Request,
        ),
        // secrets, subresources are distinct resources
        ("secrets", resource("create", "", "secrets"), Level::Metadata),
        (
            "secrets in another group are not secrets",
            resource("create", "example.com", "secrets"),
            Level::RequestResponse,
        ),
        // verbs
        ("reads at Metadata", resource("get", "batch", "jobs"), Level::Metadata),
        ("writes at RequestResponse", resource("delete", "batch", "jobs"), Level::RequestResponse),
        (
            "non-resource reads match verb rules too",
            non_resource("get", "/metrics"),
            Level::Metadata,
        ),
    ];
    let policy = policy();
    for (what, attributes, want) in cases {
        assert_eq!(policy.evaluate(&attributes).level, want, "{what}: {attributes:?}");
    }
}

#[test]
fn omit_stages_join_the_policy_and_the_rule_and_managed_fields_fall_back() {
    let policy = policy();
    let named = Attributes { name: "controller-leader", ..resource("update", "", "configmaps") };
    let config = policy.evaluate(&named);
    assert!(config.omit_stages.contains(Stage::RequestReceived), "the policy's stage");
    assert!(config.omit_stages.contains(Stage::ResponseStarted), "the rule's stage");
    assert!(!config.omit_stages.contains(Stage::ResponseComplete));
    assert!(config.omit_managed_fields, "the rule's omitManagedFields");

    let read = policy.evaluate(&resource("get", "batch", "jobs"));
    assert!(
        read.omit_stages.contains(Stage::Panic)
            && read.omit_stages.contains(Stage::RequestReceived)
    );
    assert!(!read.omit_managed_fields, "the policy's default");
}

#[test]
fn no_matching_rule_means_level_none_with_the_policys_stages() {
    let policy = Policy::from_bytes(
        br#"{"apiVersion":"audit.k8s.io/v1","kind":"Policy","omitStages":["Panic"],
             "omitManagedFields":true,"rules":[{"level":"Metadata","users":["bob"]}]}"#,
    )
    .unwrap();
    let config = policy.evaluate(&resource("get", "", "pods"));
    assert_eq!(config.level, Level::None);
    assert!(config.omit_stages.contains(Stage::Panic));
    assert!(config.omit_managed_fields);
    let bob =
        Attributes { user: Some(User { name: "bob", groups: &[] }), ..resource("get", "", "pods") };
    assert_eq!(policy.evaluate(&bob).level, Level::Metadata);
}

#[test]
fn a_rule_without_lists_matches_everything_including_no_user() {
    let policy = Policy::from_bytes(
        b"apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Request\n",
    )
    .unwrap();
    assert_eq!(policy.evaluate(&Attributes::default()).level, Level::Request);
}

fn error(text: &str) -> String {
    Policy::from_bytes(text.as_bytes()).unwrap_err().to_string()
}

#[test]
fn bad_files_are_refused_with_the_field_and_the_reason() {
    let head = "apiVersion: audit.k8s.io/v1\nkind: Policy\n";
    let cases: Vec<(String, &str)> = vec![
        (
            format!("{head}rules:\n- level: Everything\n"),
            r#"rules[0].level: Unsupported value: "Everything": supported values: "None", "Metadata", "Request", "RequestResponse""#,
        ),
        (format!("{head}rules:\n- users: [a]\n"), "rules[0].level: Required value"),
        (
            format!(
                "{head}rules:\n- level: None\n  nonResourceURLs: [/healthz]\n  resources: [{{group: \"\"}}]\n"
            ),
            r#"rules[0].nonResourceURLs: Invalid value: ["/healthz"]: rules cannot apply to both regular resources and non-resource URLs"#,
        ),
        (
            format!(
                "{head}rules:\n- level: None\n  nonResourceURLs: [/healthz]\n  namespaces: [default]\n"
            ),
            "rules cannot apply to both regular resources and non-resource URLs",
        ),
        (
            format!("{head}rules:\n- level: None\n  nonResourceURLs: [healthz]\n"),
            r#"rules[0].nonResourceURLs[0]: Invalid value: "healthz": non-resource URL rules must begin with a '/' character"#,
        ),
        (
            format!("{head}rules:\n- level: None\n  nonResourceURLs: [\"/a*/b\"]\n"),
            "non-resource URL wildcards '*' must be the final character of the rule",
        ),
        (
            format!("{head}rules:\n- level: None\n  omitStages: [RequestSent]\n"),
            r#"rules[0].omitStages[0]: Invalid value: "RequestSent": allowed stages are RequestReceived,ResponseStarted,ResponseComplete,Panic"#,
        ),
        (
            format!("{head}omitStages: [Later]\nrules:\n- level: None\n"),
            r#"omitStages[0]: Invalid value: "Later""#,
        ),
        (
            format!(
                "{head}rules:\n- level: None\n  resources: [{{group: rbac.authorization.k8s.io/v1}}]\n"
            ),
            r#"rules[0].resources.group: Invalid value: "rbac.authorization.k8s.io/v1""#,
        ),
        (
            format!("{head}rules:\n- level: None\n  resources: [{{resourceNames: [x]}}]\n"),
            "using resourceNames requires at least one resource",
        ),
        (format!("{head}rules: []\n"), "loaded illegal policy with 0 rules"),
        (head.to_owned(), "loaded illegal policy with 0 rules"),
        (
            "apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules:\n- level: None\n".to_owned(),
            r#"found apiVersion "audit.k8s.io/v1beta1" and kind "Policy""#,
        ),
        (
            "kind: Policy\nrules:\n- level: None\n".to_owned(),
            r#"found apiVersion "" and kind "Policy""#,
        ),
        ("apiVersion: audit.k8s.io/v1\nkind: Event\n".to_owned(), r#"kind "Event""#),
        (String::new(), r#"found apiVersion "" and kind """#),
        (format!("{head}rules: {{level: None}}\n"), "failed decoding the audit policy"),
        (
            r#"{"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": [}"#.to_owned(),
            "failed decoding the audit policy",
        ),
    ];
    for (text, want) in cases {
        let got = error(&text);
        assert!(got.contains(want), "{text:?}\n  got:  {got}\n  want: {want}");
    }
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Bad\n- level: None\n  omitStages: [Nope]\n";
    let got = error(text);
    assert!(got.starts_with("[rules[0].level: Unsupported value: \"Bad\""), "{got}");
    assert!(got.contains(", rules[1].omitStages[0]: Invalid value: \"Nope\""), "{got}");
}

#[test]
fn a_file_is_read_and_its_errors_name_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.yaml");
    std::fs::write(&path, POLICY).unwrap();
    assert_eq!(Policy::from_file(&path).unwrap(), policy());

    std::fs::write(&path, "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n").unwrap();
    let got = Policy::from_file(&path).unwrap_err().to_string();
    assert!(got.contains("0 rules") && got.contains("policy.yaml"), "{got}");

    let missing = dir.path().join("missing.yaml");
    let got = Policy::from_file(&missing).unwrap_err().to_string();
    assert!(
        got.contains("failed to read the audit policy file") && got.contains("missing.yaml"),
        "{got}"
    );
}
