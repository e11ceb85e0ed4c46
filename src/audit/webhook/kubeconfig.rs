//! `--audit-webhook-config-file`: a kubeconfig naming where the audit webhook is and how to
//! reach it — the current context's cluster (`server`, `certificate-authority` or
//! `certificate-authority-data`) and user (`client-certificate`/`client-key` or their `-data`
//! forms, `token` or `tokenFile`, `username`/`password`). Relative file paths are relative to
//! the kubeconfig's directory, as client-go resolves them.
//!
//! An `https` server needs a certificate authority: this server trusts no system roots, only
//! what the kubeconfig names. `insecure-skip-tls-verify`, `tls-server-name`, `exec` and
//! `auth-provider` are refused with a message rather than ignored.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Deserialize;

/// What the webhook client is built from, every file already read.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    /// The URL events are POSTed to.
    pub server: String,
    /// PEM certificates trusted for the server.
    pub certificate_authority: Vec<u8>,
    /// PEM certificate chain and key presented to the server.
    pub client_certificate: Option<(Vec<u8>, Vec<u8>)>,
    /// The `Authorization` header's value, if any (`Bearer …` or `Basic …`).
    pub authorization: Option<String>,
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTarget")
            .field("server", &self.server)
            .field("client_certificate", &self.client_certificate.is_some())
            .field("authorization", &self.authorization.is_some())
            .finish()
    }
}

/// Why a kubeconfig could not be used.
#[derive(Debug, thiserror::Error)]
#[error("audit webhook kubeconfig {path}: {reason}")]
pub struct KubeconfigError {
    pub path: PathBuf,
    pub reason: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
struct Kubeconfig {
    clusters: Vec<Named<Cluster>>,
    users: Vec<Named<User>>,
    contexts: Vec<Named<Context>>,
    current_context: String,
}

#[derive(Debug, Deserialize)]
struct Named<T> {
    #[serde(default)]
    name: String,
    #[serde(alias = "cluster", alias = "user", alias = "context")]
    value: T,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
struct Cluster {
    server: String,
    certificate_authority: String,
    certificate_authority_data: String,
    insecure_skip_tls_verify: bool,
    tls_server_name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "kebab-case")]
struct User {
    client_certificate: String,
    client_certificate_data: String,
    client_key: String,
    client_key_data: String,
    token: String,
    #[serde(rename = "tokenFile")]
    token_file: String,
    username: String,
    password: String,
    exec: Option<serde_json::Value>,
    auth_provider: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Context {
    cluster: String,
    user: String,
}

/// Reads `path` and every file it names.
pub fn load(path: &Path) -> Result<WebhookTarget, KubeconfigError> {
    let fail = |reason: String| KubeconfigError { path: path.to_owned(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
    let config: Kubeconfig = serde_norway::from_str::<Option<Kubeconfig>>(&text)
        .map_err(|e| fail(format!("not a kubeconfig: {e}")))?
        .unwrap_or_default();
    let base = path.parent().unwrap_or(Path::new("."));
    resolve(&config, base).map_err(fail)
}

fn resolve(config: &Kubeconfig, base: &Path) -> Result<WebhookTarget, String> {
    if config.current_context.is_empty() {
        return Err("current-context is not set".into());
    }
    let context = find(&config.contexts, &config.current_context, "context")?;
    let cluster = find(&config.clusters, &context.cluster, "cluster")?;
    if cluster.server.is_empty() {
        return Err(format!("cluster {:?} has no server", context.cluster));
    }
    let https = cluster.server.starts_with("https://");
    if !https && !cluster.server.starts_with("http://") {
        return Err(format!("server {:?} is not an http(s) URL", cluster.server));
    }
    if cluster.insecure_skip_tls_verify {
        return Err("insecure-skip-tls-verify is not supported: name the server's \
                    certificate-authority"
            .into());
    }
    if !cluster.tls_server_name.is_empty() {
        return Err("tls-server-name is not supported".into());
    }
    let certificate_authority = data_or_file(
        &cluster.certificate_authority_data,
        &cluster.certificate_authority,
        base,
        "certificate-authority",
    )?
    .unwrap_or_default();
    if https && certificate_authority.is_empty() {
        return Err(format!(
            "cluster {:?} names no certificate-authority(-data): kube-ledger trusts only the \
             certificate authority the kubeconfig names",
            context.cluster
        ));
    }

    let mut target = WebhookTarget {
        server: cluster.server.clone(),
        certificate_authority,
        client_certificate: None,
        authorization: None,
    };
    if context.user.is_empty() {
        return Ok(target);
    }
    let user = find(&config.users, &context.user, "user")?;
    if user.exec.is_some() || user.auth_provider.is_some() {
        return Err("exec and auth-provider credentials are not supported".into());
    }
    let certificate = data_or_file(
        &user.client_certificate_data,
        &user.client_certificate,
        base,
        "client-certificate",
    )?;
    let key = data_or_file(&user.client_key_data, &user.client_key, base, "client-key")?;
    target.client_certificate = match (certificate, key) {
        (Some(certificate), Some(key)) => Some((certificate, key)),
        (None, None) => None,
        _ => return Err("client-certificate and client-key must be given together".into()),
    };
    let token = if !user.token.is_empty() {
        user.token.clone()
    } else if !user.token_file.is_empty() {
        let path = base.join(&user.token_file);
        std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read tokenFile {}: {e}", path.display()))?
            .trim()
            .to_owned()
    } else {
        String::new()
    };
    if !token.is_empty() {
        target.authorization = Some(format!("Bearer {token}"));
    } else if !user.username.is_empty() || !user.password.is_empty() {
        let pair = format!("{}:{}", user.username, user.password);
        let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
        target.authorization = Some(format!("Basic {encoded}"));
    }
    Ok(target)
}

fn find<'a, T>(list: &'a [Named<T>], name: &str, what: &str) -> Result<&'a T, String> {
    list.iter()
        .find(|item| item.name == name)
        .map(|item| &item.value)
        .ok_or_else(|| format!("no {what} named {name:?}"))
}

/// The `-data` field (base64) if set, else the file's contents, else `None`.
fn data_or_file(
    data: &str,
    file: &str,
    base: &Path,
    field: &str,
) -> Result<Option<Vec<u8>>, String> {
    if !data.is_empty() {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|e| format!("{field}-data is not base64: {e}"))?;
        return Ok(Some(bytes));
    }
    if file.is_empty() {
        return Ok(None);
    }
    let path = base.join(file);
    std::fs::read(&path)
        .map(Some)
        .map_err(|e| format!("cannot read {field} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(dir: &Path, text: &str) -> Result<WebhookTarget, String> {
        let path = dir.join("webhook.kubeconfig");
        std::fs::write(&path, text).unwrap();
        load(&path).map_err(|e| e.to_string())
    }

    #[test]
    fn files_are_relative_to_the_kubeconfig_and_data_fields_are_base64() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), "CA").unwrap();
        std::fs::write(dir.path().join("token"), "s3cret\n").unwrap();
        let target = load_text(
            dir.path(),
            "apiVersion: v1\nkind: Config\ncurrent-context: audit\n\
             clusters:\n- name: sink\n  cluster:\n    server: https://127.0.0.1:9443/events\n    certificate-authority: ca.pem\n\
             users:\n- name: apiserver\n  user:\n    client-certificate-data: Q0VSVA==\n    client-key-data: S0VZ\n    tokenFile: token\n\
             contexts:\n- name: audit\n  context:\n    cluster: sink\n    user: apiserver\n",
        )
        .unwrap();
        assert_eq!(target.server, "https://127.0.0.1:9443/events");
        assert_eq!(target.certificate_authority, b"CA");
        assert_eq!(target.client_certificate, Some((b"CERT".to_vec(), b"KEY".to_vec())));
        assert_eq!(target.authorization.as_deref(), Some("Bearer s3cret"));
    }

    #[test]
    fn basic_auth_and_plain_http_without_a_user() {
        let dir = tempfile::tempdir().unwrap();
        let with_user = load_text(
            dir.path(),
            "current-context: c\nclusters: [{name: s, cluster: {server: 'http://127.0.0.1:1'}}]\n\
             users: [{name: u, user: {username: a, password: b}}]\n\
             contexts: [{name: c, context: {cluster: s, user: u}}]\n",
        )
        .unwrap();
        assert_eq!(with_user.authorization.as_deref(), Some("Basic YTpi"));
        let without = load_text(
            dir.path(),
            "current-context: c\nclusters: [{name: s, cluster: {server: 'http://127.0.0.1:1'}}]\n\
             contexts: [{name: c, context: {cluster: s}}]\n",
        )
        .unwrap();
        assert!(without.authorization.is_none() && without.client_certificate.is_none());
    }

    #[test]
    fn what_cannot_work_is_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let head = "current-context: c\ncontexts: [{name: c, context: {cluster: s, user: u}}]\n";
        for (text, want) in [
            ("clusters: []\n".to_owned(), "current-context is not set"),
            (format!("{head}clusters: []\n"), "no cluster named \"s\""),
            (
                format!(
                    "{head}clusters: [{{name: s, cluster: {{server: 'https://x'}}}}]\nusers: [{{name: u, user: {{}}}}]\n"
                ),
                "names no certificate-authority",
            ),
            (
                format!(
                    "{head}clusters: [{{name: s, cluster: {{server: 'https://x', insecure-skip-tls-verify: true}}}}]\n"
                ),
                "insecure-skip-tls-verify is not supported",
            ),
            (
                format!("{head}clusters: [{{name: s, cluster: {{server: 'ftp://x'}}}}]\n"),
                "is not an http(s) URL",
            ),
            (
                format!("{head}clusters: [{{name: s, cluster: {{server: 'http://x'}}}}]\n"),
                "no user named \"u\"",
            ),
            (
                format!(
                    "{head}clusters: [{{name: s, cluster: {{server: 'http://x'}}}}]\nusers: [{{name: u, user: {{client-key-data: S0VZ}}}}]\n"
                ),
                "must be given together",
            ),
            (
                format!(
                    "{head}clusters: [{{name: s, cluster: {{server: 'https://x', certificate-authority: missing.pem}}}}]\n"
                ),
                "cannot read certificate-authority",
            ),
            ("clusters: {\n".to_owned(), "not a kubeconfig"),
        ] {
            let got = load_text(dir.path(), &text).unwrap_err();
            assert!(
                got.contains(want) && got.contains("webhook.kubeconfig"),
                "{text}\n got: {got}\nwant: {want}"
            );
        }
    }
}
