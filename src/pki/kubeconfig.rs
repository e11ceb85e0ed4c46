//! The kubeconfig written at start-up for the HTTPS server: the CA to trust
//! (`certificate-authority-data`) and the admin client certificate
//! (`client-certificate-data`, `client-key-data`), so `export KUBECONFIG=…` is all a user needs.
//! It holds a private key, so it is written 0600. Replaces `server::write_kubeconfig` (plain
//! HTTP, no credentials).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::json;

use super::{ClientIdentity, PkiError, files};

/// The cluster, context and user name in the written kubeconfig.
pub const NAME: &str = "kube-ledger";

/// The `https://` URL clients use for a listening address: loopback when bound to all
/// interfaces.
pub fn server_url(address: SocketAddr) -> String {
    let ip = match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::from([127, 0, 0, 1]),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("https://{}", SocketAddr::new(ip, address.port()))
}

/// The kubeconfig text: one cluster at `server` trusting `ca_pem` (none: the system's roots),
/// one user authenticating with `client`, one context (namespace `default`) selected.
pub fn render(server: &str, ca_pem: Option<&str>, client: &ClientIdentity) -> String {
    let b64 = |text: &str| base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    let mut cluster = json!({ "server": server });
    if let Some(ca) = ca_pem {
        cluster["certificate-authority-data"] = json!(b64(ca));
    }
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{ "name": NAME, "cluster": cluster }],
        "users": [{ "name": NAME, "user": {
            "client-certificate-data": b64(&client.cert_pem),
            "client-key-data": b64(&client.key_pem),
        }}],
        "contexts": [{ "name": NAME, "context": {
            "cluster": NAME, "user": NAME, "namespace": "default",
        }}],
        "current-context": NAME,
        "preferences": {},
    });
    // A JSON value of strings, lists and maps always renders as YAML.
    serde_norway::to_string(&config).unwrap_or_default()
}

/// Writes [`render`]'s kubeconfig to `<data_dir>/kubeconfig` (0600); returns its absolute path.
pub fn write_kubeconfig(
    data_dir: &Path,
    server: &str,
    ca_pem: Option<&str>,
    client: &ClientIdentity,
) -> Result<PathBuf, PkiError> {
    std::fs::create_dir_all(data_dir).map_err(|e| PkiError::io(data_dir, e))?;
    let path = data_dir.join("kubeconfig");
    let path = std::path::absolute(&path).map_err(|e| PkiError::io(&path, e))?;
    files::write_private(&path, render(server, ca_pem, client).as_bytes())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_use_https_and_loopback_for_wildcards() {
        assert_eq!(server_url("0.0.0.0:6443".parse().unwrap()), "https://127.0.0.1:6443");
        assert_eq!(server_url("[::]:6443".parse().unwrap()), "https://[::1]:6443");
        assert_eq!(server_url("10.0.0.5:443".parse().unwrap()), "https://10.0.0.5:443");
    }
}
