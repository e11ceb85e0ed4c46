//! The ServiceAccount plugin against accounts held in memory.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::admission::AuditAnnotations;
use crate::authn::UserInfo;
use crate::meta::status::Reason;

/// ServiceAccounts by `namespace/name`; `default` in `late` shows up only at the 3rd lookup.
#[derive(Debug, Default)]
struct Accounts {
    stored: Mutex<HashMap<String, Value>>,
    lookups: AtomicUsize,
}

impl Accounts {
    fn with(accounts: &[Value]) -> Arc<Accounts> {
        let stored = accounts
            .iter()
            .map(|a| {
                let key = format!(
                    "{}/{}",
                    a["metadata"]["namespace"].as_str().unwrap(),
                    a["metadata"]["name"].as_str().unwrap()
                );
                (key, a.clone())
            })
            .collect();
        Arc::new(Accounts { stored: Mutex::new(stored), ..Accounts::default() })
    }
}

#[async_trait]
impl Objects for Accounts {
    async fn get(
        &self,
        group: &str,
        resource: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, ApiError> {
        assert_eq!((group, resource), ("", "serviceaccounts"));
        let lookups = self.lookups.fetch_add(1, Ordering::SeqCst) + 1;
        if namespace == "late" && name == "default" && lookups >= 3 {
            return Ok(Some(account("late", "default", json!({}))));
        }
        Ok(self.stored.lock().unwrap().get(&format!("{namespace}/{name}")).cloned())
    }

    async fn list(&self, _: &str, _: &str, _: &str) -> Result<Vec<Value>, ApiError> {
        Ok(Vec::new())
    }
}

fn account(namespace: &str, name: &str, extra: Value) -> Value {
    let mut account = json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": name, "namespace": namespace},
    });
    if let (Some(account), Some(extra)) = (account.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            if key == "annotations" {
                account["metadata"]["annotations"] = value.clone();
            } else {
                account.insert(key.clone(), value.clone());
            }
        }
    }
    account
}

fn plugin(accounts: &Arc<Accounts>) -> ServiceAccount {
    ServiceAccount::new(accounts.clone(), || "abcde".to_owned())
}

fn attributes<'a>(user: &'a UserInfo, action: Action, namespace: &'a str) -> Attributes<'a> {
    Attributes {
        action,
        user,
        group: "",
        version: "v1",
        resource: "pods",
        subresource: "",
        kind: "Pod",
        namespace,
        name: "p",
        dry_run: false,
        old_object: None,
        options: None,
        audit_annotations: AuditAnnotations::unrecorded(),
    }
}

fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
}

async fn admit(plugin: &ServiceAccount, namespace: &str, pod: &mut Value) -> Result<(), ApiError> {
    let user = UserInfo::anonymous();
    let attributes = attributes(&user, Action::Create, namespace);
    plugin.admit(&attributes, Some(pod), &mut Vec::new()).await?;
    plugin.validate(&attributes, Some(pod), &mut Vec::new()).await
}

#[tokio::test]
async fn a_pod_gets_the_default_account_and_its_token_volume() {
    let accounts = Accounts::with(&[account("ns", "default", json!({}))]);
    let mut pod = pod(json!({
        "initContainers": [{"name": "init", "image": "busybox"}],
        "containers": [
            {"name": "app", "image": "nginx"},
            {"name": "own", "image": "nginx", "volumeMounts": [
                {"name": "mine", "mountPath": TOKEN_MOUNT_PATH},
            ]},
        ],
    }));
    admit(&plugin(&accounts), "ns", &mut pod).await.unwrap();
    let spec = &pod["spec"];
    assert_eq!(spec["serviceAccountName"], "default");
    assert_eq!(spec["serviceAccount"], "default");
    let mount = json!({
        "name": "kube-api-access-abcde",
        "readOnly": true,
        "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
    });
    assert_eq!(spec["initContainers"][0]["volumeMounts"], json!([mount]));
    assert_eq!(spec["containers"][0]["volumeMounts"], json!([mount]));
    // A container mounting something there already keeps its own.
    assert_eq!(spec["containers"][1]["volumeMounts"].as_array().unwrap().len(), 1);
    assert_eq!(spec["containers"][1]["volumeMounts"][0]["name"], "mine");
    assert_eq!(
        spec["volumes"],
        json!([{
            "name": "kube-api-access-abcde",
            "projected": {
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt",
                                   "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                    {"downwardAPI": {"items": [{"path": "namespace", "fieldRef":
                        {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
                ],
                "defaultMode": 420,
            },
        }])
    );
    assert!(spec.get("imagePullSecrets").is_none());
}

#[tokio::test]
async fn the_deprecated_field_names_the_account_and_an_existing_volume_is_reused() {
    let accounts = Accounts::with(&[account(
        "ns",
        "builder",
        json!({"imagePullSecrets": [{"name": "registry"}]}),
    )]);
    let mut pod = pod(json!({
        "serviceAccount": "builder",
        "containers": [{"name": "app", "image": "nginx"}],
        "volumes": [{"name": "kube-api-access-zzzzz", "emptyDir": {}}],
    }));
    admit(&plugin(&accounts), "ns", &mut pod).await.unwrap();
    let spec = &pod["spec"];
    assert_eq!(
        (&spec["serviceAccountName"], &spec["serviceAccount"]),
        (&json!("builder"), &json!("builder"))
    );
    assert_eq!(spec["containers"][0]["volumeMounts"][0]["name"], "kube-api-access-zzzzz");
    assert_eq!(spec["volumes"].as_array().unwrap().len(), 1, "no second token volume");
    assert_eq!(spec["imagePullSecrets"], json!([{"name": "registry"}]));
}

#[tokio::test]
async fn automount_off_on_the_pod_or_the_account_adds_nothing() {
    let accounts = Accounts::with(&[
        account("ns", "default", json!({})),
        account("ns", "quiet", json!({"automountServiceAccountToken": false})),
    ]);
    let plugin = plugin(&accounts);
    let container = json!([{"name": "app", "image": "nginx"}]);
    let mut off = pod(json!({"automountServiceAccountToken": false, "containers": container}));
    admit(&plugin, "ns", &mut off).await.unwrap();
    let mut quiet = pod(json!({"serviceAccountName": "quiet", "containers": container}));
    admit(&plugin, "ns", &mut quiet).await.unwrap();
    for pod in [off, quiet] {
        assert!(pod["spec"].get("volumes").is_none(), "{pod}");
        assert!(pod["spec"]["containers"][0].get("volumeMounts").is_none(), "{pod}");
    }
    // The pod's own choice wins over the account's.
    let mut on = pod(json!({"serviceAccountName": "quiet", "automountServiceAccountToken": true,
                            "containers": container}));
    admit(&plugin, "ns", &mut on).await.unwrap();
    assert_eq!(on["spec"]["volumes"][0]["name"], "kube-api-access-abcde");
}

#[tokio::test(start_paused = true)]
async fn a_missing_account_is_refused_in_kube_s_words() {
    let accounts = Accounts::with(&[]);
    let plugin = plugin(&accounts);
    let mut named = pod(json!({"serviceAccountName": "ghost", "containers": []}));
    let err = admit(&plugin, "ns", &mut named).await.unwrap_err();
    assert_eq!(err.reason, Reason::Forbidden);
    assert_eq!(
        err.message,
        "pods \"p\" is forbidden: error looking up service account ns/ghost: serviceaccount \
         \"ghost\" not found"
    );
    assert_eq!(accounts.lookups.load(Ordering::SeqCst), 1, "a named account is looked up once");

    // `default` is looked up ten times before the pod is refused…
    let mut unnamed = pod(json!({"containers": []}));
    let err = admit(&plugin, "ns", &mut unnamed).await.unwrap_err();
    assert_eq!(
        err.message,
        "pods \"p\" is forbidden: error looking up service account ns/default: serviceaccount \
         \"default\" not found"
    );
    assert_eq!(accounts.lookups.load(Ordering::SeqCst), 11);

    // …so one its controller makes a moment later is found.
    let mut late = pod(json!({"containers": []}));
    admit(&plugin, "late", &mut late).await.unwrap();
}

#[tokio::test]
async fn mountable_secrets_are_enforced_when_the_account_asks() {
    let enforce = json!({
        "annotations": {"kubernetes.io/enforce-mountable-secrets": "true"},
        "secrets": [{"name": "allowed"}],
        "imagePullSecrets": [{"name": "pull"}],
    });
    let accounts = Accounts::with(&[
        account("ns", "strict", enforce),
        account("ns", "lax", json!({"secrets": [{"name": "allowed"}]})),
    ]);
    let plugin = plugin(&accounts);
    let cases = [
        (
            json!({"volumes": [{"name": "v", "secret": {"secretName": "other"}}]}),
            "volume with secret.secretName=\"other\" is not allowed because service account \
             strict does not reference that secret",
        ),
        (
            json!({"containers": [{"name": "app", "env": [{"name": "PW", "valueFrom":
                    {"secretKeyRef": {"name": "other", "key": "k"}}}]}]}),
            "container app with envVar PW referencing secret.secretName=\"other\" is not \
             allowed because service account strict does not reference that secret",
        ),
        (
            json!({"initContainers": [{"name": "init", "envFrom": [{"secretRef": {"name": "other"}}]}]}),
            "init container init with envFrom referencing secret.secretName=\"other\" is not \
             allowed because service account strict does not reference that secret",
        ),
        (
            json!({"imagePullSecrets": [{"name": "pull"}, {"name": "other"}]}),
            "imagePullSecrets[1].name=\"other\" is not allowed because service account strict \
             does not reference that imagePullSecret",
        ),
    ];
    for (spec, why) in cases {
        let mut spec = spec;
        spec["serviceAccountName"] = json!("strict");
        let mut strict = pod(spec.clone());
        let err = admit(&plugin, "ns", &mut strict).await.unwrap_err();
        assert_eq!(err.reason, Reason::Forbidden);
        assert_eq!(err.message, format!("pods \"p\" is forbidden: {why}"));
        // Without the annotation the same pod is admitted.
        spec["serviceAccountName"] = json!("lax");
        admit(&plugin, "ns", &mut pod(spec)).await.unwrap();
    }
    let mut allowed = pod(json!({
        "serviceAccountName": "strict",
        "volumes": [{"name": "v", "secret": {"secretName": "allowed"}}],
        "containers": [{"name": "app", "envFrom": [{"secretRef": {"name": "allowed"}}]}],
    }));
    admit(&plugin, "ns", &mut allowed).await.unwrap();
}

#[tokio::test]
async fn mirror_pods_are_left_alone_but_may_not_reference_accounts_or_secrets() {
    let accounts = Accounts::with(&[account("ns", "default", json!({}))]);
    let plugin = plugin(&accounts);
    let mirror = |spec: Value| {
        let mut pod = pod(spec);
        pod["metadata"]["annotations"] = json!({"kubernetes.io/config.mirror": "hash"});
        pod
    };
    let mut plain = mirror(json!({"containers": [{"name": "app", "image": "nginx"}]}));
    let before = plain.clone();
    admit(&plugin, "ns", &mut plain).await.unwrap();
    assert_eq!(plain, before, "a mirror pod is not changed");
    assert_eq!(accounts.lookups.load(Ordering::SeqCst), 0);

    let refused = [
        (
            json!({"serviceAccountName": "default"}),
            "a mirror pod may not reference service accounts",
        ),
        (
            json!({"containers": [{"name": "a", "env": [{"name": "X", "valueFrom":
                    {"secretKeyRef": {"name": "s", "key": "k"}}}]}]}),
            "a mirror pod may not reference secrets",
        ),
        (
            json!({"volumes": [{"name": "v", "projected": {"sources": [{"secret": {"name": "s"}}]}}]}),
            "a mirror pod may not reference secrets",
        ),
        (
            json!({"volumes": [{"name": "v", "projected": {"sources":
                    [{"serviceAccountToken": {"path": "t"}}]}}]}),
            "a mirror pod may not use ServiceAccountToken volume projections",
        ),
    ];
    for (spec, why) in refused {
        let err = admit(&plugin, "ns", &mut mirror(spec)).await.unwrap_err();
        assert_eq!(err.message, format!("pods \"p\" is forbidden: {why}"));
    }
}

#[tokio::test]
async fn only_pod_creates_are_looked_at() {
    let accounts = Accounts::with(&[]);
    let plugin = plugin(&accounts);
    let user = UserInfo::anonymous();
    let mut object = pod(json!({"serviceAccountName": "ghost", "containers": []}));
    let update = attributes(&user, Action::Update, "ns");
    plugin.admit(&update, Some(&mut object), &mut Vec::new()).await.unwrap();
    plugin.validate(&update, Some(&object), &mut Vec::new()).await.unwrap();
    let status = Attributes { subresource: "status", action: Action::Create, ..update };
    plugin.admit(&status, Some(&mut object), &mut Vec::new()).await.unwrap();
    let configmap = Attributes { resource: "configmaps", action: Action::Create, ..update };
    plugin.admit(&configmap, Some(&mut object), &mut Vec::new()).await.unwrap();
    assert_eq!(accounts.lookups.load(Ordering::SeqCst), 0);

    // The validating phase alone refuses a pod whose account went missing after the mutating
    // one (a webhook renamed it), and a pod that names none.
    let create = attributes(&user, Action::Create, "ns");
    let err = plugin.validate(&create, Some(&object), &mut Vec::new()).await.unwrap_err();
    assert_eq!(err.reason, Reason::Forbidden);
    let unnamed = pod(json!({"containers": []}));
    let err = plugin.validate(&create, Some(&unnamed), &mut Vec::new()).await.unwrap_err();
    assert_eq!(err.message, "pods \"p\" is forbidden: no service account specified for pod ns/p");
}
