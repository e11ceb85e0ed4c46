//! ServiceAccount, as kube-apiserver's admission plugin of that name (mutating and validating,
//! pods only, on create).
//!
//! Mutating phase, for a pod being created:
//! 1. no `spec.serviceAccountName` (nor the deprecated `spec.serviceAccount`): `default`, both
//!    fields set;
//! 2. the ServiceAccount must exist (403 `error looking up service account ns/name: serviceaccount
//!    "name" not found`); `default` is looked up again for a while, since the controller that
//!    makes it (`crate::registry::namespace_objects`) may not have seen a new namespace yet;
//! 3. unless automount is off (the pod's `automountServiceAccountToken`, else the account's), a
//!    projected volume `kube-api-access-xxxxx` (a bound token, the `kube-root-ca.crt` ConfigMap's
//!    `ca.crt`, the namespace) mounted read-only at [`TOKEN_MOUNT_PATH`] in every container and
//!    init container that mounts nothing there;
//! 4. no `imagePullSecrets`: the account's.
//!
//! Validating phase (also run at the end of the mutating one, as kube does): mirror pods (the
//! kubelet's `kubernetes.io/config.mirror` annotation) are left as they are but may reference
//! neither service accounts, secrets nor token projections; other pods need an existing account,
//! and an account annotated `kubernetes.io/enforce-mountable-secrets: "true"` limits the secrets
//! the pod may use (volumes, `env`, `envFrom`, `imagePullSecrets`) to those it lists.
//!
//! The account is read through [`Objects`] (the store's view). The ephemeral-containers check of
//! kube (`pods/ephemeralcontainers` updates) is absent: that subresource is not served.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::{Action, Attributes, Objects, Plugin};
use crate::meta::status::ApiError;

/// The account a pod that names none runs as.
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";
/// The account annotation that limits a pod's secrets to the account's `secrets`.
pub const ENFORCE_MOUNTABLE_SECRETS: &str = "kubernetes.io/enforce-mountable-secrets";
/// The name prefix of the token volume (kube's `ServiceAccountVolumeName` and a dash).
pub const VOLUME_PREFIX: &str = "kube-api-access-";
/// Where the token, CA and namespace are mounted in each container.
pub const TOKEN_MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// The ConfigMap with the cluster's CA in every namespace (kube's root-ca-cert-publisher).
pub const ROOT_CA_CONFIG_MAP: &str = "kube-root-ca.crt";
/// The lifetime asked of the projected token: kube's `WarnOnlyBoundTokenExpirationSeconds`
/// (1 h and 7 s, the mark by which kube-apiserver recognises these tokens).
pub const TOKEN_EXPIRATION_SECONDS: i64 = 3607;
/// The kubelet's annotation on the API copy of a static pod.
pub const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// How many times `default` is looked up before a pod naming it is refused (kube: 10, 100–200 ms
/// apart).
const DEFAULT_ACCOUNT_ATTEMPTS: usize = 10;

/// The plugin.
#[derive(Debug)]
pub struct ServiceAccount {
    objects: Arc<dyn Objects>,
    /// The five characters after [`VOLUME_PREFIX`] (kube's `generateName` suffix).
    suffix: fn() -> String,
}

impl ServiceAccount {
    /// Reads accounts through `objects`; names token volumes with `suffix`.
    pub fn new(objects: Arc<dyn Objects>, suffix: fn() -> String) -> ServiceAccount {
        ServiceAccount { objects, suffix }
    }

    /// The account, or kube's 403 when it cannot be had.
    async fn account(&self, attributes: &Attributes<'_>, name: &str) -> Result<Value, ApiError> {
        let namespace = attributes.namespace;
        let attempts = if name == DEFAULT_SERVICE_ACCOUNT { DEFAULT_ACCOUNT_ATTEMPTS } else { 1 };
        // kube draws one pause per lookup, between 100 and 200 ms.
        let pause =
            Duration::from_millis(100 + u64::from(uuid::Uuid::new_v4().as_bytes()[0] % 100));
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(pause).await;
            }
            match self.objects.get("", "serviceaccounts", namespace, name).await {
                Ok(Some(account)) => return Ok(account),
                Ok(None) => {}
                Err(err) => return Err(lookup_failed(attributes, name, &err.message)),
            }
        }
        let missing = format!("serviceaccount \"{name}\" not found");
        Err(lookup_failed(attributes, name, &missing))
    }

    /// kube's `Validate`: `account` is the one the mutating phase already read, if any.
    async fn check(
        &self,
        attributes: &Attributes<'_>,
        pod: &Value,
        account: Option<Value>,
    ) -> Result<(), ApiError> {
        let name = account_name(pod);
        if is_mirror(pod) {
            return check_mirror(attributes, pod, name);
        }
        if name.is_empty() {
            let pod_name = pod.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
            let why =
                format!("no service account specified for pod {}/{pod_name}", attributes.namespace);
            return Err(forbidden(attributes, &why));
        }
        let account = match account {
            Some(account) => account,
            None => self.account(attributes, name).await?,
        };
        if enforces_mountable_secrets(&account) {
            limit_secret_references(&account, pod).map_err(|why| forbidden(attributes, &why))?;
        }
        Ok(())
    }
}

/// Pods proper (not their subresources); only creates are looked at.
fn applies(attributes: &Attributes<'_>) -> bool {
    attributes.group.is_empty()
        && attributes.resource == "pods"
        && attributes.subresource.is_empty()
        && attributes.action == Action::Create
}

#[async_trait]
impl Plugin for ServiceAccount {
    fn name(&self) -> &'static str {
        "ServiceAccount"
    }

    async fn admit(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&mut Value>,
        _warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        let Some(pod) = object.filter(|_| applies(attributes)) else { return Ok(()) };
        // The kubelet deletes a mirror pod whose spec differs from its file: never change one.
        if is_mirror(pod) {
            return self.check(attributes, pod, None).await;
        }
        let name = match account_name(pod) {
            "" => DEFAULT_SERVICE_ACCOUNT.to_owned(),
            named => named.to_owned(),
        };
        if let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("serviceAccountName".into(), name.clone().into());
            spec.insert("serviceAccount".into(), name.clone().into());
        }
        let account = self.account(attributes, &name).await?;
        if should_automount(&account, pod) {
            mount_token(pod, &(self.suffix)());
        }
        copy_image_pull_secrets(&account, pod);
        self.check(attributes, pod, Some(account)).await
    }

    async fn validate(
        &self,
        attributes: &Attributes<'_>,
        object: Option<&Value>,
        _warnings: &mut Vec<String>,
    ) -> Result<(), ApiError> {
        match object.filter(|_| applies(attributes)) {
            Some(pod) => self.check(attributes, pod, None).await,
            None => Ok(()),
        }
    }
}

/// `spec.serviceAccountName`, else the deprecated `spec.serviceAccount` (v1's conversion), else
/// `""`.
fn account_name(pod: &Value) -> &str {
    let field = |key: &str| pod.pointer(&format!("/spec/{key}")).and_then(Value::as_str);
    match field("serviceAccountName") {
        Some(name) if !name.is_empty() => name,
        _ => field("serviceAccount").unwrap_or(""),
    }
}

fn is_mirror(pod: &Value) -> bool {
    pod.pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .is_some_and(|annotations| annotations.contains_key(MIRROR_POD_ANNOTATION))
}

fn check_mirror(attributes: &Attributes<'_>, pod: &Value, account: &str) -> Result<(), ApiError> {
    if !account.is_empty() {
        return Err(forbidden(attributes, "a mirror pod may not reference service accounts"));
    }
    if !secret_names(pod).is_empty() {
        return Err(forbidden(attributes, "a mirror pod may not reference secrets"));
    }
    let projects_token = items(pod.pointer("/spec/volumes"))
        .flat_map(|volume| items(volume.pointer("/projected/sources")))
        .any(|source| source.get("serviceAccountToken").is_some_and(|t| !t.is_null()));
    if projects_token {
        let why = "a mirror pod may not use ServiceAccountToken volume projections";
        return Err(forbidden(attributes, why));
    }
    Ok(())
}

/// The pod's preference, else the account's, else yes.
fn should_automount(account: &Value, pod: &Value) -> bool {
    let choice = |object: &Value, pointer: &str| object.pointer(pointer).and_then(Value::as_bool);
    choice(pod, "/spec/automountServiceAccountToken")
        .or_else(|| choice(account, "/automountServiceAccountToken"))
        .unwrap_or(true)
}

/// Go's `strconv.ParseBool` true spellings.
fn enforces_mountable_secrets(account: &Value) -> bool {
    let value = account
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(ENFORCE_MOUNTABLE_SECRETS))
        .and_then(Value::as_str);
    matches!(value, Some("1" | "t" | "T" | "true" | "TRUE" | "True"))
}

/// The elements of an array (none when absent or not an array).
fn items(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    value.and_then(Value::as_array).into_iter().flatten()
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// The names of `list`'s entries (`secrets`, `imagePullSecrets`).
fn names(account: &Value, list: &str) -> BTreeSet<String> {
    items(account.get(list)).filter_map(|r| text(r, "/name")).map(str::to_owned).collect()
}

/// Every secret the pod refers to (kube's `VisitPodSecretNames` over all containers).
fn secret_names(pod: &Value) -> Vec<&str> {
    let mut found = Vec::new();
    for reference in items(pod.pointer("/spec/imagePullSecrets")) {
        found.extend(text(reference, "/name"));
    }
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for container in items(pod.pointer(&format!("/spec/{list}"))) {
            for from in items(container.get("envFrom")) {
                found.extend(text(from, "/secretRef/name"));
            }
            for env in items(container.get("env")) {
                found.extend(text(env, "/valueFrom/secretKeyRef/name"));
            }
        }
    }
    const VOLUME_SECRETS: [&str; 10] = [
        "/azureFile/secretName",
        "/cephfs/secretRef/name",
        "/cinder/secretRef/name",
        "/flexVolume/secretRef/name",
        "/rbd/secretRef/name",
        "/secret/secretName",
        "/scaleIO/secretRef/name",
        "/iscsi/secretRef/name",
        "/storageos/secretRef/name",
        "/csi/nodePublishSecretRef/name",
    ];
    for volume in items(pod.pointer("/spec/volumes")) {
        found.extend(VOLUME_SECRETS.iter().filter_map(|pointer| text(volume, pointer)));
        for source in items(volume.pointer("/projected/sources")) {
            found.extend(text(source, "/secret/name"));
        }
    }
    found
}

/// kube's `limitSecretReferences`: the first secret the pod uses that the account does not
/// list, in kube's words.
fn limit_secret_references(account: &Value, pod: &Value) -> Result<(), String> {
    let account_name = text(account, "/metadata/name").unwrap_or("");
    let mountable = names(account, "secrets");
    for volume in items(pod.pointer("/spec/volumes")) {
        let Some(secret) = volume.get("secret").filter(|s| !s.is_null()) else { continue };
        let secret_name = secret.get("secretName").and_then(Value::as_str).unwrap_or("");
        if !mountable.contains(secret_name) {
            return Err(format!(
                "volume with secret.secretName=\"{secret_name}\" is not allowed because service account {account_name} does not reference that secret"
            ));
        }
    }
    for (list, what) in [("initContainers", "init container"), ("containers", "container")] {
        for container in items(pod.pointer(&format!("/spec/{list}"))) {
            let container_name = container.get("name").and_then(Value::as_str).unwrap_or("");
            for env in items(container.get("env")) {
                let Some(reference) = env.pointer("/valueFrom/secretKeyRef") else { continue };
                let secret_name = reference.get("name").and_then(Value::as_str).unwrap_or("");
                if reference.is_object() && !mountable.contains(secret_name) {
                    let env_name = env.get("name").and_then(Value::as_str).unwrap_or("");
                    return Err(format!(
                        "{what} {container_name} with envVar {env_name} referencing secret.secretName=\"{secret_name}\" is not allowed because service account {account_name} does not reference that secret"
                    ));
                }
            }
            for from in items(container.get("envFrom")) {
                let Some(reference) = from.get("secretRef").filter(|r| r.is_object()) else {
                    continue;
                };
                let secret_name = reference.get("name").and_then(Value::as_str).unwrap_or("");
                if !mountable.contains(secret_name) {
                    return Err(format!(
                        "{what} {container_name} with envFrom referencing secret.secretName=\"{secret_name}\" is not allowed because service account {account_name} does not reference that secret"
                    ));
                }
            }
        }
    }
    let pull_secrets = names(account, "imagePullSecrets");
    for (i, reference) in items(pod.pointer("/spec/imagePullSecrets")).enumerate() {
        let secret_name = reference.get("name").and_then(Value::as_str).unwrap_or("");
        if !pull_secrets.contains(secret_name) {
            return Err(format!(
                "imagePullSecrets[{i}].name=\"{secret_name}\" is not allowed because service account {account_name} does not reference that imagePullSecret"
            ));
        }
    }
    Ok(())
}

/// kube's `TokenVolumeSource`, in the v1 field order.
pub fn token_volume(name: &str) -> Value {
    json!({
        "name": name,
        "projected": {
            "sources": [
                {"serviceAccountToken": {
                    "expirationSeconds": TOKEN_EXPIRATION_SECONDS,
                    "path": "token",
                }},
                {"configMap": {
                    "name": ROOT_CA_CONFIG_MAP,
                    "items": [{"key": "ca.crt", "path": "ca.crt"}],
                }},
                {"downwardAPI": {
                    "items": [{
                        "path": "namespace",
                        "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                    }],
                }},
            ],
            "defaultMode": 420,
        },
    })
}

/// The array at `key` of `object`, made when absent; `None` when something else is there
/// (validation refuses it later).
fn array_mut<'a>(object: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Vec<Value>> {
    let slot = object.entry(key).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Array(Vec::new());
    }
    slot.as_array_mut()
}

/// kube's `mountServiceAccountToken`: the pod's `kube-api-access-*` volume (or a new one named
/// with `suffix`) mounted in every container and init container without a mount at
/// [`TOKEN_MOUNT_PATH`]; the volume added when some container needed it.
fn mount_token(pod: &mut Value, suffix: &str) {
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else { return };
    let existing = items(spec.get("volumes"))
        .filter_map(|volume| volume.get("name").and_then(Value::as_str))
        .find(|name| name.starts_with(VOLUME_PREFIX))
        .map(str::to_owned);
    let volume_name = existing.clone().unwrap_or_else(|| format!("{VOLUME_PREFIX}{suffix}"));
    let mount = json!({"name": volume_name, "readOnly": true, "mountPath": TOKEN_MOUNT_PATH});
    let mut needed = false;
    for list in ["initContainers", "containers"] {
        let Some(containers) = spec.get_mut(list).and_then(Value::as_array_mut) else { continue };
        for container in containers.iter_mut().filter_map(Value::as_object_mut) {
            let mounted = items(container.get("volumeMounts"))
                .any(|m| m.get("mountPath").and_then(Value::as_str) == Some(TOKEN_MOUNT_PATH));
            if mounted {
                continue;
            }
            if let Some(mounts) = array_mut(container, "volumeMounts") {
                mounts.push(mount.clone());
                needed = true;
            }
        }
    }
    if existing.is_none()
        && needed
        && let Some(volumes) = array_mut(spec, "volumes")
    {
        volumes.push(token_volume(&volume_name));
    }
}

/// A pod without `imagePullSecrets` gets the account's.
fn copy_image_pull_secrets(account: &Value, pod: &mut Value) {
    let Some(spec) = pod.get_mut("spec").and_then(Value::as_object_mut) else { return };
    if items(spec.get("imagePullSecrets")).next().is_some() {
        return;
    }
    let copied: Vec<Value> = items(account.get("imagePullSecrets"))
        .map(|r| json!({"name": r.get("name").and_then(Value::as_str).unwrap_or("")}))
        .collect();
    if !copied.is_empty() {
        spec.insert("imagePullSecrets".into(), Value::Array(copied));
    }
}

/// `error looking up service account ns/name: <why>`.
fn lookup_failed(attributes: &Attributes<'_>, name: &str, why: &str) -> ApiError {
    let namespace = attributes.namespace;
    forbidden(attributes, &format!("error looking up service account {namespace}/{name}: {why}"))
}

/// kube's `admission.NewForbidden`.
fn forbidden(attributes: &Attributes<'_>, why: &str) -> ApiError {
    ApiError::forbidden(attributes.group, attributes.resource, attributes.name, why)
}

#[cfg(test)]
mod tests;
