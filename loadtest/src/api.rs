//! The HTTP side of a run: a thin client for the few Kubernetes API calls the scenarios make
//! (namespaces, ConfigMaps, `/version`, `/metrics`, watch streams). Requests go down as JSON over
//! HTTP/1.1, one connection per in-flight request — or, from an [`Api::http2`] client, every
//! request multiplexed as a stream of one HTTP/2 connection, as client-go does; answers come back
//! decoded into the few metadata fields the scenarios look at. Any API server works: nothing here
//! is kube-ledger's. HTTPS servers are reached with the CA and client certificate of [`Tls`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::tls::{self, Tls};

/// A request (other than a watch) that has no answer by then has failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting may take; an unreachable server is reported quickly.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A client of one API server, cheap to clone into tasks (they share one connection pool).
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    /// The server URL without a trailing slash, e.g. `http://127.0.0.1:6443`.
    base: String,
    /// How the client was built, kept to build [`Api::http2`] clients of the same server.
    origin: Arc<Origin>,
}

/// What an [`Api`] was built from.
#[derive(Debug)]
struct Origin {
    server: Url,
    token: Option<String>,
    tls: Tls,
}

/// How a client speaks HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    /// HTTP/1.1: one connection per request in flight.
    Http1,
    /// HTTP/2 only (ALPN `h2` over TLS, prior knowledge over plain HTTP): every request is a
    /// stream of the client's one connection.
    Http2,
}

/// The metadata fields the scenarios read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub resource_version: String,
    #[serde(rename = "continue", default)]
    pub continue_token: Option<String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
}

/// An object or a list, reduced to its metadata.
#[derive(Debug, Clone, Deserialize)]
pub struct Object {
    pub metadata: Meta,
}

/// One page of a LIST.
#[derive(Debug, Clone, Deserialize)]
pub struct List {
    pub metadata: Meta,
    #[serde(default)]
    pub items: Vec<Object>,
}

impl Api {
    /// A client for `server`, sending `token` as a bearer token when given, trusting and
    /// presenting what `tls` holds for an https server.
    pub fn new(server: &Url, token: Option<&str>, tls: &Tls) -> Result<Api> {
        let origin =
            Origin { server: server.clone(), token: token.map(str::to_owned), tls: tls.clone() };
        Api::build(Arc::new(origin), Version::Http1)
    }

    /// A client of the same server, credentials and TLS that speaks HTTP/2 only, over a
    /// connection of its own: every request it sends (every watch) is one stream of that
    /// connection, as client-go multiplexes a program's watches. The server caps the streams of
    /// one connection (kube-apiserver: Go's default of 250, `--http2-max-streams-per-connection`);
    /// requests beyond the cap wait for a stream, so callers spread their watches over enough
    /// clients.
    pub fn http2(&self) -> Result<Api> {
        Api::build(self.origin.clone(), Version::Http2)
    }

    fn build(origin: Arc<Origin>, version: Version) -> Result<Api> {
        let (server, token, tls) = (&origin.server, origin.token.as_deref(), &origin.tls);
        let mut headers = HeaderMap::new();
        if let Some(token) = token {
            let value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                Error::Config("the bearer token holds characters a header cannot".to_owned())
            })?;
            headers.insert(AUTHORIZATION, value);
        }
        let https = server.scheme() == "https";
        let config = if https { tls::client_config(tls)? } else { tls::unused_config()? };
        let config = match version {
            Version::Http1 => config,
            Version::Http2 => tls::only_h2(config),
        };
        let mut builder = reqwest::Client::builder().tls_backend_preconfigured(config);
        if version == Version::Http2 {
            // Over TLS, ALPN `h2` already picks HTTP/2; plain HTTP has no negotiation.
            builder = builder.http2_prior_knowledge();
        }
        let http = builder
            .default_headers(headers)
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| {
                Error::Config(format!("cannot build the HTTP client: {}", describe(&e)))
            })?;
        let base = server.as_str().trim_end_matches('/').to_owned();
        Ok(Api { http, base, origin })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Fails with [`Error::Unreachable`] unless the server answers `/version`.
    pub async fn check_reachable(&self) -> Result<()> {
        let url = format!("{}/version", self.base);
        let response = self
            .http
            .get(&url)
            .timeout(CONNECT_TIMEOUT * 2)
            .send()
            .await
            .map_err(|e| Error::Unreachable { url: self.base.clone(), reason: describe(&e) })?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(Error::Unreachable {
                url: self.base.clone(),
                reason: format!("GET /version answered HTTP {}", response.status()),
            })
        }
    }

    /// `GET /version`, body read and dropped.
    pub async fn version(&self) -> Result<()> {
        self.call::<Value>(Method::GET, "/version".to_owned(), None).await.map(drop)
    }

    /// The ETag of `/openapi/v2` (JSON), fetching the document once.
    pub async fn openapi_v2_etag(&self) -> Result<String> {
        let what = || "GET /openapi/v2".to_owned();
        let url = format!("{}/openapi/v2", self.base);
        let response = self.http.get(url).timeout(REQUEST_TIMEOUT).send().await;
        let response =
            response.map_err(|e| Error::Request { what: what(), reason: describe(&e) })?;
        let etag = response.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok());
        match (response.status().is_success(), etag) {
            (true, Some(etag)) => Ok(etag.to_owned()),
            _ => Err(Error::Request {
                what: what(),
                reason: format!("HTTP {} without an ETag", response.status()),
            }),
        }
    }

    /// `GET /openapi/v2` with `If-None-Match: etag`, which must answer 304 (what kubectl and
    /// client-go's cache send for every command).
    pub async fn openapi_v2_not_modified(&self, etag: &str) -> Result<()> {
        let what = || "GET /openapi/v2 (If-None-Match)".to_owned();
        let url = format!("{}/openapi/v2", self.base);
        let request = self.http.get(url).timeout(REQUEST_TIMEOUT);
        let request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        let response = request.send().await;
        let response =
            response.map_err(|e| Error::Request { what: what(), reason: describe(&e) })?;
        match response.status() {
            reqwest::StatusCode::NOT_MODIFIED => Ok(()),
            status => {
                Err(Error::Request { what: what(), reason: format!("HTTP {status}, not 304") })
            }
        }
    }

    /// The server's `/metrics` text, if it serves one.
    pub async fn metrics(&self) -> Option<String> {
        let response = self
            .http
            .get(format!("{}/metrics", self.base))
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.text().await.ok()
    }

    pub async fn create_namespace(&self, namespace: &str) -> Result<()> {
        let body =
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}});
        self.call::<Object>(Method::POST, "/api/v1/namespaces".to_owned(), Some(&body))
            .await
            .map(drop)
    }

    /// Deletes the namespace (the server then deletes what it holds); does not wait for it.
    pub async fn delete_namespace(&self, namespace: &str) -> Result<()> {
        self.call::<Value>(Method::DELETE, format!("/api/v1/namespaces/{namespace}"), None)
            .await
            .map(drop)
    }

    fn configmaps(namespace: &str) -> String {
        format!("/api/v1/namespaces/{namespace}/configmaps")
    }

    pub async fn create_configmap(&self, namespace: &str, body: &Value) -> Result<Meta> {
        let path = Self::configmaps(namespace);
        Ok(self.call::<Object>(Method::POST, path, Some(body)).await?.metadata)
    }

    pub async fn update_configmap(
        &self,
        namespace: &str,
        name: &str,
        body: &Value,
    ) -> Result<Meta> {
        let path = format!("{}/{name}", Self::configmaps(namespace));
        Ok(self.call::<Object>(Method::PUT, path, Some(body)).await?.metadata)
    }

    pub async fn delete_configmap(&self, namespace: &str, name: &str) -> Result<()> {
        let path = format!("{}/{name}", Self::configmaps(namespace));
        self.call::<Value>(Method::DELETE, path, None).await.map(drop)
    }

    pub async fn get_configmap(&self, namespace: &str, name: &str) -> Result<Meta> {
        let path = format!("{}/{name}", Self::configmaps(namespace));
        Ok(self.call::<Object>(Method::GET, path, None).await?.metadata)
    }

    /// One LIST page: everything when `limit` is `None`.
    pub async fn list_configmaps(
        &self,
        namespace: &str,
        limit: Option<usize>,
        continue_token: Option<&str>,
    ) -> Result<List> {
        let mut path = Self::configmaps(namespace);
        let mut query = Vec::new();
        if let Some(limit) = limit {
            query.push(format!("limit={limit}"));
        }
        if let Some(token) = continue_token {
            query.push(format!("continue={}", encode_query(token)));
        }
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
        self.call::<List>(Method::GET, path, None).await
    }

    /// Opens a watch of the namespace's ConfigMaps after `resource_version`, with bookmarks;
    /// returns once the server has answered with its headers (the stream is the body).
    pub async fn watch_configmaps(
        &self,
        namespace: &str,
        resource_version: &str,
    ) -> Result<reqwest::Response> {
        let url = format!(
            "{}{}?watch=1&allowWatchBookmarks=true&resourceVersion={}",
            self.base,
            Self::configmaps(namespace),
            encode_query(resource_version)
        );
        let what = || format!("WATCH {url}");
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| Error::Request { what: what(), reason: describe(&e) })?;
        if !response.status().is_success() {
            let reason =
                status_reason(response.status(), &response.text().await.unwrap_or_default());
            return Err(Error::Request { what: what(), reason });
        }
        Ok(response)
    }

    /// PATCHes ConfigMap `name` with a body of `content_type` (`application/merge-patch+json`,
    /// `application/apply-patch+yaml`); `query` is appended as is (`fieldManager=bench`).
    pub async fn patch_configmap(
        &self,
        namespace: &str,
        name: &str,
        content_type: &'static str,
        query: &str,
        body: &[u8],
    ) -> Result<Meta> {
        let mut path = format!("{}/{name}", Self::configmaps(namespace));
        if !query.is_empty() {
            path = format!("{path}?{query}");
        }
        let body = Body::Raw(content_type, body.to_vec());
        Ok(self.send::<Object>(Method::PATCH, path, Some(body)).await?.metadata)
    }

    /// Sends one request with a JSON body and decodes a successful JSON answer.
    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: String,
        body: Option<&Value>,
    ) -> Result<T> {
        self.send(method, path, body.map(Body::Json)).await
    }

    /// Sends one request and decodes a successful JSON answer.
    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: String,
        body: Option<Body<'_>>,
    ) -> Result<T> {
        let what = || format!("{method} {path}");
        let mut request = self.http.request(method.clone(), format!("{}{path}", self.base));
        request = request.timeout(REQUEST_TIMEOUT).header("Accept", "application/json");
        match body {
            Some(Body::Json(body)) => request = request.json(body),
            Some(Body::Raw(content_type, bytes)) => {
                request = request.header("Content-Type", content_type).body(bytes)
            }
            None => {}
        }
        let response = request
            .send()
            .await
            .map_err(|e| Error::Request { what: what(), reason: describe(&e) })?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| Error::Request { what: what(), reason: describe(&e) })?;
        if !status.is_success() {
            let reason = status_reason(status, &String::from_utf8_lossy(&bytes));
            return Err(Error::Request { what: what(), reason });
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::Decode { what: what(), reason: e.to_string() })
    }
}

/// A request body.
enum Body<'a> {
    Json(&'a Value),
    /// Bytes of this content type.
    Raw(&'static str, Vec<u8>),
}

/// A ConfigMap body: `data.value` holds `value`; `resource_version` makes an update conditional.
pub fn configmap(
    namespace: &str,
    name: &str,
    value: &str,
    resource_version: Option<&str>,
    annotations: &[(&str, String)],
) -> Value {
    let mut metadata = json!({"name": name, "namespace": namespace});
    if let Some(rv) = resource_version {
        metadata["resourceVersion"] = json!(rv);
    }
    if !annotations.is_empty() {
        let map: serde_json::Map<String, Value> =
            annotations.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
        metadata["annotations"] = Value::Object(map);
    }
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {"value": value}})
}

/// A value of `bytes` characters; `salt` varies it so that an update changes the object.
pub fn value(bytes: usize, salt: usize) -> String {
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..bytes).map(|i| alphabet[(i + salt) % alphabet.len()] as char).collect()
}

/// The error and its causes on one line (reqwest's own message names only the URL).
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn status_reason(status: StatusCode, body: &str) -> String {
    let message = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(200).collect());
    format!("HTTP {status}: {message}")
}

/// Percent-encodes a query value (continue tokens are base64 and may hold `+`, `/`, `=`).
fn encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configmap_bodies() {
        let body = configmap("ns", "a", "xyz", Some("7"), &[("k", "v".to_owned())]);
        assert_eq!(body["metadata"]["resourceVersion"], "7");
        assert_eq!(body["metadata"]["annotations"]["k"], "v");
        assert_eq!(body["data"]["value"], "xyz");
        let plain = configmap("ns", "a", "xyz", None, &[]);
        assert!(plain["metadata"].get("resourceVersion").is_none());
        assert_eq!(value(5, 0), "abcde");
        assert_ne!(value(5, 0), value(5, 1));
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode_query("a+b/c=="), "a%2Bb%2Fc%3D%3D");
        assert_eq!(encode_query("123"), "123");
    }

    #[tokio::test]
    async fn an_unreachable_server_is_a_clear_error() {
        // A port nothing listens on: bind one, then release it.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let url = Url::parse(&format!("http://127.0.0.1:{port}")).unwrap();
        let error =
            Api::new(&url, None, &Tls::default()).unwrap().check_reachable().await.unwrap_err();
        assert!(matches!(error, Error::Unreachable { .. }), "{error}");
        assert!(error.to_string().contains("cannot reach the API server"), "{error}");
    }
}
