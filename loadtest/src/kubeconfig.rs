//! Reads a kubeconfig (YAML) and picks the current context's cluster server URL, its CA, and the
//! user's bearer token or client certificate: file text in, an [`Endpoint`] out. Exec plugins
//! and auth providers are not supported.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::tls::Tls;

/// Where to send requests and how to authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The cluster's `server`, e.g. `http://127.0.0.1:6443`.
    pub server: String,
    /// A bearer token (`token`, or the contents of `tokenFile`), if the user has one.
    pub token: Option<String>,
    /// The cluster's CA and the user's client certificate (`*-data`, or the files named).
    pub tls: Tls,
}

#[derive(Debug, Deserialize)]
struct KubeConfig {
    #[serde(default)]
    clusters: Vec<Named<Cluster>>,
    #[serde(default)]
    contexts: Vec<Named<Context>>,
    #[serde(default)]
    users: Vec<Named<User>>,
    #[serde(rename = "current-context", default)]
    current_context: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Named<T> {
    name: String,
    #[serde(alias = "cluster", alias = "context", alias = "user")]
    item: Option<T>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Cluster {
    server: Option<String>,
    certificate_authority_data: Option<String>,
    certificate_authority: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
struct Context {
    cluster: Option<String>,
    user: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct User {
    token: Option<String>,
    token_file: Option<PathBuf>,
    #[serde(rename = "client-certificate-data")]
    client_certificate_data: Option<String>,
    #[serde(rename = "client-certificate")]
    client_certificate: Option<PathBuf>,
    #[serde(rename = "client-key-data")]
    client_key_data: Option<String>,
    #[serde(rename = "client-key")]
    client_key: Option<PathBuf>,
}

/// A `*-data` field (base64 of PEM) or, else, the file a path field names (relative to `base`).
fn pem_of(
    data: Option<&String>,
    file: Option<&PathBuf>,
    base: &Path,
    what: &str,
) -> Result<Option<String>, String> {
    if let Some(data) = data {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|e| format!("{what}-data: {e}"))?;
        return String::from_utf8(bytes).map(Some).map_err(|e| format!("{what}-data: {e}"));
    }
    let Some(file) = file else { return Ok(None) };
    let file = base.join(file);
    std::fs::read_to_string(&file).map(Some).map_err(|e| format!("{what} {}: {e}", file.display()))
}

/// Reads `path` and resolves `context` (or the current context).
pub fn load(path: &Path, context: Option<&str>) -> Result<Endpoint> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| Error::KubeconfigRead { path: path.to_owned(), source })?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse(&text, context, base)
        .map_err(|reason| Error::Kubeconfig { path: path.to_owned(), reason })
}

/// Resolves `context` (or `current-context`) in a kubeconfig's text; a relative `tokenFile` is
/// read relative to `base` (the kubeconfig's directory).
pub fn parse(text: &str, context: Option<&str>, base: &Path) -> Result<Endpoint, String> {
    let config: KubeConfig =
        serde_norway::from_str(text).map_err(|e| format!("not a kubeconfig: {e}"))?;
    let context_name = match context.map(str::to_owned).or(config.current_context) {
        Some(name) if !name.is_empty() => name,
        _ => return Err("no current-context (pass --context)".to_owned()),
    };
    let context = config
        .contexts
        .iter()
        .find(|c| c.name == context_name)
        .and_then(|c| c.item.as_ref())
        .ok_or_else(|| format!("context {context_name:?} not found"))?;
    let cluster_name = context
        .cluster
        .as_deref()
        .ok_or_else(|| format!("context {context_name:?} names no cluster"))?;
    let cluster = config
        .clusters
        .iter()
        .find(|c| c.name == cluster_name)
        .and_then(|c| c.item.as_ref())
        .filter(|c| c.server.is_some())
        .ok_or_else(|| format!("cluster {cluster_name:?} not found or has no server"))?;
    let server = cluster.server.clone().unwrap_or_default();
    let ca_pem = pem_of(
        cluster.certificate_authority_data.as_ref(),
        cluster.certificate_authority.as_ref(),
        base,
        "certificate-authority",
    )?;
    let user = context
        .user
        .as_deref()
        .and_then(|name| config.users.iter().find(|u| u.name == name))
        .and_then(|u| u.item.as_ref());
    let token = match user {
        Some(User { token: Some(token), .. }) => Some(token.clone()),
        Some(User { token_file: Some(file), .. }) => {
            let file = base.join(file);
            let token = std::fs::read_to_string(&file)
                .map_err(|e| format!("tokenFile {}: {e}", file.display()))?;
            Some(token.trim().to_owned())
        }
        _ => None,
    };
    let (client_cert_pem, client_key_pem) = match user {
        Some(user) => (
            pem_of(
                user.client_certificate_data.as_ref(),
                user.client_certificate.as_ref(),
                base,
                "client-certificate",
            )?,
            pem_of(user.client_key_data.as_ref(), user.client_key.as_ref(), base, "client-key")?,
        ),
        None => (None, None),
    };
    Ok(Endpoint { server, token, tls: Tls { ca_pem, client_cert_pem, client_key_pem } })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEDGER: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: kube-ledger\n  cluster:\n    server: http://127.0.0.1:6443\ncontexts:\n- name: kube-ledger\n  context:\n    cluster: kube-ledger\n    user: kube-ledger\n    namespace: default\ncurrent-context: kube-ledger\nusers:\n- name: kube-ledger\n  user: {}\n";

    #[test]
    fn reads_the_servers_own_kubeconfig() {
        let endpoint = parse(LEDGER, None, Path::new(".")).unwrap();
        assert_eq!(
            endpoint,
            Endpoint {
                server: "http://127.0.0.1:6443".to_owned(),
                token: None,
                tls: Tls::default()
            }
        );
    }

    #[test]
    fn reads_the_ca_and_client_certificate_data() {
        let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
        let text = format!(
            "clusters:\n- name: a\n  cluster: {{server: 'https://127.0.0.1:1', certificate-authority-data: {}}}\ncontexts:\n- name: c\n  context: {{cluster: a, user: u}}\nusers:\n- name: u\n  user: {{client-certificate-data: {}, client-key: key.pem}}\ncurrent-context: c\n",
            b64("CA"),
            b64("CERT")
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("key.pem"), "KEY").unwrap();
        let endpoint = parse(&text, None, dir.path()).unwrap();
        assert_eq!(
            endpoint.tls,
            Tls {
                ca_pem: Some("CA".to_owned()),
                client_cert_pem: Some("CERT".to_owned()),
                client_key_pem: Some("KEY".to_owned()),
            }
        );
    }

    #[test]
    fn picks_the_named_context_and_its_token() {
        let text = "clusters:\n- name: a\n  cluster: {server: 'http://127.0.0.1:1'}\n- name: b\n  cluster: {server: 'http://127.0.0.2:2'}\ncontexts:\n- name: ca\n  context: {cluster: a, user: u}\n- name: cb\n  context: {cluster: b, user: v}\nusers:\n- name: u\n  user: {token: secret-u}\n- name: v\n  user: {token: secret-v}\ncurrent-context: ca\n";
        let current = parse(text, None, Path::new(".")).unwrap();
        assert_eq!(current.server, "http://127.0.0.1:1");
        assert_eq!(current.token.as_deref(), Some("secret-u"));
        let other = parse(text, Some("cb"), Path::new(".")).unwrap();
        assert_eq!(other.server, "http://127.0.0.2:2");
        assert_eq!(other.token.as_deref(), Some("secret-v"));
    }

    #[test]
    fn reads_a_token_file_relative_to_the_kubeconfig() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tok"), "from-file\n").unwrap();
        let text = "clusters:\n- name: a\n  cluster: {server: 'http://127.0.0.1:1'}\ncontexts:\n- name: c\n  context: {cluster: a, user: u}\nusers:\n- name: u\n  user: {tokenFile: tok}\ncurrent-context: c\n";
        let endpoint = parse(text, None, dir.path()).unwrap();
        assert_eq!(endpoint.token.as_deref(), Some("from-file"));
    }

    #[test]
    fn explains_what_is_missing() {
        assert!(parse("{}", None, Path::new(".")).unwrap_err().contains("current-context"));
        let text = "current-context: x\ncontexts: []\n";
        assert!(parse(text, None, Path::new(".")).unwrap_err().contains("\"x\" not found"));
        assert!(parse(": : :", None, Path::new(".")).unwrap_err().contains("not a kubeconfig"));
        let missing = load(Path::new("/nonexistent/kubeconfig"), None).unwrap_err();
        assert!(matches!(missing, Error::KubeconfigRead { .. }), "{missing}");
    }
}
