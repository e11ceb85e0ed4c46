//! The `kube-system/extension-apiserver-authentication` ConfigMap, as kube-apiserver's
//! cluster-authentication-trust controller publishes it: how an extension API server behind
//! this one tells this server's requests (the front-proxy CA and the `X-Remote-*` headers) and
//! which client CAs to trust. Keys and encodings are kube's: `client-ca-file` and
//! `requestheader-client-ca-file` are PEM bundles; `requestheader-allowed-names`,
//! `-username-headers`, `-group-headers` and `-extra-headers-prefix` are JSON arrays of
//! strings.
//!
//! Flow: [`start`] creates or repairs the ConfigMap before it returns, then checks it every
//! [`INTERVAL`] and puts back what was deleted or changed, until shutdown. Writes go through the
//! store as `system:apiserver` (admission and the ledger see them). A singleton: with
//! `--leader-elect` only the leader runs it.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch as signal;

use crate::authn::requestheader::RequestHeaderConfig;
use crate::meta::status::{ApiError, Reason};
use crate::registry::store::{Operation, Store};
use crate::storage::Verb;

/// The ConfigMap's namespace and name.
pub const NAMESPACE: &str = "kube-system";
pub const NAME: &str = "extension-apiserver-authentication";
/// Who writes it (kube-apiserver's loopback client).
const USER: &str = "system:apiserver";
/// How often the ConfigMap is checked and repaired (kube's controller resyncs every minute).
pub const INTERVAL: Duration = Duration::from_secs(30);

/// What the ConfigMap publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticationInfo {
    /// The client CAs (PEM): `client-ca-file`.
    pub client_ca_pem: String,
    /// The requestheader settings and their CA (PEM); `None`: no requestheader keys.
    pub requestheader: Option<(RequestHeaderConfig, String)>,
}

impl AuthenticationInfo {
    /// The ConfigMap's `data`.
    pub fn data(&self) -> Value {
        let mut data = serde_json::Map::new();
        if !self.client_ca_pem.is_empty() {
            data.insert("client-ca-file".to_owned(), json!(self.client_ca_pem));
        }
        if let Some((config, ca_pem)) = &self.requestheader {
            let array = |values: &[String]| json!(json!(values).to_string());
            data.insert("requestheader-client-ca-file".to_owned(), json!(ca_pem));
            data.insert("requestheader-allowed-names".to_owned(), array(&config.allowed_names));
            data.insert(
                "requestheader-username-headers".to_owned(),
                array(&config.username_headers),
            );
            data.insert("requestheader-group-headers".to_owned(), array(&config.group_headers));
            data.insert(
                "requestheader-extra-headers-prefix".to_owned(),
                array(&config.extra_headers_prefix),
            );
        }
        Value::Object(data)
    }

    fn desired(&self) -> Value {
        json!({
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": NAME, "namespace": NAMESPACE},
            "data": self.data(),
        })
    }
}

/// Creates or repairs the ConfigMap, then keeps it until `shutdown`. Does nothing when
/// ConfigMaps are not served.
pub async fn start(
    store: Store,
    info: AuthenticationInfo,
    shutdown: signal::Receiver<bool>,
) -> Result<(), ApiError> {
    sync(&store, &info).await?;
    let what = format!("{NAMESPACE}/{NAME}: sync");
    super::every(INTERVAL, shutdown, what, move || {
        let (store, info) = (store.clone(), info.clone());
        async move { sync(&store, &info).await }
    });
    Ok(())
}

/// Creates the ConfigMap, or puts its data back.
async fn sync(store: &Store, info: &AuthenticationInfo) -> Result<(), ApiError> {
    let Some(resource) = store.registry.get("", "v1", "configmaps") else { return Ok(()) };
    let op =
        |verb| Operation::internal(USER, verb, &resource).in_namespace(Some(NAMESPACE)).named(NAME);
    let data = info.data();
    match store.get(&resource, Some(NAMESPACE), NAME, None).await {
        Ok(mut current) if current.get("data") != Some(&data) => {
            current["data"] = data;
            store.update(&resource, &op(Verb::Update), current).await?;
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(err) if err.reason == Reason::NotFound => {
            match store.create(&resource, &op(Verb::Create), info.desired()).await {
                Ok(_) => Ok(()),
                Err(err) if err.reason == Reason::AlreadyExists => Ok(()),
                Err(err) => Err(err),
            }
        }
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_has_kube_keys_with_json_arrays() {
        let config = RequestHeaderConfig::new(Vec::new(), vec!["front-proxy-client".to_owned()]);
        let info = AuthenticationInfo {
            client_ca_pem: "CLIENT".to_owned(),
            requestheader: Some((config, "FRONT".to_owned())),
        };
        assert_eq!(
            info.data(),
            json!({
                "client-ca-file": "CLIENT",
                "requestheader-client-ca-file": "FRONT",
                "requestheader-allowed-names": "[\"front-proxy-client\"]",
                "requestheader-username-headers": "[\"X-Remote-User\"]",
                "requestheader-group-headers": "[\"X-Remote-Group\"]",
                "requestheader-extra-headers-prefix": "[\"X-Remote-Extra-\"]",
            })
        );
        let bare = AuthenticationInfo { client_ca_pem: "CLIENT".to_owned(), requestheader: None };
        assert_eq!(bare.data(), json!({"client-ca-file": "CLIENT"}));
    }
}
