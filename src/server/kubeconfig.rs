//! What clients need to reach the server: the URL for its listening address and a kubeconfig
//! pointing at it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Writes a kubeconfig for `server` (an `http://` URL) to `<data_dir>/kubeconfig`; returns its
/// absolute path.
pub fn write_kubeconfig(data_dir: &Path, server: &str) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(data_dir)?;
    let path = std::path::absolute(data_dir.join("kubeconfig"))?;
    let config = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: kube-ledger\n  cluster:\n    server: {server}\n\
         contexts:\n- name: kube-ledger\n  context:\n    cluster: kube-ledger\n    user: kube-ledger\n    namespace: default\n\
         current-context: kube-ledger\nusers:\n- name: kube-ledger\n  user: {{}}\n"
    );
    std::fs::write(&path, config)?;
    Ok(path)
}

/// The URL clients use for a listening address: loopback when bound to all interfaces.
pub fn client_url(address: SocketAddr) -> String {
    let ip = if address.ip().is_unspecified() {
        std::net::IpAddr::from([127, 0, 0, 1])
    } else {
        address.ip()
    };
    format!("http://{}", SocketAddr::new(ip, address.port()))
}
